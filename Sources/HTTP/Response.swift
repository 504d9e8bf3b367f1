public import Reactor

/// An HTTP status code and its reason phrase.
public struct Status: Sendable, Hashable {
    /// The three-digit code.
    public let code: Int
    /// The reason phrase sent on the status line.
    public let reason: String

    /// Makes a status.
    public init(_ code: Int, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public static let ok = Status(200, "OK")
    public static let partialContent = Status(206, "Partial Content")
    public static let movedPermanently = Status(301, "Moved Permanently")
    public static let found = Status(302, "Found")
    public static let seeOther = Status(303, "See Other")
    public static let notModified = Status(304, "Not Modified")
    public static let temporaryRedirect = Status(307, "Temporary Redirect")
    public static let permanentRedirect = Status(308, "Permanent Redirect")
    public static let badRequest = Status(400, "Bad Request")
    public static let forbidden = Status(403, "Forbidden")
    public static let notFound = Status(404, "Not Found")
    public static let methodNotAllowed = Status(405, "Method Not Allowed")
    public static let requestTimeout = Status(408, "Request Timeout")
    public static let lengthRequired = Status(411, "Length Required")
    public static let contentTooLarge = Status(413, "Content Too Large")
    public static let uriTooLong = Status(414, "URI Too Long")
    public static let rangeNotSatisfiable = Status(416, "Range Not Satisfiable")
    public static let headerFieldsTooLarge = Status(431, "Request Header Fields Too Large")
    public static let internalServerError = Status(500, "Internal Server Error")
    public static let notImplemented = Status(501, "Not Implemented")
    public static let serviceUnavailable = Status(503, "Service Unavailable")
    public static let httpVersionNotSupported = Status(505, "HTTP Version Not Supported")
}

/// What a response was, for the request counters: the kinds of route a site has. The responder sets it
/// (`Response.route`); anything it does not set counts as `other`.
public enum RouteKind: Int, Sendable, CaseIterable {
    case page, staticFile, search, feed, health, other

    /// The `route` label value.
    public var label: String {
        switch self {
        case .page: "page"
        case .staticFile: "static"
        case .search: "search"
        case .feed: "feed"
        case .health: "health"
        case .other: "other"
        }
    }
}

/// A response to write. The connection adds `Date`, `Server`, `Content-Length` and `Connection`; everything
/// else comes from here.
public struct Response: Sendable {
    /// What follows the head.
    public enum Body: Sendable {
        /// No body (`Content-Length: 0` unless the status forbids a length).
        case empty
        /// A whole shared buffer.
        case bytes(Bytes)
        /// Part of a shared buffer (range requests on cached content).
        case slice(Bytes, Range<Int>)
        /// A range of an open file, sent with `sendfile(2)` over plain TCP.
        case file(FileDescriptor, offset: Int, count: Int)

        /// The number of body bytes.
        public var count: Int {
            switch self {
            case .empty: 0
            case .bytes(let b): b.count
            case .slice(_, let r): r.count
            case .file(_, _, let n): n
            }
        }
    }

    /// The status.
    public var status: Status
    /// Header lines encoded once and shared, `Name: value\r\n` each (e.g. a cached file's `Content-Type`,
    /// `ETag`, `Last-Modified`, `Cache-Control`), written before `headers`.
    public var cachedHeaders: Bytes?
    /// Further header fields, in order.
    public var headers: [(name: String, value: String)]
    /// The body. For HEAD the connection sends the head only, with the body's length.
    public var body: Body
    /// Set to close the connection after this response.
    public var closeConnection: Bool
    /// What kind of route answered, for the request counters.
    public var route: RouteKind = .other

    /// Makes a response.
    public init(
        status: Status, cachedHeaders: Bytes? = nil, headers: [(name: String, value: String)] = [],
        body: Body = .empty, closeConnection: Bool = false
    ) {
        self.status = status
        self.cachedHeaders = cachedHeaders
        self.headers = headers
        self.body = body
        self.closeConnection = closeConnection
    }

    /// A short plain-text response, for errors and simple answers.
    public static func text(_ status: Status, _ text: String, headers: [(name: String, value: String)] = [])
        -> Response
    {
        Response(
            status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers,
            body: .bytes(Bytes(text)))
    }
}

/// What the server knows about a request beyond its bytes.
public struct RequestContext: Sendable {
    /// The TCP peer.
    public let peer: SocketAddress
    /// The client address: the peer, or the first untrusted hop of `X-Forwarded-For` when the peer is a
    /// trusted proxy.
    public let clientAddress: String
    /// `https` or `http`, as the client used it (from `X-Forwarded-Proto` behind a trusted proxy).
    public let scheme: String
    /// The host the client asked for (from `X-Forwarded-Host` behind a trusted proxy, else `Host`).
    public let host: String?
    /// Wall-clock seconds since the epoch when the request was parsed.
    public let now: Int64
    /// `clientAddress` as an address, what per-client limits count against.
    public let clientHost: SocketAddress.Host
    /// The number of the loop answering (`EventLoop.id`), which picks the per-loop caches of the responder.
    public var loop = 0

    /// Makes a context (`clientHost` defaults to the peer's).
    public init(
        peer: SocketAddress, clientAddress: String, scheme: String, host: String?, now: Int64,
        clientHost: SocketAddress.Host? = nil
    ) {
        self.peer = peer
        self.clientHost = clientHost ?? peer.host
        self.clientAddress = clientAddress
        self.scheme = scheme
        self.host = host
        self.now = now
    }
}

/// Answers requests. Shared by every loop, so it must be `Sendable`; called on a loop thread and must not
/// block for long (no network I/O).
public protocol Responder: Sendable {
    /// The response to `request`.
    func respond(to request: Request, context: RequestContext) -> Response
}
