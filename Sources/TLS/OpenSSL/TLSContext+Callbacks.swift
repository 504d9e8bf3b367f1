internal import COpenSSL

// OpenSSL calls these on whichever loop thread runs the handshake. They read only immutable `TLSContext`
// fields and the lock-guarded `TicketKeyRing`, so any number may run at once.

extension TLSContext {
    /// Installs the callbacks that need `self` (ALPN on every identity, SNI on the default one).
    func installServerCallbacks() {
        // Unretained: every SSL made from these SSL_CTXs holds this TLSContext (see OpenSSLSession.context).
        let argument = Unmanaged.passUnretained(self).toOpaque()
        if alpnWireCount > 0 {
            // The callback belongs to each SSL_CTX: after SSL_set_SSL_CTX the new one's is used.
            for context in contexts { SSL_CTX_set_alpn_select_cb(context.pointer, alpnSelectCallback, argument) }
        }
        if challenges != nil {
            // Runs before SNI and ALPN: the only point where both the offered names and protocols are visible.
            SSL_CTX_set_client_hello_cb(contexts[0].pointer, acmeClientHelloCallback, argument)
        }
        if contexts.count > 1 {
            copenssl_ctx_set_servername_callback(contexts[0].pointer, serverNameCallback)
            copenssl_ctx_set_servername_arg(contexts[0].pointer, argument)
        }
    }
}

/// SSL_CTX_alpn_select_cb_func: (ssl, out, outLength, offered, offeredLength, argument) -> SSL_TLSEXT_ERR_*.
private typealias ALPNSelect =
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
    ) -> CInt

/// The servername callback: (ssl, alert, argument) -> SSL_TLSEXT_ERR_*.
private typealias ServerNameSelect =
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<CInt>?, UnsafeMutableRawPointer?
    ) -> CInt

/// The EVP ticket-key callback: (ssl, keyName, iv, cipherContext, macContext, encrypt) -> -1, 0, 1 or 2.
typealias TicketKeySelect =
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, OpaquePointer?, OpaquePointer?, CInt
    ) -> CInt

/// ALPN (RFC 7301): the first of our protocols, in our order, that the client offers.
private let alpnSelectCallback: ALPNSelect = { _, out, outLength, offered, offeredLength, argument in
    guard let out, let outLength, let offered, offeredLength > 0, let argument else {
        return SSL_TLSEXT_ERR_NOACK
    }
    let context = Unmanaged<TLSContext>.fromOpaque(argument).takeUnretainedValue()
    var selected: UnsafeMutablePointer<UInt8>? = nil
    var selectedLength: UInt8 = 0
    // SSL_select_next_proto walks its first list (ours) in order: server preference. Invariant: the wire
    // buffer lives as long as the context, and OpenSSL copies the selection before the handshake goes on.
    let outcome = SSL_select_next_proto(
        &selected, &selectedLength, context.applicationProtocolsWire.baseAddress!.assumingMemoryBound(to: UInt8.self),
        UInt32(context.alpnWireCount), offered, offeredLength)
    // RFC 7301 §3.2: no protocol in common → fatal no_application_protocol alert.
    guard outcome == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    out.pointee = UnsafePointer(selected)
    outLength.pointee = selectedLength
    return SSL_TLSEXT_ERR_OK
}

/// SNI (RFC 6066 §3): moves the SSL to the identity serving the requested name; unknown names stay on the
/// default identity rather than failing, as browsers expect.
private let serverNameCallback: ServerNameSelect = { ssl, _, argument in
    guard let ssl, let argument, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else {
        return SSL_TLSEXT_ERR_OK
    }
    let context = Unmanaged<TLSContext>.fromOpaque(argument).takeUnretainedValue()
    // Already moved to a TLS-ALPN-01 challenge context by the client-hello callback: leave it there.
    guard SSL_get_SSL_CTX(ssl) == context.contexts[0].pointer else { return SSL_TLSEXT_ERR_OK }
    let index = context.identityIndex(forServerName: String(cString: name))
    if index != 0 { SSL_set_SSL_CTX(ssl, context.contexts[index].pointer) }
    return SSL_TLSEXT_ERR_OK
}

/// AES-256-CBC for ticket sealing, fetched once: an implicit fetch per ticket would search the provider
/// store each time. Immutable after the one-time global initialisation; EVP_CIPHER objects are shareable.
nonisolated(unsafe) private let ticketCipher: OpaquePointer? =
    EVP_CIPHER_fetch(nil, "AES-256-CBC", nil) ?? EVP_aes_256_cbc()

/// Session-ticket keys (SSL_CTX_set_tlsext_ticket_key_evp_cb(3)): seal with the ring's current key; open with
/// the key the ticket names, asking for a fresh ticket (return 2) when that key is the previous one.
let ticketKeyCallback: TicketKeySelect = { ssl, name, iv, cipherContext, macContext, encrypt in
    guard let ssl, let name, let iv, let context = SSL_get_SSL_CTX(ssl),
        let ring = SSL_CTX_get_ex_data(context, 0)
    else { return -1 }
    let keys = Unmanaged<TicketKeyRing>.fromOpaque(ring).takeUnretainedValue()
    let key: TicketKeyRing.Key
    let result: CInt
    if encrypt == 1 {
        key = keys.current
        // Invariant: OpenSSL passes a 16-byte key-name buffer and an EVP_MAX_IV_LENGTH-byte IV buffer.
        key.name.withUnsafeBufferPointer { name.update(from: $0.baseAddress!, count: 16) }
        guard RAND_bytes(iv, 16) == 1 else { return -1 }
        let ok = key.cipherKey.withUnsafeBufferPointer {
            // Invariant: cipherKey holds the 32 bytes AES-256 reads; EVP copies them during the call.
            EVP_EncryptInit_ex(cipherContext, ticketCipher, nil, $0.baseAddress, iv)
        }
        guard ok == 1 else { return -1 }
        result = 1
    } else {
        // An unknown name (retired key, another server, forged) is not an error: do a full handshake.
        guard let found = keys.key(named: name) else { return 0 }
        key = found.key
        let ok = key.cipherKey.withUnsafeBufferPointer {
            // Invariant: cipherKey holds the 32 bytes AES-256 reads; EVP copies them during the call.
            EVP_DecryptInit_ex(cipherContext, ticketCipher, nil, $0.baseAddress, iv)
        }
        guard ok == 1 else { return -1 }
        result = found.isCurrent ? 1 : 2
    }
    let macOK = key.macKey.withUnsafeBufferPointer {
        // Invariant: the MAC copies the key during the call; `mutating` only satisfies OSSL_PARAM's type.
        copenssl_mac_set_hmac_sha256_key(macContext, UnsafeMutablePointer(mutating: $0.baseAddress), $0.count)
    }
    return macOK == 1 ? result : -1
}
