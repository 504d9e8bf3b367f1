/// Parses an HTTP/1.1 request head (RFC 9112) straight from the receive buffer.
///
/// The parser keeps no state between calls: give it every unconsumed byte each time more arrive, and it
/// answers `.incomplete`, one `.request` with the number of bytes its head used, or a `.failure`. It reads
/// the bytes once, in order, with no `String` and no lookahead past what it has checked:
///
/// ```
///  bytes: [ CRLF* | request-line CRLF | (field-line CRLF)* | CRLF | next request or body … ]
///                 |<------------------ Request.head ------------------->|
///         |<------------------------------- consumed ------------------------>|
/// ```
/// The head is copied once into `Request.head`; every other part of the request is a range into that
/// copy, so a request costs two allocations: `head` and `fields`.
///
/// It is strict, like nginx or h2o: bare CR or LF, obs-fold, whitespace before a colon, control bytes, a
/// second `Host`, ambiguous body framing and every body (unless `Limits.maxBody` allows one of that
/// `Content-Length`) are refused, each with its own `HTTPError`.
public struct RequestParser: Sendable {
    /// Size limits. A limit is detected as soon as it is passed, before the head is complete, so a peer
    /// cannot make the connection buffer more than `requestLine + headerBlock` bytes for one head.
    public struct Limits: Sendable {
        /// Longest request line, CRLF excluded; a longer one is `requestLineTooLong` (414).
        public var requestLine: Int
        /// Longest header section: every field line with its CRLF, plus the final empty line; a longer one
        /// is `headerBlockTooLarge` (431).
        public var headerBlock: Int
        /// Most header fields; one more is `tooManyFields` (431).
        public var headerCount: Int
        /// Largest `Content-Length` accepted; a larger one is `contentTooLarge` (413). The default, 0, takes
        /// no body at all (`Content-Length: 0` is still fine).
        public var maxBody: Int

        /// Makes limits; the defaults suit a site that takes no request bodies.
        public init(requestLine: Int = 8192, headerBlock: Int = 16384, headerCount: Int = 100, maxBody: Int = 0) {
            self.requestLine = requestLine
            self.headerBlock = headerBlock
            self.headerCount = headerCount
            self.maxBody = maxBody
        }
    }

    /// The result of one `parse` call.
    public enum Outcome: Sendable {
        /// No complete head yet, and no limit passed: read more, then parse again from the same start.
        case incomplete
        /// A complete head. `consumed` counts its bytes from the start of the input, leading empty lines and
        /// the final CRLF included; any body starts right after them.
        case request(Request, consumed: Int)
        /// The head is malformed or refused; answer `error.status` and close the connection.
        case failure(HTTPError)
    }

    /// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line (clients used
    /// to send a CRLF after a POST body). We skip this many; more is `tooManyEmptyLines`.
    public static var maxLeadingEmptyLines: Int { 4 }

    /// The limits in force.
    public let limits: Limits

    /// Makes a parser.
    public init(limits: Limits = .init()) {
        self.limits = limits
    }

    /// Parses one request head at the start of `bytes` (a span over the connection's receive buffer).
    public func parse(_ bytes: Span<UInt8>) -> Outcome {
        do throws(ParseStop) {
            return try parseHead(bytes)
        } catch {
            switch error {
            case .incomplete: return .incomplete
            case .failure(let e): return .failure(e)
            }
        }
    }
}

/// Why a parse step stopped before a whole head; `parse` turns it into an `Outcome`.
enum ParseStop: Error {
    /// The bytes end before the head does, and no limit is passed.
    case incomplete
    /// The head is refused.
    case failure(HTTPError)
}

// MARK: - Head

extension RequestParser {
    /// The request line; ranges index the input span.
    struct RequestLine {
        /// The method token, recognised.
        var method: Method
        /// The version; 1.x above 1.1 is reported as 1.1.
        var version: Version
        /// The request target, as sent.
        var target: Range<Int>
        /// Index of the first `?` in the target, or nil.
        var queryMark: Int?
        /// Index just past the line's CRLF.
        var end: Int
    }

