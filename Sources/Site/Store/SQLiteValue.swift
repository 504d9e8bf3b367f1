/// A value bound to or read from SQLite: the storage classes a data package uses (no REAL, no BLOB).
enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)

    /// The text, or nil for NULL and integers.
    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The integer, or nil for NULL and text.
    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}

/// A failed SQLite call: which call, SQLite's (extended) result code and its message.
struct SQLiteError: Error, CustomStringConvertible, Sendable {
    let call: String
    let code: Int32
    let message: String

    var description: String { "\(call): \(message) (\(code))" }
}
