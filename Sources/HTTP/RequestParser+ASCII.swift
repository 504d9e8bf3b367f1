// Byte classes and word packing for the request parser. Everything here is a comparison or a shift on
// integer literals, so it inlines into the scanning loops with no table lookups and no global accessors.
// The eight-bytes-at-a-time scanners are in RequestParser+SWAR.swift.

/// The bytes the parser names.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let asterisk: UInt8 = 0x2A
    static let comma: UInt8 = 0x2C
    static let period: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let question: UInt8 = 0x3F
    static let leftBracket: UInt8 = 0x5B
    static let rightBracket: UInt8 = 0x5D
    static let percent: UInt8 = 0x25
    static let del: UInt8 = 0x7F
}

/// Membership of `c` in a set of ASCII bytes given as two 64-bit masks (bit `n` of `low` is byte `n`, bit `n`
/// of `high` is byte `64 + n`). Bytes ≥ 0x80 are never members.
@inline(__always)
func asciiSet(_ c: UInt8, low: UInt64, high: UInt64) -> Bool {
    let mask = c < 64 ? low : high
    return c < 128 && (mask &>> UInt64(c & 63)) & 1 != 0
}

/// `tchar` (RFC 9110 §5.6.2): `!#$%&'*+-.^_`|~`, digits and letters.
@inline(__always)
func isTokenByte(_ c: UInt8) -> Bool {
    asciiSet(c, low: 0x03ff_6cfa_0000_0000, high: 0x57ff_ffff_c7ff_fffe)
}

/// A byte allowed in a request target: visible ASCII (0x21–0x7E) except `#` (RFC 9112 §3.2: a target has no
/// fragment). Control bytes, space, DEL and non-ASCII are not.
@inline(__always)
func isTargetByte(_ c: UInt8) -> Bool {
    c &- 0x21 < 0x5E && c != 0x23
}

/// SP or HTAB: optional whitespace (RFC 9110 §5.6.3).
@inline(__always)
func isWhitespace(_ c: UInt8) -> Bool {
    c == ASCII.space || c == ASCII.tab
}

/// A byte of a reg-name or IPv4 address (RFC 3986 §3.2.2): unreserved, sub-delims and `%`.
@inline(__always)
func isRegNameByte(_ c: UInt8) -> Bool {
    asciiSet(c, low: 0x2bff_7ff2_0000_0000, high: 0x47ff_fffe_87ff_fffe)
}

/// A byte inside the brackets of an IP-literal (RFC 3986 §3.2.2): reg-name bytes and `:`.
@inline(__always)
func isIPLiteralByte(_ c: UInt8) -> Bool {
    asciiSet(c, low: 0x2fff_7ff2_0000_0000, high: 0x47ff_fffe_87ff_fffe)
}

/// The value of a decimal digit, or a number ≥ 10 for any other byte.
@inline(__always)
func digitValue(_ c: UInt8) -> UInt8 {
    c &- ASCII.zero
}

/// Whether `c` is a hexadecimal digit.
@inline(__always)
func isHexDigit(_ c: UInt8) -> Bool {
    c &- ASCII.zero < 10 || (c | 0x20) &- 0x61 < 6
}

/// Up to 8 bytes `b[start..<start + count]` packed little-endian into one word, so a name compares against a
/// constant in one instruction: `packed("GET") == 0x54_4547`.
///
/// With `lowercased`, every byte is ORed with 0x20. On token bytes that maps exactly the letters to lower
/// case and leaves `-` and digits alone (no other token byte lands on a letter); field values are compared
/// the same way, which is exact there too because they hold no CR (the only byte that would become `-`).
@inline(__always)
func packed(_ b: Span<UInt8>, _ start: Int, _ count: Int, lowercased: Bool = false) -> UInt64 {
    if start + 8 <= b.count {
        // One load of eight bytes, then drop those past `count`.
        let mask: UInt64 = count >= 8 ? ~0 : (1 &<< UInt64(8 * count)) &- 1
        return (SWAR.load(b, start) | (lowercased ? SWAR.ones &* 0x20 : 0)) & mask
    }
    let fold: UInt8 = lowercased ? 0x20 : 0
    var word: UInt64 = 0
    var k = 0
    while k < count {
        word |= UInt64(b[start + k] | fold) &<< UInt64(8 * k)
        k += 1
    }
    return word
}

/// Packed spellings of the words the parser recognises (see `packed`). `packedWordsMatchTheirSpelling` checks each one.
enum Word {
    static let get: UInt64 = 0x54_4547  // GET
    static let put: UInt64 = 0x54_5550  // PUT
    static let head: UInt64 = 0x4441_4548  // HEAD
    static let post: UInt64 = 0x5453_4f50  // POST
    static let patch: UInt64 = 0x48_4354_4150  // PATCH
    static let trace: UInt64 = 0x45_4341_5254  // TRACE
    static let delete: UInt64 = 0x4554_454c_4544  // DELETE
    static let options: UInt64 = 0x53_4e4f_4954_504f  // OPTIONS
    static let connect: UInt64 = 0x54_4345_4e4e_4f43  // CONNECT
    static let httpSlash: UInt64 = 0x2f_5054_5448  // HTTP/
    static let httpScheme: UInt64 = 0x2f_2f3a_7074_7468  // http://
    static let httpsScheme: UInt64 = 0x2f2f_3a73_7074_7468  // https://
    static let host: UInt64 = 0x7473_6f68  // host
    static let connecti: UInt64 = 0x6974_6365_6e6e_6f63  // connecti(on)
    static let on: UInt64 = 0x6e6f  // (connecti)on
    static let content: UInt64 = 0x2d74_6e65_746e_6f63  // content-(length)
    static let length: UInt64 = 0x6874_676e_656c  // (content-)length
    static let transfer: UInt64 = 0x7265_6673_6e61_7274  // transfer(-encoding)
    static let encodin: UInt64 = 0x6e69_646f_636e_652d  // (transfer)-encodin(g)
    static let g: UInt64 = 0x67  // (transfer-encodin)g
    static let close: UInt64 = 0x65_736f_6c63  // close
    static let keepAli: UInt64 = 0x696c_612d_7065_656b  // keep-ali(ve)
    static let ve: UInt64 = 0x6576  // (keep-ali)ve
    static let chunked: UInt64 = 0x64_656b_6e75_6863  // chunked
    static let gzip: UInt64 = 0x7069_7a67  // gzip
    static let deflate: UInt64 = 0x65_7461_6c66_6564  // deflate
    static let compress: UInt64 = 0x7373_6572_706d_6f63  // compress
    static let xGzip: UInt64 = 0x7069_7a67_2d78  // x-gzip
    static let xCompre: UInt64 = 0x6572_706d_6f63_2d78  // x-compre(ss)
    static let ss: UInt64 = 0x7373  // (x-compre)ss
}
