/// What a `Range` header asks of a representation of known size (RFC 9110 §14.1-14.2).
public enum ByteRange: Sendable, Equatable {
    /// Send the whole representation with 200: no usable range (malformed, another unit, several ranges,
    /// or an empty representation asked for a suffix).
    case whole
    /// Send these bytes with 206.
    case partial(Range<Int>)
    /// Send 416 with `Content-Range: bytes */size`: the only range starts at or past the end.
    case unsatisfiable

    /// Reads a `Range` value such as `bytes=0-499`, `bytes=500-`, `bytes=-500` against `size` bytes.
    ///
    /// Only a single range is honoured. RFC 9110 §14.2 lets a server ignore the header, and a multi-range
    /// answer (multipart/byteranges) costs more than it saves for files this size, so several ranges → `.whole`.
    /// A syntactically invalid header is ignored too (§14.2: "MAY ignore"), never an error.
    public static func parse(_ value: ArraySlice<UInt8>, size: Int) -> ByteRange {
        // range-unit is case-insensitive (§14.1); "bytes" is the only one we know.
        let unit = bytesUnit
        guard value.count > unit.count, zip(value.prefix(unit.count), unit).allSatisfy({ ($0 | 0x20) == $1 }) else {
            return .whole
        }
        var spec = value.dropFirst(unit.count)
        while let first = spec.first, first == 0x20 || first == 0x09 { spec = spec.dropFirst() }
        while let last = spec.last, last == 0x20 || last == 0x09 { spec = spec.dropLast() }
        guard !spec.contains(UInt8(ascii: ",")), let dash = spec.firstIndex(of: UInt8(ascii: "-")) else {
            return .whole
        }
        let firstText = spec[spec.startIndex..<dash]
        let lastText = spec[(dash + 1)...]

        if firstText.isEmpty {
            // suffix-range: the last N bytes; N = 0 is unsatisfiable (§14.1.3).
            guard let suffix = number(lastText) else { return .whole }
            if suffix == 0 { return .unsatisfiable }
            if size == 0 { return .whole }  // nothing to cut: a 206 could not even name its range
            return .partial(max(0, size - suffix)..<size)
        }
        guard let first = number(firstText) else { return .whole }
        var last = Int.max
        if !lastText.isEmpty {
            guard let l = number(lastText) else { return .whole }
            last = l
        }
        if last < first { return .whole }  // §14.1.1: invalid range-spec, so the header is ignored
        if first >= size { return .unsatisfiable }
        return .partial(first..<(last >= size - 1 ? size : last + 1))
    }

    /// `bytes=`, lower case (`|` 0x20 folds the request's letters; `=` is unchanged by it).
    private static let bytesUnit: [UInt8] = Array("bytes=".utf8)

    /// A run of decimal digits, saturating at `Int.max` (a huge position is still just "past the end").
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for c in digits {
            let d = c &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(d))
            value = o1 || o2 ? Int.max : sum
        }
        return value
    }
}
