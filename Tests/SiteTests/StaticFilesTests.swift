import Glibc
import HTTP
import Testing

@testable import Site

/// A root with files, dotfiles, symlinks in and out, and a FIFO, next to a secret outside it:
///
/// ```
/// <tmp>/outside.txt                 "secret outside the root"
/// <tmp>/webroot/site.css               "body{color:red}"
/// <tmp>/webroot/css/site.css           "h1{}"
/// <tmp>/webroot/big.bin                64 bytes 0…63 (above the test memoryFileLimit of 16)
/// <tmp>/webroot/.env, .git/config, sub/.hidden
/// <tmp>/webroot/link-inside.css        → css/site.css
/// <tmp>/webroot/link-outside.txt       → ../outside.txt
/// <tmp>/webroot/link-outside-abs.txt   → <tmp>/outside.txt
/// <tmp>/webroot/linkdir                → ..
/// <tmp>/webroot/link-to-dotfile        → .env
/// <tmp>/webroot/pipe                   a FIFO
/// ```
final class StaticSite {
    let directory = TemporaryDirectory()
    let files: StaticFiles
    /// The wall clock requests carry; tests move it to trigger revalidation.
    var now = StaticFixture.now
    static let css = "body{color:red}"
    static let big = (0..<64).map { UInt8($0) }

    init(
        options: StaticFiles.Options = StaticFiles.Options(memoryFileLimit: 16),
        cacheControl: String = "public, max-age=3600"
    ) {
        let d = directory
        d.write("outside.txt", "secret outside the root")
        d.makeDirectory("webroot")
        d.write("webroot/site.css", Self.css)
        d.makeDirectory("webroot/css")
        d.write("webroot/css/site.css", "h1{}")
        d.write("webroot/big.bin", Self.big)
        d.write("webroot/.env", "SECRET=1")
        d.makeDirectory("webroot/.git")
        d.write("webroot/.git/config", "secret git")
        d.makeDirectory("webroot/sub")
        d.write("webroot/sub/.hidden", "secret hidden")
        d.symlink("webroot/link-inside.css", to: "css/site.css")
        d.symlink("webroot/link-outside.txt", to: "../outside.txt")
        d.symlink("webroot/link-outside-abs.txt", to: "\(d.path)/outside.txt")
        d.symlink("webroot/linkdir", to: "..")
        d.symlink("webroot/link-to-dotfile", to: ".env")
        d.makeFIFO("webroot/pipe")
        files = StaticFiles(root: "\(d.path)/webroot", cacheControl: cacheControl, options: options)
    }

    func get(
        _ target: String, _ headers: [(String, String)] = [], method: HTTP.Method = .get, loop: Int = 0
    ) -> Response? {
        files.respond(
            to: StaticFixture.request(target, method: method, headers: headers),
            context: StaticFixture.context(now: now, loop: loop))
    }

    deinit { directory.remove() }
}

extension TemporaryDirectory {
    /// Creates a FIFO at `relative` (tracked for removal through a regular write first).
    func makeFIFO(_ relative: String) {
        write(relative, "")
        precondition(Glibc.unlink("\(path)/\(relative)") == 0 && mkfifo("\(path)/\(relative)", 0o644) == 0)
    }
}

