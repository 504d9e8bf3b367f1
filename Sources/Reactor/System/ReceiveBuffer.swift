/// Bytes received and not yet consumed by the protocol above.
///
/// ```
///  block.memory: [ consumed | readable (readerIndex..<writerIndex) | writable (writerIndex..<capacity) ]
/// ```
/// The buffer owns a pooled block only while it holds bytes or a read is in progress: `releaseIfEmpty`
/// hands the block back, so an idle connection costs nothing here.
public struct ReceiveBuffer {
    private var block: BufferBlock?
    // 32-bit offsets (a block is far below 2 GiB): with them the buffer is two words, not three, in every
    // connection object.
    private var reader: UInt32 = 0
    private var writer: UInt32 = 0
    /// Start of unconsumed bytes.
    public private(set) var readerIndex: Int {
        get { Int(reader) }
        set { reader = UInt32(newValue) }
    }
    /// End of received bytes.
    public private(set) var writerIndex: Int {
        get { Int(writer) }
        set { writer = UInt32(newValue) }
    }

    /// Makes an empty buffer with no storage.
    public init() {}

    /// Unconsumed bytes.
    public var readableCount: Int { writerIndex - readerIndex }
    /// True when nothing is held.
    public var isEmpty: Bool { reader == writer }
    /// True when a block is held.
    public var holdsStorage: Bool { block != nil }
    /// True when no more bytes fit, even after compaction.
    public var isFull: Bool { block.map { readableCount == $0.capacity } ?? false }

    /// Marks `count` readable bytes as consumed.
    public mutating func consume(_ count: Int) {
        precondition(count <= readableCount, "consume(\(count)) with \(readableCount) readable")
        readerIndex += count
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    /// Gives the block back to `pool` when no bytes are held.
    public mutating func releaseIfEmpty(to pool: BufferPool) {
        if isEmpty, let b = block {
            pool.give(b)
            block = nil
        }
    }

    /// Calls `body` with the readable bytes.
    public func withReadableSpan<R>(_ body: (Span<UInt8>) throws -> R) rethrows -> R {
        guard let block else { return try body(Span<UInt8>()) }
        // Invariant: readerIndex..<writerIndex lies inside the block and was written by a read.
        return try withExtendedLifetime(block) {
            let raw = UnsafeRawBufferPointer(rebasing: block.memory[readerIndex..<writerIndex])
            return try body(Span<UInt8>(_unsafeElements: raw.assumingMemoryBound(to: UInt8.self)))
        }
    }

    /// Lets `fill` write into the free space (taking a block from `pool` if needed, compacting first);
    /// `fill` returns how many bytes it wrote, or a non-`.done` outcome.
    ///
    /// Used by `ByteStream` implementations: the socket's `read(2)` and the TLS engine's `SSL_read`.
    public mutating func fill(from pool: BufferPool, _ fill: (UnsafeMutableRawBufferPointer) throws -> IOOutcome)
        rethrows -> IOOutcome
    {
        let b: BufferBlock
        if let existing = block {
            b = existing
        } else {
            b = pool.take()
            block = b
        }
        if readerIndex > 0 && b.capacity - writerIndex < b.capacity / 4 {
            // Compact: move the unconsumed tail to the front so the free space is contiguous.
            let count = readableCount
            b.memory.baseAddress!.copyMemory(from: b.memory.baseAddress! + readerIndex, byteCount: count)
            readerIndex = 0
            writerIndex = count
        }
        let space = UnsafeMutableRawBufferPointer(rebasing: b.memory[writerIndex...])
        let outcome = try fill(space)
        if case .done(let n) = outcome { writerIndex += n }
        return outcome
    }

    /// Appends `bytes` (tests, and a TLS engine handing over plaintext).
    public mutating func append(_ bytes: some Collection<UInt8>, pool: BufferPool) {
        var remaining = bytes[...]
        while !remaining.isEmpty {
            let outcome = fill(from: pool) { space in
                let n = min(space.count, remaining.count)
                _ = space.initializeMemory(as: UInt8.self, from: remaining.prefix(n))
                return .done(n)
            }
            guard case .done(let n) = outcome, n > 0 else { return }
            remaining = remaining.dropFirst(n)
        }
    }
}
