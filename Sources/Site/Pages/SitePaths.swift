/// The site's URL paths, built in one place so that the pages link to exactly the paths the route table holds.
///
/// ```
/// /{lang}/                       article list, page 1 (canonical; /{lang} redirects here)
/// /{lang}/page/{n}               article list, page n ≥ 2 (/{lang}/page/1 redirects to /{lang}/)
/// /{lang}/article/{slug}         an article
/// /{lang}/tags                   every tag of the language
/// /{lang}/tag/{slug}             the articles of one tag
/// /{lang}/search?q=…             search (rendered per request)
/// /{lang}/feed.xml               Atom feed
/// /sitemap.xml  /robots.txt
/// /static/images/articles/{file} article images, from the data package
/// ```
/// Slugs are percent-encoded as path segments (the data package only has `[a-z0-9-]` slugs, so in practice
/// this changes nothing; it keeps a stray character from producing a broken or dangerous link).
enum SitePaths {
    static func home(_ lang: String) -> String { "/\(lang)/" }

    static func listPage(_ lang: String, _ number: Int) -> String {
        number <= 1 ? home(lang) : "/\(lang)/page/\(number)"
    }

    static func article(_ lang: String, _ slug: String) -> String {
        "/\(lang)/article/\(PercentEncoding.encodeSegment(slug))"
    }

    static func tags(_ lang: String) -> String { "/\(lang)/tags" }

    static func tag(_ lang: String, _ slug: String) -> String {
        "/\(lang)/tag/\(PercentEncoding.encodeSegment(slug))"
    }

    static func search(_ lang: String) -> String { "/\(lang)/search" }

    static func search(_ lang: String, query: String) -> String {
        query.isEmpty ? search(lang) : "/\(lang)/search?q=\(PercentEncoding.encodeQueryValue(query))"
    }

    static func feed(_ lang: String) -> String { "/\(lang)/feed.xml" }

    static let sitemap = "/sitemap.xml"
    static let robots = "/robots.txt"
    static let imagesPrefix = "/static/images/articles/"
    static let staticPrefix = "/static/"
    static let stylesheet = "/static/css/site.css"
    static let favicon = "/static/img/favicon.svg"
    /// The same icon as ICO (16, 32 and 48 px PNGs, made by `scripts/make-favicon.sh`), under the static root,
    /// served at `/favicon.ico`.
    static let faviconICO = "img/favicon.ico"

    static func image(_ file: String) -> String { imagesPrefix + PercentEncoding.encodeSegment(file) }
}
