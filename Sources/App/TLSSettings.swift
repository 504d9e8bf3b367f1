import Glibc
import HTTP
import Logging
import Reactor
import TLS

/// The direct-TLS settings of `serve`, resolved and checked (files are loaded later, by `TLSContext`).
struct TLSSettings: Sendable {
    var httpsPort: Int
    /// nil: no plain listener.
    var httpPort: Int?
    var certificates: [TLSConfiguration.CertificateKeyPair]
    var certificateDirectory: String?
    var profile: TLSConfiguration.Profile
    /// nil: the default (one year, or none with a self-signed certificate).
    var hstsMaxAge: Int?
    var sessionResumption: Bool
    /// Offer HTTP/2 through ALPN (`h2` before `http/1.1`).
    var http2: Bool
    /// Milliseconds.
    var handshakeTimeout: Int64
    var requireCertificate: Bool
    var httpServesSite: Bool
    /// nil: no ACME.
    var acme: ACMESettings?

    init(_ c: ServeCommand, resolver r: SettingResolver) throws(ConfigurationError) {
        httpsPort = try r.resolve(
            flag: "--https-port", flagValue: c.httpsPort, env: "HTTPS_PORT", default: 443,
            allowed: "a port number 0-65535", parse: Parse.portOrZero)
        httpPort = try r.resolve(
            flag: "--http-port", flagValue: c.httpPort, env: "HTTP_PORT", default: 80,
            allowed: "a port number 0-65535, or off"
        ) { $0 == "off" ? .some(nil) : Parse.portOrZero($0).map { .some($0) } }
        let certs = c.cert.isEmpty ? Self.list(r.environment["TLS_CERT"]) : c.cert
        let keys = c.key.isEmpty ? Self.list(r.environment["TLS_KEY"]) : c.key
        guard certs.count == keys.count else {
            throw ConfigurationError(
                "--cert/TLS_CERT and --key/TLS_KEY must pair up: \(certs.count) certificate(s), \(keys.count) key(s)")
        }
        certificates = zip(certs, keys).map { .init(certificateChainPath: $0, privateKeyPath: $1) }
        let dir = r.string(flag: "--cert-dir", flagValue: c.certDir, env: "TLS_CERT_DIR", default: "")
        certificateDirectory = dir.isEmpty ? nil : dir
        profile = try r.resolve(
            flag: "--tls-profile", flagValue: c.tlsProfile, env: "TLS_PROFILE", default: .intermediate,
            allowed: "intermediate or modern"
        ) { $0 == "intermediate" ? .intermediate : $0 == "modern" ? .modern : nil }
        hstsMaxAge = try r.resolve(
            flag: "--hsts-max-age", flagValue: c.hstsMaxAge, env: "HSTS_MAX_AGE", default: nil,
            allowed: "seconds (>= 0)"
        ) { Parse.nonNegativeInt($0).map { .some($0) } }
        sessionResumption = try r.resolve(
            flag: "--tls-session-resumption", flagValue: c.tlsSessionResumption, env: "TLS_SESSION_RESUMPTION",
            default: true, allowed: "on or off", parse: Parse.bool)
        http2 = try r.resolve(
            flag: "--http2", flagValue: c.http2, env: "HTTP2", default: true, allowed: "on or off", parse: Parse.bool)
        handshakeTimeout = try r.resolve(
            flag: "--tls-handshake-timeout", flagValue: c.tlsHandshakeTimeout, env: "TLS_HANDSHAKE_TIMEOUT",
            default: 10_000, allowed: "seconds (> 0)"
        ) { Parse.seconds($0).flatMap { $0 > 0 ? $0 : nil } }
        requireCertificate = c.requireCertificate || Parse.bool(r.environment["REQUIRE_CERTIFICATE"] ?? "") == true
        httpServesSite = c.httpServesSite
        acme = try ACMESettings(c, resolver: r, httpPortOn: httpPort != nil)
    }

