public import Reactor

/// Settings of the HTTP/1.1 engine, shared by every loop.
public struct HTTPServerConfiguration: Sendable {
    /// Milliseconds a client may take to send a complete request head (from its first byte, or from
    /// connecting). Exceeded: 408 and close.
    public var headerTimeout: Int64 = 15_000
    /// Milliseconds an idle keep-alive connection is kept.
    public var keepAliveTimeout: Int64 = 75_000
    /// Milliseconds a response may wait for the client to read it, without progress.
    public var writeTimeout: Int64 = 30_000
    /// Milliseconds a connection with no request under way stays open once the server drains, so a request
    /// already on its way is answered rather than cut (the client may not have seen `Connection: close` yet).
    public var drainGrace: Int64 = 1000
    /// Requests served on one connection before it is closed (bounds per-connection state over time).
    public var maxRequestsPerConnection = 100_000
    /// Parser limits.
    public var limits = RequestParser.Limits()
    /// Peers whose `X-Forwarded-*` headers are believed.
    public var trustedProxies = TrustedProxies.none
    /// The `Server` header value.
    public var serverName = "mywebsite"
    /// Header lines added to every response on an encrypted stream (e.g. `Strict-Transport-Security`).
    public var secureHeaders: [(name: String, value: String)] = []
    /// HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2), the requests one connection may have open.
    public var http2MaxConcurrentStreams = 100
    /// Count requests, bytes, latency and connections (`HTTPMetrics`): on when something reads them (the
    /// metrics listener), never for the metrics listener itself.
    public var countsRequests = true
    /// Requests per client and second (`--rate-limit`); nil: no limit.
    public var rateLimiter: RateLimiter?

    /// Defaults: nginx-like timeouts, RFC 9112 limits as issue #2 sets them.
    public init() {}
}

/// A connection the engine tracks for shutdown, whatever its protocol: a node of its engine's list of open
/// connections, whose links are two words in the connection (a dictionary entry cost about 40 bytes per
/// connection, and an idle keep-alive connection is worth counting in bytes: `bench/run.sh`'s idle scenarios).
/// The subclasses (HTTP/1.1, HTTP/2) override the three members.
class ServedConnection {
    /// The neighbours in `HTTPServer`'s list. The list holds its connections until they close
    /// (`connectionClosed`), through `next`; `previous` does not, so the links make no cycle.
    fileprivate unowned var previous: ServedConnection?
    fileprivate var next: ServedConnection?

    /// Stop taking requests; close once what is in progress is written.
    func drain() {}
    /// Close now.
    func close() {}
    /// True when no request is in progress (a keep-alive connection waiting for the next one).
    var isIdle: Bool { true }
}

/// The HTTP engine of one loop: its connections, its Date cache, its access-log buffer. Loop-confined.
///
/// Calling order: `accept(_:)` for each new stream; `beginShutdown(onDrained:)` once, on SIGTERM.
public final class HTTPServer {
    /// The loop this engine runs on.
    public unowned let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let responder: any Responder
    let parser: RequestParser
    var dateCache = DateCache()
    var accessLog: AccessLogBuffer?
    /// Reused for every response head: no allocation per response once grown.
    var headScratch: [UInt8] = []
    /// The open connections, newest first (see `ServedConnection`), and how many.
    private var newestConnection: ServedConnection?
    public private(set) var connectionCount = 0
    private(set) var isDraining = false
    private var onDrained: (() -> Void)?
    /// Streams their connection is done with that still send their last bytes (TLS: the response's tail, then
    /// close_notify, until the peer closes): draining ends only once they are closed too.
    private var closingStreams = 0
    let secureHeaderBytes: [UInt8]
    /// Responses written since start (metrics, tests).
    public internal(set) var responsesWritten = 0
    /// Counters, when `configuration.countsRequests`.
    let metrics: HTTPMetrics?
    /// The timeouts, one object every connection's `ConnectionState` points to.
    let connectionTimeouts: ConnectionState.Timeouts
    /// The client address formatted last, and its text (see `peerText`).
    private var lastPeer: (host: SocketAddress.Host, text: String)?

    /// Makes the engine for `loop`.
    public init(
        loop: EventLoop, configuration: HTTPServerConfiguration, responder: any Responder,
        accessLog: AccessLog?
    ) {
        self.loop = loop
        self.configuration = configuration
        self.responder = responder
        parser = RequestParser(limits: configuration.limits)
        self.accessLog = accessLog.map(AccessLogBuffer.init)
        headScratch.reserveCapacity(1024)
        secureHeaderBytes = Array(configuration.secureHeaders.map { "\($0.name): \($0.value)\r\n" }.joined().utf8)
        metrics = configuration.countsRequests ? HTTPMetrics(loop: loop.id) : nil
        connectionTimeouts = .init(
            header: configuration.headerTimeout, keepAlive: configuration.keepAliveTimeout,
            write: configuration.writeTimeout)
        if self.accessLog != nil || metrics != nil {
            loop.repeating(everyMilliseconds: 1000) { [weak self] in
                guard let self else { return }
                self.accessLog?.flush()
                self.publishConnectionCounts()
            }
        }
    }

    deinit {
        // Unlinked one by one: releasing the head would free the list recursively, one frame per connection.
        var node = newestConnection
        newestConnection = nil
        while let connection = node {
            node = connection.next
            connection.next = nil
        }
    }

