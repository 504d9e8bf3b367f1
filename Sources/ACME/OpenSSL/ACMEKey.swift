internal import COpenSSL
import Glibc

/// An ECDSA P-256 private key: the ACME account key (signs JWS with ES256, RFC 7518 §3.4) or a certificate
/// key (goes into the CSR). Owns one `EVP_PKEY *`, freed in `deinit`.
public final class ACMEKey: @unchecked Sendable {
    // Thread-safety: the key is never changed after init; OpenSSL allows concurrent use of a const EVP_PKEY.
    let pointer: OpaquePointer

    private init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    /// A fresh P-256 key.
    public static func generate() throws(ACMEError) -> ACMEKey {
        ERR_clear_error()
        guard let key = copenssl_ec_keygen("P-256") else { throw ACMEError.crypto("EVP_EC_gen P-256", drain()) }
        return ACMEKey(key)
    }

    /// Reads a PEM private key; it must be P-256.
    public init(pem: String) throws(ACMEError) {
        ERR_clear_error()
        let bytes = Array(pem.utf8)
        // Invariant: the memory BIO only reads `bytes` while it exists, inside this closure.
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, CInt(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw ACMEError.crypto("PEM_read_bio_PrivateKey", drain()) }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_EC, EVP_PKEY_get_bits(key) == 256 else {
            EVP_PKEY_free(key)
            throw ACMEError.crypto("account key", "not an ECDSA P-256 key")
        }
        pointer = key
    }

    /// The key as unencrypted PKCS#8 PEM.
    public func pem() throws(ACMEError) -> String {
        try writePEM { PEM_write_bio_PrivateKey($0, pointer, nil, nil, 0, nil, nil) }
    }

    /// The public point's X and Y coordinates, 32 bytes each (from the uncompressed point 04 || X || Y).
    func publicCoordinates() throws(ACMEError) -> (x: [UInt8], y: [UInt8]) {
        var point = [UInt8](repeating: 0, count: 65)
        var length = 0
        // "pub" is OSSL_PKEY_PARAM_PUB_KEY: the encoded public point, uncompressed for keys EVP_EC_gen makes.
        guard EVP_PKEY_get_octet_string_param(pointer, "pub", &point, point.count, &length) == 1, length == 65,
            point[0] == 4
        else {
            throw ACMEError.crypto("EVP_PKEY_get_octet_string_param pub", drain())
        }
        return (Array(point[1..<33]), Array(point[33..<65]))
    }

    /// The public key as a JWK (RFC 7517), members in RFC 7638 §3.2 order so `text` is the thumbprint input.
    public func jwk() throws(ACMEError) -> JSON {
        let (x, y) = try publicCoordinates()
        return .object([
            ("crv", .string("P-256")), ("kty", .string("EC")), ("x", .string(Base64URL.encode(x))),
            ("y", .string(Base64URL.encode(y))),
        ])
    }

    /// base64url(SHA-256(JWK)), the RFC 7638 thumbprint that ends every key authorization (RFC 8555 §8.1).
    public func thumbprint() throws(ACMEError) -> String {
        Base64URL.encode(Digest.sha256(Array(try jwk().text.utf8)))
    }

    /// ES256 over `message`: the 64-byte R || S form JWS wants (RFC 7518 §3.4), not OpenSSL's DER.
    public func signES256(_ message: [UInt8]) throws(ACMEError) -> [UInt8] {
        ERR_clear_error()
        guard let context = EVP_MD_CTX_new() else { throw ACMEError.crypto("EVP_MD_CTX_new", "out of memory") }
        defer { EVP_MD_CTX_free(context) }
        var der = [UInt8](repeating: 0, count: 80)
        var derLength = der.count
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pointer) == 1,
            EVP_DigestSign(context, &der, &derLength, message, message.count) == 1
        else { throw ACMEError.crypto("EVP_DigestSign", drain()) }
        // Invariant: d2i reads at most derLength bytes of `der`, inside this closure.
        let signature: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, derLength)
        }
        guard let signature else { throw ACMEError.crypto("d2i_ECDSA_SIG", drain()) }
        defer { ECDSA_SIG_free(signature) }
        var out = [UInt8](repeating: 0, count: 64)
        // Invariant: each half is 32 bytes of `out`; BN_bn2binpad writes exactly that many, left-padded.
        let ok = out.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(ECDSA_SIG_get0_r(signature), buffer.baseAddress, 32) == 32
                && BN_bn2binpad(ECDSA_SIG_get0_s(signature), buffer.baseAddress! + 32, 32) == 32
        }
        guard ok else { throw ACMEError.crypto("BN_bn2binpad", "signature does not fit P-256") }
        return out
    }
}

/// Hashes through OpenSSL's EVP.
public enum Digest {
    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        // SHA-256 through EVP cannot fail short of memory exhaustion, which OpenSSL reports by aborting.
        _ = EVP_Digest(bytes, bytes.count, &out, &length, EVP_sha256(), nil)
        return out
    }
}

/// OpenSSL's queued reasons, oldest first, joined; clears the queue.
func drain() -> String {
    var reasons: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return reasons.isEmpty ? "no reason given" : reasons.joined(separator: "; ")
}

/// Runs `write` on a memory BIO and returns what it wrote.
func writePEM(_ write: (OpaquePointer) -> CInt) throws(ACMEError) -> String {
    ERR_clear_error()
    guard let bio = BIO_new(BIO_s_mem()) else { throw ACMEError.crypto("BIO_new", "out of memory") }
    defer { BIO_free(bio) }
    guard write(bio) == 1 else { throw ACMEError.crypto("PEM_write_bio", drain()) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = BIO_read(bio, &chunk, CInt(chunk.count))
        if n <= 0 { break }
        bytes += chunk[0..<Int(n)]
    }
    return String(decoding: bytes, as: UTF8.self)
}
