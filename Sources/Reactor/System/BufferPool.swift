/// A fixed-size block of raw memory, handed out by a `BufferPool`.
///
/// Blocks back the per-connection receive and staging buffers only while a connection is busy; an idle
/// keep-alive connection gives its blocks back, so it pins no buffer at all.
public final class BufferBlock {
    let memory: UnsafeMutableRawBufferPointer

    /// The block's size in bytes.
    public var capacity: Int { memory.count }

    init(capacity: Int) {
        memory = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { memory.deallocate() }
}

/// A per-loop free list of `BufferBlock`s. Loop-confined: not `Sendable`.
public final class BufferPool {
    /// The size of every block.
    public let blockSize: Int
    private let maxFree: Int
    private var free: [BufferBlock] = []

    /// Makes a pool of `blockSize`-byte blocks that keeps at most `maxFree` unused ones.
    public init(blockSize: Int = 32 * 1024, maxFree: Int = 64) {
        self.blockSize = blockSize
        self.maxFree = maxFree
        free.reserveCapacity(maxFree)
    }

    /// A block, reused when one is free.
    public func take() -> BufferBlock {
        free.popLast() ?? BufferBlock(capacity: blockSize)
    }

    /// Returns a block; beyond `maxFree` it is freed.
    public func give(_ block: BufferBlock) {
        if free.count < maxFree { free.append(block) }
    }

    /// Blocks currently idle in the pool (tests, metrics).
    public var freeCount: Int { free.count }
}
