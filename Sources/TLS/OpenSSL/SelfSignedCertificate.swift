internal import COpenSSL

/// A self-signed ECDSA P-256 certificate made in-process, so direct-TLS can serve on a fresh machine (and in
/// an image with no `openssl` command) before any certificate is configured. Never meant for production:
/// browsers warn, and the server logs where the files are.
public enum SelfSignedCertificate {
    /// A new key and a certificate for `names` (DNS names or IP addresses; the first is the subject CN),
    /// valid `days` days from now, as PEM text.
    public static func generate(names: [String], days: Int = 365) throws(TLSError) -> (
        certificatePEM: String,
        privateKeyPEM: String
    ) {
        OpenSSLErrorQueue.clear()
        guard let key = copenssl_ec_keygen("P-256") else {
            throw OpenSSLErrorQueue.error(.privateKey, context: "EVP_EC_gen", fallback: "key generation failed")
        }
        defer { EVP_PKEY_free(key) }
        guard let cert = X509_new() else {
            throw OpenSSLErrorQueue.error(.certificate, context: "X509_new", fallback: "out of memory")
        }
        defer { X509_free(cert) }
        X509_set_version(cert, 2)  // v3, for the extensions
        var serial = [UInt8](repeating: 0, count: 16)
        _ = RAND_bytes(&serial, Int32(serial.count))
        serial[0] &= 0x7F  // a positive serial (RFC 5280 §4.1.2.2)
        if let bn = BN_bin2bn(serial, Int32(serial.count), nil) {
            BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert))
            BN_free(bn)
        }
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600)  // tolerate a client clock an hour behind
        X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400)
        X509_set_pubkey(cert, key)
        let name = X509_get_subject_name(cert)
        let commonName = names.first ?? "localhost"
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, "mywebsite self-signed", -1, -1, 0)
        X509_set_issuer_name(cert, name)
        let san = names.map {
            $0.contains(":") || $0.allSatisfy({ $0.isNumber || $0 == "." }) ? "IP:\($0)" : "DNS:\($0)"
        }
        .joined(separator: ",")
        for (nid, value) in [
            (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
            (NID_ext_key_usage, "serverAuth"), (NID_subject_alt_name, san),
        ] {
            guard let ext = X509V3_EXT_conf_nid(nil, nil, nid, value) else {
                throw OpenSSLErrorQueue.error(.certificate, context: "X509V3_EXT_conf_nid", fallback: value)
            }
            X509_add_ext(cert, ext, -1)
            X509_EXTENSION_free(ext)
        }
        if X509_sign(cert, key, EVP_sha256()) == 0 {
            throw OpenSSLErrorQueue.error(.certificate, context: "X509_sign", fallback: "signing failed")
        }
        let certificatePEM = try pem { PEM_write_bio_X509($0, cert) }
        let keyPEM = try pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        return (certificatePEM, keyPEM)
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws(TLSError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw OpenSSLErrorQueue.error(.certificate, context: "BIO_new", fallback: "out of memory")
        }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else {
            throw OpenSSLErrorQueue.error(.certificate, context: "PEM_write_bio", fallback: "encoding failed")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = BIO_read(bio, &chunk, Int32(chunk.count))
            if n <= 0 { break }
            bytes += chunk[0..<Int(n)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
