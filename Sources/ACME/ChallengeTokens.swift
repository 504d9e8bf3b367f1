import Reactor

/// The HTTP-01 challenges in progress (RFC 8555 §8.3): token → key authorization. Written by the ACME thread,
/// read by every loop answering `/.well-known/acme-challenge/TOKEN` on the plain port.
public final class ChallengeTokens: Sendable {
    private let tokens = Locked<[String: String]>([:])

    public init() {}

    /// The path prefix the plain listener answers from this store.
    public static let pathPrefix = "/.well-known/acme-challenge/"

    /// Makes `token` answer `keyAuthorization`.
    public func add(token: String, keyAuthorization: String) { tokens.withLock { $0[token] = keyAuthorization } }

    /// Forgets `token`.
    public func remove(token: String) { _ = tokens.withLock { $0.removeValue(forKey: token) } }

    /// The key authorization for the request path, when it is a pending challenge's.
    public func keyAuthorization(forPath path: String) -> String? {
        guard path.hasPrefix(Self.pathPrefix) else { return nil }
        let token = String(path.dropFirst(Self.pathPrefix.count))
        return tokens.withLock { $0[token] }
    }
}
