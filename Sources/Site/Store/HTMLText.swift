/// Plain text from the HTML of an article body: what the search index holds and reading time counts.
public enum HTMLText {
    /// `html` with each `<pre>` that has no `tabindex` made reachable from the keyboard: a code block scrolls
    /// sideways, and a scrollable region must take focus to be scrolled without a mouse (WCAG 2.1.1; axe-core
    /// `scrollable-region-focusable`). `label` names the region for screen readers (HTML-escaped here).
    public static func focusableCodeBlocks(_ html: String, label: String) -> String {
        guard html.contains("<pre") else { return html }
        let escaped = label.replacing("&", with: "&amp;").replacing("\"", with: "&quot;").replacing("<", with: "&lt;")
        var output = ""
        output.reserveCapacity(html.utf8.count + 64)
        var rest = html[...]
        while let open = rest.firstRange(of: "<pre") {
            output += rest[..<open.upperBound]
            rest = rest[open.upperBound...]
            guard let next = rest.first, next == ">" || next == " " || next == "\n" || next == "\t" else { continue }
            let tagEnd = rest.firstIndex(of: ">") ?? rest.endIndex
            if !rest[..<tagEnd].contains("tabindex") {
                output += " tabindex=\"0\" role=\"region\" aria-label=\"\(escaped)\""
            }
        }
        output += rest
        return output
    }

    /// `html` without its tags, with the five predefined entities and numeric references decoded and runs of
    /// whitespace collapsed to one space. Not a general HTML parser: it handles what Markdown renderers emit
    /// (no scripts, no comments containing `>`).
    public static func plainText(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var pendingSpace = false
        func append(_ character: Character) {
            if character.isWhitespace {
                pendingSpace = !output.isEmpty
                return
            }
            if pendingSpace {
                output.append(" ")
                pendingSpace = false
            }
            output.append(character)
        }
        var index = html.startIndex
        while index < html.endIndex {
            let character = html[index]
            if character == "<" {
                // A tag separates words when it is a block boundary; treating every tag as a space would split
                // `<em>un</em>seen`, so only the tags that start or end blocks or lines add one.
                let end = html[index...].firstIndex(of: ">") ?? html.endIndex
                let tag = html[html.index(after: index)..<end]
                if isBlockTag(tag) { append(" ") }
                index = end < html.endIndex ? html.index(after: end) : end
            } else if character == "&", let (decoded, next) = entity(in: html, at: index) {
                append(decoded)
                index = next
            } else {
                append(character)
                index = html.index(after: index)
            }
        }
        return output
    }

    /// The number of words in `text`, where a word is a run of characters between whitespace.
    public static func wordCount(_ text: String) -> Int {
        text.split(whereSeparator: \.isWhitespace).count
    }

    private static let blockTags: Set<String> = [
        "p", "div", "br", "hr", "li", "ul", "ol", "pre", "blockquote", "table", "tr", "td", "th", "thead", "tbody",
        "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "img", "section", "article", "dd", "dt", "dl",
    ]

    private static func isBlockTag(_ tag: Substring) -> Bool {
        let name = tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }
        return blockTags.contains(name.lowercased())
    }

    /// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;`, `&#NN;` and `&#xHH;` at `start`.
    private static func entity(in html: String, at start: String.Index) -> (Character, String.Index)? {
        let rest = html[start...].prefix(12)
        guard let semicolon = rest.firstIndex(of: ";") else { return nil }
        let name = rest[rest.index(after: rest.startIndex)..<semicolon]
        let next = html.index(after: semicolon)
        switch name {
        case "amp": return ("&", next)
        case "lt": return ("<", next)
        case "gt": return (">", next)
        case "quot": return ("\"", next)
        case "apos", "#39": return ("'", next)
        case "nbsp": return (" ", next)
        default: break
        }
        guard name.first == "#" else { return nil }
        let digits = name.dropFirst()
        let value: UInt32? =
            digits.first == "x" || digits.first == "X"
            ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
        guard let value, let scalar = Unicode.Scalar(value) else { return nil }
        return (Character(scalar), next)
    }
}
