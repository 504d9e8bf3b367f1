/// An immutable, reference-counted run of bytes whose storage never moves.
///
/// Response bodies that are cached (static files, rendered pages) and pre-encoded header blocks are `Bytes`,
/// so a response can point `writev` straight at them without copying, and any number of in-flight responses
/// can share one buffer.
public final class Bytes: @unchecked Sendable {
    // Immutable after init: safe to share between threads. `storage` is written once, in `init`.
    let storage: UnsafeMutableRawBufferPointer

    /// The number of bytes.
    public var count: Int { storage.count }

    /// Copies `bytes` into new storage.
    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let count = bytes.count
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        // Contiguous sources (arrays, UTF-8 views of native strings) are one memcpy; a generic element-wise copy
        // runs unspecialised from other modules and costs a runtime call per byte.
        let copied: Bool? = bytes.withContiguousStorageIfAvailable { source in
            if let base = source.baseAddress { raw.baseAddress!.copyMemory(from: base, byteCount: count) }
            return true
        }
        if copied == nil { _ = raw.initializeMemory(as: UInt8.self, from: bytes) }
        storage = UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])
    }

    /// Copies the UTF-8 of `string`.
    public convenience init(_ string: String) {
        self.init(Array(string.utf8))
    }

    deinit { storage.deallocate() }

    /// Calls `body` with the bytes as a span; the span cannot outlive the call.
    public func withSpan<R>(_ body: (Span<UInt8>) throws -> R) rethrows -> R {
        // Invariant: `storage` is initialized for `count` bytes and freed only in deinit, after this call.
        try withExtendedLifetime(self) {
            try body(Span<UInt8>(_unsafeElements: UnsafeRawBufferPointer(storage).assumingMemoryBound(to: UInt8.self)))
        }
    }

    /// The bytes copied into an array (tests and cold paths).
    public var array: [UInt8] { Array(UnsafeRawBufferPointer(storage)) }

    /// The byte at `index`.
    public subscript(index: Int) -> UInt8 { storage[index] }
}
