import Foundation
import HTTP
import Synchronization
import Testing

@testable import Site

/// Hot reload: a changed package or template is loaded whole and swapped in; a broken one is refused and the
/// previous generation keeps serving.
@Suite struct ReloadTests {
    /// A site in a temporary directory with its own copy of the templates, so tests can break them.
    final class Site {
        let root: String
        let configuration: SiteConfiguration
        let service: SiteService

        init(root: String, content: PackageContent?) throws {
            self.root = root
            try FileManager.default.copyItem(atPath: PagesFixture.templatesPath, toPath: root + "/templates")
            if let content { try PagesFixture.writePackage(content, to: root + "/data") }
            configuration = PagesFixture.configuration(root: root, templatesPath: root + "/templates")
            service = PagesFixture.service(configuration)
        }

        /// Replaces the data directory wholesale, as a deployment does: the new package is written beside it,
        /// then renamed over it.
        func replaceData(with content: PackageContent, breaking: ((String) throws -> Void)? = nil) throws {
            let next = root + "/data.next"
            try PagesFixture.writePackage(content, to: next)
            try breaking?(next)
            try? FileManager.default.removeItem(atPath: root + "/data.old")
            if FileManager.default.fileExists(atPath: root + "/data") {
                try FileManager.default.moveItem(atPath: root + "/data", toPath: root + "/data.old")
            }
            try FileManager.default.moveItem(atPath: next, toPath: root + "/data")
        }

        func writeTemplate(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/templates/" + name + ".mustache"))
        }

        func title(_ path: String = "/fr/") -> String {
            let body = StaticFixture.text(PagesFixture.get(service, path))
            guard let start = body.range(of: "<title>"), let end = body.range(of: "</title>") else { return "" }
            return String(body[start.upperBound..<end.lowerBound])
        }

        func status(_ path: String) -> Int { PagesFixture.get(service, path).status.code }
    }

    func withSite(
        _ content: PackageContent? = PagesFixture.content(siteTitle: "Première"), _ body: (Site) throws -> Void
    ) throws {
        try PagesFixture.withDirectory { root in try body(try Site(root: root, content: content)) }
    }

    @Test func nothingChangedMeansNoLoad() throws {
        try withSite { site in
            #expect(site.service.reloadIfChanged() == .unchanged)
            #expect(site.service.reloadIfChanged() == .unchanged)
            #expect(site.service.generationNumber == 1)
        }
    }

    @Test func replacedPackageIsSwappedIn() throws {
        try withSite { site in
            #expect(site.title() == "Première")
            try site.replaceData(with: PagesFixture.content(siteTitle: "Deuxième", articleCount: 13))
            #expect(site.service.reloadIfChanged() == .reloaded(generation: 2))
            #expect(site.title() == "Deuxième")
            #expect(site.status("/fr/article/article-13-fr") == 200)
            #expect(site.service.reloadIfChanged() == .unchanged)
        }
    }

