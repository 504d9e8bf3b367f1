import ACME
import HTTP
import Logging
import Reactor
import TLS

/// The ACME settings of `serve --mode direct-tls`, resolved and checked; nil when no domain is named.
struct ACMESettings: Sendable {
    var domains: [String]
    var directory: String
    var email: String?
    var caBundle: String?
    /// Preferred first.
    var challenges: [String]

    static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

    init?(_ c: ServeCommand, resolver r: SettingResolver, httpPortOn: Bool) throws(ConfigurationError) {
        let names =
            c.acmeDomain.isEmpty
            ? (r.environment["ACME_DOMAINS"] ?? "").split(separator: ",").map {
                String($0).trimmingCharacters(in: " ")
            } : c.acmeDomain
        domains = names.filter { !$0.isEmpty }.map { $0.lowercased() }
        guard !domains.isEmpty else { return nil }
        for name in domains
        where name.contains("*") || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) {
            throw ConfigurationError(
                "--acme-domain/ACME_DOMAINS '\(name)': a DNS name (letters, digits, '-', '.'; no wildcard: "
                    + "wildcards need DNS-01)")
        }
        directory = r.string(
            flag: "--acme-directory", flagValue: c.acmeDirectory, env: "ACME_DIRECTORY", default: Self.letsEncrypt)
        guard directory.hasPrefix("https://") else {
            throw ConfigurationError("--acme-directory/ACME_DIRECTORY '\(directory)': an https:// URL")
        }
        let mail = r.string(flag: "--acme-email", flagValue: c.acmeEmail, env: "ACME_EMAIL", default: "")
        email = mail.isEmpty ? nil : mail
        let bundle = r.string(flag: "--acme-ca-bundle", flagValue: c.acmeCaBundle, env: "ACME_CA_BUNDLE", default: "")
        caBundle = bundle.isEmpty ? nil : bundle
        challenges = try r.resolve(
            flag: "--acme-challenge", flagValue: c.acmeChallenge, env: "ACME_CHALLENGE",
            default: httpPortOn ? ["http-01", "tls-alpn-01"] : ["tls-alpn-01"],
            allowed: "http-01 or tls-alpn-01"
        ) { $0 == "http-01" || $0 == "tls-alpn-01" ? [$0] : nil }
        if challenges == ["http-01"] && !httpPortOn {
            throw ConfigurationError("--acme-challenge http-01 needs the plain port: --http-port/HTTP_PORT is off")
        }
    }
}

/// Answers ACME challenges from the server's listeners: HTTP-01 tokens for the plain port, TLS-ALPN-01
/// certificates for the HTTPS port.
struct ListenerChallengeResponder: ChallengeResponder {
    let tokens: ChallengeTokens
    let alpn: ALPNChallenges

    func install(_ challenge: PendingChallenge) throws(ACMEError) {
        switch challenge.type {
        case "http-01":
            tokens.add(token: challenge.token, keyAuthorization: challenge.keyAuthorization)
        default:
            do {
                try alpn.add(
                    domain: challenge.domain,
                    keyAuthorizationDigest: Digest.sha256(Array(challenge.keyAuthorization.utf8)))
            } catch {
                throw ACMEError.crypto("acme-tls/1 certificate for \(challenge.domain)", "\(error)")
            }
        }
    }

    func remove(_ challenge: PendingChallenge) {
        tokens.remove(token: challenge.token)
        alpn.remove(domain: challenge.domain)
    }
}

/// The plain port with ACME on: `/.well-known/acme-challenge/TOKEN` from the pending HTTP-01 challenges
/// (RFC 8555 §8.3, before any redirect), everything else to `next`.
struct ACMEChallengeAnswerer: Responder {
    let tokens: ChallengeTokens
    let next: any Responder

    func respond(to request: Request, context: RequestContext) -> Response {
        guard request.path.hasPrefix(ChallengeTokens.pathPrefix) else {
            return next.respond(to: request, context: context)
        }
        guard let answer = tokens.keyAuthorization(forPath: request.path) else {
            return Response(
                status: .notFound, headers: [("Content-Type", "text/plain; charset=utf-8")],
                body: .bytes(Bytes("no such ACME challenge\n")))
        }
        return Response(
            status: .ok, headers: [("Content-Type", "application/octet-stream"), ("Cache-Control", "no-store")],
            body: .bytes(Bytes(answer)))
    }
}
