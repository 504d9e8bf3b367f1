/// Validates a data package without loading it for serving: what `mywebsite data check` runs, what
/// `mywebsite-data build` runs on its output before publishing it, and what a reload should run before
/// swapping content in.
///
/// It does not trust the schema (another tool may have written a weaker one), so every rule of
/// docs/data-format.md is checked again with queries and file lookups.
public enum DataPackageCheck {
    /// Every problem of the package in `dataPath`, one line each, naming the file, article or tag; an empty
    /// list means the package is valid. Stops early only when the database itself cannot be read (missing,
    /// not a database, other schema version, missing tables): the later checks would only repeat that.
    public static func run(dataPath: String, databaseName: String = "site.db") -> [String] {
        let databasePath = dataPath + "/" + databaseName
        guard PackageFiles.isDirectory(dataPath) else { return ["\(dataPath): no such directory"] }
        guard PackageFiles.isRegularFile(databasePath) else { return ["\(databaseName): missing"] }
        let db: SQLiteConnection
        let version: Int32
        do {
            db = try SQLiteConnection(path: databasePath, mode: .readOnly)
            version = try db.userVersion()
        } catch {
            return ["\(databaseName): cannot be read: \(error.message)"]
        }
        guard version == ContentSchema.version else {
            return [
                "\(databaseName) has schema version \(version); this mywebsite reads version \(ContentSchema.version)"
            ]
        }
        var check = PackageChecker(db: db, dataPath: dataPath, databaseName: databaseName)
        check.run()
        return check.problems
    }
}

/// The checks of one package, each adding lines to `problems`.
private struct PackageChecker {
    let db: SQLiteConnection
    let dataPath: String
    let databaseName: String
    var problems: [String] = []

    static let tables = [
        "languages", "settings", "articles", "translations", "tags", "tag_names", "article_tags", "search",
    ]

    init(db: SQLiteConnection, dataPath: String, databaseName: String) {
        self.db = db
        self.dataPath = dataPath
        self.databaseName = databaseName
    }

    mutating func run() {
        // A damaged file makes every later answer doubtful; a broken link (foreign_key_check) does not.
        guard checkIntegrity(), checkTablesExist() else { return }
        let languages = checkLanguages()
        checkSettings()
        let published = checkArticles()
        checkTranslations(languages: languages, published: published)
        checkTags(languages: languages)
        checkSearchIndex()
    }

    /// Runs `sql`; a failure is a problem line (a missing column, a damaged page) and no rows.
    mutating func rows(_ sql: String, _ bindings: SQLiteValue...) -> [[SQLiteValue]] {
        do {
            let statement = try db.prepare(sql)
            try statement.bind(bindings)
            var rows: [[SQLiteValue]] = []
            while try statement.step() { rows.append(statement.row()) }
            return rows
        } catch {
            problems.append("\(databaseName): query failed: \(error.message)")
            return []
        }
    }

    mutating func problem(_ line: String) { problems.append(line) }

    // MARK: - Database

    /// `PRAGMA integrity_check` (false when it finds damage) and `PRAGMA foreign_key_check`.
    mutating func checkIntegrity() -> Bool {
        let before = problems.count
        for row in rows("PRAGMA integrity_check") {
            let text = row.first?.text ?? "?"
            if text != "ok" { problem("\(databaseName): integrity_check: \(text)") }
        }
        let intact = problems.count == before
        // foreign_key_check rows: table, rowid (NULL for WITHOUT ROWID), parent table, constraint index. One
        // line per (table, parent): the checks below name the articles and tags involved.
        var broken: [String: [String: Int]] = [:]  // table → parent → rows
        for row in rows("PRAGMA foreign_key_check") {
            let table = row.first?.text ?? "?"
            let parent = row.count > 2 ? (row[2].text ?? "?") : "?"
            broken[table, default: [:]][parent, default: 0] += 1
        }
        for (table, parents) in broken.sorted(by: { $0.key < $1.key }) {
            for (parent, count) in parents.sorted(by: { $0.key < $1.key }) {
                let rows = count == 1 ? "1 row refers" : "\(count) rows refer"
                problem("\(databaseName): foreign_key_check: \(table): \(rows) to a missing \(parent) row")
            }
        }
        return intact
    }

