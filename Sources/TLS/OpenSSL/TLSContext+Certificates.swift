internal import COpenSSL
import Glibc

/// Owns one `EVP_PKEY *`; freed in `deinit`.
final class OwnedPrivateKey {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }
}

/// A certificate/key pair read from disk and checked: dates, key match, names, key type.
struct LoadedCertificate {
    let pair: TLSConfiguration.CertificateKeyPair
    /// Lower-cased DNS names of the leaf (SAN, else the common name), sorted.
    let names: [String]
    /// `EVP_PKEY_EC`, `EVP_PKEY_RSA`, ...
    let keyType: CInt
    let key: OwnedPrivateKey
    /// The leaf's notAfter, in seconds since the epoch.
    let notAfter: Int64

    var keyTypeName: String {
        switch keyType {
        case EVP_PKEY_EC: "ECDSA"
        case EVP_PKEY_RSA: "RSA"
        default: "key type \(keyType)"
        }
    }

    /// Reads the leaf (first certificate of the chain file) and the key; throws a `TLSError` naming the file.
    init(_ pair: TLSConfiguration.CertificateKeyPair) throws(TLSError) {
        self.pair = pair
        let certificateContext = "certificate \(pair.certificateChainPath)"
        OpenSSLErrorQueue.clear()
        guard let leaf = readLeaf(pair.certificateChainPath) else {
            throw OpenSSLErrorQueue.error(.certificate, context: certificateContext, fallback: "no certificate found")
        }
        defer { X509_free(leaf) }

        // X509_cmp_current_time: -1 when the time is before now, 1 after, 0 on a malformed time.
        if X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0 {
            throw TLSError(
                .notYetValid, context: certificateContext,
                reasons: ["not valid before \(describe(X509_get0_notBefore(leaf)))"])
        }
        if X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0 {
            throw TLSError(
                .expired, context: certificateContext, reasons: ["expired on \(describe(X509_get0_notAfter(leaf)))"])
        }

        let keyContext = "private key \(pair.privateKeyPath)"
        OpenSSLErrorQueue.clear()
        guard let key = readPrivateKey(pair.privateKeyPath) else {
            throw OpenSSLErrorQueue.error(.privateKey, context: keyContext, fallback: "no private key found")
        }
        self.key = OwnedPrivateKey(key)
        guard X509_check_private_key(leaf, key) == 1 else {
            throw OpenSSLErrorQueue.error(
                .keyMismatch, context: keyContext,
                fallback: "does not match certificate \(pair.certificateChainPath)")
        }
        notAfter = epochSeconds(X509_get0_notAfter(leaf)) ?? 0
        keyType = EVP_PKEY_get_base_id(X509_get0_pubkey(leaf))
        names = dnsNames(of: leaf)
        guard !names.isEmpty else {
            throw TLSError(.certificate, context: certificateContext, reasons: ["no DNS name (SAN or CN)"])
        }
    }
}

/// A password callback that refuses: an encrypted key fails to load instead of prompting on a terminal.
private let refusePassword:
    @convention(c) (UnsafeMutablePointer<CChar>?, CInt, CInt, UnsafeMutableRawPointer?)
        -> CInt = { _, _, _, _ in -1 }

/// The first certificate in the PEM file at `path`, or nil with the reason on OpenSSL's error queue.
private func readLeaf(_ path: String) -> OpaquePointer? {
    guard let bio = BIO_new_file(path, "r") else { return nil }
    defer { BIO_free(bio) }
    return PEM_read_bio_X509(bio, nil, refusePassword, nil)
}

/// The private key in the PEM file at `path`, or nil with the reason on OpenSSL's error queue.
private func readPrivateKey(_ path: String) -> OpaquePointer? {
    guard let bio = BIO_new_file(path, "r") else { return nil }
    defer { BIO_free(bio) }
    return PEM_read_bio_PrivateKey(bio, nil, refusePassword, nil)
}

/// `2020-01-02 00:00:00 UTC`, or `an unreadable time`.
/// `time` as seconds since the epoch (ASN.1 times are UTC).
private func epochSeconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
    var parts = tm()
    guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
    return Int64(timegm(&parts))
}

private func describe(_ time: UnsafePointer<ASN1_TIME>?) -> String {
    var parts = tm()
    guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return "an unreadable time" }
    func two(_ n: CInt) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
        + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
}

/// The lower-cased, sorted DNS names of `certificate`: its subjectAltName DNS entries, or its common name
/// when it has none (RFC 6125 §6.4.4).
func dnsNames(of certificate: OpaquePointer) -> [String] {
    var names: [String] = []
    if let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) {
        let list = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(list) }
        for index in 0..<OPENSSL_sk_num(list) {
            // Invariant: a GENERAL_NAMES stack holds GENERAL_NAME pointers (X509V3_EXT_d2i of subjectAltName).
            guard let entry = OPENSSL_sk_value(list, index)?.assumingMemoryBound(to: GENERAL_NAME.self),
                entry.pointee.type == GEN_DNS, let name = string(entry.pointee.d.dNSName)
            else { continue }
            names.append(name.lowercased())
        }
    }
    if names.isEmpty, let subject = X509_get_subject_name(certificate) {
        let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
        if index >= 0, let entry = X509_NAME_get_entry(subject, index),
            let name = string(X509_NAME_ENTRY_get_data(entry))
        {
            names.append(name.lowercased())
        }
    }
    return names.sorted()
}

