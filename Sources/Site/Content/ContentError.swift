/// Why a data package could not be opened or loaded; `message` names the file and the problem.
public struct ContentError: Error, CustomStringConvertible, Sendable {
    /// One line, e.g. "site.db has schema version 2; this mywebsite reads version 1".
    public let message: String

    /// An error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
