import Foundation
import Site

/// Reads a content source directory (content/README.md describes it) into `PackageContent`, checking every
/// rule on the way, and publishes it as a data package.
///
/// ```text
/// SOURCE/site.yml, tags.yml ──▶ SiteSources          languages, author, tags
/// SOURCE/articles/<key>/<lang>.md ──▶ FrontMatter ──▶ BodyRenderer (Ink)
/// SOURCE/images/*                          copied to DATA/articles/images/
///        │ every problem collected, one line each
///        ▼
/// PackageContent ──▶ PackagePublisher: temp dir beside DATA, ContentWriter, DataPackageCheck, rename
/// ```
struct DataBuilder {
    /// The source directory.
    let sourcePath: String

    /// The result of `load`: the content, the images to copy and what deserves a warning.
    struct Loaded {
        var content: PackageContent
        /// Image file name → absolute source path.
        var images: [String: String]
        /// Not problems, but probably mistakes (a tag no article uses).
        var warnings: [String]
    }

    /// Reads and validates the whole source directory. Throws every problem found, each on one line naming
    /// the file (relative to the source directory) and the field.
    func load() throws(BuildProblems) -> Loaded {
        guard isDirectory(sourcePath) else { throw BuildProblems("\(sourcePath): no such directory") }
        let site = try SiteSources.readSite(try readFile("site.yml"))
        let languages = site.languages.map(\.lang)
        var problems: [String] = []
        var tags: [PackageContent.TagEntry] = []
        do {
            tags = try SiteSources.readTags(try readFile("tags.yml"), languages: languages)
        } catch {
            problems += error.lines
        }
        let images = readImages(&problems)
        let articles = readArticles(languages: languages, tags: tags, images: images, &problems)
        if !problems.isEmpty { throw BuildProblems(problems) }
        let used = Set(articles.flatMap { $0.translations.flatMap(\.tagKeys) })
        let warnings = tags.filter { !used.contains($0.key) }.map { "tags.yml: tag \($0.key) is used by no article" }
        let content = PackageContent(
            authorName: site.authorName, languages: site.languages, tags: tags, articles: articles)
        return Loaded(content: content, images: images, warnings: warnings)
    }

    /// `load`, then writes the package beside `outputPath` and moves it into place (see `PackagePublisher`).
    func build(into outputPath: String, databaseName: String = ContentWriter.defaultDatabaseName)
        throws(BuildProblems) -> Loaded
    {
        let loaded = try load()
        try PackagePublisher.publish(
            loaded.content, images: loaded.images, to: outputPath, databaseName: databaseName)
        return loaded
    }

    // MARK: - Files

    private func readFile(_ relativePath: String) throws(BuildProblems) -> String {
        let path = sourcePath + "/" + relativePath
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BuildProblems("\(relativePath): missing or unreadable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw BuildProblems("\(relativePath): not valid UTF-8")
        }
        return text
    }

    private func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private func entries(_ relativePath: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sourcePath + "/" + relativePath)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The image files of `images/`: name → absolute path.
    private func readImages(_ problems: inout [String]) -> [String: String] {
        var images: [String: String] = [:]
        for name in entries("images") {
            let path = sourcePath + "/images/" + name
            guard !isDirectory(path) else {
                problems.append("images/\(name): a directory; images/ holds files only")
                continue
            }
            guard ContentRules.isImageFileName(name) else {
                problems.append("images/\(name): file name should be lowercase letters, digits, '-', '_' and '.'")
                continue
            }
            images[name] = URL(fileURLWithPath: path).standardizedFileURL.path
        }
        return images
    }

    // MARK: - Articles

