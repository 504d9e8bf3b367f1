import Glibc
import Logging

/// One challenge the client wants answered: for `http-01` serve `keyAuthorization` at the token's path; for
/// `tls-alpn-01` serve a certificate for `domain` carrying SHA-256(keyAuthorization) (RFC 8737 §3).
public struct PendingChallenge: Sendable {
    /// `http-01` or `tls-alpn-01`.
    public var type: String
    public var domain: String
    public var token: String
    public var keyAuthorization: String
}

/// What answers challenges while an order is in progress; implemented by the server's listeners.
public protocol ChallengeResponder: Sendable {
    /// Starts answering `challenge`; returns before the CA is told to validate.
    func install(_ challenge: PendingChallenge) throws(ACMEError)
    /// Stops answering it (called whether validation passed or not).
    func remove(_ challenge: PendingChallenge)
}

/// An RFC 8555 client: directory, nonces, account, order, authorizations, challenges, finalize, download.
/// Blocking; one order at a time; used from the ACME thread only.
///
/// ```
///  newAccount ─▶ newOrder ─▶ each authorization: pick a challenge, install, POST {}, poll until valid
///                    └────▶ poll order until ready ─▶ finalize(CSR) ─▶ poll until valid ─▶ GET certificate
/// ```
public final class ACMEClient {
    private let directoryURL: String
    private let http: HTTPSClient
    private let accountKey: ACMEKey
    private let logger: Logger
    private var directory: JSON?
    private var nonce: String?
    private var accountURL: String?
    /// How long a poll may wait for the CA before the order is abandoned, in seconds.
    public var pollTimeout = 120

    public init(directoryURL: String, http: HTTPSClient, accountKey: ACMEKey, logger: Logger) {
        self.directoryURL = directoryURL
        self.http = http
        self.accountKey = accountKey
        self.logger = logger
    }

    /// The `renewalInfo` URL when the CA offers ARI (RFC 9773), after `order` or `loadDirectory`.
    public var renewalInfoURL: String? { directory?["renewalInfo"]?.string }

    /// The CA's suggested renewal window for `certificate` (ARI, RFC 9773 §4.2): nil when the CA offers no
    /// `renewalInfo` or the certificate has no authority key identifier.
    public func renewalInfo(for certificate: CertificateInfo) throws(ACMEError) -> RenewalInfo? {
        if directory == nil { try loadDirectory() }
        guard let base = renewalInfoURL, let identifier = certificate.renewalInfoIdentifier else { return nil }
        let url = (base.hasSuffix("/") ? base : base + "/") + identifier
        let response = try http.send("GET", url)
        guard response.status == 200, let json = JSON.parse(response.body) else {
            throw ACMEError.unexpected("renewalInfo \(url) answered HTTP \(response.status), not a renewal window")
        }
        guard let info = RenewalInfo(json: json, retryAfter: response.header("retry-after").flatMap { Int($0) })
        else { throw ACMEError.unexpected("renewalInfo \(url): no valid suggestedWindow") }
        return info
    }

    /// Fetches the directory (RFC 8555 §7.1.1).
    public func loadDirectory() throws(ACMEError) {
        let response = try http.send("GET", directoryURL)
        guard response.status == 200, let json = JSON.parse(response.body), json["newOrder"]?.string != nil else {
            throw ACMEError.unexpected("directory \(directoryURL) answered HTTP \(response.status), not a directory")
        }
        directory = json
    }

    private func endpoint(_ name: String) throws(ACMEError) -> String {
        if directory == nil { try loadDirectory() }
        guard let url = directory?[name]?.string else { throw ACMEError.unexpected("directory has no \(name)") }
        return url
    }