    /// Parses a whole head and builds the request, or throws why it cannot (yet).
    func parseHead(_ b: Span<UInt8>) throws(ParseStop) -> Outcome {
        let start = try skipEmptyLines(b)
        let line = try parseRequestLine(b, at: start)
        let target = try parseTarget(b, line)

        let facts = try parseFields(b, at: line.end, base: start)

        // RFC 9112 §3.2: a 1.1 request without Host gets 400, whatever its target.
        if line.version == .http11 && facts.host == nil { throw .failure(.missingHost) }
        if let codings = facts.transferCodings {
            // RFC 9112 §6.1: Transfer-Encoding in 1.0 means faulty framing. RFC 9112 §6.3: with Content-Length
            // as well, the framing is ambiguous (request smuggling): refuse rather than pick one.
            if line.version == .http10 { throw .failure(.transferEncodingInHTTP10) }
            if facts.contentLength != nil { throw .failure(.contentLengthWithTransferEncoding) }
            if !line.method.isServed { throw .failure(.methodNotAllowed) }
            throw .failure(codings.refusal)
        }
        let contentLength = facts.contentLength ?? 0
        if contentLength > limits.maxBody {
            // The engine answers GET and HEAD only: for a POST with a body, the method is what is wrong.
            throw .failure(line.method.isServed ? .contentTooLarge : .methodNotAllowed)
        }

        let keepAlive =
            switch line.version {
            case .http11: !facts.connectionClose
            case .http10: facts.connectionKeepAlive && !facts.connectionClose
            case .http2: true  // never parsed from a request line; HTTP/2 heads say HTTP/1.1 to the parser
            }
        // RFC 9112 §3.2.2: with an absolute-form target, its authority is the host and Host is ignored.
        let host = target.authority ?? facts.host
        let request = Request(
            head: copy(b, start..<facts.headEnd),
            method: line.method,
            version: line.version,
            targetRange: line.target.shifted(by: start),
            pathRange: target.path.shifted(by: start),
            queryRange: target.query?.shifted(by: start),
            fields: facts.fields,
            hostRange: host?.shifted(by: start),
            keepAlive: keepAlive,
            contentLength: contentLength
        )
        return .request(request, consumed: facts.headEnd + 2)
    }

    /// Skips the empty lines allowed before the request line; returns where the line starts.
    func skipEmptyLines(_ b: Span<UInt8>) throws(ParseStop) -> Int {
        var i = 0
        var skipped = 0
        while true {
            guard i < b.count else { throw .incomplete }
            switch b[i] {
            case ASCII.cr:
                guard i + 1 < b.count else { throw .incomplete }
                guard b[i + 1] == ASCII.lf else { throw .failure(.bareCarriageReturn) }
                skipped += 1
                guard skipped <= Self.maxLeadingEmptyLines else { throw .failure(.tooManyEmptyLines) }
                i += 2
            case ASCII.lf:
                throw .failure(.bareLineFeed)
            default:
                return i
            }
        }
    }

    /// Copies `b[range]` into a new array: the one copy of the head. `Array(repeatElement:)` is specialized
    /// here; `[UInt8](repeating:count:)` and `Array(capacity:initializingWith:)` go through a generic stdlib
    /// entry point that looks the array's type metadata up at run time (≈ 350 instructions per call).
    func copy(_ b: Span<UInt8>, _ range: Range<Int>) -> [UInt8] {
        let source = b.extracting(range)
        var head = Array(repeatElement(0 as UInt8, count: source.count))
        var target = head.mutableSpan
        for i in source.indices { target[i] = source[i] }
        _ = consume target
        return head
    }
}

// MARK: - Request line

