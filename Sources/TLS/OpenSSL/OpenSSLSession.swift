internal import COpenSSL
import Reactor

/// Owns one `SSL *` and, through it, its `CiphertextBIO`. Created by `TLSSession`; freed in `deinit`.
///
/// ```
///  ciphertextIn   ReceiveBuffer  bytes from the peer, consumed by the BIO as OpenSSL reads records
///  ciphertextOut  OutboundQueue  records OpenSSL wrote, staged in one pooled block until sent
///  scratch        ReceiveBuffer  plaintext taken from the caller's queue for one record (small chunks
///                                coalesced, file bytes read with pread), kept across a want-write
/// ```
/// Every buffer is a pooled block held only while it has bytes, so an idle session pins none (and
/// SSL_MODE_RELEASE_BUFFERS makes OpenSSL drop its record buffers too).
final class OpenSSLSession {
    /// Keeps the SSL_CTXs and the callbacks' context pointer alive as long as this SSL.
    let context: TLSContext
    private let ssl: OpaquePointer
    let pool: BufferPool
    var ciphertextIn = ReceiveBuffer()
    var ciphertextOut = OutboundQueue()
    var scratch = ReceiveBuffer()
    /// The peer's end of the stream was reached: the BIO reports EOF once `ciphertextIn` is drained.
    private(set) var inputEnded = false
    /// A fatal error happened; OpenSSL forbids SSL_shutdown after one.
    private(set) var hasFailed = false
    /// SSL_do_handshake succeeded (SSL_is_init_finished turns false again after a fatal error).
    private(set) var handshakeFinished = false
    /// Bytes staged into `ciphertextOut`'s block since it was last empty (the block is not reused before).
    private var stagedSinceEmpty = 0
    /// The most plaintext put in one record: two sealed records must fit one pooled block, so a 32 KiB
    /// block carries two records per `write(2)` (16 KiB records would need 32,812 bytes).
    let recordLimit: Int
    /// Room left for a record's header, tag and padding (TLS 1.2 AES-GCM adds 29 bytes, TLS 1.3 22).
    static let recordOverhead = 256

