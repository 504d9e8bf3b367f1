// Scanning eight bytes at a time in a `UInt64` ("SIMD within a register"), in safe Swift: a span load the
// optimizer turns into one bounds check and one 64-bit load, and bit tricks that flag bytes of a class.
// The long runs of a head (target, field names and values, host names) go through these; every scanner
// finishes byte by byte, so it never reads past `end`.

/// SWAR ("SIMD within a register"): eight bytes at a time in a `UInt64`, little-endian. Each test sets bit 7
/// of byte `k` of its result when byte `k` matches. For `less` and `equal` only the lowest set bit is exact
/// (a borrow can flag bytes above it), which is all "find the first stop byte" needs; `inRange` and
/// `exactlyEqual` are exact for every byte, so their complement can mark "not in this class".
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The eight bytes `b[i..<i + 8]`, little-endian; traps if they are not all in `b`. Written so the
    /// optimizer keeps a single bounds check and merges the byte loads into one 64-bit load.
    @inline(__always)
    static func load(_ b: Span<UInt8>, _ i: Int) -> UInt64 {
        let w = b.extracting(droppingFirst: i).extracting(first: 8)
        precondition(w.count == 8, "SWAR load past the end")
        return UInt64(w[0]) | UInt64(w[1]) &<< 8 | UInt64(w[2]) &<< 16 | UInt64(w[3]) &<< 24
            | UInt64(w[4]) &<< 32 | UInt64(w[5]) &<< 40 | UInt64(w[6]) &<< 48 | UInt64(w[7]) &<< 56
    }

    /// Bytes below `n` (`n` ≤ 0x80).
    @inline(__always)
    static func less(_ x: UInt64, than n: UInt8) -> UInt64 {
        (x &- ones &* UInt64(n)) & ~x & highs
    }

    /// Bytes equal to `c`.
    @inline(__always)
    static func equal(_ x: UInt64, _ c: UInt8) -> UInt64 {
        let y = x ^ (ones &* UInt64(c))
        return (y &- ones) & ~y & highs
    }

    /// Bytes ≥ 0x80.
    @inline(__always)
    static func nonASCII(_ x: UInt64) -> UInt64 {
        x & highs
    }

    /// Bytes in `low...high` (both ≤ 0x7F), exactly: unlike `less` and `equal`, no bit is set for a byte out of
    /// range, so the complement can be trusted too. Each byte's sums stay within the byte (top bit masked off
    /// first), so nothing carries into its neighbour.
    @inline(__always)
    static func inRange(_ x: UInt64, _ low: UInt8, _ high: UInt8) -> UInt64 {
        let t = x & ~highs
        let atLeastLow = t &+ ones &* UInt64(0x80 - low)
        let atMostHigh = ones &* UInt64(0x80 + UInt16(high)) &- t
        return atLeastLow & atMostHigh & ~x & highs
    }

    /// Bytes equal to `c`, exactly (see `inRange`).
    @inline(__always)
    static func exactlyEqual(_ x: UInt64, _ c: UInt8) -> UInt64 {
        let y = x ^ (ones &* UInt64(c))
        return ~(((y & ~highs) &+ ~highs) | y) & highs
    }

    /// The index of the byte flagged by the lowest set bit of `mask`, in the word loaded at `i`.
    @inline(__always)
    static func first(_ mask: UInt64, at i: Int) -> Int {
        i + mask.trailingZeroBitCount &>> 3
    }
}

/// The first index in `i..<end` whose byte is not a token byte, or `end`. Field names are mostly letters,
/// digits and `-`, which are checked eight at a time; other token bytes take the byte-wise path.
@inline(__always)
func skipTokenBytes(_ b: Span<UInt8>, from i: Int, to end: Int) -> Int {
    var i = i
    while true {
        while i + 8 <= end {
            let x = SWAR.load(b, i)
            let common =
                SWAR.inRange(x | SWAR.ones &* 0x20, 0x61, 0x7A) | SWAR.inRange(x, 0x30, 0x39)
                | SWAR.exactlyEqual(x, 0x2D)
            let other = ~common & SWAR.highs
            if other != 0 {
                i = SWAR.first(other, at: i)
                break
            }
            i += 8
        }
        guard i < end && isTokenByte(b[i]) else { return i }
        i += 1
    }
}

/// The first index in `i..<end` whose byte is not a target byte or is `?`, or `end`.
@inline(__always)
func skipTargetBytes(_ b: Span<UInt8>, from i: Int, to end: Int) -> Int {
    var i = i
    while i + 8 <= end {
        let x = SWAR.load(b, i)
        let stop =
            SWAR.less(x, than: 0x21) | SWAR.nonASCII(x) | SWAR.equal(x, ASCII.del) | SWAR.equal(x, 0x23)
            | SWAR.equal(x, ASCII.question)
        if stop != 0 { return SWAR.first(stop, at: i) }
        i += 8
    }
    while i < end {
        let c = b[i]
        if !isTargetByte(c) || c == ASCII.question { return i }
        i += 1
    }
    return end
}

/// The first index in `i..<end` whose byte is a control byte (HTAB, CR and LF included) or DEL, or `end`:
/// the end of a field value's run of visible bytes, spaces and obs-text.
@inline(__always)
func skipFieldValueBytes(_ b: Span<UInt8>, from i: Int, to end: Int) -> Int {
    var i = i
    while i + 8 <= end {
        let x = SWAR.load(b, i)
        let stop = SWAR.less(x, than: ASCII.space) | SWAR.equal(x, ASCII.del)
        if stop != 0 { return SWAR.first(stop, at: i) }
        i += 8
    }
    while i < end {
        let c = b[i]
        if c < ASCII.space || c == ASCII.del { return i }
        i += 1
    }
    return end
}

/// The first index in `i..<end` whose byte is not a letter, digit, `-` or `.` (what host names are made
/// of, checked eight at a time), or `end`.
@inline(__always)
func skipHostNameBytes(_ b: Span<UInt8>, from i: Int, to end: Int) -> Int {
    var i = i
    while i + 8 <= end {
        let x = SWAR.load(b, i)
        let common =
            SWAR.inRange(x | SWAR.ones &* 0x20, 0x61, 0x7A) | SWAR.inRange(x, 0x2D, 0x2E)
            | SWAR.inRange(x, 0x30, 0x39)
        let other = ~common & SWAR.highs
        if other != 0 { return SWAR.first(other, at: i) }
        i += 8
    }
    while i < end {
        let c = b[i]
        guard (c | 0x20) &- 0x61 < 26 || c &- 0x2D < 2 || digitValue(c) < 10 else { return i }
        i += 1
    }
    return end
}
