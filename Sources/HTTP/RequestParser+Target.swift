// The forms of request target (RFC 9112 §3.2) and the host syntax shared by the absolute form and `Host`.
//
//   origin-form     /path?query                    path and query taken as sent (still percent-encoded)
//   absolute-form   http://host:port/path?query    authority replaces Host; empty path means "/"
//   asterisk-form   *                              OPTIONS only
//   authority-form  host:port                      CONNECT only, refused earlier with 501

extension RequestParser {
    /// The parts of a request target; ranges index the input span.
    struct TargetParts {
        /// The path, before any `?`. Empty only for an absolute-form target with no path, which
        /// RFC 9110 §4.2.3 makes equivalent to `/`.
        var path: Range<Int>
        /// The query, after the `?`.
        var query: Range<Int>?
        /// The authority of an absolute-form target.
        var authority: Range<Int>?
    }

    /// Splits the target of `line` into path, query and authority, refusing the forms we do not serve.
    /// The target's bytes were checked while scanning the line: visible ASCII, no `#`.
    func parseTarget(_ b: Span<UInt8>, _ line: RequestLine) throws(ParseStop) -> TargetParts {
        let target = line.target
        let pathEnd = line.queryMark ?? target.upperBound
        let query = line.queryMark.map { ($0 + 1)..<target.upperBound }

        switch b[target.lowerBound] {
        case ASCII.slash:
            return TargetParts(path: target.lowerBound..<pathEnd, query: query, authority: nil)
        case ASCII.asterisk:
            // RFC 9112 §3.2.4: the asterisk form is only for a server-wide OPTIONS.
            guard target.count == 1 && line.method == .options else { throw .failure(.invalidTarget) }
            return TargetParts(path: target, query: nil, authority: nil)
        default:
            // RFC 9112 §3.2.2: absolute-form, which a server MUST accept. Only http and https (RFC 9110 §4.2),
            // scheme case-insensitive. Target bytes are visible ASCII, where `| 0x20` only folds letters.
            var i = target.lowerBound
            if target.count >= 7 && packed(b, i, 7, lowercased: true) == Word.httpScheme {
                i += 7
            } else if target.count >= 8 && packed(b, i, 8, lowercased: true) == Word.httpsScheme {
                i += 8
            } else {
                throw .failure(.invalidTarget)
            }
            let authorityStart = i
            while i < pathEnd && b[i] != ASCII.slash { i += 1 }
            let authority = authorityStart..<i
            // No userinfo (RFC 9110 §4.2.4): `@` is not a host byte, so `isValidHost` refuses it.
            guard isValidHost(b, authority) else { throw .failure(.invalidTarget) }
            return TargetParts(path: i..<pathEnd, query: query, authority: authority)
        }
    }
}

/// Whether `b[range]` is `host [":" port]` (RFC 3986 §3.2.2–3.2.3): a non-empty reg-name or IPv4 address
/// (unreserved, sub-delims, `%XX`) or a bracketed IP-literal, then an optional colon and decimal port.
func isValidHost(_ b: Span<UInt8>, _ range: Range<Int>) -> Bool {
    var i = range.lowerBound
    let end = range.upperBound
    guard i < end else { return false }
    if b[i] == ASCII.leftBracket {
        i += 1
        let literalStart = i
        while i < end && isIPLiteralByte(b[i]) { i += 1 }
        guard i < end && i > literalStart && b[i] == ASCII.rightBracket else { return false }
        i += 1
    } else {
        let nameStart = i
        while true {
            i = skipHostNameBytes(b, from: i, to: end)
            guard i < end && isRegNameByte(b[i]) else { break }
            if b[i] == ASCII.percent {
                guard i + 2 < end && isHexDigit(b[i + 1]) && isHexDigit(b[i + 2]) else { return false }
                i += 2
            }
            i += 1
        }
        guard i > nameStart else { return false }
    }
    guard i < end else { return true }
    guard b[i] == ASCII.colon else { return false }
    i += 1
    while i < end {
        guard digitValue(b[i]) < 10 else { return false }
        i += 1
    }
    return true
}
