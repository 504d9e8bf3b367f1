import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// pebble (Let's Encrypt's RFC 8555 test server, Debian `pebble`) and its challenge test server as the DNS
/// that resolves every name to 127.0.0.1. Validation is real: pebble connects to our ports for HTTP-01 and
/// TLS-ALPN-01. Stopped on release.
final class Pebble {
    let directory: TemporaryDirectory
    let acmePort: Int
    let managementPort: Int
    private let dnsPort: Int
    private let pebble = Process()
    private let dns = Process()

    var directoryURL: String { "https://127.0.0.1:\(acmePort)/dir" }
    /// Trusts pebble's own HTTPS listener (the test root of Tests/Fixtures/make-certs.sh).
    var caBundle: String { TestCertificates.shared.file("ca.pem") }
    var log: String { (try? String(contentsOfFile: directory.path + "/pebble.log", encoding: .utf8)) ?? "" }

    /// pebble validating HTTP-01 on `httpPort` and TLS-ALPN-01 on `tlsPort`, issuing certificates valid
    /// `validity` seconds; `environment` adds pebble's knobs (`PEBBLE_WFE_NONCEREJECT`, ...). `ports` reuses
    /// the ACME and management ports of an earlier instance (a CA restarted at the same address).
    init(
        httpPort: Int, tlsPort: Int, validity: Int = 3600, environment: [String: String] = [:],
        ports: (Int, Int)? = nil
    ) throws {
        directory = try TemporaryDirectory()
        acmePort = try ports?.0 ?? freePort()
        managementPort = try ports?.1 ?? freePort()
        dnsPort = try freePort()
        let certs = TestCertificates.shared
        try directory.write(
            "pebble.json",
            """
            {"pebble": {
              "listenAddress": "127.0.0.1:\(acmePort)", "managementListenAddress": "127.0.0.1:\(managementPort)",
              "certificate": "\(certs.file("ecdsa.pem"))", "privateKey": "\(certs.file("ecdsa.key"))",
              "httpPort": \(httpPort), "tlsPort": \(tlsPort), "ocspResponderURL": "",
              "externalAccountBindingRequired": false, "certificateValidityPeriod": \(validity)
            }}
            """)
        let challengeManagement = try freePort()
        dns.executableURL = URL(fileURLWithPath: "/usr/bin/pebble-challtestsrv")
        dns.arguments = [
            "-dns01", "127.0.0.1:\(dnsPort)", "-http01", "", "-https01", "", "-tlsalpn01", "",
            "-management", "127.0.0.1:\(challengeManagement)", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
        ]
        try Self.start(dns, log: directory.path + "/dns.log")
        pebble.executableURL = URL(fileURLWithPath: "/usr/bin/pebble")
        pebble.arguments = ["-config", directory.path + "/pebble.json", "-dnsserver", "127.0.0.1:\(dnsPort)"]
        var env = ProcessInfo.processInfo.environment
        env["PEBBLE_VA_NOSLEEP"] = "1"
        for (k, v) in environment { env[k] = v }
        pebble.environment = env
        try Self.start(pebble, log: directory.path + "/pebble.log")
        let url = directoryURL
        let bundle = caBundle
        try waitUntil { (try? run("curl", ["-sf", "--cacert", bundle, url]))?.status == 0 }
    }

