import Reactor
import Testing

@Suite struct ProxyProtocolParseTests {
    static func parse(_ text: String) -> ProxyProtocol.Parse { ProxyProtocol.parse(Array(text.utf8)[...]) }

    @Test func readsAV1TCP4Header() {
        let header = "PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n"
        guard case .header(let length, let source?) = Self.parse(header + "GET / HTTP/1.1\r\n") else {
            Issue.record("expected a header")
            return
        }
        #expect(length == header.utf8.count)
        #expect(source == SocketAddress(ip: "203.0.113.7", port: 51234))
    }

    @Test(arguments: ["P", "PROXY", "PROXY TCP4 203.0.113.7", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r"])
    func waitsForTheRestOfAV1Header(_ prefix: String) {
        #expect(Self.parse(prefix) == .incomplete)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "PROXY TCP5 a b 1 2\r\n",
        "PROXY " + String(repeating: "1", count: 120),
    ])
    func refusesMalformedV1Headers(_ text: String) {
        guard case .invalid = Self.parse(text) else {
            Issue.record("\(text.debugDescription) accepted")
            return
        }
    }

    @Test func readsAV2IPv6HeaderWithATLVAndALocalOne() {
        var bytes: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x21]
        var body = [UInt8](repeating: 0, count: 36)
        body[0] = 0x20
        body[1] = 0x01
        body[15] = 0x05  // 2001::5
        body[32] = 0x9C
        body[33] = 0x40  // port 40000
        body += [0x01, 0x00, 0x01, 0x68]  // TLV
        bytes += [0, UInt8(body.count)] + body
        guard case .header(let length, let source?) = ProxyProtocol.parse(bytes[...] + [0x16, 0x03]) else {
            Issue.record("expected a header")
            return
        }
        #expect(length == bytes.count)
        #expect(source == SocketAddress(ip: "2001::5", port: 40000))
        var local = bytes
        local[12] = 0x20
        guard case .header(_, nil) = ProxyProtocol.parse(local[...]) else {
            Issue.record("LOCAL relays no client")
            return
        }
        #expect(ProxyProtocol.parse(bytes.prefix(20)) == .incomplete)
        var badVersion = bytes
        badVersion[12] = 0x31
        guard case .invalid = ProxyProtocol.parse(badVersion[...]) else {
            Issue.record("version 3 accepted")
            return
        }
    }
}
