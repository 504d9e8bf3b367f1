/// Turns template bytes into `MustacheNode`s in three steps:
///
/// ```
/// 1. scan      "a\n  {{#s}}\n{{x}}\n  {{/s}}\n"  → tags at their byte ranges: #s [4,10)  x [11,16)  /s [19,25)
/// 2. standalone  a section/inverted/close/comment/partial tag alone on its line (only spaces or tabs around it)
///                consumes the whole line, its newline included: #s [2,11)  /s [17,26)
/// 3. tree      the text between consumed ranges becomes .text; sections nest by a stack of open tags
/// ```
/// Every failure names the line: unclosed tag, unclosed or mismatched section, empty or spaced name,
/// set-delimiter tag.
struct MustacheParser {
    private let name: String
    private let source: [UInt8]
    /// The partials referred to, filled by `parse()`.
    private(set) var partialNames: Set<String> = []

    init(name: String, source: [UInt8]) {
        self.name = name
        self.source = source
    }

    /// One tag as found by the scan.
    private struct Tag {
        /// `0` for a variable, else the sigil: `{ & # ^ / ! >`.
        var kind: UInt8
        var name: String
        /// The tag itself, braces included.
        var range: Range<Int>
        /// What it removes from the output: `range`, or its whole line when standalone.
        var consumed: Range<Int>
        /// The whitespace before a standalone tag (partials indent with it).
        var indent: [UInt8] = []
        var line: Int
    }

    private static let open: [UInt8] = Array("{{".utf8)
    private static let close: [UInt8] = Array("}}".utf8)
    private static let tripleClose: [UInt8] = Array("}}}".utf8)

    /// The nodes of the whole template.
    mutating func parse() throws(TemplateError) -> [MustacheNode] {
        let tags = try markStandalone(try scan())

        // A stack of open sections: the nodes collected so far at each depth, and the tag that opened it.
        var stack: [(tag: Tag?, nodes: [MustacheNode])] = [(nil, [])]
        var textStart = 0
        for tag in tags {
            if tag.consumed.lowerBound > textStart {
                stack[stack.count - 1].nodes.append(.text(Array(source[textStart..<tag.consumed.lowerBound])))
            }
            textStart = tag.consumed.upperBound
            switch tag.kind {
            case UInt8(ascii: "!"):
                break
            case UInt8(ascii: "#"), UInt8(ascii: "^"):
                stack.append((tag, []))
            case UInt8(ascii: "/"):
                guard stack.count > 1, let opener = stack.last?.tag else {
                    throw error(tag.line, "'{{/\(tag.name)}}' closes no open section")
                }
                guard opener.name == tag.name else {
                    throw error(tag.line, "'{{/\(tag.name)}}' closes '\(opener.name)' opened on line \(opener.line)")
                }
                let children = stack.removeLast().nodes
                stack[stack.count - 1].nodes.append(
                    .section(MustacheName(opener.name), children, inverted: opener.kind == UInt8(ascii: "^")))
            case UInt8(ascii: ">"):
                partialNames.insert(tag.name)
                stack[stack.count - 1].nodes.append(.partial(tag.name, indent: tag.indent))
            case UInt8(ascii: "{"), UInt8(ascii: "&"):
                stack[stack.count - 1].nodes.append(.variable(MustacheName(tag.name), escaped: false))
            default:
                stack[stack.count - 1].nodes.append(.variable(MustacheName(tag.name), escaped: true))
            }
        }
        if textStart < source.count {
            stack[stack.count - 1].nodes.append(.text(Array(source[textStart...])))
        }
        if stack.count > 1, let opener = stack.last?.tag {
            throw error(opener.line, "section '\(opener.name)' is never closed")
        }
        return stack[0].nodes
    }

    // MARK: - Step 1: scan

