internal import CSQLite

/// Owns one `sqlite3 *`. Opened by `init`, closed in `deinit`. Not thread-safe by itself: a connection
/// shared between threads is kept behind a lock (see `ContentStore`).
final class SQLiteConnection {
    private let db: OpaquePointer
    /// The file this connection opened, for messages.
    let path: String

    /// How to open the file.
    enum Mode {
        /// `SQLITE_OPEN_READONLY`: never writes, never creates. The URI `immutable` flag is not used: an
        /// operator may replace the file, and SQLite must then not trust stale pages.
        case readOnly
        /// `SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE`: the writer's mode.
        case readWriteCreate
    }

    /// Opens `path`. Throws with SQLite's message when the file cannot be opened; a file that is not a
    /// database is only detected by the first statement (SQLite reads the header lazily).
    init(path: String, mode: Mode) throws(SQLiteError) {
        let flags: Int32 =
            switch mode {
            case .readOnly: SQLITE_OPEN_READONLY
            case .readWriteCreate: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
            }
        var handle: OpaquePointer?
        // SQLITE_OPEN_EXRESCODE: extended result codes, so errors say e.g. SQLITE_CANTOPEN_ISDIR.
        let code = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_EXRESCODE, nil)
        guard code == SQLITE_OK, let handle else {
            // sqlite3_open_v2 hands back a handle even on failure (for the message); it must still be closed.
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(handle)
            throw SQLiteError(call: "sqlite3_open_v2", code: code, message: message)
        }
        self.db = handle
        self.path = path
    }

    deinit {
        // _v2: statements not yet finalized keep the connection alive until they are (a zombie close).
        sqlite3_close_v2(db)
    }

    /// Runs one or more `;`-separated statements that return no rows of interest (DDL, pragmas, writes).
    func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        guard code == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(errorMessage)
            throw SQLiteError(call: "sqlite3_exec", code: code, message: message)
        }
    }

    /// Compiles one statement.
    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw SQLiteError(call: "sqlite3_prepare_v2", code: code, message: lastErrorMessage)
        }
        return SQLiteStatement(statement, connection: self)
    }

    /// Runs one statement with `bindings` (`?1`, `?2`… in order) and returns all its rows.
    func rows(_ sql: String, _ bindings: SQLiteValue...) throws(SQLiteError) -> [[SQLiteValue]] {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        var rows: [[SQLiteValue]] = []
        while try statement.step() {
            rows.append(statement.row())
        }
        return rows
    }

    /// `PRAGMA user_version`: the schema version the writer stored.
    func userVersion() throws(SQLiteError) -> Int32 {
        let value = try rows("PRAGMA user_version").first?.first?.integer ?? 0
        return Int32(truncatingIfNeeded: value)
    }

    /// SQLite's message for the last failed call on this connection.
    var lastErrorMessage: String { String(cString: sqlite3_errmsg(db)) }

    /// The result code of the last failed call, extended.
    var lastErrorCode: Int32 { sqlite3_extended_errcode(db) }
}
