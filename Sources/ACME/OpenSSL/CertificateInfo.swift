internal import COpenSSL
import Glibc

/// What renewal needs to know of a certificate chain's leaf: its validity window and serial.
public struct CertificateInfo: Equatable, Sendable {
    /// Seconds since the epoch.
    public let notBefore: Int64
    /// Seconds since the epoch.
    public let notAfter: Int64
    /// Upper-case hexadecimal, as `openssl x509 -serial` prints it.
    public let serial: String
    /// Lower-cased DNS names of subjectAltName.
    public let names: [String]
    /// The keyIdentifier of the authorityKeyIdentifier extension; empty when there is none.
    public let authorityKeyIdentifier: [UInt8]

    /// The certificate's ARI identifier (RFC 9773 §4.1): base64url of the authority key identifier, a dot,
    /// base64url of the serial's DER content octets. nil without an authority key identifier.
    public var renewalInfoIdentifier: String? {
        guard !authorityKeyIdentifier.isEmpty, !serial.isEmpty else { return nil }
        let hex = Array((serial.count % 2 == 1 ? "0" + serial : serial).utf8)
        var octets: [UInt8] = []
        var index = 0
        while index + 1 < hex.count {
            guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            octets.append(byte)
            index += 2
        }
        // A positive INTEGER whose first octet has its high bit set is written with a leading zero.
        if let first = octets.first, first >= 0x80 { octets.insert(0, at: 0) }
        return Base64URL.encode(authorityKeyIdentifier) + "." + Base64URL.encode(octets)
    }

    /// Reads the first certificate of a PEM chain.
    public init(pem: String) throws(ACMEError) {
        ERR_clear_error()
        let bytes = Array(pem.utf8)
        // Invariant: the memory BIO only reads `bytes` while it exists, inside this closure.
        let parsed: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, CInt(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let certificate = parsed else { throw ACMEError.crypto("PEM_read_bio_X509", drain()) }
        defer { X509_free(certificate) }
        guard let start = Self.seconds(X509_get0_notBefore(certificate)),
            let end = Self.seconds(X509_get0_notAfter(certificate))
        else { throw ACMEError.crypto("certificate validity", "unreadable time") }
        notBefore = start
        notAfter = end
        var hex = ""
        if let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nil) {
            if let text = BN_bn2hex(bn) {
                hex = String(cString: text)
                CRYPTO_free(text, #file, #line)
            }
            BN_free(bn)
        }
        serial = hex
        var found: [String] = []
        if let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) {
            let list = OpaquePointer(raw)
            defer { GENERAL_NAMES_free(list) }
            for index in 0..<OPENSSL_sk_num(list) {
                // Invariant: a GENERAL_NAMES stack holds GENERAL_NAME pointers (X509V3_EXT_d2i of subjectAltName).
                guard let entry = OPENSSL_sk_value(list, index)?.assumingMemoryBound(to: GENERAL_NAME.self),
                    entry.pointee.type == GEN_DNS, let value = entry.pointee.d.dNSName,
                    let data = ASN1_STRING_get0_data(value)
                else { continue }
                // Invariant: ASN1_STRING_get0_data points at ASN1_STRING_length bytes owned by the certificate.
                let name = String(
                    decoding: UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(value))), as: UTF8.self)
                found.append(name.lowercased())
            }
        }
        names = found.sorted()
        var keyIdentifier: [UInt8] = []
        // Invariant: the octet string belongs to the certificate, read before X509_free.
        if let aki = X509_get0_authority_key_id(certificate), let data = ASN1_STRING_get0_data(aki) {
            keyIdentifier = Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(aki))))
        }
        authorityKeyIdentifier = keyIdentifier
    }

    private static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Int64(timegm(&parts))
    }
}
