/// The lookup tables `ContentStore` answers from, built once from a `ContentSnapshot`: every list is sorted
/// here, so a request only does dictionary lookups.
struct ContentIndex: Sendable {
    /// lang → articles, newest first.
    let articlesByLanguage: [String: [Article]]
    /// lang → slug → article.
    let articlesBySlug: [String: [String: Article]]
    /// translation key → lang → article.
    let articlesByKey: [String: [String: Article]]
    /// lang → tags sorted by name.
    let tagsByLanguage: [String: [Tag]]
    /// lang → tag slug → tag.
    let tagsBySlug: [String: [String: Tag]]
    /// lang → tag key → articles, newest first.
    let articlesByTag: [String: [String: [Article]]]

    /// Builds the tables; `readBody` loads a body file given its path relative to `articles/`. Throws for a
    /// body file that is missing or whose name does not match its translation, and for a link to a tag
    /// without a name in the article's language.
    init(
        _ snapshot: ContentSnapshot, readBody: (String) throws(ContentError) -> String
    ) throws(ContentError) {
        var tagRefs: [String: [String: TagRef]] = [:]  // lang → key → ref
        for row in snapshot.tagNames {
            tagRefs[row.lang, default: [:]][row.key] = TagRef(key: row.key, name: row.name, slug: row.slug)
        }
        var tagKeysByTranslation: [String: [String]] = [:]  // "key/lang" → tag keys
        for link in snapshot.articleTags {
            tagKeysByTranslation[link.translationKey + "/" + link.lang, default: []].append(link.tagKey)
        }
        var byLanguage: [String: [Article]] = [:]
        var bySlug: [String: [String: Article]] = [:]
        var byKey: [String: [String: Article]] = [:]
        for row in snapshot.translations {
            let expectedFile = ContentWriter.bodyFile(lang: row.lang, slug: row.slug)
            guard row.bodyFile == expectedFile, ContentRules.isSlug(row.slug) else {
                throw ContentError("translation \(row.translationKey)/\(row.lang): body_file should be \(expectedFile)")
            }
            var tags: [TagRef] = []
            for key in tagKeysByTranslation[row.translationKey + "/" + row.lang] ?? [] {
                guard let ref = tagRefs[row.lang]?[key] else {
                    throw ContentError(
                        "translation \(row.translationKey)/\(row.lang): tag \(key) has no \(row.lang) name")
                }
                tags.append(ref)
            }
            let article = Article(
                translationKey: row.translationKey, lang: row.lang, slug: row.slug, title: row.title,
                description: row.description, published: row.published, updated: row.updated,
                readingMinutes: row.readingMinutes, image: row.image, bodyHTML: try readBody(row.bodyFile),
                tags: tags.sorted { TextCollation.precedes($0.name, $1.name) })
            byLanguage[row.lang, default: []].append(article)
            bySlug[row.lang, default: [:]][row.slug] = article
            byKey[row.translationKey, default: [:]][row.lang] = article
        }
        for (lang, articles) in byLanguage {
            byLanguage[lang] = articles.sorted(by: Self.newestFirst)
        }
        var byTag: [String: [String: [Article]]] = [:]
        for (lang, articles) in byLanguage {
            for article in articles {
                for tag in article.tags {
                    byTag[lang, default: [:]][tag.key, default: []].append(article)  // stays newest first
                }
            }
        }
        var tagsByLanguage: [String: [Tag]] = [:]
        var tagsBySlug: [String: [String: Tag]] = [:]
        for (lang, refs) in tagRefs {
            let tags = refs.values.map { ref in
                Tag(
                    key: ref.key, lang: lang, name: ref.name, slug: ref.slug,
                    articleCount: byTag[lang]?[ref.key]?.count ?? 0)
            }
            tagsByLanguage[lang] = tags.sorted { TextCollation.precedes($0.name, $1.name) }
            tagsBySlug[lang] = Dictionary(tags.map { ($0.slug, $0) }, uniquingKeysWith: { first, _ in first })
        }
        self.articlesByLanguage = byLanguage
        self.articlesBySlug = bySlug
        self.articlesByKey = byKey
        self.tagsByLanguage = tagsByLanguage
        self.tagsBySlug = tagsBySlug
        self.articlesByTag = byTag
    }

    /// Newest publication date first; same day: by title, then slug, so the order never depends on the
    /// database's row order.
    static func newestFirst(_ a: Article, _ b: Article) -> Bool {
        if a.published != b.published { return a.published > b.published }
        if a.title != b.title { return TextCollation.precedes(a.title, b.title) }
        return a.slug < b.slug
    }
}
