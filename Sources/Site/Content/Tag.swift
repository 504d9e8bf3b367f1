/// A tag in one language, with the number of that language's articles carrying it.
public struct Tag: Sendable, Hashable {
    /// The tag's key, the same in every language.
    public let key: String
    /// The language of `name` and `slug`.
    public let lang: String
    /// The display name in `lang`.
    public let name: String
    /// The URL slug in `lang`: `/{lang}/tag/{slug}`.
    public let slug: String
    /// How many articles of `lang` carry the tag (0 for a defined but unused tag).
    public let articleCount: Int

    /// A localised tag; the store builds these, tests may too.
    public init(key: String, lang: String, name: String, slug: String, articleCount: Int) {
        self.key = key
        self.lang = lang
        self.name = name
        self.slug = slug
        self.articleCount = articleCount
    }
}
