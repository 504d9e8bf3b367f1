import HTTP

/// The templates a generation needs, by file name below `TEMPLATES_PATH` (without `.mustache`). Partials are
/// found from their `{{> name}}` tags.
enum PageTemplate: String, CaseIterable, Sendable {
    /// The frame of every HTML page: `<head>`, header, footer, `{{{body}}}`.
    case layout
    case home, article, tags, tag, search
    case notFound = "not-found"
    case serverError = "server-error"
    case unavailable
}

/// One rendered resource: its path in the route table, its bytes and how to label them.
struct RenderedPage: Sendable {
    enum Kind: Sendable {
        case html, atom, xml, text

        var contentType: String {
            switch self {
            case .html: "text/html; charset=utf-8"
            case .atom: "application/atom+xml; charset=utf-8"
            case .xml: "application/xml; charset=utf-8"
            case .text: "text/plain; charset=utf-8"
            }
        }
    }

    let path: String
    let body: [UInt8]
    let kind: Kind
    /// `Content-Language`, if any.
    let lang: String?
}

/// Renders every page of one generation from its content and templates, and the search page per request.
///
/// Each HTML page is its page template rendered into the layout's `{{{body}}}`. The values the templates read
/// are documented in `web/templates/README.md`; they are built in `PageRenderer+Values.swift`.
struct PageRenderer: Sendable {
    let content: (any ContentSource)?
    let templates: TemplateLibrary
    let configuration: SiteConfiguration
    /// The stylesheet's URL, with a version parameter that changes with the file (so it can be cached long).
    let stylesheet: String
    /// The interface texts of each site language.
    let strings: [String: UIStrings]

    init(
        content: (any ContentSource)?, templates: TemplateLibrary, configuration: SiteConfiguration, stylesheet: String
    ) {
        self.content = content
        self.templates = templates
        self.configuration = configuration
        self.stylesheet = stylesheet
        var strings: [String: UIStrings] = [:]
        for lang in configuration.languages { strings[lang] = UIStrings(lang) }
        self.strings = strings
    }

    var languages: [String] { configuration.languages }

    func strings(_ lang: String) -> UIStrings { strings[lang] ?? UIStrings(lang) }

    // MARK: - Every page of the generation

    /// The list, article, tag and tags pages of every language, the feeds, the sitemap and robots.txt.
    /// Empty without content.
    func renderAll() -> [RenderedPage] {
        guard let content else { return [] }
        var pages: [RenderedPage] = []
        for lang in languages {
            let articles = content.articles(lang: lang)
            pages += listPages(lang, articles)
            for article in articles {
                pages.append(
                    RenderedPage(
                        path: SitePaths.article(lang, article.slug), body: articlePage(article),
                        kind: .html, lang: lang))
            }
            let tags = content.tags(lang: lang)
            pages.append(RenderedPage(path: SitePaths.tags(lang), body: tagsPage(lang, tags), kind: .html, lang: lang))
            for tag in tags {
                pages.append(
                    RenderedPage(path: SitePaths.tag(lang, tag.slug), body: tagPage(tag), kind: .html, lang: lang))
            }
            pages.append(
                RenderedPage(
                    path: SitePaths.feed(lang), body: Feeds.atom(self, lang: lang, articles: articles),
                    kind: .atom, lang: lang))
        }
        pages.append(RenderedPage(path: SitePaths.sitemap, body: Feeds.sitemap(self), kind: .xml, lang: nil))
        pages.append(RenderedPage(path: SitePaths.robots, body: Feeds.robots(self), kind: .text, lang: nil))
        return pages
    }

    /// `/{lang}/`, `/{lang}/page/2`, …: `pageSize` articles each, newest first. One page even with no article.
    func listPages(_ lang: String, _ articles: [Article]) -> [RenderedPage] {
        let pagination = Pagination(itemCount: articles.count, pageSize: configuration.pageSize)
        return (1...pagination.pageCount).map { number in
            let items = articles[pagination.range(ofPage: number)].map { TemplateValue.object(articleCard($0)) }
            var values = common(lang)
            values["articles"] = .list(items)
            values["pagination"] = paginationValue(lang, pagination, current: number)
            let t = strings(lang)
            let path = SitePaths.listPage(lang, number)
            let title =
                number == 1 ? siteTitle(lang) : "\(t.page(number, of: pagination.pageCount)) — \(siteTitle(lang))"
            let body = templates.render(PageTemplate.home.rawValue, .object(values))
            let html = layout(
                lang, title: title, description: siteDescription(lang), path: path,
                alternates: number == 1 ? languages.map { ($0, SitePaths.home($0)) } : [(lang, path)],
                switcher: Dictionary(uniqueKeysWithValues: languages.map { ($0, SitePaths.home($0)) }),
                body: body, pageKind: "home")
            return RenderedPage(path: path, body: html, kind: .html, lang: lang)
        }
    }

    /// `/{lang}/article/{slug}`.
    func articlePage(_ article: Article) -> [UInt8] {
        let lang = article.lang
        let translations = self.translations(of: article)
        var values = common(lang)
        var articleValue = articleCard(article)
        articleValue["bodyHTML"] = .string(
            HTMLText.focusableCodeBlocks(article.bodyHTML, label: strings(lang)["codeBlock"]))
        values["article"] = .object(articleValue)
        values["author"] = [
            "name": .string(content?.site.authorName ?? ""),
            "tagline": .string(content?.site.authorTagline(lang) ?? ""),
        ]
        values["hasTranslations"] = .bool(!translations.isEmpty)
        values["translations"] = .list(
            translations.map { translation in
                [
                    "lang": .string(translation.lang), "name": .string(UIStrings.languageName(translation.lang)),
                    "href": .string(SitePaths.article(translation.lang, translation.slug)),
                    "title": .string(translation.title),
                ]
            })
        let all = [article] + translations
        var switcher: [String: String] = [:]
        for lang in languages { switcher[lang] = SitePaths.home(lang) }
        for version in all { switcher[version.lang] = SitePaths.article(version.lang, version.slug) }
        let body = templates.render(PageTemplate.article.rawValue, .object(values))
        return layout(
            lang, title: "\(article.title) — \(siteTitle(lang))", description: article.description,
            path: SitePaths.article(lang, article.slug),
            alternates: all.map { ($0.lang, SitePaths.article($0.lang, $0.slug)) }, switcher: switcher,
            body: body, pageKind: "article")
    }

