import Yams

/// Reads YAML into `Node` trees with Yams and turns its errors into one-line messages with the file's line
/// numbers. Values are read as the strings written (`2023-03-14` stays text, never a `Date`).
enum YAMLReading {
    /// The root node of `yaml` (nil for an empty document). `lineOffset` is added to Yams' line numbers:
    /// front matter starts on the file's second line.
    static func compose(_ yaml: String, file: String, lineOffset: Int = 0) throws(BuildProblems) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw BuildProblems("\(file): \(describe(error, lineOffset: lineOffset))")
        } catch {
            throw BuildProblems("\(file): \(error)")
        }
    }

    /// A one-line message for a Yams error, with the file's line and column when Yams knows them.
    static func describe(_ error: YamlError, lineOffset: Int) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "line \(mark.line + lineOffset), column \(mark.column): YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            return "YAML: duplicated key \(duplicates.sorted().joined(separator: ", "))"
        default:
            return "YAML: " + (String(describing: error).split(separator: "\n").first.map(String.init) ?? "")
        }
    }

    /// The text of a scalar that is not null (`~`, `null` or nothing); nil for anything else.
    static func text(_ node: Node?) -> String? {
        guard case .scalar(let scalar) = node else { return nil }
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return nil }
        return scalar.string
    }

    /// The keys of a mapping, in document order, as text.
    static func keys(_ mapping: Node.Mapping) -> [String] {
        mapping.keys.compactMap { $0.scalar?.string }
    }
}
