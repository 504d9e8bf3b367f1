import HTTP

/// One version of the whole site: a content source, its parsed templates, and every page rendered, compressed
/// and wrapped in ready responses. Immutable once built; `SiteService` swaps whole generations, so a request
/// that took one sees nothing of another.
///
/// ```
/// routes   "/fr/"  "/fr/page/2"  "/fr/article/…"  "/fr/tags"  "/fr/tag/…"  "/fr/feed.xml"  "/sitemap.xml"
///          "/robots.txt"  → .page(CachedPage)        "/fr"  "/fr/page/1" → .redirect(301)
/// notFound, serverError, unavailable    one CachedPage per language (404, 500, 503)
/// renderer                              for the search page, rendered per request
/// images                                /static/images/articles/ from the package
/// ```
final class Generation: Sendable {
    /// 1 for the first load, then +1 per swap.
    let number: Int
    /// Wall-clock seconds when it was built.
    let loadedAt: Int64
    /// The sources' stat when it was built: `reloadIfChanged` compares the disk to it.
    let stamp: SourceStamp
    /// The template files read (part of the stamp).
    let templateFiles: [String]
    /// The pre-rendered resources and redirects by raw request path.
    let routes: [PathKey: Route]
    /// Renders search pages; nil when the templates could not be loaded.
    let renderer: PageRenderer?
    /// Whether a data package is loaded; without one every page answers `unavailable`.
    let hasContent: Bool
    /// The package's images, nil without content.
    let images: StaticFiles?
    let notFound: [String: CachedPage]
    let serverError: [String: CachedPage]
    let unavailable: [String: CachedPage]
    /// The head of a search response per language (`Content-Type`, no-cache, security headers).
    let searchResponses: [String: Response]
    /// For the log line: what it holds.
    let summary: String

    /// What a pre-rendered path answers. Both payloads are references: a lookup copies one pointer.
    enum Route: Sendable {
        case page(CachedPage)
        case redirect(CachedRedirect)

        /// The response to `request` at `now`.
        func response(to request: borrowing Request, now: Int64) -> Response {
            switch self {
            case .page(let page): page.response(to: request, now: now)
            case .redirect(let redirect): redirect.response
            }
        }
    }

    /// A redirect answered from the route table.
    final class CachedRedirect: Sendable {
        let response: Response

        init(_ response: Response) { self.response = response }
    }

    /// Why a generation could not be built: one line naming the file and the problem.
    struct LoadError: Error, Sendable, CustomStringConvertible {
        let reason: String
        /// The template files the failed load read (for a template error): a reload watches them too.
        var templateFiles: [String] = []
        var description: String { reason }
    }

    private init(
        number: Int, loadedAt: Int64, stamp: SourceStamp, templateFiles: [String], routes: [PathKey: Route],
        renderer: PageRenderer?, hasContent: Bool, images: StaticFiles?, errorPages: ErrorPages,
        searchResponses: [String: Response], summary: String
    ) {
        self.number = number
        self.loadedAt = loadedAt
        self.stamp = stamp
        self.templateFiles = templateFiles
        self.routes = routes
        self.renderer = renderer
        self.hasContent = hasContent
        self.images = images
        self.notFound = errorPages.notFound
        self.serverError = errorPages.serverError
        self.unavailable = errorPages.unavailable
        self.searchResponses = searchResponses
        self.summary = summary
    }

    // MARK: - Building

    /// Everything a build needs besides the content.
    struct Inputs: Sendable {
        let number: Int
        let configuration: SiteConfiguration
        /// The static files root (`STATIC_ASSETS_PATH`), to version the stylesheet's URL.
        let staticRoot: String?
        let now: Int64
        /// The generation being replaced: unchanged pages keep their `Last-Modified`.
        let previous: Generation?
    }

    /// A full generation: `content`, the templates parsed, every page rendered. Throws on a template error.
    static func build(content: any ContentSource, inputs: Inputs) throws(LoadError) -> Generation {
        let configuration = inputs.configuration
        let templates = try loadTemplates(configuration)
        let (stylesheet, stylesheetPath) = stylesheetURL(inputs.staticRoot)
        let renderer = PageRenderer(
            content: content, templates: templates, configuration: configuration, stylesheet: stylesheet)
        var routes: [PathKey: Route] = [:]
        let rendered = renderer.renderAll()
        for page in rendered {
            let key = PathKey(Array(page.path.utf8)[...])
            var lastModified = inputs.now
            // Unchanged bytes keep their date: If-Modified-Since stays useful across reloads.
            if case .page(let old)? = inputs.previous?.routes[key], old.etag == "\"\(CachedPage.hash(page.body))\"" {
                lastModified = old.identity.validators.lastModified
            }
            routes[key] = .page(
                CachedPage(
                    body: page.body, contentType: page.kind.contentType, language: page.lang,
                    lastModified: lastModified, cacheControl: configuration.cacheControl,
                    route: page.kind == .atom ? .feed : .page))
        }
        addRedirects(&routes, configuration)
        let stamp = SourceStamp(
            paths: SourceStamp.paths(for: configuration, templateFiles: templates.files, stylesheetPath: stylesheetPath)
        )
        let articleCount = configuration.languages.map { content.articles(lang: $0).count }.reduce(0, +)
        return Generation(
            number: inputs.number, loadedAt: inputs.now, stamp: stamp, templateFiles: templates.files, routes: routes,
            renderer: renderer, hasContent: true,
            images: StaticFiles(
                root: content.imagesDirectory, urlPrefix: SitePaths.imagesPrefix,
                options: .init(replicas: configuration.loops)),
            errorPages: ErrorPages(renderer: renderer, configuration: configuration, now: inputs.now),
            searchResponses: searchResponses(configuration),
            summary: "\(articleCount) articles, \(rendered.count) pages")
    }