@Suite struct StaticFilesTests {
    @Test func servesSmallFileFromMemoryWithPrecomputedHeaders() throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/site.css"))
        #expect(response.status == .ok)
        #expect(StaticFixture.text(response) == StaticSite.css)
        guard case .bytes = response.body else {
            Issue.record("expected an in-memory body")
            return
        }
        #expect(response.headers.isEmpty)
        let size = String(StaticSite.css.utf8.count, radix: 16)
        #expect(
            StaticFixture.headers(response).map(\.name) == [
                "Content-Type", "ETag", "Last-Modified", "Cache-Control", "Accept-Ranges", "X-Content-Type-Options",
            ])
        #expect(StaticFixture.header(response, "Content-Type") == "text/css; charset=utf-8")
        #expect(StaticFixture.header(response, "ETag") == "\"2ebc98a1-\(size)\"")
        #expect(StaticFixture.header(response, "Last-Modified") == StaticFixture.mtimeText)
        #expect(StaticFixture.header(response, "Cache-Control") == "public, max-age=3600")
        #expect(StaticFixture.header(response, "Accept-Ranges") == "bytes")
        #expect(StaticFixture.header(response, "X-Content-Type-Options") == "nosniff")
    }

    @Test func sharesCachedHeadersAndBodyBetweenHits() throws {
        let site = StaticSite()
        let first = try #require(site.get("/static/site.css"))
        let second = try #require(site.get("/static/site.css"))
        #expect(first.cachedHeaders === second.cachedHeaders)
        guard case .bytes(let a) = first.body, case .bytes(let b) = second.body else {
            Issue.record("expected in-memory bodies")
            return
        }
        #expect(a === b)
    }

    @Test func servesLargeFileFromOpenDescriptor() throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/big.bin"))
        #expect(response.status == .ok)
        guard case .file(_, let offset, let count) = response.body else {
            Issue.record("expected a sendfile body")
            return
        }
        #expect(offset == 0 && count == 64)
        #expect(StaticFixture.body(response) == StaticSite.big)
        #expect(StaticFixture.header(response, "Content-Type") == "application/octet-stream")
        #expect(site.files.cacheUsage.memoryBytes == 0)
    }

    @Test(arguments: ["/", "/static", "/staticx/site.css", "/other/static/site.css", "/STATIC/site.css"])
    func ignoresPathsOutsidePrefix(target: String) {
        let site = StaticSite()
        #expect(site.get(target) == nil)
    }

    static let escapes: [String] = [
        "/static/..",
        "/static/../outside.txt",
        "/static/%2e%2e/outside.txt",
        "/static/%2E%2e/outside.txt",
        "/static/%2E%2e/",
        "/static/.%2E/outside.txt",
        "/static/../../etc/passwd",
        "/static/css/../../outside.txt",
        "/static/..%2Foutside.txt",
        "/static/%2e%2e%2foutside.txt",
        "/static/..\\outside.txt",
        "/static/%5c..%5coutside.txt",
        "/static/site.css%00.txt",
        "/static/%zz",
        "/static/%C0%AE%C0%AE/outside.txt",
    ]

    @Test(arguments: escapes)
    func refusesEscapesWithBadRequest(target: String) throws {
        let site = StaticSite()
        let response = try #require(site.get(target))
        #expect(response.status == .badRequest)
        #expect(!StaticFixture.text(response).contains("secret"))
    }

    static let hidden: [String] = [
        "/static/.env",
        "/static/%2eenv",
        "/static/.git/config",
        "/static/sub/.hidden",
        "/static/link-outside.txt",
        "/static/link-outside-abs.txt",
        "/static/linkdir/outside.txt",
        "/static/link-to-dotfile",
        "/static/css",
        "/static/css/",
        "/static/",
        "/static/site.css/",
        "/static/site.css/.",
        "/static/missing.css",
        "/static/pipe",
    ]

    @Test(arguments: hidden)
    func answersNotFoundForAnythingButARegularFileInsideRoot(target: String) throws {
        let site = StaticSite()
        let response = try #require(site.get(target))
        #expect(response.status == .notFound)
        #expect(!StaticFixture.text(response).contains("secret"))
        #expect(site.files.cacheUsage.count == 0)
    }

    @Test func followsSymlinkThatStaysInsideRoot() throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/link-inside.css"))
        #expect(response.status == .ok)
        #expect(StaticFixture.text(response) == "h1{}")
    }

    @Test func reportsFailuresAsErrorsForTheRouter() {
        let site = StaticSite()
        let context = StaticFixture.context()
        guard case .failure(let escape)? = site.files.serve(StaticFixture.request("/static/../x"), context: context),
            case .failure(let missing)? = site.files.serve(StaticFixture.request("/static/nope"), context: context)
        else {
            Issue.record("expected failures")
            return
        }
        #expect(escape == .malformedPath(.escapesRoot))
        #expect(escape.status == .badRequest)
        #expect(missing == .notFound)
        #expect(missing.response.status == .notFound)
        #expect(StaticFixture.header(missing.response, "Content-Type") == "text/plain; charset=utf-8")
    }

    @Test(arguments: [
        "/static/site.css", "/static/./site.css", "/static//site.css", "/static/%73ite.css", "/static/css/../site.css",
        "/static/site.css?v=3",
    ])
    func servesEquivalentPathsFromOneEntry(target: String) throws {
        let site = StaticSite()
        _ = site.get("/static/site.css")
        let response = try #require(site.get(target))
        #expect(response.status == .ok)
        #expect(StaticFixture.text(response) == StaticSite.css)
        #expect(site.files.cacheUsage.count == 1)
    }

    @Test func omitsCacheControlWhenEmpty() throws {
        let site = StaticSite(cacheControl: "")
        let response = try #require(site.get("/static/site.css"))
        #expect(StaticFixture.header(response, "Cache-Control") == nil)
    }

    @Test func answersNotFoundWhenRootIsMissing() throws {
        let files = StaticFiles(root: "/nonexistent/mywebsite-static-root")
        let response = try #require(
            files.respond(to: StaticFixture.request("/static/a.css"), context: StaticFixture.context()))
        #expect(response.status == .notFound)
    }
}

