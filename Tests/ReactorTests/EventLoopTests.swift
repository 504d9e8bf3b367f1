import Glibc
import Logging
import Reactor
import Synchronization
import Testing

/// Collects what a stream delivers; stops the loop when `expected` bytes arrived.
final class Collector: ByteStreamDelegate {
    let stream: SocketStream
    var received: [UInt8] = []
    var buffer = ReceiveBuffer()
    var hungUp = false
    let expected: Int

    init(stream: SocketStream, expected: Int) {
        self.stream = stream
        self.expected = expected
    }

    func streamReadable() {
        while true {
            switch stream.read(into: &buffer) {
            case .done:
                buffer.withReadableSpan { span in for i in span.indices { received.append(span[i]) } }
                buffer.consume(buffer.readableCount)
            case .wouldBlock:
                buffer.releaseIfEmpty(to: stream.loop.pool)
                if received.count >= expected { stream.loop.handle.stop() }
                return
            case .closed:
                hungUp = true
                stream.loop.handle.stop()
                return
            }
        }
    }

    func streamWritable() {}
    func streamHungUp() { hungUp = true }
}

@Suite(.serialized) struct EventLoopTests {
    static let logger = Logger(label: "test")

    @Test func socketStreamWritesAndReadsAcrossASocketPair() throws {
        var fds: [CInt] = [0, 0]
        #expect(socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let loop = try EventLoop(id: 0, logger: Self.logger)
        let a = try SocketStream(fd: fds[0], peer: SocketAddress(host: .other, port: 0), loop: loop)
        let b = try SocketStream(fd: fds[1], peer: SocketAddress(host: .other, port: 0), loop: loop)
        let payload = Bytes((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let collector = Collector(stream: b, expected: payload.count)
        b.delegate = collector
        var queue = OutboundQueue()
        queue.stage(Array("head".utf8), pool: loop.pool)
        queue.append(payload)
        // The socket buffer is smaller than the payload: write what fits now, the rest on EPOLLOUT.
        final class Writer: ByteStreamDelegate {
            let stream: SocketStream
            var queue: OutboundQueue
            init(stream: SocketStream, queue: OutboundQueue) {
                self.stream = stream
                self.queue = queue
            }
            func streamReadable() {}
            func streamWritable() { _ = stream.write(&queue) }
            func streamHungUp() {}
        }
        let writer = Writer(stream: a, queue: queue)
        a.delegate = writer
        writer.streamWritable()
        loop.schedule(afterMilliseconds: 5_000) { loop.handle.stop() }  // a failing test must not hang
        loop.run()
        #expect(collector.received.count == payload.count + 4)
        #expect(Array(collector.received.prefix(4)) == Array("head".utf8))
        #expect(Array(collector.received.dropFirst(4)) == payload.array)
        a.close()
        b.close()
        #expect(loop.registeredCount == 0)
    }

    @Test func socketStreamSendsAHeadThenAFileRange() throws {
        // The head goes out with MSG_MORE (sendmsg), the body with sendfile: the peer gets both, in order,
        // with the file range exactly (offset 10, not the whole file).
        var template = Array("/tmp/reactor-file-test.XXXXXX".utf8CString)
        let fileFD = mkstemp(&template)
        try #require(fileFD >= 0)
        unlink(template)
        let contents = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let written = contents.withUnsafeBytes { Glibc.write(fileFD, $0.baseAddress, $0.count) }
        try #require(written == contents.count)
        let file = FileDescriptor(owning: fileFD)
        var fds: [CInt] = [0, 0]
        #expect(socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let loop = try EventLoop(id: 0, logger: Self.logger)
        let a = try SocketStream(fd: fds[0], peer: SocketAddress(host: .other, port: 0), loop: loop)
        let b = try SocketStream(fd: fds[1], peer: SocketAddress(host: .other, port: 0), loop: loop)
        let body = contents.count - 10
        let collector = Collector(stream: b, expected: 4 + body)
        b.delegate = collector
        final class Writer: ByteStreamDelegate {
            let stream: SocketStream
            var queue = OutboundQueue()
            init(stream: SocketStream) { self.stream = stream }
            func streamReadable() {}
            func streamWritable() { _ = stream.write(&queue) }
            func streamHungUp() {}
        }
        let writer = Writer(stream: a)
        writer.queue.stage(Array("head".utf8), pool: loop.pool)
        writer.queue.append(file: file, offset: 10, count: body)
        a.delegate = writer
        writer.streamWritable()
        loop.schedule(afterMilliseconds: 5_000) { loop.handle.stop() }  // a failing test must not hang
        loop.run()
        #expect(collector.received.count == 4 + body)
        #expect(Array(collector.received.prefix(4)) == Array("head".utf8))
        #expect(Array(collector.received.dropFirst(4)) == Array(contents.dropFirst(10)))
        #expect(writer.queue.isEmpty)
        a.close()
        b.close()
    }

    @Test func peerCloseIsReportedAsClosed() throws {
        var fds: [CInt] = [0, 0]
        #expect(socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let loop = try EventLoop(id: 0, logger: Self.logger)
        let b = try SocketStream(fd: fds[1], peer: SocketAddress(host: .other, port: 0), loop: loop)
        let collector = Collector(stream: b, expected: Int.max)
        b.delegate = collector
        _ = write(fds[0], "bye", 3)
        close(fds[0])
        loop.schedule(afterMilliseconds: 5_000) { loop.handle.stop() }
        loop.run()
        #expect(collector.received == Array("bye".utf8))
        #expect(collector.hungUp)
        b.close()
    }

    @Test func tasksFromOtherThreadsRunOnTheLoop() throws {
        final class Counter: Sendable { let value = Atomic<Int>(0) }
        let loop = try EventLoop(id: 3, logger: Self.logger)
        let handle = loop.handle
        let counter = Counter()
        let thread = try PosixThread.spawn(name: "poster") {
            for _ in 0..<100 { handle.execute { _ in counter.value.add(1, ordering: .relaxed) } }
            handle.execute { loop in loop.handle.stop() }
        }
        loop.schedule(afterMilliseconds: 5_000) { loop.handle.stop() }
        loop.run()
        thread.join()
        #expect(counter.value.load(ordering: .relaxed) == 100)
    }

    @Test func timersFireInDeadlineOrderOnTheLoop() throws {
        let loop = try EventLoop(id: 0, logger: Self.logger)
        var order: [Int] = []
        loop.schedule(afterMilliseconds: 300) {
            order.append(3)
            loop.handle.stop()
        }
        loop.schedule(afterMilliseconds: 10) { order.append(1) }
        loop.schedule(afterMilliseconds: 150) { order.append(2) }
        loop.run()
        #expect(order == [1, 2, 3])
    }

    @Test func listenerAcceptsOnAnEphemeralPort() throws {
        let loop = try EventLoop(id: 0, logger: Self.logger)
        var accepted: [SocketAddress] = []
        let listener = try Listener(address: SocketAddress(ip: "127.0.0.1")!, reusePort: true, loop: loop) { fd, peer in
            accepted.append(peer)
            close(fd)
            loop.handle.stop()
        }
        #expect(listener.port != 0)
        let port = listener.port
        let client = try PosixThread.spawn(name: "client") {
            _ = try? BlockingClient.exchange(
                with: SocketAddress(ip: "127.0.0.1", port: port)!, send: [],
                timeoutMilliseconds: 2_000)
        }
        loop.schedule(afterMilliseconds: 5_000) { loop.handle.stop() }
        loop.run()
        client.join()
        #expect(accepted.count == 1)
        #expect(accepted.first?.ipString == "127.0.0.1")
        listener.close()
        #expect(loop.registeredCount == 0)
    }

    @Test func aHandlerDeregisteredEarlierInABatchGetsNoStaleEvent() throws {
        // Two pipes readable in the same epoll batch; whichever handler runs first deregisters both. The
        // other's event is already in the batch: the loop must drop it, not call a deregistered handler.
        final class Reader: EventHandler {
            let fd: CInt
            unowned let loop: EventLoop
            var other: Reader?
            var registered = true
            var calls = 0
            init(fd: CInt, loop: EventLoop) throws {
                self.fd = fd
                self.loop = loop
                super.init()
                try loop.register(fd: fd, handler: self, events: Epoll.edgeTriggeredReadWrite)
            }
            override func handleEvents(_ events: UInt32) {
                calls += 1
                for reader in [self, other].compactMap({ $0 }) where reader.registered {
                    reader.registered = false
                    loop.deregister(fd: reader.fd, handler: reader)
                }
            }
        }
        let loop = try EventLoop(id: 0, logger: Self.logger)
        var first: [CInt] = [0, 0]
        var second: [CInt] = [0, 0]
        #expect(pipe(&first) == 0 && pipe(&second) == 0)
        defer { for fd in first + second { close(fd) } }
        let a = try Reader(fd: first[0], loop: loop)
        let b = try Reader(fd: second[0], loop: loop)
        a.other = b
        b.other = a
        var byte: UInt8 = 1
        #expect(write(first[1], &byte, 1) == 1 && write(second[1], &byte, 1) == 1)
        loop.schedule(afterMilliseconds: 100) { loop.handle.stop() }
        loop.run()
        #expect(a.calls + b.calls == 1)
        #expect(loop.registeredCount == 0)
        a.other = nil
        b.other = nil
    }
}