    private static func start(_ process: Process, log: String) throws {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// pebble's root for the chains it issues (made fresh by each pebble), written to a file.
    func root() throws -> String {
        let path = directory.path + "/root.pem"
        let result = try run(
            "curl", ["-sf", "--cacert", caBundle, "-o", path, "https://127.0.0.1:\(managementPort)/roots/0"])
        guard result.status == 0 else { throw HarnessError("pebble root: \(result.stderr)") }
        return path
    }

    /// Orders pebble finalized, counted in its log.
    var issued: Int { log.components(separatedBy: "Issued certificate serial").count - 1 }

    func stop() {
        for process in [pebble, dns] where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// What `openssl s_client` saw on one handshake: whether the chain verified against `root`, and the leaf.
struct ServedCertificate {
    let verified: Bool
    let serial: String
    let subject: String
    let output: String

    init(port: Int, name: String, root: String) throws {
        output = try sClient(port: port, ["-servername", name, "-CAfile", root, "-verify_return_error", "-showcerts"])
        verified = output.contains("Verify return code: 0 (ok)")
        guard let begin = output.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = output.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<output.endIndex)
        else {
            serial = ""
            subject = ""
            return
        }
        let leaf = String(output[begin.lowerBound..<end.upperBound]) + "\n"
        let fields = try run(
            "/bin/sh", ["-c", "printf '%s' \"$PEM\" | openssl x509 -noout -serial -subject"], environment: ["PEM": leaf]
        ).stdout
        serial = fields.split(separator: "\n").first { $0.hasPrefix("serial=") }.map(String.init) ?? ""
        subject = fields.split(separator: "\n").first { $0.hasPrefix("subject=") }.map(String.init) ?? ""
    }
}

/// ACME in direct-TLS mode against pebble: first issuance by HTTP-01 and by TLS-ALPN-01 (port 80 off),
/// renewal under an open connection, a CA that refuses, and a restart that reuses the stored certificate.
@Suite(.serialized) struct ACMETests {
    static let domain = "site.test"
    let assets: TemporaryDirectory
    let state: TemporaryDirectory
    let httpsPort: Int
    let httpPort: Int

    init() throws {
        assets = try TemporaryDirectory()
        state = try TemporaryDirectory()
        try assets.write("hello.txt", "hello over acme\n")
        try FileManager.default.createDirectory(atPath: state.path + "/logs", withIntermediateDirectories: true)
        httpsPort = try freePort()
        httpPort = try freePort()
    }

    func start(_ pebble: Pebble, plainPort: Bool = true, directory: String? = nil, _ extra: [String] = []) throws
        -> ServerProcess
    {
        try ServerProcess(
            [
                "--mode", "direct-tls", "--https-port", "\(httpsPort)", "--http-port",
                plainPort ? "\(httpPort)" : "off", "--static-path", assets.path, "--data-path", state.path + "/data",
                "--config-path", state.path + "/config", "--log-path", state.path + "/logs", "--threads", "2",
                "--acme-domain", Self.domain, "--acme-directory", directory ?? pebble.directoryURL,
                "--acme-ca-bundle", pebble.caBundle, "--acme-email", "ops@site.test",
            ] + extra, expectListening: "listening: https://")
    }

    func log(_ server: ServerProcess) -> String { server.stdout + server.stderr }
    func accessLog() -> String {
        (try? String(contentsOfFile: state.path + "/logs/access.log", encoding: .utf8)) ?? ""
    }

    /// Waits for the `count`th issuance line, then for the reload that serves it.
    func waitForIssuance(_ server: ServerProcess, count: Int = 1, seconds: Double = 30) throws {
        try waitUntil(seconds: seconds) {
            log(server).components(separatedBy: "ACME: certificate issued for \(Self.domain)").count > count
                && log(server).components(separatedBy: "TLS certificates reloaded").count > count
        }
    }

    @Test func http01IssuesAVerifiedChainThenARestartReusesItWithoutTheCA() throws {
        let pebble = try Pebble(httpPort: httpPort, tlsPort: httpsPort)
        let started = Date()
        let server = try start(pebble, ["--acme-challenge", "http-01"])
        try waitForIssuance(server)
        let seconds = Date().timeIntervalSince(started)
        let root = try pebble.root()
        let served = try ServedCertificate(port: httpsPort, name: Self.domain, root: root)
        #expect(served.verified, "s_client did not verify the chain against pebble's root: \(served.output)")
        #expect(served.subject.contains(Self.domain))
        let reply = try curl([
            "--cacert", root, "--resolve", "\(Self.domain):\(httpsPort):127.0.0.1",
            "https://\(Self.domain):\(httpsPort)/static/hello.txt",
        ])
        #expect(reply.status == 200 && reply.text == "hello over acme\n")
        for file in ["account.key", "\(Self.domain).key", "\(Self.domain).crt"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: state.path + "/config/acme/" + file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file) is not 0600")
        }
        print("ACME: first certificate \(String(format: "%.2f", seconds)) s after start (HTTP-01)")

        // Restart with the CA gone: the stored certificate serves from the first handshake, and nothing is
        // ordered (no failure line either, which an attempt against a stopped CA would log).
        server.send(SIGTERM)
        #expect(server.waitForExit() == 0, "\(log(server))")
        // pebble's validation authority fetched the token (the access log is complete once the server stopped) from the plain port, before any redirect.
        let validations = accessLog().split(separator: "\n").filter { $0.contains("LetsEncrypt-Pebble-VA") }
        #expect(
            !validations.isEmpty
                && validations.allSatisfy { $0.contains("GET /.well-known/acme-challenge/") && $0.contains("\" 200 ") },
            "\(validations)")
        pebble.stop()
        let again = try start(pebble, ["--acme-challenge", "http-01"])
        let reused = try ServedCertificate(port: httpsPort, name: Self.domain, root: root)
        #expect(reused.verified && reused.serial == served.serial, "restart: \(reused.output)")
        sleep(3)
        #expect(!log(again).contains("ACME: ordering"), "\(log(again))")
        #expect(!log(again).contains("self-signed"), "\(log(again))")
    }

