import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Hot content update under load (issue #4): the data directory is replaced 20 times, good and broken packages
/// alternating, while clients keep requesting pages. No request fails, every page is wholly from one package,
/// a broken or incomplete package is never served, and a good one is served within seconds.
@Suite(.serialized) struct HotUpdateTests {
    /// A content generation, told apart by markers: "Generation A · …" in the site title (so on every page) and
    /// "End of generation A." at the end of the Kaniko article's body in both languages. X is the base of every
    /// broken package, so an X page means a broken package was served.
    enum Marker: String, CaseIterable, Sendable {
        case a = "A"
        case b = "B"
        case x = "X"

        var title: String { "Generation \(rawValue) · " }
        var bodyEnd: String { "End of generation \(rawValue)." }

        /// The one generation `page` is wholly from, or why it is not.
        static func of(_ page: String, isArticle: Bool) -> Result<Marker, HarnessError> {
            let titles = allCases.filter { page.contains($0.title) }
            guard titles.count == 1, let marker = titles.first else {
                return .failure(HarnessError("\(titles.count) generation titles (\(titles)) in \(page.prefix(400))"))
            }
            if isArticle {
                let bodies = allCases.filter { page.contains($0.bodyEnd) }
                guard bodies == [marker] else {
                    return .failure(HarnessError("title of \(marker) but body ends of \(bodies)"))
                }
            }
            return .success(marker)
        }
    }

    /// How a package is broken.
    enum Breakage: CaseIterable {
        /// `site.db` cut to half its size.
        case truncatedDatabase
        /// One translation's body file missing.
        case missingBody
        /// `PRAGMA user_version = 2` (the header's bytes 60–63).
        case wrongSchemaVersion
        /// A tenth of the database's pages zeroed, size unchanged (fails `PRAGMA integrity_check`).
        case corruptedPages
        /// Copied in place with `rm -rf` + copy, and the copy stopped half way: database and English bodies only.
        case halfCopied
    }

    static let pages = ["/en/", Kaniko.fr, "/fr/", Kaniko.en]

    @Test(.timeLimit(.minutes(3)))
    func replacingTheDataDirectoryTwentyTimesUnderLoadNeverFailsMixesOrServesABrokenPackage() throws {
        let work = try TemporaryDirectory()
        try Self.buildPackages(in: work.path)
        func package(_ marker: Marker) -> String { Self.package(marker, in: work.path) }
        let data = work.path + "/data"
        try FileManager.default.copyItem(atPath: package(.a), toPath: data)
        let server = try ServerProcess([
            "--data-path", data, "--templates-path", packageRoot + "/web/templates",
            "--static-path", packageRoot + "/web/static", "--site-url", SampleSite.siteURL, "--threads", "2",
            "--access-log", "off",
        ])
        #expect(try Self.servedMarker(port: server.port) == .a)
        /// Polls `condition`; on time-out, the error names the step and carries the server's last log lines.
        func wait(_ what: String, _ condition: () throws -> Bool) throws {
            do {
                try waitUntil(seconds: 10, condition)
            } catch {
                let log = server.stderr.split(separator: "\n").suffix(8).joined(separator: "\n")
                throw HarnessError("\(what) did not happen within 10 s; server log:\n\(log)")
            }
        }

        let load = PageClients(port: server.port, pages: Self.pages)
        load.start(keepAliveClients: 2, reconnectingClients: 2)
        defer { load.stop() }
        try wait("20 responses") { load.responses >= 20 }

        var served = Marker.a
        var goodSwaps = 0
        var slowestReload = 0.0
        for step in 0..<20 {
            if step % 2 == 0 {
                let next: Marker = served == .a ? .b : .a
                let atomically = step % 6 != 4  // steps 4, 10, 16: rm -rf and copy, as a careless operator would
                if atomically {
                    try Self.exchange(in: package(next), at: data, scratch: work.path + "/next")
                } else {
                    try FileManager.default.removeItem(atPath: data)
                    try run("cp", ["-R", package(next), data])
                }
                let swapped = Date()
                try wait("step \(step): serving \(next)") { (try? Self.servedMarker(port: server.port)) == next }
                slowestReload = max(slowestReload, Date().timeIntervalSince(swapped))
                served = next
                goodSwaps += 1
            } else {
                let breakage = Breakage.allCases[(step / 2) % Breakage.allCases.count]
                // Waiting for the refusal (not for any reload line: a good package copied with `cp -R` may be
                // loaded once more when its copy ends) proves the server looked at the broken package.
                let refusals = server.stderr.components(separatedBy: "content reload refused").count
                try Self.install(package(.x), brokenBy: breakage, at: data, scratch: work.path + "/next")
                try wait("step \(step): refusing \(breakage)") {
                    server.stderr.components(separatedBy: "content reload refused").count > refusals
                }
                #expect(try Self.servedMarker(port: server.port) == served, "after \(breakage)")
            }
        }
        try wait("more responses") { load.responses(of: served) >= 4 }
        load.stop()

        #expect(load.failures.isEmpty, "\(load.failures.count) failed requests, first: \(load.failures.prefix(5))")
        #expect(load.responses(of: .x) == 0, "a broken package was served")
        #expect(load.responses(of: .a) > 0 && load.responses(of: .b) > 0)
        #expect(load.responses >= 200, "continuous load: \(load.responses) responses")
        #expect(load.maximumTransitions <= goodSwaps, "a client went back to an older generation")
        #expect(slowestReload < 8, "a good package took \(slowestReload) s to be served")
        #expect(server.process.isRunning)
        let slowest = String(format: "%.2f", slowestReload)
        print("hot update: \(load.responses) responses, \(load.failures.count) failed, slowest reload \(slowest) s")
    }

    /// A package whose `articles/images/` was not copied (yet) is half-copied too; and while a package is refused,
    /// the generation served keeps its images. Known issue: images are served by path from whatever directory is
    /// at `--data-path` now, not from the package of the generation served.
    @Test func aPackageWithoutItsImagesIsRefusedAndTheServedImagesStay() throws {
        let work = try TemporaryDirectory()
        let good = work.path + "/good"
        let data = work.path + "/data"
        try buildDataPackage(from: packageRoot + "/content", to: good)
        try FileManager.default.copyItem(atPath: good, toPath: data)
        let server = try ServerProcess([
            "--data-path", data, "--templates-path", packageRoot + "/web/templates",
            "--static-path", packageRoot + "/web/static", "--threads", "1", "--access-log", "off",
        ])
        let image = server.url + "/static/images/articles/" + Kaniko.image
        #expect(try curl([image]).status == 200)
        func count(_ line: String) -> Int { server.stderr.components(separatedBy: line).count - 1 }
        /// Installs a copy of the good package without `removed`; returns whether the server refused it.
        func installWithout(_ removed: [String]) throws -> Bool {
            let (refusals, reloads) = (count("content reload refused"), count("content reloaded"))
            try Self.exchange(in: good, at: data, scratch: work.path + "/next") { copy in
                for path in removed { try FileManager.default.removeItem(atPath: copy + "/articles/" + path) }
            }
            try waitUntil(seconds: 10) {
                count("content reload refused") > refusals || count("content reloaded") > reloads
            }
            return count("content reload refused") > refusals
        }

        // Refused for its missing body: the pages stay, their images should too.
        let body = Kaniko.fr.replacingOccurrences(of: "/article/", with: "/").dropFirst() + ".html"
        #expect(try installWithout(["images", String(body)]))
        #expect(try curl([server.url + Kaniko.fr]).status == 200)
        let imageAfterRefusal = try curl([image]).status
        // Intermittent: until the file cache checks the image again (once per revalidation interval), the copy
        // it holds is still served, so the issue does not show every time.
        withKnownIssue(
            "article images are served from the directory now at --data-path, not the generation's",
            isIntermittent: true
        ) {
            #expect(imageAfterRefusal == 200)
        }
        // Only the images missing.
        let refused = try installWithout(["images"])
        #expect(refused, "\(server.stderr.suffix(300))")
    }

    // MARK: - Packages

    /// The package of `marker` made by `buildPackages(in: directory)`.
    static func package(_ marker: Marker, in directory: String) -> String {
        directory + "/package-\(marker.rawValue)"
    }

    /// Builds packages A, B and X from copies of `content/` with their markers.
    static func buildPackages(in directory: String) throws {
        for marker in Marker.allCases {
            let source = directory + "/content-\(marker.rawValue)"
            try FileManager.default.copyItem(atPath: packageRoot + "/content", toPath: source)
            try edit(source + "/site.yml") { yaml in
                let marked = yaml.replacingOccurrences(of: "title: \"", with: "title: \"\(marker.title)")
                guard marked.components(separatedBy: marker.title).count == 3 else {
                    throw HarnessError("content/site.yml has no `title: \"` line per language")
                }
                return marked
            }
            for lang in ["en", "fr"] {
                try edit(source + "/articles/gitlab-ci-kaniko/\(lang).md") { $0 + "\n\n\(marker.bodyEnd)\n" }
            }
            try buildDataPackage(from: source, to: package(marker, in: directory))
        }
    }

    static func edit(_ path: String, _ change: (String) throws -> String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try change(text).write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Puts a copy of `package` at `data` the way an operator replaces a bind-mounted directory: the copy is
    /// made beside it (`scratch`), then exchanged with `data` in one step (`renameat2(RENAME_EXCHANGE)`; two
    /// renames where unavailable), then the old package is removed.
    static func exchange(
        in package: String, at data: String, scratch: String, prepare: (String) throws -> Void = { _ in }
    )
        throws
    {
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.copyItem(atPath: package, toPath: scratch)
        try prepare(scratch)
        if !renameExchange(scratch, data) {
            let aside = scratch + ".old"
            guard rename(data, aside) == 0, rename(scratch, data) == 0 else {
                throw HarnessError("rename into \(data): errno \(errno)")
            }
            try FileManager.default.removeItem(atPath: aside)
        }
        try FileManager.default.removeItem(atPath: scratch)
    }

    /// Installs a copy of `package` broken by `breakage` at `data`.
    static func install(_ package: String, brokenBy breakage: Breakage, at data: String, scratch: String) throws {
        let database = "/site.db"
        switch breakage {
        case .truncatedDatabase:
            try exchange(in: package, at: data, scratch: scratch) { copy in
                let size = try fileSize(copy + database)
                guard truncate(copy + database, off_t(size / 2)) == 0 else { throw HarnessError("truncate") }
            }
        case .missingBody:
            try exchange(in: package, at: data, scratch: scratch) { copy in
                let body = copy + "/articles" + Kaniko.fr.replacingOccurrences(of: "/article/", with: "/") + ".html"
                try FileManager.default.removeItem(atPath: body)
            }
        case .wrongSchemaVersion:
            try exchange(in: package, at: data, scratch: scratch) { copy in
                try overwrite(copy + database, at: 60, with: Data([0, 0, 0, 2]))
            }
        case .corruptedPages:
            try exchange(in: package, at: data, scratch: scratch) { copy in
                let header = try Data(contentsOf: URL(fileURLWithPath: copy + database)).prefix(18)
                let rawPageSize = Int(header[16]) << 8 | Int(header[17])
                let pageSize = rawPageSize == 1 ? 65536 : rawPageSize
                let pages = try fileSize(copy + database) / pageSize
                let first = pages * 8 / 10
                let count = max(2, pages / 10)
                try overwrite(copy + database, at: first * pageSize, with: Data(count: count * pageSize))
            }
        case .halfCopied:
            try FileManager.default.removeItem(atPath: data)
            try FileManager.default.createDirectory(atPath: data + "/articles", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: package + database, toPath: data + database)
            try FileManager.default.copyItem(atPath: package + "/articles/en", toPath: data + "/articles/en")
        }
    }

    static func fileSize(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    }

    static func overwrite(_ path: String, at offset: Int, with bytes: Data) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: bytes)
    }

    /// `renameat2(2)` with `RENAME_EXCHANGE`, looked up with `dlsym` (Swift's Glibc does not declare it).
    static func renameExchange(_ a: String, _ b: String) -> Bool {
        typealias Function =
            @convention(c) (CInt, UnsafePointer<CChar>, CInt, UnsafePointer<CChar>, CUnsignedInt) -> CInt
        guard let symbol = dlsym(nil, "renameat2") else { return false }
        // Invariant: glibc's renameat2 is int (int, const char *, int, const char *, unsigned int).
        let renameat2 = unsafeBitCast(symbol, to: Function.self)
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, 1 << 1) == 0  // RENAME_EXCHANGE, <linux/fs.h>
    }

    /// The generation of the English home page, on a new connection.
    static func servedMarker(port: Int) throws -> Marker {
        let client = try RawClient(port: port)
        client.send("GET /en/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        guard let reply = client.readResponses(1, timeout: 10).first, reply.status == 200 else {
            throw HarnessError("no 200 for /en/")
        }
        return try Marker.of(reply.text, isArticle: false).get()
    }
}

