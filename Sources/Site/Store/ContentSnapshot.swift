/// The rows of a package's database, read once with plain queries and checked for type and shape: the
/// input of `ContentIndex`. Nothing here touches the body files.
struct ContentSnapshot {
    var site: SiteInfo
    var languages: [String]
    var translations: [TranslationRow]
    var tagNames: [TagNameRow]
    var articleTags: [(translationKey: String, lang: String, tagKey: String)]

    /// A translation joined with its article.
    struct TranslationRow {
        var translationKey: String
        var lang: String
        var slug: String
        var title: String
        var description: String
        var published: String
        var updated: String
        var readingMinutes: Int
        var image: String?
        var bodyFile: String
    }

    /// A tag's name and slug in one language.
    struct TagNameRow {
        var key: String
        var lang: String
        var name: String
        var slug: String
    }

    /// Reads every table but the search index. Throws naming `databasePath` and the table.
    init(_ db: SQLiteConnection, databasePath: String) throws(ContentError) {
        func rows(_ table: String, _ sql: String) throws(ContentError) -> [RowReader] {
            do {
                return try db.rows(sql).map { RowReader(values: $0, place: "\(databasePath): \(table)") }
            } catch {
                throw ContentError("\(databasePath): reading \(table): \(error.message)")
            }
        }
        var texts: [String: SiteInfo.LanguageTexts] = [:]
        languages = []
        for row in try rows(
            "languages", "SELECT lang, title, description, tagline, author_tagline FROM languages ORDER BY position")
        {
            let lang = try row.text(0)
            languages.append(lang)
            texts[lang] = SiteInfo.LanguageTexts(
                title: try row.text(1), description: try row.text(2), tagline: try row.text(3),
                authorTagline: try row.text(4))
        }
        guard !languages.isEmpty else { throw ContentError("\(databasePath): languages: the table is empty") }
        var authorName = ""
        for row in try rows("settings", "SELECT key, value FROM settings") {
            if try row.text(0) == "author_name" { authorName = try row.text(1) }
        }
        site = SiteInfo(authorName: authorName, texts: texts)
        translations = try rows(
            "translations",
            """
            SELECT t.translation_key, t.lang, t.slug, t.title, t.description, a.published, t.updated,
                   t.reading_minutes, a.image, t.body_file
            FROM translations t JOIN articles a ON a.translation_key = t.translation_key
            """
        ).map { (row: RowReader) throws(ContentError) -> TranslationRow in
            TranslationRow(
                translationKey: try row.text(0), lang: try row.text(1), slug: try row.text(2),
                title: try row.text(3), description: try row.text(4), published: try row.text(5),
                updated: try row.text(6), readingMinutes: try row.integer(7), image: try row.optionalText(8),
                bodyFile: try row.text(9))
        }
        tagNames = try rows("tag_names", "SELECT tag_key, lang, name, slug FROM tag_names").map {
            (row: RowReader) throws(ContentError) -> TagNameRow in
            TagNameRow(key: try row.text(0), lang: try row.text(1), name: try row.text(2), slug: try row.text(3))
        }
        articleTags = try rows("article_tags", "SELECT translation_key, lang, tag_key FROM article_tags").map {
            (row: RowReader) throws(ContentError) -> (String, String, String) in
            (try row.text(0), try row.text(1), try row.text(2))
        }
    }
}

/// One result row with typed, checked accessors: a NULL or an integer where text belongs is a damaged
/// package, reported with the table, not a crash.
struct RowReader {
    let values: [SQLiteValue]
    let place: String

    func text(_ column: Int) throws(ContentError) -> String {
        guard column < values.count, let text = values[column].text else {
            throw ContentError("\(place): column \(column + 1) should be text")
        }
        return text
    }

    func optionalText(_ column: Int) throws(ContentError) -> String? {
        if column < values.count, values[column] == .null { return nil }
        return try text(column)
    }

    func integer(_ column: Int) throws(ContentError) -> Int {
        guard column < values.count, let integer = values[column].integer else {
            throw ContentError("\(place): column \(column + 1) should be an integer")
        }
        return Int(truncatingIfNeeded: integer)
    }
}