/// The bytes of an ASN.1 string as UTF-8, or nil when absent or empty.
private func string(_ value: UnsafePointer<ASN1_STRING>?) -> String? {
    guard let value, let data = ASN1_STRING_get0_data(value) else { return nil }
    let count = Int(ASN1_STRING_length(value))
    guard count > 0 else { return nil }
    // Invariant: ASN1_STRING_get0_data points at ASN1_STRING_length bytes owned by the certificate.
    return String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
}

extension TLSContext {
    /// One server `SSL_CTX` for one identity: profile, options, session settings, then its certificates.
    static func makeServerContext(
        _ configuration: TLSConfiguration, certificates: [LoadedCertificate], ticketKeys: TicketKeyRing
    ) throws(TLSError) -> OwnedSSLContext {
        OpenSSLErrorQueue.clear()
        guard let pointer = SSL_CTX_new(TLS_server_method()) else {
            throw OpenSSLErrorQueue.error(.configuration, context: "SSL_CTX_new", fallback: "out of memory")
        }
        let context = OwnedSSLContext(pointer)
        func require(_ ok: Bool, _ what: String) throws(TLSError) {
            if !ok { throw OpenSSLErrorQueue.error(.configuration, context: what, fallback: "refused") }
        }

        switch configuration.profile {
        case .intermediate:
            try require(copenssl_ctx_set_min_proto_version(pointer, TLS1_2_VERSION) == 1, "minimum version TLS 1.2")
            try require(
                SSL_CTX_set_cipher_list(pointer, TLSConfiguration.intermediateCiphers) == 1,
                "cipher list \(TLSConfiguration.intermediateCiphers)")
            // DHE suites use the RFC 7919 group sized to the certificate's key: no parameter file to manage.
            copenssl_ctx_set_dh_auto(pointer, 1)
        case .modern:
            try require(copenssl_ctx_set_min_proto_version(pointer, TLS1_3_VERSION) == 1, "minimum version TLS 1.3")
        }
        try require(
            SSL_CTX_set_ciphersuites(pointer, TLSConfiguration.tls13Suites) == 1,
            "TLS 1.3 suites \(TLSConfiguration.tls13Suites)")
        SSL_CTX_set_options(pointer, copenssl_server_options())
        try require(
            copenssl_ctx_set1_groups_list(pointer, TLSConfiguration.groups) == 1, "groups \(TLSConfiguration.groups)")
        // RELEASE_BUFFERS: an idle session gives back its ~34 KiB of record buffers. PARTIAL_WRITE and
        // MOVING_WRITE_BUFFER: a write retried after want-write may pass the same bytes from a new address.
        copenssl_ctx_set_mode(
            pointer,
            Int(SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // No 0-RTT: early data can be replayed (RFC 8446 §8), and nothing here needs it.
        try require(SSL_CTX_set_max_early_data(pointer, 0) == 1, "max early data 0")

        if configuration.sessionResumption {
            copenssl_ctx_set_session_cache_mode(pointer, Int(SSL_SESS_CACHE_SERVER))
            copenssl_ctx_sess_set_cache_size(pointer, max(configuration.sessionCacheSize, 1))
            SSL_CTX_set_timeout(pointer, max(configuration.sessionLifetimeSeconds, 1))
        } else {
            copenssl_ctx_set_session_cache_mode(pointer, Int(SSL_SESS_CACHE_OFF))
            SSL_CTX_set_options(pointer, copenssl_option_no_ticket())
            // TLS 1.3 sends tickets after the handshake regardless of SSL_OP_NO_TICKET unless told none.
            _ = SSL_CTX_set_num_tickets(pointer, 0)
        }
        // One session-id context for every identity: a session from one SSL_CTX resumes after SNI moves the
        // SSL to another (SSL_set_SSL_CTX copies it).
        let sessionContext: [UInt8] = Array("mywebsite".utf8)
        try require(
            SSL_CTX_set_session_id_context(pointer, sessionContext, UInt32(sessionContext.count)) == 1,
            "session id context")
        // The ring outlives every SSL_CTX here: the TLSContext holds it and each session holds the TLSContext.
        SSL_CTX_set_ex_data(pointer, 0, Unmanaged.passUnretained(ticketKeys).toOpaque())
        copenssl_ctx_set_ticket_key_evp_cb(pointer, ticketKeyCallback)
        SSL_CTX_set_default_passwd_cb(pointer, refusePassword)

        for certificate in certificates {
            let path = certificate.pair.certificateChainPath
            OpenSSLErrorQueue.clear()
            guard SSL_CTX_use_certificate_chain_file(pointer, path) == 1 else {
                throw OpenSSLErrorQueue.error(.certificate, context: "certificate \(path)", fallback: "unreadable")
            }
            guard SSL_CTX_use_PrivateKey(pointer, certificate.key.pointer) == 1,
                SSL_CTX_check_private_key(pointer) == 1
            else {
                throw OpenSSLErrorQueue.error(
                    .keyMismatch, context: "private key \(certificate.pair.privateKeyPath)",
                    fallback: "does not match certificate \(path)")
            }
        }
        return context
    }
}
