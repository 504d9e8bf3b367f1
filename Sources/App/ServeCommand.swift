import ArgumentParser
import Glibc
import HTTP
import Logging
import Reactor

/// How the server meets its visitors.
enum Mode: String, CaseIterable, ExpressibleByArgument {
    /// Plain HTTP on `SITE_PORT`, behind a TLS-terminating reverse proxy.
    case behindProxy = "behind-proxy"
    /// HTTPS on `--https-port` with our own TLS, and a redirect listener on `--http-port`.
    case directTLS = "direct-tls"
}

/// `mywebsite serve`: every setting is a flag, most also an environment variable; flags win over the
/// environment, which wins over the defaults.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the site.",
        discussion: """
            Settings come from flags, else from environment variables (named in each flag's help), else defaults.
            """
    )

    @Option(
        help: "behind-proxy (plain HTTP for a reverse proxy) or direct-tls (HTTPS on --https-port). Env: SITE_MODE.")
    var mode: String?
    @Option(help: "Address to listen on (numeric IPv4 or IPv6). Env: SITE_HOST. Default: 0.0.0.0.")
    var host: String?
    @Option(help: "Plain HTTP port in behind-proxy mode (0 picks a free port). Env: SITE_PORT. Default: 8080.")
    var port: String?
    @Option(help: "Event loops (threads). Env: SITE_THREADS. Default: one per core.")
    var threads: String?
    @Option(help: "Comma-separated site languages, the first the default. Env: SITE_LANGUAGES. Default: fr,en.")
    var languages: String?
    @Option(help: "Directory of static assets, served under /static/. Env: STATIC_ASSETS_PATH.")
    var staticPath: String?
    @Option(help: "Directory of HTML templates. Env: TEMPLATES_PATH.")
    var templatesPath: String?
    @Option(help: "Directory of the website data package. Env: DATA_PATH.")
    var dataPath: String?
    @Option(help: "File name of the content database inside the data directory. Env: DATABASE_NAME.")
    var databaseName: String?
    @Option(
        help:
            "Directory for access.log and error.log (reopened on SIGUSR1). Env: LOG_PATH. Default: stdout/stderr only.")
    var logPath: String?
    @Option(help: "Directory of configuration files (and the generated self-signed certificate). Env: CONFIG_PATH.")
    var configPath: String?
    @Option(
        help:
            "The site's public base URL, for feeds, sitemap and canonical links. Env: SITE_URL. Default: http://localhost:8080."
    )
    var siteURL: String?
    @Option(
        help:
            "CIDR blocks whose X-Forwarded-* headers are trusted. Env: TRUSTED_PROXIES. Default: loopback and private ranges."
    )
    var trustedProxies: String?
    @Option(help: "Access log: on or off. Env: ACCESS_LOG. Default: on.")
    var accessLog: String?
    @Option(help: "Access log format: combined or json. Env: LOG_FORMAT. Default: combined.")
    var logFormat: String?
    @Option(
        help: "Error log level: trace, debug, info, notice, warning, error, critical. Env: LOG_LEVEL. Default: info.")
    var logLevel: String?
    @Option(help: "Seconds to finish requests in progress on SIGTERM. Env: SHUTDOWN_TIMEOUT. Default: 10.")
    var shutdownTimeout: String?
    @Option(help: "Seconds a client may take to send a request head. Env: HEADER_TIMEOUT. Default: 15.")
    var headerTimeout: String?
    @Option(help: "Seconds an idle keep-alive connection is kept. Env: KEEPALIVE_TIMEOUT. Default: 75.")
    var keepaliveTimeout: String?
    @Option(
        help:
            "Seconds a response may wait without the client reading any of it (HTTP/2: without window) before the connection is closed. Env: SEND_TIMEOUT. Default: 30."
    )
    var sendTimeout: String?
    @Option(
        help:
            "Exit (for the supervisor to restart us) when a loop has not turned for this many seconds; 0 disables. Env: WATCHDOG_TIMEOUT. Default: 30."
    )
    var watchdogTimeout: String?

    @Option(help: "HTTPS port in direct-tls mode (0 picks a free port). Env: HTTPS_PORT. Default: 443.")
    var httpsPort: String?
    @Option(
        help:
            "Plain HTTP port in direct-tls mode, which redirects to HTTPS ('off' for none). Env: HTTP_PORT. Default: 80."
    )
    var httpPort: String?
    @Option(help: "Certificate chain (PEM), repeatable, paired in order with --key. Env: TLS_CERT (comma-separated).")
    var cert: [String] = []
    @Option(help: "Private key (PEM) of the --cert at the same position. Env: TLS_KEY (comma-separated).")
    var key: [String] = []
    @Option(help: "Directory of NAME.crt + NAME.key pairs, for SNI (default.crt first if present). Env: TLS_CERT_DIR.")
    var certDir: String?
    @Option(help: "intermediate (TLS 1.2 and 1.3) or modern (TLS 1.3 only). Env: TLS_PROFILE. Default: intermediate.")
    var tlsProfile: String?
    @Option(
        help:
            "Strict-Transport-Security max-age in seconds, 0 for none. Env: HSTS_MAX_AGE. Default: 31536000 (0 with a self-signed certificate)."
    )
    var hstsMaxAge: String?
    @Option(help: "TLS session resumption (tickets and cache): on or off. Env: TLS_SESSION_RESUMPTION. Default: on.")
    var tlsSessionResumption: String?
    @Option(help: "Offer HTTP/2 to TLS clients (ALPN h2): on or off. Env: HTTP2. Default: on.")
    var http2: String?
    @Option(help: "Seconds a client may take to complete the TLS handshake. Env: TLS_HANDSHAKE_TIMEOUT. Default: 10.")
    var tlsHandshakeTimeout: String?
    @Flag(
        help:
            "Refuse to start in direct-tls mode without a configured certificate (no self-signed fallback). Env: REQUIRE_CERTIFICATE=1."
    )
    var requireCertificate = false
    @Flag(help: "Serve the site on --http-port too, instead of redirecting (internal checks only).")
    var httpServesSite = false
    @Option(
        help:
            "Get and renew a certificate for this name by ACME (repeatable; the first names the files). Env: ACME_DOMAINS (comma-separated)."
    )
    var acmeDomain: [String] = []
    @Option(
        help:
            "ACME directory URL. Env: ACME_DIRECTORY. Default: Let's Encrypt production (staging: https://acme-staging-v02.api.letsencrypt.org/directory)."
    )
    var acmeDirectory: String?
    @Option(help: "Contact e-mail for the ACME account. Env: ACME_EMAIL.")
    var acmeEmail: String?
    @Option(
        help: "PEM file of CAs trusted for the ACME directory (a private CA). Env: ACME_CA_BUNDLE. Default: system.")
    var acmeCaBundle: String?
    @Option(help: "http-01 or tls-alpn-01. Env: ACME_CHALLENGE. Default: both (http-01 first when --http-port is on).")
    var acmeChallenge: String?
    @OptionGroup(title: "Metrics, limits and PROXY protocol")
    var limits: LimitOptions

    mutating func run() throws {
        let settings: ServeSettings
        let logs: LogSinks
        do {
            settings = try ServeSettings(self, resolver: SettingResolver())
            logs = try LogSinks(logPath: settings.logPath)
        } catch {
            FileHandleStandardError.write("mywebsite: \(error.message)\n")
            throw ExitCode(64)
        }
        let level = settings.logLevel
        let logger = Logger(label: "mywebsite") { _ in LineLogHandler(sinks: logs.errors, logLevel: level) }
        let code = Server(settings: settings, logger: logger, logs: logs).run()
        if code != 0 { throw ExitCode(code) }
    }
}

