import Reactor

/// One HTTP/1.1 connection over a `ByteStream`: parses pipelined request heads, asks the responder, writes
/// responses in order with one `writev` per batch, and enforces the timeouts. Loop-confined.
///
/// Read side: on each readiness edge, read until the stream is drained, parsing every complete head in the
/// buffer after each read. Write side: responses are queued while parsing and flushed once per batch; if the
/// socket takes only part, the rest waits for `streamWritable`, and reading pauses while more than
/// `maxPendingOutput` bytes wait (a client that pipelines without reading cannot grow our memory).
final class HTTPConnection: ServedConnection, ByteStreamDelegate {
    private let stream: any ByteStream
    /// Strong: the server's list lets go of the connection when it closes, which ends the cycle. `unowned`
    /// cost two slow reference-count operations per use (the server's `[weak self]` timers give it a side
    /// table), 3 % of the CPU of a 1 KiB response (issue #11).
    private let server: HTTPServer
    // The fields are ordered so that the flags share one word: an idle keep-alive connection costs what
    // this object, its stream and its timer take (bench/run.sh's idle scenarios measure it).
    private var inbound = ReceiveBuffer()
    private var outbound = OutboundQueue()
    private var state: ConnectionState
    /// The deadline the timer wheel holds for this connection; `Int64.min` when none.
    private var armedAt = Int64.min
    /// What the timer wheel holds instead of the connection: a closed connection is freed at once (with its
    /// stream and buffers), and only this small object waits in the wheel for its stale deadline.
    private let timer = ConnectionTimer()
    /// Lingering: our FIN is sent, input is discarded, and the socket stays open until the peer closes, its
    /// queue drains, or progress stops (see `lingerTimerFired`). Boxed: few connections ever linger.
    private var lingering: Linger?
    /// Latency: when the first response not yet fully written was asked for, and how many are in flight (a
    /// pipelined batch shares the start of its read).
    private var timingStart: UInt64 = 0
    private var timedResponses: Int32 = 0
    private var requestsServed: Int32 = 0
    private var closeAfterWrite = false
    /// The client may still send: after an error answer, on shutdown, with requests left unread. Closing
    /// then is a lingering close (see `finish`).
    private var mayStillSend = false
    /// The peer sent its FIN.
    private var peerClosed = false
    private var closed = false
    private var readPaused = false

    private static let maxPendingOutput = 1 << 20

    init(stream: any ByteStream, server: HTTPServer) {
        self.stream = stream
        self.server = server
        state = ConnectionState(now: server.loop.now, timeouts: server.connectionTimeouts)
    }

    func start() {
        timer.connection = self
        stream.delegate = self
        updateTimer()
    }

    // MARK: - Stream events

    func streamReadable() {
        guard !closed else { return }
        if lingering != nil { return discardInput() }
        readLoop: while !closeAfterWrite {
            if outbound.pendingCount > Self.maxPendingOutput {
                readPaused = true
                break
            }
            switch stream.read(into: &inbound) {
            case .done:
                processBufferedRequests()
                if stream.isReadDrained { break readLoop }
            case .wouldBlock:
                break readLoop
            case .closed:
                // The peer is gone or half-closed: answer what was already received, then close.
                peerClosed = true
                if outbound.isEmpty {
                    close()
                    return
                }
                closeAfterWrite = true
            }
        }
        flush()
    }

    func streamWritable() {
        guard !closed, !outbound.isEmpty else { return }
        flush()
    }

    func streamHungUp() {
        close()
    }

    // MARK: - Requests

    private func processBufferedRequests() {
        let loop = server.loop
        while !closeAfterWrite && !inbound.isEmpty {
            let outcome = inbound.withReadableSpan { server.parser.parse($0) }
            switch outcome {
            case .incomplete:
                state.partialHeadBuffered(now: loop.now)
                return
            case .request(let request, let consumed):
                inbound.consume(consumed)
                respond(to: request)
            case .failure(let error):
                inbound.consume(inbound.readableCount)
                respond(to: error)
                return
            }
        }
    }

    private func respond(to request: Request) {
        requestsServed += 1
        if server.metrics != nil {
            if timedResponses == 0 { timingStart = MonotonicClock.nanoseconds() }
            timedResponses += 1
        }
        let peer = stream.peer
        let (response, context) = server.respond(
            to: request, peer: peer, peerText: server.peerText(peer), secure: stream.isSecure)
        let keepAlive =
            request.keepAlive && !response.closeConnection && !server.isDraining
            && Int(requestsServed) < server.configuration.maxRequestsPerConnection
        enqueue(response, omitBody: request.method == .head, version: request.version, keepAlive: keepAlive)
        server.accessLog?.record(
            request: request, context: context, status: response.status.code,
            bodyBytes: request.method == .head ? 0 : response.body.count)
        if !keepAlive { closeAfterWrite = true }
    }

