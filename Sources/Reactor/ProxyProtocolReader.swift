/// Reads a PROXY protocol header off a fresh `SocketStream`, then hands the stream on with its `peer` set to the
/// client the header names.
///
/// The header is peeked (`MSG_PEEK`) and only its own bytes are consumed, so whatever follows (a TLS
/// ClientHello, an HTTP request) stays in the socket for the next layer, which is told to read at once. A
/// malformed header, a peer that closes, or no complete header within `timeout` ms closes the connection:
/// behind a balancer that sends the header, a connection without one is not from the balancer.
public final class ProxyProtocolReader: TimerTarget, ByteStreamDelegate {
    /// The stream until the header is read or refused (then nil: the timer wheel, which keeps this reader
    /// until its deadline, must not keep the connection too).
    private var socket: SocketStream?
    private var onHeader: ((SocketStream) -> Void)?
    private let onFailure: () -> Void
    private var done: Bool { socket == nil }
    private var buffer: [UInt8]

    /// Starts reading the header of `socket`; `onHeader` runs on the loop with the stream once it is read,
    /// `onFailure` when the connection is closed instead.
    @discardableResult
    public init(
        socket: SocketStream, timeout: Int64, onHeader: @escaping (SocketStream) -> Void,
        onFailure: @escaping () -> Void = {}
    ) {
        self.socket = socket
        self.onHeader = onHeader
        self.onFailure = onFailure
        buffer = [UInt8](repeating: 0, count: ProxyProtocol.v2MaxLength)
        super.init()
        socket.delegate = self
        socket.loop.wake(self, at: socket.loop.now + timeout)
        streamReadable()
    }

    public func streamReadable() {
        guard let socket else { return }
        // Invariant: `buffer` is not resized while the kernel copies into it.
        let outcome = buffer.withUnsafeMutableBytes { socket.peek($0) }
        switch outcome {
        case .wouldBlock:
            return
        case .closed:
            fail(nil)
        case .done(let count):
            switch ProxyProtocol.parse(buffer[..<count]) {
            case .incomplete:
                if count == buffer.count { fail("PROXY protocol header too long") }
            case .invalid(let reason):
                fail(reason)
            case .header(let length, let source):
                guard socket.discard(length) else { return fail(nil) }
                let onHeader = self.onHeader
                self.socket = nil
                self.onHeader = nil
                buffer = []
                if let source { socket.peer = source }
                socket.delegate = nil
                onHeader?(socket)
            }
        }
    }

    public func streamWritable() {}

    public func streamHungUp() { fail(nil) }

    public override func timerFired(now: Int64) {
        if !done { fail("no complete PROXY protocol header in time") }
    }

    private func fail(_ reason: String?) {
        guard let socket else { return }
        self.socket = nil
        onHeader = nil
        buffer = []
        if let reason {
            socket.loop.logger.info("closing connection: \(reason)", metadata: ["peer": "\(socket.peer)"])
        }
        socket.close()
        onFailure()
    }
}
