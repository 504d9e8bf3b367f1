/// The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a TCP load balancer (HAProxy, AWS NLB)
/// sends before the client's bytes, naming the client it relays. Pure parsing; `ProxyProtocolReader` reads it
/// off a socket.
public enum ProxyProtocol {
    /// What the first bytes of a connection say.
    public enum Parse: Equatable, Sendable {
        /// A valid beginning: wait for more bytes.
        case incomplete
        /// Not a valid header (the reason, for a log line): close the connection.
        case invalid(String)
        /// A whole header of `length` bytes. `source` is the client, or nil when the header relays none (v1
        /// `UNKNOWN`, v2 `LOCAL` such as the balancer's own health checks, or a non-IP family): keep the peer.
        case header(length: Int, source: SocketAddress?)
    }

    /// v1: `PROXY TCP4 ` … CRLF, at most 107 bytes.
    static let v1Prefix: [UInt8] = Array("PROXY ".utf8)
    static let v1MaxLength = 107
    /// v2: a 12-byte signature, version/command, family, and a 16-bit length.
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The longest v2 header taken (addresses plus TLVs); real balancers send well under it.
    public static let v2MaxLength = 16 + 2048

    /// Parses the header at the start of `bytes`.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> Parse {
        guard let first = bytes.first else { return .incomplete }
        if first == v2Signature[0] { return parseV2(bytes) }
        if first == v1Prefix[0] { return parseV1(bytes) }
        return .invalid("no PROXY protocol header")
    }

    private static func parseV1(_ bytes: ArraySlice<UInt8>) -> Parse {
        let prefixCount = min(bytes.count, v1Prefix.count)
        guard bytes.prefix(prefixCount).elementsEqual(v1Prefix.prefix(prefixCount)) else {
            return .invalid("malformed PROXY v1 header")
        }
        if let lf = bytes.firstIndex(of: 0x0A), bytes.firstIndex(of: 0x0D).map({ $0 > lf }) ?? true {
            return .invalid("PROXY v1 header not ended by CRLF")
        }
        guard let cr = bytes.firstIndex(of: 0x0D) else {
            return bytes.count >= v1MaxLength ? .invalid("PROXY v1 header longer than 107 bytes") : .incomplete
        }
        guard cr - bytes.startIndex + 2 <= v1MaxLength else { return .invalid("PROXY v1 header longer than 107 bytes") }
        guard cr + 1 < bytes.endIndex else { return .incomplete }
        guard bytes[cr + 1] == 0x0A else { return .invalid("PROXY v1 header not ended by CRLF") }
        let length = cr + 2 - bytes.startIndex
        let fields = bytes[bytes.startIndex..<cr].split(separator: 0x20, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard fields.count >= 2, fields[0] == "PROXY" else { return .invalid("malformed PROXY v1 header") }
        switch fields[1] {
        case "UNKNOWN":
            return .header(length: length, source: nil)
        case "TCP4", "TCP6":
            guard fields.count == 6, let sourcePort = port(fields[4]), port(fields[5]) != nil,
                let source = SocketAddress(ip: fields[2], port: sourcePort),
                let destination = SocketAddress(ip: fields[3], port: 0)
            else { return .invalid("malformed PROXY v1 addresses") }
            let isV4 = fields[1] == "TCP4"
            guard isV4 == source.host.isV4, isV4 == destination.host.isV4 else {
                return .invalid("PROXY v1 addresses do not match \(fields[1])")
            }
            return .header(length: length, source: source)
        default:
            return .invalid("PROXY v1 protocol \(fields[1].prefix(8)) is not TCP4, TCP6 or UNKNOWN")
        }
    }

    private static func port(_ text: String) -> UInt16? {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            !(text.count > 1 && text.hasPrefix("0"))
        else { return nil }
        return UInt16(text)
    }

    private static func parseV2(_ bytes: ArraySlice<UInt8>) -> Parse {
        let signatureCount = min(bytes.count, v2Signature.count)
        guard bytes.prefix(signatureCount).elementsEqual(v2Signature.prefix(signatureCount)) else {
            return .invalid("malformed PROXY v2 signature")
        }
        guard bytes.count >= 16 else { return .incomplete }
        let base = bytes.startIndex
        let versionCommand = bytes[base + 12]
        guard versionCommand >> 4 == 2 else { return .invalid("PROXY v2 header with version \(versionCommand >> 4)") }
        let command = versionCommand & 0x0F
        guard command <= 1 else { return .invalid("PROXY v2 command \(command) is neither LOCAL nor PROXY") }
        let family = bytes[base + 13]
        let declared = Int(bytes[base + 14]) << 8 | Int(bytes[base + 15])
        guard 16 + declared <= v2MaxLength else { return .invalid("PROXY v2 header of \(16 + declared) bytes") }
        guard bytes.count >= 16 + declared else { return .incomplete }
        let length = 16 + declared
        if command == 0 { return .header(length: length, source: nil) }  // LOCAL: the balancer's own connection
        let body = bytes[(base + 16)..<(base + length)]
        func read16(_ at: Int) -> UInt16 {
            UInt16(body[body.startIndex + at]) << 8 | UInt16(body[body.startIndex + at + 1])
        }
        func read64(_ at: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(body[body.startIndex + at + $1]) }
        }
        switch family {
        case 0x11, 0x12:  // TCP or UDP over IPv4
            guard declared >= 12 else { return .invalid("PROXY v2 IPv4 addresses truncated") }
            let raw = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(body[body.startIndex + $1]) }
            return .header(length: length, source: SocketAddress(host: .v4(raw), port: read16(8)))
        case 0x21, 0x22:  // over IPv6
            guard declared >= 36 else { return .invalid("PROXY v2 IPv6 addresses truncated") }
            let host = SocketAddress.Host.v6(read64(0), read64(8))
            return .header(length: length, source: SocketAddress(host: host, port: read16(32)))
        default:  // UNSPEC or unix sockets: nothing to relay
            return .header(length: length, source: nil)
        }
    }
}

extension SocketAddress.Host {
    /// True for an IPv4 address.
    public var isV4: Bool {
        if case .v4 = self { return true }
        return false
    }
}
