/// What a server `TLSContext` is built from: certificates, protocol profile, ALPN and session settings.
///
/// Certificates are grouped by the names their leaf carries (subject alternative DNS names, or the common
/// name when there are none): pairs with the same names form one identity, which may hold one ECDSA and one
/// RSA certificate — OpenSSL picks per client. Several identities give SNI: the client's server name picks
/// the identity whose names match (exactly, or by a `*.` wildcard over one label); the first pair's identity
/// answers unknown names and clients that send none.
public struct TLSConfiguration: Equatable, Sendable {
    /// One certificate chain and its private key, both PEM files.
    public struct CertificateKeyPair: Equatable, Sendable {
        /// The leaf certificate followed by its intermediates (not the root).
        public var certificateChainPath: String
        /// The leaf's private key, unencrypted.
        public var privateKeyPath: String

        /// Names a chain file and its key file.
        public init(certificateChainPath: String, privateKeyPath: String) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
        }
    }

    /// Protocol versions and ciphers, after Mozilla's server-side TLS guidelines (version 5.7).
    public enum Profile: Equatable, Sendable {
        /// TLS 1.2 and 1.3; ECDHE/DHE with AES-GCM or ChaCha20-Poly1305 for 1.2.
        case intermediate
        /// TLS 1.3 only.
        case modern
    }

    /// The certificates to serve; the first pair's identity is the default. Must not be empty.
    public var certificates: [CertificateKeyPair]
    /// Versions and ciphers.
    public var profile: Profile
    /// ALPN protocol names in server preference order, e.g. `["h2", "http/1.1"]`. A client that offers ALPN
    /// but none of these is refused with `no_application_protocol` (RFC 7301 §3.2).
    public var applicationProtocols: [String]
    /// How many TLS 1.2 sessions the server-side cache holds (for clients resuming by session id).
    public var sessionCacheSize: Int
    /// How long a session (cached or in a ticket) may be resumed, in seconds. Rotate ticket keys no more
    /// often than this: a ticket stays readable for one rotation after its key was replaced.
    public var sessionLifetimeSeconds: Int
    /// False turns resumption off (no tickets, no cache): every connection is a full handshake, as in
    /// benchmarks that measure handshake cost.
    public var sessionResumption: Bool

    /// Makes a configuration; only `certificates` has no default.
    public init(
        certificates: [CertificateKeyPair],
        profile: Profile = .intermediate,
        applicationProtocols: [String] = ["http/1.1"],
        sessionCacheSize: Int = 10_000,
        sessionLifetimeSeconds: Int = 3600,
        sessionResumption: Bool = true
    ) {
        self.certificates = certificates
        self.profile = profile
        self.applicationProtocols = applicationProtocols
        self.sessionCacheSize = sessionCacheSize
        self.sessionLifetimeSeconds = sessionLifetimeSeconds
        self.sessionResumption = sessionResumption
    }

    /// Mozilla "intermediate" TLS 1.2 ciphers, in server preference order. DHE uses the RFC 7919 group
    /// matched to the key size (`SSL_CTX_set_dh_auto`), so no DH parameter file is needed.
    static let intermediateCiphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// Mozilla's TLS 1.3 suites, in its order: AES-128 first (cheaper than AES-256 per byte, same strength
    /// for a session key); OpenSSL's default puts AES-256 first.
    static let tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    /// Key-exchange groups, preferred first.
    static let groups = "X25519:P-256"
}

/// A certificate a context serves: its DNS names and its expiry.
public struct CertificateSummary: Sendable, Equatable {
    /// Lower-cased DNS names of the leaf, sorted.
    public let names: [String]
    /// notAfter, in seconds since the epoch.
    public let notAfter: Int64
}
