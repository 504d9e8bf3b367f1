import Ink
import Site

/// Turns an article body into the HTML stored in the package: Markdown through Ink (fenced code keeps Ink's
/// `class="language-x"`, image URLs are kept as written), then every `<h2>`…`<h6>` gets an `id` made from its
/// text so sections can be linked (`## How Kaniko works` → `<h2 id="how-kaniko-works">`).
enum BodyRenderer {
    /// The HTML of a Markdown body.
    static func html(fromMarkdown markdown: String) -> String {
        addHeadingIDs(MarkdownParser().html(from: markdown))
    }

    /// The HTML of an HTML body: kept as written, headings given ids like Markdown's.
    static func html(fromHTML html: String) -> String {
        addHeadingIDs(html)
    }

    /// `html` with an `id` on each `<h2>`–`<h6>` written without attributes. Ids are the heading's text
    /// lowercased, accents folded, other characters turned to single hyphens; a repeated id gets `-2`, `-3`…
    static func addHeadingIDs(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count + 256)
        var used: Set<String> = []
        var rest = html[...]
        while let open = rest.firstRange(of: /<h([2-6])>/) {
            let level = rest[open].dropFirst(2).prefix(1)
            guard let close = rest[open.upperBound...].firstRange(of: "</h\(level)>") else { break }
            let inner = rest[open.upperBound..<close.lowerBound]
            var id = slug(HTMLText.plainText(String(inner)))
            if id.isEmpty { id = "section" }
            if used.contains(id) {
                var number = 2
                while used.contains("\(id)-\(number)") { number += 1 }
                id = "\(id)-\(number)"
            }
            used.insert(id)
            output += rest[..<open.lowerBound]
            output += "<h\(level) id=\"\(id)\">"
            output += inner
            rest = rest[close.lowerBound...]
        }
        output += rest
        return output
    }

    /// `text` as an id: ASCII letters and digits in runs joined by single hyphens.
    static func slug(_ text: String) -> String {
        var slug = ""
        var pendingHyphen = false
        for scalar in TextCollation.key(text).unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                if pendingHyphen && !slug.isEmpty { slug += "-" }
                pendingHyphen = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingHyphen = true
            }
        }
        return slug
    }
}