@Suite struct StaticFilesConditionalTests {
    static let etag = "\"2ebc98a1-\(String(StaticSite.css.utf8.count, radix: 16))\""

    @Test(arguments: [
        ("If-None-Match", etag), ("If-None-Match", "W/\(etag)"), ("If-None-Match", "\"a\", \(etag)"),
        ("If-None-Match", "*"), ("If-Modified-Since", StaticFixture.mtimeText),
        ("If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT"),
    ])
    func answersNotModifiedWithValidatorsOnly(name: String, value: String) throws {
        let site = StaticSite()
        for _ in 0..<2 {  // the miss, then the hit
            let response = try #require(site.get("/static/site.css", [(name, value)]))
            #expect(response.status == .notModified)
            #expect(response.body.count == 0)
            #expect(StaticFixture.headers(response).map(\.name) == ["ETag", "Last-Modified", "Cache-Control"])
            #expect(StaticFixture.header(response, "ETag") == Self.etag)
        }
    }

    @Test(arguments: [
        ("If-None-Match", "\"stale\""), ("If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"),
        ("If-Modified-Since", "not a date"),
    ])
    func answersWholeFileWhenValidatorsDiffer(name: String, value: String) throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/site.css", [(name, value)]))
        #expect(response.status == .ok)
        #expect(StaticFixture.text(response) == StaticSite.css)
    }

    @Test(arguments: [
        ("/static/site.css", "bytes=0-3", "body", "bytes 0-3/15"),
        ("/static/site.css", "bytes=-4", "red}", "bytes 11-14/15"),
        ("/static/site.css", "bytes=5-", "color:red}", "bytes 5-14/15"),
        ("/static/site.css", "bytes=14-100", "}", "bytes 14-14/15"),
    ])
    func answersPartialContentFromMemory(target: String, range: String, body: String, contentRange: String) throws {
        let site = StaticSite()
        let response = try #require(site.get(target, [("Range", range)]))
        #expect(response.status == .partialContent)
        #expect(StaticFixture.text(response) == body)
        #expect(StaticFixture.header(response, "Content-Range") == contentRange)
        #expect(StaticFixture.header(response, "ETag") == Self.etag)
        guard case .slice = response.body else {
            Issue.record("expected a slice of the cached body")
            return
        }
    }

    @Test func answersPartialContentFromDescriptor() throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/big.bin", [("Range", "bytes=10-19")]))
        #expect(response.status == .partialContent)
        guard case .file(_, let offset, let count) = response.body else {
            Issue.record("expected a sendfile body")
            return
        }
        #expect(offset == 10 && count == 10)
        #expect(StaticFixture.body(response) == Array(StaticSite.big[10..<20]))
        #expect(StaticFixture.header(response, "Content-Range") == "bytes 10-19/64")
    }

    @Test(arguments: ["bytes=15-", "bytes=100-200", "bytes=-0"])
    func answersRangeNotSatisfiable(range: String) throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/site.css", [("Range", range)]))
        #expect(response.status == .rangeNotSatisfiable)
        #expect(StaticFixture.header(response, "Content-Range") == "bytes */15")
    }

    @Test(arguments: [
        [("Range", "bytes=0-1,4-5")], [("Range", "bytes=9-2")], [("Range", "lines=1-2")], [("Range", "bytes=x")],
        [("Range", "bytes=0-3"), ("If-Range", "\"stale\"")],
        [("Range", "bytes=0-3"), ("If-Range", "Sat, 05 Nov 1994 08:49:37 GMT")],
    ])
    func answersWholeFileForIgnoredRanges(headers: [(String, String)]) throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/site.css", headers))
        #expect(response.status == .ok)
        #expect(StaticFixture.text(response) == StaticSite.css)
    }

    @Test(arguments: [etag, StaticFixture.mtimeText])
    func honoursRangeWhenIfRangeMatches(ifRange: String) throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/site.css", [("Range", "bytes=0-3"), ("If-Range", ifRange)]))
        #expect(response.status == .partialContent)
        #expect(StaticFixture.text(response) == "body")
    }

    @Test func ignoresRangeOnHead() throws {
        let site = StaticSite()
        let response = try #require(site.get("/static/site.css", [("Range", "bytes=0-3")], method: .head))
        #expect(response.status == .ok)
        #expect(response.body.count == StaticSite.css.utf8.count)
    }
}

