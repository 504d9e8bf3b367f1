import Reactor

/// An HTTP request method. The site serves GET and HEAD; the rest are named so they can be refused well.
public enum Method: Sendable, Hashable {
    case get, head, post, put, delete, options, patch, trace, connect
    /// Any other token.
    case other

    /// GET and HEAD: the methods this engine serves (`HTTPServer.respond` answers 405 to the others).
    public var isServed: Bool { self == .get || self == .head }

    /// The `Allow` header value of a 405.
    public static let allowHeader = "GET, HEAD"
}

/// The protocol version of a request.
public enum Version: Sendable, Hashable {
    case http10, http11
    /// HTTP/2 (RFC 9113); the head is rebuilt in HTTP/1.1 form with `HTTP/2.0` on the request line.
    case http2
}

/// A parsed request head. `head` holds a copy of the raw bytes; every other field indexes into it, so
/// parsing allocates once. Values are exactly as sent (no decoding) unless a property says otherwise.
public struct Request: Sendable {
    /// The request line and header lines, as received (CRLF-terminated lines, final empty line excluded).
    public let head: [UInt8]
    /// The method.
    public let method: Method
    /// The version.
    public let version: Version
    /// The request target in `head` (origin-form `/path?query`, or absolute-form, or `*`).
    public let targetRange: Range<Int>
    /// The path part of the target in `head` (before `?`), still percent-encoded.
    public let pathRange: Range<Int>
    /// The query after `?` in `head`, without the `?`, if any.
    public let queryRange: Range<Int>?
    /// Each header field: name and value ranges in `head` (value trimmed of surrounding spaces/tabs).
    public let fields: [(name: Range<Int>, value: Range<Int>)]
    /// The `Host` header value range, if present.
    public let hostRange: Range<Int>?
    /// Whether the connection stays open after this request (1.1 default unless `Connection: close`;
    /// 1.0 only with `Connection: keep-alive`).
    public let keepAlive: Bool
    /// The body length announced by `Content-Length` (0 when absent).
    public let contentLength: Int

    /// Makes a request from parsed parts (the parser and tests build these).
    public init(
        head: [UInt8], method: Method, version: Version, targetRange: Range<Int>, pathRange: Range<Int>,
        queryRange: Range<Int>?, fields: [(name: Range<Int>, value: Range<Int>)], hostRange: Range<Int>?,
        keepAlive: Bool, contentLength: Int
    ) {
        self.head = head
        self.method = method
        self.version = version
        self.targetRange = targetRange
        self.pathRange = pathRange
        self.queryRange = queryRange
        self.fields = fields
        self.hostRange = hostRange
        self.keepAlive = keepAlive
        self.contentLength = contentLength
    }

    /// The raw path (percent-encoded), as a string.
    public var path: String { String(decoding: head[pathRange], as: UTF8.self) }
    /// The raw query, as a string, if any.
    public var query: String? { queryRange.map { String(decoding: head[$0], as: UTF8.self) } }
    /// The whole target, as sent.
    public var target: String { String(decoding: head[targetRange], as: UTF8.self) }
    /// The `Host` header, if any.
    public var host: String? { hostRange.map { String(decoding: head[$0], as: UTF8.self) } }

    /// The value of the first header named `name` (ASCII case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        headerRange(name).map { String(decoding: head[$0], as: UTF8.self) }
    }

    /// The range of the first header value named `name` (ASCII case-insensitive), or nil.
    public func headerRange(_ name: String) -> Range<Int>? {
        fields.first { isNamed($0.name, name) }?.value
    }

    /// Every value of headers named `name`, in order (for fields that may repeat, like `X-Forwarded-For`).
    public func headers(_ name: String) -> [String] {
        var values: [String] = []
        for field in fields where isNamed(field.name, name) {
            values.append(String(decoding: head[field.value], as: UTF8.self))
        }
        return values
    }

    /// Whether the field name at `range` in `head` is `name`, ASCII case-insensitively (no copy of either).
    private func isNamed(_ range: Range<Int>, _ name: String) -> Bool {
        let wanted = name.utf8
        guard range.count == wanted.count else { return false }
        var i = range.lowerBound
        for c in wanted {
            if asciiLower(head[i]) != asciiLower(c) { return false }
            i += 1
        }
        return true
    }
}

@inline(__always)
func asciiLower(_ c: UInt8) -> UInt8 {
    c &- 0x41 < 26 ? c | 0x20 : c
}