extension RequestParser {
    /// Parses `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3) starting at `start`.
    func parseRequestLine(_ b: Span<UInt8>, at start: Int) throws(ParseStop) -> RequestLine {
        // The line's bytes, CRLF excluded, must lie below `limit`. Scanning stops at `end`; reaching it while
        // still inside the line means "wait for more" below the limit and "too long" at it.
        let limit = start.saturatingAdd(limits.requestLine)
        let end = min(b.count, limit)
        let outOfBytes: ParseStop = end == limit ? .failure(.requestLineTooLong) : .incomplete

        // method = token (RFC 9110 §9.1), case-sensitive.
        var i = start
        while i < end && isTokenByte(b[i]) { i += 1 }
        guard i < end else { throw outOfBytes }
        guard b[i] == ASCII.space && i > start else { throw .failure(.invalidMethod) }
        let method = Self.method(b, start, i - start)
        if method == .connect { throw .failure(.connectNotSupported) }
        i += 1

        // request-target: visible ASCII up to the next SP (RFC 9112 §3.2); its form is checked later.
        let targetStart = i
        var queryMark: Int? = nil
        while true {
            i = skipTargetBytes(b, from: i, to: end)
            guard i < end && b[i] == ASCII.question else { break }
            if queryMark == nil { queryMark = i }
            i += 1
        }
        guard i < end else { throw outOfBytes }
        guard b[i] == ASCII.space && i > targetStart else { throw .failure(.invalidTarget) }
        let target = targetStart..<i
        i += 1

        // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), case-sensitive, then CRLF.
        guard i + 8 <= limit else { throw .failure(.requestLineTooLong) }
        guard i + 8 <= b.count else {
            // Not all here yet: check what is, so a wrong prefix fails before the line is complete.
            for k in 0..<(b.count - i) {
                let c = b[i + k]
                let valid =
                    switch k {
                    case 0..<5: c == UInt8(truncatingIfNeeded: Word.httpSlash &>> UInt64(8 * k))
                    case 6: c == ASCII.period
                    default: digitValue(c) < 10
                    }
                guard valid else { throw .failure(.invalidVersion) }
            }
            throw .incomplete
        }
        // "HTTP/" and "." in one compare of the eight bytes, then the two digits.
        let word = SWAR.load(b, i)
        guard (word & 0x00ff_00ff_ffff_ffff) == (0x002e_0000_0000_0000 | Word.httpSlash) else {
            throw .failure(.invalidVersion)
        }
        let major = digitValue(UInt8(truncatingIfNeeded: word &>> 40))
        let minor = digitValue(UInt8(truncatingIfNeeded: word &>> 56))
        guard major < 10 && minor < 10 else { throw .failure(.invalidVersion) }
        i += 8
        guard i < b.count else { throw .incomplete }
        guard b[i] == ASCII.cr else { throw .failure(b[i] == ASCII.lf ? .bareLineFeed : .invalidVersion) }
        guard i + 1 < b.count else { throw .incomplete }
        guard b[i + 1] == ASCII.lf else { throw .failure(.bareCarriageReturn) }

        // RFC 9110 §6.2 / RFC 9112 §2.3: a higher minor version of 1 is handled as the highest we implement.
        guard major == 1 else { throw .failure(.unsupportedVersion) }
        let version: Version = minor == 0 ? .http10 : .http11
        return RequestLine(method: method, version: version, target: target, queryMark: queryMark, end: i + 2)
    }

    /// The method named by the token `b[start..<start + count]`.
    static func method(_ b: Span<UInt8>, _ start: Int, _ count: Int) -> Method {
        guard count >= 3 && count <= 7 else { return .other }
        return switch packed(b, start, count) {
        case Word.get: .get
        case Word.head: .head
        case Word.post: .post
        case Word.put: .put
        case Word.delete: .delete
        case Word.options: .options
        case Word.patch: .patch
        case Word.trace: .trace
        case Word.connect: .connect
        default: .other
        }
    }
}

extension Int {
    /// `self + other`, or `Int.max` instead of overflowing (a limit configured as `.max` means "none").
    @inline(__always)
    func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}

extension Range<Int> {
    /// The range moved down by `offset`: from indices in the input span to indices in `Request.head`.
    @inline(__always)
    func shifted(by offset: Int) -> Range<Int> {
        (lowerBound - offset)..<(upperBound - offset)
    }
}
