internal import Glibc

/// The site's templates, read and parsed from `TEMPLATES_PATH` once per content generation.
///
/// ```
/// web/templates/layout.mustache          the page frame: <head>, header, footer; {{{body}}} inside
/// web/templates/home.mustache            one template per page type (see `PageTemplate`)
/// web/templates/partials/tag-list.mustache   included as {{> partials/tag-list}}
/// ```
/// Loading starts from the page templates and follows every `{{> name}}` to `name.mustache`, so no
/// directory is listed and a reference to a missing partial is an error at load, not a blank at render.
/// Partial names are restricted to `[a-z0-9_-]` segments joined by `/`: a template cannot read outside the
/// directory.
struct TemplateLibrary: Sendable {
    /// Every template read, by name.
    let templates: [String: MustacheTemplate]
    /// The files read, as paths (a reload compares their `stat` to notice edits).
    let files: [String]
    private let renderer: MustacheRenderer

    /// Templates larger than this are refused: a template is a page frame, not content.
    static let maximumFileSize = 1 << 20

    /// Reads `names` from `directory` and every partial they include, transitively.
    init(directory: String, names: [String]) throws(TemplateError) {
        var templates: [String: MustacheTemplate] = [:]
        var files: [String] = []
        var pending = names.map { (name: $0, referrer: String?.none) }
        while let (name, referrer) = pending.popLast() {
            if templates[name] != nil { continue }
            guard Self.isValidName(name) else {
                throw TemplateError(
                    template: referrer ?? name, line: 0, message: "invalid partial name '\(name)'", filesRead: files)
            }
            let path = directory + "/" + name + ".mustache"
            let source: [UInt8]
            switch Self.read(path) {
            case .success(let bytes):
                source = bytes
            case .failure(let reason):
                let via = referrer.map { " (included by \($0).mustache)" } ?? ""
                throw TemplateError(
                    template: name, line: 0, message: "cannot read \(path): \(reason.text)\(via)",
                    filesRead: files + [path])
            }
            files.append(path)
            let template: MustacheTemplate
            do {
                template = try MustacheTemplate(name: name, source: source)
            } catch {
                var error = error
                error.filesRead = files
                throw error
            }
            templates[name] = template
            for partial in template.partialNames.sorted() where templates[partial] == nil {
                pending.append((partial, name))
            }
        }
        self.templates = templates
        self.files = files
        self.renderer = MustacheRenderer(partials: templates)
    }

    /// Templates given directly (tests).
    init(templates: [String: MustacheTemplate]) {
        self.templates = templates
        self.files = []
        self.renderer = MustacheRenderer(partials: templates)
    }

    /// `name` rendered with `value`; empty if there is no such template (the loader guarantees the page
    /// templates exist).
    func render(_ name: String, _ value: TemplateValue) -> [UInt8] {
        guard let template = templates[name] else { return [] }
        return renderer.render(template, value)
    }

    /// `[a-z0-9_-]+` segments joined by single `/`: no `..`, no absolute path, no hidden file.
    static func isValidName(_ name: String) -> Bool {
        let segments = name.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        return !segments.isEmpty && name.utf8.count <= 128
            && segments.allSatisfy { segment in
                !segment.isEmpty
                    && segment.allSatisfy { c in
                        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
                            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                            || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
                    }
            }
    }

    /// The whole file at `path`, or why not (`ENOENT`, too large).
    private static func read(_ path: String) -> Result<[UInt8], TemplateReadError> {
        switch FileSystem.openRegularFile(path) {
        case .failure(let error):
            return .failure(TemplateReadError(text: "\(error.call): \(String(cString: strerror(error.errno)))"))
        case .success(let (fd, identity)):
            defer { FileSystem.close(fd) }
            guard identity.size <= maximumFileSize else {
                return .failure(TemplateReadError(text: "larger than \(maximumFileSize) bytes"))
            }
            switch FileSystem.readAll(fd, count: identity.size) {
            case .failure(let error):
                return .failure(TemplateReadError(text: "\(error.call): \(String(cString: strerror(error.errno)))"))
            case .success(let bytes):
                return .success(bytes)
            }
        }
    }

    private struct TemplateReadError: Error {
        let text: String
    }
}
