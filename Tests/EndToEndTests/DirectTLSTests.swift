import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Test certificates from Tests/Fixtures/make-certs.sh, made once per test run.
final class TestCertificates: @unchecked Sendable {
    // Written once in init, then only read.
    static let shared = try! TestCertificates()
    let directory: TemporaryDirectory
    var path: String { directory.path }

    private init() throws {
        directory = try TemporaryDirectory()
        let result = try run("/bin/sh", [packageRoot + "/Tests/Fixtures/make-certs.sh", directory.path])
        guard result.status == 0 else { throw HarnessError("make-certs.sh failed: \(result.stderr)") }
    }

    func file(_ name: String) -> String { path + "/" + name }
}

/// Runs `openssl s_client` with `arguments` against `port`, sending `input`, and returns its output.
func sClient(port: Int, _ arguments: [String], input: String = "Q\n") throws -> String {
    let command =
        "printf '%s' \"$INPUT\" | timeout 10 openssl s_client -connect 127.0.0.1:\(port) "
        + arguments.map { "'\($0)'" }.joined(separator: " ") + " 2>&1"
    return try run("/bin/sh", ["-c", command], environment: ["INPUT": input]).stdout
}

/// The real binary in direct-TLS mode against curl and openssl s_client.
@Suite(.serialized) struct DirectTLSTests {
    let certs = TestCertificates.shared
    let assets: TemporaryDirectory
    let state: TemporaryDirectory
    let server: ServerProcess
    var httpsPort: Int { server.port }

    init() throws {
        assets = try TemporaryDirectory()
        try assets.write("hello.txt", "hello over tls\n")
        state = try TemporaryDirectory()
        // The certificate files are copies, so a test can replace them and reload.
        try FileManager.default.copyItem(atPath: certs.file("ecdsa.pem"), toPath: state.path + "/site.pem")
        try FileManager.default.copyItem(atPath: certs.file("ecdsa.key"), toPath: state.path + "/site.key")
        server = try ServerProcess(
            [
                "--mode", "direct-tls", "--https-port", "0", "--http-port", "0", "--static-path", assets.path,
                "--cert", state.path + "/site.pem", "--key", state.path + "/site.key",
                "--cert", certs.file("other.pem"), "--key", certs.file("other.key"),
                "--threads", "2", "--data-path", state.path, "--hsts-max-age", "600",
            ], expectListening: "listening: https://")
    }

    var plainPort: Int {
        let line = server.stdout.split(separator: "\n").first { $0.hasPrefix("listening: http://") }!
        return Int(line.split(separator: ":").last!)!
    }

    @Test(arguments: ["--tlsv1.3", "--tlsv1.2"])
    func curlGetsTheSiteOverTLS(_ version: String) throws {
        let reply = try curl([
            "--cacert", certs.file("ca.pem"), version, "--tls-max", version == "--tlsv1.2" ? "1.2" : "1.3",
            "https://localhost:\(httpsPort)/static/hello.txt",
        ])
        #expect(reply.status == 200)
        #expect(reply.text == "hello over tls\n")
        #expect(reply.header("Strict-Transport-Security") == "max-age=600")
    }

    @Test func negotiatesH2FirstThenHTTP11WithALPN() throws {
        let h2 = try sClient(port: httpsPort, ["-alpn", "h2,http/1.1", "-servername", "localhost"])
        #expect(h2.contains("ALPN protocol: h2"))
        let h1 = try sClient(port: httpsPort, ["-alpn", "http/1.1", "-servername", "localhost"])
        #expect(h1.contains("ALPN protocol: http/1.1"))
    }

    @Test func sniPicksTheCertificateForTheName() throws {
        let other = try sClient(port: httpsPort, ["-servername", "other.test"])
        #expect(other.contains("CN = other.test") || other.contains("CN=other.test"))
        let unknown = try sClient(port: httpsPort, ["-servername", "unknown.test"])
        #expect(unknown.contains("CN = localhost") || unknown.contains("CN=localhost"), "the default answers")
    }

    @Test func resumesASessionFromATicket() throws {
        let dir = try TemporaryDirectory()
        let sess = dir.path + "/sess.pem"
        // A whole request and response first: TLS 1.3 tickets arrive after the handshake, so a client that
        // leaves at once may not have one yet.
        let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        _ = try sClient(port: httpsPort, ["-servername", "localhost", "-ign_eof", "-sess_out", sess], input: request)
        let second = try sClient(
            port: httpsPort, ["-servername", "localhost", "-ign_eof", "-sess_in", sess], input: request)
        #expect(second.contains("Reused, TLSv1.3"))
    }

    @Test(arguments: ["-tls1", "-tls1_1", "-ssl3"])
    func refusesOldProtocols(_ flag: String) throws {
        let out = try sClient(port: httpsPort, [flag, "-servername", "localhost"])
        #expect(!out.contains("Cipher is") || out.contains("Cipher is (NONE)"), "\(flag) was accepted: \(out)")
    }

    @Test func thePlainPortRedirectsToHTTPSAndAnswersHealth() throws {
        let reply = try curl(["http://localhost:\(plainPort)/fr/article/x?y=1"])
        #expect(reply.status == 308)
        #expect(reply.header("Location") == "https://localhost:\(httpsPort)/fr/article/x?y=1")
        #expect(try curl(["http://127.0.0.1:\(plainPort)/healthz"]).status == 200)
        #expect(try run(binaryPath, ["healthcheck", "--port", "\(plainPort)"]).status == 0)
    }

