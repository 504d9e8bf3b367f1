import Reactor

/// TLS over a transport `ByteStream` (a `SocketStream`): drives the handshake on the transport's readiness
/// events, then offers plaintext through the same `ByteStream` interface, so HTTP runs unchanged over either.
///
/// ```
///  handshaking ──done──▶ open ──close()──▶ flushing ──ciphertext sent or deadline──▶ closed
///       │                 │        └──────────(nothing left to send)──────────────────▲
///       └─failure, timeout, peer gone─────────┴─read/write failure: delegate hung up───┘
/// ```
/// The delegate hears `streamReadable` only once the handshake is complete. A handshake that fails (plaintext
/// HTTP, random bytes, no shared cipher) or outlasts `handshakeTimeout` closes this connection alone, with one
/// debug line, and the delegate hears `streamHungUp`. `write` takes plaintext once it is encrypted; `close()`
/// queues close_notify and keeps the transport open until what was taken has been sent (bounded by the same
/// timeout), so a response is never cut short by a full socket buffer.
///
/// Create it right after the transport, before the loop turns again: it becomes the transport's delegate,
/// and the transport's first readiness edge must reach it.
public final class TLSStream: ByteStream, ByteStreamDelegate {
    private enum State { case handshaking, open, flushing, closed }
    private enum Flush { case flushed, pending, closed }

    public var delegate: (any ByteStreamDelegate)?
    public var loop: EventLoop { transport.loop }
    public let peer: SocketAddress
    public var isSecure: Bool { true }
    /// True when the last `read` stopped because OpenSSL needs more ciphertext and the transport is known
    /// drained: the caller may skip the call that would only return `.wouldBlock`.
    public private(set) var isReadDrained = false
    /// The TLS engine, for what was negotiated (ALPN, version, cipher, SNI name); nil once closed.
    public private(set) var session: TLSSession?

    private let transport: any ByteStream
    private var state = State.handshaking
    /// The last transport read met EAGAIN: edge-triggered, so the next readable event is the next chance.
    private var transportDrained = false
    /// A read stopped because OpenSSL's output had to be sent first; resume it when the transport drains.
    private var readWaitsForWrite = false
    /// close_notify has been queued (while flushing).
    private var closeNotifyQueued = false
    /// Everything was sent and our FIN is out: reading until the peer's FIN or the deadline.
    private var lingering = false
    /// The transport's unacknowledged bytes when the closing deadline last passed: it is pushed back while they shrink.
    private var flushingUnacknowledged = Int.max
    /// What `close(then:)` asked to run once the stream is closed.
    private var onClosed: (() -> Void)?
    private let timeout: Int64
    private let timer = DeadlineTimer()

    /// Wraps `transport` (which must be fresh: this stream becomes its delegate) with a server session made
    /// from `context`, and arms the handshake deadline.
    public init(transport: any ByteStream, context: TLSContext, handshakeTimeout: Duration = .seconds(10)) {
        self.transport = transport
        peer = transport.peer
        session = TLSSession(context: context, pool: transport.loop.pool)
        let (seconds, attoseconds) = handshakeTimeout.components
        timeout = max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        timer.stream = self
        transport.delegate = self
        arm()
    }

    // MARK: - ByteStream

    public func read(into buffer: inout ReceiveBuffer) -> IOOutcome {
        switch state {
        case .handshaking: return .wouldBlock
        case .flushing, .closed: return .closed
        case .open: break
        }
        guard let session else { return .closed }
        isReadDrained = false
        let before = buffer.readableCount
        while true {
            let result = session.read(into: &buffer)
            let read = buffer.readableCount - before
            switch result {
            case .done:
                if buffer.isFull { return .done(read) }
            case .wantRead:
                if flush() == .closed { return read > 0 ? .done(read) : .closed }
                switch receive() {
                case .done: continue
                case .wouldBlock:
                    isReadDrained = true
                    return read > 0 ? .done(read) : .wouldBlock
                case .closed: continue  // the session now sees the end and says so, after any last bytes
                }
            case .wantWrite:
                switch flush() {
                case .flushed: continue
                case .pending:
                    readWaitsForWrite = true
                    return read > 0 ? .done(read) : .wouldBlock
                case .closed: return read > 0 ? .done(read) : .closed
                }
            case .closed:
                return read > 0 ? .done(read) : .closed
            case .failed(let error):
                loop.logger.debug("TLS read failed: \(error)", metadata: ["peer": "\(peer)"])
                return read > 0 ? .done(read) : .closed
            }
        }
    }

