import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a visitor types in the search box is never FTS5 syntax, never a 500 (issue #4): hostile queries against
/// the real binary answer 200 (searched as words) or 400 (unreadable or too long), with the search page.
@Suite(.sampleSite) struct SearchAbuseTests {
    struct HostileQuery: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        var testDescription: String { name }
    }

    static let tenKiB = String(repeating: "container ", count: 1024)

    static let queries = [
        HostileQuery(name: "a double quote", text: "\""),
        HostileQuery(name: "unbalanced quotes", text: "\"tls 1.3"),
        HostileQuery(name: "quoted phrase", text: "\"reverse proxy\""),
        HostileQuery(name: "single quotes and SQL", text: "' OR 1=1 --"),
        HostileQuery(name: "NEAR(", text: "NEAR("),
        HostileQuery(name: "NEAR group", text: "NEAR(tls docker, 2)"),
        HostileQuery(name: "a lone star", text: "*"),
        HostileQuery(name: "prefix star", text: "dock*"),
        HostileQuery(name: "dangling OR", text: "a OR"),
        HostileQuery(name: "operators only", text: "AND OR NOT"),
        HostileQuery(name: "column filter", text: "title:kaniko"),
        HostileQuery(name: "column set", text: "{title body}: tls"),
        HostileQuery(name: "caret and minus", text: "^tls -docker"),
        HostileQuery(name: "parentheses", text: "((()"),
        HostileQuery(name: "plus and colon", text: "+:+"),
        HostileQuery(name: "markup", text: "<script>alert(1)</script>"),
        HostileQuery(name: "control characters", text: "tls\u{1}\u{1b}[0m\u{7f}docker"),
        HostileQuery(name: "snippet markers", text: "\u{E000}tls\u{E001}"),
        HostileQuery(name: "emoji and RTL", text: "🔒 TLS \u{202E}kcod"),
        HostileQuery(name: "201 characters", text: String(repeating: "é", count: 201)),
        HostileQuery(name: "6 KB of words", text: String(Self.tenKiB.prefix(6000))),
    ]

    @Test(arguments: queries)
    func aHostileQueryAnswers200Or400NeverAnError(_ query: HostileQuery) throws {
        let site = try SampleSite.required()
        for lang in ["fr", "en"] {
            let reply = try site.get("/\(lang)/search", options: ["--get", "--data-urlencode", "q=\(query.text)"])
            #expect([200, 400].contains(reply.status), "\(lang): \(reply.status)")
            #expect(reply.header("Content-Type") == "text/html; charset=utf-8")
            #expect(reply.text.contains("<html lang=\"\(lang)\">"))
            #expect(!reply.text.contains("<script>"), "the query is escaped where it is echoed")
        }
        #expect(try site.get("/healthz").status == 200)
    }

    /// 10 KB does not fit the request line (8 KiB, README): the HTTP layer answers 414 before the search sees it.
    @Test func tenKilobytesOfTextAreRefusedBeforeTheSearch() throws {
        let site = try SampleSite.required()
        let reply = try site.get("/en/search", options: ["--get", "--data-urlencode", "q=\(Self.tenKiB)"])
        #expect([400, 414].contains(reply.status))
        #expect(try site.get("/en/search?q=tls").status == 200)
    }

    @Test(arguments: [
        "%FF%FE", "%C3", "%C3%28", "%ED%A0%80", "%C0%AF", "%F4%90%80%80", "tls%FF", "%E2%82", "abc%", "%%41",
        "%FF%FE+NEAR(%22", "q%00x",
    ])
    func invalidUTF8AfterDecodingAnswers400Or200(_ encoded: String) throws {
        let site = try SampleSite.required()
        let client = try RawClient(port: site.server.port)
        client.send("GET /fr/search?q=\(encoded) HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let reply = try #require(client.readResponses(1, timeout: 10).first)
        #expect([200, 400].contains(reply.status), "\(encoded): \(reply.status)")
        #expect(reply.text.contains("<html lang=\"fr\">"))
        // The connection is still usable: the refusal is a page, not a protocol error.
        client.send("GET /fr/search?q=tls HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(client.readResponses(1, timeout: 10).first?.status == 200)
    }

    @Test func rawNonASCIIBytesInTheTargetAreRefusedNotCrashed() throws {
        let site = try SampleSite.required()
        let client = try RawClient(port: site.server.port)
        client.send(
            Data("GET /en/search?q=".utf8) + Data([0xFF, 0xFE, 0x80]) + Data(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let reply = try #require(client.readResponses(1, timeout: 10).first)
        #expect([200, 400].contains(reply.status))
        #expect(try site.get("/healthz").status == 200)
    }
}
