import Reactor
import Testing

@Suite struct BufferTests {
    @Test func receiveBufferGivesItsBlockBackWhenEmpty() {
        let pool = BufferPool(blockSize: 64, maxFree: 4)
        var buffer = ReceiveBuffer()
        #expect(!buffer.holdsStorage)
        buffer.append(Array("hello".utf8), pool: pool)
        #expect(buffer.readableCount == 5)
        #expect(buffer.withReadableSpan { $0.count } == 5)
        buffer.consume(5)
        buffer.releaseIfEmpty(to: pool)
        #expect(!buffer.holdsStorage)
        #expect(pool.freeCount == 1)
    }

    @Test func receiveBufferCompactsToMakeRoom() {
        let pool = BufferPool(blockSize: 16, maxFree: 4)
        var buffer = ReceiveBuffer()
        buffer.append(Array(0..<14), pool: pool)
        buffer.consume(12)
        buffer.append(Array(100..<110), pool: pool)
        #expect(buffer.readableCount == 12)
        let bytes = buffer.withReadableSpan { span in (0..<span.count).map { span[$0] } }
        #expect(bytes == [12, 13] + Array(100..<110))
    }

    @Test func outboundQueueMergesStagedBytesAndAdvancesAcrossChunks() {
        let pool = BufferPool(blockSize: 256, maxFree: 4)
        var queue = OutboundQueue()
        queue.stage(Array("HEAD1".utf8), pool: pool)
        queue.stage(Array("HEAD2".utf8), pool: pool)
        let body = Bytes("body-bytes")
        queue.append(body)
        #expect(queue.pendingCount == 20)
        var seen: [String] = []
        queue.forEachLeadingBuffer {
            seen.append(String(decoding: $0, as: UTF8.self))
            return true
        }
        #expect(seen == ["HEAD1HEAD2", "body-bytes"])
        queue.advance(by: 12, pool: pool)
        seen = []
        queue.forEachLeadingBuffer {
            seen.append(String(decoding: $0, as: UTF8.self))
            return true
        }
        #expect(seen == ["dy-bytes"])
        queue.advance(by: 8, pool: pool)
        #expect(queue.isEmpty)
        #expect(pool.freeCount == 1)  // the staging block went back
    }

    @Test func outboundQueueKeepsNoStorageOnceWritten() {
        let pool = BufferPool(blockSize: 256, maxFree: 4)
        var queue = OutboundQueue()
        #expect(!queue.holdsStorage)
        queue.stage(Array("HTTP/1.1 200 OK\r\n\r\n".utf8), pool: pool)
        queue.append(Bytes("body"))
        #expect(queue.holdsStorage)
        queue.advance(by: queue.pendingCount, pool: pool)
        #expect(queue.isEmpty)
        #expect(!queue.holdsStorage)  // an idle keep-alive connection pins neither block nor chunk list
    }
}
