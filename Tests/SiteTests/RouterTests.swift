import HTTP
import Testing

@testable import Site

/// Every kind of URL the site answers, in both languages, against the shared fixture site.
@Suite struct RouterTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let path: String
        let status: Int
        let contentType: String?
        /// Text the body must contain.
        let contains: [String]
        /// Text the body must not contain.
        let excludes: [String]
        let headers: [(String, String)]

        init(
            _ path: String, _ status: Int, _ contentType: String? = nil, contains: [String] = [],
            excludes: [String] = [], headers: [(String, String)] = []
        ) {
            self.path = path
            self.status = status
            self.contentType = contentType
            self.contains = contains
            self.excludes = excludes
            self.headers = headers
        }

        var testDescription: String { "\(path) → \(status)" }
    }

    static let html = "text/html; charset=utf-8"

    static let cases: [Case] = [
        // Lists, newest first, 10 per page.
        Case(
            "/fr/", 200, html,
            contains: ["<html lang=\"fr\">", "Article 12", "Article 3", "Page 1 sur 2", "/fr/page/2"],
            excludes: ["Article 2<", "Les &lt;balises&gt;"]),
        Case("/en/", 200, html, contains: ["<html lang=\"en\">", "Article 12 in English", "Page 1 of 2"]),
        Case(
            "/fr/page/2", 200, html,
            contains: ["Article 2", "Les &lt;balises&gt; &amp; &quot;guillemets&quot;", "Page 2 sur 2"],
            excludes: ["Article 3<"]),
        Case("/en/page/2", 200, html, contains: ["Article 1 in English", "Newer articles"]),
        Case("/fr/page/3", 404, html, contains: ["Page introuvable"]),
        Case("/en/page/0", 404, html, contains: ["Page not found"]),
        Case("/fr/page/1", 301),
        Case("/fr", 301),
        Case("/en", 301),
        // Articles.
        Case(
            "/fr/article/article-2-fr", 200, html,
            contains: [
                "<h1>Article 2</h1>", "Publié le", "Temps de lecture", "Dernière mise à jour", "Aussi disponible en",
                "<time datetime=\"2024-01-12\">2024-01-12</time>", "Corps de l'article 2",
                "Ingénieure infrastructure à Lyon.",
                "Camille Martin", "href=\"/fr/tag/securite\"", "href=\"/fr/tag/docker\"",
                "src=\"/static/images/articles/cover.svg\"", "href=\"/en/article/article-2-en\"",
            ]),
        Case(
            "/en/article/article-2-en", 200, html,
            contains: [
                "<h1>Article 2 in English</h1>", "Published on", "Reading time", "Last update", "Also available in",
                "Infrastructure engineer in Lyon.", "href=\"/en/tag/security\"", "href=\"/fr/article/article-2-fr\"",
            ]),
        Case("/fr/article/article-3-fr", 200, html, contains: ["<time datetime=\"2024-03-01\">2024-03-01</time>"]),
        Case("/fr/article/article-2-en", 404, html, contains: ["Page introuvable"]),
        Case("/fr/article/", 404),
        // Tags.
        Case(
            "/fr/tags", 200, html,
            contains: ["Toutes les étiquettes", "href=\"/fr/tag/securite\"", "Sécurité", "12 articles"]),
        Case("/en/tags", 200, html, contains: ["All tags", "href=\"/en/tag/security\"", "6 articles"]),
        Case(
            "/fr/tag/securite", 200, html, contains: ["Sécurité", "6 articles", "Article 12", "Article 2"],
            excludes: ["Article 3<"]),
        Case("/en/tag/security", 200, html, contains: ["Articles tagged “Security”", "Article 2 in English"]),
        Case("/en/tag/docker", 200, html, contains: ["12 articles"]),
        Case("/fr/tag/security", 404, html),
        Case("/fr/tags/", 301),
        // Search (per request).
        Case("/fr/search", 200, html, contains: ["Recherche", "name=\"q\""]),
        Case("/en/search?q=certificates", 200, html, contains: ["<mark>", "Results for"]),
        Case("/fr/search?q=%FF", 400, html, contains: ["illisible"]),
        // Feeds, sitemap, robots.
        Case(
            "/fr/feed.xml", 200, "application/atom+xml; charset=utf-8",
            contains: ["<feed xmlns=\"http://www.w3.org/2005/Atom\""]),
        Case("/en/feed.xml", 200, "application/atom+xml; charset=utf-8", contains: ["Article 12 in English"]),
        Case("/sitemap.xml", 200, "application/xml; charset=utf-8", contains: ["<urlset"]),
        Case("/robots.txt", 200, "text/plain; charset=utf-8", contains: ["Sitemap: https://blog.example/sitemap.xml"]),
        // Files.
        Case("/static/images/articles/cover.svg", 200, "image/svg+xml", contains: ["<svg"]),
        Case("/static/images/articles/missing.svg", 404, html),
        Case("/static/images/articles/../../../etc/passwd", 400),
        Case("/static/css/site.css", 200, "text/css; charset=utf-8", contains: ["prefers-color-scheme"]),
        Case("/static/nope.css", 404, html),
        // Elsewhere.
        Case("/healthz", 200),
        Case("/fr/nope", 404, html, contains: ["<html lang=\"fr\">", "Page introuvable"]),
        Case("/en/nope", 404, html, contains: ["<html lang=\"en\">", "Page not found"]),
        Case("/nope", 404, html, contains: ["<html lang=\"fr\">"]),
        Case("/nope", 404, html, contains: ["<html lang=\"en\">"], headers: [("Accept-Language", "en-US,en;q=0.9")]),
        Case("/de/", 404, html),
    ]

    @Test(arguments: cases)
    func answersEveryPageType(_ c: Case) {
        let response = PagesFixture.get(PagesFixture.shared, c.path, c.headers)
        #expect(response.status.code == c.status)
        if let contentType = c.contentType {
            #expect(StaticFixture.header(response, "Content-Type") == contentType)
        }
        let body = StaticFixture.text(response)
        for text in c.contains { #expect(body.contains(text), "\(c.path) should contain \(text)") }
        for text in c.excludes { #expect(!body.contains(text), "\(c.path) should not contain \(text)") }
    }

    static let redirects: [(path: String, location: String)] = [
        ("/fr", "/fr/"), ("/en", "/en/"), ("/fr/page/1", "/fr/"), ("/fr/tags/", "/fr/tags"),
        ("/en/article/article-2-en/", "/en/article/article-2-en"),
        ("/fr//tags", "/fr/tags"),
    ]

    @Test func escapedUnreservedCharactersAreServedInPlace() {
        // RFC 3986 §6.2.2.2: `%61` is `a`; decoded before routing, as nginx does, not redirected.
        let escaped = PagesFixture.get(PagesFixture.shared, "/fr/article/%61rticle-2-fr")
        let plain = PagesFixture.get(PagesFixture.shared, "/fr/article/article-2-fr")
        #expect(escaped.status.code == 200)
        #expect(StaticFixture.text(escaped) == StaticFixture.text(plain))
        // Reserved characters stay escaped: `%2F` is not a slash.
        #expect(PagesFixture.get(PagesFixture.shared, "/fr%2Farticle/article-2-fr").status.code == 404)
    }

    @Test(arguments: redirects.indices)
    func nonCanonicalPathsRedirectToTheCanonicalOne(_ index: Int) {
        let (path, location) = Self.redirects[index]
        let response = PagesFixture.get(PagesFixture.shared, path)
        #expect(response.status.code == 301)
        #expect(StaticFixture.header(response, "Location") == location)
    }

    static let rootCases: [(acceptLanguage: String?, location: String)] = [
        (nil, "/fr/"), ("en", "/en/"), ("en-GB,en;q=0.9,fr;q=0.8", "/en/"), ("fr-CH", "/fr/"), ("de", "/fr/"),
        ("de, en;q=0.3", "/en/"), ("*", "/fr/"), ("fr;q=0, en;q=0.1", "/en/"),
    ]

    @Test(arguments: rootCases.indices)
    func rootRedirectsToTheVisitorsLanguage(_ index: Int) {
        let (acceptLanguage, location) = Self.rootCases[index]
        let response = PagesFixture.get(
            PagesFixture.shared, "/", acceptLanguage.map { [("Accept-Language", $0)] } ?? [])
        #expect(response.status.code == 302)
        #expect(StaticFixture.header(response, "Location") == location)
        #expect(StaticFixture.header(response, "Vary") == "Accept-Language")
    }

    @Test func articleLinksEveryTranslationBothWays() {
        let french = StaticFixture.text(PagesFixture.get(PagesFixture.shared, "/fr/article/article-5-fr"))
        let english = StaticFixture.text(PagesFixture.get(PagesFixture.shared, "/en/article/article-5-en"))
        for page in [french, english] {
            #expect(
                page.contains(
                    "<link rel=\"alternate\" hreflang=\"fr\" href=\"https://blog.example/fr/article/article-5-fr\">"))
            #expect(
                page.contains(
                    "<link rel=\"alternate\" hreflang=\"en\" href=\"https://blog.example/en/article/article-5-en\">"))
            #expect(
                page.contains(
                    "<link rel=\"alternate\" hreflang=\"x-default\" href=\"https://blog.example/fr/article/article-5-fr\">"
                ))
        }
        #expect(french.contains("<link rel=\"canonical\" href=\"https://blog.example/fr/article/article-5-fr\">"))
        // The switcher goes to the translation (a different slug), not to the same path under /en/.
        #expect(
            french.contains(
                "<a href=\"/en/article/article-5-en\" hreflang=\"en\" lang=\"en\" rel=\"alternate\">English</a>"))
        #expect(
            english.contains(
                "<a href=\"/fr/article/article-5-fr\" hreflang=\"fr\" lang=\"fr\" rel=\"alternate\">Français</a>"))
        #expect(!french.contains("/en/article/article-5-fr"))
    }

    @Test func listAndTagPagesSwitchToTheOtherLanguagesEquivalent() {
        let tag = StaticFixture.text(PagesFixture.get(PagesFixture.shared, "/fr/tag/securite"))
        #expect(tag.contains("<a href=\"/en/tag/security\" hreflang=\"en\""))
        let tags = StaticFixture.text(PagesFixture.get(PagesFixture.shared, "/en/tags"))
        #expect(tags.contains("<a href=\"/fr/tags\" hreflang=\"fr\""))
        let list = StaticFixture.text(PagesFixture.get(PagesFixture.shared, "/en/page/2"))
        #expect(list.contains("<a href=\"/fr/\" hreflang=\"fr\""))
    }

    @Test func everyPageCarriesTheSecurityHeaders() {
        for path in ["/fr/", "/en/article/article-1-en", "/fr/search?q=x", "/fr/nope", "/sitemap.xml"] {
            let response = PagesFixture.get(PagesFixture.shared, path)
            #expect(
                StaticFixture.header(response, "Content-Security-Policy")
                    == "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; "
                    + "frame-ancestors 'none'; form-action 'self'", "\(path)")
            #expect(StaticFixture.header(response, "X-Content-Type-Options") == "nosniff", "\(path)")
            #expect(StaticFixture.header(response, "Referrer-Policy") == "strict-origin-when-cross-origin", "\(path)")
        }
        #expect(StaticFixture.header(PagesFixture.get(PagesFixture.shared, "/en/tags"), "Content-Language") == "en")
    }

    @Test func pagesHaveNoInlineScriptOrStyle() {
        for path in ["/fr/", "/fr/article/article-2-fr", "/en/tags", "/en/search?q=tls", "/fr/nope"] {
            let body = StaticFixture.text(PagesFixture.get(PagesFixture.shared, path))
            #expect(!body.contains("<script"), "\(path)")
            #expect(!body.contains("style="), "\(path)")
            #expect(!body.contains("<style"), "\(path)")
            #expect(body.contains("<link rel=\"stylesheet\" href=\"/static/css/site.css?v="), "\(path)")
        }
    }

    @Test func articleWithoutTranslationHasNoAlternatesAndSwitchesToTheHomePage() throws {
        try PagesFixture.withSite(PagesFixture.content(frenchOnlyLast: true)) { site in
            let page = StaticFixture.text(PagesFixture.get(site, "/fr/article/article-12-fr"))
            #expect(!page.contains("Aussi disponible en"))
            #expect(!page.contains("hreflang=\"x-default\""))
            #expect(page.contains("<a href=\"/en/\" hreflang=\"en\""))
            #expect(PagesFixture.get(site, "/en/article/article-12-en").status.code == 404)
        }
    }

    @Test func searchPagesAreDynamicButNeverFail() {
        let queries = [
            "q=%22unclosed", "q=NEAR(a+b)", "q=*", "q=a+OR+b+AND+NOT+c", "q=title%3Ax", "q=%00", "q=%C3%28",
            "q=" + String(repeating: "x", count: 10_000), "q=" + String(repeating: "%E2%82%AC", count: 300), "q=%",
            "q=-", "q=%2B%2B", "q=()", "q=%5E", "q=\u{1F600}",
        ]
        for query in queries {
            let response = PagesFixture.get(PagesFixture.shared, "/en/search?" + query)
            #expect([200, 400].contains(response.status.code), "\(query.prefix(40)) → \(response.status.code)")
            #expect(StaticFixture.text(response).contains("name=\"q\""))
        }
        let found = StaticFixture.text(PagesFixture.get(PagesFixture.shared, "/fr/search?q=certificats"))
        #expect(found.contains("value=\"certificats\""))
        #expect(found.contains("<mark>certificats</mark>"))
        let echoed = StaticFixture.text(PagesFixture.get(PagesFixture.shared, "/fr/search?q=%3Cscript%3E"))
        #expect(echoed.contains("value=\"&lt;script&gt;\""))
        #expect(!echoed.contains("<script>"))
    }
}
