import Glibc
import Reactor
import TLS
import Testing

@Suite struct TLSRecordTests {
    private func connectedPair(maximumVersion: TLSVersion = .tls13) throws -> (client: TLSSession, server: TLSSession) {
        let server = TLSSession(context: try serverContext())
        let client = TLSSession(
            clientContext: try clientContext(maximumVersion: maximumVersion), serverName: "localhost")
        let (clientResult, serverResult) = handshake(client: client, server: server)
        try #require(clientResult == .done && serverResult == .done)
        _ = readPlaintext(client)  // takes the server's session tickets
        return (client, server)
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func carriesARequestAndAResponse(version: TLSVersion) throws {
        let (client, server) = try connectedPair(maximumVersion: version)
        let request = Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        var queue = OutboundQueue()
        queue.append(Bytes(request))
        #expect(transfer(&queue, from: client, to: server) == request)

        let body = pattern(100_000)
        queue.append(Bytes("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"))
        queue.append(Bytes(body))
        let received = transfer(&queue, from: server, to: client)
        #expect(received == Array("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".utf8) + body)
    }

    @Test func coalescesSmallChunksIntoOneRecord() throws {
        let (client, server) = try connectedPair()
        var queue = OutboundQueue()
        let pool = BufferPool()
        queue.stage(Array("HTTP/1.1 200 OK\r\n".utf8), pool: pool)
        queue.append(Bytes("Content-Type: text/html\r\n\r\n"))
        queue.append(Bytes(pattern(3000)))
        #expect(server.write(&queue) == .done)
        #expect(queue.isEmpty)
        let ciphertext = server.takeCiphertext()
        #expect(records(ciphertext).map(\.type) == [23])
        feedAll(ciphertext, to: client)
        #expect(readPlaintext(client).bytes.count == 17 + 27 + 3000)
        queue.reset(pool: pool)
    }

    @Test func sealsLargeBodiesInRecordsThatPairUpInOneBlock() throws {
        let (client, server) = try connectedPair()
        var queue = OutboundQueue()
        queue.append(Bytes(pattern(64 * 1024)))
        #expect(server.write(&queue) == .done)
        // Two records fill the 32 KiB output block; the rest waits until it is sent.
        let first = server.takeCiphertext()
        #expect(records(first).count == 2)
        #expect(first.count <= 32 * 1024)
        #expect(records(first).allSatisfy { $0.length <= 16 * 1024 + 256 })
        feedAll(first, to: client)
        var received = readPlaintext(client).bytes
        received += transfer(&queue, from: server, to: client)
        #expect(received == pattern(64 * 1024))
    }

    @Test func encryptsFileChunksReadWithPread() throws {
        let (client, server) = try connectedPair()
        let content = pattern(50_000, seed: 9)
        let path = Fixtures.path("body-\(getpid())-\(Int.random(in: 0..<1_000_000)).bin")
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        try #require(fd >= 0)
        #expect(content.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == content.count)
        close(fd)
        defer { unlink(path) }

        let file = try FileDescriptor.open(path)
        var queue = OutboundQueue()
        queue.append(Bytes("HTTP/1.1 200 OK\r\n\r\n"))
        queue.append(file: file, offset: 1000, count: 40_000)
        queue.append(Bytes("trailer"))
        let received = transfer(&queue, from: server, to: client)
        #expect(
            received == Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + Array(content[1000..<41_000]) + Array("trailer".utf8))
    }

    @Test func closeNotifyEndsThePeersReads() throws {
        let (client, server) = try connectedPair()
        #expect(server.shutdown() == .done)
        feedAll(server.takeCiphertext(), to: client)
        #expect(readPlaintext(client).result == .closed)
        #expect(client.shutdown() == .done)
        feedAll(client.takeCiphertext(), to: server)
        #expect(readPlaintext(server).result == .closed)
    }

    @Test func anEndOfStreamWithoutCloseNotifyReadsAsClosed() throws {
        let (client, server) = try connectedPair()
        var queue = OutboundQueue()
        queue.append(Bytes("partial"))
        _ = client.write(&queue)
        let ciphertext = client.takeCiphertext()
        feedAll(ciphertext.prefix(ciphertext.count - 3), to: server)
        server.feedEndOfStream()
        #expect(readPlaintext(server).result == .closed)
    }

    @Test func aTamperedRecordFailsTheSession() throws {
        let (client, server) = try connectedPair()
        var queue = OutboundQueue()
        queue.append(Bytes("hello"))
        _ = client.write(&queue)
        var ciphertext = client.takeCiphertext()
        ciphertext[ciphertext.count - 1] ^= 1
        feedAll(ciphertext, to: server)
        let result = readPlaintext(server).result
        #expect(failure(result)?.kind == .protocolViolation)
        #expect(server.shutdown() == .closed)
    }
}