    private func respond(to error: HTTPError) {
        mayStillSend = true  // the rest of what it sent (a body, more requests) is unread
        var response = error.response
        response.closeConnection = true
        enqueue(response, omitBody: false, version: .http11, keepAlive: false)
        server.loop.logger.debug(
            "refused request: \(error.message)",
            metadata: ["peer": "\(stream.peer)", "status": "\(error.status.code)"])
        closeAfterWrite = true
    }

    private func enqueue(_ response: Response, omitBody: Bool, version: Version, keepAlive: Bool) {
        let server = self.server
        let loop = server.loop
        // The head goes to the staging block in three copies — the per-response start, the response's shared
        // header block, the per-response end — which merge into one contiguous run (one iovec).
        server.headScratch.removeAll(keepingCapacity: true)
        appendHeadStart(response.status, into: &server.headScratch)
        outbound.stage(server.headScratch, pool: loop.pool)
        if let cached = response.cachedHeaders { outbound.stage(cached, pool: loop.pool) }
        server.headScratch.removeAll(keepingCapacity: true)
        appendHeadEnd(response, version: version, keepAlive: keepAlive, into: &server.headScratch)
        outbound.stage(server.headScratch, pool: loop.pool)
        if !omitBody {
            switch response.body {
            case .empty: break
            case .bytes(let b): outbound.append(b)
            case .slice(let b, let r): outbound.append(b, range: r)
            case .file(let f, let offset, let count): outbound.append(file: f, offset: offset, count: count)
            }
        }
        server.didQueue(response, .http1, bodyBytes: omitBody ? 0 : response.body.count)
        state.wrote(now: loop.now)
    }

