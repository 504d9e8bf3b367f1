import Site
import Testing

@Suite struct StaticByteRangeTests {
    static let table: [(value: String, size: Int, expected: ByteRange)] = [
        ("bytes=0-499", 1000, .partial(0..<500)),
        ("bytes=500-999", 1000, .partial(500..<1000)),
        ("bytes=500-", 1000, .partial(500..<1000)),
        ("bytes=-500", 1000, .partial(500..<1000)),
        ("bytes=-2000", 1000, .partial(0..<1000)),
        ("bytes=0-0", 1000, .partial(0..<1)),
        ("bytes=999-5000", 1000, .partial(999..<1000)),
        ("bytes=0-99999999999999999999999", 10, .partial(0..<10)),
        ("Bytes=0-1", 10, .partial(0..<2)),
        ("BYTES=0-1", 10, .partial(0..<2)),
        ("bytes= 0-1 ", 10, .partial(0..<2)),
        ("bytes=1000-", 1000, .unsatisfiable),
        ("bytes=1000-1001", 1000, .unsatisfiable),
        ("bytes=99999999999999999999999-", 10, .unsatisfiable),
        ("bytes=-0", 1000, .unsatisfiable),
        ("bytes=0-", 0, .unsatisfiable),
        ("bytes=-5", 0, .whole),
        ("bytes=0-1,3-4", 10, .whole),
        ("bytes=0-1, -2", 10, .whole),
        ("bytes=5-1", 10, .whole),
        ("bytes=a-b", 10, .whole),
        ("bytes=1-b", 10, .whole),
        ("bytes=+1-2", 10, .whole),
        ("bytes=", 10, .whole),
        ("bytes=-", 10, .whole),
        ("bytes=0--1", 10, .whole),
        ("bytes 0-1", 10, .whole),
        ("items=0-1", 10, .whole),
        ("bytesx=0-1", 10, .whole),
        ("", 10, .whole),
    ]

    @Test(arguments: table)
    func parsesSingleRanges(value: String, size: Int, expected: ByteRange) {
        #expect(ByteRange.parse(Array(value.utf8)[...], size: size) == expected)
    }
}

@Suite struct StaticConditionalRequestTests {
    static let validators = Validators(modified: 784_111_777, size: 1000)
    static let etag = "\"2ebc98a1-3e8\""
    static let mtime = "Sun, 06 Nov 1994 08:49:37 GMT"
    static let earlier = "Sun, 06 Nov 1994 08:49:36 GMT"
    static let later = "Mon, 07 Nov 1994 00:00:00 GMT"
    static let now: Int64 = 1_767_225_600

    @Test func makesNginxStyleEntityTag() {
        #expect(String(decoding: Self.validators.etag, as: UTF8.self) == Self.etag)
    }

    static let table: [(name: String, request: ConditionalRequest, expected: ConditionalRequest.Selection)] = [
        ("no headers", ConditionalRequest(), .whole),
        ("matching tag", ConditionalRequest(ifNoneMatch: etag), .notModified),
        ("weak form of tag", ConditionalRequest(ifNoneMatch: "W/\(etag)"), .notModified),
        ("tag in a list", ConditionalRequest(ifNoneMatch: "\"x\", W/\"y\" ,\(etag)"), .notModified),
        ("star", ConditionalRequest(ifNoneMatch: "*"), .notModified),
        ("other tag", ConditionalRequest(ifNoneMatch: "\"2ebc98a1-3e9\""), .whole),
        ("unquoted tag", ConditionalRequest(ifNoneMatch: "2ebc98a1-3e8"), .whole),
        ("garbage then tag", ConditionalRequest(ifNoneMatch: "junk, \(etag)"), .notModified),
        ("unterminated tag", ConditionalRequest(ifNoneMatch: "\"2ebc98a1-3e8"), .whole),
        ("same date", ConditionalRequest(ifModifiedSince: mtime), .notModified),
        ("later date", ConditionalRequest(ifModifiedSince: later), .notModified),
        ("earlier date", ConditionalRequest(ifModifiedSince: earlier), .whole),
        ("invalid date", ConditionalRequest(ifModifiedSince: "yesterday"), .whole),
        ("future date", ConditionalRequest(ifModifiedSince: "Fri, 01 Jan 2100 00:00:00 GMT"), .whole),
        ("obsolete date form", ConditionalRequest(ifModifiedSince: "Sunday, 06-Nov-94 08:49:37 GMT"), .notModified),
        ("tag wins over date", ConditionalRequest(ifNoneMatch: "\"other\"", ifModifiedSince: later), .whole),
        ("tag and date match", ConditionalRequest(ifNoneMatch: etag, ifModifiedSince: earlier), .notModified),
        ("range", ConditionalRequest(range: "bytes=0-9"), .partial(0..<10)),
        ("range on HEAD", ConditionalRequest(range: "bytes=0-9", isGET: false), .whole),
        ("range past end", ConditionalRequest(range: "bytes=1000-"), .unsatisfiable),
        ("304 before range", ConditionalRequest(ifNoneMatch: etag, range: "bytes=0-9"), .notModified),
        ("if-range same tag", ConditionalRequest(range: "bytes=0-9", ifRange: etag), .partial(0..<10)),
        ("if-range other tag", ConditionalRequest(range: "bytes=0-9", ifRange: "\"old\""), .whole),
        ("if-range weak tag", ConditionalRequest(range: "bytes=0-9", ifRange: "W/\(etag)"), .whole),
        ("if-range same date", ConditionalRequest(range: "bytes=0-9", ifRange: mtime), .partial(0..<10)),
        ("if-range other date", ConditionalRequest(range: "bytes=0-9", ifRange: later), .whole),
        ("if-range garbage", ConditionalRequest(range: "bytes=0-9", ifRange: "soon"), .whole),
        ("if-range unsatisfiable", ConditionalRequest(range: "bytes=5000-", ifRange: etag), .unsatisfiable),
    ]

    @Test(arguments: table)
    func selectsResponse(name: String, request: ConditionalRequest, expected: ConditionalRequest.Selection) {
        #expect(request.selection(for: Self.validators, now: Self.now) == expected, "\(name)")
    }

    @Test func picksHeadersOutOfRequestCaseInsensitively() {
        let request = StaticFixture.request(
            "/static/a.css",
            headers: [
                ("IF-NONE-MATCH", "\"a\""), ("if-modified-since", "x"), ("rAnGe", "bytes=1-2"), ("If-Range", "\"b\""),
                ("If-None-Match", "\"ignored second\""), ("Ranges", "no"),
            ])
        let picked = ConditionalRequest(request)
        let value = { (range: Range<Int>?) in range.map { String(decoding: picked.head[$0], as: UTF8.self) } }
        #expect(value(picked.ifNoneMatch) == "\"a\"")
        #expect(value(picked.ifModifiedSince) == "x")
        #expect(value(picked.range) == "bytes=1-2")
        #expect(value(picked.ifRange) == "\"b\"")
        #expect(picked.isGET)
    }
}
