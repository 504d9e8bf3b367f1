import Foundation
import Testing

@testable import Site

/// A small two-language data package written with `ContentWriter`, in a temporary directory removed after
/// each use. Three articles: `kaniko` (2023), then `epoll` and `tls` published the same day (so the order falls
/// back to titles), four tags of which one unused.
enum StoreFixture {
    static let kanikoEnglishSlug = "containerize-with-kaniko"
    static let kanikoFrenchSlug = "conteneuriser-avec-kaniko"

    static var content: PackageContent {
        PackageContent(
            authorName: "Camille Martin",
            languages: [
                .init(
                    lang: "en", title: "Notes", description: "Notes from the server room.", tagline: "Field notes",
                    authorTagline: "Infrastructure engineer."),
                .init(
                    lang: "fr", title: "Carnets", description: "Carnets de salle serveur.", tagline: "",
                    authorTagline: "Ingénieure infrastructure."),
            ],
            tags: [
                tag("containers", en: ("Containers", "containers"), fr: ("Conteneurs", "conteneurs")),
                tag("security", en: ("Security", "security"), fr: ("Sécurité", "securite")),
                tag("networking", en: ("networking", "networking"), fr: ("Réseau", "reseau")),
                tag("unused", en: ("Unused", "unused"), fr: ("Inutilisé", "inutilise")),
            ],
            articles: [
                .init(
                    translationKey: "kaniko", published: "2023-03-14", image: "kaniko.svg",
                    translations: [
                        .init(
                            lang: "en", slug: kanikoEnglishSlug, title: "Containerize with Kaniko",
                            description: "Build images in CI without a daemon.", updated: "2025-06-18",
                            tagKeys: ["security", "containers"],
                            bodyHTML: """
                                <h2 id="why">Why Kaniko</h2><p>Kaniko builds container images without a Docker \
                                daemon, in user space.</p><p><img src="/static/images/articles/diagram.svg" alt="A \
                                diagram"></p><pre><code class="language-sh">echo &lt;script&gt;alert(1)&lt;/script&gt;\
                                </code></pre>
                                """),
                        .init(
                            lang: "fr", slug: kanikoFrenchSlug, title: "Conteneuriser avec Kaniko",
                            description: "Construire des images en CI sans démon.", updated: "2023-03-20",
                            tagKeys: ["containers", "security"],
                            bodyHTML: "<p>Kaniko construit des images de conteneurs sans démon Docker, en sécurité.</p>"
                        ),
                    ]),
                .init(
                    translationKey: "tls", published: "2024-01-10", image: "tls.svg",
                    translations: [
                        .init(
                            lang: "en", slug: "tls-for-servers", title: "TLS for servers",
                            description: "Certificates, handshakes and HSTS.", updated: "2024-01-10",
                            tagKeys: ["security", "networking"],
                            bodyHTML: "<p>A certificate chain, a handshake, and a note on Kaniko builds.</p>"),
                        .init(
                            lang: "fr", slug: "tls-pour-les-serveurs", title: "TLS pour les serveurs",
                            description: "Certificats, poignées de main et HSTS.", updated: "2024-02-01",
                            tagKeys: ["security", "networking"],
                            bodyHTML: "<p>Une chaîne de certificats et la sécurité du transport.</p>"),
                    ]),
                .init(
                    translationKey: "epoll", published: "2024-01-10", image: nil,
                    translations: [
                        .init(
                            lang: "en", slug: "epoll-loops", title: "Epoll loops",
                            description: "Readiness, not completion.", updated: "2024-01-10",
                            tagKeys: ["networking"], bodyHTML: "<p>" + String(repeating: "word ", count: 700) + "</p>"),
                        .init(
                            lang: "fr", slug: "boucles-epoll", title: "Boucles epoll",
                            description: "La disponibilité, pas l'achèvement.", updated: "2024-01-10",
                            tagKeys: ["networking"], bodyHTML: "<p>Une boucle d'événements.</p>"),
                    ]),
            ])
    }

    static let images = ["kaniko.svg", "tls.svg", "diagram.svg"]

    private static func tag(
        _ key: String, en: (String, String), fr: (String, String)
    ) -> PackageContent.TagEntry {
        .init(key: key, names: [.init(lang: "en", name: en.0, slug: en.1), .init(lang: "fr", name: fr.0, slug: fr.1)])
    }

    /// Runs `body` with the path of a fresh package (`content` unless given), then removes it.
    static func withPackage<T>(
        _ content: PackageContent = content, _ body: (String) throws -> T
    ) throws -> T {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try ContentWriter.write(content, to: data)
        for image in images {
            try Data("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8).write(
                to: URL(fileURLWithPath: data + "/articles/images/" + image))
        }
        return try body(data)
    }

    /// Runs `sql` on the package's database with writes allowed and CHECK constraints off, as a tool writing
    /// a broken package would.
    static func corrupt(_ data: String, _ sql: String) throws {
        let db = try SQLiteConnection(path: data + "/site.db", mode: .readWriteCreate)
        try db.execute("PRAGMA ignore_check_constraints = ON; " + sql)
    }
}

@Suite struct StoreFixtureTests {
    @Test func fixturePackagePassesTheCheck() throws {
        let problems = try StoreFixture.withPackage { DataPackageCheck.run(dataPath: $0) }
        #expect(problems == [])
    }

    @Test func writerLaysOutBodiesAndDatabase() throws {
        try StoreFixture.withPackage { data in
            for file in ["site.db", "articles/en/containerize-with-kaniko.html", "articles/fr/boucles-epoll.html"] {
                #expect(FileManager.default.fileExists(atPath: data + "/" + file), "\(file)")
            }
            let db = try SQLiteConnection(path: data + "/site.db", mode: .readOnly)
            #expect(try db.userVersion() == ContentStore.schemaVersion)
            #expect(try db.rows("PRAGMA journal_mode").first?.first?.text == "delete")
        }
    }

    @Test func writerRefusesWhatTheSchemaForbids() throws {
        var content = StoreFixture.content
        content.articles[0].published = "2023-02-30"
        #expect(throws: ContentError.self) { try StoreFixture.withPackage(content) { _ in } }
    }

    @Test func documentedSchemaIsTheOneTheWriterUses() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/data-format.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        #expect(text.contains(ContentSchema.sql), "docs/data-format.md must quote ContentSchema.sql verbatim")
        #expect(text.contains("PRAGMA user_version = \(ContentSchema.version)"))
    }
}
