public import HTTP
public import Logging
import Synchronization

/// The whole site as one `Responder`: `/healthz`, static files, article images and every page.
///
/// ```
/// request path ──▶ /healthz ──▶ isHealthy()
///      │
///      ▼ generation = current (one lock, one reference)
/// /static/images/articles/… ─▶ the package's images    /static/… ─▶ StaticFiles
///      │
///      ▼
/// generation.routes[path]  ──hit──▶ CachedPage: gzip? 304? → a prebuilt Response   (nothing rendered)
///      │ miss
///      ▼
/// /                          ─▶ 302 to /{best language}/ (Accept-Language)
/// /{lang}/search?q=          ─▶ rendered per request
/// /{lang}/…/  or %-encoded   ─▶ 301 to the canonical path when it exists
/// anything else              ─▶ 404 page of the path's language (else of Accept-Language's)
/// ```
/// Without a data package every page answers the localised 503 "content not available yet"; health and
/// static files still work. Content and templates are reloaded by `reloadIfChanged()`/`reload(force:)`
/// (SiteService+Reload.swift): a new generation is built completely, then swapped in under the lock; a
/// request keeps the generation it took for its whole response.
///
/// Shared by every loop thread: every stored property is immutable or behind its `Mutex`.
public final class SiteService: Responder {
    /// The configuration it was made with.
    public let configuration: SiteConfiguration
    let staticFiles: StaticFiles?
    let isHealthy: @Sendable () -> Bool
    let logger: Logger
    /// Opens a data package (a `ContentStore` outside tests).
    let loadContent: @Sendable (SiteConfiguration) throws(ContentError) -> any ContentSource
    /// The generation served. Held only to copy the reference out (requests) or to swap it (reloads).
    let current: Mutex<Generation>
    /// Serialises reloads (the periodic check and SIGHUP may race); held for the length of a load, never by a
    /// request.
    let reloadState = Mutex(ReloadState())
    /// `/` → `/{lang}/` per language: 302 with `Vary: Accept-Language`.
    private let rootRedirects: [String: Response]

    private static let healthPath: [UInt8] = Array("/healthz".utf8)
    private static let faviconPath: [UInt8] = Array("/favicon.ico".utf8)
    private static let imagesPrefix: [UInt8] = Array(SitePaths.imagesPrefix.utf8)
    private static let staticPrefix: [UInt8] = Array(SitePaths.staticPrefix.utf8)

    /// Loads the data package at `configuration.dataPath` and the templates, and renders every page. Never
    /// fails: a missing or broken package, or broken templates, are logged once and the pages answer 503 until
    /// a reload succeeds. Takes as long as the first load (typically tens of milliseconds).
    ///
    /// - Parameters:
    ///   - staticFiles: serves `/static/…` (also the stylesheet whose hash versions its URL in the pages).
    ///   - isHealthy: answers `/healthz`.
    public convenience init(
        configuration: SiteConfiguration, staticFiles: StaticFiles?, isHealthy: @escaping @Sendable () -> Bool,
        logger: Logger
    ) {
        self.init(
            configuration: configuration, staticFiles: staticFiles, isHealthy: isHealthy, logger: logger,
            loadContent: { (configuration) throws(ContentError) -> any ContentSource in
                try ContentStore(dataPath: configuration.dataPath, databaseName: configuration.databaseName)
            })
    }

