import HTTP
import Testing

@testable import Site

/// gzip negotiation and conditional requests on pre-rendered pages.
@Suite struct PagesConditionalTests {
    static let path = "/fr/article/article-4-fr"

    func get(_ headers: [(String, String)]) -> Response {
        PagesFixture.get(PagesFixture.shared, Self.path, headers)
    }

    @Test func gzipVariantInflatesToTheIdentityBody() throws {
        let plain = get([])
        let gzipped = get([("Accept-Encoding", "gzip, deflate, br")])
        #expect(StaticFixture.header(plain, "Content-Encoding") == nil)
        #expect(StaticFixture.header(gzipped, "Content-Encoding") == "gzip")
        #expect(StaticFixture.header(plain, "Vary") == "Accept-Encoding")
        #expect(StaticFixture.header(gzipped, "Vary") == "Accept-Encoding")
        let inflated = try #require(Gzip.decompress(StaticFixture.body(gzipped)))
        #expect(inflated == StaticFixture.body(plain))
        #expect(StaticFixture.body(gzipped).count < StaticFixture.body(plain).count)
        #expect(StaticFixture.header(gzipped, "Content-Type") == "text/html; charset=utf-8")
        #expect(StaticFixture.header(gzipped, "Content-Language") == "fr")
    }

    @Test func refusedGzipGetsTheIdentityBody() {
        for value in ["gzip;q=0", "identity", "br", "*;q=0"] {
            #expect(StaticFixture.header(get([("Accept-Encoding", value)]), "Content-Encoding") == nil, "\(value)")
        }
    }

    @Test func eachEncodingHasItsOwnStrongEntityTag() throws {
        let plainTag = try #require(StaticFixture.header(get([]), "ETag"))
        let gzipTag = try #require(StaticFixture.header(get([("Accept-Encoding", "gzip")]), "ETag"))
        #expect(plainTag.hasPrefix("\"") && !plainTag.hasPrefix("W/"))
        #expect(plainTag != gzipTag)
        #expect(StaticFixture.header(get([]), "Cache-Control") == "public, max-age=60")
        #expect(StaticFixture.header(get([]), "Last-Modified") != nil)
    }

    @Test func matchingEntityTagGets304WithValidatorsAndNoBody() throws {
        let plainTag = try #require(StaticFixture.header(get([]), "ETag"))
        let gzipTag = try #require(StaticFixture.header(get([("Accept-Encoding", "gzip")]), "ETag"))
        let notModified = get([("If-None-Match", plainTag)])
        #expect(notModified.status.code == 304)
        #expect(notModified.body.count == 0)
        #expect(StaticFixture.header(notModified, "ETag") == plainTag)
        #expect(StaticFixture.header(notModified, "Cache-Control") == "public, max-age=60")
        #expect(StaticFixture.header(notModified, "Vary") == "Accept-Encoding")
        #expect(
            get([("If-None-Match", "\"other\", W/\(gzipTag), \"x\""), ("Accept-Encoding", "gzip")]).status.code == 304)
        #expect(get([("If-None-Match", "*")]).status.code == 304)
        // A tag of the other encoding does not validate this one.
        #expect(get([("If-None-Match", plainTag), ("Accept-Encoding", "gzip")]).status.code == 200)
        #expect(get([("If-None-Match", gzipTag)]).status.code == 200)
        #expect(get([("If-None-Match", "\"stale\"")]).status.code == 200)
    }

    @Test func ifModifiedSinceGets304UnlessIfNoneMatchSaysOtherwise() throws {
        let lastModified = try #require(StaticFixture.header(get([]), "Last-Modified"))
        #expect(get([("If-Modified-Since", lastModified)]).status.code == 304)
        #expect(get([("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")]).status.code == 200)
        // RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
        #expect(get([("If-None-Match", "\"stale\""), ("If-Modified-Since", lastModified)]).status.code == 200)
    }

    @Test func rangeIsIgnoredOnPages() {
        let response = get([("Range", "bytes=0-10")])
        #expect(response.status.code == 200)
        #expect(response.body.count > 11)
    }

    @Test func errorPagesAreNeverNotModified() {
        let response = PagesFixture.get(PagesFixture.shared, "/fr/nope", [("If-None-Match", "*")])
        #expect(response.status.code == 404)
        #expect(StaticFixture.header(response, "ETag") == nil)
        #expect(StaticFixture.header(response, "Cache-Control") == "no-cache")
    }
}
