import Glibc
import Reactor
import Testing

@testable import HTTP

/// The access log's lines, byte for byte: what `AccessLogBuffer` writes for a parsed request.
@Suite struct AccessLogTests {
    /// 2000-10-10T13:55:36Z, the example time of the common log format.
    private static let time: Int64 = 971_186_136

    /// The bytes the buffer writes for `raw` answered `status` with `bodyBytes` body bytes.
    private func logged(_ raw: [UInt8], format: AccessLog.Format, status: Int = 200, bodyBytes: Int = 1024) throws
        -> [UInt8]
    {
        var template = Array("/tmp/access-log-test.XXXXXX".utf8CString)
        let directory = try #require(mkdtemp(&template).map { String(cString: $0) })
        let path = directory + "/access.log"
        defer {
            unlink(path)
            rmdir(directory)
        }
        let log = AccessLog(format: format, sinks: [try LogFile(path: path)])
        var buffer = AccessLogBuffer(log: log)
        guard case .request(let request, _) = parse(raw) else {
            Issue.record("not a request: \(String(decoding: raw, as: UTF8.self))")
            return []
        }
        let peer = try #require(SocketAddress(ip: "192.0.2.7", port: 40000))
        let context = RequestContext(
            peer: peer, clientAddress: "192.0.2.7", scheme: "https", host: request.host, now: Self.time)
        buffer.record(request: request, context: context, status: status, bodyBytes: bodyBytes)
        buffer.record(request: request, context: context, status: 304, bodyBytes: 0)
        buffer.flush()
        log.waitUntilWritten()
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return Array(bytes[0..<max(n, 0)])
    }

    @Test func combinedLineQuotesTheRequestLineAndEscapesHostileHeaders() throws {
        let raw =
            Array("GET /a?b=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: a\"b\\".utf8) + [0xC3, 0xA9]
            + Array("\r\n\r\n".utf8)
        let line1 =
            #"192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] "GET /a?b=1 HTTP/1.1" 200 1024 "-" "a\x22b\x5C\xC3\xA9""#
        let line2 = #"192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] "GET /a?b=1 HTTP/1.1" 304 0 "-" "a\x22b\x5C\xC3\xA9""#
        #expect(try logged(raw, format: .combined) == Array((line1 + "\n" + line2 + "\n").utf8))
    }

    @Test func combinedLineHasADashForAnEmptyReferer() throws {
        let raw = Array("HEAD / HTTP/1.1\r\nHost: h\r\nReferer: \r\nUser-Agent: curl/8\r\n\r\n".utf8)
        let text = String(decoding: try logged(raw, format: .combined, status: 200, bodyBytes: 0), as: UTF8.self)
        #expect(
            text.hasPrefix(#"192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] "HEAD / HTTP/1.1" 200 0 "-" "curl/8""# + "\n"))
    }

    @Test func jsonLineEscapesWithUnicodeEscapes() throws {
        let raw = Array("GET /x HTTP/1.1\r\nHost: example.org\r\nReferer: https://r/\r\nUser-Agent: q\"\r\n\r\n".utf8)
        let text = String(decoding: try logged(raw, format: .json, status: 404, bodyBytes: 12), as: UTF8.self)
        let first =
            #"{"time":"2000-10-10T13:55:36Z","client":"192.0.2.7","scheme":"https","host":"example.org","#
            + #""request":"GET /x HTTP/1.1","status":404,"bytes":12,"referer":"https://r/","user_agent":"q\u0022"}"#
        #expect(text.split(separator: "\n").first.map(String.init) == first)
    }
}
