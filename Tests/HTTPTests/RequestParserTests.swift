import Reactor
import Testing

@testable import HTTP

// Every parse in this file runs on bytes placed right before a PROT_NONE page (GuardPage.swift), so an
// over-read crashes the test rather than passing by luck.

// MARK: - Tables

/// A head the parser must accept, and what it must find in it.
struct ValidHead: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: [UInt8]
    var method: HTTP.Method = .get
    var version: Version = .http11
    var target = "/"
    var path = "/"
    var query: String? = nil
    var host: String? = "example.com"
    var keepAlive = true
    var contentLength = 0
    /// `name: value` of every field, in order; nil to skip the check.
    var fields: [String]? = nil
    /// Bytes of the first head; the whole input unless pipelined.
    var consumed: Int

    init(_ name: String, _ raw: String, _ configure: (inout ValidHead) -> Void = { _ in }) {
        self.init(name, Array(raw.utf8), configure)
    }

    init(_ name: String, _ raw: [UInt8], _ configure: (inout ValidHead) -> Void = { _ in }) {
        self.name = name
        self.raw = raw
        self.consumed = raw.count
        configure(&self)
    }

    var testDescription: String { name }
}

/// A head the parser must refuse, and how.
struct InvalidHead: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: [UInt8]
    let error: HTTPError

    init(_ name: String, _ raw: String, _ error: HTTPError) {
        self.init(name, Array(raw.utf8), error)
    }

    init(_ name: String, _ raw: [UInt8], _ error: HTTPError) {
        self.name = name
        self.raw = raw
        self.error = error
    }

    var testDescription: String { "\(name) → \(error)" }
}

let manyFields = (1...60).map { "X-Field-\($0): value \($0)\r\n" }.joined()

