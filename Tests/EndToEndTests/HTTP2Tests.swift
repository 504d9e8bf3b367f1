import Foundation
import Testing

/// The Python interpreter of the test venv (scripts/setup.sh installs the `h2` project's hyperframe and hpack
/// there); the HTTP/2 conformance suite runs under it.
let h2Python = packageRoot + "/.venv-test/bin/python"

/// HTTP/2 in direct-TLS mode, against curl, nghttp and the conformance suite (tests/http2/conformance.py).
@Suite(.serialized) struct HTTP2Tests {
    static let largeSize = 12 * 1024 * 1024
    let assets: TemporaryDirectory
    let state: TemporaryDirectory
    let server: ServerProcess
    var base: String { "https://127.0.0.1:\(server.port)" }

    init() throws {
        assets = try TemporaryDirectory()
        state = try TemporaryDirectory()
        try assets.write("hello.txt", "hello over h2\n")
        // Random bytes: neither compressible nor the same as any other file.
        var generator = SystemRandomNumberGenerator()
        try assets.write(
            "large.bin", Data((0..<Self.largeSize).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        try assets.write("style.css", String(repeating: "body { margin: 0 }\n", count: 200))
        try buildDataPackage(from: packageRoot + "/content", to: state.path + "/data")
        server = try Self.start(assets: assets, state: state)
    }

    static func start(assets: TemporaryDirectory, state: TemporaryDirectory, _ extra: [String] = []) throws
        -> ServerProcess
    {
        try ServerProcess(
            [
                "--mode", "direct-tls", "--https-port", "0", "--http-port", "off", "--static-path", assets.path,
                "--data-path", state.path + "/data", "--templates-path", packageRoot + "/web/templates",
                "--config-path", state.path + "/config", "--threads", "2",
                "--send-timeout", "2", "--shutdown-timeout", "20",
            ] + extra, expectListening: "listening: https://")
    }

    /// `curl -sk` with `arguments`, returning stdout.
    func curlOutput(_ arguments: [String]) throws -> String {
        let result = try run("curl", ["-sk", "--max-time", "20"] + arguments)
        #expect(result.status == 0, "curl \(arguments): \(result.stderr)")
        return result.stdout
    }

    @Test(arguments: ["/static/hello.txt", "/static/style.css", "/en/", "/fr/feed.xml", "/healthz", "/no-such-page"])
    func curlNegotiatesH2AndGetsTheBytesAndHeadersOfHTTP11(_ path: String) throws {
        let h2 = try curl(["-k", "--http2", base + path])
        let h1 = try curl(["-k", "--http1.1", base + path])
        #expect(try curlOutput(["--http2", "-o", "/dev/null", "-w", "%{http_version}", base + path]) == "2")
        #expect(h2.status == h1.status)
        #expect(h2.body == h1.body, "\(path): \(h2.body.count) bytes over h2, \(h1.body.count) over HTTP/1.1")
        // Every header HTTP/1.1 sends, lower-cased, with the same value (Date may tick between the two).
        for (name, value) in h1.headers where !["date", "connection", "keep-alive"].contains(name.lowercased()) {
            #expect(h2.header(name) == value, "\(path): \(name) is \(h2.header(name) ?? "missing") over h2")
        }
        #expect(h2.headers.allSatisfy { $0.0 == $0.0.lowercased() }, "upper-case header names over h2")
    }

    @Test func rangeConditionalAndGzipBehaveAsOverHTTP11() throws {
        let range = try curl(["-k", "--http2", "-H", "Range: bytes=100-199", base + "/static/style.css"])
        #expect(range.status == 206)
        #expect(range.body.count == 100)
        #expect(range.header("content-range") == "bytes 100-199/3800")
        let first = try curl(["-k", "--http2", base + "/static/style.css"])
        let etag = try #require(first.header("etag"))
        let again = try curl(["-k", "--http2", "-H", "If-None-Match: \(etag)", base + "/static/style.css"])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
        // Pages are kept gzipped beside the plain bytes: the same variant over both protocols (to files: the
        // bytes are binary).
        var bodies: [Data] = []
        for version in ["--http2", "--http1.1"] {
            let file = state.path + "/gzip\(version)"
            let headers = try curlOutput(
                [version, "-H", "Accept-Encoding: gzip", "-D", "-", "-o", file, base + "/en/"])
            #expect(headers.lowercased().contains("content-encoding: gzip"), "\(version): \(headers)")
            bodies.append(try Data(contentsOf: URL(fileURLWithPath: file)))
        }
        #expect(bodies[0].starts(with: [0x1F, 0x8B]))
        #expect(bodies[0] == bodies[1])
    }

    @Test func nghttpCarriesManyStreamsOnOneConnection() throws {
        // Ten requests at once (-m 10): nghttp opens one connection and multiplexes them.
        let result = try run("nghttp", ["-nv", "-m", "10", base + "/en/"], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        let connects = out.components(separatedBy: "] Connected").count - 1
        #expect(connects == 1, "\(connects) connections")
        let streams = Set(
            out.split(separator: "\n").filter { $0.contains("recv HEADERS frame") }.compactMap {
                $0.split(separator: "stream_id=").last.map(String.init)
            })
        #expect(streams.count == 10, "responses on \(streams.count) streams")
        #expect(out.contains("negotiated protocol: h2") || out.contains("h2"), "h2 negotiated")
    }

    @Test func accessLogSaysHTTP2() throws {
        _ = try curl(["-k", "--http2", "-A", "h2-log-check", base + "/static/hello.txt"])
        try waitUntil(seconds: 5) {
            server.stdout.contains("\"GET /static/hello.txt HTTP/2.0\" 200 14 \"-\" \"h2-log-check\"")
        }
    }

    @Test func alpnPrefersH2AndStillOffersHTTP11() throws {
        #expect(try sClient(port: server.port, ["-alpn", "h2,http/1.1"]).contains("ALPN protocol: h2"))
        #expect(try sClient(port: server.port, ["-alpn", "http/1.1"]).contains("ALPN protocol: http/1.1"))
        let plain = try curl(["-k", "--http1.1", base + "/static/hello.txt"])
        #expect(plain.text == "hello over h2\n")
    }

    @Test func http2OffOffersOnlyHTTP11() throws {
        let other = try TemporaryDirectory()
        let off = try Self.start(assets: assets, state: other, ["--http2", "off"])
        let version = try curlOutput(
            ["--http2", "-o", "/dev/null", "-w", "%{http_version}", "https://127.0.0.1:\(off.port)/static/hello.txt"])
        #expect(version == "1.1")
        #expect(try sClient(port: off.port, ["-alpn", "h2,http/1.1"]).contains("ALPN protocol: http/1.1"))
        off.send(SIGTERM)
        #expect(off.waitForExit() == 0)
    }

    /// Runs tests/http2/conformance.py against `target` with `extra` arguments.
    func conformance(_ target: ServerProcess, _ extra: [String], timeout: Double) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try run(
            h2Python,
            [
                packageRoot + "/tests/http2/conformance.py", "--port", "\(target.port)", "--pid", "\(target.pid)",
                "--large", "/static/large.bin", "--large-size", "\(Self.largeSize)",
            ] + extra, timeout: timeout)
    }

    @Test func conformanceSuitePasses() throws {
        // Under ASan and TSan the allocator holds freed memory (ASan's quarantine is 256 MB) and shadow memory
        // grows with use, so RSS bounds would measure the sanitizer: those runs check memory safety and races,
        // the plain run checks that memory comes back.
        let sanitized = ProcessInfo.processInfo.environment["MYWEBSITE_SANITIZER"] != nil
        let result = try conformance(
            server, ["--send-timeout", "2"] + (sanitized ? ["--no-memory-checks"] : []), timeout: 600)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains(" passed, 0 failed"), "\(result.stdout)")
        #expect(server.process.isRunning, "the server survived the suite")
    }

    @Test func certificateReloadKeepsH2ConnectionsServing() throws {
        let result = try conformance(server, ["--reload"], timeout: 60)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        try waitUntil(seconds: 5) { (server.stdout + server.stderr).contains("SIGHUP: reloading") }
    }

    @Test func sigtermSendsGoawayAndFinishesOpenStreams() throws {
        let other = try TemporaryDirectory()
        let victim = try Self.start(assets: assets, state: other)
        let result = try conformance(victim, ["--shutdown"], timeout: 120)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(victim.waitForExit(seconds: 25) == 0)
    }
}
