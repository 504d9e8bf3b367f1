import CLinux
import Glibc

/// A connected non-blocking TCP socket registered on a loop, edge-triggered for both directions.
///
/// Registered once with `EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`, so no `epoll_ctl` is needed per request:
/// the delegate is told on each edge and drains to `EAGAIN`.
///
/// Every open connection has one, so its size counts: the flags come first, in the bytes after the base
/// class's, and the connection-limit slot lives in a subclass made only when there is one (`accepted`). An
/// instance is 72 bytes, an 80-byte heap block.
public class SocketStream: EventHandler, ByteStream {
    public private(set) var isReadDrained = false
    private var peerHalfClosed = false
    /// The connected fd; -1 once closed.
    public private(set) var fd: CInt
    public unowned let loop: EventLoop
    /// The remote address: the TCP peer, or the client a PROXY protocol header named (`ProxyProtocolReader`).
    public internal(set) var peer: SocketAddress
    public var delegate: (any ByteStreamDelegate)?
    public var isSecure: Bool { false }

    /// Wraps an accepted `fd` and registers it on `loop`; `attachment`, when given, lives as long as the
    /// connection (a connection-limit slot) and is released on `close`.
    public static func accepted(fd: CInt, peer: SocketAddress, loop: EventLoop, attachment: AnyObject?)
        throws(SystemError) -> SocketStream
    {
        guard let attachment else { return try SocketStream(fd: fd, peer: peer, loop: loop) }
        return try AttachedSocketStream(fd: fd, peer: peer, loop: loop, attachment: attachment)
    }

    /// Wraps an accepted `fd` and registers it on `loop`.
    public init(fd: CInt, peer: SocketAddress, loop: EventLoop) throws(SystemError) {
        self.fd = fd
        self.peer = peer
        self.loop = loop
        super.init()
        Socket.setNoDelay(fd)
        try loop.register(fd: fd, handler: self, events: Epoll.edgeTriggeredReadWrite)
    }

    public override func handleEvents(_ events: UInt32) {
        guard let delegate else { return }
        if events & (CLINUX_EPOLLRDHUP | CLINUX_EPOLLHUP | CLINUX_EPOLLERR) != 0 { peerHalfClosed = true }
        if events & (CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP | CLINUX_EPOLLHUP | CLINUX_EPOLLERR) != 0 {
            // Even on HUP/ERR let the delegate read first: a request followed by a FIN must still be answered.
            delegate.streamReadable()
        }
        if fd >= 0 && events & CLINUX_EPOLLOUT != 0 {
            self.delegate?.streamWritable()
        }
    }

    public func read(into buffer: inout ReceiveBuffer) -> IOOutcome {
        guard fd >= 0 else { return .closed }
        let fd = self.fd
        do {
            var drained = false
            let outcome = try buffer.fill(from: loop.pool) { space throws(SystemError) in
                let outcome = try Syscall.read(fd, space)
                // A short read emptied the socket's receive queue; new data raises a new edge. Unless the peer
                // already half-closed: then read on until the 0 that reports it.
                if case .done(let n) = outcome, n < space.count { drained = true }
                return outcome
            }
            isReadDrained = drained && !peerHalfClosed
            return outcome
        } catch {
            loop.logUnexpected(error)
            return .closed
        }
    }

    public func write(_ queue: inout OutboundQueue) -> IOOutcome {
        guard fd >= 0 else { return .closed }
        var total = 0
        do {
            while let first = queue.first {
                let outcome: IOOutcome
                let attempted: Int
                if case .file(let file, let offset, let count) = first {
                    attempted = min(count, 1 << 30)
                    outcome = try Syscall.sendfile(fd, file.fd, offset: offset, count: attempted)
                } else {
                    let (filled, bytes, fileFollows) = queue.gather(into: loop.iovecs)
                    attempted = bytes
                    if fileFollows {
                        // A head before a sendfile body: MSG_MORE lets the head leave in the body's first
                        // segment (with TCP_NODELAY it would go alone), as nginx's tcp_nopush does.
                        outcome = try Syscall.sendmsg(fd, loop.iovecs.baseAddress!, filled, flags: CInt(MSG_MORE))
                    } else {
                        outcome = try Syscall.writev(fd, loop.iovecs.baseAddress!, filled)
                    }
                }
                switch outcome {
                case .done(let n):
                    queue.advance(by: n, pool: loop.pool)
                    total += n
                    // A short write means the socket buffer is full: wait for EPOLLOUT rather than try again.
                    if n < attempted { return .done(total) }
                case .wouldBlock:
                    return total > 0 ? .done(total) : .wouldBlock
                case .closed:
                    return .closed
                }
            }
            return .done(total)
        } catch {
            loop.logUnexpected(error)
            return .closed
        }
    }

    public func shutdownWrite() {
        guard fd >= 0 else { return }
        Syscall.shutdownWrite(fd)
    }

    public var unacknowledgedBytes: Int? { fd >= 0 ? Syscall.unacknowledgedBytes(fd) : nil }

    public func close() {
        guard fd >= 0 else { return }
        loop.deregister(fd: fd, handler: self)
        Syscall.close(fd)
        fd = -1
        delegate = nil
    }

    /// Tells the delegate to read now: for bytes that arrived before it took over (after a PROXY header), which
    /// no new edge will announce.
    public func readQueuedInput() {
        delegate?.streamReadable()
    }

    /// Copies what waits in the receive queue into `buffer` without consuming it.
    func peek(_ buffer: UnsafeMutableRawBufferPointer) -> IOOutcome {
        guard fd >= 0 else { return .closed }
        do {
            return try Syscall.peek(fd, buffer)
        } catch {
            return .closed
        }
    }

    /// Consumes exactly `count` bytes already known to be queued (peeked).
    func discard(_ count: Int) -> Bool {
        guard fd >= 0 else { return false }
        var scratch = [UInt8](repeating: 0, count: count)
        let fd = self.fd
        // Invariant: `scratch` holds `count` bytes for the duration of the call.
        let outcome = scratch.withUnsafeMutableBytes { buffer in (try? Syscall.read(fd, buffer)) ?? .closed }
        if case .done(let n) = outcome { return n == count }
        return false
    }

    deinit {
        if fd >= 0 { Syscall.close(fd) }
    }
}

/// A socket stream that keeps something for as long as the connection is open (see `SocketStream.accepted`).
private final class AttachedSocketStream: SocketStream {
    private var attachment: AnyObject?

    init(fd: CInt, peer: SocketAddress, loop: EventLoop, attachment: AnyObject) throws(SystemError) {
        self.attachment = attachment
        try super.init(fd: fd, peer: peer, loop: loop)
    }

    override func close() {
        super.close()
        attachment = nil
    }
}

extension Epoll {
    /// The interest set of a connected stream: both directions, edge-triggered, with peer half-close.
    public static var edgeTriggeredReadWrite: UInt32 {
        CLINUX_EPOLLIN | CLINUX_EPOLLOUT | CLINUX_EPOLLRDHUP | CLINUX_EPOLLET
    }
}