let validHeads: [ValidHead] = [
    ValidHead("plain GET", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n") {
        $0.fields = ["Host: example.com"]
    },
    ValidHead("HEAD", "HEAD /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n") {
        $0.method = .head
        $0.target = "/index.html"
        $0.path = "/index.html"
    },
    ValidHead("HTTP/1.0 without Host closes", "GET /a HTTP/1.0\r\n\r\n") {
        $0.version = .http10
        $0.target = "/a"
        $0.path = "/a"
        $0.host = nil
        $0.keepAlive = false
        $0.fields = []
    },
    ValidHead("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nHost: example.com\r\nConnection: Keep-Alive\r\n\r\n") {
        $0.version = .http10
    },
    ValidHead("HTTP/1.0 keep-alive then close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") {
        $0.version = .http10
        $0.host = nil
        $0.keepAlive = false
    },
    ValidHead("HTTP/1.1 close", "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n") {
        $0.keepAlive = false
    },
    ValidHead(
        "close among other options", "GET / HTTP/1.1\r\nHost: example.com\r\nconnection: Upgrade,  CLOSE \r\n\r\n"
    ) {
        $0.keepAlive = false
    },
    ValidHead(
        "close as a substring is not close",
        "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: closed, x-close\r\n\r\n"),
    ValidHead("HTTP/1.2 handled as 1.1", "GET / HTTP/1.2\r\nHost: example.com\r\n\r\n"),
    ValidHead("query", "GET /search?q=swift&lang=fr HTTP/1.1\r\nHost: example.com\r\n\r\n") {
        $0.target = "/search?q=swift&lang=fr"
        $0.path = "/search"
        $0.query = "q=swift&lang=fr"
    },
    ValidHead("empty query", "GET /a? HTTP/1.1\r\nHost: example.com\r\n\r\n") {
        $0.target = "/a?"
        $0.path = "/a"
        $0.query = ""
    },
    ValidHead("question mark inside the query", "GET /a?b?c=/d HTTP/1.1\r\nHost: example.com\r\n\r\n") {
        $0.target = "/a?b?c=/d"
        $0.path = "/a"
        $0.query = "b?c=/d"
    },
    ValidHead("percent-encoding left as sent", "GET /caf%C3%A9/%2e%2E/x%20y HTTP/1.1\r\nHost: example.com\r\n\r\n") {
        $0.target = "/caf%C3%A9/%2e%2E/x%20y"
        $0.path = "/caf%C3%A9/%2e%2E/x%20y"
    },
    ValidHead(
        "absolute-form takes host from the target",
        "GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: other.example\r\n\r\n"
    ) {
        $0.target = "http://example.com/a/b?x=1"
        $0.path = "/a/b"
        $0.query = "x=1"
    },
    ValidHead("absolute-form https, no path", "GET HTTPS://Example.COM:8443 HTTP/1.1\r\nHost: x\r\n\r\n") {
        $0.target = "HTTPS://Example.COM:8443"
        $0.path = ""
        $0.host = "Example.COM:8443"
    },
    ValidHead("absolute-form, query without path", "GET http://[::1]:8080?a HTTP/1.1\r\nHost: x\r\n\r\n") {
        $0.target = "http://[::1]:8080?a"
        $0.path = ""
        $0.query = "a"
        $0.host = "[::1]:8080"
    },
    ValidHead("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n") {
        $0.method = .options
        $0.target = "*"
        $0.path = "*"
    },
    ValidHead("leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    ValidHead("as many leading empty lines as allowed", "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    ValidHead("many fields", "GET / HTTP/1.1\r\nHost: example.com\r\n\(manyFields)\r\n") {
        $0.fields = ["Host: example.com"] + (1...60).map { "X-Field-\($0): value \($0)" }
    },
    ValidHead(
        "whitespace around values trimmed, inside kept",
        "GET / HTTP/1.1\r\nHost:example.com\r\nX-A: \t a \t b \t\r\nX-Empty:\r\nX-Blank:   \r\n\r\n"
    ) {
        $0.fields = ["Host: example.com", "X-A: a \t b", "X-Empty: ", "X-Blank: "]
    },
    ValidHead(
        "obs-text in a value",
        Array("GET / HTTP/1.1\r\nHost: example.com\r\nX-Name: caf".utf8) + [0xC3, 0xA9, 0xFF] + Array("\r\n\r\n".utf8)
    ),
    ValidHead("field names are case-insensitive", "GET / HTTP/1.1\r\nHOST: example.com\r\ncOnNeCtIoN: cLoSe\r\n\r\n") {
        $0.keepAlive = false
    },
    ValidHead("Content-Length zero", "POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n") {
        $0.method = .post
        $0.target = "/form"
        $0.path = "/form"
    },
    ValidHead(
        "identical Content-Length values",
        "PUT /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0, 00\r\ncontent-length: 0\r\n\r\n"
    ) {
        $0.method = .put
        $0.target = "/x"
        $0.path = "/x"
    },
    ValidHead("methods are case-sensitive", "get / HTTP/1.1\r\nHost: example.com\r\n\r\n") { $0.method = .other },
    ValidHead("unknown method", "PROPFIND / HTTP/1.1\r\nHost: example.com\r\n\r\n") { $0.method = .other },
    ValidHead("DELETE", "DELETE / HTTP/1.1\r\nHost: example.com\r\n\r\n") { $0.method = .delete },
    ValidHead("PATCH", "PATCH / HTTP/1.1\r\nHost: example.com\r\n\r\n") { $0.method = .patch },
    ValidHead("TRACE", "TRACE / HTTP/1.1\r\nHost: example.com\r\n\r\n") { $0.method = .trace },
    ValidHead("host with port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n") { $0.host = "example.com:8080" },
    ValidHead("IPv4 host", "GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n") { $0.host = "127.0.0.1:80" },
    ValidHead("IPv6 host", "GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n") { $0.host = "[2001:db8::1]" },
    ValidHead("percent-encoded host", "GET / HTTP/1.1\r\nHost: ex%41mple.com\r\n\r\n") { $0.host = "ex%41mple.com" },
    ValidHead(
        "pipelined: first head only",
        "GET /1 HTTP/1.1\r\nHost: example.com\r\n\r\nGET /2 HTTP/1.1\r\nHost: example.com\r\n\r\n"
    ) {
        $0.target = "/1"
        $0.path = "/1"
        $0.consumed = $0.raw.count / 2
    },
    ValidHead(
        "pipelined: stops before a body-less garbage tail",
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n\u{0}\u{1}garbage"
    ) {
        $0.consumed = $0.raw.count - 9
    },
]

let invalidHeads: [InvalidHead] = [
    // Line endings
    InvalidHead("bare LF ends the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLineFeed),
    InvalidHead("bare LF ends a field", "GET / HTTP/1.1\r\nHost: a\n\r\n", .bareLineFeed),
    InvalidHead("bare LF ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLineFeed),
    InvalidHead("bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .bareLineFeed),
    InvalidHead("bare CR in the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", .bareCarriageReturn),
    InvalidHead("bare CR in a value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", .bareCarriageReturn),
    InvalidHead("bare CR ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\rX", .bareCarriageReturn),
    InvalidHead("bare CR before the request line", "\r\rGET / HTTP/1.1\r\n\r\n", .bareCarriageReturn),
    InvalidHead("too many empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .tooManyEmptyLines),
    // Method
    InvalidHead("line starts with a space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
    InvalidHead("method with a non-token byte", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
    InvalidHead("tab after the method", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod),
    InvalidHead("TLS handshake on the plain port", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01], .invalidMethod),
    InvalidHead("CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", .connectNotSupported),
    // Target
    InvalidHead("empty target", "GET  HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("two spaces after the method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("HTTP/0.9 request", "GET /\r\n\r\n", .invalidTarget),
    InvalidHead("NUL in the target", "GET /a\u{0}b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("tab in the target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("DEL in the target", "GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("non-ASCII in the target", "GET /café HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("fragment in the target", "GET /a#top HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("asterisk for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("asterisk with more", "OPTIONS *a HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("other scheme", "GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("absolute-form with userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("absolute-form without host", "GET http:///a HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    InvalidHead("absolute-form with a bad port", "GET http://a:8x/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget),
    // Version
    InvalidHead("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
    InvalidHead("HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", .unsupportedVersion),
    InvalidHead("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .unsupportedVersion),
    InvalidHead("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", .invalidVersion),
    InvalidHead("two-digit minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", .invalidVersion),
    InvalidHead("missing minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", .invalidVersion),
    InvalidHead("space after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidVersion),
    InvalidHead("space inside the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidVersion),
    InvalidHead("letter for a digit", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", .invalidVersion),
    // Field lines
    InvalidHead("space before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .whitespaceBeforeFirstField),
    InvalidHead("obs-fold with a space", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", .obsoleteLineFolding),
    InvalidHead("obs-fold with a tab", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", .obsoleteLineFolding),
    InvalidHead("space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .whitespaceBeforeColon),
    InvalidHead("tab before the colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", .whitespaceBeforeColon),
    InvalidHead("empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", .invalidFieldName),
    InvalidHead("non-token field name", "GET / HTTP/1.1\r\nHost: a\r\nX(Y): b\r\n\r\n", .invalidFieldName),
    InvalidHead("field without a colon", "GET / HTTP/1.1\r\nHost: a\r\nX-Y\r\n\r\n", .invalidFieldName),
    InvalidHead("NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", .invalidFieldValue),
    InvalidHead("control byte in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{1B}b\r\n\r\n", .invalidFieldValue),
    InvalidHead("DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}\r\n\r\n", .invalidFieldValue),
    // Host
    InvalidHead("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", .missingHost),
    InvalidHead("absolute-form without Host", "GET http://a/ HTTP/1.1\r\n\r\n", .missingHost),
    InvalidHead("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", .duplicateHost),
    InvalidHead("empty Host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", .invalidHost),
    InvalidHead("space in Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .invalidHost),
    InvalidHead("slash in Host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .invalidHost),
    InvalidHead("userinfo in Host", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", .invalidHost),
    InvalidHead("unclosed IP-literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", .invalidHost),
    InvalidHead("bad port", "GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", .invalidHost),
    InvalidHead("port without host", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", .invalidHost),
    InvalidHead("bad percent-encoding in Host", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", .invalidHost),
    // Content-Length
    InvalidHead(
        "Content-Length not a number", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
        .invalidContentLength),
    InvalidHead("empty Content-Length", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", .invalidContentLength),
    InvalidHead(
        "negative Content-Length", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        .invalidContentLength),
    InvalidHead(
        "signed Content-Length", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +0\r\n\r\n",
        .invalidContentLength),
    InvalidHead(
        "Content-Length with a space inside", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n",
        .invalidContentLength),
    InvalidHead(
        "Content-Length overflow", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
        .invalidContentLength),
    InvalidHead(
        "Content-Length empty list element", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0,\r\n\r\n",
        .invalidContentLength),
    InvalidHead(
        "Content-Length list that differs", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 1\r\n\r\n",
        .conflictingContentLength),
    InvalidHead(
        "Content-Length fields that differ",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 10\r\n\r\n",
        .conflictingContentLength
    ),
    InvalidHead("a body", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", .contentTooLarge),
    InvalidHead(
        "a body on a method we do not serve", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        .methodNotAllowed),
    InvalidHead(
        "a chunked body on a method we do not serve",
        "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", .methodNotAllowed),
    // Transfer-Encoding
    InvalidHead("chunked body", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", .lengthRequired),
    InvalidHead(
        "chunked after gzip", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n",
        .lengthRequired),
    InvalidHead(
        "chunked in a second field",
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        .lengthRequired
    ),
    InvalidHead(
        "Content-Length with Transfer-Encoding",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        .contentLengthWithTransferEncoding
    ),
    InvalidHead(
        "Transfer-Encoding with Content-Length",
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
        .contentLengthWithTransferEncoding
    ),
    InvalidHead(
        "Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        .transferEncodingInHTTP10),
    InvalidHead(
        "chunked not last", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        .chunkedNotFinal),
    InvalidHead(
        "chunked twice", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        .chunkedNotFinal),
    InvalidHead("no chunked", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", .chunkedNotFinal),
    InvalidHead(
        "unknown coding", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: br, chunked\r\n\r\n",
        .unsupportedTransferCoding),
    InvalidHead(
        "empty Transfer-Encoding", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , \r\n\r\n",
        .invalidTransferEncoding),
    InvalidHead(
        "quoted coding", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
        .invalidTransferEncoding),
]

// MARK: - Helpers

/// An `Outcome` reduced to something `#expect` can compare.
enum Summary: Equatable, CustomStringConvertible {
    case incomplete
    case request(consumed: Int)
    case failure(HTTPError)

    init(_ outcome: RequestParser.Outcome) {
        switch outcome {
        case .incomplete: self = .incomplete
        case .request(_, let consumed): self = .request(consumed: consumed)
        case .failure(let error): self = .failure(error)
        }
    }

    var description: String {
        switch self {
        case .incomplete: "incomplete"
        case .request(let consumed): "request(consumed: \(consumed))"
        case .failure(let error): "failure(\(error))"
        }
    }
}

/// Parses `bytes` placed right before a guard page.
func parse(_ bytes: some Collection<UInt8>, limits: RequestParser.Limits = .init()) -> RequestParser.Outcome {
    let parser = RequestParser(limits: limits)
    return GuardedMemory(capacity: bytes.count).withSpan(over: bytes) { parser.parse($0) }
}

/// The text of `range` in `request.head`.
func text(_ request: Request, _ range: Range<Int>) -> String {
    String(decoding: request.head[range], as: UTF8.self)
}

// MARK: - Tests

@Suite struct RequestParserTests {
    @Test(arguments: validHeads)
    func parsesValidHead(_ c: ValidHead) throws {
        guard case .request(let request, let consumed) = parse(c.raw) else {
            Issue.record("expected a request, got \(Summary(parse(c.raw)))")
            return
        }
        #expect(consumed == c.consumed)
        #expect(request.method == c.method)
        #expect(request.version == c.version)
        #expect(request.target == c.target)
        #expect(request.path == c.path)
        #expect(request.query == c.query)
        #expect(request.host == c.host)
        #expect(request.keepAlive == c.keepAlive)
        #expect(request.contentLength == c.contentLength)
        if let fields = c.fields {
            #expect(request.fields.map { text(request, $0.name) + ": " + text(request, $0.value) } == fields)
        }

        // The head is the request line and field lines as sent, leading empty lines and final CRLF excluded,
        // and every range stays inside it.
        var start = 0
        while c.raw[start] == 0x0D { start += 2 }
        #expect(request.head == Array(c.raw[start..<(consumed - 2)]))
        let all = request.head.indices
        var ranges = [request.targetRange, request.pathRange] + request.fields.flatMap { [$0.name, $0.value] }
        ranges += [request.queryRange, request.hostRange].compactMap { $0 }
        for range in ranges {
            #expect(range.lowerBound >= all.lowerBound && range.upperBound <= all.upperBound)
        }
    }

    @Test(arguments: invalidHeads)
    func rejectsInvalidHead(_ c: InvalidHead) {
        #expect(Summary(parse(c.raw)) == .failure(c.error))
    }

    @Test(arguments: validHeads)
    func reportsEveryStrictPrefixOfAValidHeadAsIncomplete(_ c: ValidHead) {
        let parser = RequestParser()
        let memory = GuardedMemory(capacity: c.consumed)
        for length in 0..<c.consumed {
            let outcome = memory.withSpan(over: c.raw[..<length]) { parser.parse($0) }
            #expect(Summary(outcome) == .incomplete, "prefix of \(length) bytes")
        }
    }

    /// The scanners read eight bytes at a time; a forbidden byte must be caught at every offset in a word.
    @Test(arguments: 0..<20)
    func catchesAForbiddenByteAtEveryOffset(_ offset: Int) {
        func head(target: String = "/", name: String = "X-Name", value: String = "value", host: String = "example.com")
            -> [UInt8]
        {
            Array("GET \(target) HTTP/1.1\r\nHost: \(host)\r\n\(name): \(value)\r\n\r\n".utf8)
        }
        let pad = String(repeating: "a", count: offset)
        let long = String(repeating: "b", count: 20)
        #expect(Summary(parse(head(value: pad + "\u{0}" + long))) == .failure(.invalidFieldValue))
        #expect(Summary(parse(head(value: pad + "\u{7F}" + long))) == .failure(.invalidFieldValue))
        #expect(Summary(parse(head(value: pad + "\u{1F}" + long))) == .failure(.invalidFieldValue))
        #expect(Summary(parse(head(name: "X" + pad + "(" + long))) == .failure(.invalidFieldName))
        #expect(Summary(parse(head(name: "X" + pad + "\u{80}" + long))) == .failure(.invalidFieldName))
        #expect(Summary(parse(head(target: "/" + pad + "#" + long))) == .failure(.invalidTarget))
        #expect(Summary(parse(head(target: "/" + pad + "\u{7F}" + long))) == .failure(.invalidTarget))
        #expect(Summary(parse(head(target: "/" + pad + "é" + long))) == .failure(.invalidTarget))
        #expect(Summary(parse(head(host: "h" + pad + "/" + long))) == .failure(.invalidHost))
        #expect(Summary(parse(head(host: "h" + pad + "@" + long))) == .failure(.invalidHost))

        // And allowed bytes at every offset pass: obs-text and HTAB in values, `_` in names, `?` in targets.
        let fine = head(
            target: "/" + pad + "?" + long, name: "X" + pad + "_" + long, value: pad + "é\t" + long,
            host: "h" + pad + "_~" + long)
        guard case .request(let request, _) = parse(fine) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.path == "/" + pad)
        #expect(request.query == long)
        #expect(request.header("X" + pad + "_" + long) == pad + "é\t" + long)
        #expect(request.host == "h" + pad + "_~" + long)
    }

    @Test func parsesTheSecondOfTwoPipelinedRequestsFromWhereTheFirstEnded() throws {
        let first = Array("GET /1 HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)
        let second = Array("\r\nHEAD /2?x HTTP/1.0\r\n\r\n".utf8)
        guard case .request(_, let consumed) = parse(first + second) else {
            Issue.record("first request not parsed")
            return
        }
        #expect(consumed == first.count)
        guard case .request(let request, let consumed2) = parse((first + second)[consumed...]) else {
            Issue.record("second request not parsed")
            return
        }
        #expect(consumed2 == second.count)
        #expect(request.method == .head)
        #expect(request.path == "/2")
        #expect(request.query == "x")
    }

    @Test func acceptsABodyLengthUpToMaxBody() throws {
        let raw = Array("GET /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello".utf8)
        guard case .request(let request, let consumed) = parse(raw, limits: .init(maxBody: 5)) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.contentLength == 5)
        #expect(consumed == raw.count - 5)
        #expect(Summary(parse(raw, limits: .init(maxBody: 4))) == .failure(.contentTooLarge))
    }

    @Test func looksUpFieldsThroughTheRequestAPI() throws {
        let raw =
            "GET / HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n\r\n"
        guard case .request(let request, _) = parse(Array(raw.utf8)) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.header("accept") == "text/html")
        #expect(request.headers("X-Forwarded-For") == ["1.1.1.1", "2.2.2.2"])
        #expect(request.header("Missing") == nil)
    }

    @Test func parsesFromAReceiveBuffer() {
        let pool = BufferPool(blockSize: 4096, maxFree: 1)
        var buffer = ReceiveBuffer()
        let parser = RequestParser()
        buffer.append(Array("GET /x HTTP/1.1\r\nHost: a\r\n".utf8), pool: pool)
        #expect(Summary(buffer.withReadableSpan { parser.parse($0) }) == .incomplete)
        buffer.append(Array("\r\n".utf8), pool: pool)
        #expect(Summary(buffer.withReadableSpan { parser.parse($0) }) == .request(consumed: buffer.readableCount))
    }

    @Test func givesTheSameOutcomeTwiceForTheSameBytes() {
        for c in validHeads.map(\.raw) + invalidHeads.map(\.raw) {
            #expect(Summary(parse(c)) == Summary(parse(c)))
        }
    }
}
