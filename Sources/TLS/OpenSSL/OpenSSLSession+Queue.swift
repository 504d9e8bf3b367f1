internal import COpenSSL
import Reactor

// Turning an OutboundQueue into records. A record costs a header, a tag and one AEAD call whatever its size,
// and SSL_write makes one record per call, so writing each small chunk on its own (a 200-byte header block,
// then the body) would put each in its own record. Instead:
//
//   head chunk in memory and ≥ recordLimit  → SSL_write straight from it (no copy)
//   otherwise                               → copy chunks into `scratch` up to recordLimit, reading file
//                                             chunks with pread, then one SSL_write of the whole scratch
//
// Bytes copied into scratch leave the queue at once: they are ours now, and a want-write keeps them in
// scratch until they are sealed.

extension OpenSSLSession {
    /// Seals as much of `queue` as fits in the output block, removing what was taken.
    ///
    /// `.done`: something was taken (or nothing was pending); call again after sending the ciphertext.
    /// `.wantWrite`: the output block is full and nothing was taken: send the ciphertext first.
    /// `.failed`/`.closed`: drop the connection.
    func write(_ queue: inout OutboundQueue) -> TLSResult {
        var progressed = false
        while true {
            if !scratch.isEmpty {
                let result = writeScratch()
                guard result == .done else { return progressed && isRetry(result) ? .done : result }
                progressed = true
                continue
            }
            guard !queue.isEmpty else { return .done }
            guard hasRoomForRecord else { return progressed ? .done : .wantWrite }
            var head: UnsafeRawBufferPointer? = nil
            queue.forEachLeadingBuffer { buffer in
                head = buffer
                return false
            }
            if let head, head.count >= recordLimit {
                let (count, result) = write(UnsafeRawBufferPointer(rebasing: head[..<recordLimit]))
                guard result == .done else { return progressed && isRetry(result) ? .done : result }
                queue.advance(by: count, pool: pool)
                progressed = true
                continue
            }
            if let failure = fillScratch(from: &queue) { return .failed(failure) }
        }
    }

    private func isRetry(_ result: TLSResult) -> Bool {
        result == .wantRead || result == .wantWrite
    }

    /// SSL_write of everything in `scratch` (at most one record).
    private func writeScratch() -> TLSResult {
        let (count, result) = scratch.withReadableSpan { span in
            // Invariant: SSL_write reads the bytes during the call only (a retry passes them again).
            span.withUnsafeBytes { bytes in write(bytes) }
        }
        scratch.consume(count)
        scratch.releaseIfEmpty(to: pool)
        return result
    }

    /// Moves up to `recordLimit` bytes from the head of `queue` into `scratch`.
    private func fillScratch(from queue: inout OutboundQueue) -> TLSError? {
        while scratch.readableCount < recordLimit, let first = queue.first {
            let room = recordLimit - scratch.readableCount
            var moved = 0
            if case .file(let file, let offset, let count) = first {
                var failure: SystemError? = nil
                _ = scratch.fill(from: pool) { space in
                    let wanted = min(room, count, space.count)
                    do throws(SystemError) {
                        moved = try Syscall.pread(
                            file.fd, UnsafeMutableRawBufferPointer(rebasing: space[..<wanted]), offset: offset)
                    } catch {
                        failure = error
                    }
                    return .done(moved)
                }
                if let failure { return TLSError(.system, context: "pread", reasons: ["\(failure)"]) }
                // The file shrank after the response announced its length: the framing can't be kept.
                if moved == 0 { return TLSError(.system, context: "pread", reasons: ["file ended early"]) }
            } else {
                _ = scratch.fill(from: pool) { space in
                    let limit = min(room, space.count)
                    queue.forEachLeadingBuffer { buffer in
                        let count = min(buffer.count, limit - moved)
                        // Invariant: `space` has `limit` free bytes; `buffer` is a queued chunk, alive until advance.
                        (space.baseAddress! + moved).copyMemory(from: buffer.baseAddress!, byteCount: count)
                        moved += count
                        return moved < limit
                    }
                    return .done(moved)
                }
            }
            guard moved > 0 else { break }
            queue.advance(by: moved, pool: pool)
        }
        return nil
    }
}
