/// The values templates read (documented in web/templates/README.md), and the layout around every page.
extension PageRenderer {
    /// What every page template may read: `lang`, `t` (interface texts), `site`, `nav`.
    func common(_ lang: String) -> [String: TemplateValue] {
        [
            "lang": .string(lang),
            "t": strings(lang).templateValue,
            "site": [
                "title": .string(siteTitle(lang)),
                "tagline": .string(content?.site.tagline(lang) ?? ""),
                "description": .string(siteDescription(lang)),
                "authorName": .string(content?.site.authorName ?? ""),
            ],
            "nav": [
                "home": .string(SitePaths.home(lang)),
                "tags": .string(SitePaths.tags(lang)),
                "search": .string(SitePaths.search(lang)),
                "feed": .string(SitePaths.feed(lang)),
            ],
        ]
    }

    func siteTitle(_ lang: String) -> String { content?.site.title(lang) ?? "" }

    func siteDescription(_ lang: String) -> String { content?.site.description(lang) ?? "" }

    /// An article as list items, search results and the article page show it.
    func articleCard(_ article: Article) -> [String: TemplateValue] {
        let lang = article.lang
        let t = strings(lang)
        var card: [String: TemplateValue] = [
            "title": .string(article.title),
            "href": .string(SitePaths.article(lang, article.slug)),
            "description": .string(article.description),
            "published": .string(article.published),
            "updated": .string(article.updated),
            "isUpdated": .bool(article.updated != article.published),
            "readingMinutes": .int(article.readingMinutes),
            "readingTime": .string(t.minutes(article.readingMinutes)),
            "hasTags": .bool(!article.tags.isEmpty),
            "tags": .list(
                article.tags.map { tag in
                    ["name": .string(tag.name), "href": .string(SitePaths.tag(lang, tag.slug))]
                }),
        ]
        if let image = article.image, !image.isEmpty {
            card["image"] = .string(SitePaths.image(image))
        }
        return card
    }

    /// The translations of `article` in the site's languages, in their order.
    func translations(of article: Article) -> [Article] {
        let versions = content?.translations(of: article) ?? []
        return languages.compactMap { lang in
            lang == article.lang ? nil : versions.first { $0.lang == lang }
        }
    }

    /// The pagination block of list page `current`.
    func paginationValue(_ lang: String, _ pagination: Pagination, current: Int) -> TemplateValue {
        let t = strings(lang)
        var value: [String: TemplateValue] = [
            "isPaginated": .bool(pagination.pageCount > 1),
            "label": .string(t.page(current, of: pagination.pageCount)),
            "pages": .list(
                (1...pagination.pageCount).map { number in
                    [
                        "number": .int(number), "href": .string(SitePaths.listPage(lang, number)),
                        "isCurrent": .bool(number == current),
                    ]
                }),
        ]
        if current > 1 { value["newerHref"] = .string(SitePaths.listPage(lang, current - 1)) }
        if current < pagination.pageCount { value["olderHref"] = .string(SitePaths.listPage(lang, current + 1)) }
        return .object(value)
    }

    /// `body` (a rendered page template) inside the layout.
    ///
    /// - Parameters:
    ///   - path: the page's own path, for its canonical link; nil for pages that have none (search, errors).
    ///   - alternates: `hreflang` → path of each language version, this one included; an `x-default` pointing
    ///     at the default language's version is added when there are several.
    ///   - switcher: language → the path the language switcher links to.
    func layout(
        _ lang: String, title: String, description: String, path: String?, alternates: [(String, String)],
        switcher: [String: String], body: [UInt8], pageKind: String, noindex: Bool = false, query: String = ""
    ) -> [UInt8] {
        let base = configuration.siteURL
        var alternateValues: [TemplateValue] = []
        if alternates.count > 1 {
            for (hreflang, href) in alternates {
                alternateValues.append(["hreflang": .string(hreflang), "href": .string(base + href)])
            }
            let preferred = alternates.first { $0.0 == configuration.defaultLanguage } ?? alternates[0]
            alternateValues.append(["hreflang": "x-default", "href": .string(base + preferred.1)])
        }
        let switcherValues: [TemplateValue] = languages.map { code in
            [
                "code": .string(code), "name": .string(UIStrings.languageName(code)),
                "href": .string(switcher[code] ?? SitePaths.home(code)), "isCurrent": .bool(code == lang),
            ]
        }
        var values = common(lang)
        values["title"] = .string(title)
        values["description"] = .string(description)
        values["canonical"] = path.map { .string(base + $0) } ?? .null
        values["alternates"] = .list(alternateValues)
        values["isMultilingual"] = .bool(languages.count > 1)
        values["languages"] = languages.count > 1 ? .list(switcherValues) : .list([])
        values["feedURL"] = .string(base + SitePaths.feed(lang))
        values["stylesheet"] = .string(stylesheet)
        values["favicon"] = .string(SitePaths.favicon)
        values["noindex"] = .bool(noindex)
        values["pageKind"] = .string(pageKind)
        values["query"] = .string(query)
        values["body"] = .string(String(decoding: body, as: UTF8.self))
        return templates.render(PageTemplate.layout.rawValue, .object(values))
    }
}
