public import HTTP

/// The validators of one version of a file, as its responses state them.
public struct Validators: Sendable, Equatable {
    /// The strong entity-tag with its quotes, e.g. `"65f1a2b3-1a2b"`.
    public var etag: [UInt8]
    /// `Last-Modified`, epoch seconds.
    public var lastModified: Int64
    /// The representation length in bytes.
    public var size: Int

    /// Makes validators.
    public init(etag: [UInt8], lastModified: Int64, size: Int) {
        self.etag = etag
        self.lastModified = lastModified
        self.size = size
    }

    /// The entity-tag nginx would give a file: `"<mtime hex>-<size hex>"`. Strong: a change of content
    /// within one second at equal size is the only miss, as with nginx.
    public init(modified: Int64, size: Int) {
        let tag = "\"\(String(modified, radix: 16))-\(String(size, radix: 16))\""
        self.init(etag: Array(tag.utf8), lastModified: modified, size: size)
    }
}

/// The conditional and range headers of a request (RFC 9110 §13, §14), picked out in one pass over its
/// fields. Values are ranges into `head`, the request's own bytes: reading them allocates nothing.
public struct ConditionalRequest: Sendable {
    /// The bytes the ranges index (the request head).
    public let head: [UInt8]
    /// `If-None-Match`, if present (the first one).
    public var ifNoneMatch: Range<Int>?
    /// `If-Modified-Since`, if present.
    public var ifModifiedSince: Range<Int>?
    /// `Range`, if present.
    public var range: Range<Int>?
    /// `If-Range`, if present.
    public var ifRange: Range<Int>?
    /// Whether the method is GET: RFC 9110 §14.2 applies `Range` to GET only (HEAD gets the whole length).
    public var isGET: Bool

    /// Which response a file request gets.
    public enum Selection: Sendable, Equatable {
        /// 200 with the whole file.
        case whole
        /// 304: the client's copy is current.
        case notModified
        /// 206 with these bytes.
        case partial(Range<Int>)
        /// 416: the range starts past the end.
        case unsatisfiable
    }

    private static let ifNoneMatchName: [UInt8] = Array("if-none-match".utf8)
    private static let ifModifiedSinceName: [UInt8] = Array("if-modified-since".utf8)
    private static let rangeName: [UInt8] = Array("range".utf8)
    private static let ifRangeName: [UInt8] = Array("if-range".utf8)

    /// Picks the four headers out of `request`.
    public init(_ request: borrowing Request) {
        head = request.head
        isGET = request.method == .get
        for field in request.fields {
            switch field.name.count {
            case 5 where range == nil && Self.nameIs(head, field.name, Self.rangeName):
                range = field.value
            case 8 where ifRange == nil && Self.nameIs(head, field.name, Self.ifRangeName):
                ifRange = field.value
            case 13 where ifNoneMatch == nil && Self.nameIs(head, field.name, Self.ifNoneMatchName):
                ifNoneMatch = field.value
            case 17 where ifModifiedSince == nil && Self.nameIs(head, field.name, Self.ifModifiedSinceName):
                ifModifiedSince = field.value
            default:
                break
            }
        }
    }

    /// Makes the headers directly from their values (tests).
    public init(
        ifNoneMatch: String? = nil, ifModifiedSince: String? = nil, range: String? = nil,
        ifRange: String? = nil, isGET: Bool = true
    ) {
        var head: [UInt8] = []
        func append(_ value: String?) -> Range<Int>? {
            guard let value else { return nil }
            let start = head.count
            head += value.utf8
            return start..<head.count
        }
        self.ifNoneMatch = append(ifNoneMatch)
        self.ifModifiedSince = append(ifModifiedSince)
        self.range = append(range)
        self.ifRange = append(ifRange)
        self.head = head
        self.isGET = isGET
    }

    /// The response to give for a file with `validators`, at wall-clock `now` (epoch seconds).
    ///
    /// RFC 9110 §13.2.2 order: `If-None-Match`, else `If-Modified-Since`, decide 304; then `If-Range` decides
    /// whether `Range` applies. (`If-Match`/`If-Unmodified-Since` guard writes; files here are read-only.)
    public func selection(for validators: Validators, now: Int64) -> Selection {
        if let ifNoneMatch {
            if EntityTag.weaklyMatches(list: head[ifNoneMatch], validators.etag) { return .notModified }
        } else if let ifModifiedSince, let since = HTTPDate.parse(head[ifModifiedSince], now: now),
            since <= now,  // §13.1.3: a date later than the server's clock is invalid
            validators.lastModified <= since
        {
            return .notModified
        }
        guard isGET, let range else { return .whole }
        if let ifRange, !Self.ifRangeHolds(head[ifRange], validators, now: now) { return .whole }
        switch ByteRange.parse(head[range], size: validators.size) {
        case .whole: return .whole
        case .partial(let r): return .partial(r)
        case .unsatisfiable: return .unsatisfiable
        }
    }

    /// §13.1.5: an entity-tag must match strongly, a date exactly; otherwise the range is ignored.
    private static func ifRangeHolds(_ value: ArraySlice<UInt8>, _ validators: Validators, now: Int64) -> Bool {
        if value.first == UInt8(ascii: "\"") { return value.elementsEqual(validators.etag) }
        if value.first == UInt8(ascii: "W") && value.dropFirst().first == UInt8(ascii: "/") { return false }
        return HTTPDate.parse(value, now: now) == validators.lastModified
    }

    private static func nameIs(_ head: [UInt8], _ name: Range<Int>, _ lowercased: [UInt8]) -> Bool {
        var i = name.lowerBound
        for c in lowercased {
            let h = head[i]
            if (h &- 0x41 < 26 ? h | 0x20 : h) != c { return false }
            i += 1
        }
        return true
    }
}

/// Entity-tag comparison (RFC 9110 §8.8.3.2).
public enum EntityTag {
    /// Whether `list` (an `If-None-Match` value: `*` or comma-separated tags, weak or strong) matches the
    /// strong `etag` (quoted, no `W/`) by weak comparison: the opaque tags are equal, a `W/` in the list
    /// ignored. A malformed member is skipped up to the next comma.
    public static func weaklyMatches(list: ArraySlice<UInt8>, _ etag: [UInt8]) -> Bool {
        let quote = UInt8(ascii: "\"")
        var i = list.startIndex
        while i < list.endIndex {
            switch list[i] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: ","):
                i += 1
                continue
            case UInt8(ascii: "*"):
                return true
            default:
                break
            }
            if list[i] == UInt8(ascii: "W"), i + 1 < list.endIndex, list[i + 1] == UInt8(ascii: "/") { i += 2 }
            guard i < list.endIndex, list[i] == quote,
                let close = list[(i + 1)...].firstIndex(of: quote)
            else {
                // Not a tag: skip this member.
                guard let comma = list[i...].firstIndex(of: UInt8(ascii: ",")) else { return false }
                i = comma + 1
                continue
            }
            if list[i...close].elementsEqual(etag) { return true }
            i = close + 1
        }
        return false
    }
}