    private static func list(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
    }
}

/// The certificates direct-TLS serves, and how to reload them.
final class CertificateSource: Sendable {
    /// The configured (or self-signed) pairs; see `configuration` for what is served.
    private let baseConfiguration: TLSConfiguration
    /// The ACME key and chain, served first once they exist on disk.
    let acmePair: TLSConfiguration.CertificateKeyPair?
    /// True when the certificate was generated because none was configured.
    let isSelfSigned: Bool
    /// Files whose change on disk triggers a reload.
    let watchedFiles: [String]

    /// Resolves the configured pairs (or the directory's), or generates a self-signed pair under
    /// `stateDirectory` when there is none and that is allowed.
    init(
        settings: TLSSettings, stateDirectory: String, acmePair: TLSConfiguration.CertificateKeyPair? = nil,
        logger: Logger
    ) throws(ConfigurationError) {
        var pairs = settings.certificates
        if let dir = settings.certificateDirectory {
            pairs += try Self.pairs(inDirectory: dir)
        }
        if acmePair != nil {
            // With ACME the configured pairs are a fallback: one whose files are not there (a deployment's
            // template naming files it never received) is left out rather than stopping the server.
            let absent = pairs.filter {
                access($0.certificateChainPath, R_OK) != 0 || access($0.privateKeyPath, R_OK) != 0
            }
            for pair in absent {
                logger.warning(
                    "direct-tls: \(pair.certificateChainPath) or its key is not readable; ACME provides the certificate"
                )
            }
            pairs.removeAll { pair in absent.contains { $0.certificateChainPath == pair.certificateChainPath } }
        }
        self.acmePair = acmePair
        let acmeReady = acmePair.map { Self.loads($0) } ?? false
        var selfSigned = false
        if pairs.isEmpty && acmePair != nil && (acmeReady || settings.requireCertificate) {
            // The ACME pair alone: `configuration` serves it once it is on disk. Until then, with
            // --require-certificate, handshakes fail (acme-tls/1 ones excepted) rather than meet a
            // self-signed certificate.
            if !acmeReady {
                logger.warning(
                    "direct-tls: no ACME certificate yet; handshakes fail until one is issued (--require-certificate)",
                    metadata: ["dir": "\(stateDirectory)/acme"])
            }
        } else if pairs.isEmpty {
            guard !settings.requireCertificate else {
                throw ConfigurationError(
                    "direct-tls: no certificate configured (--cert/--key, TLS_CERT/TLS_KEY or --cert-dir) "
                        + "and --require-certificate forbids generating a self-signed one")
            }
            pairs = [try Self.selfSigned(in: stateDirectory + "/tls", logger: logger)]
            selfSigned = true
        }
        isSelfSigned = selfSigned && !acmeReady
        baseConfiguration = TLSConfiguration(
            certificates: pairs, profile: settings.profile,
            applicationProtocols: settings.http2 ? ["h2", "http/1.1"] : ["http/1.1"],
            sessionResumption: settings.sessionResumption)
        watchedFiles = (pairs + (acmePair.map { [$0] } ?? [])).flatMap { [$0.certificateChainPath, $0.privateKeyPath] }
    }

    /// What to serve now: the ACME pair first when it loads (issued, not expired), then the configured pairs;
    /// the self-signed fallback only while there is no ACME certificate.
    var configuration: TLSConfiguration {
        guard let acmePair, Self.loads(acmePair) else { return baseConfiguration }
        var configuration = baseConfiguration
        configuration.certificates = [acmePair] + (isSelfSignedFallback ? [] : baseConfiguration.certificates)
        return configuration
    }

    /// True when the base pairs are only the generated self-signed one.
    private var isSelfSignedFallback: Bool {
        baseConfiguration.certificates.count == 1
            && baseConfiguration.certificates[0].certificateChainPath.hasSuffix("/self-signed.crt")
    }

