import Testing

@testable import HTTP

/// `GET /aaa…a HTTP/1.1` padded so the line, CRLF excluded, is exactly `length` bytes.
func requestLine(length: Int) -> String {
    let fixed = "GET / HTTP/1.1".utf8.count
    return "GET /" + String(repeating: "a", count: length - fixed) + " HTTP/1.1"
}

/// A head whose header section (field lines and final CRLF) is exactly `length` bytes.
func headWithHeaderSection(length: Int) -> [UInt8] {
    let fixed = "Host: a\r\nX: \r\n\r\n".utf8.count
    return Array("GET / HTTP/1.1\r\nHost: a\r\nX: \(String(repeating: "v", count: length - fixed))\r\n\r\n".utf8)
}

/// A head with `count` fields, Host included.
func headWithFields(count: Int) -> [UInt8] {
    let extra = (1..<count).map { "X-\($0): \($0)\r\n" }.joined()
    return Array("GET / HTTP/1.1\r\nHost: a\r\n\(extra)\r\n".utf8)
}

@Suite struct RequestParserLimitTests {
    let limits = RequestParser.Limits()

    @Test func acceptsARequestLineOfExactlyTheLimit() {
        let raw = Array((requestLine(length: limits.requestLine) + "\r\nHost: a\r\n\r\n").utf8)
        #expect(Summary(parse(raw)) == .request(consumed: raw.count))
    }

    @Test func rejectsARequestLineOneByteOverTheLimit() {
        let raw = Array((requestLine(length: limits.requestLine + 1) + "\r\nHost: a\r\n\r\n").utf8)
        #expect(Summary(parse(raw)) == .failure(.requestLineTooLong))
    }

    @Test func rejectsAnOverlongRequestLineBeforeItEnds() {
        let line = Array(requestLine(length: limits.requestLine + 100).utf8)
        // Target not finished when the limit is reached: refuse without waiting for the rest.
        #expect(Summary(parse(line[..<limits.requestLine])) == .failure(.requestLineTooLong))
        #expect(Summary(parse(line[..<(limits.requestLine - 1)])) == .incomplete)
        // Target ends too late for the version to fit.
        let late = Array(requestLine(length: limits.requestLine + 1).utf8)
        #expect(Summary(parse(late[..<(limits.requestLine - 7)])) == .failure(.requestLineTooLong))
    }

    @Test func waitsForTheCRLFOfARequestLineOfExactlyTheLimit() {
        let raw = Array((requestLine(length: limits.requestLine) + "\r\nHost: a\r\n\r\n").utf8)
        for length in [limits.requestLine, limits.requestLine + 1, limits.requestLine + 2] {
            #expect(Summary(parse(raw[..<length])) == .incomplete, "prefix of \(length) bytes")
        }
    }

    @Test func countsLeadingEmptyLinesOutsideTheRequestLine() {
        let raw = Array(("\r\n" + requestLine(length: limits.requestLine) + "\r\nHost: a\r\n\r\n").utf8)
        #expect(Summary(parse(raw)) == .request(consumed: raw.count))
    }

    @Test func acceptsAHeaderSectionOfExactlyTheLimit() {
        let raw = headWithHeaderSection(length: limits.headerBlock)
        #expect(Summary(parse(raw)) == .request(consumed: raw.count))
    }

    @Test func rejectsAHeaderSectionOneByteOverTheLimit() {
        let raw = headWithHeaderSection(length: limits.headerBlock + 1)
        #expect(Summary(parse(raw)) == .failure(.headerBlockTooLarge))
    }

    @Test func rejectsAnOversizedHeaderSectionBeforeItEnds() {
        let raw = headWithHeaderSection(length: limits.headerBlock + 100)
        let lineCount = "GET / HTTP/1.1\r\n".utf8.count
        #expect(Summary(parse(raw[..<(lineCount + limits.headerBlock)])) == .failure(.headerBlockTooLarge))
        #expect(Summary(parse(raw[..<(lineCount + limits.headerBlock - 1)])) == .incomplete)
    }

    @Test func acceptsExactlyTheMaximumFieldCount() {
        let raw = headWithFields(count: limits.headerCount)
        guard case .request(let request, _) = parse(raw) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.fields.count == limits.headerCount)
    }

    @Test func rejectsOneFieldOverTheMaximum() {
        #expect(Summary(parse(headWithFields(count: limits.headerCount + 1))) == .failure(.tooManyFields))
    }

    @Test func appliesConfiguredLimits() {
        let small = RequestParser.Limits(requestLine: 32, headerBlock: 64, headerCount: 3, maxBody: 10)
        let line32 = requestLine(length: 32)
        let fits = Array((line32 + "\r\nHost: a\r\n\r\n").utf8)
        #expect(Summary(parse(fits, limits: small)) == .request(consumed: fits.count))
        let line33 = requestLine(length: 33)
        #expect(Summary(parse(Array((line33 + "\r\n").utf8), limits: small)) == .failure(.requestLineTooLong))
        #expect(Summary(parse(headWithFields(count: 4), limits: small)) == .failure(.tooManyFields))
        #expect(Summary(parse(headWithHeaderSection(length: 65), limits: small)) == .failure(.headerBlockTooLarge))
    }

    @Test func treatsUnboundedLimitsAsNoLimit() {
        let huge = RequestParser.Limits(requestLine: .max, headerBlock: .max, headerCount: .max, maxBody: .max)
        let raw = Array("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n".utf8)
        #expect(Summary(parse(raw, limits: huge)) == .request(consumed: raw.count))
        #expect(Summary(parse(raw[..<20], limits: huge)) == .incomplete)
    }
}

