public import Reactor

/// A set of CIDR blocks whose peers may speak for the client through `X-Forwarded-*` headers.
public struct TrustedProxies: Sendable, Equatable {
    struct Block: Sendable, Equatable {
        let host: SocketAddress.Host
        let prefix: Int
    }

    private let blocks: [Block]

    /// Loopback and the private ranges a container bridge network uses (RFC 1918, RFC 4193 ULA).
    public static let defaultCIDRs = [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
        "fc00::/7",
    ]

    /// An empty set: no peer is trusted.
    public static let none = TrustedProxies(blocks: [])

    private init(blocks: [Block]) { self.blocks = blocks }

    /// Parses CIDR strings (`10.0.0.0/8`, `2001:db8::/32`, or a bare address meaning a single host).
    /// Throws a message naming the first invalid entry.
    public init(cidrs: [String]) throws(ConfigurationError) {
        var blocks: [Block] = []
        for raw in cidrs {
            let entry = raw.trimmingASCIISpaces()
            if entry.isEmpty { continue }
            let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = SocketAddress(ip: String(parts[0])) else {
                throw ConfigurationError("'\(entry)' is not an IP address or CIDR block")
            }
            let maxPrefix = if case .v4 = address.host { 32 } else { 128 }
            var prefix = maxPrefix
            if parts.count == 2 {
                guard let p = Int(parts[1]), (0...maxPrefix).contains(p) else {
                    throw ConfigurationError("'\(entry)': prefix length must be 0...\(maxPrefix)")
                }
                prefix = p
            }
            blocks.append(Block(host: address.host, prefix: prefix))
        }
        self.blocks = blocks
    }

    /// True when `host` lies in one of the blocks.
    public func contains(_ host: SocketAddress.Host) -> Bool {
        for block in blocks where Self.matches(host, block) { return true }
        return false
    }

    private static func matches(_ host: SocketAddress.Host, _ block: Block) -> Bool {
        switch (host, block.host) {
        case (.v4(let a), .v4(let b)):
            if block.prefix == 0 { return true }
            let mask = UInt32.max << (32 - UInt32(block.prefix))
            return a & mask == b & mask
        case (.v6(let ahi, let alo), .v6(let bhi, let blo)):
            let p = block.prefix
            if p == 0 { return true }
            if p <= 64 {
                let mask = UInt64.max << (64 - UInt64(p))
                return ahi & mask == bhi & mask
            }
            let mask = p == 128 ? UInt64.max : UInt64.max << (128 - UInt64(p))
            return ahi == bhi && alo & mask == blo & mask
        default:
            return false
        }
    }
}

/// A configuration value was refused; the message says what is allowed.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// What was wrong, for the operator.
    public let message: String
    /// Makes an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
