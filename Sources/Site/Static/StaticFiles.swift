public import HTTP

/// Serves the files under a root directory at a URL prefix, from an in-memory cache.
///
/// ```
/// GET /static/css/site.css ──hit (raw path bytes, no '%')──▶ cached 200/304/206
///         │ miss
///         ▼
/// PathNormalizer ─▶ 400 │ dotfile, directory ─▶ 404 │ canonical key hit ─▶ cached response
///         │ miss
///         ▼
/// realpath(root/rel) under realpath(root)? ─no─▶ 404
/// open + fstat (regular file) ─▶ ≤ memoryFileLimit: read into memory, close │ else keep the fd open
/// build headers once ─▶ insert ─▶ response
/// ```
/// A cached entry is `stat`ed again at most once per `revalidationInterval` seconds of `RequestContext.now`
/// (by whichever thread sees it stale first; the request's clock is the injected clock, so tests move time
/// by passing a later context); a changed real path, inode, size or mtime drops it and the request loads
/// the file afresh.
///
/// Shared by every loop thread. Method checks are the router's: GET and HEAD only reach here, and the
/// connection drops the body for HEAD.
public final class StaticFiles: Sendable {
    /// Cache bounds and timing.
    public struct Options: Sendable {
        /// Files up to this size are held in memory (`writev`); larger ones are sent from an open
        /// descriptor (`sendfile`). 64 KiB: below it one `writev` from memory is cheapest; above it copying the
        /// body into the socket cost more than `sendfile`'s page references (100 KiB from memory took 1.4x
        /// nginx's CPU per request, issue #11).
        public var memoryFileLimit: Int
        /// At most this many files are cached (each larger file holds a descriptor).
        public var maxEntries: Int
        /// At most this many bytes of file content are held in memory in total.
        public var memoryBudget: Int
        /// A cached file is checked against the disk at most once per this many seconds (0: every request).
        /// A wall clock that steps back also triggers a check.
        public var revalidationInterval: Int64
        /// Copies of the cache, one per event loop (`RequestContext.loop` picks one), which share the two bounds
        /// above evenly. A hit then touches only its own loop's lock and entries: with one cache for every loop,
        /// the two cores passed the lock's and each entry's reference counts to and fro (on a 1 KiB file, the
        /// lock and those retains fell from about 1.2 % of the samples to 0.2 %, issue #11).
        public var replicas: Int

        /// Makes options; the defaults suit a site's assets.
        public init(
            memoryFileLimit: Int = 64 * 1024, maxEntries: Int = 4096, memoryBudget: Int = 64 << 20,
            revalidationInterval: Int64 = 1, replicas: Int = 1
        ) {
            self.memoryFileLimit = memoryFileLimit
            self.maxEntries = maxEntries
            self.memoryBudget = memoryBudget
            self.revalidationInterval = revalidationInterval
            self.replicas = max(1, replicas)
        }
    }

    /// The directory served, as configured (e.g. `STATIC_ASSETS_PATH`).
    public let root: String
    /// The URL path prefix, starting and ending with `/`.
    public let urlPrefix: String
    /// The `Cache-Control` value sent with every file (none when empty).
    public let cacheControl: String
    /// The cache bounds and timing.
    public let options: Options

    private let prefixBytes: [UInt8]
    /// `realpath(root)` at start-up; nil if the root did not exist yet (then resolved on each load).
    private let rootRealPath: String?
    /// The caches, one per loop (see `Options.replicas`).
    let caches: [FileCache]

