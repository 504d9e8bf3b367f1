import Foundation
import Testing

@testable import Site

/// Every rejection of `DataPackageCheck`: a valid package is broken in one way and the check must name it.
@Suite struct DataCheckTests {
    /// One way to break a package: SQL on its database and files to remove, and a line the check must print.
    struct Corruption: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String = ""
        var removing: [String] = []
        var writing: [String: String] = [:]
        var expected: String

        var testDescription: String { name }
    }

    static let corruptions: [Corruption] = [
        Corruption(
            name: "missing body", removing: ["articles/en/tls-for-servers.html"],
            expected: "articles/en/tls-for-servers.html: missing (body of article 'tls' (en))"),
        Corruption(
            name: "missing header image", removing: ["articles/images/kaniko.svg"],
            expected: "articles/images/kaniko.svg: missing (header image of article 'kaniko')"),
        Corruption(
            name: "missing image used in a body", removing: ["articles/images/diagram.svg"],
            expected: "articles/images/diagram.svg: missing (used in articles/en/containerize-with-kaniko.html)"),
        Corruption(
            name: "body file that escapes the package",
            sql: "UPDATE translations SET body_file = '../../etc/passwd' WHERE translation_key = 'tls' AND lang = 'en'",
            expected: "article 'tls' (en): body_file '../../etc/passwd' should be 'en/tls-for-servers.html'"),
        Corruption(
            name: "duplicate slug",
            sql: """
                PRAGMA foreign_keys = OFF;
                CREATE TABLE loose (
                    translation_key TEXT, lang TEXT, slug TEXT, title TEXT, description TEXT, updated TEXT,
                    reading_minutes INTEGER, body_file TEXT, PRIMARY KEY (translation_key, lang));
                INSERT INTO loose SELECT * FROM translations;
                DROP TABLE translations;
                ALTER TABLE loose RENAME TO translations;
                UPDATE translations SET slug = 'epoll-loops', body_file = 'en/epoll-loops.html'
                    WHERE translation_key = 'tls' AND lang = 'en';
                """,
            expected: "slug 'epoll-loops' is used by 2 en articles"),
        Corruption(
            name: "published is not a calendar date",
            sql: "UPDATE articles SET published = '2023-02-30' WHERE translation_key = 'kaniko'",
            expected: "article 'kaniko': published '2023-02-30' is not a calendar date YYYY-MM-DD"),
        Corruption(
            name: "updated is not a date",
            sql: "UPDATE translations SET updated = 'soon' WHERE translation_key = 'tls' AND lang = 'fr'",
            expected: "article 'tls' (fr): updated 'soon' is not a calendar date YYYY-MM-DD"),
        Corruption(
            name: "updated before published",
            sql: "UPDATE translations SET updated = '2023-03-13' WHERE translation_key = 'kaniko' AND lang = 'fr'",
            expected: "article 'kaniko' (fr): updated 2023-03-13 is before published 2023-03-14"),
        Corruption(
            name: "dangling article without a translation",
            sql: """
                DELETE FROM article_tags WHERE translation_key = 'epoll' AND lang = 'fr';
                DELETE FROM search WHERE translation_key = 'epoll' AND lang = 'fr';
                DELETE FROM translations WHERE translation_key = 'epoll' AND lang = 'fr';
                """,
            expected: "article 'epoll': no fr translation"),
        Corruption(
            name: "translation of a missing article", sql: "DELETE FROM articles WHERE translation_key = 'epoll'",
            expected: "article 'epoll' (en): translation of a missing article"),
        Corruption(
            name: "unknown tag", sql: "INSERT INTO article_tags VALUES ('tls', 'en', 'kubernetes')",
            expected: "article 'tls' (en): tag 'kubernetes' is not defined"),
        Corruption(
            name: "tag without a name in a language",
            sql: "DELETE FROM tag_names WHERE tag_key = 'unused' AND lang = 'fr'",
            expected: "tag 'unused': no fr name"),
        Corruption(
            name: "bad slug",
            sql: "UPDATE translations SET slug = 'Bad Slug' WHERE translation_key = 'tls' AND lang = 'en'",
            expected: "article 'tls' (en): slug 'Bad Slug' is not lowercase letters, digits and single hyphens"),
        Corruption(
            name: "missing site text", sql: "UPDATE languages SET title = '' WHERE lang = 'fr'",
            expected: "languages: fr has no site title"),
        Corruption(
            name: "missing author", sql: "DELETE FROM settings WHERE key = 'author_name'",
            expected: "settings: author_name is missing or empty"),
        Corruption(
            name: "search index out of step", sql: "DELETE FROM search WHERE translation_key = 'tls' AND lang = 'en'",
            expected: "article 'tls' (en): 0 search rows, expected 1"),
        Corruption(
            name: "missing table", sql: "DROP TABLE article_tags", expected: "site.db: table article_tags is missing"),
        Corruption(
            name: "other schema version", sql: "PRAGMA user_version = 7",
            expected: "site.db has schema version 7; this mywebsite reads version 1"),
        Corruption(
            name: "missing database", removing: ["site.db"], expected: "site.db: missing"),
        Corruption(
            name: "not a database", writing: ["site.db": String(repeating: "not a database ", count: 40)],
            expected: "site.db: cannot be read: file is not a database"),
    ]

    @Test(arguments: corruptions)
    func rejectsABrokenPackageNamingTheProblem(_ corruption: Corruption) throws {
        let problems = try StoreFixture.withPackage { data in
            if !corruption.sql.isEmpty { try StoreFixture.corrupt(data, corruption.sql) }
            for file in corruption.removing { try FileManager.default.removeItem(atPath: data + "/" + file) }
            for (file, text) in corruption.writing {
                try Data(text.utf8).write(to: URL(fileURLWithPath: data + "/" + file))
            }
            return DataPackageCheck.run(dataPath: data)
        }
        #expect(problems.contains(corruption.expected), "\(problems)")
    }

    @Test func foreignKeyCheckFindsLinksToMissingRows() throws {
        let problems = try StoreFixture.withPackage { data in
            try StoreFixture.corrupt(data, "DELETE FROM articles WHERE translation_key = 'epoll'")
            return DataPackageCheck.run(dataPath: data)
        }
        #expect(problems.contains { $0.hasPrefix("site.db: foreign_key_check: translations") }, "\(problems)")
    }

    @Test func reportsEveryProblemOnItsOwnLine() throws {
        let problems = try StoreFixture.withPackage { data in
            try StoreFixture.corrupt(
                data,
                """
                UPDATE articles SET published = '2023-13-01' WHERE translation_key = 'kaniko';
                INSERT INTO article_tags VALUES ('tls', 'fr', 'nope');
                """)
            try FileManager.default.removeItem(atPath: data + "/articles/fr/boucles-epoll.html")
            return DataPackageCheck.run(dataPath: data)
        }
        #expect(problems.count >= 3)
        #expect(problems.allSatisfy { !$0.contains("\n") && !$0.isEmpty })
    }

    @Test func aMissingDirectoryIsOneProblem() {
        #expect(DataPackageCheck.run(dataPath: "/nonexistent/data") == ["/nonexistent/data: no such directory"])
    }

    @Test func honoursTheDatabaseName() throws {
        let problems = try StoreFixture.withPackage { data in
            try FileManager.default.moveItem(atPath: data + "/site.db", toPath: data + "/content.db")
            return DataPackageCheck.run(dataPath: data, databaseName: "content.db")
        }
        #expect(problems == [])
    }
}