    public func write(_ queue: inout OutboundQueue) -> IOOutcome {
        switch state {
        case .handshaking: return .wouldBlock
        case .flushing, .closed: return .closed
        case .open: break
        }
        guard let session else { return .closed }
        let before = queue.pendingCount
        while true {
            switch flush() {
            case .closed:
                return .closed
            case .pending:
                let taken = before - queue.pendingCount
                return taken > 0 ? .done(taken) : .wouldBlock
            case .flushed:
                if queue.isEmpty && !session.hasPendingPlaintext { return .done(before - queue.pendingCount) }
            }
            switch session.write(&queue) {
            case .done, .wantWrite:
                continue  // send what was sealed, then seal more
            case .wantRead, .closed:
                // After the handshake, with renegotiation off, SSL_write has no reason to want input.
                return .closed
            case .failed(let error):
                loop.logger.debug("TLS write failed: \(error)", metadata: ["peer": "\(peer)"])
                return .closed
            }
        }
    }

    public func close() {
        switch state {
        case .closed, .flushing:
            return
        case .handshaking:
            closeNow()
        case .open:
            state = .flushing
            delegate = nil
            continueClosing()
            if state == .flushing { arm() }
        }
    }

    public func close(then done: @escaping () -> Void) {
        guard state != .closed else { return done() }
        onClosed = done
        close()
    }

    // MARK: - ByteStreamDelegate (the transport's events)

    public func streamReadable() {
        transportDrained = false
        switch state {
        case .handshaking: driveHandshake()
        case .open: delegate?.streamReadable()
        case .flushing: discardInput()
        case .closed: break
        }
    }

    public func streamWritable() {
        switch state {
        case .handshaking:
            // Only a flight stuck in our buffer needs this edge; otherwise the handshake waits for input.
            if session?.hasPendingCiphertext == true { driveHandshake() }
        case .open:
            switch flush() {
            case .closed: hangUp()
            case .pending: break
            case .flushed:
                if readWaitsForWrite {
                    readWaitsForWrite = false
                    delegate?.streamReadable()
                }
                delegate?.streamWritable()
            }
        case .flushing: continueClosing()
        case .closed: break
        }
    }

    public func streamHungUp() {
        switch state {
        case .open: if let delegate { delegate.streamHungUp() } else { closeNow() }
        case .handshaking: hangUp()
        case .flushing: closeNow()
        case .closed: break
        }
    }

    // MARK: - Handshake

    private func driveHandshake() {
        while state == .handshaking, let session {
            let result = session.handshake()
            // Whatever the result, send the flight (or the alert) OpenSSL just wrote.
            let flushed = flush()
            if flushed == .closed { return hangUp() }
            switch result {
            case .done:
                state = .open
                timer.deadline = .max
                TLSMetrics.handshakeSucceeded(session)
                // Application data may have come with the client's Finished: let the delegate look.
                delegate?.streamReadable()
                return
            case .wantRead:
                switch receive() {
                case .done: continue
                case .wouldBlock: return
                case .closed: continue  // the session reports the end on the next step
                }
            case .wantWrite:
                if flushed == .pending { return }
            case .closed:
                return hangUp()  // the client left mid-handshake: not worth a log line
            case .failed(let error):
                TLSMetrics.handshakeFailed(timedOut: false)
                return hangUp { "TLS handshake failed: \(error)" }
            }
        }
    }

    fileprivate func deadlinePassed() {
        switch state {
        case .handshaking:
            TLSMetrics.handshakeFailed(timedOut: true)
            hangUp { "TLS handshake timed out after \(self.timeout) ms" }
        case .flushing:
            // A slow reader may hold megabytes in the socket: wait as long as it keeps acknowledging them.
            if let unacknowledged = transport.unacknowledgedBytes, unacknowledged > 0,
                unacknowledged < flushingUnacknowledged
            {
                flushingUnacknowledged = unacknowledged
                return arm()
            }
            closeNow()
        case .open, .closed: break
        }
    }

