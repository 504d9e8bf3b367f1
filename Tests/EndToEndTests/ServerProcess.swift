import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The package root, found from this file's path (Tests/EndToEndTests/ServerProcess.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The `mywebsite` binary under test: `MYWEBSITE_BIN`, else the debug build in `.build`.
let binaryPath: String = {
    if let path = ProcessInfo.processInfo.environment["MYWEBSITE_BIN"], !path.isEmpty { return path }
    return packageRoot + "/.build/debug/mywebsite"
}()

/// Errors of the harness itself.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A temporary directory removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/mywebsite-e2e-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        path = String(cString: p)
    }

    func write(_ name: String, _ contents: String) throws {
        try write(name, Data(contents.utf8))
    }

    func write(_ name: String, _ data: Data) throws {
        let url = URL(fileURLWithPath: path + "/" + name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The real `mywebsite` binary, started on an ephemeral port; stopped (SIGKILL if need be) on release.
final class ServerProcess {
    let process = Process()
    let url: String
    let port: Int
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let collected = CollectedOutput()

    final class CollectedOutput: @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var stdout = Data()
        private var stderr = Data()
        func append(out: Data) {
            lock.lock()
            stdout.append(out)
            lock.unlock()
        }
        func append(err: Data) {
            lock.lock()
            stderr.append(err)
            lock.unlock()
        }
        var out: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: stdout, as: UTF8.self)
        }
        var err: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: stderr, as: UTF8.self)
        }
    }

    /// Starts `mywebsite serve` with `arguments` (plus `--host 127.0.0.1 --port 0` unless given) and waits for
    /// its `listening:` line.
    init(
        _ arguments: [String], environment: [String: String] = [:], wrapper: [String] = [],
        expectListening: String = "listening: http://"
    ) throws {
        var args = ["serve"] + arguments
        if !arguments.contains("--host") { args += ["--host", "127.0.0.1"] }
        if !arguments.contains("--port") { args += ["--port", "0"] }
        if wrapper.isEmpty {
            process.executableURL = URL(fileURLWithPath: binaryPath)
            process.arguments = args
        } else {
            process.executableURL = URL(fileURLWithPath: wrapper[0])
            process.arguments = Array(wrapper.dropFirst()) + [binaryPath] + args
        }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        let collected = self.collected
        stdoutPipe.fileHandleForReading.readabilityHandler = { collected.append(out: $0.availableData) }
        stderrPipe.fileHandleForReading.readabilityHandler = { collected.append(err: $0.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var found: String?
        while Date() < deadline {
            if let line = collected.out.split(separator: "\n").first(where: { $0.hasPrefix(expectListening) }) {
                found = String(line.dropFirst("listening: ".count))
                break
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        guard let found else {
            process.terminate()
            throw HarnessError("server did not start: stdout=\(collected.out) stderr=\(collected.err)")
        }
        url = found
        port = Int(found.split(separator: ":").last!)!
    }

    var stdout: String { collected.out }
    var stderr: String { collected.err }
    var pid: pid_t { process.processIdentifier }

    /// Sends `signal` to the server.
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits up to `seconds` for exit; returns the exit status, or nil if still running.
    func waitForExit(seconds: Double = 15) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { return nil }
        // Take what the handlers have not delivered yet: the last lines before exit matter most.
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        stderrPipe.fileHandleForReading.readabilityHandler = nil
        collected.append(out: stdoutPipe.fileHandleForReading.readDataToEndOfFile())
        collected.append(err: stderrPipe.fileHandleForReading.readDataToEndOfFile())
        return process.terminationStatus
    }

    /// CPU time (user + system) consumed so far, in milliseconds, from /proc.
    func cpuMilliseconds() -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
        return ticks * 1000 / Int(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Open file descriptors of the server.
    func openFDCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        stderrPipe.fileHandleForReading.readabilityHandler = nil
    }
}

/// Runs a command to completion and returns its exit status and output.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60)
    throws -> (status: Int32, stdout: String, stderr: String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let collected = ServerProcess.CollectedOutput()
    // One reader per pipe, each to the end of its stream, so the output keeps its order. (Readability handlers
    // did not: one still running when the handlers were cleared appended its chunk after the final read, and a
    // large output, such as a /metrics scrape, came back with its lines spliced out of order.)
    let readers = DispatchGroup()
    let outHandle = out.fileHandleForReading
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async(group: readers) { collected.append(out: outHandle.readDataToEndOfFile()) }
    DispatchQueue.global().async(group: readers) { collected.append(err: errHandle.readDataToEndOfFile()) }
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        throw HarnessError("\(executable) \(arguments) timed out")
    }
    process.waitUntilExit()
    // Bounded: a child the command left running could hold the pipes open.
    guard readers.wait(timeout: .now() + 10) == .success else {
        throw HarnessError("\(executable) \(arguments): its output did not end within 10 s of its exit")
    }
    return (process.terminationStatus, collected.out, collected.err)
}

/// A parsed HTTP response from curl or a raw socket.
struct HTTPReply {
    let status: Int
    let headers: [(String, String)]
    let body: Data

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// Parses one response from the start of `data`; returns it and the bytes it used (needs Content-Length
    /// or `bodyless`).
    static func parse(_ data: Data, bodyless: Bool = false) -> (HTTPReply, Int)? {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: data[data.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = bodyless ? 0 : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        let bodyStart = end.upperBound
        guard data.endIndex - bodyStart >= length else { return nil }
        let body = data[bodyStart..<bodyStart + length]
        return (HTTPReply(status: status, headers: headers, body: Data(body)), bodyStart + length - data.startIndex)
    }
}

/// A blocking TCP client for literal request bytes.
final class RawClient {
    let fd: Int32
    /// Bytes received but not yet returned as a response.
    private var pending = Data()

    /// Connects to `host:port`, from `source` (another loopback address such as 127.0.0.2) when given.
    init(port: Int, host: String = "127.0.0.1", source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw HarnessError("bind to \(source) failed: errno \(errno)") }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { throw HarnessError("connect to \(port) failed: errno \(errno)") }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) { send(Data(text.utf8)) }

    func send(_ data: Data) {
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                off += n
            }
        }
    }

    /// Reads until the peer closes or `timeout` passes; returns everything read.
    func readToEnd(timeout: Double = 5) -> Data {
        var result = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        return result
    }

    /// Reads until `count` complete responses are parsed (or timeout).
    func readResponses(_ count: Int, timeout: Double = 5, bodyless: Bool = false) -> [HTTPReply] {
        var data = pending
        defer { pending = data }
        var replies: [HTTPReply] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while replies.count < count && Date() < deadline {
            while replies.count < count, let (reply, used) = HTTPReply.parse(data, bodyless: bodyless) {
                replies.append(reply)
                data = Data(data.dropFirst(used))
            }
            if replies.count == count { return replies }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        while replies.count < count, let (reply, used) = HTTPReply.parse(data, bodyless: bodyless) {
            replies.append(reply)
            data = Data(data.dropFirst(used))
        }
        return replies
    }

    /// True when the server has closed the connection (EOF or reset) within `timeout`; false when it is open,
    /// with nothing to read. Does not consume data when the connection is open and silent.
    func wasClosed(within timeout: Double) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(timeout * 1000)) == 1 else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    /// True when the server closed the connection (read returns 0) within `timeout`.
    func isClosedByPeer(timeout: Double = 3) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
        return false
    }

    deinit { close(fd) }
}

/// curl, returning the parsed response (`-i` output; follows no redirects).
func curl(_ args: [String]) throws -> HTTPReply {
    let result = try run("curl", ["-sS", "-i", "--max-time", "10"] + args)
    guard result.status == 0 else { throw HarnessError("curl \(args) failed: \(result.stderr)") }
    let data = Data(result.stdout.utf8)
    guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { throw HarnessError("no head in \(result.stdout)") }
    let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
    var lines = head.components(separatedBy: "\r\n")
    let status = Int(lines.removeFirst().split(separator: " ")[1]) ?? 0
    let headers = lines.compactMap { line -> (String, String)? in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    return HTTPReply(status: status, headers: headers, body: Data(data[end.upperBound...]))
}