    /// Orders a certificate for `domains` and returns its PEM chain (leaf first). `types` lists the
    /// challenge types we can answer, preferred first.
    public func order(
        domains: [String], certificateKey: ACMEKey, email: String?, types: [String], responder: any ChallengeResponder,
        replacing: CertificateInfo? = nil
    ) throws(ACMEError) -> String {
        try ensureAccount(email: email)
        let identifiers = JSON.array(domains.map { .object([("type", .string("dns")), ("value", .string($0))]) })
        var payload: [(String, JSON)] = [("identifiers", identifiers)]
        // RFC 9773 §5: name the certificate this order replaces, to CAs that speak ARI.
        if renewalInfoURL != nil, let replaced = replacing?.renewalInfoIdentifier {
            payload.append(("replaces", .string(replaced)))
        }
        let created: (response: HTTPSResponse, json: JSON)
        do {
            created = try post(try endpoint("newOrder"), payload: .object(payload))
        } catch .problem(let problem) where payload.count > 1 && problem.type.hasSuffix(":alreadyReplaced") {
            // Replaced already (by an order that did not finish): order afresh, without the claim.
            created = try post(try endpoint("newOrder"), payload: .object([("identifiers", identifiers)]))
        }
        guard let orderURL = created.response.header("location") else {
            throw ACMEError.unexpected("newOrder gave no Location")
        }
        var order = created.json
        for authorizationURL in order["authorizations"]?.array.compactMap(\.string) ?? [] {
            try authorize(authorizationURL, types: types, responder: responder)
        }
        order = try poll(orderURL, until: ["ready", "valid"], failing: ["invalid"])
        if order["status"]?.string == "ready" {
            guard let finalize = order["finalize"]?.string else { throw ACMEError.unexpected("order has no finalize") }
            let csr = try CertificateRequest.der(domains: domains, key: certificateKey)
            _ = try post(finalize, payload: .object([("csr", .string(Base64URL.encode(csr)))]))
            order = try poll(orderURL, until: ["valid"], failing: ["invalid"])
        }
        guard let certificateURL = order["certificate"]?.string else {
            throw ACMEError.unexpected("valid order has no certificate URL")
        }
        let download = try post(certificateURL, payload: nil, accept: "application/pem-certificate-chain")
        let chain = String(decoding: download.response.body, as: UTF8.self)
        guard chain.contains("-----BEGIN CERTIFICATE-----") else {
            throw ACMEError.unexpected("certificate download is not a PEM chain")
        }
        return chain
    }

    /// newAccount (RFC 8555 §7.3): creates the account, or finds the existing one for this key.
    private func ensureAccount(email: String?) throws(ACMEError) {
        guard accountURL == nil else { return }
        var payload: [(String, JSON)] = [("termsOfServiceAgreed", .bool(true))]
        if let email, !email.isEmpty { payload.append(("contact", .array([.string("mailto:\(email)")]))) }
        let created = try post(try endpoint("newAccount"), payload: .object(payload), useJWK: true)
        guard let location = created.response.header("location") else {
            throw ACMEError.unexpected("newAccount gave no Location")
        }
        accountURL = location
    }

    /// Answers one authorization with the first of `types` it offers, then waits until it is valid.
    private func authorize(_ url: String, types: [String], responder: any ChallengeResponder) throws(ACMEError) {
        let authorization = try post(url, payload: nil).json
        if authorization["status"]?.string == "valid" { return }
        let domain = authorization["identifier"]?["value"]?.string ?? "?"
        let offered = authorization["challenges"]?.array ?? []
        guard
            let (type, challenge) = types.lazy.compactMap({ type in
                offered.first { $0["type"]?.string == type }.map { (type, $0) }
            }).first,
            let token = challenge["token"]?.string, let challengeURL = challenge["url"]?.string
        else {
            throw ACMEError.unexpected(
                "\(domain): none of the challenges offered (\(offered.compactMap { $0["type"]?.string })) is one of \(types)"
            )
        }
        let pending = PendingChallenge(
            type: type, domain: domain, token: token, keyAuthorization: token + "." + (try accountKey.thumbprint()))
        try responder.install(pending)
        defer { responder.remove(pending) }
        logger.info("ACME: answering \(type) for \(domain)")
        _ = try post(challengeURL, payload: .object([]))
        let final = try poll(url, until: ["valid"], failing: ["invalid", "deactivated", "expired", "revoked"])
        _ = final
    }

