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

    /// The key in nine bytes (a /64 needs only the high half of an IPv6 address), for what sits beside every
    /// open connection (`ConnectionLimiter.Slot`); `init(packed:)` gives it back.
    var packed: (kind: UInt8, bits: UInt64) {
        switch host {
        case .v4(let address): (4, UInt64(address))
        case .v6(let high, _): (6, high)
        case .other: (1, 0)
        }
    }

    init(packed: (kind: UInt8, bits: UInt64)) {
        switch packed.kind {
        case 4: host = .v4(UInt32(truncatingIfNeeded: packed.bits))
        case 6: host = .v6(packed.bits, 0)
        default: host = .other
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
