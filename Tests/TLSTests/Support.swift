import Glibc
import Reactor
import TLS

/// Certificates made by Tests/Fixtures/make-certs.sh, once per test process, in a directory removed when the
/// process exits.
enum Fixtures {
    static let directory: String = {
        let directory = "/tmp/mywebsite-tls-tests.\(getpid())"
        let testFile = "\(#filePath)"
        let tests = testFile.split(separator: "/", omittingEmptySubsequences: false).dropLast(2)
        let script = tests.joined(separator: "/") + "/Fixtures/make-certs.sh"
        let status = system("'\(script)' '\(directory)'")
        precondition(status == 0, "\(script) failed with status \(status)")
        atexit { _ = system("rm -rf '\(Fixtures.directory)'") }
        return directory
    }()

    /// The path of fixture file `name` (`ca.pem`, `ecdsa.key`, ...).
    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// The chain and key named `name` (`ecdsa` → ecdsa.pem, ecdsa.key).
    static func pair(_ name: String) -> TLSConfiguration.CertificateKeyPair {
        .init(certificateChainPath: path("\(name).pem"), privateKeyPath: path("\(name).key"))
    }
}

/// A server context serving the fixture pairs `names`.
func serverContext(
    _ names: [String] = ["ecdsa"], profile: TLSConfiguration.Profile = .intermediate,
    applicationProtocols: [String] = ["http/1.1"], ticketKeys: TicketKeyRing = TicketKeyRing()
) throws -> TLSContext {
    let configuration = TLSConfiguration(
        certificates: names.map(Fixtures.pair), profile: profile, applicationProtocols: applicationProtocols)
    return try TLSContext(configuration: configuration, ticketKeys: ticketKeys)
}

/// A client context that trusts the fixture CA.
func clientContext(
    applicationProtocols: [String] = ["http/1.1"], minimumVersion: TLSVersion = .tls12,
    maximumVersion: TLSVersion = .tls13, ciphers: String? = nil, signatureAlgorithms: String? = nil,
    verifying: Bool = true
) throws -> TLSContext {
    try TLSContext(
        clientTrusting: verifying ? Fixtures.path("ca.pem") : nil, applicationProtocols: applicationProtocols,
        minimumVersion: minimumVersion, maximumVersion: maximumVersion, ciphers: ciphers,
        signatureAlgorithms: signatureAlgorithms)
}

/// Moves ciphertext between two sessions until neither has any pending (each flight fits the input block).
func exchange(_ a: TLSSession, _ b: TLSSession) {
    while a.hasPendingCiphertext || b.hasPendingCiphertext {
        if a.hasPendingCiphertext { feedAll(a.takeCiphertext(), to: b) }
        if b.hasPendingCiphertext { feedAll(b.takeCiphertext(), to: a) }
    }
}

/// Feeds `bytes` to `session`, checking none is left over.
func feedAll(_ bytes: some Collection<UInt8>, to session: TLSSession) {
    let taken = session.feed(ciphertext: bytes)
    precondition(taken == bytes.count, "fed \(taken) of \(bytes.count) bytes")
}

/// Steps both handshakes until both are done or one side stops; returns each side's last result.
@discardableResult
func handshake(client: TLSSession, server: TLSSession) -> (client: TLSResult, server: TLSResult) {
    var clientResult = TLSResult.wantRead
    var serverResult = TLSResult.wantRead
    for _ in 0..<10 {
        if clientResult != .done { clientResult = client.handshake() }
        exchange(client, server)
        if serverResult != .done { serverResult = server.handshake() }
        exchange(client, server)
        if clientResult == .done && serverResult == .done { break }
        if isFinal(clientResult) || isFinal(serverResult) { break }
    }
    return (clientResult, serverResult)
}

/// True for `.closed` and `.failed`.
func isFinal(_ result: TLSResult) -> Bool {
    switch result {
    case .closed, .failed: true
    case .done, .wantRead, .wantWrite: false
    }
}

/// The error of a `.failed` result.
func failure(_ result: TLSResult) -> TLSError? {
    if case .failed(let error) = result { return error }
    return nil
}

/// Reads every plaintext byte `session` can produce now; returns them and the result that stopped it.
func readPlaintext(_ session: TLSSession) -> (bytes: [UInt8], result: TLSResult) {
    var bytes: [UInt8] = []
    while true {
        var buffer = ReceiveBuffer()
        var result = TLSResult.done
        while result == .done && !buffer.isFull { result = session.read(into: &buffer) }
        buffer.withReadableSpan { span in
            for index in span.indices { bytes.append(span[index]) }
        }
        if result != .done { return (bytes, result) }
    }
}

/// Writes `queue` through `sender` and reads it on `receiver`, moving ciphertext as needed.
func transfer(_ queue: inout OutboundQueue, from sender: TLSSession, to receiver: TLSSession) -> [UInt8] {
    var received: [UInt8] = []
    repeat {
        let result = sender.write(&queue)
        precondition(result == .done || result == .wantWrite, "write: \(result)")
        feedAll(sender.takeCiphertext(), to: receiver)
        received += readPlaintext(receiver).bytes
    } while !queue.isEmpty || sender.hasPendingPlaintext
    return received
}

/// The TLS records in `bytes`: content type and length of each (RFC 8446 §5.1).
func records(_ bytes: [UInt8]) -> [(type: UInt8, length: Int)] {
    var result: [(type: UInt8, length: Int)] = []
    var index = 0
    while index + 5 <= bytes.count {
        let length = Int(bytes[index + 3]) << 8 | Int(bytes[index + 4])
        result.append((bytes[index], length))
        index += 5 + length
    }
    return result
}

/// Deterministic test bytes.
func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed &* 7) ^ ($0 >> 8)) }
}
