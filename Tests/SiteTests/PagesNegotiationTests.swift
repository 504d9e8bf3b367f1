import Testing

@testable import Site

@Suite struct PagesNegotiationTests {
    // MARK: - Accept-Language

    static let languageCases: [(header: String?, available: [String], expected: String)] = [
        (nil, ["fr", "en"], "fr"),
        ("", ["fr", "en"], "fr"),
        ("en", ["fr", "en"], "en"),
        ("EN-us", ["fr", "en"], "en"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", ["en", "fr"], "fr"),
        ("de, en;q=0.5", ["fr", "en"], "en"),
        ("de", ["fr", "en"], "fr"),
        ("*", ["en", "fr"], "en"),
        ("de, *;q=0.1", ["fr", "en"], "fr"),
        ("fr;q=0, *", ["fr", "en"], "en"),
        ("fr;q=0", ["fr", "en"], "en"),
        ("fr;q=0, en;q=0", ["fr", "en"], "fr"),
        ("en;q=0.5, fr;q=0.8", ["fr", "en"], "fr"),
        ("en;q=0.8, fr;q=0.8", ["fr", "en"], "en"),
        ("en;q=1.0, fr;q=0.999", ["fr", "en"], "en"),
        ("en;q=2, fr", ["fr", "en"], "fr"),
        ("en;q=abc, fr;q=0.1", ["en", "fr"], "fr"),
        ("en ; q=0.9 , fr ; q=0.1", ["fr", "en"], "en"),
        ("zh-Hant-TW, en-GB", ["fr", "en"], "en"),
        ("en", ["fr", "en-gb"], "en-gb"),
        ("pt-BR", ["fr", "pt"], "pt"),
        (",,;;=q, fr", ["en", "fr"], "fr"),
        (String(repeating: "xx, ", count: 2000), ["fr", "en"], "fr"),
    ]

    @Test(arguments: languageCases.indices)
    func acceptLanguagePicksTheBestSiteLanguage(_ index: Int) {
        let c = Self.languageCases[index]
        #expect(
            LanguageNegotiation.best(c.header, available: c.available) == c.expected,
            "\(String(describing: c.header).prefix(60)) with \(c.available)")
    }

    // MARK: - Accept-Encoding

    static let encodingCases: [(header: String, gzip: Bool)] = [
        ("gzip", true),
        ("gzip, deflate, br", true),
        ("GZIP", true),
        ("x-gzip", true),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", true),
        ("gzip;q=0", false),
        ("gzip;q=0.000", false),
        ("gzip; q=0.001", true),
        ("gzip;Q=0", false),
        ("*", true),
        ("*;q=0", false),
        ("*, gzip;q=0", false),
        ("gzip;q=0, *", false),
        ("identity", false),
        ("deflate, br", false),
        ("", false),
        ("gzipx", false),
        ("gzip;q=abc", false),
        ("gzip;q=1.5", false),
        (" gzip ; q=0.5 ", true),
        ("br, gzip;level=1", true),
    ]

    @Test(arguments: encodingCases.indices)
    func acceptEncodingAllowsGzipOnlyWithAPositiveWeight(_ index: Int) {
        let c = Self.encodingCases[index]
        #expect(AcceptEncoding.allowsGzip(Array(c.header.utf8)[...]) == c.gzip, "\(c.header)")
    }

    @Test func acceptEncodingIsFoundWhateverItsCase() {
        let request = StaticFixture.request("/fr/", headers: [("ACCEPT-encoding", "gzip")])
        #expect(AcceptEncoding.acceptsGzip(request))
        #expect(!AcceptEncoding.acceptsGzip(StaticFixture.request("/fr/", headers: [("Accept", "gzip")])))
    }

    // MARK: - Pagination

    static let paginationCases: [(items: Int, size: Int, pages: Int, last: Range<Int>)] = [
        (0, 10, 1, 0..<0),
        (1, 10, 1, 0..<1),
        (10, 10, 1, 0..<10),
        (11, 10, 2, 10..<11),
        (25, 10, 3, 20..<25),
        (30, 10, 3, 20..<30),
        (5, 1, 5, 4..<5),
    ]

    @Test(arguments: paginationCases.indices)
    func paginationSplitsIntoPagesOfTheGivenSize(_ index: Int) {
        let c = Self.paginationCases[index]
        let pagination = Pagination(itemCount: c.items, pageSize: c.size)
        #expect(pagination.pageCount == c.pages)
        #expect(pagination.range(ofPage: c.pages) == c.last)
        #expect(pagination.range(ofPage: 0) == 0..<0)
        #expect(pagination.range(ofPage: c.pages + 1) == 0..<0)
        let covered = (1...pagination.pageCount).flatMap { Array(pagination.range(ofPage: $0)) }
        #expect(covered == Array(0..<c.items))
    }

    // MARK: - Search query

    static let searchCases: [(query: String?, expected: SearchInput)] = [
        (nil, .empty),
        ("", .empty),
        ("q=", .empty),
        ("q", .empty),
        ("q=+++", .empty),
        ("x=1", .empty),
        ("q=tls", .words("tls")),
        ("q=tls+1.3", .words("tls 1.3")),
        ("q=tls%201.3", .words("tls 1.3")),
        ("lang=fr&q=%C3%A9t%C3%A9&page=2", .words("été")),
        ("q=a%2Bb", .words("a+b")),
        ("q=100%", .words("100%")),
        ("q=%zz", .words("%zz")),
        ("q=%22quoted%22+NEAR+*", .words("\"quoted\" NEAR *")),
        ("q=a%0D%0Ab%09c", .words("a b c")),
        ("q=%FF", .invalid),
        ("q=%C3", .invalid),
        ("q=" + String(repeating: "a", count: 201), .tooLong),
        ("q=" + String(repeating: "a", count: 200), .words(String(repeating: "a", count: 200))),
        ("q=" + String(repeating: "word+", count: 2000), .tooLong),
        ("q=first&q=second", .words("first")),
    ]

    @Test(arguments: searchCases.indices)
    func searchQueryIsDecodedLikeAForm(_ index: Int) {
        let c = Self.searchCases[index]
        #expect(
            SearchInput(query: c.query.map { Array($0.utf8)[...] }) == c.expected,
            "\(String(describing: c.query).prefix(40))")
    }

    // MARK: - Percent-encoding

    @Test func segmentsAreEncodedExceptUnreservedCharacters() {
        #expect(PercentEncoding.encodeSegment("article-1_a.b~c") == "article-1_a.b~c")
        #expect(PercentEncoding.encodeSegment("été/x y") == "%C3%A9t%C3%A9%2Fx%20y")
        #expect(PercentEncoding.encodeQueryValue("tls 1.3 & co") == "tls+1.3+%26+co")
    }
}
