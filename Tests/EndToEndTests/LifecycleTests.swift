import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Start-up, signals, logs and limits of the real binary.
@Suite(.serialized) struct LifecycleTests {
    @Test func refusesAnInvalidEnvironmentValueNamingTheVariable() throws {
        let result = try run(binaryPath, ["serve", "--port", "0"], environment: ["SITE_LANGUAGES": "french"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("SITE_LANGUAGES"))
        #expect(result.stderr.contains("two-letter"))
    }

    @Test func aFlagOverridesTheEnvironment() throws {
        let result = try run(binaryPath, ["serve", "--port", "nope"], environment: ["SITE_PORT": "8080"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--port"))
    }

    @Test func sigtermFinishesTheRequestInProgressThenExitsZero() throws {
        let assets = try TemporaryDirectory()
        try assets.write("a.txt", "finished\n")
        // One loop: once the idle connection is closed, that loop is draining, so the busy connection's
        // response must say `Connection: close` (with two loops, the other might not have heard SIGTERM yet).
        let server = try ServerProcess(["--static-path", assets.path, "--threads", "1"])
        let busy = try RawClient(port: server.port)
        busy.send("GET /static/a.txt HTTP/1.1\r\nHost: a\r\n")  // head not complete yet
        let idle = try RawClient(port: server.port)
        idle.send("GET /static/a.txt HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(idle.readResponses(1).first?.status == 200)
        usleep(100_000)
        server.send(SIGTERM)
        #expect(idle.isClosedByPeer(), "an idle keep-alive connection is closed within the drain grace (1 s)")
        busy.send("\r\n")
        let reply = busy.readResponses(1)
        #expect(reply.first?.status == 200)
        #expect(reply.first?.text == "finished\n")
        #expect(reply.first?.header("Connection") == "close")
        #expect(server.waitForExit() == 0)
    }

    @Test func shutdownTimeoutBoundsAStalledClient() throws {
        let server = try ServerProcess(["--shutdown-timeout", "1", "--threads", "1"])
        let stalled = try RawClient(port: server.port)
        stalled.send("GET / HTTP/1.1\r\n")
        usleep(100_000)
        let started = Date()
        server.send(SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func writesTheAccessLogAndReopensItOnSIGUSR1() throws {
        let logs = try TemporaryDirectory()
        let server = try ServerProcess(["--log-path", logs.path, "--log-format", "json", "--threads", "1"])
        _ = try curl(["-H", "User-Agent: first \"agent\"", "\(server.url)/healthz"])
        try waitUntil {
            ((try? String(contentsOfFile: logs.path + "/access.log", encoding: .utf8)) ?? "").contains("first")
        }
        let first = try String(contentsOfFile: logs.path + "/access.log", encoding: .utf8)
        let line = try #require(first.split(separator: "\n").first)
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(json?["status"] as? Int == 200)
        #expect(json?["user_agent"] as? String == "first \"agent\"")
        try FileManager.default.moveItem(atPath: logs.path + "/access.log", toPath: logs.path + "/access.log.1")
        server.send(SIGUSR1)
        try waitUntil { FileManager.default.fileExists(atPath: logs.path + "/access.log") }
        _ = try curl(["-H", "User-Agent: second", "\(server.url)/healthz"])
        try waitUntil {
            ((try? String(contentsOfFile: logs.path + "/access.log", encoding: .utf8)) ?? "").contains("second")
        }
        let rotated = try String(contentsOfFile: logs.path + "/access.log.1", encoding: .utf8)
        #expect(!rotated.contains("second"))
        #expect(FileManager.default.fileExists(atPath: logs.path + "/error.log"))
    }

    @Test func trustsForwardedHeadersOnlyFromTrustedProxies() throws {
        let logs = try TemporaryDirectory()
        let trusting = try ServerProcess(["--log-path", logs.path, "--log-format", "json", "--threads", "1"])
        _ = try curl([
            "-H", "X-Forwarded-For: 203.0.113.9", "-H", "X-Forwarded-Proto: https", "\(trusting.url)/healthz",
        ])
        try waitUntil {
            ((try? String(contentsOfFile: logs.path + "/access.log", encoding: .utf8)) ?? "").contains("203.0.113.9")
        }
        let trusted = try String(contentsOfFile: logs.path + "/access.log", encoding: .utf8)
        #expect(trusted.contains("\"scheme\":\"https\""))

        let logs2 = try TemporaryDirectory()
        let strict = try ServerProcess([
            "--log-path", logs2.path, "--log-format", "json", "--threads", "1",
            "--trusted-proxies", "10.9.9.9/32",
        ])
        _ = try curl(["-H", "X-Forwarded-For: 203.0.113.9", "\(strict.url)/healthz"])
        try waitUntil {
            ((try? String(contentsOfFile: logs2.path + "/access.log", encoding: .utf8)) ?? "").contains("client")
        }
        let untrusted = try String(contentsOfFile: logs2.path + "/access.log", encoding: .utf8)
        #expect(untrusted.contains("\"client\":\"127.0.0.1\""))
        #expect(!untrusted.contains("203.0.113.9"))
    }

    @Test func backsOffWhenOutOfFileDescriptorsAndRecovers() throws {
        let server = try ServerProcess(["--threads", "1"], wrapper: ["/usr/bin/prlimit", "--nofile=40:40", "--"])
        var clients: [RawClient] = []
        for _ in 0..<60 { if let c = try? RawClient(port: server.port) { clients.append(c) } }
        usleep(300_000)
        let before = server.cpuMilliseconds()
        usleep(1_000_000)
        let spent = server.cpuMilliseconds() - before
        #expect(spent < 300, "accept loop spun: \(spent) ms CPU in 1 s")
        clients.removeAll()
        usleep(300_000)
        let reply = try curl(["\(server.url)/healthz"])
        #expect(reply.status == 200)
        #expect(server.stderr.contains("EMFILE"))
    }
}

extension LifecycleTests {
    @Test func aStalledLoopFailsHealthThenTheWatchdogExitsForARestart() throws {
        let server = try ServerProcess(
            ["--threads", "2", "--watchdog-timeout", "3"], environment: ["MYWEBSITE_FAULT_STALL_LOOP_AFTER": "1"])
        #expect(try curl(["\(server.url)/healthz"]).status == 200)
        // Loop 0 stalls after 1 s; 3 s later the watchdog ends the process with 70, for the supervisor to restart.
        let status = server.waitForExit(seconds: 20)
        #expect(status == 70)
        #expect(server.stderr.contains("watchdog: loop 0 has not turned"))
    }
}

/// Polls `condition` for up to `seconds`.
func waitUntil(seconds: Double = 10, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        usleep(50_000)
    }
    throw HarnessError("condition not met within \(seconds) s")
}

extension LifecycleTests {
    @Test func aClientTricklingItsHeadStillMeetsTheHeaderTimeout() throws {
        let server = try ServerProcess(["--threads", "1", "--header-timeout", "1"])
        let client = try RawClient(port: server.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: ")
        let started = Date()
        var answered: HTTPReply?
        while Date().timeIntervalSince(started) < 5 {
            client.send("a")  // one byte every 200 ms: each read must not restart the clock
            usleep(200_000)
            if let reply = client.readResponses(1, timeout: 0.01).first {
                answered = reply
                break
            }
        }
        #expect(answered?.status == 408)
        #expect(Date().timeIntervalSince(started) < 3, "the trickle kept the connection for too long")
        #expect(client.isClosedByPeer())
    }
}
