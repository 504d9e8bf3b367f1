import Glibc

/// Read-write pages followed by one `PROT_NONE` page, so a parser reading one byte past its input crashes
/// the test (SIGSEGV) instead of quietly reading whatever follows on the heap.
///
/// ```
///  base                                          base + capacity
///  [ read-write pages ............... input bytes | PROT_NONE guard page ]
///                                     ^ start = capacity - count
/// ```
/// Unsafe code is allowed here only: it is a test helper that builds the span a parser sees from raw memory.
final class GuardedMemory {
    /// Start of the mapping.
    private let base: UnsafeMutableRawPointer
    /// Bytes mapped, guard page included.
    private let mappedCount: Int
    /// Read-write bytes before the guard page.
    let capacity: Int

    /// Maps at least `capacity` read-write bytes followed by a guard page.
    init(capacity: Int) {
        let page = sysconf(Int32(_SC_PAGESIZE))
        let dataPages = max(1, (capacity + page - 1) / page)
        mappedCount = (dataPages + 1) * page
        let mapped = mmap(nil, mappedCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            preconditionFailure("mmap(\(mappedCount)): errno \(errno)")
        }
        base = mapped
        self.capacity = dataPages * page
        precondition(mprotect(base + self.capacity, page, PROT_NONE) == 0, "mprotect: errno \(errno)")
    }

    deinit { munmap(base, mappedCount) }

    /// Copies `bytes` so they end exactly at the guard page, then calls `body` with a span over that copy.
    func withSpan<R>(over bytes: some Collection<UInt8>, _ body: (Span<UInt8>) throws -> R) rethrows -> R {
        let count = bytes.count
        precondition(count <= capacity, "\(count) bytes do not fit in \(capacity)")
        let start = (base + (capacity - count)).bindMemory(to: UInt8.self, capacity: count)
        // Invariant: start..<start + count lies in the read-write pages and ends at the guard page.
        _ = UnsafeMutableBufferPointer(start: start, count: count).initialize(from: bytes)
        // Invariant: the mapping lives until `self` deinits, which cannot happen during this call.
        return try withExtendedLifetime(self) {
            try body(Span(_unsafeStart: start, count: count))
        }
    }
}

/// Calls `body` with `bytes` placed right before a guard page.
func withGuardedSpan<R>(_ bytes: [UInt8], _ body: (Span<UInt8>) throws -> R) rethrows -> R {
    try GuardedMemory(capacity: bytes.count).withSpan(over: bytes, body)
}