    @Test func reloadsANewCertificateOnSIGHUPWhileOldConnectionsGoOn() throws {
        // A keep-alive connection made before the reload, kept open by s_client reading from a FIFO.
        let dir = try TemporaryDirectory()
        let fifo = dir.path + "/in"
        mkfifo(fifo, 0o600)
        let old = Process()
        old.executableURL = URL(fileURLWithPath: "/bin/sh")
        old.arguments = [
            "-c",
            "openssl s_client -quiet -connect 127.0.0.1:\(httpsPort) -servername localhost < \(fifo) > \(dir.path)/out 2>&1",
        ]
        try old.run()
        let writer = FileHandle(forWritingAtPath: fifo)!
        writer.write(Data("GET /static/hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        try waitUntil {
            ((try? String(contentsOfFile: dir.path + "/out", encoding: .utf8)) ?? "").contains("hello over tls")
        }

        // Replace the certificate with the RSA one (same names) and reload.
        try FileManager.default.removeItem(atPath: state.path + "/site.pem")
        try FileManager.default.removeItem(atPath: state.path + "/site.key")
        try FileManager.default.copyItem(atPath: certs.file("rsa.pem"), toPath: state.path + "/site.pem")
        try FileManager.default.copyItem(atPath: certs.file("rsa.key"), toPath: state.path + "/site.key")
        server.send(SIGHUP)
        try waitUntil { server.stderr.contains("TLS certificates reloaded") }
        let fresh = try sClient(port: httpsPort, ["-servername", "localhost"])
        #expect(
            fresh.contains("Peer signature type: RSA") || fresh.contains("RSA-PSS") || fresh.contains("rsaEncryption"))

        // The connection made before still works.
        writer.write(Data("GET /static/hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
        try writer.close()
        old.waitUntilExit()
        let out = try String(contentsOfFile: dir.path + "/out", encoding: .utf8)
        #expect(out.components(separatedBy: "hello over tls").count == 3, "two responses on the old connection")
    }

    @Test func refusesABrokenCertificateOnReloadAndKeepsServing() throws {
        try FileManager.default.removeItem(atPath: state.path + "/site.key")
        try FileManager.default.copyItem(atPath: certs.file("mismatch.key"), toPath: state.path + "/site.key")
        server.send(SIGHUP)
        try waitUntil { server.stderr.contains("TLS reload refused") }
        #expect(server.stderr.contains("site.key") || server.stderr.contains("site.pem"))
        let reply = try curl(["--cacert", certs.file("ca.pem"), "https://localhost:\(httpsPort)/static/hello.txt"])
        #expect(reply.status == 200)
    }

    @Test func garbageAndStalledHandshakesCloseOnlyTheirConnection() throws {
        let plaintext = try RawClient(port: httpsPort)
        plaintext.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(plaintext.isClosedByPeer())
        let garbage = try RawClient(port: httpsPort)
        garbage.send(Data((0..<512).map { UInt8(truncatingIfNeeded: $0 &* 7919) }))
        #expect(garbage.isClosedByPeer())
        let stalled = try RawClient(port: httpsPort)
        stalled.send(Data([0x16, 0x03, 0x01, 0x00, 0x40]))  // a record header, then nothing
        let reply = try curl(["--cacert", certs.file("ca.pem"), "https://localhost:\(httpsPort)/static/hello.txt"])
        #expect(reply.status == 200)
        _ = stalled
    }
}

/// Start-up rules of direct-TLS mode.
@Suite(.serialized) struct DirectTLSStartupTests {
    @Test func generatesASelfSignedCertificateOnFirstRunAndReusesIt() throws {
        let state = try TemporaryDirectory()
        let args = ["--mode", "direct-tls", "--https-port", "0", "--http-port", "off", "--data-path", state.path]
        let first = try ServerProcess(args, expectListening: "listening: https://")
        #expect(first.stderr.contains("generated a self-signed certificate"))
        #expect(FileManager.default.fileExists(atPath: state.path + "/tls/self-signed.crt"))
        let reply = try curl(["-k", "https://127.0.0.1:\(first.port)/healthz"])
        #expect(reply.status == 200)
        #expect(reply.header("Strict-Transport-Security") == nil, "no HSTS with a self-signed certificate")
        first.send(SIGTERM)
        #expect(first.waitForExit() == 0)
        let second = try ServerProcess(args, expectListening: "listening: https://")
        #expect(second.stderr.contains("self-signed one generated earlier"))
    }

    @Test func requireCertificateRefusesToStartWithoutOne() throws {
        let state = try TemporaryDirectory()
        let result = try run(
            binaryPath,
            [
                "serve", "--mode", "direct-tls", "--https-port", "0", "--http-port", "off", "--data-path", state.path,
                "--require-certificate",
            ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--require-certificate"))
    }

    @Test(arguments: ["expired", "mismatch", "garbage"])
    func refusesABadCertificateAtStartNamingTheFile(_ name: String) throws {
        let certs = TestCertificates.shared
        let key = name == "garbage" ? certs.file("ecdsa.key") : certs.file("\(name).key")
        let result = try run(
            binaryPath,
            [
                "serve", "--mode", "direct-tls", "--https-port", "0", "--http-port", "off",
                "--cert", certs.file("\(name).pem"), "--key", key,
            ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("\(name).pem") || result.stderr.contains("\(name).key"), "\(result.stderr)")
    }
}
