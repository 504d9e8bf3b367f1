import CLinux
import Glibc

/// Gives memory back to the kernel after a burst.
///
/// glibc keeps freed chunks in its per-thread arenas: after a burst of connections (a load test, a flood of
/// bad handshakes) the resident size stays at its high-water mark although nothing is in use. `check()`,
/// called periodically off the loops, runs `malloc_trim(0)` — which releases free pages in every arena — when
/// the resident size is more than `threshold` bytes above the lowest seen, at most once per `interval`. A
/// server near its floor never pays for it; one that holds much memory in use pays one trim per interval
/// (about a millisecond per 100 MB of heap).
public struct MemoryTrimmer {
    private let threshold: Int
    private let interval: Int64
    private var floor: Int
    private var lastTrim: Int64 = .min / 2

    /// Trims when the resident size exceeds the lowest seen by `threshold` bytes, at most every `interval` ms.
    public init(threshold: Int = 4 << 20, intervalMilliseconds interval: Int64 = 5_000) {
        self.threshold = threshold
        self.interval = interval
        floor = Self.residentBytes() ?? 0
    }

    /// Trims if due at `now` (monotonic ms); returns the bytes released, if it trimmed.
    public mutating func check(now: Int64) -> Int? {
        guard let size = Self.residentBytes() else { return nil }
        floor = min(floor, size)
        guard size > floor + threshold, now - lastTrim >= interval else { return nil }
        lastTrim = now
        malloc_trim(0)
        let after = Self.residentBytes() ?? size
        floor = min(floor, after)
        return size - after
    }

    /// The process's resident set size, from `/proc/self/statm`.
    public static func residentBytes() -> Int? {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let fields = buffer[0..<n].split(separator: 0x20)
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