    private static func loads(_ pair: TLSConfiguration.CertificateKeyPair) -> Bool {
        (try? TLSContext(configuration: TLSConfiguration(certificates: [pair]))) != nil
    }

    /// `NAME.crt` + `NAME.key` pairs in `directory`, `default` first, then by name.
    static func pairs(inDirectory directory: String) throws(ConfigurationError) -> [TLSConfiguration.CertificateKeyPair]
    {
        guard let dir = opendir(directory) else {
            throw ConfigurationError("--cert-dir/TLS_CERT_DIR '\(directory)': cannot open the directory")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".crt") { names.append(String(name.dropLast(4))) }
        }
        names.sort { ($0 == "default" ? 0 : 1, $0) < ($1 == "default" ? 0 : 1, $1) }
        var pairs: [TLSConfiguration.CertificateKeyPair] = []
        for name in names {
            let key = "\(directory)/\(name).key"
            guard access(key, R_OK) == 0 else {
                throw ConfigurationError("--cert-dir '\(directory)': \(name).crt has no readable \(name).key beside it")
            }
            pairs.append(.init(certificateChainPath: "\(directory)/\(name).crt", privateKeyPath: key))
        }
        if pairs.isEmpty { throw ConfigurationError("--cert-dir '\(directory)': no NAME.crt + NAME.key pair in it") }
        return pairs
    }

    /// Reuses `directory/self-signed.{crt,key}` when they load and are not about to expire; else makes new ones.
    static func selfSigned(in directory: String, logger: Logger) throws(ConfigurationError)
        -> TLSConfiguration.CertificateKeyPair
    {
        let pair = TLSConfiguration.CertificateKeyPair(
            certificateChainPath: directory + "/self-signed.crt", privateKeyPath: directory + "/self-signed.key")
        if (try? TLSContext(configuration: TLSConfiguration(certificates: [pair]))) != nil {
            logger.warning(
                "direct-tls: no certificate configured; serving the self-signed one generated earlier",
                metadata: ["cert": "\(pair.certificateChainPath)"])
            return pair
        }
        do {
            var hostname = [CChar](repeating: 0, count: 256)
            gethostname(&hostname, hostname.count - 1)
            let host = String(decoding: hostname.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let names = ["localhost", "127.0.0.1", "::1"] + (host.isEmpty || host == "localhost" ? [] : [host])
            let (cert, key) = try SelfSignedCertificate.generate(names: names, days: 365)
            try FileWriter.makeDirectories(directory)
            try FileWriter.write(key, to: pair.privateKeyPath, mode: 0o600)
            try FileWriter.write(cert, to: pair.certificateChainPath, mode: 0o644)
            logger.warning(
                "direct-tls: no certificate configured; generated a self-signed certificate (pass --cert/--key, or --require-certificate in production)",
                metadata: ["cert": "\(pair.certificateChainPath)", "names": "\(names.joined(separator: ","))"])
            return pair
        } catch let error as TLSError {
            throw ConfigurationError("direct-tls: cannot generate a self-signed certificate: \(error)")
        } catch {
            throw ConfigurationError(
                "direct-tls: cannot write the self-signed certificate under \(directory): \(error)")
        }
    }

    /// A cheap signature of the watched files (inode, size, mtime); a change means "reload".
    func signature() -> [Int] {
        watchedFiles.flatMap { path -> [Int] in
            var st = stat()
            guard stat(path, &st) == 0 else { return [-1] }
            return [Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
        }
    }
}

/// Small file writes for start-up (the self-signed certificate).
enum FileWriter {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o750) != 0 && errno != EEXIST {
                throw Failure(description: "mkdir \(current): \(Syscall.errnoName(errno))")
            }
        }
    }

    /// Writes `text` to a temporary file beside `path`, then renames it into place.
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(description: "open \(temporary): \(Syscall.errnoName(errno))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            throw Failure(description: "write \(path): \(Syscall.errnoName(errno))")
        }
    }
}