    /// Serves `root` at `urlPrefix`. Traps if `urlPrefix` does not start and end with `/` or `cacheControl`
    /// holds CR or LF: both are constants of the program, not input. A missing root is not an error here:
    /// every file is then 404 until it appears.
    public init(
        root: String, urlPrefix: String = "/static/", cacheControl: String = "public, max-age=3600",
        options: Options = Options()
    ) {
        precondition(
            urlPrefix.hasPrefix("/") && urlPrefix.hasSuffix("/"), "urlPrefix \(urlPrefix) needs / at both ends")
        precondition(!cacheControl.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }), "CR/LF in cacheControl")
        self.root = root
        self.urlPrefix = urlPrefix
        self.cacheControl = cacheControl
        self.options = options
        self.prefixBytes = Array(urlPrefix.utf8)
        self.rootRealPath = FileSystem.realpath(root)
        let replicas = options.replicas
        self.caches = (0..<replicas).map { _ in
            FileCache(maxEntries: options.maxEntries / replicas, memoryBudget: options.memoryBudget / replicas)
        }
    }

    /// nil if the path is not under `urlPrefix`; otherwise the response: 200, 206, 304 or 416 for a file,
    /// or the plain-text 400/404/500 of `StaticFileError.response`.
    public func respond(to request: Request, context: RequestContext) -> Response? {
        switch serve(request, context: context) {
        case nil: nil
        case .success(let response): response
        case .failure(let error): error.response
        }
    }

    /// Like `respond(to:context:)`, but failures come back as errors, so the router can answer 400 and 404
    /// with its own pages (and log 500s).
    public func serve(_ request: Request, context: RequestContext) -> Result<Response, StaticFileError>? {
        let path = request.head[request.pathRange]
        guard path.starts(with: prefixBytes) else { return nil }
        // Hit: the raw bytes are a canonical key only if nothing in them needs decoding. Keys never hold
        // `.`/`..`/empty segments or `\`, so such a path simply misses and is normalised below.
        let cache = cache(for: context)
        if !path.contains(UInt8(ascii: "%")), let file = cache.file(for: PathKey(path)),
            let file = current(file, in: cache, now: context.now)
        {
            return .success(response(from: file, to: request, context: context))
        }

        let normalized: NormalizedPath
        switch PathNormalizer.normalize(path.dropFirst(prefixBytes.count)) {
        case .failure(let error): return .failure(.malformedPath(error))
        case .success(let n): normalized = n
        }
        // No listings, no index files, no dotfiles (.git, .env, .htpasswd).
        guard !normalized.isDirectory, !normalized.segments.contains(where: { $0.hasPrefix(".") }) else {
            return .failure(.notFound)
        }
        return serve(relativePath: normalized.relativePath, for: request, context: context)
    }

    /// The file at `relativePath` under the root (already safe: normalized, or a fixed name such as the icon
    /// served at `/favicon.ico`), answered as `request` asks (conditional, range, HEAD).
    public func serve(relativePath: String, for request: Request, context: RequestContext) -> Result<
        Response, StaticFileError
    > {
        let now = context.now
        let key = prefixBytes + Array(relativePath.utf8)
        let cache = cache(for: context)
        if let file = cache.file(for: PathKey(key[...])), let file = current(file, in: cache, now: now) {
            return .success(response(from: file, to: request, context: context))
        }
        switch load(relativePath: relativePath, key: key, now: now) {
        case .failure(let error):
            return .failure(error)
        case .success(let file):
            cache.insert(file)
            return .success(response(from: file, to: request, context: context))
        }
    }

    /// The entries of every loop's cache and the content bytes they hold in memory (tests, metrics).
    var cacheUsage: (count: Int, memoryBytes: Int) {
        caches.map(\.usage).reduce((0, 0)) { ($0.0 + $1.count, $0.1 + $1.memoryBytes) }
    }

    /// The cache of the loop answering `context`.
    private func cache(for context: RequestContext) -> FileCache {
        caches[context.loop % caches.count]
    }

    // MARK: - Answering from an entry

    private func response(from file: CachedFile, to request: Request, context: RequestContext) -> Response {
        let size = file.validators.size
        switch ConditionalRequest(request).selection(for: file.validators, now: context.now) {
        case .whole:
            return file.whole
        case .notModified:
            return file.notModified
        case .partial(let range):
            var response = file.whole
            response.status = .partialContent
            response.headers = [("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)")]
            response.body = Self.slice(file.whole.body, range)
            return response
        case .unsatisfiable:
            return .text(
                .rangeNotSatisfiable, "416 Range Not Satisfiable\n",
                headers: [("Content-Range", "bytes */\(size)")])
        }
    }

    /// `range` (within the body's length) of `body`, sharing its storage or descriptor.
    private static func slice(_ body: Response.Body, _ range: Range<Int>) -> Response.Body {
        switch body {
        case .empty: .empty
        case .bytes(let bytes): .slice(bytes, range)
        case .slice(let bytes, let whole):
            .slice(bytes, whole.lowerBound + range.lowerBound..<whole.lowerBound + range.upperBound)
        case .file(let fd, let offset, _): .file(fd, offset: offset + range.lowerBound, count: range.count)
        }
    }

    // MARK: - Revalidating and loading

    /// `file` (an entry of `cache`) if it may still be served; nil once it has been found stale and dropped.
    private func current(_ file: CachedFile, in cache: FileCache, now: Int64) -> CachedFile? {
        let checked = file.lastChecked.load(ordering: .relaxed)
        guard now - checked >= options.revalidationInterval || now < checked else { return file }
        // One thread per interval does the stat; the others serve the entry meanwhile.
        guard file.lastChecked.compareExchange(expected: checked, desired: now, ordering: .relaxed).exchanged else {
            return file
        }
        if let root = rootRealPath ?? FileSystem.realpath(root),
            let real = FileSystem.realpath(root + "/" + file.relativePath), real == file.realPath,
            FileSystem.regularFileIdentity(real) == file.identity
        {
            return file
        }
        cache.remove(file)
        return nil
    }

    /// Opens and (for small files) reads `relativePath` below the root, refusing anything whose real path
    /// leaves the root or passes through a dotfile, and builds its cache entry.
    private func load(relativePath: String, key: [UInt8], now: Int64) -> Result<CachedFile, StaticFileError> {
        // Symlinks are followed, but only to targets inside the root: compare resolved paths byte-wise
        // (String comparison would equate canonically equivalent Unicode).
        guard let rootReal = rootRealPath ?? FileSystem.realpath(root),
            let real = FileSystem.realpath(rootReal + "/" + relativePath)
        else { return .failure(.notFound) }
        let rootPrefix = rootReal.hasSuffix("/") ? rootReal : rootReal + "/"
        guard real.utf8.starts(with: rootPrefix.utf8),
            !real.utf8.dropFirst(rootPrefix.utf8.count).split(separator: UInt8(ascii: "/"))
                .contains(where: { $0.first == UInt8(ascii: ".") })
        else { return .failure(.notFound) }

        let fd: Int32
        let identity: FileIdentity
        switch FileSystem.openRegularFile(real) {
        case .failure(let error):
            return .failure(error.meansNotFound ? .notFound : .unreadable(call: error.call, errno: error.errno))
        case .success(let opened):
            (fd, identity) = opened
        }

        let body: Response.Body
        let memoryCost: Int
        var size = identity.size
        if identity.size <= options.memoryFileLimit && identity.size <= options.memoryBudget {
            let read = FileSystem.readAll(fd, count: identity.size)
            FileSystem.close(fd)
            switch read {
            case .failure(let error):
                return .failure(error.meansNotFound ? .notFound : .unreadable(call: error.call, errno: error.errno))
            case .success(let contents):
                // A file that shrank while read is served as read; its new stat makes the next check reload it.
                size = contents.count
                body = .bytes(.init(contents))
                memoryCost = contents.count
            }
        } else {
            // The descriptor now belongs to the body; it closes when the entry and every response using it
            // are gone.
            body = .file(.init(owning: fd), offset: 0, count: size)
            memoryCost = 0
        }

        let validators = Validators(modified: identity.modifiedSeconds, size: size)
        let etag = String(decoding: validators.etag, as: UTF8.self)
        let lastModified = HTTPDate.format(identity.modifiedSeconds)
        let cacheControlLine = cacheControl.isEmpty ? "" : "Cache-Control: \(cacheControl)\r\n"
        let validatorLines = "ETag: \(etag)\r\nLast-Modified: \(lastModified)\r\n" + cacheControlLine
        let wholeLines =
            "Content-Type: \(MIMETypes.contentType(forPath: relativePath))\r\n" + validatorLines
            + "Accept-Ranges: bytes\r\nX-Content-Type-Options: nosniff\r\n"
        // `Bytes` is named through `Response`'s properties (`.init`): Site does not import Reactor.
        let whole = Response(status: .ok, cachedHeaders: .init(Array(wholeLines.utf8)), body: body)
        let notModified = Response(status: .notModified, cachedHeaders: .init(Array(validatorLines.utf8)))
        return .success(
            CachedFile(
                key: key, relativePath: relativePath, realPath: real, identity: identity,
                validators: validators, whole: whole, notModified: notModified, memoryCost: memoryCost,
                loadedAt: now))
    }
}