    @Test func tlsALPN01IssuesWithThePlainPortOff() throws {
        let pebble = try Pebble(httpPort: httpPort, tlsPort: httpsPort)
        // As compose.direct-tls.yml runs it: fallback files that are not there, and no self-signed certificate.
        let server = try start(
            pebble, plainPort: false,
            [
                "--cert", state.path + "/certs/server.crt", "--key", state.path + "/certs/server.key",
                "--require-certificate",
            ])
        try waitForIssuance(server)
        #expect(log(server).contains("server.crt or its key is not readable; ACME provides the certificate"))
        let served = try ServedCertificate(port: httpsPort, name: Self.domain, root: try pebble.root())
        #expect(served.verified, "\(served.output)")
        #expect(log(server).contains("answering tls-alpn-01 for \(Self.domain)"), "\(log(server))")
        #expect(!accessLog().contains("/.well-known/acme-challenge/"))
        // The challenge certificate is gone once validated: an acme-tls/1 handshake is refused again.
        let challenge = try sClient(port: httpsPort, ["-servername", Self.domain, "-alpn", "acme-tls/1"])
        #expect(!challenge.contains("ALPN protocol: acme-tls/1"), "\(challenge)")
    }

    @Test func renewalSwapsTheCertificateWhileAKeepAliveConnectionStaysOpen() throws {
        // 30-second certificates: renewal falls due after 20 s (two thirds), less up to 1 s of jitter.
        let pebble = try Pebble(httpPort: httpPort, tlsPort: httpsPort, validity: 30)
        let server = try start(pebble)
        try waitForIssuance(server)
        let root = try pebble.root()
        let first = try ServedCertificate(port: httpsPort, name: Self.domain, root: root)
        #expect(first.verified, "\(first.output)")

        // A keep-alive connection made on the first certificate, fed through a FIFO.
        let dir = try TemporaryDirectory()
        let fifo = dir.path + "/in"
        mkfifo(fifo, 0o600)
        let old = Process()
        old.executableURL = URL(fileURLWithPath: "/bin/sh")
        old.arguments = [
            "-c",
            "openssl s_client -quiet -connect 127.0.0.1:\(httpsPort) -servername \(Self.domain) < \(fifo) > \(dir.path)/out 2>&1",
        ]
        try old.run()
        let writer = FileHandle(forWritingAtPath: fifo)!
        let request = "GET /static/hello.txt HTTP/1.1\r\nHost: \(Self.domain)\r\n\r\n"
        writer.write(Data(request.utf8))
        func answers() -> Int {
            ((try? String(contentsOfFile: dir.path + "/out", encoding: .utf8)) ?? "")
                .components(separatedBy: "hello over acme").count - 1
        }
        try waitUntil { answers() == 1 }

        try waitForIssuance(server, count: 2, seconds: 40)
        let second = try ServedCertificate(port: httpsPort, name: Self.domain, root: root)
        #expect(second.verified, "\(second.output)")
        #expect(second.serial != first.serial, "the renewed certificate is not served")
        #expect(pebble.issued == 2)

        // The connection made before the swap still serves.
        writer.write(Data(request.utf8))
        try waitUntil { answers() == 2 }
        writer.write(Data("GET /static/hello.txt HTTP/1.1\r\nHost: \(Self.domain)\r\nConnection: close\r\n\r\n".utf8))
        try writer.close()
        old.waitUntilExit()
        #expect(answers() == 3, "three responses on the connection opened before the renewal")
    }