@Suite struct HTTPErrorTests {
    @Test(arguments: HTTPError.allCases)
    func everyErrorHasAStatusAMessageAndClosesTheConnection(_ error: HTTPError) {
        #expect([400, 405, 411, 413, 414, 431, 501, 505].contains(error.status.code))
        #expect(!error.message.isEmpty)
        #expect(error.closesConnection)
    }

    /// Each SWAR test against its byte-wise meaning, for every byte value at every position of a word whose
    /// other bytes are pseudo-random (a fixed LCG, so failures reproduce).
    @Test func swarTestsAgreeWithByteWiseChecks() {
        var seed: UInt64 = 0x2545_f491_4f6c_dd1d
        func next() -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return seed
        }
        /// Index of the byte flagged by the lowest set bit, or 8.
        func firstFlag(_ mask: UInt64) -> Int { mask == 0 ? 8 : mask.trailingZeroBitCount / 8 }
        /// Index of the first byte of `word` satisfying `test`, or 8.
        func firstByte(_ word: UInt64, _ test: (UInt8) -> Bool) -> Int {
            (0..<8).first { test(UInt8(truncatingIfNeeded: word >> (8 * UInt64($0)))) } ?? 8
        }
        for value in 0...255 {
            for position in 0..<8 {
                for _ in 0..<4 {
                    let shift = UInt64(8 * position)
                    let word = (next() & ~(0xff << shift)) | UInt64(value) << shift
                    let bytes = (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) }
                    #expect(firstFlag(SWAR.less(word, than: 0x21)) == firstByte(word) { $0 < 0x21 })
                    #expect(firstFlag(SWAR.equal(word, 0x7F)) == firstByte(word) { $0 == 0x7F })
                    #expect(firstFlag(SWAR.nonASCII(word)) == firstByte(word) { $0 >= 0x80 })
                    let range = SWAR.inRange(word, 0x30, 0x39)
                    let dash = SWAR.exactlyEqual(word, 0x2D)
                    for k in 0..<8 {
                        #expect((range >> (8 * UInt64(k) + 7)) & 1 == (bytes[k] &- 0x30 < 10 ? 1 : 0))
                        #expect((dash >> (8 * UInt64(k) + 7)) & 1 == (bytes[k] == 0x2D ? 1 : 0))
                    }
                }
            }
        }
    }

    @Test(arguments: [
        (HTTPError.requestLineTooLong, 414), (.headerBlockTooLarge, 431), (.tooManyFields, 431),
        (.unsupportedVersion, 505), (.unsupportedTransferCoding, 501), (.connectNotSupported, 501),
        (.lengthRequired, 411), (.contentTooLarge, 413), (.methodNotAllowed, 405), (.conflictingContentLength, 400),
        (.bareLineFeed, 400),
    ])
    func mapsErrorsToTheirStatus(_ error: HTTPError, _ code: Int) {
        #expect(error.status.code == code)
    }
}

@Suite struct RequestParserByteClassTests {
    static let letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    static let digits = "0123456789"

    /// Whether `test` holds for exactly the bytes of `members`.
    func holdsExactly(for members: String, _ test: (UInt8) -> Bool) -> Bool {
        let set = Set(members.utf8)
        return (0...255).allSatisfy { test(UInt8($0)) == set.contains(UInt8($0)) }
    }

    @Test func tokenBytesAreExactlyTchar() {
        #expect(holdsExactly(for: "!#$%&'*+-.^_`|~" + Self.digits + Self.letters, isTokenByte))
    }

    @Test func regNameBytesAreUnreservedSubDelimsAndPercent() {
        #expect(holdsExactly(for: "-._~!$&'()*+,;=%" + Self.digits + Self.letters, isRegNameByte))
        #expect(holdsExactly(for: "-._~!$&'()*+,;=%:" + Self.digits + Self.letters, isIPLiteralByte))
    }

    @Test func targetBytesAreVisibleASCIIWithoutHash() {
        let visible = String(decoding: (0x21...0x7E).map { UInt8($0) }, as: UTF8.self)
        #expect(holdsExactly(for: visible.replacingOccurrences("#"), isTargetByte))
    }

    @Test(arguments: [
        (Word.get, "GET"), (Word.put, "PUT"), (Word.head, "HEAD"), (Word.post, "POST"), (Word.patch, "PATCH"),
        (Word.trace, "TRACE"), (Word.delete, "DELETE"), (Word.options, "OPTIONS"), (Word.connect, "CONNECT"),
        (Word.httpSlash, "HTTP/"), (Word.httpScheme, "http://"), (Word.httpsScheme, "https://"),
        (Word.host, "host"), (Word.connecti, "connecti"), (Word.on, "on"), (Word.content, "content-"),
        (Word.length, "length"), (Word.transfer, "transfer"), (Word.encodin, "-encodin"), (Word.g, "g"),
        (Word.close, "close"), (Word.keepAli, "keep-ali"), (Word.ve, "ve"), (Word.chunked, "chunked"),
        (Word.gzip, "gzip"), (Word.deflate, "deflate"), (Word.compress, "compress"), (Word.xGzip, "x-gzip"),
        (Word.xCompre, "x-compre"), (Word.ss, "ss"),
    ])
    func packedWordsMatchTheirSpelling(_ word: UInt64, _ spelling: String) {
        let bytes = Array(spelling.utf8)
        #expect(packed(bytes.span, 0, bytes.count) == word)
    }
}

extension String {
    /// `self` without any `character`.
    fileprivate func replacingOccurrences(_ character: Character) -> String {
        String(filter { $0 != character })
    }
}
