internal import COpenSSL

extension TLSContext {
    /// A client context, for tests that talk to a server `TLSSession` in memory (the server never dials out).
    ///
    /// Verifies the peer against the CA file `trusting` (PEM) when given; `ciphers` (TLS 1.2 cipher list) and
    /// `signatureAlgorithms` (`ECDSA+SHA256`, `RSA-PSS+SHA256`, ...) narrow what is offered, to steer which
    /// certificate the server picks.
    package convenience init(
        clientTrusting caFile: String?, applicationProtocols: [String] = [], minimumVersion: TLSVersion = .tls12,
        maximumVersion: TLSVersion = .tls13, ciphers: String? = nil, signatureAlgorithms: String? = nil
    ) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let pointer = SSL_CTX_new(TLS_client_method()) else {
            throw OpenSSLErrorQueue.error(.configuration, context: "SSL_CTX_new", fallback: "out of memory")
        }
        let context = OwnedSSLContext(pointer)
        func require(_ ok: Bool, _ what: String) throws(TLSError) {
            if !ok { throw OpenSSLErrorQueue.error(.configuration, context: what, fallback: "refused") }
        }
        func wire(_ version: TLSVersion) -> CInt { version == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION }
        try require(copenssl_ctx_set_min_proto_version(pointer, wire(minimumVersion)) == 1, "minimum version")
        try require(copenssl_ctx_set_max_proto_version(pointer, wire(maximumVersion)) == 1, "maximum version")
        if let caFile {
            try require(SSL_CTX_load_verify_locations(pointer, caFile, nil) == 1, "CA file \(caFile)")
            SSL_CTX_set_verify(pointer, SSL_VERIFY_PEER, nil)
        }
        if let ciphers { try require(SSL_CTX_set_cipher_list(pointer, ciphers) == 1, "cipher list \(ciphers)") }
        if let signatureAlgorithms {
            try require(
                copenssl_ctx_set1_sigalgs_list(pointer, signatureAlgorithms) == 1,
                "signature algorithms \(signatureAlgorithms)")
        }
        if !applicationProtocols.isEmpty {
            try Self.validate(applicationProtocols: applicationProtocols)
            let wire = applicationProtocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            // SSL_CTX_set_alpn_protos returns 0 on success, unlike its neighbours.
            try require(SSL_CTX_set_alpn_protos(pointer, wire, UInt32(wire.count)) == 0, "ALPN list")
        }
        copenssl_ctx_set_mode(pointer, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        self.init(
            isServer: false, contexts: [context], identities: [], applicationProtocols: applicationProtocols,
            ticketKeys: TicketKeyRing())
    }
}