    private func readArticles(
        languages: [String], tags: [PackageContent.TagEntry], images: [String: String], _ problems: inout [String]
    ) -> [PackageContent.ArticleEntry] {
        let tagKeys = Set(tags.map(\.key))
        var articles: [PackageContent.ArticleEntry] = []
        var slugOwners: [String: String] = [:]  // "lang/slug" → file
        let keys = entries("articles")
        if keys.isEmpty { problems.append("articles/: no article") }
        for key in keys {
            let directory = "articles/\(key)"
            guard isDirectory(sourcePath + "/" + directory) else {
                problems.append("\(directory): not a directory (articles/<translation-key>/<lang>.md)")
                continue
            }
            guard ContentRules.isSlug(key) else {
                problems.append("\(directory): the translation key should be lowercase letters, digits and hyphens")
                continue
            }
            var versions: [(file: String, front: FrontMatter, html: String)] = []
            var present: Set<String> = []  // languages with a file, valid or not
            for name in entries(directory) {
                let file = "\(directory)/\(name)"
                let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
                guard parts.count == 2, ["md", "html"].contains(parts[1]), languages.contains(parts[0]) else {
                    problems.append(
                        "\(file): not an article file (expected <lang>.md or <lang>.html, lang one of "
                            + languages.joined(separator: ", ") + ")")
                    continue
                }
                guard present.insert(parts[0]).inserted else {
                    problems.append("\(file): a second \(parts[0]) version of \(key)")
                    continue
                }
                do {
                    let front = try FrontMatter(parsing: try readFile(file), file: file)
                    var fileProblems = check(
                        front, file: file, lang: parts[0], key: key, tagKeys: tagKeys, images: images)
                    let html =
                        parts[1] == "md"
                        ? BodyRenderer.html(fromMarkdown: front.body) : BodyRenderer.html(fromHTML: front.body)
                    fileProblems += checkBody(html, file: file, images: images)
                    if let owner = slugOwners[front.lang + "/" + front.slug] {
                        fileProblems.append(
                            "\(file): slug: \(front.slug) is already the \(front.lang) slug of \(owner)")
                    }
                    slugOwners[front.lang + "/" + front.slug] = file
                    problems += fileProblems
                    if fileProblems.isEmpty { versions.append((file, front, html)) }
                } catch {
                    problems += error.lines
                }
            }
            for lang in languages where !present.contains(lang) {
                problems.append("\(directory): no \(lang) version (\(lang).md)")
            }
            if versions.count == languages.count, let article = combine(versions, key: key, &problems) {
                articles.append(article)
            }
        }
        return articles
    }

    /// The rules of one file's front matter.
    private func check(
        _ front: FrontMatter, file: String, lang: String, key: String, tagKeys: Set<String>, images: [String: String]
    ) -> [String] {
        var problems: [String] = []
        if front.lang != lang { problems.append("\(file): lang: \(front.lang) does not match the file name (\(lang))") }
        if front.translationKey != key {
            problems.append("\(file): translation_key: \(front.translationKey) does not match the directory (\(key))")
        }
        if !ContentRules.isSlug(front.slug) {
            problems.append("\(file): slug: \(front.slug) should be lowercase letters, digits and single hyphens")
        }
        if !ContentRules.isCalendarDate(front.published) {
            problems.append("\(file): published: \(front.published) is not a calendar date YYYY-MM-DD")
        }
        if let updated = front.updated {
            if !ContentRules.isCalendarDate(updated) {
                problems.append("\(file): updated: \(updated) is not a calendar date YYYY-MM-DD")
            } else if ContentRules.isCalendarDate(front.published), updated < front.published {
                problems.append("\(file): updated: \(updated) is before published (\(front.published))")
            }
        }
        var seen: Set<String> = []
        for tag in front.tags {
            if !tagKeys.contains(tag) { problems.append("\(file): tags: \(tag) is not defined in tags.yml") }
            if !seen.insert(tag).inserted { problems.append("\(file): tags: \(tag) is listed twice") }
        }
        if !ContentRules.isImageFileName(front.image) {
            problems.append("\(file): image: \(front.image) should be a bare file name of images/")
        } else if images[front.image] == nil {
            problems.append("\(file): image: \(front.image) is not in images/")
        }
        return problems
    }

    /// The rules of a rendered body: no level-1 heading, every article image it uses present.
    private func checkBody(_ html: String, file: String, images: [String: String]) -> [String] {
        var problems: [String] = []
        if html.contains("<h1") {
            problems.append("\(file): the body has a level-1 heading; start sections at ## (the title is the h1)")
        }
        for name in ContentRules.imageReferences(inHTML: html) where images[name] == nil {
            problems.append("\(file): body: image \(ContentRules.imageURLPrefix)\(name) is not in images/")
        }
        return problems
    }

    /// The article made of its checked versions, one per language, which must share `published` and `image`.
    private func combine(
        _ versions: [(file: String, front: FrontMatter, html: String)], key: String, _ problems: inout [String]
    ) -> PackageContent.ArticleEntry? {
        guard let first = versions.first else { return nil }
        var ok = true
        for version in versions.dropFirst() {
            if version.front.published != first.front.published {
                problems.append(
                    "\(version.file): published: \(version.front.published) differs from \(first.file) "
                        + "(\(first.front.published)); translations share the publication date")
                ok = false
            }
            if version.front.image != first.front.image {
                problems.append(
                    "\(version.file): image: \(version.front.image) differs from \(first.file) "
                        + "(\(first.front.image)); translations share the header image")
                ok = false
            }
        }
        guard ok else { return nil }
        return PackageContent.ArticleEntry(
            translationKey: key, published: first.front.published, image: first.front.image,
            translations: versions.map { version in
                PackageContent.TranslationEntry(
                    lang: version.front.lang, slug: version.front.slug, title: version.front.title,
                    description: version.front.description, updated: version.front.updated ?? version.front.published,
                    tagKeys: version.front.tags, bodyHTML: version.html)
            })
    }
}
