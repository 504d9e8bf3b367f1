/// The outcome of one step of a `TLSSession`. Want-read and want-write are outcomes, not errors.
public enum TLSResult: Equatable, Sendable {
    /// The step finished: the handshake is complete, bytes moved, or close_notify is queued.
    case done
    /// OpenSSL needs more ciphertext from the peer: feed some, then repeat the call.
    case wantRead
    /// OpenSSL needs its pending ciphertext sent first: send it, then repeat the call.
    case wantWrite
    /// The peer closed: close_notify received, or its end of the stream reached (cleanly or not).
    case closed
    /// The session failed and must be dropped; no `shutdown` is possible after this.
    case failed(TLSError)
}

/// A protocol version the engine speaks.
public enum TLSVersion: Comparable, Sendable, CustomStringConvertible {
    /// TLS 1.2 (RFC 5246).
    case tls12
    /// TLS 1.3 (RFC 8446).
    case tls13

    public var description: String {
        switch self {
        case .tls12: "TLSv1.2"
        case .tls13: "TLSv1.3"
        }
    }
}
