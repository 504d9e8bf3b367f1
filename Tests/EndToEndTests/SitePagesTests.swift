import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Every page type of the sample site, in both languages, from the real binary (issue #4, "What it must show").
@Suite(.sampleSite) struct SitePagesTests {
    // MARK: - Language choice

    struct RootCase: Sendable, CustomTestStringConvertible {
        let acceptLanguage: String?
        let location: String
        var testDescription: String { "Accept-Language: \(acceptLanguage ?? "(none)") → \(location)" }
    }

    @Test(arguments: [
        RootCase(acceptLanguage: nil, location: "/fr/"),
        RootCase(acceptLanguage: "en-GB,en;q=0.8", location: "/en/"),
        RootCase(acceptLanguage: "fr-CA,fr;q=0.9,en;q=0.5", location: "/fr/"),
        RootCase(acceptLanguage: "de-DE,de;q=0.9", location: "/fr/"),
        RootCase(acceptLanguage: "de;q=0.9,en;q=0.4", location: "/en/"),
    ])
    func theRootRedirectsToTheAcceptLanguageChoice(_ rootCase: RootCase) throws {
        let site = try SampleSite.required()
        let reply = try site.get("/", headers: rootCase.acceptLanguage.map { ["Accept-Language: \($0)"] } ?? [])
        #expect(reply.status == 302)
        #expect(reply.header("Location") == rootCase.location)
        #expect(reply.header("Vary")?.contains("Accept-Language") == true)
    }

    @Test(arguments: ["fr", "en"])
    func aLanguageWithoutItsSlashRedirectsToItsList(_ lang: String) throws {
        let reply = try SampleSite.required().get("/\(lang)")
        #expect(reply.status == 301)
        #expect(reply.header("Location") == "/\(lang)/")
    }

    // MARK: - Pages

    @Test(arguments: ["fr", "en"])
    func theListShowsEveryArticleNewestFirstWithDateReadingTimeAndTags(_ lang: String) throws {
        let reply = try SampleSite.required().get("/\(lang)/")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "text/html; charset=utf-8")
        #expect(reply.header("Content-Language") == lang)
        #expect(reply.text.contains("<html lang=\"\(lang)\">"))
        #expect(reply.text.contains(lang == "fr" ? "Derniers articles" : "Latest articles"))
        let cards = reply.text.components(separatedBy: "<article class=\"card\"").dropFirst()
        #expect(cards.count == 8, "the sample site has 8 articles per language, one page")
        var dates: [String] = []
        for card in cards {
            let date = card.firstMatch(of: /<time datetime="(\d{4}-\d{2}-\d{2})">\1<\/time>/)
            #expect(date != nil, "a date YYYY-MM-DD in \(card.prefix(300))")
            if let date { dates.append(String(date.1)) }
            #expect(card.firstMatch(of: /\b[1-9][0-9]* min\b/) != nil, "a reading time in \(card.prefix(300))")
            #expect(card.contains("href=\"/\(lang)/tag/"), "tag links in \(card.prefix(300))")
            #expect(card.contains("href=\"/\(lang)/article/"), "a link to the article")
        }
        #expect(dates == dates.sorted(by: >), "newest first: \(dates)")
        let kaniko = lang == "fr" ? Kaniko.fr : Kaniko.en
        #expect(reply.text.contains("href=\"\(kaniko)\""))
    }

    struct ArticleCase: Sendable, CustomTestStringConvertible {
        let lang: String
        let path: String
        let title: String
        let other: String
        let otherPath: String
        let labels: [String]
        let updated: String
        let tagPaths: [String]
        var testDescription: String { path }
    }

    static let articleCases = [
        ArticleCase(
            lang: "en", path: Kaniko.en, title: Kaniko.enTitle, other: "fr", otherPath: Kaniko.fr,
            labels: ["Published on", "Reading time", "Last update", "Also available in", "About the author"],
            updated: "2025-06-18", tagPaths: ["/en/tag/docker", "/en/tag/gitlab", "/en/tag/ci-cd"]),
        ArticleCase(
            lang: "fr", path: Kaniko.fr, title: Kaniko.frTitle, other: "en", otherPath: Kaniko.en,
            labels: [
                "Publié le", "Temps de lecture", "Dernière mise à jour", "Aussi disponible en", "Qui écrit ici",
            ],
            updated: "2025-06-20", tagPaths: ["/fr/tag/docker", "/fr/tag/gitlab", "/fr/tag/ci-cd"]),
    ]

    @Test(arguments: articleCases)
    func anArticleLinksToItsTranslationWithLocalisedLabelsAndItsHeaderImage(_ article: ArticleCase) throws {
        let site = try SampleSite.required()
        let reply = try site.get(article.path)
        let html = reply.text
        #expect(reply.status == 200)
        #expect(html.contains("<html lang=\"\(article.lang)\">"))
        #expect(elementText("title", in: html)?.hasPrefix(article.title) == true)
        #expect(elementText("h1", in: html) == article.title)
        for label in article.labels {
            #expect(html.contains(label), "label \(label)")
        }
        #expect(html.contains("<time datetime=\"2023-03-14\">2023-03-14</time>"), "published, shared by both")
        #expect(html.contains("<time datetime=\"\(article.updated)\">\(article.updated)</time>"), "updated")
        #expect(html.firstMatch(of: /[1-9][0-9]* min/) != nil, "reading time")
        #expect(html.contains("Camille Martin"), "author box")

        // <link rel="alternate" hreflang>, both ways (the other case checks the way back), and the canonical URL.
        let base = SampleSite.siteURL
        let links = elements("link", in: html)
        var alternates: [String: String] = [:]
        for link in links where link["rel"] == "alternate" {
            if let lang = link["hreflang"] { alternates[lang] = link["href"] }
        }
        #expect(
            alternates == [
                article.lang: base + article.path, article.other: base + article.otherPath,
                "x-default": base + Kaniko.fr,
            ])
        #expect(links.contains { $0["rel"] == "canonical" && $0["href"] == base + article.path })
        // The language switcher and "Also available in" link to the translated slug, not to a swapped prefix.
        let translationLinks = elements("a", in: html).filter { $0["hreflang"] == article.other }
        #expect(translationLinks.count >= 2, "switcher and Also available in")
        #expect(translationLinks.allSatisfy { $0["href"] == article.otherPath }, "\(translationLinks)")
        // Tags link to tag pages of the same language.
        let hrefs = Set(elements("a", in: html).compactMap { $0["href"] })
        for tag in article.tagPaths { #expect(hrefs.contains(tag), "tag link \(tag)") }

        let image = try #require(
            elements("img", in: html).first { $0["class"]?.contains("article-image") == true }?["src"],
            "the header image element")
        #expect(image.contains(Kaniko.image))
        let imageReply = try site.get(image)
        #expect(imageReply.status == 200)
        #expect(imageReply.header("Content-Type") == "image/svg+xml")
        #expect(imageReply.text.contains("<svg"))
    }

    struct TagCase: Sendable, CustomTestStringConvertible {
        let lang: String
        let slug: String
        let name: String
        let articlePath: String
        var testDescription: String { "/\(lang)/tag/\(slug)" }
    }

    @Test(arguments: [
        TagCase(lang: "en", slug: "gitlab", name: "GitLab", articlePath: Kaniko.en),
        TagCase(lang: "fr", slug: "gitlab", name: "GitLab", articlePath: Kaniko.fr),
        TagCase(lang: "en", slug: "security", name: "Security", articlePath: ""),
        TagCase(lang: "fr", slug: "securite", name: "Sécurité", articlePath: ""),
    ])
    func theTagsListLinksToTagPagesThatListTheirArticles(_ tag: TagCase) throws {
        let site = try SampleSite.required()
        let list = try site.get("/\(tag.lang)/tags")
        #expect(list.status == 200)
        #expect(list.text.contains("<html lang=\"\(tag.lang)\">"))
        let links = elements("a", in: list.text).filter { $0["href"] == "/\(tag.lang)/tag/\(tag.slug)" }
        #expect(!links.isEmpty, "/\(tag.lang)/tags links to /\(tag.lang)/tag/\(tag.slug)")
        #expect(list.text.contains(">\(tag.name)</a>"))

        let page = try site.get("/\(tag.lang)/tag/\(tag.slug)")
        #expect(page.status == 200)
        #expect(page.text.contains("<html lang=\"\(tag.lang)\">"))
        #expect(elementText("h1", in: page.text)?.contains(tag.name) == true)
        let cards = page.text.components(separatedBy: "<article class=\"card\"").count - 1
        #expect(cards >= 1)
        if !tag.articlePath.isEmpty { #expect(page.text.contains("href=\"\(tag.articlePath)\"")) }
    }

    struct SearchCase: Sendable, CustomTestStringConvertible {
        let lang: String
        let query: String
        let expectedPath: String?
        var testDescription: String { "/\(lang)/search?q=\(query)" }
    }

    @Test(arguments: [
        SearchCase(lang: "en", query: "kaniko", expectedPath: Kaniko.en),
        SearchCase(lang: "fr", query: "kaniko", expectedPath: Kaniko.fr),
        SearchCase(lang: "fr", query: "securite", expectedPath: nil),  // finds "sécurité": diacritics removed
        SearchCase(lang: "en", query: "epoll timer", expectedPath: "/en/article/writing-an-epoll-event-loop"),
    ])
    func searchFindsArticlesAndHighlightsTheWords(_ search: SearchCase) throws {
        let reply = try SampleSite.required().get(
            "/\(search.lang)/search", options: ["--get", "--data-urlencode", "q=\(search.query)"])
        #expect(reply.status == 200)
        #expect(reply.text.contains("<html lang=\"\(search.lang)\">"))
        #expect(reply.text.contains("<mark>"), "highlighted snippet")
        #expect(reply.text.components(separatedBy: "<article class=\"card\"").count > 1, "at least one result")
        if let path = search.expectedPath { #expect(reply.text.contains("href=\"\(path)\"")) }
        #expect(elements("input", in: reply.text).contains { $0["name"] == "q" && $0["value"] == search.query })
    }

    // MARK: - Feeds, sitemap, robots, images

    @Test(arguments: ["fr", "en"])
    func theFeedIsValidAtomListingEveryArticle(_ lang: String) throws {
        let reply = try SampleSite.required().get("/\(lang)/feed.xml")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type")?.hasPrefix("application/atom+xml") == true)
        let feed = try XMLNode.parse(reply.body)
        let atom = "http://www.w3.org/2005/Atom"
        #expect(feed.name == "feed")
        #expect(feed.namespace == atom)
        // RFC 4287 §4.1.1: a feed has exactly one id, title and updated, and an author (here at feed level).
        #expect(feed.children("id").count == 1)
        #expect(feed.children("title").count == 1)
        #expect(feed.children("updated").count == 1)
        #expect(feed.child("author")?.child("name")?.text.isEmpty == false)
        #expect(feed.children("link").contains { $0.attributes["rel"] == "self" })
        let entries = feed.children("entry")
        #expect(entries.count == 8)
        for entry in entries {
            #expect(entry.namespace == atom)
            #expect(entry.children("id").count == 1)
            #expect(entry.child("title")?.text.isEmpty == false)
            let updated = try #require(entry.child("updated")?.text)
            #expect(updated.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/) != nil, "RFC 3339: \(updated)")
            let link = entry.children("link").first { $0.attributes["rel"] == "alternate" }?.attributes["href"]
            #expect(link?.hasPrefix("\(SampleSite.siteURL)/\(lang)/article/") == true)
        }
        let links = entries.compactMap { $0.child("link")?.attributes["href"] }
        #expect(links.contains(SampleSite.siteURL + (lang == "fr" ? Kaniko.fr : Kaniko.en)))
    }

    @Test func theSitemapListsEveryPageWithItsHreflangAlternates() throws {
        let reply = try SampleSite.required().get("/sitemap.xml")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type")?.contains("xml") == true)
        let urlset = try XMLNode.parse(reply.body)
        #expect(urlset.name == "urlset")
        #expect(urlset.namespace == "http://www.sitemaps.org/schemas/sitemap/0.9")
        var alternates: [String: [String: String]] = [:]
        for url in urlset.children("url") {
            let loc = try #require(url.child("loc")?.text)
            var byLanguage: [String: String] = [:]
            for link in url.children("link") where link.namespace == "http://www.w3.org/1999/xhtml" {
                #expect(link.attributes["rel"] == "alternate")
                if let lang = link.attributes["hreflang"] { byLanguage[lang] = link.attributes["href"] }
            }
            alternates[loc] = byLanguage
        }
        let articles = alternates.keys.filter { $0.contains("/article/") }
        #expect(articles.count == 16, "8 articles × 2 languages")
        for lang in ["fr", "en"] {
            #expect(alternates["\(SampleSite.siteURL)/\(lang)/"] != nil)
            #expect(alternates["\(SampleSite.siteURL)/\(lang)/tags"] != nil)
        }
        let en = SampleSite.siteURL + Kaniko.en
        let fr = SampleSite.siteURL + Kaniko.fr
        #expect(alternates[en] == ["en": en, "fr": fr, "x-default": fr])
        #expect(alternates[fr] == ["en": en, "fr": fr, "x-default": fr])
    }

    @Test func robotsTxtAllowsCrawlingButSearchAndNamesTheSitemap() throws {
        let reply = try SampleSite.required().get("/robots.txt")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(reply.text.contains("User-agent: *"))
        #expect(reply.text.contains("Disallow: /fr/search"))
        #expect(reply.text.contains("Disallow: /en/search"))
        #expect(reply.text.contains("Sitemap: \(SampleSite.siteURL)/sitemap.xml"))
    }

    /// The images of `content/images`, which the build copies into the package.
    static let sampleImages: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: packageRoot + "/content/images")) ?? []).sorted()

    @Test(arguments: sampleImages)
    func articleImagesAreServedFromTheDataPackage(_ file: String) throws {
        let reply = try SampleSite.required().get("/static/images/articles/\(file)")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "image/svg+xml")
        let original = try String(contentsOfFile: packageRoot + "/content/images/" + file, encoding: .utf8)
        #expect(reply.text == original)
    }

    @Test func theSampleSiteHasImagesToServe() {
        #expect(Self.sampleImages.count >= 3)
    }

    // MARK: - Errors

    struct NotFoundCase: Sendable, CustomTestStringConvertible {
        let path: String
        let acceptLanguage: String?
        let lang: String
        var testDescription: String { path + (acceptLanguage.map { " (Accept-Language: \($0))" } ?? "") }
    }

    @Test(arguments: [
        NotFoundCase(path: "/fr/nulle-part", acceptLanguage: "en", lang: "fr"),
        NotFoundCase(path: "/en/nowhere", acceptLanguage: "fr", lang: "en"),
        NotFoundCase(path: "/fr/article/inconnu", acceptLanguage: nil, lang: "fr"),
        NotFoundCase(path: "/en/article/unknown", acceptLanguage: nil, lang: "en"),
        NotFoundCase(path: "/en/tag/unknown", acceptLanguage: nil, lang: "en"),
        NotFoundCase(path: "/fr/page/99", acceptLanguage: nil, lang: "fr"),
        NotFoundCase(path: "/nowhere", acceptLanguage: "en-GB,en;q=0.8", lang: "en"),
        NotFoundCase(path: "/static/images/articles/missing.svg", acceptLanguage: nil, lang: "fr"),
    ])
    func anUnknownPathAnswersTheLocalised404(_ notFound: NotFoundCase) throws {
        let reply = try SampleSite.required().get(
            notFound.path, headers: notFound.acceptLanguage.map { ["Accept-Language: \($0)"] } ?? [])
        #expect(reply.status == 404)
        #expect(reply.header("Content-Type") == "text/html; charset=utf-8")
        #expect(reply.text.contains("<html lang=\"\(notFound.lang)\">"))
        #expect(reply.text.contains(notFound.lang == "fr" ? "Page introuvable" : "Page not found"))
        #expect(!reply.text.contains(notFound.lang == "fr" ? "Page not found" : "Page introuvable"))
        #expect(reply.header("ETag") == nil, "error pages have no validators")
    }

    // MARK: - Conditional requests, gzip, headers

    static let cachedPaths = [
        "/fr/", "/en/", Kaniko.en, Kaniko.fr, "/fr/tags", "/en/tag/docker", "/en/feed.xml", "/sitemap.xml",
    ]

    @Test(arguments: cachedPaths)
    func aCurrentETagOrDateAnswers304(_ path: String) throws {
        let site = try SampleSite.required()
        let first = try site.get(path)
        #expect(first.status == 200)
        let etag = try #require(first.header("ETag"))
        let lastModified = try #require(first.header("Last-Modified"))
        let byTag = try site.get(path, headers: ["If-None-Match: \(etag)"])
        #expect(byTag.status == 304)
        #expect(byTag.body.isEmpty)
        #expect(byTag.header("ETag") == etag)
        let byDate = try site.get(path, headers: ["If-Modified-Since: \(lastModified)"])
        #expect(byDate.status == 304)
        let stale = try site.get(path, headers: ["If-None-Match: \"0000000000000000\""])
        #expect(stale.status == 200)
        #expect(stale.body == first.body)
    }

    @Test(arguments: cachedPaths)
    func gzipIsNegotiatedAndGunzipsToTheSameBytes(_ path: String) throws {
        let site = try SampleSite.required()
        let plain = try site.get(path)
        #expect(plain.header("Content-Encoding") == nil)
        #expect(plain.header("Vary")?.contains("Accept-Encoding") == true)
        // curl --compressed sends Accept-Encoding and gunzips the body it receives.
        let compressed = try site.get(path, options: ["--compressed"])
        #expect(compressed.status == 200)
        #expect(compressed.header("Content-Encoding") == "gzip")
        #expect(compressed.header("Vary")?.contains("Accept-Encoding") == true)
        #expect(compressed.body == plain.body)
        let etag = try #require(compressed.header("ETag"))
        #expect(etag != plain.header("ETag"), "each encoding is its own representation")
        let revalidated = try site.get(path, headers: ["Accept-Encoding: gzip", "If-None-Match: \(etag)"])
        #expect(revalidated.status == 304)

        // The bytes on the wire are gzip (magic 1f 8b) and shorter than the page.
        let client = try RawClient(port: site.server.port)
        client.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n")
        let raw = try #require(client.readResponses(1, timeout: 10).first)
        #expect(raw.header("Content-Encoding") == "gzip")
        #expect(Array(raw.body.prefix(2)) == [0x1f, 0x8b])
        #expect(raw.body.count < plain.body.count)
    }

    @Test(arguments: [
        "/fr/", "/en/", Kaniko.en, Kaniko.fr, "/fr/tags", "/en/tag/docker", "/fr/search?q=tls", "/en/search",
        "/en/nowhere", "/fr/nulle-part",
    ])
    func everyPageCarriesTheSecurityHeaders(_ path: String) throws {
        let reply = try SampleSite.required().get(path)
        #expect([200, 404].contains(reply.status))
        let csp = try #require(reply.header("Content-Security-Policy"))
        #expect(csp.contains("default-src 'self'"))
        #expect(csp.contains("frame-ancestors 'none'"))
        #expect(!csp.contains("unsafe-inline"))
        #expect(reply.header("X-Content-Type-Options") == "nosniff")
        #expect(reply.header("Referrer-Policy") != nil)
    }

    // MARK: - Conformance as a client probes it (issue #12)

    @Test(arguments: [("/%65n/", "/en/"), ("/%66%72/tags", "/fr/tags"), ("/en/t%61g/docker", "/en/tag/docker")])
    func escapedUnreservedCharactersAreDecodedBeforeRouting(_ escaped: String, _ plain: String) throws {
        let site = try SampleSite.required()
        let reply = try site.get(escaped)
        let expected = try site.get(plain)
        #expect(reply.status == 200, "\(escaped) is \(plain) (RFC 3986 §6.2.2.2)")
        #expect(reply.body == expected.body)
    }

    @Test func aPostWithABodyIsRefusedForItsMethodWithAllow() throws {
        let site = try SampleSite.required()
        let client = try RawClient(port: site.server.port)
        client.send("POST /en/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello=world")
        let reply = try #require(client.readResponses(1).first)
        #expect(reply.status == 405)
        #expect(reply.header("Allow") == "GET, HEAD")
        let curlReply = try curl(["-X", "POST", "--data", "q=1", "\(site.server.url)/fr/"])
        #expect(curlReply.status == 405)
    }

    @Test func theSiteIconIsServedAsFaviconIco() throws {
        let site = try SampleSite.required()
        let reply = try site.get("/favicon.ico")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "image/x-icon")
        // An ICO directory (reserved 0, type 1) holding at least the 16 and 32 px images.
        #expect(Array(reply.body.prefix(4)) == [0, 0, 1, 0])
        #expect(reply.body.count > 6 && reply.body[reply.body.startIndex + 4] >= 2)
        let conditional = try site.get("/favicon.ico", headers: ["If-None-Match: \(reply.header("ETag") ?? "")"])
        #expect(conditional.status == 304)
    }

    @Test(arguments: [Kaniko.en, Kaniko.fr])
    func codeBlocksCanBeReachedFromTheKeyboardAndAreNamed(_ path: String) throws {
        let reply = try SampleSite.required().get(path)
        let blocks = elements("pre", in: reply.text)
        #expect(!blocks.isEmpty, "the Kaniko article shows code")
        for block in blocks {
            #expect(block["tabindex"] == "0")
            #expect(block["role"] == "region")
            #expect((block["aria-label"] ?? "").count > 4)
        }
    }

    @Test(arguments: ["fr", "en"])
    func theLongestQueryTheSearchFormAllowsFitsTheRequestLine(_ lang: String) throws {
        let site = try SampleSite.required()
        let page = try site.get("/\(lang)/search")
        let inputs = elements("input", in: page.text).filter { $0["name"] == "q" }
        #expect(!inputs.isEmpty)
        for input in inputs {
            let maxLength = try #require(input["maxlength"].flatMap(Int.init), "the search box says how long")
            // The worst case a form can send: each character three UTF-8 bytes, each byte `%XX`.
            let query = String(repeating: "€", count: maxLength)
            let reply = try site.get("/\(lang)/search", options: ["-G", "--data-urlencode", "q=\(query)"])
            #expect(reply.status == 200, "a full search box (\(maxLength) characters) must not get 414")
        }
    }
}
