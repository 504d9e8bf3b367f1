import Foundation
import Testing

@testable import Site

@Suite struct StoreLoadingTests {
    @Test func listsArticlesNewestFirstThenByTitle() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            #expect(store.languages == ["en", "fr"])
            #expect(
                store.articles(lang: "en").map(\.slug) == [
                    "epoll-loops", "tls-for-servers", "containerize-with-kaniko",
                ])
            #expect(
                store.articles(lang: "fr").map(\.slug) == [
                    "boucles-epoll", "tls-pour-les-serveurs", "conteneuriser-avec-kaniko",
                ])
            #expect(store.articles(lang: "de").isEmpty)
        }
    }

    @Test func loadsEveryFieldOfAnArticle() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let article = try #require(store.article(lang: "en", slug: StoreFixture.kanikoEnglishSlug))
            #expect(article.translationKey == "kaniko")
            #expect(article.title == "Containerize with Kaniko")
            #expect(article.description == "Build images in CI without a daemon.")
            #expect(article.published == "2023-03-14")
            #expect(article.updated == "2025-06-18")
            #expect(article.image == "kaniko.svg")
            #expect(article.bodyHTML.hasPrefix("<h2 id=\"why\">Why Kaniko</h2>"))
            #expect(article.tags.map(\.key) == ["containers", "security"])  // sorted by localised name
            #expect(article.readingMinutes == 1)
            #expect(store.article(lang: "en", slug: "epoll-loops")?.readingMinutes == 3)  // 700 words / 220
            #expect(store.article(lang: "en", slug: "epoll-loops")?.image == nil)
            #expect(store.article(lang: "fr", slug: StoreFixture.kanikoEnglishSlug) == nil)
        }
    }

    @Test func translationsComeFromTheDatabaseLinkNotTheSlug() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let english = try #require(store.article(lang: "en", slug: StoreFixture.kanikoEnglishSlug))
            let french = store.translations(of: english)
            #expect(french.map(\.slug) == [StoreFixture.kanikoFrenchSlug])
            #expect(french.map(\.lang) == ["fr"])
            #expect(french.first?.published == english.published)
            #expect(french.first?.updated == "2023-03-20")  // each translation has its own update date
            #expect(store.translations(of: french[0]).map(\.slug) == [StoreFixture.kanikoEnglishSlug])
        }
    }

    @Test func tagsAreLocalisedSortedAndCounted() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let english = store.tags(lang: "en")
            #expect(english.map(\.name) == ["Containers", "networking", "Security", "Unused"])
            #expect(english.map(\.articleCount) == [1, 2, 2, 0])
            #expect(store.tags(lang: "fr").map(\.name) == ["Conteneurs", "Inutilisé", "Réseau", "Sécurité"])
            let security = try #require(store.tag(lang: "fr", slug: "securite"))
            #expect(security.key == "security" && security.name == "Sécurité" && security.articleCount == 2)
            #expect(store.tag(lang: "en", slug: "securite") == nil)
            #expect(
                store.articles(taggedWith: "security", lang: "fr").map(\.slug)
                    == ["tls-pour-les-serveurs", "conteneuriser-avec-kaniko"])
            #expect(store.articles(taggedWith: "unused", lang: "en").isEmpty)
        }
    }

    @Test func siteTextsArePerLanguage() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            #expect(store.site.authorName == "Camille Martin")
            #expect(store.site.title("fr") == "Carnets")
            #expect(store.site.description("en") == "Notes from the server room.")
            #expect(store.site.tagline("en") == "Field notes")
            #expect(store.site.tagline("fr") == "")
            #expect(store.site.authorTagline("fr") == "Ingénieure infrastructure.")
            #expect(store.site.title("de") == "")
        }
    }

    @Test func imagesAreServedFromTheAbsoluteImagesDirectory() throws {
        try StoreFixture.withPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            #expect(store.imagesDirectory.hasPrefix("/"))
            #expect(store.imagesDirectory.hasSuffix("/articles/images"))
            #expect(store.imagePath("kaniko.svg") == store.imagesDirectory + "/kaniko.svg")
            for name in ["../site.db", "missing.svg", ".hidden", "", "a/b.svg"] {
                #expect(store.imagePath(name) == nil, "\(name)")
            }
        }
    }

    @Test func refusesAnotherSchemaVersionNamingBoth() throws {
        try StoreFixture.withPackage { data in
            try StoreFixture.corrupt(data, "PRAGMA user_version = 2")
            let error = #expect(throws: ContentError.self) { try ContentStore(dataPath: data, databaseName: "site.db") }
            #expect(error?.message == "site.db has schema version 2; this mywebsite reads version 1")
        }
    }

    @Test func refusesAMissingDatabaseOrBody() throws {
        try StoreFixture.withPackage { data in
            let missingDatabase = #expect(throws: ContentError.self) {
                try ContentStore(dataPath: data, databaseName: "other.db")
            }
            #expect(missingDatabase?.message.contains("other.db") == true)
            try FileManager.default.removeItem(atPath: data + "/articles/fr/boucles-epoll.html")
            let missingBody = #expect(throws: ContentError.self) {
                try ContentStore(dataPath: data, databaseName: "site.db")
            }
            #expect(missingBody?.message.contains("articles/fr/boucles-epoll.html") == true)
        }
    }

    @Test func refusesAFileThatIsNotADatabase() throws {
        try StoreFixture.withPackage { data in
            try Data("not a database, just text that is long enough to be read as a header".utf8).write(
                to: URL(fileURLWithPath: data + "/site.db"))
            let error = #expect(throws: ContentError.self) { try ContentStore(dataPath: data, databaseName: "site.db") }
            #expect(error?.message.contains("not a database") == true)
        }
    }

    @Test func opensTheDatabaseReadOnly() throws {
        try StoreFixture.withPackage { data in
            let before = try Data(contentsOf: URL(fileURLWithPath: data + "/site.db"))
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: data + "/site.db")
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            _ = store.search(lang: "en", query: "kaniko")
            #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/site.db")) == before)
            #expect(!FileManager.default.fileExists(atPath: data + "/site.db-journal"))
        }
    }
}
