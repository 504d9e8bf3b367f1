/// The interface texts of the pages in one language: labels, headings, messages. Content (titles, bodies,
/// tag names, the site title) comes from the data package; these come from here.
///
/// Templates read them as `{{t.key}}`. A site language without a table here (say `de` in SITE_LANGUAGES)
/// gets the English texts, so a page never shows a blank label.
struct UIStrings: Sendable {
    /// The language of the texts actually used (`en` for a fallback).
    let lang: String
    /// Text by key.
    let texts: [String: String]

    /// The texts for `lang`, or the English ones when there is no table for it.
    init(_ lang: String) {
        if let table = Self.tables[lang] {
            self.lang = lang
            self.texts = table
        } else {
            self.lang = "en"
            self.texts = Self.english
        }
    }

    /// The text for `key`; the key itself if missing (a visible mistake, not a blank).
    subscript(key: String) -> String { texts[key] ?? key }

    /// "1 article" / "12 articles" in this language.
    func articleCount(_ count: Int) -> String {
        count == 1 ? "1 \(self["articleSingular"])" : "\(count) \(self["articlePlural"])"
    }

    /// "5 min".
    func minutes(_ count: Int) -> String { "\(count) \(self["minutesShort"])" }

    /// "Page 2 of 3".
    func page(_ number: Int, of total: Int) -> String {
        format("pageOf", "\(number)", "\(total)")
    }

    /// The text for `key` with `{1}`, `{2}`… replaced by `values`.
    func format(_ key: String, _ values: String...) -> String {
        self[key].replacingPlaceholders(values)
    }

    /// The texts as a template object.
    var templateValue: TemplateValue {
        .object(texts.mapValues { .string($0) })
    }

    /// The language's own name, for language switchers (`Français`, `English`); the code itself when unknown.
    static func languageName(_ lang: String) -> String {
        tables[lang]?["languageName"] ?? lang
    }

    static let tables: [String: [String: String]] = ["en": english, "fr": french]

    static let english: [String: String] = [
        "languageName": "English",
        "skipToContent": "Skip to content",
        "home": "Home",
        "mainNavigation": "Main navigation",
        "articles": "Articles",
        "latestArticles": "Latest articles",
        "tags": "Tags",
        "allTags": "All tags",
        "taggedWith": "Articles tagged",
        "tagTitle": "Articles tagged “{1}”",
        "search": "Search",
        "searchLabel": "Search the articles",
        "searchPlaceholder": "Words to look for…",
        "codeBlock": "Code sample (scrolls sideways)",
        "searchButton": "Search",
        "searchResultsFor": "Results for",
        "colon": ":",
        "searchNoResults": "No article matches this search.",
        "searchEmpty": "Type a few words to search titles, descriptions and articles.",
        "searchTooLong": "This search is too long; use fewer words.",
        "searchInvalid": "This search could not be read; try other words.",
        "publishedOn": "Published on",
        "readingTime": "Reading time",
        "lastUpdate": "Last update",
        "alsoAvailableIn": "Also available in",
        "minutesShort": "min",
        "articleSingular": "article",
        "articlePlural": "articles",
        "aboutTheAuthor": "About the author",
        "readMore": "Read the article",
        "newer": "Newer articles",
        "older": "Older articles",
        "pagination": "Pages",
        "pageOf": "Page {1} of {2}",
        "noArticles": "No article yet.",
        "feed": "Atom feed",
        "language": "Language",
        "notFoundTitle": "Page not found",
        "notFoundMessage": "There is no page at this address. It may have moved, or the link may be wrong.",
        "serverErrorTitle": "Something went wrong",
        "serverErrorMessage": "The server could not show this page. Please try again in a moment.",
        "unavailableTitle": "Content not available yet",
        "unavailableMessage": "The articles of this site are not loaded yet. Please come back in a moment.",
        "backHome": "Back to the home page",
        "poweredBy": "Served by its own engine, written in Swift.",
    ]

    static let french: [String: String] = [
        "languageName": "Français",
        "skipToContent": "Aller au contenu",
        "home": "Accueil",
        "mainNavigation": "Navigation principale",
        "articles": "Articles",
        "latestArticles": "Derniers articles",
        "tags": "Étiquettes",
        "allTags": "Toutes les étiquettes",
        "taggedWith": "Articles avec l'étiquette",
        "tagTitle": "Articles avec l'étiquette «\u{202F}{1}\u{202F}»",
        "search": "Recherche",
        "searchLabel": "Rechercher dans les articles",
        "searchPlaceholder": "Mots à chercher…",
        "codeBlock": "Exemple de code (défile à l’horizontale)",
        "searchButton": "Chercher",
        "searchResultsFor": "Résultats pour",
        "colon": "\u{A0}:",
        "searchNoResults": "Aucun article ne correspond à cette recherche.",
        "searchEmpty": "Saisissez quelques mots pour chercher dans les titres, les résumés et les articles.",
        "searchTooLong": "Cette recherche est trop longue ; utilisez moins de mots.",
        "searchInvalid": "Cette recherche est illisible ; essayez d'autres mots.",
        "publishedOn": "Publié le",
        "readingTime": "Temps de lecture",
        "lastUpdate": "Dernière mise à jour",
        "alsoAvailableIn": "Aussi disponible en",
        "minutesShort": "min",
        "articleSingular": "article",
        "articlePlural": "articles",
        "aboutTheAuthor": "Qui écrit ici",
        "readMore": "Lire l'article",
        "newer": "Articles plus récents",
        "older": "Articles plus anciens",
        "pagination": "Pages",
        "pageOf": "Page {1} sur {2}",
        "noArticles": "Aucun article pour l'instant.",
        "feed": "Flux Atom",
        "language": "Langue",
        "notFoundTitle": "Page introuvable",
        "notFoundMessage":
            "Il n'y a pas de page à cette adresse. Elle a peut-être été déplacée, ou le lien est erroné.",
        "serverErrorTitle": "Une erreur est survenue",
        "serverErrorMessage": "Le serveur n'a pas pu afficher cette page. Réessayez dans un instant.",
        "unavailableTitle": "Contenu pas encore disponible",
        "unavailableMessage": "Les articles de ce site ne sont pas encore chargés. Revenez dans un instant.",
        "backHome": "Retour à l'accueil",
        "poweredBy": "Servi par son propre moteur, écrit en Swift.",
    ]
}

extension String {
    /// The string with `{1}`, `{2}`… replaced by `values[0]`, `values[1]`….
    fileprivate func replacingPlaceholders(_ values: [String]) -> String {
        var result = self
        for (i, value) in values.enumerated() {
            let marker = "{\(i + 1)}"
            var out = ""
            var rest = Substring(result)
            while let range = rest.firstRange(of: marker) {
                out += rest[..<range.lowerBound]
                out += value
                rest = rest[range.upperBound...]
            }
            result = out + rest
        }
        return result
    }
}
