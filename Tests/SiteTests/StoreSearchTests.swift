import Foundation
import Testing

@testable import Site

@Suite struct StoreSearchTests {
    @Test func ranksTitleMatchesAboveBodyMatches() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let hits = store.search(lang: "en", query: "kaniko")
            #expect(hits.map(\.article.slug) == [StoreFixture.kanikoEnglishSlug, "tls-for-servers"])
            #expect(hits.allSatisfy { $0.article.lang == "en" })
        }
    }

    @Test func snippetsMarkMatchesAndEscapeTheText() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let hit = try #require(store.search(lang: "en", query: "alert").first)
            #expect(hit.snippetHTML.contains("&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;"))
            #expect(!hit.snippetHTML.contains("<script"))
            let daemon = try #require(store.search(lang: "en", query: "Docker daemon").first)
            #expect(daemon.snippetHTML.contains("<mark>Docker</mark> <mark>daemon</mark>"))
        }
    }

    @Test func fallsBackToTheDescriptionWhenOnlyItMatches() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let hit = try #require(store.search(lang: "en", query: "HSTS").first)
            #expect(hit.article.slug == "tls-for-servers")
            #expect(hit.snippetHTML == "Certificates, handshakes and <mark>HSTS</mark>.")
        }
    }

    @Test func searchesOneLanguageIgnoringAccents() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            #expect(
                store.search(lang: "fr", query: "securite").map(\.article.slug)
                    .sorted() == ["conteneuriser-avec-kaniko", "tls-pour-les-serveurs"])
            #expect(store.search(lang: "en", query: "sécurité").isEmpty)
            #expect(store.search(lang: "fr", query: "DÉMON").first?.snippetHTML.contains("<mark>démon</mark>") == true)
        }
    }

    @Test func requiresEveryWord() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            #expect(store.search(lang: "en", query: "kaniko certificate").map(\.article.slug) == ["tls-for-servers"])
            #expect(store.search(lang: "en", query: "kaniko", limit: 1).count == 1)
            #expect(store.search(lang: "en", query: "kaniko", limit: 0).isEmpty)
        }
    }

    static let hostileQueries: [String] = [
        "\"", "\"\"", "NEAR(", "NEAR(kaniko daemon, 2)", "*", "kaniko*", "a OR", "OR", "AND", "NOT kaniko",
        "title:x", "title:kaniko", "{title body}: kaniko", ")(", "(kaniko", "^kaniko", "-kaniko", "+", "kan\"iko",
        "\u{0}kaniko", "\u{E000}kaniko\u{E001}", "\u{FFFD}\u{FFFD}", String(repeating: "kaniko ", count: 1500),
        String(repeating: "x", count: 10_240), String(repeating: "\" OR ( NEAR * ", count: 700), "", "   ",
    ]

    @Test(arguments: hostileQueries)
    func hostileQueryNeverFails(_ query: String) throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let hits = store.search(lang: "en", query: query)
            #expect(hits.count <= 20)
            for hit in hits { #expect(!hit.snippetHTML.contains("<script")) }
        }
    }

    @Test func operatorsAreSearchedAsWords() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            #expect(store.search(lang: "en", query: "title:kaniko").isEmpty)  // the phrase "title kaniko"
            #expect(store.search(lang: "en", query: "NEAR(kaniko").isEmpty)  // "near kaniko": no such phrase
            #expect(store.search(lang: "en", query: "\"kaniko\"").count == 2)
            #expect(store.search(lang: "en", query: "kaniko*").count == 2)
        }
    }

    @Test func searchesFromManyThreadsAtOnce() async throws {
        try await StoreFixture.withPackageAsync { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let counts = await withTaskGroup(of: Int.self) { group in
                for index in 0..<64 {
                    group.addTask { store.search(lang: index.isMultiple(of: 2) ? "en" : "fr", query: "kaniko").count }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(counts.count == 64)
            #expect(Set(counts) == [1, 2])
        }
    }
}

extension StoreFixture {
    /// `withPackage` for async bodies.
    static func withPackageAsync(_ body: (String) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try ContentWriter.write(content, to: root + "/data")
        for image in images {
            try Data("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8).write(
                to: URL(fileURLWithPath: root + "/data/articles/images/" + image))
        }
        try await body(root + "/data")
    }
}

@Suite struct StoreSearchQueryTests {
    @Test(arguments: [
        ("kaniko", "\"kaniko\""),
        ("Docker  daemon", "\"Docker\" AND \"daemon\""),
        ("a OR b", "\"a\" AND \"OR\" AND \"b\""),
        ("kan\"iko", "\"kan\"\"iko\""),
        ("title:x", "\"title:x\""),
        ("NEAR( * )(", "\"NEAR(\""),
        ("sécurité", "\"sécurité\""),
        ("tab\there", "\"tab\" AND \"here\""),
        ("nul\u{0}byte", "\"nul\" AND \"byte\""),
    ])
    func quotesEachWord(_ input: String, _ expected: String) {
        #expect(SearchQuery.matchExpression(input) == expected)
    }

    @Test(arguments: ["", "   ", "*", "\"", ")(", "\" * ( ) :", "\u{0}\u{1}"])
    func inputWithoutWordsIsNoQuery(_ input: String) {
        #expect(SearchQuery.matchExpression(input) == nil)
    }

    @Test func capsWordsAndCharacters() throws {
        let many = try #require(SearchQuery.matchExpression(String(repeating: "w ", count: 100)))
        #expect(many.components(separatedBy: " AND ").count == SearchQuery.maximumWords)
        let long = try #require(SearchQuery.matchExpression(String(repeating: "x", count: 10_000)))
        #expect(long.count == SearchQuery.maximumCharacters + 2)
    }

    @Test func snippetMarkersBecomeBalancedMarks() {
        #expect(
            SearchSnippet.html("a \u{E000}b\u{E001} <c> & \"d\"") == "a <mark>b</mark> &lt;c&gt; &amp; &quot;d&quot;")
        #expect(SearchSnippet.html("\u{E001}x\u{E000}y") == "x<mark>y</mark>")
        #expect(SearchSnippet.html("\u{E000}\u{E000}x\u{E001}\u{E001}") == "<mark>x</mark>")
    }
}
