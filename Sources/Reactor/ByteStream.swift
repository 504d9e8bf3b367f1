/// Receives a stream's readiness and end. Called on the stream's loop thread only.
public protocol ByteStreamDelegate: AnyObject {
    /// Bytes may be readable: call `read` until it returns `.wouldBlock`.
    func streamReadable()
    /// The stream can take more bytes: call `write` if anything is pending.
    func streamWritable()
    /// The peer hung up or the stream failed; the delegate should close.
    func streamHungUp()
}

/// A reliable, ordered, non-blocking byte stream bound to one `EventLoop`: a TCP socket, or TLS over one.
///
/// Calling order: the delegate is told when the stream may be readable or writable; it then calls `read`
/// until `.wouldBlock`, and `write` while bytes are pending. `close` ends the stream; no callback follows it.
public protocol ByteStream: AnyObject {
    /// Gets readiness callbacks. Held strongly until `close`, which breaks the cycle.
    var delegate: (any ByteStreamDelegate)? { get set }
    /// The loop the stream lives on.
    var loop: EventLoop { get }
    /// The remote address.
    var peer: SocketAddress { get }
    /// True when the stream is encrypted (the HTTP layer reports the scheme from it).
    var isSecure: Bool { get }

    /// True when the last `read` proved the stream empty without an extra call that would return
    /// `.wouldBlock` (a short read from a socket with no pending FIN). Lets the caller skip that call.
    var isReadDrained: Bool { get }

    /// Reads what is available into `buffer`.
    func read(into buffer: inout ReceiveBuffer) -> IOOutcome
    /// Writes as much of `queue` as the stream takes now, removing what was written.
    /// `.done(n)` with the queue non-empty means "wait for `streamWritable`".
    func write(_ queue: inout OutboundQueue) -> IOOutcome
    /// Closes the stream (a TLS stream sends close_notify first, best effort) and releases its fd.
    func close()
    /// Closes the stream and calls `done` (on the stream's loop) once it is closed: at once for a socket; for a
    /// TLS stream once what it still has to send is sent and the peer closed, or its deadline passed. A server
    /// that drains waits for it, so that exiting does not cut a response's tail.
    func close(then done: @escaping () -> Void)
    /// Sends our end of stream (FIN) but keeps reading: a lingering close reads until the peer's FIN, so input
    /// still arriving cannot make the kernel reset the connection and destroy the response tail in flight.
    func shutdownWrite()
    /// Bytes written that the peer has not acknowledged yet (nil when the stream cannot tell).
    var unacknowledgedBytes: Int? { get }
}

extension ByteStream {
    /// By default a stream is closed as soon as `close()` returns.
    public func close(then done: @escaping () -> Void) {
        close()
        done()
    }

    /// By default a stream is never known drained: read until `.wouldBlock`.
    public var isReadDrained: Bool { false }

    /// By default a stream cannot half-close.
    public func shutdownWrite() {}

    /// By default a stream cannot tell.
    public var unacknowledgedBytes: Int? { nil }
}
