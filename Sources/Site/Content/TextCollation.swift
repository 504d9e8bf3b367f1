/// A locale-free ordering for names and titles that reads right in French and English: case and the common
/// Latin accents are ignored first (`nginx` beside `Networking`, `Sécurité` before `SQLite`), then the exact
/// text breaks ties so the order is total and stable.
public enum TextCollation {
    /// Whether `a` sorts before `b`.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        let keyA = key(a)
        let keyB = key(b)
        return keyA != keyB ? keyA < keyB : a < b
    }

    /// `text` lowercased with accents folded (`É` → `e`, `œ` → `oe`).
    public static func key(_ text: String) -> String {
        var key = ""
        key.reserveCapacity(text.utf8.count)
        for scalar in text.lowercased().unicodeScalars {
            if let folded = folding[scalar] { key += folded } else { key.unicodeScalars.append(scalar) }
        }
        return key
    }

    private static let folding: [Unicode.Scalar: String] = {
        var table: [Unicode.Scalar: String] = [:]
        let groups: [(String, String)] = [
            ("àáâãäå", "a"), ("ç", "c"), ("èéêë", "e"), ("ìíîï", "i"), ("ñ", "n"), ("òóôõöø", "o"),
            ("ùúûü", "u"), ("ýÿ", "y"), ("æ", "ae"), ("œ", "oe"), ("ß", "ss"),
        ]
        for (letters, base) in groups {
            for scalar in letters.unicodeScalars { table[scalar] = base }
        }
        return table
    }()
}
