import CLinux
import Glibc

/// An IPv4 or IPv6 socket address, as the kernel gave or takes it.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family and its raw bytes.
    public enum Host: Sendable, Hashable {
        /// Four bytes, network order.
        case v4(UInt32)
        /// Sixteen bytes, network order, as two halves.
        case v6(UInt64, UInt64)
        /// A family we do not speak (unix sockets in tests).
        case other
    }

    /// The host part.
    public let host: Host
    /// The port, host byte order.
    public let port: UInt16

    /// Makes an address from its parts.
    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    init(_ storage: sockaddr_storage) {
        var storage = storage
        switch CInt(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            host = .v4(UInt32(bigEndian: sin.sin_addr.s_addr))
            port = UInt16(bigEndian: sin.sin_port)
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            let words = withUnsafeBytes(of: sin6.sin6_addr) { raw in
                (
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
            // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 peer of a dual-stack socket.
            if words.0 == 0 && words.1 >> 32 == 0xffff {
                host = .v4(UInt32(truncatingIfNeeded: words.1))
            } else {
                host = .v6(words.0, words.1)
            }
            port = UInt16(bigEndian: sin6.sin6_port)
        default:
            host = .other
            port = 0
        }
    }

    /// Parses a numeric IPv4 or IPv6 address (no names: nothing here resolves DNS).
    public init?(ip: String, port: UInt16 = 0) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, ip, &v4) == 1 {
            host = .v4(UInt32(bigEndian: v4.s_addr))
        } else if inet_pton(AF_INET6, ip, &v6) == 1 {
            let a = SocketAddress(ipv6: v6, port: port)
            host = a.host
        } else {
            return nil
        }
        self.port = port
    }

    private init(ipv6: in6_addr, port: UInt16) {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_addr = ipv6
            sin6.sin6_port = port.bigEndian
            raw.storeBytes(of: sin6, as: sockaddr_in6.self)
        }
        self.init(storage)
    }

    /// The address as text, without the port: `192.0.2.1`, `2001:db8::1`.
    public var ipString: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch host {
        case .v4(let a):
            var addr = in_addr(s_addr: a.bigEndian)
            inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
        case .v6(let hi, let lo):
            var addr = in6_addr()
            withUnsafeMutableBytes(of: &addr) { raw in
                raw.storeBytes(of: hi.bigEndian, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: lo.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
        case .other:
            return "unix"
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String {
        if case .v6 = host { return "[\(ipString)]:\(port)" }
        return "\(ipString):\(port)"
    }
}