@Suite struct StaticFilesCacheTests {
    @Test func reloadsChangedFileAfterRevalidationInterval() throws {
        let site = StaticSite()
        #expect(StaticFixture.text(try #require(site.get("/static/site.css"))) == StaticSite.css)
        site.directory.write("webroot/site.css", "body{color:blue}", mtime: StaticFixture.mtime + 60)
        #expect(StaticFixture.text(try #require(site.get("/static/site.css"))) == StaticSite.css)  // same second
        site.now += 1
        let fresh = try #require(site.get("/static/site.css"))
        #expect(StaticFixture.text(fresh) == "body{color:blue}")
        #expect(StaticFixture.header(fresh, "Last-Modified") == HTTPDate.format(StaticFixture.mtime + 60))
        #expect(site.files.cacheUsage.count == 1)
    }

    @Test func reloadsFileReplacedByRenameWithSameSizeAndTime() throws {
        let site = StaticSite()
        _ = site.get("/static/site.css")
        site.directory.write("webroot/site.tmp", "BODY{COLOR:RED}")  // same length, same mtime: only the inode differs
        site.directory.rename("webroot/site.tmp", "webroot/site.css")
        site.now += 1
        #expect(StaticFixture.text(try #require(site.get("/static/site.css"))) == "BODY{COLOR:RED}")
    }

    @Test func reloadsFileWhoseSymlinkIsRetargeted() throws {
        let site = StaticSite()
        #expect(StaticFixture.text(try #require(site.get("/static/link-inside.css"))) == "h1{}")
        site.directory.unlink("webroot/link-inside.css")
        site.directory.symlink("webroot/link-inside.css", to: "../outside.txt")
        site.now += 1
        #expect(try #require(site.get("/static/link-inside.css")).status == .notFound)
    }

