import Testing

@testable import Site

@Suite struct StoreRulesTests {
    @Test(arguments: [
        ("containerize-your-application-in-a-ci-cd-process-with-gitlab", true), ("tls13", true), ("a", true),
        ("", false), ("-a", false), ("a-", false), ("a--b", false), ("A", false), ("é", false), ("a_b", false),
        ("a/b", false), ("a b", false), ("..", false),
    ])
    func slugsAreLowercaseWordsJoinedBySingleHyphens(_ text: String, _ valid: Bool) {
        #expect(ContentRules.isSlug(text) == valid)
    }

    @Test(arguments: [
        ("2024-02-29", true), ("2000-02-29", true), ("2023-03-14", true), ("0001-01-01", true), ("2023-12-31", true),
        ("2023-02-29", false), ("1900-02-29", false), ("2023-04-31", false), ("2023-13-01", false),
        ("2023-00-10", false), ("2023-01-00", false), ("0000-01-01", false), ("2023-1-01", false),
        ("2023/01/01", false), ("23-01-01", false), ("2023-01-01T00:00", false), ("", false), ("２０２３-01-01", false),
    ])
    func datesAreRealCalendarDays(_ text: String, _ valid: Bool) {
        #expect(ContentRules.isCalendarDate(text) == valid)
    }

    @Test(arguments: [
        ("gitlab-kaniko.svg", true), ("a_b.png", true), (".hidden", false), ("a/b.svg", false), ("../x", false),
        ("A.svg", false), ("", false), ("a b.svg", false), (String(repeating: "a", count: 129), false),
    ])
    func imageNamesAreBareFileNames(_ text: String, _ valid: Bool) {
        #expect(ContentRules.isImageFileName(text) == valid)
    }

    @Test(arguments: [(0, 1), (219, 1), (220, 1), (439, 1), (440, 2), (2200, 10)])
    func readingTimeIsWordsOver220AtLeastOne(_ words: Int, _ minutes: Int) {
        #expect(ContentRules.readingMinutes(wordCount: words) == minutes)
    }

    @Test func imageReferencesAreFoundInBodies() {
        let html = """
            <img src="/static/images/articles/a.svg" alt="x"><a href='/static/images/articles/b-c.png'>b</a>\
            <img src="/static/images/articles/a.svg"> /static/images/articles/../etc/passwd
            """
        #expect(ContentRules.imageReferences(inHTML: html) == ["a.svg", "b-c.png", "../etc/passwd"])
    }

    @Test func plainTextDropsTagsAndDecodesEntities() {
        let html =
            "<h2 id=\"x\">Title</h2><p>A <em>b</em>c &lt;d&gt; &amp;&#233;&#xE9;&nbsp;e</p><pre><code>f\ng</code></pre>"
        #expect(HTMLText.plainText(html) == "Title A bc <d> &éé e f g")
        #expect(HTMLText.wordCount("  one two\nthree ") == 3)
    }

    @Test func collationIgnoresCaseAndAccentsFirst() {
        let names = ["SQLite", "nginx", "Sécurité", "Networking", "Réseau", "Ansible", "CI/CD"]
        #expect(
            names.sorted(by: TextCollation.precedes)
                == ["Ansible", "CI/CD", "Networking", "nginx", "Réseau", "Sécurité", "SQLite"])
    }
}
