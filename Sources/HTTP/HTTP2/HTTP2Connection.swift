import Reactor

/// One HTTP/2 connection (RFC 9113) over a `ByteStream` that negotiated `h2`: many requests at once, each
/// answered by the same responder, access log and headers as HTTP/1.1. Loop-confined.
///
/// nghttp2 does the framing, HPACK, stream states and flow control; this class turns its events into
/// `Request`s (a request head is rebuilt in HTTP/1.1 form and goes through the same `RequestParser`, so
/// limits and validation are the same), queues responses, and owns the I/O, timeouts and abuse limits:
///
/// ```
///   bytes read ──▶ NGHTTP2Session.receive ──▶ requestField… requestHeadComplete ──▶ respond ──▶ submitResponse
///   streamWritable / after reading ──▶ NGHTTP2Session.send ──▶ session.outbound ──▶ stream.write
/// ```
/// Back-pressure: response bodies are pulled frame by frame (flow control permitting) and only while fewer
/// than `outboundLimit` bytes wait for the socket; reading stops while more wait, so neither a slow reader nor
/// a client that never reads makes us hold more than that. Timeouts: `headerTimeout` for the first request,
/// `keepAliveTimeout` when idle, `writeTimeout` when a response makes no progress (a zero-window stall).
final class HTTP2Connection: ServedConnection, ByteStreamDelegate, HTTP2SessionDelegate {
    /// One request stream: its head while it arrives, then its response body while it is sent.
    private struct StreamState {
        var method: [UInt8] = []
        var path: [UInt8] = []
        var authority: [UInt8] = []
        /// Regular header lines, `name: value\r\n` each.
        var lines: [UInt8] = []
        /// RFC 9113 §6.5.2 / RFC 7541 §4.1 size of the header list so far.
        var listSize = 0
        var tooLarge = false
        var body = Response.Body.empty
        var sent = 0
        var remaining = 0
        /// `MonotonicClock.nanoseconds()` when the head was complete (0 when not timed).
        var startedAt: UInt64 = 0
    }

    private let stream: any ByteStream
    private let server: HTTPServer
    private let session: NGHTTP2Session
    private var inbound = ReceiveBuffer()
    private var streams: [Int32: StreamState] = [:]
    /// Streams whose body waits for the outbound queue to drain below its limit.
    private var deferred: [Int32] = []
    /// Responses with body bytes still to send.
    private var sending = 0
    private var requestsServed = 0
    private var closed = false
    /// GOAWAY was queued: close once open streams are done and the queue is written.
    private var goingAway = false
    private var readPaused = false
    private var peerClosed = false
    /// Every stream is done after our GOAWAY: waiting for the peer to close (see `flush`).
    private var lingering = false
    /// When the connection last did useful work (a request arrived, a response was finished).
    private var lastActivity: Int64
    /// When bytes of a pending response last reached the socket.
    private var lastProgress: Int64
    private var budget: FloodBudget
    private var armedAt: Int64?
    private let timer = HTTP2Timer()
    private let maxHeaderListSize: Int
    private lazy var peerText = stream.peer.ipString

    private static let outboundLimit = 256 * 1024

    /// Makes the connection, or nil when nghttp2 cannot allocate a session.
    init?(stream: any ByteStream, server: HTTPServer) {
        var options = NGHTTP2Session.Options()
        options.maxConcurrentStreams = UInt32(server.configuration.http2MaxConcurrentStreams)
        options.maxHeaderListSize = UInt32(server.http2MaxHeaderListSize)
        guard let session = NGHTTP2Session(options: options, pool: stream.loop.pool, outboundLimit: Self.outboundLimit)
        else { return nil }
        self.stream = stream
        self.server = server
        self.session = session
        maxHeaderListSize = server.http2MaxHeaderListSize
        let now = server.loop.now
        lastActivity = now
        lastProgress = now
        budget = FloodBudget(now: now)
        super.init()
        session.delegate = self
    }

    func start() {
        timer.connection = self
        stream.delegate = self
        flush()  // our SETTINGS: the server's half of the connection preface
    }

    // MARK: - Stream events

    func streamReadable() {
        guard !closed else { return }
        if lingering { return discardInput() }
        while !peerClosed && session.wantsRead {
            if session.outbound.pendingCount >= Self.outboundLimit {
                readPaused = true
                break
            }
            switch stream.read(into: &inbound) {
            case .done:
                let outcome = inbound.withReadableSpan { session.receive($0) }
                inbound.consume(inbound.readableCount)
                guard outcome == .consumed else { return fail(outcome) }
                if stream.isReadDrained {
                    inbound.releaseIfEmpty(to: server.loop.pool)
                    return flush()
                }
            case .wouldBlock:
                inbound.releaseIfEmpty(to: server.loop.pool)
                return flush()
            case .closed:
                peerClosed = true
            }
        }
        flush()
    }