    /// POST-as-GET `url` until its status is in `until`; a status in `failing` throws with the CA's error.
    private func poll(_ url: String, until: Set<String>, failing: Set<String>) throws(ACMEError) -> JSON {
        let deadline = time(nil) + pollTimeout
        while true {
            let answer = try post(url, payload: nil)
            let status = answer.json["status"]?.string ?? ""
            if until.contains(status) { return answer.json }
            if failing.contains(status) {
                let errors = [answer.json["error"]] + (answer.json["challenges"]?.array.map { $0["error"] } ?? [])
                let document = errors.compactMap { $0 }.first ?? answer.json
                throw ACMEError.problem(
                    .init(
                        type: document["type"]?.string ?? "status \(status)",
                        detail: document["detail"]?.string ?? "", status: answer.response.status, url: url,
                        document: document.text, retryAfter: nil))
            }
            guard time(nil) < deadline else {
                throw ACMEError.unexpected("\(url) still \(status) after \(pollTimeout) s")
            }
            let wait = answer.response.header("retry-after").flatMap { Int($0) } ?? 1
            sleep(UInt32(min(max(wait, 1), 10)))
        }
    }

    /// A signed POST (RFC 8555 §6.2); `payload` nil is POST-as-GET (§6.3). Retries a `badNonce` twice with the
    /// fresh nonce the error carried (§6.5).
    private func post(_ url: String, payload: JSON?, useJWK: Bool = false, accept: String? = nil)
        throws(ACMEError) -> (response: HTTPSResponse, json: JSON)
    {
        var attempt = 0
        while true {
            attempt += 1
            let nonce = try takeNonce()
            var protected: [(String, JSON)] = [("alg", .string("ES256"))]
            if useJWK {
                protected.append(("jwk", try accountKey.jwk()))
            } else {
                guard let accountURL else { throw ACMEError.unexpected("no account URL before \(url)") }
                protected.append(("kid", .string(accountURL)))
            }
            protected += [("nonce", .string(nonce)), ("url", .string(url))]
            let protectedText = Base64URL.encode(JSON.object(protected).text)
            let payloadText = payload.map { Base64URL.encode($0.text) } ?? ""
            let signature = try accountKey.signES256(Array("\(protectedText).\(payloadText)".utf8))
            let body = JSON.object([
                ("protected", .string(protectedText)), ("payload", .string(payloadText)),
                ("signature", .string(Base64URL.encode(signature))),
            ])
            var headers = [("Content-Type", "application/jose+json")]
            if let accept { headers.append(("Accept", accept)) }
            let response = try http.send("POST", url, headers: headers, body: Array(body.text.utf8))
            self.nonce = response.header("replay-nonce")
            if response.status < 400 {
                let json = JSON.parse(response.body) ?? .null
                return (response, json)
            }
            let problem = Self.problem(response, url: url)
            if problem.type.hasSuffix(":badNonce") && attempt < 3 { continue }
            throw ACMEError.problem(problem)
        }
    }

    private func takeNonce() throws(ACMEError) -> String {
        if let nonce {
            self.nonce = nil
            return nonce
        }
        let url = try endpoint("newNonce")
        let response = try http.send("HEAD", url)
        guard let fresh = response.header("replay-nonce") else {
            throw ACMEError.unexpected("newNonce \(url) answered HTTP \(response.status) without Replay-Nonce")
        }
        return fresh
    }

    private static func problem(_ response: HTTPSResponse, url: String) -> ACMEError.Problem {
        let json = JSON.parse(response.body)
        let text = json?.text ?? String(decoding: response.body.prefix(300), as: UTF8.self)
        return .init(
            type: json?["type"]?.string ?? "HTTP \(response.status)", detail: json?["detail"]?.string ?? "",
            status: response.status, url: url, document: text,
            retryAfter: response.header("retry-after").flatMap { Int($0) })
    }
}
