public import Reactor

/// The client a limit counts against: an IPv4 address, or the /64 network of an IPv6 one (a single host
/// usually holds a whole /64, and could rotate through it to dodge a per-address limit).
public struct ClientKey: Hashable, Sendable {
    let host: SocketAddress.Host

    /// The key of `host`.
    public init(_ host: SocketAddress.Host) {
        switch host {
        case .v6(let high, _): self.host = .v6(high, 0)
        default: self.host = host
        }
    }

    /// Which of `shardCount` (a power of two) shards holds this key.
    func shard(of shardCount: Int) -> Int {
        var hasher = Hasher()
        hasher.combine(host)
        return hasher.finalize() & (shardCount - 1)
    }
}

/// Addresses no limit applies to (`--limit-exempt`; loopback by default: health checks and a local proxy).
public struct ExemptClients: Sendable {
    let blocks: TrustedProxies

    /// Parses CIDR blocks.
    public init(cidrs: [String]) throws(ConfigurationError) {
        blocks = try TrustedProxies(cidrs: cidrs)
    }

    /// True when `host` is exempt.
    public func contains(_ host: SocketAddress.Host) -> Bool { blocks.contains(host) }
}