    func streamWritable() {
        guard !closed else { return }
        flush()
    }

    func streamHungUp() {
        close()
    }

    /// Reads and drops what the peer still sends while we wait for its close.
    private func discardInput() {
        while true {
            switch stream.read(into: &inbound) {
            case .done: inbound.consume(inbound.readableCount)
            case .wouldBlock: return inbound.releaseIfEmpty(to: server.loop.pool)
            case .closed: return close()
            }
        }
    }

    private func fail(_ outcome: HTTP2ReceiveOutcome) {
        switch outcome {
        case .consumed:
            return
        case .badPreface:
            // RFC 9113 §3.4: a preface that is not HTTP/2 is a connection error of type PROTOCOL_ERROR.
            server.loop.logger.debug("HTTP/2: invalid connection preface", metadata: ["peer": "\(peerText)"])
            goAway(.protocolError)
        case .flooded:
            server.loop.logger.info(
                "HTTP/2: peer floods control frames or resets; closing", metadata: ["peer": "\(peerText)"])
            goAway(.enhanceYourCalm)
        case .failed(let message):
            server.loop.logger.debug("HTTP/2: \(message)", metadata: ["peer": "\(peerText)"])
            goAway(.protocolError)
        }
    }

    /// Connection error: GOAWAY with `code`, one attempt to send it, then close (a misbehaving peer gets
    /// no more of our time than that).
    private func goAway(_ code: HTTP2ErrorCode) {
        session.terminate(code)
        _ = session.send()
        if !session.outbound.isEmpty { _ = stream.write(&session.outbound) }
        close()
    }

    // MARK: - HTTP2SessionDelegate: requests

    func requestBegan(stream id: Int32) {
        streams[id] = StreamState()
        lastActivity = server.loop.now
    }

    func requestField(stream id: Int32, name: Span<UInt8>, value: Span<UInt8>) {
        guard var state = streams.removeValue(forKey: id) else { return }
        defer { streams[id] = state }
        guard !state.tooLarge else { return }
        // RFC 7541 §4.1: each field counts its name, value and 32 bytes of overhead. An HPACK bomb (a small
        // block that decodes into a huge list) stops here, without storing what it decodes to.
        state.listSize += name.count + value.count + 32
        if state.listSize > maxHeaderListSize {
            state.tooLarge = true
            state.lines = []
            return
        }
        if name.count > 0 && name[0] == 0x3A {
            switch name.count {
            case 5 where name[1] == 0x70: state.path = Self.bytes(value)  // :path
            case 7 where name[1] == 0x6D: state.method = Self.bytes(value)  // :method
            case 10 where name[1] == 0x61: state.authority = Self.bytes(value)  // :authority
            default: break  // :scheme (always https here; the stream says so) and :protocol
            }
            return
        }
        for i in 0..<name.count { state.lines.append(name[i]) }
        state.lines.append(0x3A)
        state.lines.append(0x20)
        for i in 0..<value.count { state.lines.append(value[i]) }
        state.lines.append(0x0D)
        state.lines.append(0x0A)
    }

    func requestHeadComplete(stream id: Int32, endStream: Bool) {
        guard var state = streams[id] else { return }
        budget.requestArrived()
        if state.tooLarge {
            respond(stream: id, error: .text(.headerFieldsTooLarge, "Request header fields too large.\n"))
            return
        }
        // The head in HTTP/1.1 form, for the same parser the HTTP/1.1 path uses. `HTTP/1.1` and `HTTP/2.0`
        // have the same length, so the line is patched after parsing and every range stays valid.
        var head: [UInt8] = []
        head.reserveCapacity(state.method.count + state.path.count + state.authority.count + state.lines.count + 40)
        head.append(contentsOf: state.method)
        head.append(0x20)
        head.append(contentsOf: state.path)
        let versionStart = head.count + 1
        head.append(contentsOf: " HTTP/1.1\r\n".utf8)
        // RFC 9113 §8.3.1: :authority stands for Host; a Host field, if also sent, must agree (the parser
        // refuses two).
        if !state.authority.isEmpty && !Self.hasHostLine(state.lines) {
            head.append(contentsOf: "host: ".utf8)
            head.append(contentsOf: state.authority)
            head.append(contentsOf: "\r\n".utf8)
        }
        head.append(contentsOf: state.lines)
        head.append(contentsOf: "\r\n".utf8)
        state.lines = []
        state.method = []
        state.path = []
        state.authority = []
        streams[id] = state
        switch server.parser.parse(head.span) {
        case .request(let parsed, _):
            var patched = parsed.head
            patched.replaceSubrange(versionStart..<versionStart + 8, with: "HTTP/2.0".utf8)
            let request = Request(
                head: patched, method: parsed.method, version: .http2, targetRange: parsed.targetRange,
                pathRange: parsed.pathRange, queryRange: parsed.queryRange, fields: parsed.fields,
                hostRange: parsed.hostRange, keepAlive: true, contentLength: parsed.contentLength)
            respond(stream: id, to: request)
        case .failure(let error):
            server.loop.logger.debug(
                "refused request: \(error.message)",
                metadata: ["peer": "\(peerText)", "status": "\(error.status.code)"])
            respond(stream: id, error: error.response)
        case .incomplete:
            respond(stream: id, error: .text(.badRequest, "Malformed request head.\n"))
        }
    }

