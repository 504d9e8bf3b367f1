/// One full-text search result.
public struct SearchHit: Sendable {
    /// The matching article version (in the language searched).
    public let article: Article
    /// An excerpt of the body (or the description), HTML-escaped, with `<mark>…</mark>` around each match;
    /// safe to insert into a page as is.
    public let snippetHTML: String

    /// A search result; the store builds these.
    public init(article: Article, snippetHTML: String) {
        self.article = article
        self.snippetHTML = snippetHTML
    }
}
