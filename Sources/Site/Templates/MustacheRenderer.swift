/// Renders parsed templates against a `TemplateValue`, looking partials up in `partials`.
///
/// Names resolve as the spec says: the first part is searched from the top of the context stack down (the
/// innermost section's value first), the other parts only inside what the first found ("broken chains" give
/// nothing). A missing name renders nothing; so does a missing partial (`TemplateLibrary` refuses those at
/// load, so in the site this only happens in tests).
struct MustacheRenderer: Sendable {
    /// The templates `{{> name}}` may include, by name.
    let partials: [String: MustacheTemplate]
    /// Partials nested deeper than this render nothing: a partial that includes itself unconditionally would
    /// otherwise recurse until the stack overflows.
    static let maximumPartialDepth = 32

    init(partials: [String: MustacheTemplate] = [:]) {
        self.partials = partials
    }

    /// `template` rendered with `value` as the context.
    func render(_ template: MustacheTemplate, _ value: TemplateValue) -> [UInt8] {
        var output = Output()
        output.bytes.reserveCapacity(4096)
        var stack = [value]
        render(template.nodes, &stack, &output, depth: 0)
        return output.bytes
    }

    /// `template` rendered as a `String` (tests).
    func renderString(_ template: MustacheTemplate, _ value: TemplateValue) -> String {
        String(decoding: render(template, value), as: UTF8.self)
    }

    private func render(_ nodes: [MustacheNode], _ stack: inout [TemplateValue], _ output: inout Output, depth: Int) {
        for node in nodes {
            switch node {
            case .text(let bytes):
                output.text(bytes)
            case .variable(let name, let escaped):
                let value = Self.lookup(name, in: stack)
                output.value(value.text, escaped: escaped)
            case .section(let name, let children, let inverted):
                let value = Self.lookup(name, in: stack)
                if inverted {
                    if !value.isTruthy { render(children, &stack, &output, depth: depth) }
                } else if case .list(let items) = value {
                    for item in items {
                        stack.append(item)
                        render(children, &stack, &output, depth: depth)
                        stack.removeLast()
                    }
                } else if value.isTruthy {
                    stack.append(value)
                    render(children, &stack, &output, depth: depth)
                    stack.removeLast()
                }
            case .partial(let name, let indent):
                guard depth < Self.maximumPartialDepth, let partial = partials[name] else { continue }
                let outer = output.indent
                if !indent.isEmpty {
                    // The standalone tag consumed its line, so the partial starts at the start of a line.
                    output.indent = outer + indent
                    output.atLineStart = true
                }
                render(partial.nodes, &stack, &output, depth: depth + 1)
                output.indent = outer
            }
        }
    }

    /// The value `name` resolves to on `stack` (top last), or `.null`.
    static func lookup(_ name: MustacheName, in stack: [TemplateValue]) -> TemplateValue {
        guard let first = name.parts.first else { return stack.last ?? .null }
        var found: TemplateValue?
        for frame in stack.reversed() {
            if let value = frame[first] {
                found = value
                break
            }
        }
        guard var value = found else { return .null }
        for part in name.parts.dropFirst() {
            guard let next = value[part] else { return .null }
            value = next
        }
        return value
    }

    /// The output buffer, with the indentation of the partials being rendered.
    private struct Output {
        var bytes: [UInt8] = []
        /// Put before every line of template text while inside an indented standalone partial.
        var indent: [UInt8] = []
        /// Whether the next byte starts a line (only tracked while `indent` is not empty).
        var atLineStart = false

        mutating func text(_ text: [UInt8]) {
            guard !indent.isEmpty else {
                bytes.append(contentsOf: text)
                return
            }
            for byte in text {
                if atLineStart {
                    bytes.append(contentsOf: indent)
                    atLineStart = false
                }
                bytes.append(byte)
                if byte == UInt8(ascii: "\n") { atLineStart = true }
            }
        }

        /// An interpolated value: indented only where it starts a line, never inside (spec: the partial's
        /// lines are indented, not the data's).
        mutating func value(_ text: String, escaped: Bool) {
            if !indent.isEmpty && atLineStart && !text.isEmpty {
                bytes.append(contentsOf: indent)
                atLineStart = false
            }
            if escaped {
                HTML.appendEscaped(text, to: &bytes)
            } else {
                bytes.append(contentsOf: text.utf8)
            }
        }
    }
}
