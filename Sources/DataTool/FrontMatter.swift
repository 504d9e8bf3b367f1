import Yams

/// An article source file split into its YAML front matter fields and its body.
///
/// ```text
/// ---                      line 1: exactly three hyphens
/// slug: …                  YAML mapping, read with Yams
/// ---                      the first line that is exactly three hyphens ends it
/// Body…                    Markdown (or HTML for a .html file)
/// ```
struct FrontMatter {
    /// The fields of an article, as written.
    var slug: String
    var lang: String
    var translationKey: String
    var title: String
    var description: String
    var published: String
    var updated: String?
    var tags: [String]
    var image: String
    /// Everything after the closing `---`.
    var body: String

    /// The fields the source format defines; any other is refused, so a typo does not go unnoticed.
    static let fields: Set<String> = [
        "slug", "lang", "translation_key", "title", "description", "published", "updated", "tags", "image",
    ]

    /// Parses `text`, the content of `file` (a path relative to the source directory, for messages). Every
    /// problem found is thrown together, each naming the file and the field.
    init(parsing text: String, file: String) throws(BuildProblems) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingSuffix("\r") }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        guard lines.first == "---", let end = lines.dropFirst().firstIndex(of: "---") else {
            throw BuildProblems(
                "\(file): no front matter (the file must start with a line `---` and a block ending `---`)")
        }
        let yaml = lines[1..<end].joined(separator: "\n")
        body = lines[(end + 1)...].joined(separator: "\n")
        guard case .mapping(let mapping) = try YAMLReading.compose(yaml, file: file, lineOffset: 1) else {
            throw BuildProblems("\(file): the front matter is not a YAML mapping of fields")
        }
        var problems: [String] = []
        for key in YAMLReading.keys(mapping) where !Self.fields.contains(key) {
            problems.append("\(file): \(key): unknown field (allowed: \(Self.fields.sorted().joined(separator: ", ")))")
        }
        func required(_ field: String) -> String {
            guard let node = mapping[field] else {
                problems.append("\(file): \(field): missing")
                return ""
            }
            guard case .scalar = node else {
                problems.append("\(file): \(field): should be a single value, not a list or a mapping")
                return ""
            }
            guard let value = YAMLReading.text(node), !value.allSatisfy(\.isWhitespace) else {
                problems.append("\(file): \(field): empty")
                return ""
            }
            return value
        }
        slug = required("slug")
        lang = required("lang")
        translationKey = required("translation_key")
        title = required("title")
        description = required("description")
        published = required("published")
        image = required("image")
        updated = YAMLReading.text(mapping["updated"])
        tags = []
        switch mapping["tags"] {
        case .none:
            problems.append("\(file): tags: missing")
        case .sequence(let sequence):
            for node in sequence {
                guard let tag = YAMLReading.text(node) else {
                    problems.append("\(file): tags: each entry should be a tag key")
                    continue
                }
                tags.append(tag)
            }
            if tags.isEmpty { problems.append("\(file): tags: at least one tag is required") }
        default:
            problems.append("\(file): tags: should be a list of tag keys, e.g. [docker, tls]")
        }
        if !problems.isEmpty { throw BuildProblems(problems) }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : self
    }
}