/// Client threads requesting pages without pause, each checking every response; stopped by `stop()`.
///
/// `@unchecked Sendable`: every mutable field is guarded by `lock`; `group` and the constants are set in `init`.
final class PageClients: @unchecked Sendable {
    let port: Int
    let pages: [String]
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var stopped = false
    private var started = false
    private var counts: [HotUpdateTests.Marker: Int] = [:]
    private var failed: [String] = []
    private var transitions: [Int] = []

    init(port: Int, pages: [String]) {
        self.port = port
        self.pages = pages
    }

    /// Starts `keepAliveClients` threads on one keep-alive connection each and `reconnectingClients` threads that
    /// open a connection per request; thread `i` requests `pages[i % pages.count]`.
    func start(keepAliveClients: Int, reconnectingClients: Int) {
        let total = keepAliveClients + reconnectingClients
        lock.withLock {
            started = true
            transitions = Array(repeating: 0, count: total)
        }
        for index in 0..<total {
            group.enter()
            let thread = Thread { [self] in
                self.client(index, page: self.pages[index % self.pages.count], keepAlive: index < keepAliveClients)
                self.group.leave()
            }
            thread.start()
        }
    }

    /// Stops the clients and waits for them (idempotent).
    func stop() {
        let wasStarted = lock.withLock {
            stopped = true
            return started
        }
        if wasStarted { _ = group.wait(timeout: .now() + 30) }
    }