    /// Like the public init, with the way content is opened injected (tests).
    init(
        configuration: SiteConfiguration, staticFiles: StaticFiles?, isHealthy: @escaping @Sendable () -> Bool,
        logger: Logger, loadContent: @escaping @Sendable (SiteConfiguration) throws(ContentError) -> any ContentSource
    ) {
        self.configuration = configuration
        self.staticFiles = staticFiles
        self.isHealthy = isHealthy
        self.logger = logger
        self.loadContent = loadContent
        var redirects: [String: Response] = [:]
        for lang in configuration.languages {
            let lines = "Location: \(SitePaths.home(lang))\r\nVary: Accept-Language\r\nCache-Control: no-cache\r\n"
            redirects[lang] = Response(status: .found, cachedHeaders: .init(Array(lines.utf8)))
        }
        self.rootRedirects = redirects
        let inputs = Generation.Inputs(
            number: 1, configuration: configuration, staticRoot: staticFiles?.root, now: FileSystem.wallClockSeconds(),
            previous: nil)
        let paths = SourceStamp.paths(
            for: configuration, templateFiles: [],
            stylesheetPath: staticFiles.map {
                $0.root + "/" + SitePaths.stylesheet.dropFirst(SitePaths.staticPrefix.count)
            })
        let first: Generation
        switch Self.loadStable(inputs, paths: paths, loadContent: loadContent) {
        case .success(let generation):
            first = generation
            logger.info(
                "content loaded",
                metadata: ["generation": "1", "data": "\(configuration.dataPath)", "pages": "\(generation.summary)"])
        case .failure(let failure):
            first = Generation.withoutContent(inputs: inputs)
            logger.error(
                "content not available, pages answer 503 until a reload succeeds: \(failure.error.reason)",
                metadata: ["data": "\(configuration.dataPath)"])
        }
        self.current = Mutex(first)
    }

    /// The generation now served (tests, metrics).
    var generation: Generation { current.withLock { $0 } }

    /// The number of the generation now served: 1 after start-up, +1 per successful reload.
    public var generationNumber: Int { generation.number }

    // MARK: - Responding

    public func respond(to request: Request, context: RequestContext) -> Response {
        let path = request.head[request.pathRange]
        if path.elementsEqual(Self.healthPath) {
            var response: Response =
                isHealthy()
                ? .text(.ok, "ok\n", headers: [("Cache-Control", "no-store")])
                : .text(
                    .serviceUnavailable, "an event loop is not responding\n", headers: [("Cache-Control", "no-store")])
            response.route = .health
            return response
        }
        // Files first: no page lives under /static/, so a file request skips the route table. A file served
        // from the assets needs no generation: not taking it spares the two cores a shared reference count.
        if path.starts(with: Self.staticPrefix) {
            var response = staticFile(request, path: path, context: context)
            response.route = .staticFile
            return response
        }
        // Browsers ask for it on documents that name no icon (the Atom feeds, images opened alone).
        if path.elementsEqual(Self.faviconPath), let staticFiles {
            var response = file(
                staticFiles.serve(relativePath: SitePaths.faviconICO, for: request, context: context), request,
                context)
            response.route = .staticFile
            return response
        }
        let generation = current.withLock { $0 }
        if let route = generation.routes[PathKey(path)] {
            return route.response(to: request, now: context.now)
        }
        // RFC 3986 §6.2.2.2: `/%65n/` is `/en/`. Decoded before routing, as nginx does, and served in place.
        if let decoded = PercentEncoding.decodeUnreserved(path) {
            if let route = generation.routes[PathKey(decoded[...])] {
                return route.response(to: request, now: context.now)
            }
            return respondUncached(request, path: decoded[...], generation: generation, context: context)
        }
        return respondUncached(request, path: path, generation: generation, context: context)
    }

    /// `/static/images/articles/…` from the package, the rest of `/static/…` from `STATIC_ASSETS_PATH`.
    private func staticFile(_ request: Request, path: ArraySlice<UInt8>, context: RequestContext) -> Response {
        if path.starts(with: Self.imagesPrefix) {
            let generation = self.generation
            guard let images = generation.images else { return notFound(request, generation, lang: nil, context) }
            return file(images.serve(request, context: context), request, context)
        }
        guard let staticFiles else { return notFound(request, generation, lang: nil, context) }
        return file(staticFiles.serve(request, context: context), request, context)
    }

