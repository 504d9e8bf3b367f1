/// Site-wide texts: the author and, per language, the site's title, description and tagline.
///
/// The per-language accessors return "" for a language the package does not have; `DataPackageCheck`
/// guarantees that every language the package lists has a non-empty title, description and author tagline
/// (the site tagline may be empty).
public struct SiteInfo: Sendable {
    /// The author's name, the same in every language.
    public let authorName: String
    private let texts: [String: LanguageTexts]

    /// The texts of one language.
    public struct LanguageTexts: Sendable, Hashable {
        /// The site title (`<title>`, feed title).
        public let title: String
        /// The default meta and feed description.
        public let description: String
        /// The short subtitle under the title; may be empty.
        public let tagline: String
        /// The author box's short bio.
        public let authorTagline: String

        /// Texts for one language.
        public init(title: String, description: String, tagline: String, authorTagline: String) {
            self.title = title
            self.description = description
            self.tagline = tagline
            self.authorTagline = authorTagline
        }
    }

    /// Site texts: `texts` maps a language code to its texts.
    public init(authorName: String, texts: [String: LanguageTexts]) {
        self.authorName = authorName
        self.texts = texts
    }

    /// The author box's bio in `lang`.
    public func authorTagline(_ lang: String) -> String { texts[lang]?.authorTagline ?? "" }
    /// The site title in `lang`.
    public func title(_ lang: String) -> String { texts[lang]?.title ?? "" }
    /// The site description in `lang`.
    public func description(_ lang: String) -> String { texts[lang]?.description ?? "" }
    /// The site tagline in `lang` (may be empty).
    public func tagline(_ lang: String) -> String { texts[lang]?.tagline ?? "" }
}
