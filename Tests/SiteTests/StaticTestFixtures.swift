import Glibc
import HTTP

/// Requests, contexts, responses and temporary trees for the static-file tests.
enum StaticFixture {
    /// 1994-11-06 08:49:37 UTC, the RFC 9110 example date: files get this mtime so headers are predictable.
    static let mtime: Int64 = 784_111_777
    static let mtimeText = "Sun, 06 Nov 1994 08:49:37 GMT"
    /// A wall clock well after `mtime`.
    static let now: Int64 = 1_767_225_600  // 2026-01-01

    /// A request with `target` and `headers`, laid out as the parser would: one head buffer, ranges into it.
    static func request(_ target: String, method: HTTP.Method = .get, headers: [(String, String)] = []) -> Request {
        var head = Array("\(method == .head ? "HEAD" : "GET") ".utf8)
        let targetStart = head.count
        head += target.utf8
        let targetRange = targetStart..<head.count
        let pathEnd = targetStart + (Array(target.utf8).firstIndex(of: UInt8(ascii: "?")) ?? target.utf8.count)
        let queryRange = pathEnd < head.count ? pathEnd + 1..<head.count : nil
        head += " HTTP/1.1\r\n".utf8
        var fields: [(name: Range<Int>, value: Range<Int>)] = []
        for (name, value) in headers {
            let nameStart = head.count
            head += name.utf8
            let nameRange = nameStart..<head.count
            head += ": ".utf8
            let valueStart = head.count
            head += value.utf8
            fields.append((nameRange, valueStart..<head.count))
            head += "\r\n".utf8
        }
        return Request(
            head: head, method: method, version: .http11, targetRange: targetRange,
            pathRange: targetStart..<pathEnd, queryRange: queryRange, fields: fields, hostRange: nil,
            keepAlive: true, contentLength: 0)
    }

    /// A context at wall-clock `now`.
    static func context(now: Int64 = StaticFixture.now, loop: Int = 0) -> RequestContext {
        var context = RequestContext(
            peer: .init(host: .v4(0x7F00_0001), port: 40000), clientAddress: "127.0.0.1",
            scheme: "http", host: "localhost", now: now)
        context.loop = loop
        return context
    }

    /// The body bytes, wherever they live (a file body is read with `pread`).
    static func body(_ response: Response) -> [UInt8] {
        switch response.body {
        case .empty:
            return []
        case .bytes(let bytes):
            return bytes.array
        case .slice(let bytes, let range):
            return Array(bytes.array[range])
        case .file(let file, let offset, let count):
            var data = [UInt8](repeating: 0, count: count)
            let n = pread(file.fd, &data, count, off_t(offset))
            return n < 0 ? [] : Array(data.prefix(n))
        }
    }

    /// The body as text.
    static func text(_ response: Response) -> String {
        String(decoding: body(response), as: UTF8.self)
    }

    /// Every header of `response`, cached block first, as (name, value).
    static func headers(_ response: Response) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        if let block = response.cachedHeaders {
            let text = String(decoding: block.array, as: UTF8.self)
            for line in text.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                result.append((String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " })))
            }
        }
        return result + response.headers
    }

    /// The value of header `name` (case-insensitive), if any.
    static func header(_ response: Response, _ name: String) -> String? {
        headers(response).first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A directory from `mkdtemp(3)` that tests fill and then `remove()`; it tracks what it created so the
/// removal needs no directory walk.
final class TemporaryDirectory {
    /// The absolute path.
    let path: String
    private var created: [String] = []

    init() {
        var template = Array("/tmp/mywebsite-static-XXXXXX".utf8CString)
        precondition(mkdtemp(&template) != nil, "mkdtemp: errno \(errno)")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Creates (or truncates) `relative` with `contents` and, if given, sets its mtime.
    func write(_ relative: String, _ contents: String, mtime: Int64? = StaticFixture.mtime) {
        write(relative, Array(contents.utf8), mtime: mtime)
    }

    /// Creates (or truncates) `relative` with `contents` and, if given, sets its mtime.
    func write(_ relative: String, _ contents: [UInt8], mtime: Int64? = StaticFixture.mtime) {
        let full = "\(path)/\(relative)"
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "open \(full): errno \(errno)")
        precondition(contents.isEmpty || Glibc.write(fd, contents, contents.count) == contents.count)
        close(fd)
        if let mtime { setModified(relative, mtime) }
        track(full)
    }

    /// Sets the access and modification times of `relative`.
    func setModified(_ relative: String, _ seconds: Int64) {
        let time = timespec(tv_sec: Int(seconds), tv_nsec: 0)
        let times = [time, time]
        precondition(utimensat(AT_FDCWD, "\(path)/\(relative)", times, AT_SYMLINK_NOFOLLOW) == 0)
    }

    /// Creates directory `relative`.
    func makeDirectory(_ relative: String) {
        let full = "\(path)/\(relative)"
        precondition(mkdir(full, 0o755) == 0, "mkdir \(full): errno \(errno)")
        track(full)
    }

    /// Creates symlink `relative` pointing at `target` (absolute or relative to the link's directory).
    func symlink(_ relative: String, to target: String) {
        let full = "\(path)/\(relative)"
        precondition(Glibc.symlink(target, full) == 0, "symlink \(full): errno \(errno)")
        track(full)
    }

    /// Renames `from` to `to`, both relative (an atomic replace, as deploy tools do).
    func rename(_ from: String, _ to: String) {
        precondition(Glibc.rename("\(path)/\(from)", "\(path)/\(to)") == 0)
        track("\(path)/\(to)")
    }

    /// Deletes `relative`.
    func unlink(_ relative: String) {
        precondition(Glibc.unlink("\(path)/\(relative)") == 0)
    }

    /// Removes everything created, then the directory itself; true if nothing was left behind.
    @discardableResult
    func remove() -> Bool {
        for full in created.reversed() { _ = Glibc.remove(full) }
        created.removeAll()
        return rmdir(path) == 0
    }

    private func track(_ full: String) {
        if !created.contains(full) { created.append(full) }
    }
}
