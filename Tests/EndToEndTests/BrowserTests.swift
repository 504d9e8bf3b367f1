import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Headless Chromium, if present: `CHROMIUM` when set, else the Debian package `chromium` (scripts/setup.sh
/// installs it).
let chromiumPath: String? = {
    let candidates =
        ProcessInfo.processInfo.environment["CHROMIUM"].map { [$0] } ?? [
            "/usr/bin/chromium", "/usr/bin/chromium-browser",
        ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// A real browser loads the sample site's pages in both languages from the real binary (issue #4): the rendered
/// DOM has the page's title, `lang`, links and images; every request the browser made succeeded; the console
/// stayed silent (no script error, no CSP violation). Screenshots are kept in `Tests/artifacts/screenshots/`.
@Suite(
    .serialized, .sampleSiteOverTLSWithLogs,
    .enabled(if: chromiumPath != nil, "headless Chromium is not installed (Debian package `chromium`, or set CHROMIUM)")
)
struct BrowserTests {
    struct BrowserPage: Sendable, CustomTestStringConvertible {
        /// The screenshot's name: `<lang>-<kind>.png`.
        let kind: String
        let lang: String
        let path: String
        /// How `<title>` starts; every title ends with the site title.
        let titlePrefix: String
        /// Where the language switcher leads.
        let otherLanguage: (lang: String, path: String)
        /// A link the page must hold, beyond the navigation.
        let link: String
        var testDescription: String { "\(kind) \(path)" }
    }

    /// The sample site's title in `lang` (content/site.yml).
    static func siteTitle(_ lang: String) -> String {
        lang == "fr" ? "Camille Martin — Carnets de salle serveur" : "Camille Martin — Notes from the server room"
    }

    static let pages = [
        BrowserPage(
            kind: "home", lang: "fr", path: "/fr/", titlePrefix: siteTitle("fr"), otherLanguage: ("en", "/en/"),
            link: Kaniko.fr),
        BrowserPage(
            kind: "home", lang: "en", path: "/en/", titlePrefix: siteTitle("en"), otherLanguage: ("fr", "/fr/"),
            link: Kaniko.en),
        BrowserPage(
            kind: "article", lang: "fr", path: Kaniko.fr, titlePrefix: Kaniko.frTitle + " — ",
            otherLanguage: ("en", Kaniko.en), link: "/fr/tag/gitlab"),
        BrowserPage(
            kind: "article", lang: "en", path: Kaniko.en, titlePrefix: Kaniko.enTitle + " — ",
            otherLanguage: ("fr", Kaniko.fr), link: "/en/tag/gitlab"),
        BrowserPage(
            kind: "tag", lang: "fr", path: "/fr/tag/securite",
            titlePrefix: "Articles avec l'étiquette «\u{202F}Sécurité",
            otherLanguage: ("en", "/en/tag/security"), link: "/fr/tags"),
        BrowserPage(
            kind: "tag", lang: "en", path: "/en/tag/security", titlePrefix: "Articles tagged “Security”",
            otherLanguage: ("fr", "/fr/tag/securite"), link: "/en/tags"),
        BrowserPage(
            kind: "search", lang: "fr", path: "/fr/search?q=kaniko", titlePrefix: "Recherche\u{A0}: kaniko — ",
            otherLanguage: ("en", "/en/search?q=kaniko"), link: Kaniko.fr),
        BrowserPage(
            kind: "search", lang: "en", path: "/en/search?q=kaniko", titlePrefix: "Search: kaniko — ",
            otherLanguage: ("fr", "/fr/search?q=kaniko"), link: Kaniko.en),
    ]

    @Test(arguments: pages)
    func chromiumRendersThePageWithItsLanguageLinksAndImagesAndASilentConsole(_ page: BrowserPage) throws {
        let site = try SampleSite.required()
        let screenshot = try Self.screenshotPath("\(page.lang)-\(page.kind).png")
        let browser = try Chromium.load(site.url + page.path, screenshot: screenshot)
        let dom = browser.dom

        #expect(dom.contains("<html lang=\"\(page.lang)\">"), "\(dom.prefix(200))")
        let title = try #require(elementText("title", in: dom)).decodingBasicEntities
        #expect(title.hasPrefix(page.titlePrefix), "title: \(title)")
        #expect(title.hasSuffix(Self.siteTitle(page.lang)), "title: \(title)")

        let anchors = elements("a", in: dom)
        let hrefs = Set(anchors.compactMap { $0["href"] })
        for path in [
            "/\(page.lang)/", "/\(page.lang)/tags", "/\(page.lang)/search", "/\(page.lang)/feed.xml", page.link,
        ] {
            #expect(hrefs.contains(path), "a link to \(path)")
        }
        let switcher = anchors.first {
            $0["hreflang"] == page.otherLanguage.lang && $0["lang"] == page.otherLanguage.lang
        }
        #expect(switcher?["href"] == page.otherLanguage.path, "language switcher: \(switcher ?? [:])")
        if page.kind == "article" {
            let header = elements("img", in: dom).first { $0["class"]?.contains("article-image") == true }
            #expect(header?["src"]?.contains(Kaniko.image) == true, "the header image element")
        }
        if page.kind == "search" { #expect(dom.contains("<mark>"), "highlighted results") }
        if page.kind != "article" { #expect(dom.contains("class=\"card\""), "article cards") }

        // Images: every <img> answers 200 with an image type (lazy ones below the fold are not fetched by the
        // browser, so ask for them here).
        let images = elements("img", in: dom).compactMap { $0["src"] }
        #expect(!images.isEmpty)
        for src in Set(images) {
            let reply = try site.get(src)
            #expect(reply.status == 200, "\(src)")
            #expect(reply.header("Content-Type")?.hasPrefix("image/") == true, "\(src)")
        }

        // Every request the browser made succeeded: the page, the stylesheet, the images it displayed.
        let requests = try AccessLog.requests(in: site.logPath, agent: browser.agent) {
            // Each loop writes its own access-log batch: wait for every line the checks below need.
            $0.contains { $0.path == page.path } && $0.contains { $0.path.hasPrefix("/static/css/") }
                && (page.kind != "article" || $0.contains { $0.path.contains(Kaniko.image) })
        }
        let failed = requests.filter { $0.status >= 400 }
        #expect(failed.isEmpty, "requests that failed: \(failed)")
        // Direct-TLS mode: the browser chose h2 by ALPN and sent every request of the page over it.
        let notH2 = requests.filter { $0.version != "HTTP/2.0" }
        #expect(notH2.isEmpty, "requests not over HTTP/2: \(notH2.map { "\($0.version) \($0.path)" })")
        if page.kind == "article" {
            #expect(requests.contains { $0.path.contains(Kaniko.image) && $0.status == 200 }, "header image loaded")
        }
        #expect(browser.console.isEmpty, "console messages: \(browser.console)")

        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG screenshot")
        #expect(png.count > 10_000, "a screenshot with something on it")
    }

    /// The checks above would pass vacuously if Chromium stopped logging console messages or the access log lost
    /// the browser's requests: a page with a script error, a CSP violation and a missing image must trip them.
    @Test func theConsoleAndRequestChecksCatchABrokenPage() throws {
        let assets = try TemporaryDirectory()
        try assets.write(
            "broken.html",
            """
            <!doctype html><html lang="en"><head><title>broken</title>
            <meta http-equiv="Content-Security-Policy" content="default-src 'self'">
            <script src="/static/broken.js"></script></head>
            <body><p style="color: red">broken</p><img src="/static/missing.svg" alt=""></body></html>
            """)
        try assets.write("broken.js", "console.error('e2e-canary'); undefinedFunction();\n")
        let logs = try TemporaryDirectory()
        let server = try ServerProcess([
            "--static-path", assets.path, "--log-path", logs.path, "--log-format", "json", "--threads", "1",
        ])
        let browser = try Chromium.load(server.url + "/static/broken.html", screenshot: nil)
        #expect(browser.dom.contains("<title>broken</title>"))
        #expect(browser.console.contains { $0.contains("e2e-canary") }, "\(browser.console)")
        #expect(browser.console.contains { $0.contains("Uncaught") }, "\(browser.console)")
        #expect(browser.console.contains { $0.contains("Content Security Policy") }, "\(browser.console)")
        let requests = try AccessLog.requests(in: logs.path, agent: browser.agent) {
            $0.contains { $0.path == "/static/missing.svg" }
        }
        #expect(requests.contains { $0.path == "/static/missing.svg" && $0.status == 404 })
    }

    /// `Tests/artifacts/screenshots/<name>`, its directory created.
    static func screenshotPath(_ name: String) throws -> String {
        let directory = packageRoot + "/Tests/artifacts/screenshots"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory + "/" + name
    }
}

/// One headless Chromium run: the DOM after load, the console messages, and the User-Agent it sent (unique per
/// run, to find its requests in the access log).
struct Chromium {
    let dom: String
    let console: [String]
    let agent: String

    /// Loads `url` in a fresh profile (a temporary HOME, removed afterwards), dumps the DOM and, if asked, takes a
    /// 1280×900 screenshot. Console messages come from Chromium's log on stderr (`--enable-logging=stderr`), one
    /// `CONSOLE` line each: script errors, CSP violations, `console.*` calls.
    static func load(_ url: String, screenshot: String?) throws -> Chromium {
        guard let chromiumPath else { throw HarnessError("chromium is not installed") }
        let home = try TemporaryDirectory()
        let agent = "mywebsite-e2e-browser/\(UUID().uuidString)"
        var arguments = [
            "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-crash-reporter",
            "--disable-extensions", "--disable-background-networking", "--user-data-dir=\(home.path)/profile",
            "--enable-logging=stderr", "--log-level=0", "--ignore-certificate-errors", "--user-agent=\(agent)",
            "--window-size=1280,900",
        ]
        if let screenshot { arguments.append("--screenshot=\(screenshot)") }
        arguments += ["--dump-dom", url]
        let result = try run(
            chromiumPath, arguments,
            environment: ["HOME": home.path, "XDG_CONFIG_HOME": home.path, "XDG_CACHE_HOME": home.path], timeout: 120)
        guard result.status == 0, result.stdout.contains("<html") else {
            throw HarnessError("chromium \(url) exited \(result.status): \(result.stderr.suffix(2000))")
        }
        let console = result.stderr.split(separator: "\n").filter {
            $0.contains(":CONSOLE:") || $0.contains(":CONSOLE(")
        }.map(String.init)
        return Chromium(dom: result.stdout, console: console, agent: agent)
    }
}

/// The JSON access log (`--log-path DIR --log-format json`), read back.
enum AccessLog {
    struct Entry: CustomStringConvertible {
        let path: String
        let status: Int
        /// The request line's protocol (`HTTP/1.1`, `HTTP/2.0`).
        let version: String
        var description: String { "\(status) \(path)" }
    }

    /// The requests sent with User-Agent `agent`, once `complete` says they are all there (the log is written in
    /// batches): polls for up to 15 s.
    static func requests(in directory: String, agent: String, until complete: ([Entry]) -> Bool) throws -> [Entry] {
        var entries: [Entry] = []
        try waitUntil(seconds: 15) {
            let log = (try? String(contentsOfFile: directory + "/access.log", encoding: .utf8)) ?? ""
            entries = log.split(separator: "\n").compactMap { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    object["user_agent"] as? String == agent, let request = object["request"] as? String,
                    let status = object["status"] as? Int
                else { return nil }
                let parts = request.split(separator: " ")
                return Entry(
                    path: parts.count > 1 ? String(parts[1]) : request, status: status,
                    version: parts.count > 2 ? String(parts[2]) : "")
            }
            return complete(entries)
        }
        return entries
    }
}

extension String {
    /// The text with the entities Chromium's serializer writes (`&amp; &lt; &gt; &nbsp; &quot;`) decoded.
    var decodingBasicEntities: String {
        replacingOccurrences(of: "&nbsp;", with: "\u{A0}").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }
}
