import CLinux
import Glibc

/// An open file whose descriptor is shared by every response that sends from it; closed when the last
/// user lets go.
public final class FileDescriptor: @unchecked Sendable {
    // Immutable after init; `close` happens once, in deinit.
    /// The descriptor, opened read-only.
    public let fd: CInt

    /// Takes ownership of `fd`.
    public init(owning fd: CInt) { self.fd = fd }

    /// Opens `path` read-only, refusing to follow a final symlink when `noFollow` is set.
    public static func open(_ path: String, noFollow: Bool = false) throws(SystemError) -> FileDescriptor {
        let flags = O_RDONLY | O_CLOEXEC | (noFollow ? O_NOFOLLOW : 0)
        let fd = Glibc.open(path, flags)
        if fd < 0 { throw SystemError(call: "open", errno: Syscall.errno) }
        return FileDescriptor(owning: fd)
    }

    deinit { Syscall.close(fd) }
}

/// Bytes waiting to be written to a stream, in order: staged header bytes, shared `Bytes`, file ranges.
///
/// ```
///  chunks:  [ .staged(0..<212) | .bytes(page, 0..<12288) | .staged(212..<430) | .file(f, 0, 1<<20) ]
///  staging: one pooled block holding the header bytes the .staged chunks point into
/// ```
/// The staging block is taken from the loop's pool on the first `stage` and given back once everything
/// is written, so an idle connection pins no buffer.
public struct OutboundQueue {
    /// One run of bytes to send.
    public enum Chunk {
        /// Bytes in the staging block.
        case staged(Range<Int>)
        /// A shared immutable buffer.
        case bytes(Bytes, Range<Int>)
        /// A range of an open file.
        case file(FileDescriptor, offset: Int, count: Int)
    }

    private(set) var chunks: [Chunk] = []
    private var staging: BufferBlock?
    // 32-bit (a chunk list and a staging block stay far below 4 G): the two share one word of every
    // connection object.
    private var head32: UInt32 = 0
    private var stagingUsed32: UInt32 = 0
    private var head: Int {
        get { Int(head32) }
        set { head32 = UInt32(newValue) }
    }
    private var stagingUsed: Int {
        get { Int(stagingUsed32) }
        set { stagingUsed32 = UInt32(newValue) }
    }
    /// Bytes not yet written.
    public private(set) var pendingCount = 0

    /// Makes an empty queue.
    public init() {}

    /// True when nothing is waiting.
    public var isEmpty: Bool { head == chunks.count }

    /// True when the queue holds any allocation (chunk list or staging block); false once all is written.
    public var holdsStorage: Bool { chunks.capacity > 0 || staging != nil }

    /// Appends `bytes` to the staging block and queues them. Response heads go through here, once or twice per
    /// response: one `memcpy`. (A generic `some Collection` version ran unspecialised across the module
    /// boundary and copied byte by byte through the runtime: 40% of the server's user time under load.)
    /// Bytes that do not fit in the staging block are queued as their own `Bytes`.
    public mutating func stage(_ bytes: [UInt8], pool: BufferPool) {
        let count = bytes.count
        guard count > 0 else { return }
        let staged = stage(reserving: count, pool: pool) { space in
            bytes.withUnsafeBytes { source in
                // Invariant: `space` has at least `count` bytes (reserved above); `source` holds `count`.
                space.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
            }
            return count
        }
        if !staged { append(Bytes(bytes)) }
    }

    /// Copies `bytes` into the staging block and queues them (a cached header block placed between the
    /// per-response lines, so the whole head stays one iovec).
    public mutating func stage(_ bytes: Bytes, pool: BufferPool) {
        let count = bytes.count
        let staged = stage(reserving: count, pool: pool) { space in
            // Invariant: `space` has at least `count` bytes (reserved above) and `bytes.storage` holds `count`.
            space.baseAddress!.copyMemory(from: bytes.storage.baseAddress!, byteCount: count)
            return count
        }
        if !staged { append(bytes) }
    }

