import Foundation
import HTTP
import Testing

@testable import Site

/// The Atom feeds and the sitemap, read back: structure by string checks, well-formedness by `xmllint` when
/// it is installed (Debian's libxml2-utils).
@Suite struct PagesFeedTests {
    func body(_ path: String) -> String {
        StaticFixture.text(PagesFixture.get(PagesFixture.shared, path))
    }

    /// The texts between `<tag…>` and `</tag>`, in order.
    func elements(_ tag: String, in xml: String) -> [String] {
        var found: [String] = []
        var rest = Substring(xml)
        while let open = rest.range(of: "<\(tag)>") ?? rest.range(of: "<\(tag) "),
            let close = rest.range(of: "</\(tag)>", range: open.upperBound..<rest.endIndex)
        {
            var start = open.upperBound
            if rest[open].hasSuffix(" "), let end = rest.range(of: ">", range: open.upperBound..<close.lowerBound) {
                start = end.upperBound
            }
            found.append(String(rest[start..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return found
    }

    @Test(arguments: ["fr", "en"])
    func atomFeedHasTheRequiredElements(_ lang: String) throws {
        let xml = body("/\(lang)/feed.xml")
        #expect(
            xml.hasPrefix(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"\(lang)\">"
            ))
        #expect(xml.contains("<id>https://blog.example/\(lang)/</id>"))
        #expect(
            xml.contains(
                "<link rel=\"self\" type=\"application/atom+xml\" href=\"https://blog.example/\(lang)/feed.xml\"/>"))
        let entries = elements("entry", in: xml)
        #expect(entries.count == 12)
        // RFC 4287 §4.1.1: a feed has an author, an id, a title and an updated date (RFC 3339).
        let rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
        let updated = elements("updated", in: xml)
        #expect(updated.count == 13)
        #expect(updated.allSatisfy { $0.wholeMatch(of: rfc3339) != nil }, "\(updated)")
        #expect(updated.first == "2024-03-01T00:00:00Z" || lang == "en")
        for entry in entries {
            #expect(elements("id", in: entry).count == 1)
            #expect(elements("title", in: entry).count == 1)
            #expect(elements("summary", in: entry).count == 1)
            #expect(elements("name", in: entry) == ["Camille Martin"])
            #expect(
                entry.contains(
                    "<link rel=\"alternate\" type=\"text/html\" href=\"https://blog.example/\(lang)/article/"))
        }
        // Newest first, titles escaped.
        #expect(elements("title", in: entries[0]).first?.hasPrefix("Article 12") == true)
        if lang == "fr" {
            #expect(elements("title", in: entries[11]) == ["Les &lt;balises&gt; &amp; &quot;guillemets&quot;"])
        }
        try expectWellFormed(xml)
    }

    @Test func sitemapListsEveryPageWithItsLanguageVersions() throws {
        let xml = body("/sitemap.xml")
        #expect(
            xml.contains(
                "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">"
            ))
        let urls = elements("url", in: xml)
        // 2 homes + 2 tag lists + 24 articles + 4 tag pages.
        #expect(urls.count == 32)
        let locations = urls.flatMap { elements("loc", in: $0) }
        #expect(Set(locations).count == 32)
        #expect(locations.allSatisfy { $0.hasPrefix("https://blog.example/") })
        let article = try #require(
            urls.first { $0.contains("<loc>https://blog.example/en/article/article-7-en</loc>") })
        #expect(article.contains("<lastmod>2024-01-17</lastmod>"))
        #expect(
            article.contains(
                "<xhtml:link rel=\"alternate\" hreflang=\"fr\" href=\"https://blog.example/fr/article/article-7-fr\"/>")
        )
        #expect(
            article.contains(
                "<xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"https://blog.example/en/article/article-7-en\"/>")
        )
        #expect(
            article.contains(
                "<xhtml:link rel=\"alternate\" hreflang=\"x-default\" href=\"https://blog.example/fr/article/article-7-fr\"/>"
            ))
        let tag = try #require(urls.first { $0.contains("<loc>https://blog.example/fr/tag/securite</loc>") })
        #expect(tag.contains("hreflang=\"en\" href=\"https://blog.example/en/tag/security\""))
        try expectWellFormed(xml)
    }

    @Test func robotsPointsAtTheSitemapAndKeepsCrawlersOutOfSearch() {
        let robots = body("/robots.txt")
        #expect(robots.contains("User-agent: *\n"))
        #expect(robots.contains("Disallow: /fr/search\n"))
        #expect(robots.contains("Disallow: /en/search\n"))
        #expect(robots.hasSuffix("Sitemap: https://blog.example/sitemap.xml\n"))
    }

    @Test func xmlEscapingDropsCharactersXMLForbids() {
        #expect(XML.escape("a\u{1}b<&>\"'\tc") == "ab&lt;&amp;&gt;&quot;&apos;\tc")
    }

    @Test func pagesParseAsHTMLWithoutErrors() throws {
        for path in [
            "/fr/", "/en/article/article-2-en", "/fr/tags", "/fr/tag/securite", "/en/search?q=tls", "/fr/nope",
        ] {
            try expectWellFormed(body(path), html: true, path)
        }
    }

    /// Runs `xmllint --noout` (with `--html` for pages) on `text` when xmllint exists; records its complaints.
    func expectWellFormed(_ text: String, html: Bool = false, _ label: String = "") throws {
        let xmllint = "/usr/bin/xmllint"
        guard FileManager.default.isExecutableFile(atPath: xmllint) else { return }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).xml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: xmllint)
        process.arguments = (html ? ["--html"] : []) + ["--noout", path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // libxml2's HTML parser knows HTML 4 only: it names each HTML5 element (main, nav, time…) invalid.
        let complaints = output.split(separator: "\n").filter { line in
            line.contains("parser error") && !(html && line.hasSuffix("invalid") && line.contains("error : Tag "))
        }
        #expect(html || process.terminationStatus == 0, "\(label) \(output)")
        #expect(complaints.isEmpty, "\(label) \(output)")
    }
}