    @Test func aRefusingCALeavesTheOldCertificateServingAndLogsOneLinePerAttempt() throws {
        let pebble = try Pebble(httpPort: httpPort, tlsPort: httpsPort, validity: 30)
        let server = try start(pebble)
        try waitForIssuance(server)
        let root = try pebble.root()
        let first = try ServedCertificate(port: httpsPort, name: Self.domain, root: root)
        #expect(first.verified, "\(first.output)")

        // The CA comes back at the same address rejecting every nonce: the renewal due at ~20 s fails.
        pebble.stop()
        let refusing = try Pebble(
            httpPort: httpPort, tlsPort: httpsPort, environment: ["PEBBLE_WFE_NONCEREJECT": "100"],
            ports: (pebble.acmePort, pebble.managementPort))
        try waitUntil(seconds: 40) { log(server).contains("ACME: ordering a certificate for \(Self.domain) failed") }
        sleep(2)
        let failures = log(server).split(separator: "\n").filter { $0.contains("ACME: ordering a certificate") }
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.contains("badNonce") == true, "the line names the CA's problem: \(failures)")
        #expect(failures.first?.contains("keeps serving") == true)
        #expect(refusing.issued == 0)
        let still = try ServedCertificate(port: httpsPort, name: Self.domain, root: root)
        #expect(still.verified && still.serial == first.serial, "\(still.output)")
        #expect(try curl(["-k", "https://127.0.0.1:\(httpsPort)/static/hello.txt"]).status == 200)
    }

    @Test func aBadDirectoryLeavesTheSelfSignedCertificateOrWithRequireCertificateNone() throws {
        let pebble = try Pebble(httpPort: httpPort, tlsPort: httpsPort)
        let closed = try freePort()
        let server = try start(pebble, directory: "https://127.0.0.1:\(closed)/dir")
        try waitUntil { log(server).contains("ACME: ordering a certificate for \(Self.domain) failed") }
        let failures = log(server).split(separator: "\n").filter { $0.contains("ACME: ordering a certificate") }
        #expect(failures.count == 1 && failures[0].contains("next in 10 s"), "\(failures)")
        #expect(log(server).contains("generated a self-signed certificate"))
        #expect(try curl(["-k", "https://127.0.0.1:\(httpsPort)/static/hello.txt"]).status == 200)
        server.send(SIGTERM)
        #expect(server.waitForExit() == 0, "\(log(server))")

        // Nothing stored and a certificate required: the server starts (or ACME could never get one), but
        // no handshake meets a self-signed certificate; the plain port still answers health checks.
        let strict = try start(pebble, directory: "https://127.0.0.1:\(closed)/dir", ["--require-certificate"])
        #expect(log(strict).contains("no ACME certificate yet; handshakes fail until one is issued"), "\(log(strict))")
        let handshake = try sClient(port: httpsPort, ["-servername", Self.domain])
        #expect(!handshake.contains("BEGIN CERTIFICATE") && handshake.contains("alert"), "\(handshake)")
        #expect(try curl(["http://127.0.0.1:\(httpPort)/healthz"]).status == 200)
        // With the CA reachable, the first certificate is issued and served, --require-certificate still on.
        strict.send(SIGTERM)
        #expect(strict.waitForExit() == 0, "\(log(strict))")
        let served = try start(pebble, ["--require-certificate"])
        try waitForIssuance(served)
        let verified = try ServedCertificate(port: httpsPort, name: Self.domain, root: try pebble.root())
        #expect(verified.verified, "\(verified.output)")
    }

    @Test func badACMESettingsStopStartUpWithTheFix() throws {
        for (args, message) in [
            (["--acme-domain", "*.site.test"], "wildcards need DNS-01"),
            (["--acme-domain", Self.domain, "--acme-directory", "http://ca.test/dir"], "an https:// URL"),
            (["--acme-domain", Self.domain, "--acme-challenge", "dns-01"], "http-01 or tls-alpn-01"),
            (
                ["--acme-domain", Self.domain, "--acme-challenge", "http-01", "--http-port", "off"],
                "needs the plain port"
            ),
        ] {
            let result = try run(
                binaryPath,
                ["serve", "--mode", "direct-tls", "--host", "127.0.0.1", "--https-port", "0"] + args
                    + (args.contains("--http-port") ? [] : ["--http-port", "0"]))
            #expect(result.status == 64 && result.stderr.contains(message), "\(args): \(result.stderr)")
        }
    }
}
