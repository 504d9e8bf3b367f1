import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `/metrics` (issue #12): scraped over HTTP, parsed by Prometheus's own Python parser (tests/metrics/parse.py),
/// and checked to move by exactly the requests made.
@Suite(.serialized) struct MetricsTests {
    /// Every sample of one scrape, keyed `name{label=value,...}` (labels sorted).
    struct Scrape {
        let samples: [String: Double]

        /// The sample's value, 0 when absent (a counter not yet incremented is not exported).
        subscript(_ key: String) -> Double { samples[key] ?? 0 }

        /// Fetches `url` and parses it; a format error fails the test.
        static func fetch(_ url: String) throws -> Scrape {
            let reply = try curl([url])
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let directory = try TemporaryDirectory()
            try directory.write("metrics.txt", reply.body)
            let parsed = try run(h2Python, [packageRoot + "/tests/metrics/parse.py", directory.path + "/metrics.txt"])
            try #require(parsed.status == 0, "Prometheus's parser refused /metrics: \(parsed.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Double]
            return Scrape(samples: try #require(object))
        }

        /// How much each key moved since `earlier`.
        func delta(_ key: String, since earlier: Scrape) -> Double { self[key] - earlier[key] }
    }

    static func requests(_ proto: String, _ route: String, _ status: String) -> String {
        "mywebsite_http_requests_total{protocol=\(proto),route=\(route),status=\(status)}"
    }

    static func metricsURL(of server: ServerProcess) throws -> String {
        let line = try #require(server.stdout.split(separator: "\n").first { $0.hasPrefix("metrics: ") })
        return String(line.dropFirst("metrics: ".count))
    }

    @Test func countersMoveByExactlyTheRequestsMadeAndTheFormatParses() throws {
        let assets = try TemporaryDirectory()
        try assets.write("hello.txt", "hello\n")
        let server = try ServerProcess(["--static-path", assets.path, "--metrics-port", "0", "--threads", "2"])
        let metrics = try Self.metricsURL(of: server)
        let before = try Scrape.fetch(metrics)
        for _ in 0..<7 { #expect(try curl(["\(server.url)/static/hello.txt"]).status == 200) }
        for _ in 0..<3 { #expect(try curl(["\(server.url)/static/missing.txt"]).status == 404) }
        for _ in 0..<2 { #expect(try curl(["\(server.url)/healthz"]).status == 200) }
        #expect(try curl(["-I", "\(server.url)/static/hello.txt"]).status == 200)
        // Scraping counts nothing: the metrics listener is not the site.
        _ = try Scrape.fetch(metrics)
        let after = try Scrape.fetch(metrics)
        #expect(after.delta(Self.requests("http/1.1", "static", "2xx"), since: before) == 8)
        #expect(after.delta(Self.requests("http/1.1", "static", "4xx"), since: before) == 3)
        #expect(after.delta(Self.requests("http/1.1", "health", "2xx"), since: before) == 2)
        let total = after.samples.filter { $0.key.hasPrefix("mywebsite_http_requests_total{") }.values.reduce(0, +)
        let totalBefore = before.samples.filter { $0.key.hasPrefix("mywebsite_http_requests_total{") }.values.reduce(
            0, +)
        #expect(total - totalBefore == 13)
        let histogramCount = "mywebsite_http_request_duration_seconds_count{protocol=http/1.1}"
        #expect(after.delta(histogramCount, since: before) == 13)
        #expect(
            after.delta("mywebsite_http_request_duration_seconds_bucket{le=+Inf,protocol=http/1.1}", since: before)
                == 13)
        // 7 bodies of 6 bytes; HEAD sends none; the 404 bodies count too.
        let bytes = after.delta("mywebsite_http_response_body_bytes_total{protocol=http/1.1}", since: before)
        #expect(bytes >= 42 && bytes < 42 + 3 * 4096)
        #expect(after.delta("mywebsite_accepts_total{listener=http}", since: before) == 13)
        #expect(after["mywebsite_content_generation{}"] >= 1)
        #expect(after["mywebsite_process_start_time_seconds{}"] > 1_700_000_000)
        #expect(after.samples.keys.contains("mywebsite_loop_lag_seconds{loop=1}"))
    }

    @Test func theSitePortDoesNotServeMetrics() throws {
        let server = try ServerProcess(["--metrics-port", "0"])
        let reply = try curl(["\(server.url)/metrics"])
        #expect(reply.status == 404)
        #expect(!reply.text.contains("mywebsite_"))
        let noMetrics = try ServerProcess([])
        #expect(!noMetrics.stdout.contains("metrics: "), "without --metrics-port there is no metrics listener")
    }

    @Test func aMetricsPortThatIsTheSitePortIsRefusedAtStartUp() throws {
        let result = try run(binaryPath, ["serve", "--port", "8089", "--metrics-port", "8089"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--metrics-port 8089 is a site port"))
    }

    @Test func idleConnectionsAreCountedPerLoop() throws {
        let server = try ServerProcess(["--metrics-port", "0", "--threads", "1"])
        let metrics = try Self.metricsURL(of: server)
        var clients: [RawClient] = []
        for _ in 0..<5 {
            let client = try RawClient(port: server.port)
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponses(1).first?.status == 200)
            clients.append(client)
        }
        // Gauges are refreshed every second.
        try waitUntil(seconds: 5) {
            let scrape = try Scrape.fetch(metrics)
            return scrape["mywebsite_connections_open{loop=0}"] == 5
                && scrape["mywebsite_connections_idle{loop=0}"] == 5
        }
        clients.removeAll()
        try waitUntil(seconds: 5) { try Scrape.fetch(metrics)["mywebsite_connections_open{loop=0}"] == 0 }
    }

    @Test func tlsHandshakesHTTP2AndCertificateExpiryAreCounted() throws {
        let certs = TestCertificates.shared
        let assets = try TemporaryDirectory()
        try assets.write("hello.txt", "hello\n")
        let state = try TemporaryDirectory()
        let server = try ServerProcess(
            [
                "--mode", "direct-tls", "--https-port", "0", "--http-port", "off", "--static-path", assets.path,
                "--cert", certs.file("ecdsa.pem"), "--key", certs.file("ecdsa.key"), "--data-path", state.path,
                "--metrics-port", "0",
            ], expectListening: "listening: https://")
        let metrics = try Self.metricsURL(of: server)
        let before = try Scrape.fetch(metrics)
        let url = "https://localhost:\(server.port)/static/hello.txt"
        for _ in 0..<2 { #expect(try curl(["-k", "--http2", url]).status == 200) }
        #expect(try curl(["-k", "--http1.1", url]).status == 200)
        // Plaintext on the TLS port: a failed handshake.
        let plain = try RawClient(port: server.port)
        plain.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(plain.isClosedByPeer())
        var after = before
        try waitUntil(seconds: 5) {
            after = try Scrape.fetch(metrics)
            return after.delta("mywebsite_http_request_duration_seconds_count{protocol=h2}", since: before) == 2
        }
        #expect(after.delta(Self.requests("h2", "static", "2xx"), since: before) == 2)
        #expect(after.delta(Self.requests("http/1.1", "static", "2xx"), since: before) == 1)
        let okKeys = after.samples.keys.filter {
            $0.hasPrefix("mywebsite_tls_handshakes_total{") && $0.contains("result=ok") && $0.contains("TLSv1.3")
        }
        var handshakes = 0.0
        for key in okKeys { handshakes += after.delta(key, since: before) }
        #expect(handshakes == 3)
        #expect(
            after.delta("mywebsite_tls_handshakes_total{cipher=none,protocol=none,result=failed}", since: before) == 1)
        // The test certificate is for localhost; its expiry is in the future and both gauges agree.
        let expiry = after["mywebsite_tls_certificate_expiry_timestamp_seconds{name=localhost}"]
        let remaining = after["mywebsite_tls_certificate_expires_in_seconds{name=localhost}"]
        #expect(expiry > Date().timeIntervalSince1970)
        #expect(abs(expiry - Date().timeIntervalSince1970 - remaining) < 10)
    }
}
