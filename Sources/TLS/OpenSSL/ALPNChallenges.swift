internal import COpenSSL
import Reactor

/// The TLS-ALPN-01 challenges in progress (RFC 8737): domain → an `SSL_CTX` serving that domain's challenge
/// certificate and selecting ALPN `acme-tls/1`. Written by the ACME thread; read by the client-hello
/// callback on any loop thread, which moves a connection offering `acme-tls/1` for such a name onto it.
public final class ALPNChallenges: Sendable {
    private let contexts = Locked<[String: ChallengeContext]>([:])

    public init() {}

    /// Starts answering `domain`: a self-signed certificate for it with the critical acmeIdentifier
    /// extension holding SHA-256 of the key authorization (RFC 8737 §3).
    public func add(domain: String, keyAuthorizationDigest digest: [UInt8]) throws(TLSError) {
        let context = try ChallengeContext(domain: domain.lowercased(), digest: digest)
        contexts.withLock { $0[domain.lowercased()] = context }
    }

    /// Stops answering `domain`.
    public func remove(domain: String) { _ = contexts.withLock { $0.removeValue(forKey: domain.lowercased()) } }

    /// The `SSL_CTX` for `name`, if a challenge for it is pending.
    func context(forServerName name: String) -> OpaquePointer? {
        contexts.withLock { $0[name.lowercased()]?.context.pointer }
    }
}

/// One challenge's `SSL_CTX`. The SSL moved onto it holds its own reference (SSL_set_SSL_CTX), so removing
/// the challenge mid-handshake is safe.
private final class ChallengeContext: @unchecked Sendable {
    // Thread-safety: set in init, never changed; OpenSSL's SSL_CTX is shareable once configured.
    let context: OwnedSSLContext

    init(domain: String, digest: [UInt8]) throws(TLSError) {
        guard digest.count == 32 else {
            throw TLSError(.configuration, context: "acme-tls/1 \(domain)", reasons: ["digest is not SHA-256"])
        }
        OpenSSLErrorQueue.clear()
        guard let key = copenssl_ec_keygen("P-256"), let cert = X509_new() else {
            throw OpenSSLErrorQueue.error(.certificate, context: "acme-tls/1 key", fallback: "out of memory")
        }
        defer {
            EVP_PKEY_free(key)
            X509_free(cert)
        }
        X509_set_version(cert, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1)
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600)
        X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 86400)
        X509_set_pubkey(cert, key)
        let name = X509_get_subject_name(cert)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, domain, -1, -1, 0)
        X509_set_issuer_name(cert, name)
        guard let san = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, "DNS:\(domain)") else {
            throw OpenSSLErrorQueue.error(.certificate, context: "acme-tls/1 SAN \(domain)", fallback: "refused")
        }
        X509_add_ext(cert, san, -1)
        X509_EXTENSION_free(san)
        // RFC 8737 §3: id-pe-acmeIdentifier, critical, its value the DER of OCTET STRING (SHA-256 digest).
        let value = [0x04, 0x20] + digest
        guard let object = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1), let octets = ASN1_OCTET_STRING_new() else {
            throw OpenSSLErrorQueue.error(.certificate, context: "acmeIdentifier", fallback: "out of memory")
        }
        defer {
            ASN1_OBJECT_free(object)
            ASN1_OCTET_STRING_free(octets)
        }
        ASN1_OCTET_STRING_set(octets, value, CInt(value.count))
        guard let identifier = X509_EXTENSION_create_by_OBJ(nil, object, 1, octets) else {
            throw OpenSSLErrorQueue.error(.certificate, context: "acmeIdentifier", fallback: "refused")
        }
        X509_add_ext(cert, identifier, -1)
        X509_EXTENSION_free(identifier)
        guard X509_sign(cert, key, EVP_sha256()) != 0, let pointer = SSL_CTX_new(TLS_server_method()) else {
            throw OpenSSLErrorQueue.error(.certificate, context: "acme-tls/1 certificate", fallback: "signing failed")
        }
        context = OwnedSSLContext(pointer)
        guard copenssl_ctx_set_min_proto_version(pointer, TLS1_2_VERSION) == 1,
            SSL_CTX_use_certificate(pointer, cert) == 1, SSL_CTX_use_PrivateKey(pointer, key) == 1
        else {
            throw OpenSSLErrorQueue.error(.certificate, context: "acme-tls/1 context", fallback: "refused")
        }
        SSL_CTX_set_alpn_select_cb(pointer, acmeALPNSelect, nil)
    }
}

