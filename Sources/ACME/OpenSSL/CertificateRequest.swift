internal import COpenSSL

/// A PKCS#10 certificate signing request for `domains` (RFC 2986, RFC 8555 §7.4): subject CN the first name,
/// every name in subjectAltName, signed with the certificate key.
public enum CertificateRequest {
    /// The DER bytes of the request (`finalize` sends them base64url-encoded).
    public static func der(domains: [String], key: ACMEKey) throws(ACMEError) -> [UInt8] {
        ERR_clear_error()
        guard let request = X509_REQ_new() else { throw ACMEError.crypto("X509_REQ_new", "out of memory") }
        defer { X509_REQ_free(request) }
        X509_REQ_set_version(request, 0)  // v1, the only PKCS#10 version
        guard X509_REQ_set_pubkey(request, key.pointer) == 1,
            X509_NAME_add_entry_by_txt(
                X509_REQ_get_subject_name(request), "CN", MBSTRING_UTF8, domains.first ?? "", -1, -1, 0) == 1
        else { throw ACMEError.crypto("X509_REQ subject", drain()) }
        let san = domains.map { "DNS:\($0)" }.joined(separator: ",")
        guard let ext = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, san) else {
            throw ACMEError.crypto("subjectAltName \(san)", drain())
        }
        defer { X509_EXTENSION_free(ext) }
        guard let stack = OPENSSL_sk_new_null() else { throw ACMEError.crypto("OPENSSL_sk_new_null", "out of memory") }
        // The stack borrows `ext` (freed by the defer above); only the stack itself is freed here.
        defer { OPENSSL_sk_free(stack) }
        OPENSSL_sk_push(stack, UnsafeRawPointer(ext))
        guard X509_REQ_add_extensions(request, stack) == 1,
            X509_REQ_sign(request, key.pointer, EVP_sha256()) > 0
        else { throw ACMEError.crypto("X509_REQ_sign", drain()) }
        let length = i2d_X509_REQ(request, nil)
        guard length > 0 else { throw ACMEError.crypto("i2d_X509_REQ", drain()) }
        var der = [UInt8](repeating: 0, count: Int(length))
        // Invariant: i2d writes exactly `length` bytes (measured above) into `der`.
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_X509_REQ(request, &cursor)
        }
        guard written == length else { throw ACMEError.crypto("i2d_X509_REQ", drain()) }
        return der
    }
}
