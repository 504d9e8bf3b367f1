/// Everything a data package holds, as plain values: what `ContentWriter` writes. `mywebsite-data build`
/// makes one from Markdown sources; another tool (or a test) may make one directly.
public struct PackageContent: Sendable {
    /// The author's name, the same in every language.
    public var authorName: String
    /// The site's languages, the first the default, with their site-wide texts.
    public var languages: [LanguageEntry]
    /// Every tag, with its name and slug in each language.
    public var tags: [TagEntry]
    /// Every article, with its translations.
    public var articles: [ArticleEntry]

    /// Content made of these parts.
    public init(authorName: String, languages: [LanguageEntry], tags: [TagEntry], articles: [ArticleEntry]) {
        self.authorName = authorName
        self.languages = languages
        self.tags = tags
        self.articles = articles
    }

    /// One language and its site-wide texts.
    public struct LanguageEntry: Sendable {
        public var lang: String
        public var title: String
        public var description: String
        public var tagline: String
        public var authorTagline: String

        public init(lang: String, title: String, description: String, tagline: String, authorTagline: String) {
            self.lang = lang
            self.title = title
            self.description = description
            self.tagline = tagline
            self.authorTagline = authorTagline
        }
    }

    /// A tag: its key and, per language, a display name and a URL slug.
    public struct TagEntry: Sendable {
        public var key: String
        public var names: [Name]

        public init(key: String, names: [Name]) {
            self.key = key
            self.names = names
        }

        /// The tag in one language.
        public struct Name: Sendable {
            public var lang: String
            public var name: String
            public var slug: String

            public init(lang: String, name: String, slug: String) {
                self.lang = lang
                self.name = name
                self.slug = slug
            }
        }
    }

    /// An article: what its translations share, and the translations.
    public struct ArticleEntry: Sendable {
        public var translationKey: String
        /// `YYYY-MM-DD`.
        public var published: String
        /// A bare file name in `articles/images/`, or nil.
        public var image: String?
        public var translations: [TranslationEntry]

        public init(translationKey: String, published: String, image: String?, translations: [TranslationEntry]) {
            self.translationKey = translationKey
            self.published = published
            self.image = image
            self.translations = translations
        }
    }

    /// One language version of an article. The writer derives the search text and the reading time from
    /// `bodyHTML`.
    public struct TranslationEntry: Sendable {
        public var lang: String
        public var slug: String
        public var title: String
        public var description: String
        /// `YYYY-MM-DD`, not before the article's `published`.
        public var updated: String
        /// Keys of `tags`, each with a name in `lang`.
        public var tagKeys: [String]
        /// The rendered body.
        public var bodyHTML: String

        public init(
            lang: String, slug: String, title: String, description: String, updated: String, tagKeys: [String],
            bodyHTML: String
        ) {
            self.lang = lang
            self.slug = slug
            self.title = title
            self.description = description
            self.updated = updated
            self.tagKeys = tagKeys
            self.bodyHTML = bodyHTML
        }
    }
}