    var responses: Int { lock.withLock { counts.values.reduce(0, +) } }
    func responses(of marker: HotUpdateTests.Marker) -> Int { lock.withLock { counts[marker] ?? 0 } }
    var failures: [String] { lock.withLock { failed } }
    /// The most generation changes one client saw.
    var maximumTransitions: Int { lock.withLock { transitions.max() ?? 0 } }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func client(_ index: Int, page: String, keepAlive: Bool) {
        let isArticle = page.contains("/article/")
        let request =
            "GET \(page) HTTP/1.1\r\nHost: localhost\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\n"
        var connection: RawClient?
        var last: HotUpdateTests.Marker?
        while !isStopped {
            let client: RawClient
            if let connection {
                client = connection
            } else {
                do {
                    client = try RawClient(port: port)
                } catch {
                    fail("\(page): \(error)")
                    usleep(50_000)
                    continue
                }
            }
            client.send(request)
            guard let reply = client.readResponses(1, timeout: 10).first else {
                fail("\(page): no response (keep-alive: \(keepAlive))")
                connection = nil
                continue
            }
            connection = keepAlive ? client : nil
            guard reply.status == 200 else {
                fail("\(page): status \(reply.status)")
                continue
            }
            switch HotUpdateTests.Marker.of(reply.text, isArticle: isArticle) {
            case .failure(let error):
                fail("\(page): \(error)")
            case .success(let marker):
                lock.withLock {
                    counts[marker, default: 0] += 1
                    if let last, last != marker { transitions[index] += 1 }
                }
                last = marker
            }
        }
    }

    private func fail(_ message: String) {
        lock.withLock { failed.append(message) }
    }
}