    static let brokenPackages: [(name: String, reason: String, damage: @Sendable (String) throws -> Void)] = [
        ("database removed", "no such database file", { try FileManager.default.removeItem(atPath: $0 + "/site.db") }),
        (
            "database truncated", "site.db",
            { path in
                let data = try Data(contentsOf: URL(fileURLWithPath: path + "/site.db"))
                try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: path + "/site.db"))
            }
        ),
        ("database not SQLite", "site.db", { try Data("hello".utf8).write(to: URL(fileURLWithPath: $0 + "/site.db")) }),
        (
            "body file missing", "article-5-fr",
            { try FileManager.default.removeItem(atPath: $0 + "/articles/fr/article-5-fr.html") }
        ),
        (
            "schema version changed", "schema version",
            { path in
                let db = try SQLiteConnection(path: path + "/site.db", mode: .readWriteCreate)
                try db.execute("PRAGMA user_version = 99")
            }
        ),
    ]

    @Test(arguments: brokenPackages.indices)
    func brokenPackageIsRefusedAndTheOldOneKeepsServing(_ index: Int) throws {
        let broken = Self.brokenPackages[index]
        try withSite { site in
            try site.replaceData(with: PagesFixture.content(siteTitle: "Cassée"), breaking: broken.damage)
            let outcome = site.service.reloadIfChanged()
            guard case .refused(let reason) = outcome else {
                Issue.record("\(broken.name): \(outcome)")
                return
            }
            #expect(reason.contains(broken.reason), "\(broken.name): \(reason)")
            #expect(site.title() == "Première")
            #expect(site.status("/fr/article/article-5-fr") == 200)
            #expect(site.service.generationNumber == 1)
            // Refused once: the periodic check does not load (and log) the same broken package again.
            #expect(site.service.reloadIfChanged() == .unchanged)
            // A good package afterwards is taken.
            try site.replaceData(with: PagesFixture.content(siteTitle: "Réparée"))
            #expect(site.service.reloadIfChanged() == .reloaded(generation: 2))
            #expect(site.title() == "Réparée")
        }
    }

    @Test func templateErrorIsRefusedUntilFixed() throws {
        try withSite { site in
            let original = try String(contentsOfFile: site.root + "/templates/home.mustache", encoding: .utf8)
            try site.writeTemplate("home", "{{#articles}}never closed")
            guard case .refused(let reason) = site.service.reloadIfChanged() else {
                Issue.record("a broken template must be refused")
                return
            }
            #expect(reason.contains("home.mustache"))
            #expect(reason.contains("never closed"))
            #expect(site.status("/fr/") == 200)
            #expect(site.service.reloadIfChanged() == .unchanged)
            try site.writeTemplate("home", original + "<p>changed</p>\n")
            #expect(site.service.reloadIfChanged() == .reloaded(generation: 2))
            #expect(StaticFixture.text(PagesFixture.get(site.service, "/fr/")).contains("<p>changed</p>"))
        }
    }

    @Test func missingPartialIsRefused() throws {
        try withSite { site in
            try site.writeTemplate("partials/author", "{{> partials/nowhere}}")
            guard case .refused(let reason) = site.service.reloadIfChanged() else {
                Issue.record("a missing partial must be refused")
                return
            }
            #expect(reason.contains("partials/nowhere.mustache"))
            #expect(site.status("/fr/article/article-1-fr") == 200)
        }
    }

    @Test func newBrokenPartialFixedInPlaceIsPickedUp() throws {
        try withSite { site in
            let original = try String(contentsOfFile: site.root + "/templates/home.mustache", encoding: .utf8)
            try site.writeTemplate("partials/extra", "{{#oops}}")
            try site.writeTemplate("home", original + "{{> partials/extra}}\n")
            guard case .refused(let reason) = site.service.reloadIfChanged() else {
                Issue.record("a broken partial must be refused")
                return
            }
            #expect(reason.contains("partials/extra.mustache"))
            #expect(site.service.reloadIfChanged() == .unchanged)
            // Rewritten in place: the directory does not change, the file does.
            try site.writeTemplate("partials/extra", "<p>extra</p>")
            #expect(site.service.reloadIfChanged() == .reloaded(generation: 2))
            #expect(StaticFixture.text(PagesFixture.get(site.service, "/en/")).contains("<p>extra</p>"))
        }
    }

    @Test func siteStartingWithABrokenPartialServesOnceItIsFixed() throws {
        try PagesFixture.withDirectory { root in
            try PagesFixture.writePackage(PagesFixture.content(), to: root + "/data")
            try FileManager.default.copyItem(atPath: PagesFixture.templatesPath, toPath: root + "/templates")
            let author = root + "/templates/partials/author.mustache"
            let original = try Data(contentsOf: URL(fileURLWithPath: author))
            try Data("{{/author}}".utf8).write(to: URL(fileURLWithPath: author))
            let service = PagesFixture.service(
                PagesFixture.configuration(root: root, templatesPath: root + "/templates"))
            #expect(PagesFixture.get(service, "/fr/").status.code == 503)
            #expect(service.reloadIfChanged() == .unchanged)
            try original.write(to: URL(fileURLWithPath: author))
            #expect(service.reloadIfChanged() == .reloaded(generation: 2))
            #expect(PagesFixture.get(service, "/fr/").status.code == 200)
        }
    }

    @Test func forcedReloadRendersAgainAndKeepsDatesOfUnchangedPages() throws {
        try withSite { site in
            let before = PagesFixture.get(site.service, "/en/tags")
            #expect(site.service.reload(force: true) == .reloaded(generation: 2))
            let after = PagesFixture.get(site.service, "/en/tags")
            #expect(StaticFixture.header(after, "ETag") == StaticFixture.header(before, "ETag"))
            #expect(StaticFixture.header(after, "Last-Modified") == StaticFixture.header(before, "Last-Modified"))
        }
    }

    @Test func siteStartsWithoutDataAndServesItOnceItArrives() throws {
        try withSite(nil) { site in
            let french = PagesFixture.get(site.service, "/fr/")
            #expect(french.status.code == 503)
            #expect(StaticFixture.text(french).contains("Contenu pas encore disponible"))
            let english = PagesFixture.get(site.service, "/en/article/anything")
            #expect(english.status.code == 503)
            #expect(StaticFixture.text(english).contains("Content not available yet"))
            #expect(site.status("/en/search?q=x") == 503)
            #expect(site.status("/healthz") == 200)
            #expect(site.status("/static/css/site.css") == 200)
            #expect(PagesFixture.get(site.service, "/").status.code == 302)
            #expect(site.service.reloadIfChanged() == .unchanged)

            try site.replaceData(with: PagesFixture.content(siteTitle: "Arrivée"))
            #expect(site.service.reloadIfChanged() == .reloaded(generation: 2))
            #expect(site.title() == "Arrivée")
        }
    }

    @Test func siteStartsWithoutTemplatesAndStillAnswersInItsLanguage() throws {
        try PagesFixture.withDirectory { root in
            try PagesFixture.writePackage(PagesFixture.content(), to: root + "/data")
            let service = PagesFixture.service(PagesFixture.configuration(root: root, templatesPath: root + "/nowhere"))
            let response = PagesFixture.get(service, "/en/")
            #expect(response.status.code == 503)
            #expect(StaticFixture.text(response).contains("<html lang=\"en\">"))
            #expect(StaticFixture.text(response).contains("Content not available yet"))
        }
    }

    /// Requests from several threads while the package is replaced, alternating good and broken ones: every
    /// response is a 200 wholly from one generation (its title and its article count agree), and no broken
    /// package is ever served.
    @Test func requestsDuringReloadsSeeOneWholeGenerationEach() throws {
        try withSite(PagesFixture.content(siteTitle: "G0", articleCount: 10)) { site in
            final class Shared: Sendable {
                let done = Atomic(false)
                let failures = Mutex<[String]>([])
            }
            let shared = Shared()
            let service = site.service
            let threads = (0..<3).map { _ in
                Thread {
                    while !shared.done.load(ordering: .relaxed) {
                        let response = PagesFixture.get(service, "/fr/", [("Accept-Encoding", "gzip")])
                        guard response.status.code == 200,
                            let text = Gzip.decompress(StaticFixture.body(response)).map({
                                String(decoding: $0, as: UTF8.self)
                            })
                        else {
                            shared.failures.withLock { $0.append("status \(response.status.code)") }
                            continue
                        }
                        // Generation k has title "Gk" and 10 + k articles: the newest is "Article (10 + k)".
                        guard let start = text.range(of: "<title>G"), let end = text.range(of: "</title>"),
                            let k = Int(text[start.upperBound..<end.lowerBound]),
                            text.contains(">Article \(10 + k)</a>"), !text.contains(">Article \(11 + k)</a>")
                        else {
                            shared.failures.withLock { $0.append("mixed or broken page") }
                            continue
                        }
                    }
                }
            }
            for thread in threads { thread.start() }
            var expected = 1
            for round in 1...6 {
                let content = PagesFixture.content(siteTitle: "G\(round)", articleCount: 10 + round)
                if round % 2 == 0 {
                    try site.replaceData(with: content) { try FileManager.default.removeItem(atPath: $0 + "/site.db") }
                    #expect(site.service.reloadIfChanged() != .reloaded(generation: expected + 1))
                } else {
                    try site.replaceData(with: content)
                    expected += 1
                    #expect(site.service.reloadIfChanged() == .reloaded(generation: expected))
                }
            }
            shared.done.store(true, ordering: .relaxed)
            while threads.contains(where: { !$0.isFinished }) { usleep(1000) }
            #expect(shared.failures.withLock { $0 } == [])
        }
    }
}
