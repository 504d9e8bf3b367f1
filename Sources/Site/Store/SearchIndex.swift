/// The FTS5 side of a store: a read-only connection and its compiled query. Not thread-safe: `ContentStore`
/// keeps it behind a `Mutex`.
final class SearchIndex {
    /// One ranked match, before it is joined with its article.
    struct Row {
        var translationKey: String
        /// About 24 tokens of body text around the best match, markers around matches.
        var bodySnippet: String
        /// The whole description, markers around matches.
        var descriptionHighlight: String
    }

    private let connection: SQLiteConnection
    private let statement: SQLiteStatement

    /// Compiles the query on `connection`, which stays open as long as this index.
    init(_ connection: SQLiteConnection) throws(SQLiteError) {
        self.connection = connection
        // Column order: translation_key 0, lang 1, title 2, description 3, body 4. bm25 takes one weight per
        // column in that order; smaller is better, so ORDER BY ascending. snippet(…, 4, …, 24): body column,
        // up to 24 tokens.
        self.statement = try connection.prepare(
            """
            SELECT translation_key,
                   snippet(search, 4, ?4, ?5, '…', 24),
                   highlight(search, 3, ?4, ?5)
            FROM search
            WHERE search MATCH ?1 AND lang = ?2
            ORDER BY bm25(search, 0.0, 0.0, 10.0, 4.0, 1.0)
            LIMIT ?3
            """)
    }

    /// The best `limit` matches of `expression` (already made safe by `SearchQuery`) in `lang`. An SQLite
    /// failure (a damaged index) gives no rows: search degrades, the page still renders.
    func query(_ expression: String, lang: String, limit: Int) -> [Row] {
        defer { statement.reset() }
        var rows: [Row] = []
        do {
            try statement.bind([
                .text(expression), .text(lang), .integer(Int64(limit)),
                .text(String(SearchSnippet.open)), .text(String(SearchSnippet.close)),
            ])
            while try statement.step() {
                let values = statement.row()
                guard values.count == 3, let key = values[0].text else { continue }
                rows.append(
                    Row(
                        translationKey: key, bodySnippet: values[1].text ?? "",
                        descriptionHighlight: values[2].text ?? ""))
            }
        } catch {
            return []
        }
        return rows
    }
}