    private func publishConnectionCounts() {
        guard let metrics else { return }
        var idle = 0
        var node = newestConnection
        while let connection = node {
            if connection.isIdle { idle += 1 }
            node = connection.next
        }
        metrics.connections(open: connectionCount, idle: idle)
    }

    /// `peer.ipString`, formatted once for a run of requests from one client (a proxy, a NAT, a browser's
    /// connections) rather than once per request, and kept by the loop rather than by every connection.
    func peerText(_ peer: SocketAddress) -> String {
        if let last = lastPeer, last.host == peer.host { return last.text }
        let text = peer.ipString
        lastPeer = (peer.host, text)
        return text
    }

    /// Counts a response as it is queued.
    func didQueue(_ response: Response, _ wire: HTTPMetrics.WireProtocol, bodyBytes: Int) {
        responsesWritten += 1
        metrics?.responded(wire, route: response.route, status: response.status.code, bodyBytes: bodyBytes)
    }

    private func track(_ connection: ServedConnection) {
        connection.next = newestConnection
        newestConnection?.previous = connection
        newestConnection = connection
        connectionCount += 1
    }

    /// The open connections, as an array: closing one while going through them does not cut the list.
    private var allConnections: [ServedConnection] {
        var all: [ServedConnection] = []
        all.reserveCapacity(connectionCount)
        var node = newestConnection
        while let connection = node {
            all.append(connection)
            node = connection.next
        }
        return all
    }

    /// Starts serving HTTP on `stream` (a plain socket or a TLS stream).
    public func accept(_ stream: any ByteStream) {
        if isDraining {
            stream.close()
            return
        }
        let connection = HTTPConnection(stream: stream, server: self)
        track(connection)
        connection.start()
    }

    /// Starts serving HTTP/2 on `stream` (which negotiated `h2` through ALPN).
    public func acceptHTTP2(_ stream: any ByteStream) {
        guard !isDraining, let connection = HTTP2Connection(stream: stream, server: self) else {
            stream.close()
            return
        }
        track(connection)
        connection.start()
    }

    /// Starts serving `stream` once its protocol is known: after the TLS handshake, `negotiated` returns the
    /// ALPN protocol (`h2` → HTTP/2, anything else or nothing → HTTP/1.1).
    public func accept(_ stream: any ByteStream, negotiated: @escaping () -> String?) {
        stream.delegate = ProtocolNegotiation(stream: stream, server: self, negotiated: negotiated)
    }

    /// The response to `request` and what is known of its client: the site answers GET and HEAD, anything
    /// else gets 405 with `Allow`. Both protocols answer through here. `peerText` is `peer.ipString`, which the
    /// connection formats once rather than per request.
    func respond(to request: Request, peer: SocketAddress, peerText: String, secure: Bool) -> (
        Response, RequestContext
    ) {
        var context = ForwardedClient.context(
            for: request, peer: peer, peerText: peerText, secure: secure, trusted: configuration.trustedProxies,
            now: WallClock.now())
        context.loop = loop.id
        if let limiter = configuration.rateLimiter, let wait = limiter.admit(context.clientHost) {
            metrics?.rateLimited.increment()
            return (RateLimiter.refusal(retryAfter: wait), context)
        }
        switch request.method {
        case .get, .head:
            return (responder.respond(to: request, context: context), context)
        default:
            return (HTTPError.methodNotAllowed.response, context)
        }
    }

    /// The SETTINGS_MAX_HEADER_LIST_SIZE of HTTP/2 connections: what the HTTP/1.1 limits allow for a head
    /// (RFC 7541 §4.1 counts 32 bytes per field on top of name and value).
    var http2MaxHeaderListSize: Int {
        configuration.limits.requestLine + configuration.limits.headerBlock + 32 * configuration.limits.headerCount
    }

    func connectionClosed(_ connection: ServedConnection) {
        if let previous = connection.previous {
            previous.next = connection.next
        } else if newestConnection === connection {
            newestConnection = connection.next
        } else {
            return  // not in the list: closed before
        }
        connection.next?.previous = connection.previous
        connection.previous = nil
        connection.next = nil
        connectionCount -= 1
        if isDraining && connectionCount == 0 && closingStreams == 0 { finishDraining() }
    }

    /// Closes the stream of a connection that is done with it (call before `connectionClosed`).
    func close(_ stream: any ByteStream) {
        closingStreams += 1
        stream.close { [weak self] in
            guard let self else { return }
            self.closingStreams -= 1
            if self.isDraining && self.connectionCount == 0 && self.closingStreams == 0 { self.finishDraining() }
        }
    }

    /// Stops taking new requests: idle connections close now, busy ones after their current response.
    /// `onDrained` runs (on this loop) once the last connection is gone, or at once if there is none.
    public func beginShutdown(onDrained: @escaping () -> Void) {
        isDraining = true
        self.onDrained = onDrained
        for connection in allConnections { connection.drain() }
        if connectionCount == 0 && closingStreams == 0 { finishDraining() }
    }

    /// Closes every remaining connection now (the shutdown timeout passed).
    public func closeAll() {
        for connection in allConnections { connection.close() }
    }

    private func finishDraining() {
        accessLog?.flush()
        let done = onDrained
        onDrained = nil
        done?()
    }

    /// Writes pending access-log lines and waits until they are written (shutdown, tests).
    public func flushAccessLog() {
        accessLog?.flush()
        accessLog?.log.waitUntilWritten()
    }
}
