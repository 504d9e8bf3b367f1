import Reactor
import TLS
import Testing

/// A transport in memory: what the peer sent waits in `incoming`, what the stream wrote lands in `outgoing`,
/// and `writeLimit` plays a socket buffer that fills up.
final class MemoryTransport: ByteStream {
    var delegate: (any ByteStreamDelegate)?
    let loop: EventLoop
    let peer = SocketAddress(host: .v4(0x7f00_0001), port: 40_000)
    var isSecure: Bool { false }
    var incoming: [UInt8] = []
    var peerClosed = false
    var outgoing: [UInt8] = []
    var writeLimit = Int.max
    /// When set, a read that empties `incoming` says so through `isReadDrained`, like a socket's short read.
    var vouchesForDrain = false
    private(set) var isReadDrained = false
    private(set) var reads = 0
    private(set) var isClosed = false
    /// `shutdownWrite()` was called (our FIN is out; a lingering close waits for the peer's).
    private(set) var wroteFIN = false

    func shutdownWrite() { wroteFIN = true }

    init(loop: EventLoop) { self.loop = loop }

    func read(into buffer: inout ReceiveBuffer) -> IOOutcome {
        reads += 1
        isReadDrained = false
        if isClosed { return .closed }
        if incoming.isEmpty { return peerClosed ? .closed : .wouldBlock }
        let before = buffer.readableCount
        buffer.append(incoming, pool: loop.pool)
        let count = buffer.readableCount - before
        incoming.removeFirst(count)
        isReadDrained = vouchesForDrain && incoming.isEmpty && !peerClosed
        return .done(count)
    }

    func write(_ queue: inout OutboundQueue) -> IOOutcome {
        if isClosed { return .closed }
        if writeLimit == 0 { return .wouldBlock }
        var taken = 0
        queue.forEachLeadingBuffer { buffer in
            let count = min(buffer.count, writeLimit - taken)
            outgoing += buffer.prefix(count)
            taken += count
            return taken < writeLimit
        }
        if writeLimit != .max { writeLimit -= taken }
        queue.advance(by: taken, pool: loop.pool)
        return .done(taken)
    }

    func close() {
        isClosed = true
        delegate = nil
    }
}

/// Counts the stream's callbacks; reads everything on `streamReadable`.
final class RecordingDelegate: ByteStreamDelegate {
    weak var stream: TLSStream?
    var readableCalls = 0
    var writableCalls = 0
    var hangUps = 0
    var received: [UInt8] = []
    var lastRead: IOOutcome?

    func streamReadable() {
        readableCalls += 1
        guard let stream else { return }
        var buffer = ReceiveBuffer()
        while true {
            let outcome = stream.read(into: &buffer)
            lastRead = outcome
            guard case .done = outcome else { break }
        }
        buffer.withReadableSpan { span in
            for index in span.indices { received.append(span[index]) }
        }
        buffer.consume(buffer.readableCount)
        buffer.releaseIfEmpty(to: stream.loop.pool)
    }

    func streamWritable() { writableCalls += 1 }
    func streamHungUp() { hangUps += 1 }
}

@Suite struct TLSStreamTests {
    let loop: EventLoop
    let transport: MemoryTransport
    let delegate = RecordingDelegate()

    init() throws {
        loop = try EventLoop(id: 0, logger: .init(label: "TLSStreamTests"))
        transport = MemoryTransport(loop: loop)
    }

    private func makeStream(timeout: Duration = .seconds(10)) throws -> TLSStream {
        let stream = TLSStream(transport: transport, context: try serverContext(), handshakeTimeout: timeout)
        stream.delegate = delegate
        delegate.stream = stream
        return stream
    }

    /// Moves bytes until quiet: the client's to the transport (a readable edge), the stream's to the client.
    private func pump(_ client: TLSSession, _ stream: TLSStream) {
        for _ in 0..<20 {
            if !client.isHandshakeComplete { _ = client.handshake() }
            var moved = false
            if client.hasPendingCiphertext {
                transport.incoming += client.takeCiphertext()
                stream.streamReadable()
                moved = true
            }
            if !transport.outgoing.isEmpty {
                feedAll(transport.outgoing, to: client)
                transport.outgoing = []
                moved = true
            }
            if !moved && client.isHandshakeComplete { return }
        }
    }

    private func connectedClient(_ stream: TLSStream) throws -> TLSSession {
        let client = TLSSession(clientContext: try clientContext(), serverName: "localhost", pool: loop.pool)
        stream.streamWritable()  // the first EPOLLOUT edge: nothing to do yet
        pump(client, stream)
        try #require(client.isHandshakeComplete)
        _ = readPlaintext(client)
        return client
    }

