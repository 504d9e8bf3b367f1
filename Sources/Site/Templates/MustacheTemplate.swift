// Why our own Mustache engine: hummingbird-project/swift-mustache 2.1.1, the well-kept choice, imports
// Foundation. Measured on x86_64 Linux, Swift 6.3.1, a throwaway package, `swift build -c release
// --static-swift-stdlib`, then `strip`: an executable rendering one template with it is 57,949,944 bytes; the
// same program without it 6,078,552 bytes, so +51.9 MB, against an image budget of 30 MB. This engine covers
// the spec subset the site uses (interpolation, sections, inverted sections, comments, partials, standalone
// lines) and is tested against the spec's own cases (Tests/SiteTests/TemplateSpecTests.swift).

/// A parsed Mustache template (https://mustache.github.io/mustache.5.html), ready to render any number of
/// times from any thread.
///
/// Supported: `{{name}}` (HTML-escaped), `{{{name}}}` and `{{&name}}` (raw), dotted names and `{{.}}`,
/// `{{#section}}…{{/section}}` over lists, objects and other true values, `{{^inverted}}…{{/inverted}}`,
/// `{{! comments }}`, `{{> partial}}` (indented like its standalone tag), and the spec's standalone-line rule:
/// a line holding only whitespace and one section, inverted, close, comment or partial tag leaves nothing in
/// the output. Not supported, refused with a `TemplateError`: set-delimiter tags (`{{=<% %>=}}`) and lambdas.
///
/// Parsing happens once per content generation (`TemplateLibrary.load`), never per request.
struct MustacheTemplate: Sendable {
    /// The template's name: its path below the templates directory without `.mustache` (`partials/tag-list`).
    let name: String
    /// The parsed tree.
    let nodes: [MustacheNode]
    /// Every partial name the template refers to, at any depth of its tree.
    let partialNames: Set<String>

    /// Parses `source`; `name` is used in error messages and by `TemplateLibrary`.
    init(name: String, source: some Collection<UInt8>) throws(TemplateError) {
        let bytes = Array(source)
        self.name = name
        var parser = MustacheParser(name: name, source: bytes)
        self.nodes = try parser.parse()
        self.partialNames = parser.partialNames
    }

    /// Parses `source`, a string (tests).
    init(name: String = "inline", _ source: String) throws(TemplateError) {
        try self.init(name: name, source: Array(source.utf8))
    }
}

/// One piece of a parsed template.
indirect enum MustacheNode: Sendable {
    /// Literal text, copied as is.
    case text([UInt8])
    /// `{{name}}` (escaped) or `{{{name}}}`/`{{&name}}` (raw).
    case variable(MustacheName, escaped: Bool)
    /// `{{#name}}…{{/name}}`, or `{{^name}}…{{/name}}` when `inverted`.
    case section(MustacheName, [MustacheNode], inverted: Bool)
    /// `{{> name}}`; `indent` is the whitespace before a standalone partial tag, put before each of its lines.
    case partial(String, indent: [UInt8])
}

/// A tag's name split at dots; `{{.}}`, the implicit iterator, has no parts.
struct MustacheName: Sendable, Equatable {
    /// `["a", "b"]` for `a.b`; empty for `.`.
    let parts: [String]
    /// The name as written, for error messages.
    let text: String

    init(_ text: String) {
        self.text = text
        self.parts = text == "." ? [] : text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }
}

/// Why a template could not be loaded; `description` names the file, the line and the problem.
struct TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The template's name (`article`, `partials/tag-list`).
    let template: String
    /// The 1-based line of the problem, or 0 when it concerns the whole file.
    let line: Int
    /// What is wrong.
    let message: String
    /// The template files read before the error, the faulty one included (`TemplateLibrary` fills it, so a
    /// reload can watch the file to fix).
    var filesRead: [String] = []

    var description: String {
        line > 0
            ? "template \(template).mustache line \(line): \(message)" : "template \(template).mustache: \(message)"
    }
}
