internal import COpenSSL

/// Owns one `SSL_CTX *`; freed in `deinit`. Every `SSL` made from it holds its own reference, so a session
/// outlives a context that was replaced by a reload.
final class OwnedSSLContext {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { SSL_CTX_free(pointer) }
}

/// Everything a TLS server needs before the first connection: certificates, protocol settings, ALPN,
/// session cache and ticket keys. Built once, immutable after, shared by every loop.
///
/// A reload builds a new context (see `TLSContextHolder`); sessions made from the old one keep it alive.
///
/// ```
///  contexts[0]  default identity: SSL_new uses it; session cache, tickets and SNI callback live here
///  contexts[i]  other identities: the servername callback moves the SSL to one (SSL_set_SSL_CTX)
/// ```
public final class TLSContext: @unchecked Sendable {
    // Thread-safety: every stored property is set in init and never changed. OpenSSL allows SSL_new on a
    // configured SSL_CTX from any number of threads (reference counts and the session cache lock inside);
    // the callbacks read only these immutable fields, and `ticketKeys` guards its keys with a lock.

    /// The `SSL_CTX`s, one per identity; [0] is the default.
    let contexts: [OwnedSSLContext]
    /// True for a server context; client contexts exist for tests.
    let isServer: Bool
    /// Lower-cased DNS name → index in `contexts`.
    private let exactNames: [String: Int]
    /// Lower-cased parent of a `*.` name (`example.com` for `*.example.com`) → index in `contexts`.
    private let wildcardNames: [String: Int]
    /// The ALPN list in wire format (length-prefixed names), server preference first; stable storage
    /// because OpenSSL keeps pointing into it after the select callback returns.
    let applicationProtocolsWire: UnsafeMutableRawBufferPointer
    /// How many bytes of `applicationProtocolsWire` are the list (the allocation is at least one byte).
    let alpnWireCount: Int
    /// The ticket keys every context here seals tickets with; shared with contexts built by later reloads.
    public let ticketKeys: TicketKeyRing
    /// The names of each identity, the default first (for a start-up log line).
    public let identities: [[String]]
    /// Each certificate loaded: its names and when it expires (metrics). Set once, by the initializer.
    public private(set) var certificates: [CertificateSummary] = []
    /// TLS-ALPN-01 challenges answered on this context's connections (nil: none, no client-hello callback).
    public let challenges: ALPNChallenges?

    init(
        isServer: Bool, contexts: [OwnedSSLContext], identities: [[String]], applicationProtocols: [String],
        ticketKeys: TicketKeyRing, challenges: ALPNChallenges? = nil
    ) {
        self.isServer = isServer
        self.challenges = challenges
        self.contexts = contexts
        self.identities = identities
        self.ticketKeys = ticketKeys
        var exact: [String: Int] = [:]
        var wildcard: [String: Int] = [:]
        for (index, names) in identities.enumerated() {
            for name in names {
                // The first identity that claims a name keeps it.
                if name.hasPrefix("*.") {
                    if wildcard[String(name.dropFirst(2))] == nil { wildcard[String(name.dropFirst(2))] = index }
                } else if exact[name] == nil {
                    exact[name] = index
                }
            }
        }
        exactNames = exact
        wildcardNames = wildcard
        let wire = applicationProtocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        applicationProtocolsWire = .allocate(byteCount: max(wire.count, 1), alignment: 1)
        applicationProtocolsWire.copyBytes(from: wire)
        alpnWireCount = wire.count
    }

    deinit { applicationProtocolsWire.deallocate() }

    /// Builds a server context from `configuration`, reading and checking every certificate and key.
    ///
    /// Throws a `TLSError` naming the file for an unreadable or unparsable certificate or key, a key that is
    /// not its certificate's, a certificate that is expired or not yet valid, and names a setting OpenSSL
    /// refused. `ticketKeys` should be the ring of the context this one replaces, so tickets survive reloads.
    /// `challenges`, when given, are answered to clients offering ALPN `acme-tls/1` (RFC 8737).
    public convenience init(
        configuration: TLSConfiguration, ticketKeys: TicketKeyRing = TicketKeyRing(),
        challenges: ALPNChallenges? = nil
    ) throws(TLSError) {
        // No certificate is allowed only while ACME has none yet: such a context completes acme-tls/1
        // handshakes (their certificate comes from `challenges`) and fails every other.
        guard !configuration.certificates.isEmpty || challenges != nil else {
            throw TLSError(.configuration, context: "TLS configuration", reasons: ["no certificate configured"])
        }
        try Self.validate(applicationProtocols: configuration.applicationProtocols)
        var leaves: [LoadedCertificate] = []
        for pair in configuration.certificates {
            leaves.append(try LoadedCertificate(pair))
        }
        // Group pairs whose leaves carry the same names: one SSL_CTX each, holding one key per type.
        var groups: [[LoadedCertificate]] = []
        for leaf in leaves {
            if let index = groups.firstIndex(where: { $0[0].names == leaf.names }) {
                if let twin = groups[index].first(where: { $0.keyType == leaf.keyType }) {
                    throw TLSError(
                        .configuration, context: "certificate \(leaf.pair.certificateChainPath)",
                        reasons: [
                            "same names and key type (\(leaf.keyTypeName)) as \(twin.pair.certificateChainPath): "
                                + "one of each key type per name set"
                        ])
                }
                groups[index].append(leaf)
            } else {
                groups.append([leaf])
            }
        }
        if groups.isEmpty { groups = [[]] }
        var contexts: [OwnedSSLContext] = []
        for group in groups {
            contexts.append(try Self.makeServerContext(configuration, certificates: group, ticketKeys: ticketKeys))
        }
        self.init(
            isServer: true, contexts: contexts, identities: groups.map { $0.first?.names ?? [] },
            applicationProtocols: configuration.applicationProtocols, ticketKeys: ticketKeys, challenges: challenges)
        certificates = leaves.map { CertificateSummary(names: $0.names, notAfter: $0.notAfter) }
        installServerCallbacks()
    }

    /// Makes the next ticket key current (see `TicketKeyRing.rotate`). Safe from any thread.
    public func rotateTicketKeys() {
        ticketKeys.rotate()
    }

    /// The index in `contexts` of the identity serving `serverName` (SNI): an exact name, then a wildcard
    /// over its first label, else the default (0).
    func identityIndex(forServerName serverName: String) -> Int {
        var name = serverName.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if let index = exactNames[name] { return index }
        if let dot = name.firstIndex(of: "."), let index = wildcardNames[String(name[name.index(after: dot)...])] {
            return index
        }
        return 0
    }

    static func validate(applicationProtocols: [String]) throws(TLSError) {
        for name in applicationProtocols where name.utf8.isEmpty || name.utf8.count > 255 {
            // RFC 7301 §3.1: each protocol name is 1 to 255 bytes.
            throw TLSError(.configuration, context: "ALPN protocol \"\(name)\"", reasons: ["must be 1 to 255 bytes"])
        }
    }
}
