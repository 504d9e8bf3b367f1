import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real binary in behind-proxy mode, driven by curl and literal request bytes.
@Suite(.serialized) struct ServerCoreTests {
    let assets: TemporaryDirectory
    let server: ServerProcess
    static let twelveKiB = String(repeating: "0123456789abcdef", count: 768)

    init() throws {
        assets = try TemporaryDirectory()
        try assets.write("hello.txt", "hello, world\n")
        try assets.write("twelve.css", Self.twelveKiB)
        try assets.write("sub/page.html", "<p>page</p>\n")
        server = try ServerProcess(["--static-path", assets.path, "--threads", "2", "--access-log", "off"])
    }

    @Test func servesAStaticFileWithItsTypeAndValidators() throws {
        let reply = try curl(["\(server.url)/static/twelve.css"])
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type")?.hasPrefix("text/css") == true)
        #expect(reply.header("Content-Length") == "12288")
        #expect(reply.header("ETag") != nil)
        #expect(reply.header("Last-Modified") != nil)
        #expect(reply.header("Date") != nil)
        #expect(reply.text == Self.twelveKiB)
    }

    @Test func answersIfNoneMatchWith304() throws {
        let first = try curl(["\(server.url)/static/hello.txt"])
        let etag = try #require(first.header("ETag"))
        let second = try curl(["-H", "If-None-Match: \(etag)", "\(server.url)/static/hello.txt"])
        #expect(second.status == 304)
        #expect(second.body.isEmpty)
    }

    @Test func servesASingleRangeWith206() throws {
        let reply = try curl(["-H", "Range: bytes=0-4", "\(server.url)/static/hello.txt"])
        #expect(reply.status == 206)
        #expect(reply.text == "hello")
        #expect(reply.header("Content-Range") == "bytes 0-4/13")
    }

    @Test func answersHeadWithTheLengthAndNoBody() throws {
        let client = try RawClient(port: server.port)
        client.send(
            "HEAD /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = client.readResponses(1, bodyless: true)
        #expect(head.first?.status == 200)
        #expect(head.first?.header("Content-Length") == "13")
        // The next response must start right after the HEAD response's head: no body bytes in between.
        let get = client.readResponses(1)
        #expect(get.first?.text == "hello, world\n")
    }

    @Test func refusesOtherMethodsWith405AndAllow() throws {
        let reply = try curl(["-X", "DELETE", "\(server.url)/static/hello.txt"])
        #expect(reply.status == 405)
        #expect(reply.header("Allow") == "GET, HEAD")
    }

    @Test func answersPipelinedRequestsInOrder() throws {
        let client = try RawClient(port: server.port)
        client.send(
            "GET /static/hello.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /static/sub/page.html HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /static/missing HTTP/1.1\r\nHost: a\r\n\r\n")
        let replies = client.readResponses(3)
        #expect(replies.map(\.status) == [200, 200, 404])
        #expect(replies.first?.text == "hello, world\n")
        #expect(replies.dropFirst().first?.text == "<p>page</p>\n")
    }

    @Test func keepsAliveAndClosesOnConnectionClose() throws {
        let client = try RawClient(port: server.port)
        for _ in 0..<3 {
            client.send("GET /static/hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponses(1).first?.status == 200)
        }
        client.send("GET /static/hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let last = client.readResponses(1)
        #expect(last.first?.header("Connection") == "close")
        #expect(client.isClosedByPeer())
    }

    @Test func closesAnHTTP10ConnectionWithoutKeepAlive() throws {
        let client = try RawClient(port: server.port)
        client.send("GET /static/hello.txt HTTP/1.0\r\n\r\n")
        #expect(client.readResponses(1).first?.status == 200)
        #expect(client.isClosedByPeer())
    }

    static let malformed: [(String, Int)] = [
        ("GET /static/hello.txt HTTP/1.1\r\n\r\n", 400),  // no Host on 1.1
        ("GET /static/hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("GET /static/hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400),  // obs-fold
        ("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),  // bare CR
        ("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400),
        ("GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: \(String(repeating: "b", count: 17000))\r\n\r\n", 431),
        ("GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X-A: b\r\n", count: 101) + "\r\n", 431),
        ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", 413),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", 405),  // the method first
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("\u{1}\u{2}garbage\r\n\r\n", 400),
    ]

    @Test(arguments: 0..<malformed.count)
    func rejectsMalformedRequestsAndCloses(_ index: Int) throws {
        let (request, status) = Self.malformed[index]
        let client = try RawClient(port: server.port)
        client.send(request)
        let reply = client.readResponses(1)
        #expect(reply.first?.status == status, "request \(index): \(request.prefix(60).debugDescription)")
        #expect(client.isClosedByPeer(), "request \(index) left the connection open")
    }

    @Test func survivesAbruptDisconnectsAndStillServes() throws {
        for i in 0..<50 {
            let client = try RawClient(port: server.port)
            client.send(i % 2 == 0 ? "GET /static/twelve.css HTTP/1.1\r\nHost: a\r\n\r\n" : "GET /stat")
            var linger = linger(l_onoff: 1, l_linger: 0)  // close with RST
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        }
        let reply = try curl(["\(server.url)/static/hello.txt"])
        #expect(reply.status == 200)
    }

    @Test func refusesPathsThatEscapeTheRoot() throws {
        for path in [
            "/static/../Package.swift", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/sub/../../etc/passwd",
            "/static/hello.txt%00.css",
        ] {
            let reply = try curl(["--path-as-is", "\(server.url)\(path)"])
            #expect([400, 404].contains(reply.status), "\(path) gave \(reply.status)")
        }
    }

    @Test func reportsHealthAndTheHealthcheckCommandAgrees() throws {
        let reply = try curl(["\(server.url)/healthz"])
        #expect(reply.status == 200)
        let ok = try run(binaryPath, ["healthcheck", "--port", "\(server.port)"])
        #expect(ok.status == 0)
        let closedPort = try run(binaryPath, ["healthcheck", "--port", "1"])
        #expect(closedPort.status == 1)
        #expect(closedPort.stderr.contains("connect"))
    }

    @Test func usesNoCPUWhenIdle() throws {
        usleep(300_000)
        let before = server.cpuMilliseconds()
        usleep(2_000_000)
        let used = server.cpuMilliseconds() - before
        #expect(used < 100, "idle server used \(used) ms of CPU in 2 s")
    }
}