    /// A generation without content: every page answers 503 "content not available yet" (from the templates
    /// when they load, else a built-in page), `/healthz` and static files still work.
    static func withoutContent(inputs: Inputs) -> Generation {
        let configuration = inputs.configuration
        let templates: TemplateLibrary?
        var templateFiles: [String]
        do {
            templates = try loadTemplates(configuration)
            templateFiles = templates?.files ?? []
        } catch {
            templates = nil
            templateFiles = error.templateFiles
        }
        let (stylesheet, stylesheetPath) = stylesheetURL(inputs.staticRoot)
        let renderer = templates.map {
            PageRenderer(content: nil, templates: $0, configuration: configuration, stylesheet: stylesheet)
        }
        var routes: [PathKey: Route] = [:]
        addRedirects(&routes, configuration)
        let stamp = SourceStamp(
            paths: SourceStamp.paths(for: configuration, templateFiles: templateFiles, stylesheetPath: stylesheetPath))
        return Generation(
            number: inputs.number, loadedAt: inputs.now, stamp: stamp, templateFiles: templateFiles,
            routes: routes, renderer: renderer, hasContent: false, images: nil,
            errorPages: ErrorPages(renderer: renderer, configuration: configuration, now: inputs.now),
            searchResponses: searchResponses(configuration), summary: "no content")
    }

    private static func loadTemplates(_ configuration: SiteConfiguration) throws(LoadError) -> TemplateLibrary {
        do {
            return try TemplateLibrary(
                directory: configuration.templatesPath, names: PageTemplate.allCases.map(\.rawValue))
        } catch {
            throw LoadError(reason: error.description, templateFiles: error.filesRead)
        }
    }

    /// `/{lang}` and `/{lang}/page/1` → `/{lang}/` (301: the list's one canonical URL).
    private static func addRedirects(_ routes: inout [PathKey: Route], _ configuration: SiteConfiguration) {
        for lang in configuration.languages {
            let lines = "Location: \(SitePaths.home(lang))\r\nCache-Control: public, max-age=3600\r\n"
            let response = Response(status: .movedPermanently, cachedHeaders: .init(Array(lines.utf8)))
            let redirect = Route.redirect(CachedRedirect(response))
            routes[PathKey(Array("/\(lang)".utf8)[...])] = redirect
            routes[PathKey(Array("/\(lang)/page/1".utf8)[...])] = redirect
        }
    }

    private static func searchResponses(_ configuration: SiteConfiguration) -> [String: Response] {
        var responses: [String: Response] = [:]
        for lang in configuration.languages {
            let lines =
                "Content-Type: text/html; charset=utf-8\r\nContent-Language: \(lang)\r\nCache-Control: no-cache\r\n"
                + CachedPage.securityHeaderLines
            responses[lang] = Response(status: .ok, cachedHeaders: .init(Array(lines.utf8)))
        }
        return responses
    }

    /// The stylesheet's URL with `?v=` and the first 8 hex digits of its hash, and its path (stamped); the
    /// bare URL when the file cannot be read.
    private static func stylesheetURL(_ staticRoot: String?) -> (url: String, path: String?) {
        guard let staticRoot else { return (SitePaths.stylesheet, nil) }
        let path = staticRoot + "/" + SitePaths.stylesheet.dropFirst(SitePaths.staticPrefix.count)
        guard case .success(let (fd, identity)) = FileSystem.openRegularFile(path) else {
            return (SitePaths.stylesheet, path)
        }
        defer { FileSystem.close(fd) }
        guard identity.size <= 4 << 20, case .success(let bytes) = FileSystem.readAll(fd, count: identity.size) else {
            return (SitePaths.stylesheet, path)
        }
        return (SitePaths.stylesheet + "?v=" + CachedPage.hash(bytes).prefix(8), path)
    }
}

/// The 404, 500 and 503 pages of each language.
private struct ErrorPages {
    var notFound: [String: CachedPage] = [:]
    var serverError: [String: CachedPage] = [:]
    var unavailable: [String: CachedPage] = [:]

    init(renderer: PageRenderer?, configuration: SiteConfiguration, now: Int64) {
        for lang in configuration.languages {
            func page(_ template: PageTemplate, _ status: Status, _ titleKey: String, _ messageKey: String)
                -> CachedPage
            {
                let body =
                    renderer?.errorPage(template, lang: lang)
                    ?? BuiltInPage.html(lang: lang, titleKey: titleKey, messageKey: messageKey)
                return CachedPage(
                    status: status, body: body, contentType: RenderedPage.Kind.html.contentType, language: lang,
                    lastModified: now, cacheControl: "no-cache")
            }
            notFound[lang] = page(.notFound, .notFound, "notFoundTitle", "notFoundMessage")
            serverError[lang] = page(.serverError, .internalServerError, "serverErrorTitle", "serverErrorMessage")
            unavailable[lang] = page(.unavailable, .serviceUnavailable, "unavailableTitle", "unavailableMessage")
        }
    }
}

/// A minimal page for when the templates themselves cannot be loaded: still localised, still valid HTML,
/// no stylesheet needed.
enum BuiltInPage {
    static func html(lang: String, titleKey: String, messageKey: String) -> [UInt8] {
        let t = UIStrings(lang)
        let title = HTML.escape(t[titleKey])
        let message = HTML.escape(t[messageKey])
        let page = """
            <!doctype html>
            <html lang="\(HTML.escape(lang))">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>\(title)</title></head>
            <body><main><h1>\(title)</h1><p>\(message)</p></main></body>
            </html>

            """
        return Array(page.utf8)
    }
}
