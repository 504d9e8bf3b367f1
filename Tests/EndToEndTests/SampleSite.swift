import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `mywebsite-data`, built next to the `mywebsite` under test (`swift build` builds both products).
let dataToolPath = URL(fileURLWithPath: binaryPath).deletingLastPathComponent().appendingPathComponent("mywebsite-data")
    .path

/// Builds the content directory `source` into the data package `out` with the real `mywebsite-data`.
func buildDataPackage(from source: String, to out: String) throws {
    let result = try run(dataToolPath, ["build", source, "--out", out], timeout: 120)
    guard result.status == 0 else {
        throw HarnessError("mywebsite-data build \(source) failed (\(result.status)): \(result.stderr)")
    }
}

/// The sample site: the repository's `content/` built into a temporary data package by `mywebsite-data`, served
/// by the real `mywebsite` with the repository's templates and static files and `--site-url
/// http://localhost:8080`. Stops the server and removes the package when released.
///
/// `@unchecked Sendable`: every property is a `let` set in `init`; the server's collected output is behind
/// `ServerProcess.CollectedOutput`'s lock, and the process is only signalled from `deinit`.
final class SampleSite: @unchecked Sendable {
    /// The `--site-url` the pages are rendered with (their absolute links start with it).
    static let siteURL = "http://localhost:8080"

    /// The site of the suite in progress (see `SampleSiteTrait`).
    @TaskLocal static var current: SampleSite?

    let directory: TemporaryDirectory
    let server: ServerProcess

    /// Where the server listens, `http://127.0.0.1:PORT`.
    var url: String { server.url }
    /// `--log-path`, when logs were asked for.
    var logPath: String { directory.path + "/logs" }

    /// Builds the package and starts the server; `logs` adds `--log-path` with a JSON access log; `tls` serves
    /// it in direct-TLS mode (self-signed certificate, HTTP/2 and HTTP/1.1 by ALPN, no plain listener).
    init(logs: Bool = false, tls: Bool = false) throws {
        directory = try TemporaryDirectory()
        let data = directory.path + "/data"
        try buildDataPackage(from: packageRoot + "/content", to: data)
        var arguments = [
            "--data-path", data, "--templates-path", packageRoot + "/web/templates",
            "--static-path", packageRoot + "/web/static", "--site-url", Self.siteURL, "--threads", "2",
        ]
        if logs {
            let logs = directory.path + "/logs"
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            arguments += ["--log-path", logs, "--log-format", "json"]
        } else {
            arguments += ["--access-log", "off"]
        }
        if tls {
            arguments += [
                "--mode", "direct-tls", "--https-port", "0", "--http-port", "off", "--config-path",
                directory.path + "/config",
            ]
        }
        server = try ServerProcess(arguments, expectListening: tls ? "listening: https://" : "listening: http://")
        isSecure = tls
    }

    /// True in direct-TLS mode.
    let isSecure: Bool

    /// `GET path` with curl; `headers` as `Name: value`; `options` are further curl flags.
    func get(_ path: String, headers: [String] = [], options: [String] = []) throws -> HTTPReply {
        try curl((isSecure ? ["-k"] : []) + options + headers.flatMap { ["-H", $0] } + [url + path])
    }

    /// The running suite's site; fails the test when the suite lacks the `.sampleSite` trait.
    static func required(sourceLocation: SourceLocation = #_sourceLocation) throws -> SampleSite {
        try #require(current, "the suite needs the .sampleSite trait", sourceLocation: sourceLocation)
    }
}

/// Starts one `SampleSite` for a whole suite (its tests run with `SampleSite.current` set) and stops it when the
/// suite's last test has finished: one package build and one server start per suite, nothing left behind.
struct SampleSiteTrait: SuiteTrait, TestScoping {
    var logs = false
    var tls = false

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let site = try SampleSite(logs: logs, tls: tls)
        try await SampleSite.$current.withValue(site) { try await function() }
    }
}

extension Trait where Self == SampleSiteTrait {
    /// The suite's tests share one running sample site (`SampleSite.required()`).
    static var sampleSite: Self { SampleSiteTrait() }

    /// The same, with `--log-path` and a JSON access log (`SampleSite.logPath`).
    static var sampleSiteWithLogs: Self { SampleSiteTrait(logs: true) }

    /// The same in direct-TLS mode, where browsers get HTTP/2.
    static var sampleSiteOverTLSWithLogs: Self { SampleSiteTrait(logs: true, tls: true) }
}

/// The Kaniko article, the sample site's pair of translated slugs.
enum Kaniko {
    static let en = "/en/article/containerize-your-application-in-a-ci-cd-process-with-gitlab"
    static let fr = "/fr/article/conteneuriser-son-application-dans-un-processus-ci-cd-avec-gitlab"
    static let enTitle = "Containerize your application in a CI/CD process with GitLab"
    static let frTitle = "Conteneuriser son application dans un processus CI/CD avec GitLab"
    static let image = "gitlab-kaniko.svg"
}

/// The attributes of every `<name …>` start tag in `html`, in document order (a plain scan that reads
/// double-quoted values, as our templates and Chromium's DOM dumps write them; `&amp;` decoded).
func elements(_ name: String, in html: String) -> [[String: String]] {
    var found: [[String: String]] = []
    var rest = Substring(html)
    while let open = rest.firstRange(of: "<\(name)") {
        let end = rest[open.upperBound...].firstIndex(of: ">") ?? rest.endIndex
        let inside = rest[open.upperBound..<end]
        rest = rest[end...]
        if let first = inside.first, first != " ", first != "\n", first != "/" {
            continue  // a longer tag name (<link> when looking for <li>)
        }
        var attributes: [String: String] = [:]
        for match in inside.matches(of: /([A-Za-z][A-Za-z0-9:-]*)="([^"]*)"/) {
            attributes[String(match.1)] = String(match.2).replacingOccurrences(of: "&amp;", with: "&")
        }
        found.append(attributes)
    }
    return found
}

/// The text between `<tag…>` and `</tag>` of the first such element in `html`.
func elementText(_ tag: String, in html: String) -> String? {
    guard let open = html.range(of: "<\(tag)"),
        let close = html.range(of: "</\(tag)>", range: open.upperBound..<html.endIndex),
        let contentStart = html[open.upperBound..<close.lowerBound].firstIndex(of: ">")
    else { return nil }
    return String(html[html.index(after: contentStart)..<close.lowerBound])
}