/// Every setting of `serve`, resolved and checked.
struct ServeSettings: Sendable {
    var mode: Mode
    var host: String
    var port: Int
    var threads: Int
    var languages: [String]
    var staticPath: String
    var templatesPath: String
    var dataPath: String
    var databaseName: String
    var logPath: String?
    var configPath: String?
    var siteURL: String
    var accessLogEnabled: Bool
    var accessLogFormat: AccessLog.Format
    var logLevel: Logger.Level
    /// Milliseconds.
    var shutdownTimeout: Int64
    /// Milliseconds; 0 disables.
    var watchdogTimeout: Int64
    var http: HTTPServerConfiguration
    var tls: TLSSettings
    var limits: LimitSettings

    init(_ c: ServeCommand, resolver r: SettingResolver) throws(ConfigurationError) {
        tls = try TLSSettings(c, resolver: r)
        // Behind-proxy is the default unless a certificate is configured.
        mode = try r.resolve(
            flag: "--mode", flagValue: c.mode, env: "SITE_MODE",
            default: tls.certificates.isEmpty && tls.certificateDirectory == nil ? .behindProxy : .directTLS,
            allowed: "behind-proxy or direct-tls"
        ) { Mode(rawValue: $0) }
        host = try r.resolve(
            flag: "--host", flagValue: c.host, env: "SITE_HOST", default: "0.0.0.0",
            allowed: "a numeric IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::"
        ) {
            SocketAddress(ip: $0) == nil ? nil : $0
        }
        port = try r.resolve(
            flag: "--port", flagValue: c.port, env: "SITE_PORT", default: 8080,
            allowed: "a port number 0-65535", parse: Parse.portOrZero)
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        threads = try r.resolve(
            flag: "--threads", flagValue: c.threads, env: "SITE_THREADS", default: max(cores, 1),
            allowed: "a whole number 1-256"
        ) { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
        languages = try r.resolve(
            flag: "--languages", flagValue: c.languages, env: "SITE_LANGUAGES",
            default: ["fr", "en"], allowed: "comma-separated two-letter codes such as fr,en",
            parse: Parse.languages)
        staticPath = r.string(
            flag: "--static-path", flagValue: c.staticPath, env: "STATIC_ASSETS_PATH",
            default: "web/static")
        templatesPath = r.string(
            flag: "--templates-path", flagValue: c.templatesPath, env: "TEMPLATES_PATH",
            default: "web/templates")
        dataPath = r.string(flag: "--data-path", flagValue: c.dataPath, env: "DATA_PATH", default: "data")
        databaseName = try r.resolve(
            flag: "--database-name", flagValue: c.databaseName, env: "DATABASE_NAME",
            default: "site.db", allowed: "a file name without '/'"
        ) {
            $0.isEmpty || $0.contains("/") ? nil : $0
        }
        let logPath = r.string(flag: "--log-path", flagValue: c.logPath, env: "LOG_PATH", default: "")
        self.logPath = logPath.isEmpty ? nil : logPath
        let configPath = r.string(flag: "--config-path", flagValue: c.configPath, env: "CONFIG_PATH", default: "")
        self.configPath = configPath.isEmpty ? nil : configPath
        siteURL = try r.resolve(
            flag: "--site-url", flagValue: c.siteURL, env: "SITE_URL", default: "http://localhost:8080",
            allowed: "an absolute http:// or https:// URL without query, such as https://blog.example"
        ) { url in
            (url.hasPrefix("http://") || url.hasPrefix("https://")) && url.count > 8
                && !url.contains(where: { $0 == "?" || $0 == "#" || $0 == " " || $0 == "\r" || $0 == "\n" }) ? url : nil
        }
        let proxies = try r.resolve(
            flag: "--trusted-proxies", flagValue: c.trustedProxies, env: "TRUSTED_PROXIES",
            default: TrustedProxies.defaultCIDRs,
            allowed: "comma-separated CIDR blocks such as 10.0.0.0/8,::1/128",
            parse: Parse.cidrList)
        accessLogEnabled = try r.resolve(
            flag: "--access-log", flagValue: c.accessLog, env: "ACCESS_LOG",
            default: true, allowed: "on or off", parse: Parse.bool)
        accessLogFormat = try r.resolve(
            flag: "--log-format", flagValue: c.logFormat, env: "LOG_FORMAT",
            default: .combined, allowed: "combined or json"
        ) { AccessLog.Format(rawValue: $0) }
        logLevel = try r.resolve(
            flag: "--log-level", flagValue: c.logLevel, env: "LOG_LEVEL", default: .info,
            allowed: "trace, debug, info, notice, warning, error or critical"
        ) {
            Logger.Level(rawValue: $0)
        }
        shutdownTimeout = try r.resolve(
            flag: "--shutdown-timeout", flagValue: c.shutdownTimeout,
            env: "SHUTDOWN_TIMEOUT", default: 10_000, allowed: "seconds (>= 0)",
            parse: Parse.seconds)
        watchdogTimeout = try r.resolve(
            flag: "--watchdog-timeout", flagValue: c.watchdogTimeout,
            env: "WATCHDOG_TIMEOUT", default: 30_000, allowed: "seconds (>= 0)",
            parse: Parse.seconds)
        var http = HTTPServerConfiguration()
        http.trustedProxies = try TrustedProxies(cidrs: proxies)
        http.headerTimeout = try r.resolve(
            flag: "--header-timeout", flagValue: c.headerTimeout, env: "HEADER_TIMEOUT",
            default: 15_000, allowed: "seconds (> 0)"
        ) {
            Parse.seconds($0).flatMap { $0 > 0 ? $0 : nil }
        }
        http.keepAliveTimeout = try r.resolve(
            flag: "--keepalive-timeout", flagValue: c.keepaliveTimeout,
            env: "KEEPALIVE_TIMEOUT", default: 75_000, allowed: "seconds (> 0)"
        ) {
            Parse.seconds($0).flatMap { $0 > 0 ? $0 : nil }
        }
        http.writeTimeout = try r.resolve(
            flag: "--send-timeout", flagValue: c.sendTimeout, env: "SEND_TIMEOUT", default: 30_000,
            allowed: "seconds (> 0)"
        ) {
            Parse.seconds($0).flatMap { $0 > 0 ? $0 : nil }
        }
        limits = try LimitSettings(c.limits, directTLS: mode == .directTLS, resolver: r)
        http.rateLimiter = try limits.rateLimiter()
        // Without a metrics listener nothing would read the counters: the engine keeps none (no clock reads).
        http.countsRequests = limits.metricsPort != nil
        self.http = http
        if let metricsPort = limits.metricsPort, metricsPort != 0,
            metricsPort == (mode == .directTLS ? tls.httpsPort : port)
                || (mode == .directTLS && metricsPort == tls.httpPort)
        {
            throw ConfigurationError(
                "--metrics-port \(metricsPort) is a site port: /metrics is never served to visitors; pick another port")
        }
    }
}

/// Writes to standard error without Foundation.
enum FileHandleStandardError {
    static func write(_ text: String) {
        LogFile.standardError.write(Array(text.utf8))
    }
}
