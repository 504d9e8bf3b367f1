import HTTP

/// Whether a request accepts `Content-Encoding: gzip` (RFC 9110 §12.5.3), read straight from the request's
/// bytes without allocating: this runs on every page hit.
///
/// ```
/// "gzip, deflate, br"     → true
/// "br;q=1.0, gzip;q=0.8"  → true
/// "gzip;q=0"              → false   (q=0: "not acceptable")
/// "*"                     → true    ("*" covers gzip when gzip is not named)
/// "*, gzip;q=0"           → false   (naming gzip overrides "*")
/// "identity" / absent     → false
/// ```
/// `x-gzip` counts as `gzip` (§8.4.1.3). A member with a malformed q-value is ignored.
enum AcceptEncoding {
    private static let headerName: [UInt8] = Array("accept-encoding".utf8)

    /// Whether `request` accepts gzip, from its first `Accept-Encoding` field.
    static func acceptsGzip(_ request: borrowing Request) -> Bool {
        let head = request.head
        for field in request.fields where field.name.count == headerName.count {
            var i = field.name.lowerBound
            var same = true
            for c in headerName {
                let h = head[i]
                if (h &- 0x41 < 26 ? h | 0x20 : h) != c {
                    same = false
                    break
                }
                i += 1
            }
            if same { return allowsGzip(head[field.value]) }
        }
        return false
    }

    /// Whether the field value `value` accepts gzip.
    static func allowsGzip(_ value: ArraySlice<UInt8>) -> Bool {
        var gzip: Bool?
        var star: Bool?
        var start = value.startIndex
        while start < value.endIndex {
            let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
            if let (coding, acceptable) = member(value[start..<end]) {
                switch coding {
                case .gzip where gzip == nil: gzip = acceptable
                case .star where star == nil: star = acceptable
                default: break
                }
            }
            start = end + 1
        }
        return gzip ?? star ?? false
    }

    private enum Coding { case gzip, star, other }

    /// One `coding [; q=value]` member: which coding, and whether its weight is above zero; nil if malformed.
    private static func member(_ bytes: ArraySlice<UInt8>) -> (Coding, Bool)? {
        var i = bytes.startIndex
        skipSpaces(bytes, &i)
        let nameStart = i
        while i < bytes.endIndex, bytes[i] != UInt8(ascii: ";"), bytes[i] != 0x20, bytes[i] != 0x09 { i += 1 }
        let name = bytes[nameStart..<i]
        let coding: Coding
        if equalsIgnoringCase(name, "gzip") || equalsIgnoringCase(name, "x-gzip") {
            coding = .gzip
        } else if name.count == 1 && name.first == UInt8(ascii: "*") {
            coding = .star
        } else if name.isEmpty {
            return nil
        } else {
            coding = .other
        }
        var acceptable = true
        // Parameters: only q matters.
        while i < bytes.endIndex {
            skipSpaces(bytes, &i)
            guard i < bytes.endIndex else { break }
            guard bytes[i] == UInt8(ascii: ";") else { return nil }
            i += 1
            skipSpaces(bytes, &i)
            let paramStart = i
            while i < bytes.endIndex, bytes[i] != UInt8(ascii: ";") { i += 1 }
            var param = bytes[paramStart..<i]
            while let last = param.last, last == 0x20 || last == 0x09 { param = param.dropLast() }
            guard param.count >= 2, param[param.startIndex] | 0x20 == UInt8(ascii: "q"),
                param[param.startIndex + 1] == UInt8(ascii: "=")
            else { continue }
            guard let positive = isPositiveQValue(param.dropFirst(2)) else { return nil }
            acceptable = positive
        }
        return (coding, acceptable)
    }

    /// `qvalue` (RFC 9110 §12.4.2): nil if malformed, else whether it is above zero.
    private static func isPositiveQValue(_ q: ArraySlice<UInt8>) -> Bool? {
        guard let first = q.first, q.count <= 5, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else {
            return nil
        }
        let rest = q.dropFirst()
        if rest.isEmpty { return first == UInt8(ascii: "1") }
        guard rest.first == UInt8(ascii: "."),
            rest.dropFirst().allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        let hasNonZeroDigit = rest.dropFirst().contains(where: { $0 != UInt8(ascii: "0") })
        if first == UInt8(ascii: "1") { return hasNonZeroDigit ? nil : true }  // above 1: malformed
        return hasNonZeroDigit
    }

    private static func skipSpaces(_ bytes: ArraySlice<UInt8>, _ i: inout Int) {
        while i < bytes.endIndex, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    }

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        var i = bytes.startIndex
        return lowercased.withUTF8Buffer { expected in
            for c in expected {
                let h = bytes[i]
                if (h &- 0x41 < 26 ? h | 0x20 : h) != c { return false }
                i += 1
            }
            return true
        }
    }
}