    /// `/{lang}/tags`: the tags with at least one article, by name.
    func tagsPage(_ lang: String, _ tags: [Tag]) -> [UInt8] {
        let t = strings(lang)
        var values = common(lang)
        values["tags"] = .list(
            tags.filter { $0.articleCount > 0 }.map { tag in
                [
                    "name": .string(tag.name), "href": .string(SitePaths.tag(lang, tag.slug)),
                    "count": .int(tag.articleCount), "countText": .string(t.articleCount(tag.articleCount)),
                ]
            })
        let body = templates.render(PageTemplate.tags.rawValue, .object(values))
        let switcher = Dictionary(uniqueKeysWithValues: languages.map { ($0, SitePaths.tags($0)) })
        return layout(
            lang, title: "\(t["allTags"]) — \(siteTitle(lang))", description: siteDescription(lang),
            path: SitePaths.tags(lang), alternates: languages.map { ($0, SitePaths.tags($0)) }, switcher: switcher,
            body: body, pageKind: "tags")
    }

    /// `/{lang}/tag/{slug}`: the tag's articles, newest first.
    func tagPage(_ tag: Tag) -> [UInt8] {
        let lang = tag.lang
        let t = strings(lang)
        let articles = content?.articles(taggedWith: tag.key, lang: lang) ?? []
        var values = common(lang)
        values["tag"] = [
            "name": .string(tag.name), "countText": .string(t.articleCount(articles.count)),
            "heading": .string(t.format("tagTitle", tag.name)),
        ]
        values["articles"] = .list(articles.map { .object(articleCard($0)) })
        // The same tag in the other languages, by key; their tags page where it has no page.
        var switcher: [String: String] = [:]
        var alternates: [(String, String)] = []
        for other in languages {
            if let equivalent = content?.tags(lang: other).first(where: { $0.key == tag.key }) {
                switcher[other] = SitePaths.tag(other, equivalent.slug)
                alternates.append((other, SitePaths.tag(other, equivalent.slug)))
            } else {
                switcher[other] = SitePaths.tags(other)
            }
        }
        let body = templates.render(PageTemplate.tag.rawValue, .object(values))
        return layout(
            lang, title: "\(t.format("tagTitle", tag.name)) — \(siteTitle(lang))", description: siteDescription(lang),
            path: SitePaths.tag(lang, tag.slug), alternates: alternates, switcher: switcher, body: body,
            pageKind: "tag")
    }

    // MARK: - Per request: search

    /// The search page of `lang` for `input`, with its status: 200, or 400 for a query too long or not UTF-8.
    func searchPage(_ lang: String, _ input: SearchInput) -> (Status, [UInt8]) {
        let t = strings(lang)
        var values = common(lang)
        var status = Status.ok
        values["query"] = .string(input.text)
        switch input {
        case .empty:
            values["message"] = .string(t["searchEmpty"])
        case .tooLong:
            status = .badRequest
            values["message"] = .string(t["searchTooLong"])
        case .invalid:
            status = .badRequest
            values["message"] = .string(t["searchInvalid"])
        case .words(let words):
            let hits = content?.search(lang: lang, query: words, limit: 20) ?? []
            values["searched"] = true
            values["results"] = .list(
                hits.map { hit in
                    var card = articleCard(hit.article)
                    card["snippetHTML"] = .string(hit.snippetHTML)
                    return .object(card)
                })
            values["countText"] = .string(t.articleCount(hits.count))
            if hits.isEmpty { values["message"] = .string(t["searchNoResults"]) }
        }
        let body = templates.render(PageTemplate.search.rawValue, .object(values))
        // "Search: tls" / "Recherche : tls" (French puts a no-break space before the colon: t["colon"]).
        let title = input.text.isEmpty ? t["search"] : "\(t["search"])\(t["colon"]) \(input.text)"
        let switcher = Dictionary(
            uniqueKeysWithValues: languages.map { ($0, SitePaths.search($0, query: input.text)) })
        let html = layout(
            lang, title: "\(title) — \(siteTitle(lang))", description: siteDescription(lang), path: nil,
            alternates: [], switcher: switcher, body: body, pageKind: "search", noindex: true, query: input.text)
        return (status, html)
    }

    // MARK: - Error pages

    /// The 404, 500 or 503 page of `lang`, from its template.
    func errorPage(_ template: PageTemplate, lang: String) -> [UInt8] {
        let t = strings(lang)
        let title: String
        switch template {
        case .notFound: title = t["notFoundTitle"]
        case .serverError: title = t["serverErrorTitle"]
        default: title = t["unavailableTitle"]
        }
        let body = templates.render(template.rawValue, .object(common(lang)))
        let site = siteTitle(lang)
        return layout(
            lang, title: site.isEmpty ? title : "\(title) — \(site)", description: "", path: nil, alternates: [],
            switcher: Dictionary(uniqueKeysWithValues: languages.map { ($0, SitePaths.home($0)) }), body: body,
            pageKind: "error", noindex: true)
    }
}
