import Foundation
import Site
import Testing

@testable import DataTool

/// The sample site built with `DataBuilder` and read back with `ContentStore`.
@Suite struct SamplePackageTests {
    static let kanikoEnglish = "containerize-your-application-in-a-ci-cd-process-with-gitlab"
    static let kanikoFrench = "conteneuriser-son-application-dans-un-processus-ci-cd-avec-gitlab"

    @Test func builtPackagePassesTheCheck() throws {
        let problems = try SampleContent.withBuiltPackage { DataPackageCheck.run(dataPath: $0) }
        #expect(problems == [])
    }

    @Test func everyArticleIsInBothLanguagesNewestFirst() throws {
        try SampleContent.withBuiltPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            #expect(store.languages == ["en", "fr"])
            for lang in store.languages {
                let articles = store.articles(lang: lang)
                #expect(articles.count == 8)
                #expect(articles.map(\.published) == articles.map(\.published).sorted(by: >))
                #expect(articles.allSatisfy { $0.lang == lang && $0.readingMinutes >= 1 && !$0.bodyHTML.isEmpty })
            }
        }
    }

    @Test func kanikoTranslationsLinkThroughTheDatabase() throws {
        try SampleContent.withBuiltPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let english = try #require(store.article(lang: "en", slug: Self.kanikoEnglish))
            let french = try #require(store.article(lang: "fr", slug: Self.kanikoFrench))
            #expect(english.translationKey == "gitlab-ci-kaniko" && french.translationKey == "gitlab-ci-kaniko")
            #expect(store.translations(of: english).map(\.slug) == [Self.kanikoFrench])
            #expect(store.translations(of: french).map(\.slug) == [Self.kanikoEnglish])
            #expect(english.published == "2023-03-14" && french.published == "2023-03-14")
            #expect(english.updated == "2025-06-18")
            #expect(english.image == "gitlab-kaniko.svg")
            #expect(english.tags.map(\.key) == ["ci-cd", "docker", "gitlab"])
            #expect(store.article(lang: "fr", slug: Self.kanikoEnglish) == nil)
        }
    }

    @Test func bodiesAreRenderedWithHeadingIDsAndCodeClasses() throws {
        try SampleContent.withBuiltPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let body = try #require(store.article(lang: "en", slug: Self.kanikoEnglish)).bodyHTML
            #expect(body.contains("<h2 id=\"how-kaniko-works\">How Kaniko works</h2>"))
            #expect(body.contains("<pre><code class=\"language-yaml\">"))
            #expect(!body.contains("<h1"))
            #expect(!body.hasPrefix("---"))
            let french = try #require(store.article(lang: "fr", slug: Self.kanikoFrench)).bodyHTML
            #expect(french.contains("<h2 id=\"s-authentifier-aupres-du-registre\">"))
            let images = store.articles(lang: "en").map(\.bodyHTML).joined()
            #expect(images.contains("src=\"/static/images/articles/tls13-handshake.svg\""))
            #expect(store.imagePath("tls13-handshake.svg") != nil)
        }
    }

    @Test func tagsAreLocalisedWithCounts() throws {
        try SampleContent.withBuiltPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let security = try #require(store.tag(lang: "fr", slug: "securite"))
            #expect(security.name == "Sécurité" && security.key == "security")
            #expect(security.articleCount == 3)
            #expect(store.articles(taggedWith: "security", lang: "fr").count == 3)
            let english = store.tags(lang: "en")
            #expect(english.count == 13)
            #expect(english.map(\.name) == english.map(\.name).sorted(by: TextCollation.precedes))
            #expect(english.first { $0.key == "docker" }?.articleCount == 4)
            #expect(store.site.authorName == "Camille Martin")
            #expect(store.site.title("fr") == "Camille Martin — Carnets de salle serveur")
        }
    }

    @Test func searchRanksAndHighlights() throws {
        try SampleContent.withBuiltPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let kaniko = store.search(lang: "en", query: "kaniko")
            #expect(kaniko.first?.article.slug == Self.kanikoEnglish)
            #expect(kaniko.first?.snippetHTML.contains("<mark>Kaniko</mark>") == true)
            let fts = store.search(lang: "fr", query: "FTS5")
            #expect(fts.first?.article.translationKey == "sqlite-fts5-search")
            let accents = store.search(lang: "fr", query: "securite")
            #expect(!accents.isEmpty)
            #expect(store.search(lang: "en", query: "conteneuriser").isEmpty)
        }
    }

    @Test(arguments: ["\"", "NEAR(", "*", "a OR", "title:x", String(repeating: "é\"( ", count: 2600), ")(", "\u{FFFD}"])
    func hostileQueriesNeverFail(_ query: String) throws {
        try SampleContent.withBuiltPackage { data in
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            #expect(store.search(lang: "en", query: query).count <= 20)
            #expect(store.search(lang: "fr", query: query).count <= 20)
        }
    }
}
