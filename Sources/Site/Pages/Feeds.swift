import HTTP

/// The machine-read resources: Atom feeds (RFC 4287), the sitemap (sitemaps.org 0.9 with `xhtml:link`
/// alternates, as search engines read them) and robots.txt (RFC 9309). Built in code, not templates: their
/// structure is fixed by their specs, and every value goes through `XML.escape`. Every URL is absolute, from
/// `SITE_URL`.
enum Feeds {
    /// `/{lang}/feed.xml`: every article of `lang`, newest first.
    ///
    /// Dates: the package has days (`YYYY-MM-DD`); RFC 4287 §3.3 wants RFC 3339 date-times, so each is
    /// midnight UTC. The feed's `updated` is the latest entry's, or the Unix epoch with no entry, so that an
    /// unchanged package gives an unchanged feed (and ETag).
    static func atom(_ renderer: PageRenderer, lang: String, articles: [Article]) -> [UInt8] {
        let base = renderer.configuration.siteURL
        let site = renderer.content?.site
        let author = site?.authorName ?? ""
        let updated = articles.map(\.updated).max() ?? "1970-01-01"
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="\(XML.escape(lang))">
              <title>\(XML.escape(renderer.siteTitle(lang)))</title>
              <subtitle>\(XML.escape(renderer.siteDescription(lang)))</subtitle>
              <link rel="self" type="application/atom+xml" href="\(XML.escape(base + SitePaths.feed(lang)))"/>
              <link rel="alternate" type="text/html" href="\(XML.escape(base + SitePaths.home(lang)))"/>
              <id>\(XML.escape(base + SitePaths.home(lang)))</id>
              <updated>\(dateTime(updated))</updated>
              <author><name>\(XML.escape(author))</name></author>

            """
        for article in articles {
            let url = base + SitePaths.article(lang, article.slug)
            xml += """
                  <entry>
                    <title>\(XML.escape(article.title))</title>
                    <link rel="alternate" type="text/html" href="\(XML.escape(url))"/>
                    <id>\(XML.escape(url))</id>
                    <published>\(dateTime(article.published))</published>
                    <updated>\(dateTime(article.updated))</updated>
                    <author><name>\(XML.escape(author))</name></author>
                    <summary>\(XML.escape(article.description))</summary>

                """
            for tag in article.tags {
                xml += "    <category term=\"\(XML.escape(tag.slug))\" label=\"\(XML.escape(tag.name))\"/>\n"
            }
            xml += "  </entry>\n"
        }
        xml += "</feed>\n"
        return Array(xml.utf8)
    }

    /// `/sitemap.xml`: each language's home and tags page, every article and every tag page with articles;
    /// each with its language versions as `xhtml:link rel="alternate" hreflang` (itself included, plus
    /// `x-default`), as Google documents for multilingual sites.
    static func sitemap(_ renderer: PageRenderer) -> [UInt8] {
        guard let content = renderer.content else { return [] }
        let base = renderer.configuration.siteURL
        let languages = renderer.languages
        let defaultLanguage = renderer.configuration.defaultLanguage
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">

            """
        func url(_ path: String, lastmod: String?, versions: [(lang: String, path: String)]) {
            xml += "  <url>\n    <loc>\(XML.escape(base + path))</loc>\n"
            if let lastmod { xml += "    <lastmod>\(XML.escape(lastmod))</lastmod>\n" }
            if versions.count > 1 {
                for version in versions {
                    xml +=
                        "    <xhtml:link rel=\"alternate\" hreflang=\"\(XML.escape(version.lang))\" "
                        + "href=\"\(XML.escape(base + version.path))\"/>\n"
                }
                let preferred = versions.first { $0.lang == defaultLanguage } ?? versions[0]
                xml +=
                    "    <xhtml:link rel=\"alternate\" hreflang=\"x-default\" "
                    + "href=\"\(XML.escape(base + preferred.path))\"/>\n"
            }
            xml += "  </url>\n"
        }
        let homes = languages.map { (lang: $0, path: SitePaths.home($0)) }
        let tagLists = languages.map { (lang: $0, path: SitePaths.tags($0)) }
        for lang in languages {
            let newest = content.articles(lang: lang).map(\.updated).max()
            url(SitePaths.home(lang), lastmod: newest, versions: homes)
            url(SitePaths.tags(lang), lastmod: nil, versions: tagLists)
        }
        for lang in languages {
            for article in content.articles(lang: lang) {
                let versions = ([article] + renderer.translations(of: article)).map {
                    (lang: $0.lang, path: SitePaths.article($0.lang, $0.slug))
                }
                url(SitePaths.article(lang, article.slug), lastmod: article.updated, versions: versions)
            }
        }
        for lang in languages {
            for tag in content.tags(lang: lang) where tag.articleCount > 0 {
                let versions = languages.compactMap { other -> (lang: String, path: String)? in
                    guard
                        let same = content.tags(lang: other).first(where: { $0.key == tag.key && $0.articleCount > 0 })
                    else { return nil }
                    return (other, SitePaths.tag(other, same.slug))
                }
                url(SitePaths.tag(lang, tag.slug), lastmod: nil, versions: versions)
            }
        }
        xml += "</urlset>\n"
        return Array(xml.utf8)
    }

    /// `/robots.txt`: everything may be crawled but the search pages (endless, and rendered per request);
    /// the sitemap's absolute URL.
    static func robots(_ renderer: PageRenderer) -> [UInt8] {
        var text = "User-agent: *\n"
        for lang in renderer.languages { text += "Disallow: \(SitePaths.search(lang))\n" }
        text += "Allow: /\n\nSitemap: \(renderer.configuration.siteURL)\(SitePaths.sitemap)\n"
        return Array(text.utf8)
    }

    /// `YYYY-MM-DD` as an RFC 3339 date-time at midnight UTC; other text is passed through escaped (the data
    /// package guarantees the format).
    static func dateTime(_ day: String) -> String {
        day.utf8.count == 10 ? "\(day)T00:00:00Z" : XML.escape(day)
    }
}

/// XML text and attribute escaping.
enum XML {
    /// `text` with `& < > " '` as entities, and characters XML 1.0 forbids (C0 controls but tab, LF, CR)
    /// dropped: safe in element content and in quoted attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                // XML 1.0 §2.2: no C0 controls, no U+FFFE/U+FFFF.
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
