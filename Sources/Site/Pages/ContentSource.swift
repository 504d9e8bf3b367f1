/// What the pages read from a data package. `ContentStore` is the real one; tests may pass an in-memory one.
///
/// Every call is answered from memory but `search`, and every call is thread-safe: a generation's source is
/// shared by every loop thread (search runs per request).
protocol ContentSource: Sendable {
    /// Site-wide texts.
    var site: SiteInfo { get }
    /// The package's languages.
    var languages: [String] { get }
    /// The articles of `lang`, newest first.
    func articles(lang: String) -> [Article]
    /// The other languages' versions of `article`.
    func translations(of article: Article) -> [Article]
    /// The tags of `lang`, sorted by name.
    func tags(lang: String) -> [Tag]
    /// The articles of `lang` carrying the tag `tagKey`, newest first.
    func articles(taggedWith tagKey: String, lang: String) -> [Article]
    /// Full-text search; never fails, any input is safe.
    func search(lang: String, query: String, limit: Int) -> [SearchHit]
    /// The directory served at `/static/images/articles/`.
    var imagesDirectory: String { get }
}

extension ContentStore: ContentSource {}
