import ArgumentParser
import Glibc
import HTTP
import Reactor

/// The flags of metrics, per-client limits and the PROXY protocol (`serve` includes them as an option group).
struct LimitOptions: ParsableArguments {
    @Option(
        help:
            "Port of the Prometheus /metrics listener, never the site's port ('off' for none; 0 picks a free port). Env: METRICS_PORT. Default: off."
    )
    var metricsPort: String?
    @Option(help: "Address of the /metrics listener. Env: METRICS_HOST. Default: the --host address.")
    var metricsHost: String?
    @Option(
        help:
            "Open connections one client address may hold ('off' for no cap). Env: MAX_CONNECTIONS_PER_IP. Default: 256 in direct-tls, off behind-proxy."
    )
    var maxConnectionsPerIp: String?
    @Option(
        help:
            "Open connections in all; more are closed at once ('off' for no cap). Env: MAX_CONNECTIONS. Default: the descriptor limit less 128."
    )
    var maxConnections: String?
    @Option(
        help:
            "Requests per second one client may sustain, beyond which it gets 429 with Retry-After ('off' for none). Env: RATE_LIMIT. Default: 100 in direct-tls, off behind-proxy."
    )
    var rateLimit: String?
    @Option(help: "Requests a client may send at once above --rate-limit. Env: RATE_LIMIT_BURST. Default: 400.")
    var rateLimitBurst: String?
    @Option(
        help:
            "CIDR blocks no per-client limit applies to ('none' for none). Env: LIMIT_EXEMPT. Default: 127.0.0.0/8,::1/128."
    )
    var limitExempt: String?
    @Option(
        help:
            "Expect a PROXY protocol v1/v2 header on every connection (behind HAProxy or an AWS NLB): on or off. Env: PROXY_PROTOCOL. Default: off."
    )
    var proxyProtocol: String?
}

/// Metrics, limits and PROXY protocol settings, resolved and checked.
struct LimitSettings: Sendable {
    var metricsPort: Int?
    var metricsHost: String?
    var maxConnectionsPerIP: Int?
    var maxConnections: Int?
    var rateLimit: Double?
    var rateLimitBurst: Int
    var exempt: [String]
    var proxyProtocol: Bool
    /// The caps these settings ask for, shared by every loop; nil when there is none.
    var connectionLimiter: ConnectionLimiter?

    init(_ o: LimitOptions, directTLS: Bool, resolver r: SettingResolver) throws(ConfigurationError) {
        metricsPort = try r.resolve(
            flag: "--metrics-port", flagValue: o.metricsPort, env: "METRICS_PORT", default: nil,
            allowed: "a port number 0-65535 or off"
        ) { $0 == "off" ? .some(nil) : Parse.portOrZero($0).map { .some($0) } }
        let host = r.string(flag: "--metrics-host", flagValue: o.metricsHost, env: "METRICS_HOST", default: "")
        if !host.isEmpty {
            guard SocketAddress(ip: host) != nil else {
                throw ConfigurationError(
                    "invalid value '\(host)' for --metrics-host/METRICS_HOST: expected a numeric IPv4 or IPv6 address")
            }
            metricsHost = host
        }
        maxConnectionsPerIP = try r.resolve(
            flag: "--max-connections-per-ip", flagValue: o.maxConnectionsPerIp, env: "MAX_CONNECTIONS_PER_IP",
            default: directTLS ? 256 : nil, allowed: "a whole number > 0 or off", parse: Self.countOrOff)
        maxConnections = try r.resolve(
            flag: "--max-connections", flagValue: o.maxConnections, env: "MAX_CONNECTIONS",
            default: Self.descriptorBudget(), allowed: "a whole number > 0 or off", parse: Self.countOrOff)
        rateLimit = try r.resolve(
            flag: "--rate-limit", flagValue: o.rateLimit, env: "RATE_LIMIT", default: directTLS ? 100 : nil,
            allowed: "requests per second (> 0, e.g. 50 or 0.5) or off"
        ) { raw in
            if raw == "off" { return .some(nil) }
            let text = raw.hasSuffix("r/s") ? String(raw.dropLast(3)) : raw
            return Double(text).flatMap { $0 > 0 && $0 < 1e9 ? .some($0) : nil }
        }
        rateLimitBurst = try r.resolve(
            flag: "--rate-limit-burst", flagValue: o.rateLimitBurst, env: "RATE_LIMIT_BURST", default: 400,
            allowed: "a whole number > 0", parse: Parse.positiveInt)
        exempt = try r.resolve(
            flag: "--limit-exempt", flagValue: o.limitExempt, env: "LIMIT_EXEMPT",
            default: ["127.0.0.0/8", "::1/128"], allowed: "comma-separated CIDR blocks such as 10.0.0.0/8, or none"
        ) { $0 == "none" ? [] : Parse.cidrList($0) }
        proxyProtocol = try r.resolve(
            flag: "--proxy-protocol", flagValue: o.proxyProtocol, env: "PROXY_PROTOCOL", default: false,
            allowed: "on or off", parse: Parse.bool)
        if maxConnectionsPerIP != nil || maxConnections != nil {
            connectionLimiter = ConnectionLimiter(
                perClient: maxConnectionsPerIP, total: maxConnections, exempt: try ExemptClients(cidrs: exempt))
        }
    }

    private static func countOrOff(_ raw: String) -> Int?? {
        raw == "off" ? .some(nil) : Parse.positiveInt(raw).map { .some($0) }
    }

    /// The soft descriptor limit less what files, logs, the database and listeners need.
    private static func descriptorBudget() -> Int? {
        var limit = rlimit()
        guard getrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1 << 40 else { return nil }
        return max(Int(limit.rlim_cur) - 128, 64)
    }

    /// The rate limiter these settings ask for, or nil.
    func rateLimiter() throws(ConfigurationError) -> RateLimiter? {
        guard let rateLimit else { return nil }
        return RateLimiter(rate: rateLimit, burst: rateLimitBurst, exempt: try ExemptClients(cidrs: exempt))
    }
}
