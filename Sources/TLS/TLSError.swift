/// A TLS failure: what was being done, and OpenSSL's own reasons, oldest first.
///
/// Loading errors name the file (`certificate /etc/tls/site.pem: ... no start line`); handshake errors name
/// the OpenSSL call (`SSL_do_handshake: error:0A00009C:SSL routines::http request`). A peer-caused error
/// closes that connection only and is logged at debug level.
public struct TLSError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of thing went wrong, for callers that branch on it (tests, start-up messages).
    public enum Kind: Equatable, Sendable {
        /// A setting OpenSSL refused (cipher list, groups, ALPN list, an empty certificate list).
        case configuration
        /// A certificate file could not be read or parsed.
        case certificate
        /// A private-key file could not be read or parsed (an encrypted key is refused, never prompted for).
        case privateKey
        /// The private key is not the certificate's key.
        case keyMismatch
        /// The certificate's notAfter is in the past.
        case expired
        /// The certificate's notBefore is in the future.
        case notYetValid
        /// The handshake failed: plaintext or garbage from the peer, no shared version or cipher, bad peer.
        case handshake
        /// A record-layer failure after the handshake (bad MAC, unexpected message).
        case protocolViolation
        /// Reading the body to encrypt failed (`pread` of a file chunk).
        case system
    }

    /// The kind of failure.
    public let kind: Kind
    /// What was being done: an OpenSSL call, or the file being loaded (`certificate /path/site.pem`).
    public let context: String
    /// OpenSSL's error strings (`ERR_error_string_n`), oldest first; our own words when the queue was empty.
    public let reasons: [String]

    /// Makes an error; `reasons` should come from OpenSSL's error queue.
    public init(_ kind: Kind, context: String, reasons: [String]) {
        self.kind = kind
        self.context = context
        self.reasons = reasons
    }

    public var description: String {
        reasons.isEmpty ? context : "\(context): \(reasons.joined(separator: "; "))"
    }
}
