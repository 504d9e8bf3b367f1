import Reactor

/// One TLS connection as a bytes-in/bytes-out engine: it never sees an fd.
///
/// Calling order: feed the peer's ciphertext (`feed` or `receiveCiphertext`), call `handshake()` until
/// `.done`, then `read(into:)` and `write(_:)`; after every call send whatever ciphertext is pending
/// (`takeCiphertext` or `sendCiphertext`). `.wantRead` means "feed more, then repeat the call";
/// `.wantWrite` means "send what is pending, then repeat". `shutdown()` queues close_notify.
///
/// Loop-confined like the stream that drives it; not `Sendable`.
public final class TLSSession {
    let engine: OpenSSLSession

    /// Makes a server session from `context`. Its buffers come from `pool`: pass the loop's pool.
    public init(context: TLSContext, pool: BufferPool = BufferPool()) {
        engine = OpenSSLSession(context: context, pool: pool)
    }

    /// Makes a client session (tests): sends `serverName` as SNI and checks the certificate against it,
    /// and offers `resuming` for resumption.
    package init(
        clientContext: TLSContext, serverName: String?, resuming: TLSSavedSession? = nil,
        pool: BufferPool = BufferPool()
    ) {
        engine = OpenSSLSession(context: clientContext, pool: pool, serverName: serverName, resuming: resuming)
    }

    // MARK: - Handshake, plaintext, shutdown

    /// Advances the handshake: `.done` once complete (`.done` again if called after).
    public func handshake() -> TLSResult { engine.handshake() }

    /// True once the handshake finished.
    public var isHandshakeComplete: Bool { engine.isHandshakeComplete }

    /// Decrypts at most one record into `buffer`'s free space. `.done` when bytes were added (or `buffer` is
    /// full); `.closed` on close_notify or the peer's end of stream.
    public func read(into buffer: inout ReceiveBuffer) -> TLSResult { engine.read(into: &buffer) }

    /// Encrypts as much of `queue` as the output buffer holds (records of at most ~16 KiB, small chunks
    /// coalesced, file chunks read with pread), removing what it took. `.done` when something was taken or
    /// nothing was pending; `.wantWrite` when the pending ciphertext must be sent first.
    public func write(_ queue: inout OutboundQueue) -> TLSResult { engine.write(&queue) }

    /// Plaintext taken from a queue but not yet encrypted (it waits for a `.wantWrite` to clear).
    public var hasPendingPlaintext: Bool { !engine.scratch.isEmpty }

    /// Queues close_notify. `.closed` when that is not allowed (handshake unfinished or failed): just close.
    public func shutdown() -> TLSResult { engine.shutdown() }

    // MARK: - Ciphertext

    /// Appends ciphertext received from the peer, as much as the input buffer (one pooled block) holds, and
    /// returns how many bytes it took: feed the rest after `handshake` or `read` has consumed some.
    @discardableResult
    public func feed(ciphertext: some Collection<UInt8>) -> Int { engine.feed(ciphertext) }

    /// Lets `read` put the peer's ciphertext straight into the session's input buffer (a transport's
    /// `read(into:)`); `.closed` marks the end of the peer's stream.
    public func receiveCiphertext(_ read: (inout ReceiveBuffer) -> IOOutcome) -> IOOutcome { engine.receive(read) }

    /// Drops ciphertext received but not yet decrypted (a closing stream that no longer reads).
    func discardReceivedCiphertext() { engine.discardInput() }

    /// Marks the end of the peer's stream: once the buffered ciphertext is consumed, OpenSSL sees EOF.
    public func feedEndOfStream() { engine.endInput() }

    /// True when ciphertext is waiting to be sent.
    public var hasPendingCiphertext: Bool { !engine.ciphertextOut.isEmpty }

    /// Removes and returns the pending ciphertext.
    public func takeCiphertext() -> [UInt8] { engine.takeCiphertext() }

    /// Lets `write` send the pending ciphertext (a transport's `write(_:)`), removing what it sent.
    public func sendCiphertext(_ write: (inout OutboundQueue) -> IOOutcome) -> IOOutcome { engine.send(write) }

    /// Gives every pooled buffer back to the pool, dropping pending bytes (the connection is over).
    public func releaseBuffers() { engine.releaseBuffers() }

    // MARK: - What was negotiated

    /// The ALPN protocol selected (`http/1.1`), or nil when the client offered none.
    public var applicationProtocol: String? { engine.applicationProtocol }
    /// The server name the client asked for (SNI), or nil.
    public var serverName: String? { engine.serverName }
    /// The protocol version, once negotiated.
    public var protocolVersion: TLSVersion? { engine.protocolVersion }
    /// The cipher suite's OpenSSL name.
    public var cipher: String? { engine.cipher }
    /// True when the session was resumed (ticket or session id) rather than fully negotiated.
    public var isResumed: Bool { engine.isResumed }

    // MARK: - Client side (tests)

    /// The session to offer on a later connection. For TLS 1.3, take it after reading past the handshake so
    /// the server's tickets have been processed.
    package var savedSession: TLSSavedSession? { engine.savedSession }
    /// The peer certificate's DNS names.
    package var peerCertificateNames: [String] { engine.peerCertificateNames }
    /// The peer certificate's key type, `ECDSA` or `RSA`.
    package var peerCertificateKeyType: String? { engine.peerCertificateKeyType }
}
