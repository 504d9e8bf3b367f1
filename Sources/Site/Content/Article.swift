/// A tag as shown beside one article: its stable key and its name and slug in the article's language.
public struct TagRef: Sendable, Hashable {
    /// The tag's key, the same in every language (`ci-cd`).
    public let key: String
    /// The display name in this language (`Sécurité`).
    public let name: String
    /// The URL slug in this language: `/{lang}/tag/{slug}`.
    public let slug: String

    /// A tag reference; the store builds these, templates and tests read them.
    public init(key: String, name: String, slug: String) {
        self.key = key
        self.name = name
        self.slug = slug
    }
}

/// One language version of an article, with everything a page needs, loaded into memory by `ContentStore`.
public struct Article: Sendable {
    /// Shared by every translation of the article; the link between languages.
    public let translationKey: String
    /// This version's language code (`en`, `fr`).
    public let lang: String
    /// The URL slug in this language: `/{lang}/article/{slug}`. Slugs are translated.
    public let slug: String
    /// The title, plain text (not HTML-escaped).
    public let title: String
    /// One or two sentences for lists, feeds and the meta description, plain text.
    public let description: String
    /// `YYYY-MM-DD`: the article's publication date, the same for every translation.
    public let published: String
    /// `YYYY-MM-DD`: this translation's last update, never before `published`.
    public let updated: String
    /// This translation's reading time in minutes, computed at build (words / 220, at least 1).
    public let readingMinutes: Int
    /// The header image: a bare file name in the package's `articles/images/` directory.
    public let image: String?
    /// The rendered article body, HTML, from `articles/{lang}/{slug}.html`.
    public let bodyHTML: String
    /// The tags, localised to `lang`, sorted by name.
    public let tags: [TagRef]

    /// An article version; the store builds these, tests may too.
    public init(
        translationKey: String, lang: String, slug: String, title: String, description: String,
        published: String, updated: String, readingMinutes: Int, image: String?, bodyHTML: String, tags: [TagRef]
    ) {
        self.translationKey = translationKey
        self.lang = lang
        self.slug = slug
        self.title = title
        self.description = description
        self.published = published
        self.updated = updated
        self.readingMinutes = readingMinutes
        self.image = image
        self.bodyHTML = bodyHTML
        self.tags = tags
    }
}