    private func scan() throws(TemplateError) -> [Tag] {
        var tags: [Tag] = []
        var index = 0
        var line = 1
        var lineCountedTo = 0
        while let start = find(Self.open, from: index) {
            for i in lineCountedTo..<start where source[i] == UInt8(ascii: "\n") { line += 1 }
            lineCountedTo = start
            var contentStart = start + 2
            var kind: UInt8 = 0
            if contentStart < source.count {
                switch source[contentStart] {
                case UInt8(ascii: "{"), UInt8(ascii: "&"), UInt8(ascii: "#"), UInt8(ascii: "^"), UInt8(ascii: "/"),
                    UInt8(ascii: "!"), UInt8(ascii: ">"):
                    kind = source[contentStart]
                    contentStart += 1
                case UInt8(ascii: "="):
                    throw error(line, "set-delimiter tags are not supported")
                default:
                    break
                }
            }
            let closer = kind == UInt8(ascii: "{") ? Self.tripleClose : Self.close
            guard let contentEnd = find(closer, from: contentStart) else { throw error(line, "unclosed tag '{{'") }
            let end = contentEnd + closer.count
            var tagName = ""
            if kind != UInt8(ascii: "!") {
                let raw = source[contentStart..<contentEnd]
                let trimmed = raw.drop(while: Self.isSpace).reversed().drop(while: Self.isSpace).reversed()
                guard !trimmed.isEmpty else { throw error(line, "empty tag name") }
                guard
                    !trimmed.contains(where: { Self.isSpace($0) || $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") })
                else { throw error(line, "invalid tag name '\(String(decoding: raw, as: UTF8.self))'") }
                tagName = String(decoding: trimmed, as: UTF8.self)
            }
            tags.append(Tag(kind: kind, name: tagName, range: start..<end, consumed: start..<end, line: line))
            index = end
        }
        return tags
    }

    // MARK: - Step 2: standalone lines

    /// Widens the consumed range of each standalone tag to its whole line (spec: "Standalone Lines").
    private func markStandalone(_ scanned: [Tag]) throws(TemplateError) -> [Tag] {
        var tags = scanned
        var previousEnd = 0
        for i in tags.indices {
            defer { previousEnd = tags[i].consumed.upperBound }
            switch tags[i].kind {
            case UInt8(ascii: "#"), UInt8(ascii: "^"), UInt8(ascii: "/"), UInt8(ascii: "!"), UInt8(ascii: ">"):
                break
            default:
                continue
            }
            let range = tags[i].range
            // Left: only spaces/tabs back to the start of the line (or of the template), and no other tag.
            var lineStart = range.lowerBound
            while lineStart > previousEnd, Self.isBlank(source[lineStart - 1]) { lineStart -= 1 }
            guard lineStart == 0 || source[lineStart - 1] == UInt8(ascii: "\n") else { continue }
            // Right: only spaces/tabs up to the newline (LF or CRLF) or the end of the template.
            var lineEnd = range.upperBound
            while lineEnd < source.count, Self.isBlank(source[lineEnd]) { lineEnd += 1 }
            if lineEnd == source.count {
                // Standalone on the last line.
            } else if source[lineEnd] == UInt8(ascii: "\n") {
                lineEnd += 1
            } else if source[lineEnd] == UInt8(ascii: "\r"), lineEnd + 1 < source.count,
                source[lineEnd + 1] == UInt8(ascii: "\n")
            {
                lineEnd += 2
            } else {
                continue
            }
            tags[i].consumed = lineStart..<lineEnd
            tags[i].indent = Array(source[lineStart..<range.lowerBound])
        }
        return tags
    }

    // MARK: - Bytes

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard needle.count <= source.count else { return nil }
        var i = start
        let last = source.count - needle.count
        while i <= last {
            if source[i] == needle[0] {
                var j = 1
                while j < needle.count, source[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    private static func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    private func error(_ line: Int, _ message: String) -> TemplateError {
        TemplateError(template: name, line: line, message: message)
    }
}
