import Site
import Yams

/// `site.yml` and `tags.yml` of a source directory, read and checked (see content/README.md).
enum SiteSources {
    /// The author and the languages, in the order `site.yml` lists them (the first is the default).
    ///
    /// ```yaml
    /// author: { name: …, en: { tagline: … }, fr: { tagline: … } }
    /// en: { title: …, tagline: …, description: … }
    /// ```
    static func readSite(_ text: String, file: String = "site.yml") throws(BuildProblems)
        -> (authorName: String, languages: [PackageContent.LanguageEntry])
    {
        guard case .mapping(let root) = try YAMLReading.compose(text, file: file) else {
            throw BuildProblems("\(file): should be a YAML mapping with author and one entry per language")
        }
        var problems: [String] = []
        let languageCodes = YAMLReading.keys(root).filter { $0 != "author" }
        for code in languageCodes where !ContentRules.isLanguageCode(code) {
            problems.append("\(file): \(code): neither author nor a two-letter language code")
        }
        if languageCodes.isEmpty { problems.append("\(file): no language (add e.g. en: { title: …, description: … })") }
        let author = root["author"]?.mapping
        let authorName = YAMLReading.text(author?["name"]) ?? ""
        if authorName.isEmpty { problems.append("\(file): author.name: missing") }
        var languages: [PackageContent.LanguageEntry] = []
        for code in languageCodes where ContentRules.isLanguageCode(code) {
            let texts = root[code]?.mapping
            func required(_ value: String?, _ field: String) -> String {
                if let value, !value.allSatisfy(\.isWhitespace) { return value }
                problems.append("\(file): \(field): missing")
                return ""
            }
            for key in texts.map(YAMLReading.keys) ?? [] where !["title", "tagline", "description"].contains(key) {
                problems.append("\(file): \(code).\(key): unknown field (allowed: title, tagline, description)")
            }
            languages.append(
                PackageContent.LanguageEntry(
                    lang: code,
                    title: required(YAMLReading.text(texts?["title"]), "\(code).title"),
                    description: required(YAMLReading.text(texts?["description"]), "\(code).description"),
                    tagline: YAMLReading.text(texts?["tagline"]) ?? "",
                    authorTagline: required(
                        YAMLReading.text(author?[code]?.mapping?["tagline"]), "author.\(code).tagline")))
        }
        if !problems.isEmpty { throw BuildProblems(problems) }
        return (authorName, languages)
    }

    /// The tag list: each entry has a unique `key` and, for every language, a `name` and a `slug` unique in
    /// that language.
    ///
    /// ```yaml
    /// - key: security
    ///   en: { name: Security, slug: security }
    ///   fr: { name: Sécurité, slug: securite }
    /// ```
    static func readTags(_ text: String, languages: [String], file: String = "tags.yml") throws(BuildProblems)
        -> [PackageContent.TagEntry]
    {
        guard case .sequence(let entries) = try YAMLReading.compose(text, file: file) else {
            throw BuildProblems("\(file): should be a YAML list of tags")
        }
        var problems: [String] = []
        var tags: [PackageContent.TagEntry] = []
        var keys: Set<String> = []
        var slugs: [String: [String: String]] = [:]  // lang → slug → key
        for (position, node) in entries.enumerated() {
            guard let entry = node.mapping, let key = YAMLReading.text(entry["key"]) else {
                problems.append("\(file): entry \(position + 1): should be a mapping with a key")
                continue
            }
            let place = "\(file): tag \(key)"
            guard ContentRules.isSlug(key) else {
                problems.append("\(place): the key should be lowercase letters, digits and single hyphens")
                continue
            }
            guard keys.insert(key).inserted else {
                problems.append("\(place): defined twice")
                continue
            }
            for field in YAMLReading.keys(entry) where field != "key" && !languages.contains(field) {
                problems.append("\(place): \(field): not a language of site.yml")
            }
            var names: [PackageContent.TagEntry.Name] = []
            for lang in languages {
                let localised = entry[lang]?.mapping
                guard let name = YAMLReading.text(localised?["name"]), !name.isEmpty else {
                    problems.append("\(place): \(lang).name: missing")
                    continue
                }
                guard let slug = YAMLReading.text(localised?["slug"]), ContentRules.isSlug(slug) else {
                    problems.append("\(place): \(lang).slug: missing or not lowercase letters, digits and hyphens")
                    continue
                }
                if let other = slugs[lang]?[slug] {
                    problems.append("\(place): \(lang).slug \(slug) is already the slug of tag \(other)")
                    continue
                }
                slugs[lang, default: [:]][slug] = key
                names.append(.init(lang: lang, name: name, slug: slug))
            }
            tags.append(.init(key: key, names: names))
        }
        if !problems.isEmpty { throw BuildProblems(problems) }
        return tags
    }
}
