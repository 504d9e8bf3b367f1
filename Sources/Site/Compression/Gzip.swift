internal import CZlib

/// gzip (RFC 1952) through zlib, for the precomputed `Content-Encoding: gzip` variant of each page.
///
/// The only unsafe code of the pages: pointers into Swift arrays handed to zlib for the length of one call
/// sequence. Cold path: pages are compressed once per content generation, never per request.
enum Gzip {
    /// `input` compressed into one gzip member at `level` (1–9; 9 by default: the cost is paid once per
    /// generation, the bytes saved on every response). nil only if zlib fails, which means it ran out of
    /// memory: callers then serve the identity encoding only.
    static func compress(_ input: [UInt8], level: Int32 = 9) -> [UInt8]? {
        let stream = ZStream()
        // windowBits 15 + 16: a gzip header and trailer around the deflate data; memLevel 8 is zlib's default.
        guard czlib_deflate_init(stream.pointer, level, 15 + 16, 8) == Z_OK else { return nil }
        defer { deflateEnd(stream.pointer) }
        // deflateBound covers the gzip wrapper too once deflateInit2 has set it up: one call suffices. The loop
        // only guards against a zlib that would return Z_OK with the bound exhausted.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream.pointer, uLong(input.count))) + 64)
        var produced = 0
        let status: Int32 = input.withUnsafeBufferPointer { source in
            // Invariant: `source` stays valid for the whole closure and zlib reads it only during the
            // deflate calls below; next_in is cleared before returning so no pointer outlives the closure.
            stream.pointer.pointee.next_in = source.baseAddress
            stream.pointer.pointee.avail_in = uInt(source.count)
            defer {
                stream.pointer.pointee.next_in = nil
                stream.pointer.pointee.avail_in = 0
            }
            while true {
                if produced == output.count { output.append(contentsOf: repeatElement(0, count: 4096)) }
                let result: Int32 = output.withUnsafeMutableBufferPointer { destination in
                    // Invariant: produced < destination.count, so next_out/avail_out describe free space
                    // inside the array's storage; zlib writes nowhere else, and only during this call.
                    stream.pointer.pointee.next_out = destination.baseAddress! + produced
                    stream.pointer.pointee.avail_out = uInt(destination.count - produced)
                    let result = deflate(stream.pointer, Z_FINISH)
                    produced = destination.count - Int(stream.pointer.pointee.avail_out)
                    stream.pointer.pointee.next_out = nil
                    return result
                }
                if result != Z_OK { return result }
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeLast(output.count - produced)
        return output
    }

    /// The data inside the gzip member `input`; nil if it is not one, is truncated, or would exceed `limit`
    /// bytes. Tests use it to check `compress`; it is not on any request path.
    static func decompress(_ input: [UInt8], limit: Int = 64 << 20) -> [UInt8]? {
        let stream = ZStream()
        guard czlib_inflate_init(stream.pointer, 15 + 16) == Z_OK else { return nil }
        defer { inflateEnd(stream.pointer) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var unread = 0
        let status: Int32 = input.withUnsafeBufferPointer { source in
            // Invariant: as in `compress`, `source` outlives every inflate call made in this closure.
            stream.pointer.pointee.next_in = source.baseAddress
            stream.pointer.pointee.avail_in = uInt(source.count)
            defer {
                stream.pointer.pointee.next_in = nil
                stream.pointer.pointee.avail_in = 0
            }
            while true {
                let (result, written): (Int32, Int) = chunk.withUnsafeMutableBufferPointer { destination in
                    // Invariant: next_out/avail_out describe exactly `chunk`'s storage, valid for this call.
                    stream.pointer.pointee.next_out = destination.baseAddress
                    stream.pointer.pointee.avail_out = uInt(destination.count)
                    let result = inflate(stream.pointer, Z_NO_FLUSH)
                    let written = destination.count - Int(stream.pointer.pointee.avail_out)
                    stream.pointer.pointee.next_out = nil
                    return (result, written)
                }
                output.append(contentsOf: chunk[0..<written])
                if output.count > limit { return Z_BUF_ERROR }
                if result == Z_STREAM_END {
                    unread = Int(stream.pointer.pointee.avail_in)
                    return result
                }
                // Z_BUF_ERROR with no progress: the input ended before the gzip trailer.
                if result != Z_OK || (written == 0 && stream.pointer.pointee.avail_in == 0) { return Z_DATA_ERROR }
            }
        }
        // A second member or trailing garbage is refused: a page is one member exactly.
        guard status == Z_STREAM_END, unread == 0 else { return nil }
        return output
    }
}

/// Owns one heap-allocated `z_stream`: zlib keeps a pointer back to the stream in its state and refuses calls
/// made through another address (`deflateStateCheck`), so the struct must not live in a Swift variable that
/// `&` may pass as a temporary copy. Zero-initialised (`zalloc`, `zfree`, `opaque` = Z_NULL: zlib's
/// allocator). The caller pairs the init call with `deflateEnd`/`inflateEnd`; `deinit` frees the memory.
private final class ZStream {
    let pointer: UnsafeMutablePointer<z_stream>

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: z_stream())
    }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
