/// Writes a data package (the database and the article bodies) from `PackageContent`.
///
/// ```text
/// DIRECTORY/
/// ├── site.db                    written here, PRAGMA user_version = ContentSchema.version
/// └── articles/
///     ├── <lang>/<slug>.html     written here, one per translation
///     └── images/                created empty here; the caller copies the image files in
/// ```
/// The writer does not validate beyond what the schema's constraints refuse (SQLite's message is passed
/// on); callers validate first (`mywebsite-data build` does) and run `DataPackageCheck` on the result.
public enum ContentWriter {
    /// The database file name inside a package unless the operator says otherwise.
    public static let defaultDatabaseName = "site.db"

    /// Writes `content` into `directory`, which must not contain a package yet (it is created if missing).
    public static func write(
        _ content: PackageContent, to directory: String, databaseName: String = defaultDatabaseName
    ) throws(ContentError) {
        try PackageFiles.makeDirectory(directory)
        try PackageFiles.makeDirectory(directory + "/articles")
        try PackageFiles.makeDirectory(directory + "/articles/images")
        for language in content.languages {
            try PackageFiles.makeDirectory(directory + "/articles/" + language.lang)
        }
        var searchTexts: [String: String] = [:]  // "key/lang" → body text, computed once for both uses
        for article in content.articles {
            for translation in article.translations {
                let path = directory + "/articles/" + bodyFile(lang: translation.lang, slug: translation.slug)
                try PackageFiles.writeText(path, translation.bodyHTML)
                searchTexts[article.translationKey + "/" + translation.lang] = searchText(translation.bodyHTML)
            }
        }
        let path = directory + "/" + databaseName
        do {
            let db = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try insert(content, searchTexts: searchTexts, into: db)
        } catch {
            throw ContentError("\(path): \(error.message)")
        }
    }

    /// The body file of a translation, relative to the package's `articles/` directory.
    public static func bodyFile(lang: String, slug: String) -> String {
        "\(lang)/\(slug).html"
    }

    /// The text the search index holds for a body: its plain text without the snippet marker characters.
    static func searchText(_ bodyHTML: String) -> String {
        String(HTMLText.plainText(bodyHTML).unicodeScalars.filter { !SearchSnippet.isMarker($0) })
    }

    private static func insert(
        _ content: PackageContent, searchTexts: [String: String], into db: SQLiteConnection
    ) throws(SQLiteError) {
        // One transaction: a failure leaves no half-filled database behind, and it is one fsync, not thousands.
        try db.execute("PRAGMA foreign_keys = ON; PRAGMA journal_mode = DELETE; BEGIN IMMEDIATE")
        try db.execute(ContentSchema.sql)
        let setting = try db.prepare("INSERT INTO settings (key, value) VALUES (?1, ?2)")
        try setting.run([.text("author_name"), .text(content.authorName)])
        let language = try db.prepare(
            """
            INSERT INTO languages (lang, position, title, description, tagline, author_tagline)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """)
        for (position, entry) in content.languages.enumerated() {
            try language.run([
                .text(entry.lang), .integer(Int64(position)), .text(entry.title), .text(entry.description),
                .text(entry.tagline), .text(entry.authorTagline),
            ])
        }
        let tag = try db.prepare("INSERT INTO tags (key) VALUES (?1)")
        let tagName = try db.prepare("INSERT INTO tag_names (tag_key, lang, name, slug) VALUES (?1, ?2, ?3, ?4)")
        for entry in content.tags {
            try tag.run([.text(entry.key)])
            for name in entry.names {
                try tagName.run([.text(entry.key), .text(name.lang), .text(name.name), .text(name.slug)])
            }
        }
        let article = try db.prepare("INSERT INTO articles (translation_key, published, image) VALUES (?1, ?2, ?3)")
        let translation = try db.prepare(
            """
            INSERT INTO translations
                (translation_key, lang, slug, title, description, updated, reading_minutes, body_file)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            """)
        let articleTag = try db.prepare("INSERT INTO article_tags (translation_key, lang, tag_key) VALUES (?1, ?2, ?3)")
        let search = try db.prepare(
            "INSERT INTO search (translation_key, lang, title, description, body) VALUES (?1, ?2, ?3, ?4, ?5)")
        for entry in content.articles {
            let key = SQLiteValue.text(entry.translationKey)
            try article.run([key, .text(entry.published), entry.image.map { .text($0) } ?? .null])
            for version in entry.translations {
                let text = searchTexts[entry.translationKey + "/" + version.lang] ?? ""
                let minutes = ContentRules.readingMinutes(wordCount: HTMLText.wordCount(text))
                try translation.run([
                    key, .text(version.lang), .text(version.slug), .text(version.title), .text(version.description),
                    .text(version.updated), .integer(Int64(minutes)),
                    .text(bodyFile(lang: version.lang, slug: version.slug)),
                ])
                for tagKey in version.tagKeys {
                    try articleTag.run([key, .text(version.lang), .text(tagKey)])
                }
                try search.run([
                    key, .text(version.lang), .text(version.title), .text(version.description), .text(text),
                ])
            }
        }
        // FTS5 'optimize' merges the index into one b-tree: the package is read-only from now on.
        try db.execute("INSERT INTO search (search) VALUES ('optimize')")
        try db.execute("PRAGMA user_version = \(ContentSchema.version); COMMIT")
        // Rewrites the file without the free pages the build left: the package is what deployments download.
        try db.execute("VACUUM")
    }
}