    /// Everything not in the route table: `/`, search, redirects to canonical paths, 404.
    private func respondUncached(
        _ request: Request, path: ArraySlice<UInt8>, generation: Generation, context: RequestContext
    ) -> Response {
        if path.count == 1 {
            let best = LanguageNegotiation.best(request.header("accept-language"), available: configuration.languages)
            return rootRedirects[best] ?? rootRedirects[configuration.defaultLanguage]!  // every language has one
        }
        let segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let lang = segments.first.flatMap { first in configuration.languages.first { $0.utf8.elementsEqual(first) } }
        guard let lang else { return notFound(request, generation, lang: nil, context) }
        if segments.count == 2, segments[1].elementsEqual("search".utf8) {
            return search(request, lang: lang, generation: generation, now: context.now)
        }
        guard generation.hasContent else {
            return generation.unavailable[lang]!.response(to: request, now: context.now)  // built for every language
        }
        if let canonical = canonicalPath(path), canonical != Array(path),
            generation.routes[PathKey(canonical[...])] != nil
        {
            return Response(
                status: .movedPermanently,
                headers: [
                    ("Location", String(decoding: canonical, as: UTF8.self)), ("Cache-Control", "public, max-age=3600"),
                ])
        }
        return notFound(request, generation, lang: lang, context)
    }

    /// The same path with `%XX` escapes decoded and re-encoded the way the site writes its links, and trailing
    /// slashes removed (but the list's `/{lang}/`); nil when the escapes are malformed or decode to `/`.
    private func canonicalPath(_ path: ArraySlice<UInt8>) -> [UInt8]? {
        var segments: [String] = []
        for raw in path.split(separator: UInt8(ascii: "/")) {
            let decoded = PercentEncoding.decode(raw, plusAsSpace: false)
            guard !decoded.contains(UInt8(ascii: "/")), let text = String(validating: decoded, as: UTF8.self) else {
                return nil
            }
            segments.append(PercentEncoding.encodeSegment(text))
        }
        guard !segments.isEmpty else { return nil }
        let joined = "/" + segments.joined(separator: "/")
        return Array((segments.count == 1 ? joined + "/" : joined).utf8)
    }

    private func search(_ request: Request, lang: String, generation: Generation, now: Int64) -> Response {
        guard generation.hasContent, let renderer = generation.renderer, var response = generation.searchResponses[lang]
        else {
            return generation.unavailable[lang]!.response(to: request, now: now)  // built for every language
        }
        let (status, body) = renderer.searchPage(lang, SearchInput(query: request.queryRange.map { request.head[$0] }))
        response.status = status
        response.body = .bytes(.init(body))
        response.route = .search
        return response
    }

    /// The static-file answer, with the site's own 404 and 500 pages (of the generation served now) in place of
    /// the plain-text ones.
    private func file(_ result: Result<Response, StaticFileError>?, _ request: Request, _ context: RequestContext)
        -> Response
    {
        switch result {
        case nil, .failure(.notFound):
            return notFound(request, generation, lang: nil, context)
        case .success(let response):
            return response
        case .failure(.malformedPath(let error)):
            return StaticFileError.malformedPath(error).response
        case .failure(.unreadable(let call, let errno)):
            logger.error(
                "cannot read a static file",
                metadata: ["path": "\(request.path)", "call": "\(call)", "errno": "\(errno)"])
            let lang = preferredLanguage(request)
            return generation.serverError[lang]!.response(to: request, now: context.now)  // built for every language
        }
    }

    /// The 404 page in `lang`, or in the visitor's language from `Accept-Language`.
    private func notFound(_ request: Request, _ generation: Generation, lang: String?, _ context: RequestContext)
        -> Response
    {
        let lang = lang ?? preferredLanguage(request)
        return generation.notFound[lang]!.response(to: request, now: context.now)  // built for every language
    }

    private func preferredLanguage(_ request: Request) -> String {
        LanguageNegotiation.best(request.header("accept-language"), available: configuration.languages)
    }
}
