internal import CSQLite

/// Owns one `sqlite3_stmt *`, compiled by `SQLiteConnection.prepare`; finalized in `deinit`. Keeps its
/// connection alive. Calling order: `bind`, then `step` until it returns false, reading `row()` after each
/// true; `reset` to run it again.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private let connection: SQLiteConnection

    init(_ statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(statement)
    }

    /// Binds `values` to parameters 1…n, after clearing earlier bindings.
    func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        sqlite3_clear_bindings(statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null:
                code = sqlite3_bind_null(statement, index)
            case .integer(let integer):
                code = sqlite3_bind_int64(statement, index, integer)
            case .text(let text):
                guard text.utf8.count <= Int(Int32.max) else {
                    throw SQLiteError(call: "sqlite3_bind_text", code: SQLITE_TOOBIG, message: "text too long")
                }
                var text = text
                code = text.withUTF8 { utf8 in
                    // Invariant: utf8 is valid for the whole call and the shim binds with SQLITE_TRANSIENT,
                    // so SQLite has copied the bytes before withUTF8 returns; utf8.count fits Int32 (checked).
                    mywebsite_sqlite3_bind_text_transient(statement, index, utf8.baseAddress, Int32(utf8.count))
                }
            }
            guard code == SQLITE_OK else {
                throw SQLiteError(call: "sqlite3_bind", code: code, message: connection.lastErrorMessage)
            }
        }
    }

    /// Advances to the next row: true when a row is ready to read, false when the statement is done.
    func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            throw SQLiteError(
                call: "sqlite3_step", code: connection.lastErrorCode, message: connection.lastErrorMessage)
        }
    }

    /// Runs the statement to completion with `values`, ignoring any rows, then resets it for the next run.
    func run(_ values: [SQLiteValue]) throws(SQLiteError) {
        try bind(values)
        defer { reset() }
        while try step() {}
    }

    /// Rewinds the statement so it can be stepped again (bindings are kept until the next `bind`).
    func reset() {
        sqlite3_reset(statement)
    }

    /// The current row's columns. REAL reads as its integer part and BLOB as text: a data package uses
    /// neither, and a damaged one must not crash the reader.
    func row() -> [SQLiteValue] {
        let count = sqlite3_column_count(statement)
        var values: [SQLiteValue] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_NULL:
                values.append(.null)
            case SQLITE_INTEGER, SQLITE_FLOAT:
                values.append(.integer(sqlite3_column_int64(statement, column)))
            default:
                values.append(.text(text(column)))
            }
        }
        return values
    }

    /// Column `column` of the current row as UTF-8 text (invalid sequences are repaired with U+FFFD).
    private func text(_ column: Int32) -> String {
        // sqlite3_column_text first, then sqlite3_column_bytes: the order the SQLite docs require so the
        // byte count describes the converted text.
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        // Invariant: SQLite keeps `bytes` valid for `count` bytes until the next step/reset/finalize of this
        // statement, and the String copies them before this function returns.
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}
