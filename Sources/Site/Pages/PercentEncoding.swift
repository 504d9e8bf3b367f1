/// Percent-encoding (RFC 3986 §2.1) and decoding of URL parts.
enum PercentEncoding {
    /// `segment` with everything but unreserved characters (§2.3) encoded as `%XX`, upper-case hex.
    static func encodeSegment(_ segment: String) -> String {
        encode(segment) { isUnreserved($0) }
    }

    /// `value` for a query string: unreserved characters kept, space as `+`, the rest `%XX`.
    static func encodeQueryValue(_ value: String) -> String {
        var out: [UInt8] = []
        for byte in value.utf8 {
            if isUnreserved(byte) {
                out.append(byte)
            } else if byte == 0x20 {
                out.append(UInt8(ascii: "+"))
            } else {
                appendEscape(byte, to: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `raw` with `%XX` decoded (and `+` as a space when `plusAsSpace`, as in HTML form data). A
    /// `%` not followed by two hex digits is kept as it is: a search box must accept `100%`.
    static func decode(_ raw: some Collection<UInt8>, plusAsSpace: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let byte = raw[i]
            if byte == UInt8(ascii: "%") {
                let h = raw.index(after: i)
                if h < raw.endIndex, raw.index(after: h) < raw.endIndex, let high = hexValue(raw[h]),
                    let low = hexValue(raw[raw.index(after: h)])
                {
                    out.append(high << 4 | low)
                    i = raw.index(h, offsetBy: 2)
                    continue
                }
            }
            out.append(plusAsSpace && byte == UInt8(ascii: "+") ? 0x20 : byte)
            i = raw.index(after: i)
        }
        return out
    }

    /// `path` with escapes of unreserved characters decoded (`/%65n/` is `/en/`, RFC 3986 §6.2.2.2), every other
    /// escape kept as sent; nil when there is none to decode (the common case costs one scan, no allocation).
    static func decodeUnreserved(_ path: ArraySlice<UInt8>) -> [UInt8]? {
        guard path.contains(UInt8(ascii: "%")) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(path.count)
        var changed = false
        var i = path.startIndex
        while i < path.endIndex {
            if path[i] == UInt8(ascii: "%"), i + 2 < path.endIndex, let high = hexValue(path[i + 1]),
                let low = hexValue(path[i + 2]), isUnreserved(high << 4 | low)
            {
                out.append(high << 4 | low)
                changed = true
                i += 3
                continue
            }
            out.append(path[i])
            i += 1
        }
        return changed ? out : nil
    }

    private static func encode(_ text: String, keep: (UInt8) -> Bool) -> String {
        guard !text.utf8.allSatisfy(keep) else { return text }
        var out: [UInt8] = []
        for byte in text.utf8 {
            if keep(byte) { out.append(byte) } else { appendEscape(byte, to: &out) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "%"))
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }

    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