    private func arm() {
        timer.deadline = loop.now + timeout
        loop.wake(timer, at: timer.deadline)
    }

    // MARK: - Transport I/O

    /// Reads the transport into the session's ciphertext buffer, unless it is known drained (EAGAIN seen, or
    /// a short read the transport vouches for): edge-triggered, the next readable event says when to retry.
    private func receive() -> IOOutcome {
        guard !transportDrained, let session else { return .wouldBlock }
        let outcome = session.receiveCiphertext { transport.read(into: &$0) }
        switch outcome {
        case .done(let count) where count > 0:
            transportDrained = transport.isReadDrained
        case .wouldBlock:
            transportDrained = true
        case .done(0):
            // The input buffer is full although OpenSSL asked for more: cannot happen with records ≤ 16 KiB
            // and a 32 KiB buffer, so treat it as the peer misbehaving.
            session.feedEndOfStream()
            return .closed
        case .done, .closed:
            break
        }
        return outcome
    }

    /// Sends pending ciphertext to the transport.
    private func flush() -> Flush {
        guard let session else { return .closed }
        guard session.hasPendingCiphertext else { return .flushed }
        if session.sendCiphertext({ transport.write(&$0) }) == .closed { return .closed }
        return session.hasPendingCiphertext ? .pending : .flushed
    }

    /// After `close()`: seal what was taken, queue close_notify, send it all, then close.
    private func continueClosing() {
        while state == .flushing, let session {
            switch flush() {
            case .closed: return closeNow()
            case .pending: return  // wait for the transport's writable edge (or the deadline)
            case .flushed: break
            }
            if session.hasPendingPlaintext {
                var nothing = OutboundQueue()
                guard session.write(&nothing) == .done else { return closeNow() }
            } else if !closeNotifyQueued {
                closeNotifyQueued = true
                _ = session.shutdown()  // best effort: `.closed` (failed session) just means "no alert"
            } else if !lingering {
                // Lingering close (as nginx's lingering_close): close(2) with unread input makes the kernel
                // send RST, and the peer then drops what it has not read yet — the end of our response. So
                // send FIN and read to the peer's FIN (bounded by the deadline) before closing.
                lingering = true
                transport.shutdownWrite()
                transportDrained = false
                return discardInput()
            } else {
                return
            }
        }
    }

    /// While flushing, input is unwanted; read it so the kernel is not left holding it, and notice the FIN.
    private func discardInput() {
        guard let session else { return }
        while !transportDrained {
            switch session.receiveCiphertext({ transport.read(into: &$0) }) {
            case .done:
                session.discardReceivedCiphertext()
                transportDrained = transport.isReadDrained
            case .wouldBlock: transportDrained = true
            case .closed: return closeNow()
            }
        }
    }

    /// Ends the stream on our side (failure, timeout, peer gone) and tells the delegate; `reason`, when given,
    /// becomes the connection's one debug line (built only if debug logging is on).
    private func hangUp(reason: (() -> String)? = nil) {
        if let reason { loop.logger.debug("\(reason())", metadata: ["peer": "\(peer)"]) }
        let delegate = self.delegate
        closeNow()
        delegate?.streamHungUp()
    }

    private func closeNow() {
        guard state != .closed else { return }
        state = .closed
        timer.stream = nil
        delegate = nil
        transport.delegate = nil
        transport.close()
        session?.releaseBuffers()
        session = nil
        let done = onClosed
        onClosed = nil
        done?()
    }
}

/// The stream's deadline (handshake, then close): held weakly, so a wheel entry never keeps a closed stream
/// and its SSL alive. The wheel has no cancel: a firing before `deadline` is stale and ignored.
private final class DeadlineTimer: TimerTarget {
    weak var stream: TLSStream?
    var deadline = Int64.max

    override func timerFired(now: Int64) {
        if now >= deadline { stream?.deadlinePassed() }
    }
}