/// ALPN on a challenge context: only `acme-tls/1` (RFC 8737 §4: the server must negotiate it).
private let acmeALPNSelect:
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
    ) -> CInt = { _, out, outLength, offered, offeredLength, _ in
        guard let out, let outLength, let offered,
            ClientHello.protocols(UnsafeBufferPointer(start: offered, count: Int(offeredLength))).contains("acme-tls/1")
        else { return SSL_TLSEXT_ERR_ALERT_FATAL }
        // Invariant: `acmeChallengeWire` is a global that lives as long as the process.
        out.pointee = acmeChallengeWire.baseAddress.map { UnsafePointer($0 + 1) }
        outLength.pointee = 10
        return SSL_TLSEXT_ERR_OK
    }

/// `acme-tls/1` in ALPN wire form, in stable storage for the selected protocol name (OpenSSL keeps pointing at it after the callback).
nonisolated(unsafe) private let acmeChallengeWire: UnsafeMutableBufferPointer<UInt8> = {
    let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 11)
    _ = buffer.initialize(from: [10] + Array("acme-tls/1".utf8))
    return buffer
}()

/// Reads the raw ClientHello extensions the client-hello callback sees.
enum ClientHello {
    /// The names in an ALPN protocol list (RFC 7301 §3.1 wire form, without the 2-byte list length).
    static func protocols(_ list: UnsafeBufferPointer<UInt8>) -> [String] {
        var names: [String] = []
        var index = 0
        while index < list.count {
            let length = Int(list[index])
            guard length > 0, index + 1 + length <= list.count else { break }
            names.append(String(decoding: list[(index + 1)..<(index + 1 + length)], as: UTF8.self))
            index += 1 + length
        }
        return names
    }

    /// The host name of a server_name extension body (RFC 6066 §3), if it holds one.
    static func serverName(_ body: UnsafeBufferPointer<UInt8>) -> String? {
        // list length (2) | name type (1) = 0 | name length (2) | name
        guard body.count >= 5, body[2] == 0 else { return nil }
        let length = Int(body[3]) << 8 | Int(body[4])
        guard 5 + length <= body.count else { return nil }
        return String(decoding: body[5..<(5 + length)], as: UTF8.self)
    }
}

/// The client-hello callback of a context with challenges: a connection that offers `acme-tls/1` for a
/// name with a pending challenge moves to that challenge's SSL_CTX before anything else is chosen.
let acmeClientHelloCallback:
    @convention(c) (OpaquePointer?, UnsafeMutablePointer<CInt>?, UnsafeMutableRawPointer?) -> CInt = {
        ssl, _, argument in
        guard let ssl, let argument else { return SSL_CLIENT_HELLO_SUCCESS }
        let challenges = Unmanaged<TLSContext>.fromOpaque(argument).takeUnretainedValue().challenges
        var alpn: UnsafePointer<UInt8>?
        var alpnLength = 0
        var sni: UnsafePointer<UInt8>?
        var sniLength = 0
        guard let challenges,
            SSL_client_hello_get0_ext(
                ssl, UInt32(TLSEXT_TYPE_application_layer_protocol_negotiation), &alpn, &alpnLength)
                == 1, let alpn, alpnLength > 2,
            SSL_client_hello_get0_ext(ssl, UInt32(TLSEXT_TYPE_server_name), &sni, &sniLength) == 1, let sni
        else { return SSL_CLIENT_HELLO_SUCCESS }
        // Invariant: OpenSSL's extension pointers stay valid for the duration of this callback.
        let offered = ClientHello.protocols(UnsafeBufferPointer(start: alpn + 2, count: alpnLength - 2))
        guard offered.contains("acme-tls/1"),
            let name = ClientHello.serverName(UnsafeBufferPointer(start: sni, count: sniLength)),
            let context = challenges.context(forServerName: name)
        else { return SSL_CLIENT_HELLO_SUCCESS }
        SSL_set_SSL_CTX(ssl, context)
        // The challenge context has no ticket keys: no tickets on this one-shot connection.
        SSL_set_options(ssl, copenssl_option_no_ticket())
        _ = SSL_set_num_tickets(ssl, 0)
        return SSL_CLIENT_HELLO_SUCCESS
    }
