/// What `SiteService` needs to know to find, render and serve the site's pages. The App fills it from flags
/// and environment variables (names in parentheses).
public struct SiteConfiguration: Sendable {
    /// The site's languages (`SITE_LANGUAGES`), the first the default: `/` redirects to it when
    /// `Accept-Language` names none of them, and `x-default` alternates point to it.
    public var languages: [String]
    /// The directory of the Mustache templates (`TEMPLATES_PATH`).
    public var templatesPath: String
    /// The website data package directory (`DATA_PATH`).
    public var dataPath: String
    /// The database file inside `dataPath` (`DATABASE_NAME`).
    public var databaseName: String
    /// The public base URL, scheme and host and optional port, without a trailing slash (`SITE_URL`). Used only
    /// where a URL must be absolute: canonical and `hreflang` links, the Atom feeds, the sitemap, robots.txt.
    /// Every other link is relative, so the pages work under any host.
    public var siteURL: String
    /// Articles per list page.
    public var pageSize: Int
    /// `Cache-Control` of the pre-rendered pages, feeds and sitemap. Short: a reload must show within a minute
    /// even through shared caches; revalidation is a cheap 304 thanks to `ETag`.
    public var cacheControl: String
    /// How long to wait before loading again when the package changed while it was being loaded
    /// (milliseconds).
    public var reloadRetryDelayMilliseconds: Int
    /// The event loops that answer (`--threads`): the files of each package get one cache per loop
    /// (`StaticFiles.Options.replicas`).
    public var loops: Int

    /// A configuration; the defaults are the README's. Traps if `languages` is empty or `siteURL` holds CR or
    /// LF: the App validates both before (they are start-up settings, not input).
    public init(
        languages: [String] = ["fr", "en"], templatesPath: String = "web/templates", dataPath: String = "data",
        databaseName: String = "site.db", siteURL: String = "http://localhost:8080", pageSize: Int = 10,
        cacheControl: String = "public, max-age=60", reloadRetryDelayMilliseconds: Int = 250, loops: Int = 1
    ) {
        precondition(!languages.isEmpty, "SiteConfiguration needs at least one language")
        precondition(
            !siteURL.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A })
                && !cacheControl.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }), "CR/LF in a header value")
        self.languages = languages
        self.templatesPath = templatesPath
        self.dataPath = dataPath
        self.databaseName = databaseName
        var base = siteURL
        while base.hasSuffix("/") { base.removeLast() }
        self.siteURL = base
        self.pageSize = max(1, pageSize)
        self.cacheControl = cacheControl
        self.reloadRetryDelayMilliseconds = max(0, reloadRetryDelayMilliseconds)
        self.loops = max(1, loops)
    }

    /// The default language: the first of `languages`.
    public var defaultLanguage: String { languages[0] }
}