    /// Makes a server session (or, for a client context, a client session sending `serverName` as SNI,
    /// verifying the peer against it, and offering `resuming`).
    init(context: TLSContext, pool: BufferPool, serverName: String? = nil, resuming: TLSSavedSession? = nil) {
        // SSL_new and BIO_new fail only when malloc does, which Swift does not survive either.
        guard let ssl = SSL_new(context.contexts[0].pointer), let bio = BIO_new(CiphertextBIO.method) else {
            preconditionFailure("SSL_new/BIO_new failed: \(OpenSSLErrorQueue.drain())")
        }
        self.context = context
        self.ssl = ssl
        self.pool = pool
        recordLimit = max(1024, min(16384, pool.blockSize / 2 - Self.recordOverhead))
        // Unretained: this session owns the SSL, which owns the BIO; the BIO never outlives us.
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_bio(ssl, bio, bio)  // one reference, given to the SSL for both directions
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName {
                _ = copenssl_set_tlsext_host_name(ssl, serverName)
                _ = SSL_set1_host(ssl, serverName)
            }
            if let resuming { SSL_set_session(ssl, resuming.pointer) }
        }
    }

    deinit {
        releaseBuffers()
        // SSL_free of a session not shut down would drop it from the session cache. TLS 1.1 and later allow
        // resuming after a close without close_notify (RFC 5246 §7.2.1), and most HTTP clients close that
        // way, so mark it shut down, as nginx does; only a session that failed stays unresumable.
        if handshakeFinished && !hasFailed { SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN) }
        SSL_free(ssl)
    }

    /// Gives every pooled block back; pending bytes are dropped.
    func releaseBuffers() {
        ciphertextIn.consume(ciphertextIn.readableCount)
        ciphertextIn.releaseIfEmpty(to: pool)
        scratch.consume(scratch.readableCount)
        scratch.releaseIfEmpty(to: pool)
        ciphertextOut.reset(pool: pool)
        stagedSinceEmpty = 0
    }

    // MARK: - Handshake and shutdown

    /// SSL_do_handshake(3).
    func handshake() -> TLSResult {
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        guard result == 1 else { return outcome(of: result, call: "SSL_do_handshake") }
        handshakeFinished = true
        return .done
    }

    /// True once the handshake finished, even if the session failed later.
    var isHandshakeComplete: Bool { handshakeFinished }

    /// Queues close_notify (SSL_shutdown(3), once; we never wait for the peer's). `.closed` when not allowed:
    /// before the handshake finished, or after a fatal error.
    func shutdown() -> TLSResult {
        guard !hasFailed, handshakeFinished else { return .closed }
        OpenSSLErrorQueue.clear()
        let result = SSL_shutdown(ssl)
        return result >= 0 ? .done : outcome(of: result, call: "SSL_shutdown")
    }

    /// Maps a failed call's SSL_get_error(3) to a result, draining the error queue.
    func outcome(of result: CInt, call: String) -> TLSResult {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            return .closed  // close_notify received
        default:
            hasFailed = true
            let reasons = OpenSSLErrorQueue.drain()
            // The peer's stream ended mid-record or mid-handshake: an unclean close, not worth a log line.
            if inputEnded { return .closed }
            let kind: TLSError.Kind = handshakeFinished ? .protocolViolation : .handshake
            return .failed(TLSError(kind, context: call, reasons: reasons.isEmpty ? ["SSL_ERROR \(code)"] : reasons))
        }
    }

    // MARK: - Ciphertext in and out (called by CiphertextBIO and the owner)

    /// Appends as much ciphertext from the peer as the input block holds; returns how much it took.
    func feed(_ bytes: some Collection<UInt8>) -> Int {
        let before = ciphertextIn.readableCount
        ciphertextIn.append(bytes, pool: pool)
        return ciphertextIn.readableCount - before
    }

    /// Lets `read` fill `ciphertextIn` straight from a transport, without an intermediate copy.
    func receive(_ read: (inout ReceiveBuffer) -> IOOutcome) -> IOOutcome {
        let outcome = read(&ciphertextIn)
        ciphertextIn.releaseIfEmpty(to: pool)
        if outcome == .closed { inputEnded = true }
        return outcome
    }

    /// Drops `ciphertextIn` (a closing stream that no longer reads).
    func discardInput() {
        ciphertextIn.consume(ciphertextIn.readableCount)
        ciphertextIn.releaseIfEmpty(to: pool)
    }

    /// Marks the peer's end of the stream: once `ciphertextIn` is drained, OpenSSL sees EOF.
    func endInput() {
        inputEnded = true
    }

    /// Lets `write` send `ciphertextOut` to a transport.
    func send(_ write: (inout OutboundQueue) -> IOOutcome) -> IOOutcome {
        guard !ciphertextOut.isEmpty else { return .done(0) }
        let outcome = write(&ciphertextOut)
        if ciphertextOut.isEmpty { stagedSinceEmpty = 0 }
        return outcome
    }

    /// Removes and returns all pending ciphertext (tests and in-memory pumping).
    func takeCiphertext() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ciphertextOut.pendingCount)
        ciphertextOut.forEachLeadingBuffer { buffer in
            bytes.append(contentsOf: buffer)
            return true
        }
        ciphertextOut.reset(pool: pool)
        stagedSinceEmpty = 0
        return bytes
    }

    /// The BIO's write: stages as much of `bytes` as the output block holds; 0 means full (want-write).
    func acceptCiphertext(_ bytes: UnsafeRawBufferPointer) -> Int {
        var accepted = 0
        _ = ciphertextOut.stage(reserving: 1, pool: pool) { space in
            accepted = min(space.count, bytes.count)
            // Invariant: `space` is the staging block's free tail, `bytes` OpenSSL's record for this call.
            space.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: accepted)
            return accepted
        }
        stagedSinceEmpty += accepted
        return accepted
    }

    /// The BIO's read: moves up to `destination.count` bytes of `ciphertextIn` to OpenSSL.
    func provideCiphertext(_ destination: UnsafeMutableRawBufferPointer) -> Int {
        guard !ciphertextIn.isEmpty else { return 0 }
        let count = ciphertextIn.withReadableSpan { span in
            span.withUnsafeBytes { source in
                let count = min(source.count, destination.count)
                // Invariant: both regions are valid for `count` bytes during this call and never overlap.
                destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
                return count
            }
        }
        ciphertextIn.consume(count)
        ciphertextIn.releaseIfEmpty(to: pool)
        return count
    }

    /// True when another full record fits in the output block before it must be sent.
    var hasRoomForRecord: Bool {
        ciphertextOut.isEmpty || pool.blockSize - stagedSinceEmpty >= recordLimit + Self.recordOverhead
    }

    // MARK: - Plaintext

    /// SSL_read(3) into `buffer`'s free space, once (at most one record's plaintext).
    func read(into buffer: inout ReceiveBuffer) -> TLSResult {
        guard !buffer.isFull else { return .done }
        var result = TLSResult.done
        _ = buffer.fill(from: pool) { space in
            OpenSSLErrorQueue.clear()
            var count = 0
            if SSL_read_ex(ssl, space.baseAddress, space.count, &count) == 1 { return .done(count) }
            result = outcome(of: 0, call: "SSL_read")
            return .wouldBlock
        }
        return result
    }

    /// SSL_write(3) of `bytes` (one record at most); returns how many were taken.
    func write(_ bytes: UnsafeRawBufferPointer) -> (count: Int, result: TLSResult) {
        guard bytes.count > 0 else { return (0, .done) }
        OpenSSLErrorQueue.clear()
        var count = 0
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &count) == 1 { return (count, .done) }
        return (0, outcome(of: 0, call: "SSL_write"))
    }

    // MARK: - What was negotiated

    /// The ALPN protocol selected, if any.
    var applicationProtocol: String? {
        var data: UnsafePointer<UInt8>? = nil
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        // Invariant: OpenSSL owns `length` bytes at `data` for the SSL's lifetime.
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The SNI name the client sent (server side) or that we sent (client side).
    var serverName: String? {
        SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
    }

    /// The protocol version in use, once the handshake has chosen one.
    var protocolVersion: TLSVersion? {
        switch SSL_version(ssl) {
        case TLS1_3_VERSION: .tls13
        case TLS1_2_VERSION: .tls12
        default: nil
        }
    }

    /// The cipher suite's OpenSSL name (`TLS_AES_128_GCM_SHA256`, `ECDHE-ECDSA-AES128-GCM-SHA256`).
    var cipher: String? {
        SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) }
    }

    /// True when the handshake resumed a session (ticket or session id) instead of a full handshake.
    var isResumed: Bool { SSL_session_reused(ssl) == 1 }

    // MARK: - Client side (tests)

    /// The session to resume later; for TLS 1.3, read after the server's tickets have been processed.
    var savedSession: TLSSavedSession? {
        SSL_get1_session(ssl).map(TLSSavedSession.init)
    }

    /// The DNS names of the peer's leaf certificate.
    var peerCertificateNames: [String] {
        guard let certificate = SSL_get0_peer_certificate(ssl) else { return [] }
        return dnsNames(of: certificate)
    }

    /// `ECDSA` or `RSA`: the key type of the peer's leaf certificate.
    var peerCertificateKeyType: String? {
        guard let certificate = SSL_get0_peer_certificate(ssl), let key = X509_get0_pubkey(certificate) else {
            return nil
        }
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_EC: return "ECDSA"
        case EVP_PKEY_RSA: return "RSA"
        default: return "other"
        }
    }
}

/// Owns one `SSL_SESSION *`: a client's resumable session (tests); freed in `deinit`.
package final class TLSSavedSession {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { SSL_SESSION_free(pointer) }
}