    /// Lets `write` encode directly into the staging block (no intermediate array); `write` returns the
    /// number of bytes it wrote, at most the space it was given. Returns false if `minimumSpace` is not free.
    public mutating func stage(
        reserving minimumSpace: Int, pool: BufferPool,
        _ write: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Bool {
        if staging == nil {
            staging = pool.take()
            stagingUsed = 0
        }
        guard let block = staging, block.capacity - stagingUsed >= minimumSpace else { return false }
        let start = stagingUsed
        let n = write(UnsafeMutableRawBufferPointer(rebasing: block.memory[start...]))
        precondition(n <= block.capacity - start, "staged \(n) bytes into \(block.capacity - start)")
        guard n > 0 else { return true }
        stagingUsed += n
        if head < chunks.count, case .staged(let last) = chunks[chunks.count - 1], last.upperBound == start {
            chunks[chunks.count - 1] = .staged(last.lowerBound..<start + n)
        } else {
            chunks.append(.staged(start..<start + n))
        }
        pendingCount += n
        return true
    }

    /// Queues a whole shared buffer.
    public mutating func append(_ bytes: Bytes) {
        append(bytes, range: 0..<bytes.count)
    }

    /// Queues part of a shared buffer.
    public mutating func append(_ bytes: Bytes, range: Range<Int>) {
        guard !range.isEmpty else { return }
        chunks.append(.bytes(bytes, range))
        pendingCount += range.count
    }

    /// Queues `count` bytes of `file` from `offset`.
    public mutating func append(file: FileDescriptor, offset: Int, count: Int) {
        guard count > 0 else { return }
        chunks.append(.file(file, offset: offset, count: count))
        pendingCount += count
    }

    /// The first pending chunk.
    public var first: Chunk? { isEmpty ? nil : chunks[head] }

    /// Marks `count` bytes as written, dropping finished chunks.
    public mutating func advance(by count: Int, pool: BufferPool) {
        var left = count
        pendingCount -= count
        while left > 0 && head < chunks.count {
            switch chunks[head] {
            case .staged(let r):
                if left >= r.count {
                    left -= r.count
                    head += 1
                } else {
                    chunks[head] = .staged(r.lowerBound + left..<r.upperBound)
                    left = 0
                }
            case .bytes(let b, let r):
                if left >= r.count {
                    left -= r.count
                    head += 1
                } else {
                    chunks[head] = .bytes(b, r.lowerBound + left..<r.upperBound)
                    left = 0
                }
            case .file(let f, let offset, let n):
                if left >= n {
                    left -= n
                    head += 1
                } else {
                    chunks[head] = .file(f, offset: offset + left, count: n - left)
                    left = 0
                }
            }
        }
        if head == chunks.count { reset(pool: pool) }
    }

    /// Drops everything pending and gives the staging block and the chunk list's storage back: an idle
    /// keep-alive connection keeps no allocation here (the list held about 160 bytes per idle connection;
    /// the next response allocates it again from malloc's per-thread cache).
    public mutating func reset(pool: BufferPool) {
        chunks = []
        head = 0
        pendingCount = 0
        if let s = staging {
            pool.give(s)
            staging = nil
        }
        stagingUsed = 0
    }

    /// Fills `iov` with the leading in-memory chunks (stopping at a file chunk); returns how many iovecs it
    /// filled, how many bytes they cover, and whether a file chunk comes right after them (a response head
    /// before its `sendfile` body).
    ///
    /// The pointers stay valid until the queue is next mutated: the staging block and every `Bytes` are
    /// held by the queue.
    func gather(into iov: UnsafeMutableBufferPointer<iovec>) -> (count: Int, bytes: Int, fileFollows: Bool) {
        var n = 0
        var bytes = 0
        var i = head
        while i < chunks.count && n < iov.count {
            switch chunks[i] {
            case .staged(let r):
                iov[n] = iovec(iov_base: staging!.memory.baseAddress! + r.lowerBound, iov_len: r.count)
            case .bytes(let b, let r):
                iov[n] = iovec(iov_base: b.storage.baseAddress! + r.lowerBound, iov_len: r.count)
            case .file:
                return (n, bytes, true)
            }
            bytes += iov[n].iov_len
            n += 1
            i += 1
        }
        return (n, bytes, false)
    }

    /// Calls `body` with each leading in-memory chunk's bytes until it returns false (TLS writes record
    /// by record); stops at a file chunk.
    public func forEachLeadingBuffer(_ body: (UnsafeRawBufferPointer) -> Bool) {
        var i = head
        while i < chunks.count {
            let ok: Bool
            switch chunks[i] {
            case .staged(let r): ok = body(UnsafeRawBufferPointer(rebasing: staging!.memory[r]))
            case .bytes(let b, let r): ok = body(UnsafeRawBufferPointer(rebasing: b.storage[r]))
            case .file: return
            }
            if !ok { return }
            i += 1
        }
    }
}
