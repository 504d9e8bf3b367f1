/// The `q` parameter of a search request, decoded and checked.
///
/// ```
/// nil, "", "q=", "q=+++"       → .empty           the form alone (200)
/// "q=tls+1.3", "q=%C3%A9t%C3%A9" → .words("tls 1.3"), .words("été")
/// "q=%FF"                      → .invalid         not UTF-8 once decoded (400, with the form)
/// "q=" + 201 characters        → .tooLong         (400, with the form)
/// ```
/// The query string is decoded as HTML forms encode it (`application/x-www-form-urlencoded`: `+` is a space,
/// `%XX` a byte); a stray `%` stays literal. Control characters become spaces, runs of spaces one, and the
/// ends are trimmed. What remains goes to `ContentStore.search`, which treats any text safely.
enum SearchInput: Equatable, Sendable {
    case empty
    case words(String)
    case tooLong
    case invalid

    /// The longest query searched, in characters: a search box, not a document.
    static let maximumCharacters = 200

    /// The search input of a raw query string (after `?`, still encoded), or of none.
    init(query: ArraySlice<UInt8>?) {
        guard let query, let raw = Self.parameter("q", in: query) else {
            self = .empty
            return
        }
        // Four bytes per character at most: anything longer is too long before decoding it fully.
        guard raw.count <= Self.maximumCharacters * 4 * 3 else {
            self = .tooLong
            return
        }
        let decoded = PercentEncoding.decode(raw, plusAsSpace: true)
        guard let text = String(validating: decoded, as: UTF8.self) else {
            self = .invalid
            return
        }
        var cleaned = ""
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar == " " || scalar == "\u{A0}" {
                pendingSpace = !cleaned.isEmpty
                continue
            }
            if pendingSpace {
                cleaned.unicodeScalars.append(" ")
                pendingSpace = false
            }
            cleaned.unicodeScalars.append(scalar)
        }
        if cleaned.isEmpty {
            self = .empty
        } else if cleaned.count > Self.maximumCharacters {
            self = .tooLong
        } else {
            self = .words(cleaned)
        }
    }

    /// The raw (still encoded) value of the first parameter called `name` in `query`, `&`-separated.
    static func parameter(_ name: String, in query: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let key = Array(name.utf8)
        var start = query.startIndex
        while start <= query.endIndex {
            let end = query[start...].firstIndex(of: UInt8(ascii: "&")) ?? query.endIndex
            let pair = query[start..<end]
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                if pair[..<equals].elementsEqual(key) { return pair[(equals + 1)...] }
            } else if pair.elementsEqual(key) {
                return pair[end...]  // "q" alone: an empty value
            }
            start = end + 1
        }
        return nil
    }

    /// The words searched, or "" for the other cases (to fill the search box).
    var text: String {
        if case .words(let text) = self { return text }
        return ""
    }
}
