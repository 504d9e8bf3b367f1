import Foundation
import Site
import Testing

@testable import DataTool

/// Every rejection of `mywebsite-data build`: a copy of `content/` is broken in one way and the build must
/// refuse it with a line naming the file and the field.
@Suite struct DataBuilderTests {
    struct Breakage: Sendable, CustomTestStringConvertible {
        var name: String
        var file: String
        var edit: @Sendable (String) -> String?
        var expected: String

        var testDescription: String { name }
    }

    static let kaniko = "articles/gitlab-ci-kaniko/en.md"
    static let kanikoFrench = "articles/gitlab-ci-kaniko/fr.md"

    static func replacing(_ old: String, _ new: String) -> @Sendable (String) -> String? {
        { text in text.replacingOccurrences(of: old, with: new) }
    }

    static let breakages: [Breakage] = [
        Breakage(
            name: "missing field", file: kaniko, edit: replacing("title: \"Containerize", "titel: \"Containerize"),
            expected: "\(kaniko): title: missing"),
        Breakage(
            name: "unknown field", file: kaniko, edit: replacing("image: gitlab", "reading_time: 5\nimage: gitlab"),
            expected:
                "\(kaniko): reading_time: unknown field (allowed: description, image, lang, published, slug, tags, "
                + "title, translation_key, updated)"),
        Breakage(
            name: "bad date", file: kaniko, edit: replacing("published: 2023-03-14", "published: 2023-02-30"),
            expected: "\(kaniko): published: 2023-02-30 is not a calendar date YYYY-MM-DD"),
        Breakage(
            name: "updated before published", file: kaniko,
            edit: replacing("updated: 2025-06-18", "updated: 2023-03-13"),
            expected: "\(kaniko): updated: 2023-03-13 is before published (2023-03-14)"),
        Breakage(
            name: "published differs between translations", file: kanikoFrench,
            edit: replacing("published: 2023-03-14", "published: 2023-03-15"),
            expected: "\(kanikoFrench): published: 2023-03-15 differs from \(kaniko) (2023-03-14); translations share "
                + "the publication date"),
        Breakage(
            name: "unknown tag", file: kaniko,
            edit: replacing("tags: [docker, gitlab, ci-cd]", "tags: [docker, kubernetes]"),
            expected: "\(kaniko): tags: kubernetes is not defined in tags.yml"),
        Breakage(
            name: "no tags", file: kaniko, edit: replacing("tags: [docker, gitlab, ci-cd]", "tags: []"),
            expected: "\(kaniko): tags: at least one tag is required"),
        Breakage(
            name: "missing image", file: kaniko, edit: replacing("image: gitlab-kaniko.svg", "image: nowhere.svg"),
            expected: "\(kaniko): image: nowhere.svg is not in images/"),
        Breakage(
            name: "image path instead of a file name", file: kaniko,
            edit: replacing("image: gitlab-kaniko.svg", "image: ../site.yml"),
            expected: "\(kaniko): image: ../site.yml should be a bare file name of images/"),
        Breakage(
            name: "missing image in the body", file: "images/tls13-handshake.svg", edit: { _ in nil },
            expected:
                "articles/tls13-web-servers/en.md: body: image /static/images/articles/tls13-handshake.svg is not in images/"
        ),
        Breakage(
            name: "lang does not match the file name", file: kaniko, edit: replacing("lang: en", "lang: fr"),
            expected: "\(kaniko): lang: fr does not match the file name (en)"),
        Breakage(
            name: "translation key does not match the directory", file: kaniko,
            edit: replacing("translation_key: gitlab-ci-kaniko", "translation_key: kaniko"),
            expected: "\(kaniko): translation_key: kaniko does not match the directory (gitlab-ci-kaniko)"),
        Breakage(
            name: "invalid slug", file: kaniko,
            edit: replacing("slug: containerize-your", "slug: Containerize_your"),
            expected:
                "\(kaniko): slug: Containerize_your-application-in-a-ci-cd-process-with-gitlab should be lowercase letters, digits and single hyphens"
        ),
        Breakage(
            name: "duplicate slug in a language", file: kaniko,
            edit: replacing(
                "slug: containerize-your-application-in-a-ci-cd-process-with-gitlab",
                "slug: writing-an-epoll-event-loop"),
            expected:
                "\(kaniko): slug: writing-an-epoll-event-loop is already the en slug of articles/epoll-event-loop/en.md"
        ),
        Breakage(
            name: "missing translation", file: kanikoFrench, edit: { _ in nil },
            expected: "articles/gitlab-ci-kaniko: no fr version (fr.md)"),
        Breakage(
            name: "no front matter", file: kaniko, edit: { "Just a body.\n" + $0 },
            expected: "\(kaniko): no front matter (the file must start with a line `---` and a block ending `---`)"),
        Breakage(
            name: "invalid YAML", file: kaniko,
            edit: replacing("tags: [docker, gitlab, ci-cd]", "tags: [docker, gitlab"),
            expected: "\(kaniko): line 10, column 6: YAML: did not find expected ',' or ']'"),
        Breakage(
            name: "level-1 heading in the body", file: kaniko,
            edit: replacing("## How Kaniko works", "# How Kaniko works"),
            expected: "\(kaniko): the body has a level-1 heading; start sections at ## (the title is the h1)"),
        Breakage(
            name: "stray file in an article directory", file: "articles/gitlab-ci-kaniko/notes.txt", edit: { _ in "x" },
            expected:
                "articles/gitlab-ci-kaniko/notes.txt: not an article file (expected <lang>.md or <lang>.html, lang one of en, fr)"
        ),
        Breakage(
            name: "tag without a language", file: "tags.yml",
            edit: replacing("  fr: { name: Ansible, slug: ansible }\n", ""),
            expected: "tags.yml: tag ansible: fr.name: missing"),
        Breakage(
            name: "duplicate tag slug", file: "tags.yml",
            edit: replacing("fr: { name: Réseau, slug: reseau }", "fr: { name: Réseau, slug: securite }"),
            expected: "tags.yml: tag networking: fr.slug securite is already the slug of tag security"),
        Breakage(
            name: "missing site title", file: "site.yml",
            edit: replacing("  title: \"Camille Martin — Carnets de salle serveur\"\n", ""),
            expected: "site.yml: fr.title: missing"),
        Breakage(
            name: "missing author tagline", file: "site.yml",
            edit: { text in
                text.split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.hasPrefix("  en: { tagline:") }.joined(separator: "\n")
            },
            expected: "site.yml: author.en.tagline: missing"),
    ]

    @Test(arguments: breakages)
    func refusesBrokenSourcesNamingFileAndField(_ breakage: Breakage) throws {
        let problems = try SampleContent.withEditedCopy(breakage.file, breakage.edit) { source in
            do {
                _ = try DataBuilder(sourcePath: source).load()
                return [String]()
            } catch let error as BuildProblems {
                return error.lines
            }
        }
        #expect(problems.contains(breakage.expected), "\(problems)")
    }

    @Test func listsEveryProblemNotOnlyTheFirst() throws {
        let edit: (String) -> String? = {
            $0.replacingOccurrences(of: "published: 2023-03-14", with: "published: 2023-13-01")
                .replacingOccurrences(of: "image: gitlab-kaniko.svg", with: "image: none.svg")
        }
        let problems = try SampleContent.withEditedCopy(Self.kaniko, edit) { source in
            do {
                _ = try DataBuilder(sourcePath: source).load()
                return [String]()
            } catch let error as BuildProblems {
                return error.lines
            }
        }
        #expect(problems.count == 2, "\(problems)")
    }

    @Test func aFailedBuildLeavesThePreviousPackageInPlace() throws {
        try SampleContent.withTemporaryDirectory { root in
            let data = root + "/data"
            _ = try DataBuilder(sourcePath: SampleContent.path).build(into: data)
            let before = try FileManager.default.contentsOfDirectory(atPath: data + "/articles/en").sorted()
            let edit: (String) -> String? = { $0.replacingOccurrences(of: "lang: en", with: "lang: xx") }
            try SampleContent.withEditedCopy(Self.kaniko, edit) { source in
                #expect(throws: BuildProblems.self) { try DataBuilder(sourcePath: source).build(into: data) }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/articles/en").sorted() == before)
            #expect(DataPackageCheck.run(dataPath: data) == [])
            #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["data"])  // no temporary left
        }
    }

    @Test func rebuildingReplacesThePackageWhole() throws {
        try SampleContent.withTemporaryDirectory { root in
            let data = root + "/data"
            _ = try DataBuilder(sourcePath: SampleContent.path).build(into: data)
            try Data("stale".utf8).write(to: URL(fileURLWithPath: data + "/articles/en/old-slug.html"))
            _ = try DataBuilder(sourcePath: SampleContent.path).build(into: data)
            #expect(!FileManager.default.fileExists(atPath: data + "/articles/en/old-slug.html"))
            #expect(DataPackageCheck.run(dataPath: data) == [])
            #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["data"])
        }
    }

    @Test func refusesToReplaceADirectoryThatIsNotAPackage() throws {
        try SampleContent.withTemporaryDirectory { root in
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: root + "/notes.txt"))
            let error = #expect(throws: BuildProblems.self) {
                try DataBuilder(sourcePath: SampleContent.path).build(into: root)
            }
            #expect(error?.lines == ["\(root): exists and is not a data package; refusing to replace it"])
            #expect(FileManager.default.fileExists(atPath: root + "/notes.txt"))
        }
    }

    @Test(arguments: [
        ("## How Kaniko works", "<h2 id=\"how-kaniko-works\">How Kaniko works</h2>"),
        ("## Quelles étiquettes pousser ?", "<h2 id=\"quelles-etiquettes-pousser\">Quelles étiquettes pousser ?</h2>"),
        ("## A\n\n## A", "<h2 id=\"a\">A</h2><h2 id=\"a-2\">A</h2>"),
        ("### `epoll_wait` & co", "<h3 id=\"epoll-wait-co\"><code>epoll_wait</code> &amp; co</h3>"),
        ("## ???", "<h2 id=\"section\">???</h2>"),
        ("```yaml\nkey: <value>\n```", "<pre><code class=\"language-yaml\">key: &lt;value&gt;\n</code></pre>"),
        ("![Alt](/static/images/articles/a.svg)", "<img src=\"/static/images/articles/a.svg\" alt=\"Alt\"/>"),
    ])
    func rendersMarkdownBodies(_ markdown: String, _ expected: String) {
        #expect(BodyRenderer.html(fromMarkdown: markdown).contains(expected))
    }

    @Test(arguments: [("2023-03-14", 1_678_752_000), ("1970-01-01", 0), ("2000-02-29", 951_782_400)])
    func archiveTimesAreMidnightUTC(_ date: String, _ seconds: Int) {
        #expect(PackageArchive.epochSeconds(date) == seconds)
    }
}