    mutating func checkTablesExist() -> Bool {
        let present = Set(rows("SELECT name FROM sqlite_schema WHERE type = 'table'").compactMap { $0.first?.text })
        let missing = Self.tables.filter { !present.contains($0) }
        for table in missing { problem("\(databaseName): table \(table) is missing") }
        return missing.isEmpty
    }

    // MARK: - Site

    /// Checks the languages and their texts; returns the language codes.
    mutating func checkLanguages() -> [String] {
        var languages: [String] = []
        for row in rows("SELECT lang, title, description, author_tagline FROM languages ORDER BY position") {
            let lang = row[0].text ?? ""
            guard ContentRules.isLanguageCode(lang) else {
                problem("languages: \(quoted(lang)) is not a two-letter language code")
                continue
            }
            languages.append(lang)
            for (column, name) in [(1, "title"), (2, "description"), (3, "author tagline")]
            where (row[column].text ?? "").isEmpty {
                problem("languages: \(lang) has no site \(name)")
            }
        }
        if languages.isEmpty { problem("languages: the package lists no language") }
        return languages
    }

    mutating func checkSettings() {
        let author = rows("SELECT value FROM settings WHERE key = 'author_name'").first?.first?.text ?? ""
        if author.isEmpty { problem("settings: author_name is missing or empty") }
    }

    // MARK: - Articles

    /// Checks keys, dates and header images; returns translation key → published date (valid ones only).
    mutating func checkArticles() -> [String: String] {
        var published: [String: String] = [:]
        for row in rows("SELECT translation_key, published, image FROM articles ORDER BY translation_key") {
            let key = row[0].text ?? ""
            let date = row[1].text ?? ""
            let place = "article \(quoted(key))"
            if !ContentRules.isSlug(key) { problem("\(place): the translation key is not a slug") }
            if ContentRules.isCalendarDate(date) {
                published[key] = date
            } else {
                problem("\(place): published \(quoted(date)) is not a calendar date YYYY-MM-DD")
            }
            switch row[2] {
            case .null:
                break
            case .text(let image) where ContentRules.isImageFileName(image):
                if !PackageFiles.isRegularFile(dataPath + "/articles/images/" + image) {
                    problem("articles/images/\(image): missing (header image of \(place))")
                }
            default:
                problem("\(place): image \(quoted(row[2].text ?? "")) is not a bare image file name")
            }
        }
        return published
    }

    mutating func checkTranslations(languages: [String], published: [String: String]) {
        var versions: [String: Set<String>] = [:]  // translation key → languages present
        for row in rows(
            """
            SELECT translation_key, lang, slug, title, description, updated, reading_minutes, body_file
            FROM translations ORDER BY translation_key, lang
            """)
        {
            let key = row[0].text ?? ""
            let lang = row[1].text ?? ""
            let slug = row[2].text ?? ""
            let updated = row[5].text ?? ""
            let place = "article \(quoted(key)) (\(lang))"
            versions[key, default: []].insert(lang)
            if !languages.contains(lang) { problem("\(place): language \(quoted(lang)) is not in languages") }
            guard ContentRules.isSlug(slug) else {
                problem("\(place): slug \(quoted(slug)) is not lowercase letters, digits and single hyphens")
                continue
            }
            if (row[3].text ?? "").isEmpty { problem("\(place): empty title") }
            if (row[4].text ?? "").isEmpty { problem("\(place): empty description") }
            if (row[6].integer ?? 0) < 1 { problem("\(place): reading_minutes should be at least 1") }
            if !ContentRules.isCalendarDate(updated) {
                problem("\(place): updated \(quoted(updated)) is not a calendar date YYYY-MM-DD")
            } else if let date = published[key], updated < date {
                problem("\(place): updated \(updated) is before published \(date)")
            }
            let bodyFile = ContentWriter.bodyFile(lang: lang, slug: slug)
            if row[7].text != bodyFile {
                problem("\(place): body_file \(quoted(row[7].text ?? "")) should be \(quoted(bodyFile))")
            } else {
                checkBody(file: bodyFile, of: place)
            }
        }
        for row in rows("SELECT lang, slug, count(*) FROM translations GROUP BY lang, slug HAVING count(*) > 1") {
            problem("slug \(quoted(row[1].text ?? "")) is used by \(row[2].integer ?? 0) \(row[0].text ?? "") articles")
        }
        for row in rows(
            """
            SELECT t.translation_key, t.lang FROM translations t
            WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.translation_key = t.translation_key)
            """)
        {
            problem("article \(quoted(row[0].text ?? "")) (\(row[1].text ?? "")): translation of a missing article")
        }
        for key in rows("SELECT translation_key FROM articles ORDER BY translation_key").compactMap({ $0.first?.text })
        {
            for lang in languages where !(versions[key]?.contains(lang) ?? false) {
                problem("article \(quoted(key)): no \(lang) translation")
            }
        }
    }

