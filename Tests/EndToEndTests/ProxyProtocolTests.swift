import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `--proxy-protocol on` (issue #12): behind a TCP load balancer the client address comes from the PROXY
/// header (v1 text, v2 binary), the access log shows it, and a missing or malformed header closes the connection.
@Suite(.serialized) struct ProxyProtocolTests {
    let logs: TemporaryDirectory
    let server: ServerProcess

    init() throws {
        logs = try TemporaryDirectory()
        server = try ServerProcess([
            "--proxy-protocol", "on", "--log-path", logs.path, "--log-format", "json", "--threads", "1",
            "--max-connections-per-ip", "2", "--limit-exempt", "none",
        ])
    }

    /// A PROXY v2 header for a TCP connection from `source` (IPv4 or IPv6) to port 443.
    static func v2(_ source: String, port: UInt16 = 40_000, command: UInt8 = 0x21) -> Data {
        var header = Data([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, command])
        var body = Data()
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, source, &v4) == 1 {
            header.append(0x11)
            withUnsafeBytes(of: &v4) { body.append(contentsOf: $0) }
            body.append(contentsOf: [192, 0, 2, 1])
        } else {
            inet_pton(AF_INET6, source, &v6)
            header.append(0x21)
            withUnsafeBytes(of: &v6) { body.append(contentsOf: $0) }
            body.append(contentsOf: [UInt8](repeating: 0, count: 15) + [1])
        }
        body.append(contentsOf: [UInt8(port >> 8), UInt8(port & 0xFF), 0x01, 0xBB])
        body.append(contentsOf: [0x04, 0x00, 0x03, 0x61, 0x62, 0x63])  // a TLV (type 4, "abc"), to be skipped
        header.append(contentsOf: [UInt8(body.count >> 8), UInt8(body.count & 0xFF)])
        return header + body
    }

    func request(agent: String) -> Data {
        Data("GET /healthz HTTP/1.1\r\nHost: a\r\nUser-Agent: \(agent)\r\n\r\n".utf8)
    }

    /// The `client` field of the access-log line of the request sent with `agent`.
    func loggedClient(agent: String) throws -> String? {
        var client: String?
        try waitUntil(seconds: 5) {
            let log = (try? String(contentsOfFile: logs.path + "/access.log", encoding: .utf8)) ?? ""
            client =
                log.split(separator: "\n").compactMap { line -> String? in
                    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                        object["user_agent"] as? String == agent
                    else { return nil }
                    return object["client"] as? String
                }.first
            return client != nil
        }
        return client
    }

    @Test(arguments: [
        ("v1 TCP4", "203.0.113.7"), ("v1 TCP6", "2001:db8::7"), ("v2 TCP4", "198.51.100.9"),
        ("v2 TCP6", "2001:db8:1::9"),
    ])
    func theAccessLogShowsTheRelayedClient(_ kind: String, _ address: String) throws {
        let client = try RawClient(port: server.port)
        let agent = "proxy-test-\(kind.replacingOccurrences(of: " ", with: "-"))"
        if kind.hasPrefix("v1") {
            let family = address.contains(":") ? "TCP6" : "TCP4"
            let destination = address.contains(":") ? "2001:db8::1" : "192.0.2.1"
            client.send("PROXY \(family) \(address) \(destination) 51234 443\r\n")
        } else {
            client.send(Self.v2(address))
        }
        client.send(request(agent: agent))
        #expect(client.readResponses(1).first?.status == 200)
        #expect(try loggedClient(agent: agent) == address)
    }

    @Test func aLocalOrUnknownHeaderKeepsTheTCPPeer() throws {
        let local = try RawClient(port: server.port)
        local.send(Self.v2("192.0.2.50", command: 0x20))
        local.send(request(agent: "proxy-test-local"))
        #expect(local.readResponses(1).first?.status == 200)
        #expect(try loggedClient(agent: "proxy-test-local") == "127.0.0.1")
        let unknown = try RawClient(port: server.port)
        unknown.send("PROXY UNKNOWN\r\n")
        unknown.send(request(agent: "proxy-test-unknown"))
        #expect(unknown.readResponses(1).first?.status == 200)
    }

    @Test(arguments: [
        "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", "PROXY TCP4 nonsense\r\nGET / HTTP/1.1\r\n\r\n",
        "PROXY TCP4 203.0.113.7 192.0.2.1 99999 443\r\n", "PROXY TCP4 2001:db8::1 192.0.2.1 1 443\r\n",
        "PROXY UDP9 1 2 3 4\r\n", "PROXY " + String(repeating: "x", count: 200),
    ])
    func aMissingOrMalformedHeaderClosesTheConnection(_ bytes: String) throws {
        let client = try RawClient(port: server.port)
        client.send(bytes)
        #expect(client.readToEnd(timeout: 3).isEmpty, "nothing is answered")
        #expect(client.wasClosed(within: 1))
        // The server goes on serving.
        let good = try RawClient(port: server.port)
        good.send("PROXY TCP4 203.0.113.8 192.0.2.1 1 443\r\n")
        good.send(request(agent: "proxy-after-bad"))
        #expect(good.readResponses(1).first?.status == 200)
    }

    @Test func aHeaderSplitAcrossPacketsIsWaitedFor() throws {
        let client = try RawClient(port: server.port)
        let header = Self.v2("203.0.113.99")
        client.send(header.prefix(10))
        usleep(100_000)
        client.send(header.dropFirst(10) + request(agent: "proxy-split"))
        #expect(client.readResponses(1).first?.status == 200)
        #expect(try loggedClient(agent: "proxy-split") == "203.0.113.99")
    }

    @Test func theConnectionLimitCountsTheRelayedClient() throws {
        // Two connections per client: a third from the same relayed address is refused, another address is not.
        var held: [RawClient] = []
        for _ in 0..<2 {
            let client = try RawClient(port: server.port)
            client.send("PROXY TCP4 203.0.113.50 192.0.2.1 1 443\r\n")
            client.send(request(agent: "proxy-limit"))
            #expect(client.readResponses(1).first?.status == 200)
            held.append(client)
        }
        let third = try RawClient(port: server.port)
        third.send("PROXY TCP4 203.0.113.50 192.0.2.1 1 443\r\n")
        #expect(third.wasClosed(within: 2))
        let other = try RawClient(port: server.port)
        other.send("PROXY TCP4 203.0.113.51 192.0.2.1 1 443\r\n")
        other.send(request(agent: "proxy-limit-other"))
        #expect(other.readResponses(1).first?.status == 200)
        #expect(held.count == 2)
    }

    @Test func directTLSWorksAfterTheHeader() throws {
        let state = try TemporaryDirectory()
        let certs = TestCertificates.shared
        let tls = try ServerProcess(
            [
                "--mode", "direct-tls", "--https-port", "0", "--http-port", "off", "--data-path", state.path,
                "--cert", certs.file("ecdsa.pem"), "--key", certs.file("ecdsa.key"), "--proxy-protocol", "on",
            ], expectListening: "listening: https://")
        // curl sends a PROXY v1 header before the ClientHello, as HAProxy would.
        let reply = try curl(["-k", "--haproxy-protocol", "https://localhost:\(tls.port)/healthz"])
        #expect(reply.status == 200)
        let without = try run("curl", ["-sk", "--max-time", "5", "https://localhost:\(tls.port)/healthz"])
        #expect(without.status != 0, "a TLS client without the header is not served")
    }
}