    @Test func servesPlaintextOnlyAfterTheHandshake() throws {
        let stream = try makeStream()
        #expect(stream.isSecure)
        var buffer = ReceiveBuffer()
        #expect(stream.read(into: &buffer) == .wouldBlock)
        let client = try connectedClient(stream)
        #expect(delegate.readableCalls == 1)  // once, when the handshake completed
        #expect(stream.session?.applicationProtocol == "http/1.1")

        var request = OutboundQueue()
        request.append(Bytes("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
        #expect(client.write(&request) == .done)
        pump(client, stream)
        #expect(delegate.received == Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        #expect(delegate.lastRead == .wouldBlock)

        var response = OutboundQueue()
        response.append(Bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"))
        response.append(Bytes("hello"))
        #expect(stream.write(&response) == .done(43))
        feedAll(transport.outgoing, to: client)
        transport.outgoing = []
        #expect(readPlaintext(client).bytes == Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8))

        stream.close()
        // Lingering close: close_notify and FIN are out, the transport stays open until the peer's FIN.
        #expect(transport.wroteFIN)
        #expect(!transport.isClosed)
        feedAll(transport.outgoing, to: client)
        #expect(readPlaintext(client).result == .closed)  // close_notify arrived
        transport.peerClosed = true
        stream.streamReadable()
        #expect(transport.isClosed)
    }

    @Test func plaintextHTTPClosesThatConnectionAndHangsUpTheDelegate() throws {
        let stream = try makeStream()
        transport.incoming = Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        stream.streamReadable()
        #expect(transport.isClosed)
        #expect(delegate.hangUps == 1)
        #expect(delegate.readableCalls == 0)
        var buffer = ReceiveBuffer()
        #expect(stream.read(into: &buffer) == .closed)
        #expect(stream.session == nil)
    }

    @Test func aClientLeavingBeforeTheHandshakeHangsUp() throws {
        let stream = try makeStream()
        transport.peerClosed = true
        stream.streamReadable()
        #expect(transport.isClosed)
        #expect(delegate.hangUps == 1)
    }

    /// Runs the loop for about `milliseconds`. The stop deadline sits on a 250 ms boundary: the wheel files an
    /// entry under the tick its deadline falls in and may visit that tick before the deadline, leaving an
    /// unaligned entry for a whole turn (256 s) — see the TLS report; aligned deadlines fire either way.
    private func run(forAbout milliseconds: Int64) {
        let deadline = (loop.now + milliseconds + 249) / 250 * 250
        loop.schedule(afterMilliseconds: deadline - loop.now) { [loop] in loop.handle.stop() }
        loop.run()
    }

    @Test func theHandshakeTimesOut() throws {
        // 1 ms after the loop's clock reading: already past when the loop starts, so it fires at the first tick.
        let stream = try makeStream(timeout: .milliseconds(1))
        run(forAbout: 500)
        #expect(transport.isClosed)
        #expect(delegate.hangUps == 1)
        withExtendedLifetime(stream) {}
    }

    @Test func aCompletedHandshakeOutlivesItsDeadline() throws {
        let stream = try makeStream(timeout: .milliseconds(1))
        _ = try connectedClient(stream)
        run(forAbout: 500)
        #expect(!transport.isClosed)
        #expect(delegate.hangUps == 0)
        stream.close()
    }

    @Test func aPeerClosingWithoutCloseNotifyReadsAsClosed() throws {
        let stream = try makeStream()
        _ = try connectedClient(stream)
        transport.peerClosed = true
        stream.streamReadable()
        #expect(delegate.lastRead == .closed)
    }

    @Test func writesWaitForTheTransportAndResumeOnWritable() throws {
        let stream = try makeStream()
        let client = try connectedClient(stream)
        let body = pattern(200_000, seed: 5)
        var queue = OutboundQueue()
        queue.append(Bytes(body))
        var received: [UInt8] = []
        for _ in 0..<1000 where !queue.isEmpty || received.count < body.count {
            transport.writeLimit = 7000
            _ = stream.write(&queue)
            feedAll(transport.outgoing, to: client)
            transport.outgoing = []
            received += readPlaintext(client).bytes
            stream.streamWritable()  // the socket drained
        }
        #expect(received == body)
        #expect(delegate.writableCalls > 0)
    }

    @Test func closeSendsEverythingTakenBeforeClosingTheTransport() throws {
        let stream = try makeStream()
        let client = try connectedClient(stream)
        let body = pattern(100_000, seed: 2)
        var queue = OutboundQueue()
        queue.append(Bytes(body))
        transport.writeLimit = 1000
        _ = stream.write(&queue)
        let taken = body.count - queue.pendingCount
        #expect(taken > 0)
        stream.close()
        #expect(!transport.isClosed)  // still sending what it took

        var received: [UInt8] = []
        var result = TLSResult.done
        for _ in 0..<100 where !transport.wroteFIN {
            transport.writeLimit = 5000
            stream.streamWritable()
            feedAll(transport.outgoing, to: client)
            transport.outgoing = []
            let read = readPlaintext(client)
            received += read.bytes
            result = read.result
        }
        #expect(transport.wroteFIN)
        #expect(received == Array(body.prefix(taken)))
        #expect(result == .closed)
        transport.peerClosed = true
        stream.streamReadable()
        #expect(transport.isClosed)  // the peer's FIN ends the lingering close
    }

    @Test func aDrainedTransportSparesTheReadThatWouldBlock() throws {
        transport.vouchesForDrain = true
        let stream = try makeStream()
        let client = try connectedClient(stream)
        delegate.stream = nil  // read by hand below
        var request = OutboundQueue()
        request.append(Bytes("GET / HTTP/1.1\r\n\r\n"))
        _ = client.write(&request)
        transport.incoming += client.takeCiphertext()
        stream.streamReadable()
        let readsBefore = transport.reads
        var buffer = ReceiveBuffer()
        #expect(stream.read(into: &buffer) == .done(18))
        #expect(stream.isReadDrained)
        #expect(stream.read(into: &buffer) == .wouldBlock)
        #expect(transport.reads == readsBefore + 1)
        buffer.consume(buffer.readableCount)
        buffer.releaseIfEmpty(to: loop.pool)
    }
}
