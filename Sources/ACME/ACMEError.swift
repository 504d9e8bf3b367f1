/// Why an ACME step failed. Each case reads as one log line: what was being done and what the CA or the
/// system said.
public enum ACMEError: Error, CustomStringConvertible, Sendable {
    /// An OpenSSL operation failed: what, and OpenSSL's reasons.
    case crypto(String, String)
    /// The CA could not be reached or spoke no usable HTTP: the URL and why.
    case transport(String, String)
    /// The CA answered with a problem document (RFC 7807, RFC 8555 §6.7).
    case problem(Problem)
    /// The CA answered something RFC 8555 does not allow (a missing field, an unexpected status).
    case unexpected(String)
    /// Reading or writing the state directory failed.
    case storage(String)

    /// A problem document and where it came from.
    public struct Problem: Sendable {
        /// `urn:ietf:params:acme:error:badNonce`, ...
        public var type: String
        public var detail: String
        public var status: Int
        public var url: String
        /// The document as the CA sent it (compact), for the log.
        public var document: String
        /// Seconds, from the `Retry-After` header.
        public var retryAfter: Int?
    }

    /// Seconds the CA asked us to wait, if it did.
    public var retryAfter: Int? {
        if case .problem(let p) = self { return p.retryAfter }
        return nil
    }

    /// True for `rateLimited` (RFC 8555 §6.7): back off for long.
    public var isRateLimited: Bool {
        if case .problem(let p) = self { return p.type.hasSuffix(":rateLimited") }
        return false
    }

    public var description: String {
        switch self {
        case .crypto(let what, let why): "\(what): \(why)"
        case .transport(let url, let why): "\(url): \(why)"
        case .problem(let p): "CA problem (HTTP \(p.status) from \(p.url)): \(p.document)"
        case .unexpected(let what): "unexpected CA answer: \(what)"
        case .storage(let what): "state directory: \(what)"
        }
    }
}