    private func respond(stream id: Int32, to request: Request) {
        requestsServed += 1
        if server.metrics != nil { streams[id]?.startedAt = MonotonicClock.nanoseconds() }
        let (response, context) = server.respond(
            to: request, peer: stream.peer, peerText: peerText, secure: stream.isSecure)
        let omitBody = request.method == .head
        submit(response, stream: id, omitBody: omitBody)
        server.accessLog?.record(
            request: request, context: context, status: response.status.code,
            bodyBytes: omitBody ? 0 : response.body.count)
    }

    private func respond(stream id: Int32, error response: Response) {
        submit(response, stream: id, omitBody: false)
    }

    private func submit(_ response: Response, stream id: Int32, omitBody: Bool) {
        var fields = HTTP2FieldList()
        let code = response.status.code
        fields.append(name: ":status", value: String(code))
        fields.append(name: "server", value: server.configuration.serverName)
        fields.appendLines(server.dateCache.line(for: WallClock.now()).span)
        if let cached = response.cachedHeaders { cached.withSpan { fields.appendLines($0) } }
        for (name, value) in response.headers { fields.appendConverting(name: name.utf8, value: value.utf8) }
        if stream.isSecure {
            for (name, value) in server.configuration.secureHeaders {
                fields.appendConverting(name: name.utf8, value: value.utf8)
            }
        }
        // RFC 9110 §8.6: no Content-Length on 204, or a 304 (whose length would be the 200's).
        if code >= 200 && code != 204 && code != 304 {
            fields.append(name: "content-length", value: String(response.body.count))
        }
        let hasBody = !omitBody && response.body.count > 0 && code != 204 && code != 304
        if hasBody, var state = streams[id] {
            state.body = response.body
            state.remaining = response.body.count
            streams[id] = state
            sending += 1
        }
        server.didQueue(response, .http2, bodyBytes: omitBody ? 0 : response.body.count)
        if !session.submitResponse(stream: id, fields: fields, hasBody: hasBody) && hasBody {
            streams[id]?.remaining = 0
            finishSending()
        }
    }

    // MARK: - HTTP2SessionDelegate: bodies

    func responseDataAvailable(stream id: Int32, maximum: Int) -> (count: Int, isLast: Bool)? {
        guard let state = streams[id] else { return (0, true) }
        if session.outbound.pendingCount >= Self.outboundLimit {
            deferred.append(id)
            return nil
        }
        let count = min(maximum, state.remaining)
        return (count, count == state.remaining)
    }

    func appendResponseData(stream id: Int32, count: Int, to queue: inout OutboundQueue) {
        guard var state = streams[id], count > 0 else { return }
        switch state.body {
        case .empty: break
        case .bytes(let b): queue.append(b, range: state.sent..<state.sent + count)
        case .slice(let b, let r): queue.append(b, range: r.lowerBound + state.sent..<r.lowerBound + state.sent + count)
        case .file(let f, let offset, _): queue.append(file: f, offset: offset + state.sent, count: count)
        }
        state.sent += count
        state.remaining -= count
        let done = state.remaining == 0
        if done { state.body = .empty }
        streams[id] = state
        budget.dataSent(count)
        if done { finishSending() }
    }

    /// A response body was sent to the end, or will never be (its stream is gone).
    private func finishSending() {
        sending -= 1
        lastActivity = server.loop.now
    }

    func streamClosed(stream id: Int32, errorCode: UInt32) {
        guard let state = streams.removeValue(forKey: id) else { return }
        if state.remaining > 0 { finishSending() }
        if state.startedAt > 0 { server.metrics?.finished(.http2, since: state.startedAt) }
    }

