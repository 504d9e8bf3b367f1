/// Turns what a visitor typed into an FTS5 query that cannot fail to parse.
///
/// FTS5's query language gives meaning to `"`, `*`, `^`, `:`, `(`, `)`, `+`, `-`, `NEAR`, `AND`, `OR`, `NOT`
/// and column names; a query using them wrongly is an error, not an empty result. So every word becomes an FTS5
/// string (`"word"`, inner quotes doubled), and the strings are joined with `AND`: whatever the input, the
/// result is a list of plain phrases (https://sqlite.org/fts5.html §3.1–3.2).
///
/// ```text
/// title:x NEAR( "a   →   "title:x" AND "NEAR(" AND """a"
/// ```
/// Inside a string the tokenizer still splits on punctuation, so `"title:x"` searches the phrase "title x".
public enum SearchQuery {
    /// At most this many characters of the input are read.
    public static let maximumCharacters = 256
    /// At most this many words are kept.
    public static let maximumWords = 32

    /// The FTS5 `MATCH` expression for `input`, or nil when it holds no word to search for (empty, only
    /// punctuation or control characters).
    public static func matchExpression(_ input: String) -> String? {
        var cleaned = ""
        for character in input.prefix(maximumCharacters) {
            // Control characters (NUL included) and the snippet markers are not searchable text.
            let isNoise = character.unicodeScalars.contains {
                $0.properties.generalCategory == .control || SearchSnippet.isMarker($0)
            }
            cleaned.append(isNoise ? " " : character)
        }
        let words =
            cleaned
            .split(whereSeparator: \.isWhitespace)
            .filter { word in word.contains { $0.isLetter || $0.isNumber } }  // "*" or ")(" index no token
            .prefix(maximumWords)
        guard !words.isEmpty else { return nil }
        return words.map { "\"" + $0.replacing("\"", with: "\"\"") + "\"" }.joined(separator: " AND ")
    }
}

/// Snippet markers and their conversion to HTML.
///
/// FTS5's `snippet()` and `highlight()` put given strings around each match in the raw text. The raw text
/// still has to be HTML-escaped, which would escape `<mark>` too, so the markers are two private-use
/// characters that never occur in indexed text (`ContentWriter.searchText` removes them), replaced by
/// `<mark>` and `</mark>` after escaping.
enum SearchSnippet {
    static let open: Unicode.Scalar = "\u{E000}"
    static let close: Unicode.Scalar = "\u{E001}"

    static func isMarker(_ scalar: Unicode.Scalar) -> Bool { scalar == open || scalar == close }

    /// `raw` HTML-escaped, markers turned into balanced `<mark>…</mark>` pairs.
    static func html(_ raw: String) -> String {
        var output = ""
        output.reserveCapacity(raw.utf8.count + 32)
        var isOpen = false
        for scalar in raw.unicodeScalars {
            switch scalar {
            case open where !isOpen:
                output += "<mark>"
                isOpen = true
            case close where isOpen:
                output += "</mark>"
                isOpen = false
            case open, close:
                break
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.unicodeScalars.append(scalar)
            }
        }
        if isOpen { output += "</mark>" }
        return output
    }

    /// Whether `raw` has at least one marked match.
    static func hasMatch(_ raw: String) -> Bool {
        raw.unicodeScalars.contains(open)
    }
}
