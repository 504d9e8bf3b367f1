/// Picks the site language a visitor reads best from `Accept-Language` (RFC 9110 §12.5.4, with RFC 4647 §3.4
/// lookup: a range matches a site language when they are equal or the range starts with it and a `-`, so
/// `fr-CH` finds `fr`; a plain `en` range also finds a site language `en-GB`).
///
/// ```
/// "fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5"  with [en, fr]  → fr
/// "de, en;q=0.5"                         with [fr, en]  → en
/// "de"                                   with [fr, en]  → fr   (nothing matches: the default, the first)
/// "*"                                    with [fr, en]  → fr   (anything: the default)
/// "fr;q=0, *"                            with [fr, en]  → en   (q=0: "not acceptable")
/// ```
/// Ranges are tried by decreasing q, ties in the order sent. Malformed members are skipped; nothing here
/// can fail.
enum LanguageNegotiation {
    /// The best of `available` (non-empty, the first the default) for the header value `acceptLanguage`.
    static func best(_ acceptLanguage: String?, available: [String]) -> String {
        let fallback = available.first ?? "en"
        guard let acceptLanguage else { return fallback }
        let ranges = parse(acceptLanguage)
        let refused = Set(available.filter { lang in ranges.contains { $0.q == 0 && matches($0.range, lang) } })
        let acceptable = available.filter { !refused.contains($0) }
        for entry in ranges where entry.q > 0 {
            if entry.range == "*" {
                if let first = acceptable.first { return first }
                continue
            }
            if let lang = acceptable.first(where: { matches(entry.range, $0) }) { return lang }
        }
        // Nothing matched: the default, unless it was refused and another language was not.
        return acceptable.first ?? fallback
    }

    /// The language ranges of a header value with their weights (0…1000), sorted by weight, stable.
    static func parse(_ value: String) -> [(range: String, q: Int)] {
        var entries: [(range: String, q: Int, order: Int)] = []
        for (order, member) in value.split(separator: ",").enumerated() {
            let parts = member.split(separator: ";")
            guard let rawRange = parts.first else { continue }
            let range = rawRange.trimmingSpaces().lowercased()
            guard !range.isEmpty, range.utf8.allSatisfy(isRangeByte) else { continue }
            var q = 1000
            for parameter in parts.dropFirst() {
                let p = parameter.trimmingSpaces()
                guard p.hasPrefix("q=") || p.hasPrefix("Q=") else { continue }
                guard let weight = qValue(p.dropFirst(2)) else {
                    q = -1
                    break
                }
                q = weight
            }
            if q >= 0 { entries.append((range, q, order)) }
        }
        entries.sort { $0.q != $1.q ? $0.q > $1.q : $0.order < $1.order }
        return entries.map { ($0.range, $0.q) }
    }

    /// Whether the language range `range` (lowercased) covers the site language `lang`.
    static func matches(_ range: String, _ lang: String) -> Bool {
        if range == "*" { return true }
        let lang = lang.lowercased()
        return range == lang || range.hasPrefix(lang + "-") || lang.hasPrefix(range + "-")
    }

    /// RFC 9110 §12.4.2 `qvalue` as thousandths: `0`, `0.5`, `1`, `1.000`; nil when malformed.
    static func qValue(_ text: Substring) -> Int? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1"), bytes.count <= 5
        else { return nil }
        var value = Int(first - UInt8(ascii: "0")) * 1000
        if bytes.count > 1 {
            guard bytes[1] == UInt8(ascii: ".") else { return nil }
            var scale = 100
            for byte in bytes.dropFirst(2) {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value += Int(byte - UInt8(ascii: "0")) * scale
                scale /= 10
            }
        }
        return value <= 1000 ? value : nil
    }

    private static func isRangeByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            || c == UInt8(ascii: "-") || c == UInt8(ascii: "*")
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[start...end]
    }
}