    private func appendHeadStart(_ status: Status, into head: inout [UInt8]) {
        head.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status.code, to: &head)
        head.append(0x20)
        head.append(contentsOf: status.reason.utf8)
        head.append(contentsOf: "\r\nServer: ".utf8)
        head.append(contentsOf: server.configuration.serverName.utf8)
        head.append(contentsOf: "\r\n".utf8)
        head.append(contentsOf: server.dateCache.line(for: WallClock.now()))
    }

    private func appendHeadEnd(_ response: Response, version: Version, keepAlive: Bool, into head: inout [UInt8]) {
        for (name, value) in response.headers {
            head.append(contentsOf: name.utf8)
            head.append(contentsOf: ": ".utf8)
            head.append(contentsOf: value.utf8)
            head.append(contentsOf: "\r\n".utf8)
        }
        if stream.isSecure { head.append(contentsOf: server.secureHeaderBytes) }
        // RFC 9110 §8.6: no Content-Length on 1xx, 204, or a 304 (whose length would be the 200's).
        let code = response.status.code
        if code >= 200 && code != 204 && code != 304 {
            head.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.body.count, to: &head)
            head.append(contentsOf: "\r\n".utf8)
        }
        if !keepAlive {
            head.append(contentsOf: "Connection: close\r\n".utf8)
        } else if version == .http10 {
            head.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        head.append(contentsOf: "\r\n".utf8)
    }

    private func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &bytes) }
        bytes.append(UInt8(truncatingIfNeeded: 0x30 + value % 10))
    }

    // MARK: - Writing

    private func flush() {
        guard !closed else { return }
        let loop = server.loop
        if !outbound.isEmpty {
            let before = outbound.pendingCount
            switch stream.write(&outbound) {
            case .closed:
                close()
                return
            case .done, .wouldBlock:
                if outbound.pendingCount < before { state.wrote(now: loop.now) }
            }
        }
        if outbound.isEmpty {
            if timedResponses > 0 {
                server.metrics?.finished(.http1, since: timingStart, count: Int(timedResponses))
                timedResponses = 0
            }
            if closeAfterWrite {
                finish()
                return
            }
            // Only the end of a response moves the clock: a read that wrote nothing must not restart the
            // header timeout, or a client trickling one byte at a time would never time out.
            if state.phase == .writing { state.outputDrained(now: loop.now, partialHead: !inbound.isEmpty) }
            inbound.releaseIfEmpty(to: loop.pool)
            // Draining, a keep-alive response just ended: the client may be sending its next request right
            // now. The idle deadline gives it the drain grace; that request is answered with `Connection: close`.
            if readPaused {
                readPaused = false
                streamReadable()
                return
            }
        }
        updateTimer()
    }

    // MARK: - Timers and closing

    private func updateTimer() {
        let deadline = state.deadline
        if armedAt > server.loop.now, armedAt <= deadline { return }
        server.loop.wake(timer, at: deadline)
        armedAt = deadline
    }

    func timerFired(now: Int64) {
        guard !closed else { return }
        if armedAt <= now { armedAt = .min }
        if lingering != nil {
            // A wake armed for an earlier deadline while the linger tick is still ahead: not ours.
            if armedAt != .min { return }
            return lingerTimerFired(now: now)
        }
        switch state.timerFired(now: now) {
        case .rearm:
            updateTimer()
        case .close(let reason):
            server.loop.logger.debug("connection timed out: \(reason)", metadata: ["peer": "\(stream.peer)"])
            if reason == .header && !inbound.isEmpty && outbound.isEmpty {
                // Part of a request arrived: say why before closing (RFC 9110 §15.5.9).
                inbound.consume(inbound.readableCount)
                var response = Response.text(.requestTimeout, "Request header timeout.\n")
                response.closeConnection = true
                enqueue(response, omitBody: false, version: .http11, keepAlive: false)
                closeAfterWrite = true
                mayStillSend = true
                flush()  // a client that does not read it meets the write timeout
            } else if server.isDraining && reason != .write {
                finish()  // the process exits after the last connection: not before the client has it all
            } else {
                close()
            }
        }
    }

    override var isIdle: Bool { lingering == nil && outbound.isEmpty && inbound.isEmpty }

    /// The server is shutting down: the response in progress, or the next one if a request arrives within
    /// the drain grace, carries `Connection: close`; a connection with nothing to do closes after the grace.
    /// A lingering connection goes on until its client has everything.
    override func drain() {
        guard lingering == nil else { return }
        state.drain(now: server.loop.now, grace: server.configuration.drainGrace)
        updateTimer()
    }

    // MARK: - Lingering close

    /// Ends a connection whose last response is written. When the client may still send, `close(2)` would
    /// make the kernel answer its next bytes with RST, and an RST destroys whatever of our response the
    /// client has not read yet; and a server that exits right after handing the response to the kernel
    /// loses its tail with the network namespace (a container). So, as nginx's `lingering_close`: send FIN,
    /// discard input, and close once the peer closes, or once every byte is acknowledged (and, if the peer may
    /// still send, `lingerQuiet` has passed), or when the queue stops draining for the write timeout.
    private func finish() {
        // Draining, the process exits once the last connection closes: wait for the client's acknowledgement.
        guard mayStillSend || !inbound.isEmpty || server.isDraining, !peerClosed,
            let unacknowledged = stream.unacknowledgedBytes
        else { return close() }
        if unacknowledged == 0 && !mayStillSend && inbound.isEmpty { return close() }  // nothing to wait for
        let now = server.loop.now
        lingering = Linger(progressAt: now, unacknowledged: unacknowledged)
        stream.shutdownWrite()
        inbound.consume(inbound.readableCount)
        armLingerTimer(now: now)
        discardInput()
    }

    /// How long a lingering connection whose bytes are all acknowledged waits for the peer's FIN.
    private static let lingerQuiet: Int64 = 2_000
    /// How often a lingering connection looks at its send queue.
    private static let lingerTick: Int64 = 250

    private func armLingerTimer(now: Int64) {
        server.loop.wake(timer, at: now + Self.lingerTick)
        armedAt = now + Self.lingerTick
    }

    private func discardInput() {
        while !closed {
            switch stream.read(into: &inbound) {
            case .done:
                inbound.consume(inbound.readableCount)
                if stream.isReadDrained { return }
            case .wouldBlock:
                return
            case .closed:
                return close()  // the peer's FIN: it has read everything it wanted
            }
        }
    }

    private func lingerTimerFired(now: Int64) {
        guard let linger = lingering else { return }
        let unacknowledged = stream.unacknowledgedBytes ?? 0
        if unacknowledged < linger.unacknowledged {
            linger.progressAt = now
            linger.unacknowledged = unacknowledged
        }
        // All acknowledged: done, unless the client may still be sending (then give it `lingerQuiet` to stop).
        if unacknowledged == 0 && (!mayStillSend || now - linger.progressAt >= Self.lingerQuiet) {
            return close()
        }
        if unacknowledged > 0 && now - linger.progressAt >= server.configuration.writeTimeout {
            server.loop.logger.debug("lingering close timed out", metadata: ["peer": "\(stream.peer)"])
            return close()
        }
        armLingerTimer(now: now)
    }

    override func close() {
        guard !closed else { return }
        closed = true
        lingering = nil
        timer.connection = nil
        server.close(stream)
        let pool = server.loop.pool
        outbound.reset(pool: pool)
        inbound.consume(inbound.readableCount)
        inbound.releaseIfEmpty(to: pool)
        server.connectionClosed(self)
    }
}

/// Where a lingering close stands: when the peer last acknowledged something, and what it had not yet.
private final class Linger {
    var progressAt: Int64
    var unacknowledged: Int

    init(progressAt: Int64, unacknowledged: Int) {
        self.progressAt = progressAt
        self.unacknowledged = unacknowledged
    }
}

/// The timer-wheel entry of one connection. It holds the connection strongly only while the connection is
/// open (the connection clears it on close), so the wheel never keeps a closed connection alive.
private final class ConnectionTimer: TimerTarget {
    var connection: HTTPConnection?

    override func timerFired(now: Int64) {
        connection?.timerFired(now: now)
    }
}