    func frameBegan(type: UInt8, stream id: Int32, length: Int, flags: UInt8) {
        let now = server.loop.now
        if !budget.frameArrived(type: type, length: length, flags: flags, now: now) {
            // Frames that cost us work but ask for no response (PING, SETTINGS, WINDOW_UPDATE, PRIORITY,
            // RST_STREAM, empty DATA, unknown types) at a rate no client needs: CVE-2019-9511…9518 and kin.
            server.loop.logger.info(
                "HTTP/2: control-frame flood (type \(type)); closing", metadata: ["peer": "\(peerText)"])
            session.terminate(.enhanceYourCalm)
        }
    }

    // MARK: - Writing

    private func flush() {
        guard !closed else { return }
        var rounds = 0
        while rounds < 1024 {
            rounds += 1
            if !deferred.isEmpty && session.outbound.pendingCount < Self.outboundLimit {
                for id in deferred { session.resume(stream: id) }
                deferred.removeAll(keepingCapacity: true)
            }
            guard session.send() else { return close() }
            if session.outbound.isEmpty { break }
            let before = session.outbound.pendingCount
            switch stream.write(&session.outbound) {
            case .closed: return close()
            case .done, .wouldBlock: break
            }
            if session.outbound.pendingCount < before { lastProgress = server.loop.now }
            if !session.outbound.isEmpty { break }  // the socket is full: streamWritable brings us back
        }
        if session.outbound.isEmpty {
            // After our graceful GOAWAY the engine may briefly want neither (a stream waits for window):
            // only the end of the last stream ends the connection then. Otherwise nghttp2 wanting neither
            // means a GOAWAY it sent itself (a protocol error) is out.
            let finished = goingAway ? streams.isEmpty : !session.wantsRead && !session.wantsWrite
            if peerClosed { return close() }
            if finished {
                // After a graceful GOAWAY the last bytes may still sit in the kernel's send buffer: closing now,
                // with the peer's WINDOW_UPDATEs unread, would reset the connection and lose them. Wait for
                // the peer to close (it has every response), bounded by the send timeout.
                guard goingAway else { return close() }
                lingering = true
                lastProgress = server.loop.now
            }
            if readPaused {
                readPaused = false
                return streamReadable()
            }
        }
        updateTimer()
    }

    // MARK: - Timers, shutdown

    private var deadline: Int64 {
        let c = server.configuration
        if lingering || sending > 0 || !session.outbound.isEmpty { return lastProgress + c.writeTimeout }
        return lastActivity + (requestsServed == 0 ? c.headerTimeout : c.keepAliveTimeout)
    }

    private func updateTimer() {
        let deadline = self.deadline
        if let armed = armedAt, armed > server.loop.now, armed <= deadline { return }
        server.loop.wake(timer, at: deadline)
        armedAt = deadline
    }

    fileprivate func timerFired(now: Int64) {
        guard !closed else { return }
        if let armed = armedAt, armed <= now { armedAt = nil }
        if now < deadline { return updateTimer() }
        if lingering { return close() }
        if sending > 0 || !session.outbound.isEmpty {
            server.loop.logger.debug(
                "HTTP/2: response stalled (no window or no reader)", metadata: ["peer": "\(peerText)"])
            goAway(.noError)
        } else {
            server.loop.logger.debug("HTTP/2: idle connection timed out", metadata: ["peer": "\(peerText)"])
            goAway(.noError)
        }
    }

    /// The server is shutting down: GOAWAY naming the last stream taken (RFC 9113 §6.8); streams up to it
    /// finish, later ones are refused, and the connection closes when the last response is written.
    override var isIdle: Bool { streams.isEmpty }

    override func drain() {
        guard !closed, !goingAway else { return }
        goingAway = true
        session.submitGracefulGoaway()
        flush()
    }

    override func close() {
        guard !closed else { return }
        closed = true
        timer.connection = nil
        server.close(stream)
        let pool = server.loop.pool
        session.outbound.reset(pool: pool)
        inbound.consume(inbound.readableCount)
        inbound.releaseIfEmpty(to: pool)
        streams.removeAll()
        server.connectionClosed(self)
    }

    // MARK: - Helpers

    private static func bytes(_ span: Span<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        for i in 0..<span.count { out.append(span[i]) }
        return out
    }

    private static func hasHostLine(_ lines: [UInt8]) -> Bool {
        var lineStart = 0
        let host = Array("host:".utf8)
        while lineStart + host.count <= lines.count {
            if lines[lineStart..<lineStart + host.count].elementsEqual(host) { return true }
            guard let end = lines[lineStart...].firstIndex(of: 0x0A) else { return false }
            lineStart = end + 1
        }
        return false
    }
}

/// The timer-wheel entry of one HTTP/2 connection (held strongly only while the connection is open).
private final class HTTP2Timer: TimerTarget {
    var connection: HTTP2Connection?

    override func timerFired(now: Int64) {
        connection?.timerFired(now: now)
    }
}