    /// The body file exists as a regular file, and every article image it references is in the package.
    mutating func checkBody(file: String, of place: String) {
        let path = dataPath + "/articles/" + file
        guard PackageFiles.isReadableRegularFile(path), let html = try? PackageFiles.readText(path) else {
            problem("articles/\(file): missing (body of \(place))")
            return
        }
        for name in ContentRules.imageReferences(inHTML: html) {
            if !ContentRules.isImageFileName(name) {
                problem("articles/\(file): image \(quoted(name)) is not a valid image file name")
            } else if !PackageFiles.isRegularFile(dataPath + "/articles/images/" + name) {
                problem("articles/images/\(name): missing (used in articles/\(file))")
            }
        }
    }

    // MARK: - Tags

    mutating func checkTags(languages: [String]) {
        for row in rows("SELECT key FROM tags ORDER BY key") {
            let key = row[0].text ?? ""
            if !ContentRules.isSlug(key) { problem("tag \(quoted(key)): the key is not a slug") }
            let names = rows("SELECT lang, name, slug FROM tag_names WHERE tag_key = ?1", .text(key))
            var named: Set<String> = []
            for name in names {
                let lang = name[0].text ?? ""
                named.insert(lang)
                if (name[1].text ?? "").isEmpty { problem("tag \(quoted(key)) (\(lang)): empty name") }
                if !ContentRules.isSlug(name[2].text ?? "") {
                    problem("tag \(quoted(key)) (\(lang)): slug \(quoted(name[2].text ?? "")) is not a slug")
                }
            }
            for lang in languages where !named.contains(lang) { problem("tag \(quoted(key)): no \(lang) name") }
        }
        for row in rows("SELECT lang, slug, count(*) FROM tag_names GROUP BY lang, slug HAVING count(*) > 1") {
            problem("tag slug \(quoted(row[1].text ?? "")) is used by \(row[2].integer ?? 0) \(row[0].text ?? "") tags")
        }
        for row in rows(
            """
            SELECT l.translation_key, l.lang, l.tag_key FROM article_tags l
            WHERE NOT EXISTS (SELECT 1 FROM tag_names n WHERE n.tag_key = l.tag_key AND n.lang = l.lang)
            ORDER BY 1, 2, 3
            """)
        {
            let key = row[0].text ?? ""
            let lang = row[1].text ?? ""
            let tag = row[2].text ?? ""
            let known = !rows("SELECT 1 FROM tags WHERE key = ?1", .text(tag)).isEmpty
            problem(
                "article \(quoted(key)) (\(lang)): tag \(quoted(tag)) "
                    + (known ? "has no \(lang) name" : "is not defined"))
        }
    }

    // MARK: - Search

    /// Each translation has exactly one row in the search index, and the index answers a query.
    mutating func checkSearchIndex() {
        for row in rows(
            """
            SELECT t.translation_key, t.lang, (SELECT count(*) FROM search s
                WHERE s.translation_key = t.translation_key AND s.lang = t.lang)
            FROM translations t ORDER BY 1, 2
            """) where row[2].integer != 1
        {
            problem(
                "article \(quoted(row[0].text ?? "")) (\(row[1].text ?? "")): \(row[2].integer ?? 0) search rows, expected 1"
            )
        }
        _ = rows("SELECT count(*) FROM search WHERE search MATCH '\"a\"'")
    }

    private func quoted(_ text: String) -> String { "'\(text)'" }
}
