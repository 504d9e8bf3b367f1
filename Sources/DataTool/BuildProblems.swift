/// Everything wrong with a source directory or a package: one line each, printed by the command, which then
/// exits non-zero.
struct BuildProblems: Error, CustomStringConvertible {
    var lines: [String]

    init(_ lines: [String]) {
        self.lines = lines
    }

    init(_ line: String) {
        self.lines = [line]
    }

    var description: String { lines.joined(separator: "\n") }
}
