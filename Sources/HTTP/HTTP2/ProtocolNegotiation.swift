import Reactor

/// Holds a fresh TLS stream until its handshake is done, then hands it to HTTP/2 or HTTP/1.1 by the ALPN
/// protocol (RFC 7301; RFC 9113 §3.2: `h2` over TLS). A stream that fails its handshake just closes.
final class ProtocolNegotiation: ByteStreamDelegate {
    private let stream: any ByteStream
    private let server: HTTPServer
    private let negotiated: () -> String?

    init(stream: any ByteStream, server: HTTPServer, negotiated: @escaping () -> String?) {
        self.stream = stream
        self.server = server
        self.negotiated = negotiated
    }

    /// The handshake is complete (a TLS stream reports readability only from then on).
    func streamReadable() {
        if negotiated() == "h2" {
            server.acceptHTTP2(stream)
        } else {
            server.accept(stream)
        }
        // The edge that brought us here may carry the first request: the new delegate reads it.
        stream.delegate?.streamReadable()
    }

    func streamWritable() {}

    func streamHungUp() {
        stream.close()
    }
}