    @Test func forgetsDeletedFile() throws {
        let site = StaticSite()
        #expect(try #require(site.get("/static/css/site.css")).status == .ok)
        site.directory.unlink("webroot/css/site.css")
        site.now += 1
        #expect(try #require(site.get("/static/css/site.css")).status == .notFound)
        #expect(site.files.cacheUsage.count == 0)
    }

    @Test func revalidatesWhenWallClockStepsBack() throws {
        let site = StaticSite()
        _ = site.get("/static/site.css")
        site.directory.write("webroot/site.css", "body{color:blue}", mtime: StaticFixture.mtime + 60)
        site.now -= 3600
        #expect(StaticFixture.text(try #require(site.get("/static/site.css"))) == "body{color:blue}")
    }

    @Test func revalidatesEveryRequestWithZeroInterval() throws {
        let site = StaticSite(options: StaticFiles.Options(memoryFileLimit: 16, revalidationInterval: 0))
        _ = site.get("/static/site.css")
        site.directory.write("webroot/site.css", "body{color:blue}", mtime: StaticFixture.mtime + 60)
        #expect(StaticFixture.text(try #require(site.get("/static/site.css"))) == "body{color:blue}")
    }

    @Test func staysWithinEntryAndMemoryLimits() throws {
        let site = StaticSite(options: StaticFiles.Options(memoryFileLimit: 16, maxEntries: 2, memoryBudget: 20))
        for target in ["/static/site.css", "/static/css/site.css", "/static/big.bin", "/static/link-inside.css"] {
            #expect(try #require(site.get(target)).status == .ok)
            let usage = site.files.cacheUsage
            #expect(usage.count <= 2 && usage.memoryBytes <= 20)
        }
    }

    @Test func eachLoopHasItsOwnCopyWithinItsShareOfTheBounds() throws {
        let site = StaticSite(
            options: StaticFiles.Options(memoryFileLimit: 16, maxEntries: 4, memoryBudget: 40, replicas: 2))
        let first = try #require(site.get("/static/site.css", loop: 0))
        let second = try #require(site.get("/static/site.css", loop: 1))
        #expect(StaticFixture.text(first) == StaticSite.css && StaticFixture.text(second) == StaticSite.css)
        // Two loads, two entries: the loops share no reference count.
        guard case .bytes(let a) = first.body, case .bytes(let b) = second.body else {
            Issue.record("expected in-memory bodies")
            return
        }
        #expect(a !== b)
        #expect(site.files.cacheUsage.count == 2)
        // A loop numbered past the replicas wraps around rather than trapping.
        #expect(try #require(site.get("/static/site.css", loop: 5)).status == .ok)
        #expect(site.files.cacheUsage.count == 2)
        // Each copy holds at most half the bounds: 2 entries, 20 bytes.
        for target in ["/static/css/site.css", "/static/big.bin", "/static/link-inside.css"] {
            #expect(try #require(site.get(target, loop: 1)).status == .ok)
        }
        let usage = site.files.caches.map(\.usage)
        #expect(usage[0].count == 1 && usage[1].count <= 2 && usage[1].memoryBytes <= 20)
        // A change on disk reaches both copies.
        site.directory.write("webroot/site.css", "body{color:blue}", mtime: StaticFixture.mtime + 60)
        site.now += 1
        for loop in 0..<2 {
            #expect(StaticFixture.text(try #require(site.get("/static/site.css", loop: loop))) == "body{color:blue}")
        }
    }

    @Test func servesFromCacheConcurrently() async throws {
        let site = StaticSite()
        let files = site.files
        await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    var ok = true
                    for j in 0..<200 {
                        let target = (i + j) % 2 == 0 ? "/static/site.css" : "/static/big.bin"
                        let response = files.respond(
                            to: StaticFixture.request(target), context: StaticFixture.context())
                        ok = ok && response?.status == .ok
                    }
                    return ok
                }
            }
            for await ok in group { #expect(ok) }
        }
        #expect(site.files.cacheUsage.count == 2)
    }
}
