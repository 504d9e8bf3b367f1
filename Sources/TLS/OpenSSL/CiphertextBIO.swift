internal import COpenSSL

/// A BIO type whose reads take from and whose writes append to an `OpenSSLSession`'s ciphertext buffers,
/// so OpenSSL never touches an fd and keeps no buffer of its own here.
///
/// ```
///  peer → transport.read → ciphertextIn (ReceiveBuffer) → bread  → SSL record layer → plaintext
///  plaintext → SSL record layer → bwrite → ciphertextOut (OutboundQueue) → transport.write → peer
/// ```
/// Compared with a pair of BIO_s_mem this saves nothing per byte but keeps no growing BUF_MEM per
/// connection: both buffers are pooled blocks that go back to the loop's pool when empty.
enum CiphertextBIO {
    /// The method table, made once and never freed. Immutable after the one-time global initialisation;
    /// OpenSSL only reads a BIO_METHOD.
    nonisolated(unsafe) static let method: OpaquePointer = {
        // BIO_meth_new fails only on allocation failure, which Swift would not survive either.
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mywebsite ciphertext") else {
            preconditionFailure("BIO_meth_new failed")
        }
        BIO_meth_set_write_ex(method, write)
        BIO_meth_set_read_ex(method, read)
        BIO_meth_set_ctrl(method, control)
        BIO_meth_set_create(method, create)
        return method
    }()

    /// The session a BIO belongs to; set right after BIO_new, before the BIO is given to the SSL.
    private static func session(_ bio: OpaquePointer?) -> OpenSSLSession {
        // Invariant: BIO_set_data was given the session, which owns the SSL that owns this BIO.
        Unmanaged<OpenSSLSession>.fromOpaque(BIO_get_data(bio)!).takeUnretainedValue()
    }

    /// BIO_meth_set_write_ex callback: (bio, data, length, written) -> 1, or 0 with the retry flag set.
    private typealias Write =
        @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<Int>?)
        -> CInt
    /// BIO_meth_set_read_ex callback: (bio, data, length, read) -> 1, or 0 with the retry flag set (or EOF).
    private typealias Read =
        @convention(c) (
            OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>?
        ) -> CInt
    /// Every flag BIO_clear_retry_flags (a macro) clears.
    private static let retryFlags = BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY

    private static let create: @convention(c) (OpaquePointer?) -> CInt = { bio in
        BIO_set_init(bio, 1)
        return 1
    }

    private static let write: Write = { bio, data, length, written in
        BIO_clear_flags(bio, retryFlags)
        guard let data, let written, length > 0 else { return 0 }
        let n = session(bio).acceptCiphertext(UnsafeRawBufferPointer(start: data, count: length))
        if n == 0 {
            // Output buffer full: OpenSSL keeps the record and reports want-write until we flush.
            BIO_set_flags(bio, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY)
            return 0
        }
        written.pointee = n
        return 1
    }

    private static let read: Read = { bio, data, length, readBytes in
        BIO_clear_flags(bio, retryFlags)
        guard let data, let readBytes, length > 0 else { return 0 }
        let session = session(bio)
        let n = session.provideCiphertext(UnsafeMutableRawBufferPointer(start: data, count: length))
        if n > 0 {
            readBytes.pointee = n
            return 1
        }
        // Nothing buffered: either the peer's end (no retry flag: OpenSSL sees EOF) or wait for more.
        if !session.inputEnded { BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY) }
        return 0
    }

    private static let control: @convention(c) (OpaquePointer?, CInt, Int, UnsafeMutableRawPointer?) -> Int = {
        bio, command, _, _ in
        switch command {
        case BIO_CTRL_FLUSH:
            return 1  // nothing is buffered inside the BIO itself
        case BIO_CTRL_EOF:
            let session = session(bio)
            return session.inputEnded && session.ciphertextIn.isEmpty ? 1 : 0
        case BIO_CTRL_PENDING:
            return session(bio).ciphertextIn.readableCount
        case BIO_CTRL_WPENDING:
            return session(bio).ciphertextOut.pendingCount
        default:
            return 0  // unsupported (kTLS, datagram, push/pop): OpenSSL treats 0 as "no"
        }
    }
}
