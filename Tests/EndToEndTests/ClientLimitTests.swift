import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Per-client connection and request-rate limits, and the total connection cap (issue #12), from real sockets
/// on several loopback addresses (127.0.0.1 and 127.0.0.2 are two clients to the server).
@Suite(.serialized) struct ClientLimitTests {
    /// Opens `count` connections from `source` and says which the server closed at once (refused) and which it
    /// kept (each then answers a request).
    static func open(_ count: Int, to port: Int, from source: String) throws -> (kept: [RawClient], refused: Int) {
        var clients: [RawClient] = []
        // 127.0.0.1 is the kernel's own choice of source: no explicit bind, which would take ephemeral ports at
        // bind time, without regard to the destination.
        let bound = source == "127.0.0.1" ? nil : source
        for _ in 0..<count { clients.append(try RawClient(port: port, source: bound)) }
        var kept: [RawClient] = []
        var refused = 0
        usleep(300_000)  // the server accepts (and refuses) them meanwhile
        for client in clients {
            if client.wasClosed(within: 0.01) { refused += 1 } else { kept.append(client) }
        }
        return (kept, refused)
    }

    @Test func twoHundredConnectionsFromOneAddressAreCappedWhileAnotherAddressIsServed() throws {
        let server = try ServerProcess([
            "--max-connections-per-ip", "50", "--limit-exempt", "none", "--metrics-port", "0", "--threads", "2",
            "--trusted-proxies", "10.0.0.0/8",  // not loopback: a trusted proxy counts in the total cap only
        ])
        let (kept, refused) = try Self.open(200, to: server.port, from: "127.0.0.1")
        #expect(kept.count == 50, "server stderr: \(server.stderr.suffix(3000))")
        #expect(refused == 150)
        for client in kept.prefix(5) {
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponses(1).first?.status == 200, "a connection within the limit is served")
        }
        // Another client is not affected by the first one's connections.
        let other = try RawClient(port: server.port, source: "127.0.0.2")
        other.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(other.readResponses(1).first?.status == 200)
        // The refusals are counted and logged (once a second at most, not 150 lines).
        let metrics = try MetricsTests.Scrape.fetch(try MetricsTests.metricsURL(of: server))
        #expect(metrics["mywebsite_connections_refused_total{reason=per_ip}"] == 150)
        let lines = server.stderr.split(separator: "\n").filter { $0.contains("--max-connections-per-ip 50 reached") }
        #expect((1...3).contains(lines.count))
        // Closing connections gives their places back.
        let released = kept.count
        _ = consume kept
        try waitUntil(seconds: 5) {
            let (again, refusedAgain) = try Self.open(released, to: server.port, from: "127.0.0.1")
            return again.count == released && refusedAgain == 0
        }
    }

    @Test func aTrustedProxysConnectionsCountInTheTotalOnly() throws {
        let server = try ServerProcess(["--max-connections-per-ip", "5", "--limit-exempt", "none"])
        let (kept, refused) = try Self.open(20, to: server.port, from: "127.0.0.1")
        #expect(kept.count == 20 && refused == 0, "127.0.0.1 is a trusted proxy by default: nginx's connections")
    }

    @Test func theTotalCapRefusesConnectionsBeyondIt() throws {
        let server = try ServerProcess(["--max-connections", "20", "--threads", "1"])
        let (kept, refused) = try Self.open(30, to: server.port, from: "127.0.0.1")
        #expect(kept.count == 20)
        #expect(refused == 10)
        #expect(server.stderr.contains("--max-connections 20 reached"))
    }

    @Test func loopbackIsExemptByDefault() throws {
        let server = try ServerProcess([
            "--max-connections-per-ip", "5", "--rate-limit", "1", "--rate-limit-burst", "1",
        ])
        let (kept, refused) = try Self.open(20, to: server.port, from: "127.0.0.1")
        #expect(kept.count == 20 && refused == 0)
        for _ in 0..<5 { #expect(try curl(["\(server.url)/healthz"]).status == 200) }
    }

    @Test func theRateLimitAnswers429WithRetryAfterPerClient() throws {
        let server = try ServerProcess([
            "--rate-limit", "2", "--rate-limit-burst", "10", "--limit-exempt", "none", "--metrics-port", "0",
        ])
        let client = try RawClient(port: server.port, source: "127.0.0.1")
        client.send(String(repeating: "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", count: 15))
        let replies = client.readResponses(15)
        #expect(replies.count == 15, "a limited client keeps its connection")
        #expect(replies.prefix(10).allSatisfy { $0.status == 200 })
        let limited = replies.dropFirst(10)
        #expect(limited.allSatisfy { $0.status == 429 })
        for reply in limited {
            let wait = try #require(reply.header("Retry-After").flatMap(Int.init))
            #expect((1...2).contains(wait))
        }
        // Another address has its own bucket.
        let other = try RawClient(port: server.port, source: "127.0.0.2")
        other.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(other.readResponses(1).first?.status == 200)
        // Tokens come back with time: at 2 per second, one second later two more requests pass.
        sleep(1)
        client.send(String(repeating: "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", count: 2))
        #expect(client.readResponses(2).allSatisfy { $0.status == 200 })
        let metrics = try MetricsTests.Scrape.fetch(try MetricsTests.metricsURL(of: server))
        #expect(metrics["mywebsite_http_rate_limited_total{}"] == 5)
        #expect(metrics[MetricsTests.requests("http/1.1", "other", "4xx")] == 5)
    }

    @Test func behindATrustedProxyTheLimitKeysOnTheForwardedClient() throws {
        // Behind nginx every connection comes from the proxy; each forwarded client has its own bucket.
        let server = try ServerProcess(["--rate-limit", "1", "--rate-limit-burst", "3"])
        func status(_ client: String) throws -> Int {
            try curl(["-H", "X-Forwarded-For: \(client)", "\(server.url)/healthz"]).status
        }
        for _ in 0..<3 { #expect(try status("203.0.113.7") == 200) }
        #expect(try status("203.0.113.7") == 429)
        #expect(try status("198.51.100.2") == 200)
    }

    @Test func limitsAreOffByDefaultBehindAProxyAndOnInDirectTLS() throws {
        let proxied = try ServerProcess(["--limit-exempt", "none"])
        let client = try RawClient(port: proxied.port)
        client.send(String(repeating: "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", count: 600))
        #expect(client.readResponses(600).allSatisfy { $0.status == 200 })

        let state = try TemporaryDirectory()
        let certs = TestCertificates.shared
        let direct = try ServerProcess(
            [
                "--mode", "direct-tls", "--https-port", "0", "--http-port", "off", "--data-path", state.path,
                "--cert", certs.file("ecdsa.pem"), "--key", certs.file("ecdsa.key"), "--limit-exempt", "none",
                "--threads", "1",
            ], expectListening: "listening: https://")
        // 256 connections per address by default: the 257th from 127.0.0.1 is refused.
        let (kept, refused) = try Self.open(260, to: direct.port, from: "127.0.0.1")
        #expect(kept.count == 256)
        #expect(refused == 4)
    }
}
