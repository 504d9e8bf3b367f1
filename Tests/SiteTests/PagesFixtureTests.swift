import Foundation
import HTTP
import Testing

@testable import Site

/// A site for the page tests: a data package written with `ContentWriter` (12 French articles, 11 of them
/// translated to English, so French lists have two pages), the repository's own templates and static files,
/// served by a `SiteService`. Everything lives in a temporary directory removed after each use.
enum PagesFixture {
    static let siteURL = "https://blog.example"

    /// The repository root, from this file's path.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let templatesPath = repository + "/web/templates"
    static let staticPath = repository + "/web/static"

    /// Article `n` (1…12): published on 2024-01-(n+10), so `a12` is the newest. `a01` has a title with HTML in
    /// it; `a03` was updated in French only. With `frenchOnlyLast`, `a12` has no English version (which
    /// `DataPackageCheck` refuses but the store loads).
    static func content(siteTitle: String = "Carnets", articleCount: Int = 12, frenchOnlyLast: Bool = false)
        -> PackageContent
    {
        var articles: [PackageContent.ArticleEntry] = []
        for n in 1...articleCount {
            let key = String(format: "a%02d", n)
            let day = String(format: "2024-01-%02d", n + 10)
            var translations: [PackageContent.TranslationEntry] = [
                .init(
                    lang: "fr", slug: "article-\(n)-fr",
                    title: n == 1 ? "Les <balises> & \"guillemets\"" : "Article \(n)",
                    description: "Résumé de l'article \(n).", updated: n == 3 ? "2024-03-01" : day,
                    tagKeys: n % 2 == 0 ? ["security", "docker"] : ["docker"],
                    bodyHTML: "<p>Corps de l'article \(n) : conteneurs et certificats.</p>")
            ]
            if !(frenchOnlyLast && n == articleCount) {
                translations.append(
                    .init(
                        lang: "en", slug: "article-\(n)-en", title: "Article \(n) in English",
                        description: "Summary of article \(n).", updated: day,
                        tagKeys: n % 2 == 0 ? ["security", "docker"] : ["docker"],
                        bodyHTML: "<p>Body of article \(n): containers and certificates.</p>"))
            }
            articles.append(
                .init(
                    translationKey: key, published: day, image: n == 2 ? "cover.svg" : nil, translations: translations))
        }
        return PackageContent(
            authorName: "Camille Martin",
            languages: [
                .init(
                    lang: "fr", title: siteTitle, description: "Carnets de salle serveur.", tagline: "Notes de terrain",
                    authorTagline: "Ingénieure infrastructure à Lyon."),
                .init(
                    lang: "en", title: "Notebooks", description: "Notes from the server room.", tagline: "Field notes",
                    authorTagline: "Infrastructure engineer in Lyon."),
            ],
            tags: [
                .init(
                    key: "security",
                    names: [
                        .init(lang: "fr", name: "Sécurité", slug: "securite"),
                        .init(lang: "en", name: "Security", slug: "security"),
                    ]),
                .init(
                    key: "docker",
                    names: [
                        .init(lang: "fr", name: "Docker", slug: "docker"),
                        .init(lang: "en", name: "Docker", slug: "docker"),
                    ]),
            ],
            articles: articles)
    }

    /// Writes a package with `content` at `path` (which must not exist), with its image.
    static func writePackage(_ content: PackageContent, to path: String) throws {
        try ContentWriter.write(content, to: path)
        try Data("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 2 1\"/>".utf8).write(
            to: URL(fileURLWithPath: path + "/articles/images/cover.svg"))
    }

    /// A temporary directory, removed after `body`.
    static func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pages-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try body(root)
    }

    /// The configuration of a site whose package is `root/data` and templates `templatesPath`.
    static func configuration(root: String, templatesPath: String = templatesPath) -> SiteConfiguration {
        SiteConfiguration(
            languages: ["fr", "en"], templatesPath: templatesPath, dataPath: root + "/data", databaseName: "site.db",
            siteURL: siteURL, reloadRetryDelayMilliseconds: 10)
    }

    /// A service over `configuration`, serving the repository's static files.
    static func service(_ configuration: SiteConfiguration) -> SiteService {
        SiteService(
            configuration: configuration, staticFiles: StaticFiles(root: staticPath), isHealthy: { true },
            logger: .init(label: "pages-tests"))
    }

    /// Runs `body` with a service over a fresh package of `content`.
    static func withSite<T>(_ content: PackageContent = content(), _ body: (SiteService) throws -> T) throws -> T {
        try withDirectory { root in
            try writePackage(content, to: root + "/data")
            return try body(service(configuration(root: root)))
        }
    }

    /// The shared site of the read-only tests, built once (rendering every page takes a while in debug builds).
    static let shared: SiteService = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pages-shared-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)  // test setup
        try! writePackage(content(), to: root + "/data")  // the fixture is valid: PagesFixtureTests checks it
        let site = service(configuration(root: root))
        // Everything the tests read is in memory now but search and images, which keep their files open or
        // reopen them: keep the directory until the process exits.
        atexit { try? FileManager.default.removeItem(atPath: PagesFixture.sharedRoot) }
        return site
    }()

    static var sharedRoot: String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pages-shared-\(getpid())").path
    }

    /// GET `target` on `service` with `headers`.
    static func get(_ service: SiteService, _ target: String, _ headers: [(String, String)] = []) -> Response {
        // The real clock: pages are dated when their generation is built.
        service.respond(
            to: StaticFixture.request(target, headers: headers),
            context: StaticFixture.context(now: Int64(Date().timeIntervalSince1970)))
    }
}

@Suite struct PagesFixtureTests {
    @Test func fixturePackagePassesTheDataCheck() throws {
        try PagesFixture.withDirectory { root in
            try PagesFixture.writePackage(PagesFixture.content(), to: root + "/data")
            #expect(DataPackageCheck.run(dataPath: root + "/data") == [])
        }
    }

    @Test func sharedSiteLoadedItsContent() {
        let generation = PagesFixture.shared.generation
        #expect(generation.hasContent)
        #expect(generation.number == 1)
    }
}
