internal import Glibc
import Synchronization

/// One generation of the site's content, loaded from a data package into memory, plus the full-text index.
///
/// ```text
/// DATA/site.db ──read once──▶ languages, settings, articles, translations, tags   (immutable values)
/// DATA/articles/<lang>/<slug>.html ──read once──▶ Article.bodyHTML
/// DATA/site.db ◀──search()── one read-only connection behind a Mutex (FTS5 queries only)
/// ```
/// Everything but search is answered from memory, so a store is safe to share between threads. Loading a new
/// package means making a new store; an old store keeps its connection (and so the old file, even if the
/// directory was replaced) until it is released.
public final class ContentStore: Sendable {
    /// The `PRAGMA user_version` this binary reads.
    public static let schemaVersion: Int32 = ContentSchema.version

    /// Site-wide texts.
    public let site: SiteInfo
    /// The languages of the package, in its order (the first is the package's default).
    public let languages: [String]
    /// The package directory as given to `init`.
    public let dataPath: String
    /// The absolute path of the package's `articles/images` directory, served as `/static/images/articles/`.
    public let imagesDirectory: String

    private let index: ContentIndex
    private let searchIndex: Mutex<SearchIndex>

    /// Opens `dataPath/databaseName` read-only, checks its schema version and loads every article, tag and
    /// body into memory. Throws a one-line message naming the file for a missing or unreadable database, a
    /// schema version other than `schemaVersion` ("site.db has schema version 2; this mywebsite reads
    /// version 1"), a broken row or a missing body file. Run `DataPackageCheck` first for the full list of
    /// problems; this stops at the first.
    public init(dataPath: String, databaseName: String) throws(ContentError) {
        let databasePath = dataPath + "/" + databaseName
        guard PackageFiles.isRegularFile(databasePath) else {
            throw ContentError("\(databasePath): no such database file")
        }
        let db: SQLiteConnection
        let version: Int32
        do {
            db = try SQLiteConnection(path: databasePath, mode: .readOnly)
            version = try db.userVersion()  // the first read: a file that is not a database fails here
        } catch {
            throw ContentError("\(databasePath): \(error.message)")
        }
        guard version == Self.schemaVersion else {
            throw ContentError(
                "\(databaseName) has schema version \(version); this mywebsite reads version \(Self.schemaVersion)")
        }
        // A damaged file may still answer every query below and fail only in search, whose failures give no
        // hits: refuse it here, as `data check` would. quick_check is integrity_check without comparing index
        // contents to their tables: linear in the file size, a few milliseconds for a site this size.
        let verdict: String
        do {
            verdict = try db.rows("PRAGMA quick_check(1)").first?.first?.text ?? "no answer"
        } catch {
            throw ContentError("\(databasePath): damaged database: \(error.message)")
        }
        guard verdict == "ok" else {
            // One log line: SQLite puts "*** in database main ***" and the problem on separate lines.
            let reason = verdict.split(whereSeparator: \.isNewline).joined(separator: " ")
            throw ContentError("\(databasePath): damaged database: \(reason)")
        }
        let snapshot = try ContentSnapshot(db, databasePath: databasePath)
        let articlesDirectory = dataPath + "/articles/"
        self.index = try ContentIndex(snapshot) { (bodyFile: String) throws(ContentError) -> String in
            try PackageFiles.readText(articlesDirectory + bodyFile)
        }
        // A package copied only in part may lack its images: refuse it rather than serve pages whose images 404.
        let imagesDirectory = PackageFiles.absolutePath(dataPath) + "/articles/images"
        for article in index.articlesByLanguage.values.joined() {
            for name in (article.image.map { [$0] } ?? []) + ContentRules.imageReferences(inHTML: article.bodyHTML)
            where access(imagesDirectory + "/" + name, R_OK) != 0 {
                throw ContentError(
                    "\(dataPath)/articles/images/\(name): missing (used by \(article.lang)/\(article.slug))")
            }
        }
        let search: SearchIndex
        do {
            search = try SearchIndex(db)
        } catch {
            throw ContentError("\(databasePath): \(error.message)")
        }
        self.searchIndex = Mutex(search)
        self.site = snapshot.site
        self.languages = snapshot.languages
        self.dataPath = dataPath
        self.imagesDirectory = imagesDirectory
    }

    /// The articles of `lang`, newest first by publication date, then by title.
    public func articles(lang: String) -> [Article] {
        index.articlesByLanguage[lang] ?? []
    }

    /// The article of `lang` with `slug`, if any.
    public func article(lang: String, slug: String) -> Article? {
        index.articlesBySlug[lang]?[slug]
    }

    /// The other languages' versions of `article` (same translation key, from the database's link), in the
    /// package's language order.
    public func translations(of article: Article) -> [Article] {
        guard let versions = index.articlesByKey[article.translationKey] else { return [] }
        return languages.compactMap { $0 == article.lang ? nil : versions[$0] }
    }

    /// The tags of `lang`, sorted by name, with the number of `lang` articles carrying each.
    public func tags(lang: String) -> [Tag] {
        index.tagsByLanguage[lang] ?? []
    }

    /// The tag of `lang` with `slug`, if any.
    public func tag(lang: String, slug: String) -> Tag? {
        index.tagsBySlug[lang]?[slug]
    }

    /// The articles of `lang` carrying the tag `tagKey`, newest first.
    public func articles(taggedWith tagKey: String, lang: String) -> [Article] {
        index.articlesByTag[lang]?[tagKey] ?? []
    }

    /// The absolute path of the image `name` when it is a valid image file name and a regular file of the
    /// package; nil otherwise (so a request path can never leave the images directory).
    public func imagePath(_ name: String) -> String? {
        guard ContentRules.isImageFileName(name) else { return nil }
        let path = imagesDirectory + "/" + name
        return PackageFiles.isRegularFile(path) ? path : nil
    }

    /// Full-text search over the title, description and body text of `lang`'s articles, best first (bm25,
    /// title weighted 10, description 4, body 1), at most `limit` hits, each with a highlighted snippet.
    ///
    /// Any input is safe: it goes through `SearchQuery.matchExpression`, so FTS5 syntax in it is searched as
    /// words. Never throws: a query with no words, or an SQLite failure, gives no hits. Thread-safe: one
    /// connection behind a mutex (a query on a site this size takes well under a millisecond).
    public func search(lang: String, query: String, limit: Int = 20) -> [SearchHit] {
        guard limit > 0, let expression = SearchQuery.matchExpression(query) else { return [] }
        let rows = searchIndex.withLock { $0.query(expression, lang: lang, limit: limit) }
        return rows.compactMap { row in
            guard let article = index.articlesByKey[row.translationKey]?[lang] else { return nil }
            let raw =
                SearchSnippet.hasMatch(row.bodySnippet) || !SearchSnippet.hasMatch(row.descriptionHighlight)
                ? row.bodySnippet : row.descriptionHighlight
            return SearchHit(article: article, snippetHTML: SearchSnippet.html(raw))
        }
    }
}
