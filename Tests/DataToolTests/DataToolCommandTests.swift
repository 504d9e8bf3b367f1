import Foundation
import Site
import Testing

/// Where the `mywebsite-data` binary is: beside the test runner (`swift build` builds it there).
enum DataToolBinary {
    static let besideRunner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("mywebsite-data").path

    static var path: String? {
        FileManager.default.isExecutableFile(atPath: besideRunner) ? besideRunner : nil
    }
}

/// The real `mywebsite-data` binary; skipped when it has not been built.
@Suite(.enabled(if: DataToolBinary.path != nil, "mywebsite-data is not built"))
struct DataToolCommandTests {
    /// Runs the binary with `arguments`: exit status, standard output, standard error.
    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(DataToolBinary.path))
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }

    @Test func buildCheckAndPackageTwiceGiveIdenticalArchives() throws {
        try SampleContent.withTemporaryDirectory { root in
            let data = root + "/data"
            let build = try run(["build", SampleContent.path, "--out", data])
            #expect(build.status == 0, "\(build.err)")
            #expect(build.out.contains("8 articles, 16 translations"))
            let check = try run(["check", data])
            #expect(check.status == 0 && check.err.isEmpty, "\(check.err)")
            #expect(try run(["package", data, "--out", root + "/one.tgz"]).status == 0)
            // A rebuild rewrites every file with new mtimes and inodes: the archive must not change.
            #expect(try run(["build", SampleContent.path, "--out", data]).status == 0)
            #expect(try run(["package", data, "--out", root + "/two.tgz"]).status == 0)
            let one = try Data(contentsOf: URL(fileURLWithPath: root + "/one.tgz"))
            let two = try Data(contentsOf: URL(fileURLWithPath: root + "/two.tgz"))
            #expect(one == two)
            #expect(one.starts(with: [0x1F, 0x8B]))  // gzip

            let list = Process()
            list.executableURL = URL(fileURLWithPath: "/bin/tar")
            list.arguments = ["-tzvf", root + "/one.tgz"]
            list.environment = ["TZ": "UTC", "PATH": "/usr/bin:/bin"]  // tar -v prints local times
            let pipe = Pipe()
            list.standardOutput = pipe
            try list.run()
            let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            list.waitUntilExit()
            let names = listing.split(separator: "\n").map { String($0.split(separator: " ").last ?? "") }
            #expect(names.first == "site.db")
            #expect(names.contains("articles/images/gitlab-kaniko.svg"))
            #expect(names.contains("articles/en/\(SamplePackageTests.kanikoEnglish).html"))
            #expect(listing.contains("0/0"))
            // Every mtime is the newest update date (midnight UTC), not the build time.
            let store = try ContentStore(dataPath: data, databaseName: "site.db")
            let newest = try #require(store.languages.flatMap { store.articles(lang: $0) }.map(\.updated).max())
            let dates = Set(
                listing.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true)[3] })
            #expect(dates == [Substring(newest)])
        }
    }

    @Test func checkPrintsOneLinePerProblemAndFails() throws {
        try SampleContent.withTemporaryDirectory { root in
            let data = root + "/data"
            #expect(try run(["build", SampleContent.path, "--out", data]).status == 0)
            try FileManager.default.removeItem(atPath: data + "/articles/images/gitlab-kaniko.svg")
            try FileManager.default.removeItem(atPath: data + "/articles/fr/\(SamplePackageTests.kanikoFrench).html")
            let check = try run(["check", data])
            #expect(check.status == 1)
            let lines = check.err.split(separator: "\n")
            #expect(lines.count == 2, "\(check.err)")
            #expect(
                lines.contains(
                    "articles/images/gitlab-kaniko.svg: missing (header image of article 'gitlab-ci-kaniko')"))
            let package = try run(["package", data, "--out", root + "/data.tgz"])
            #expect(package.status == 1)
            #expect(!FileManager.default.fileExists(atPath: root + "/data.tgz"))
        }
    }

    @Test func buildFailsWithOneLinePerProblem() throws {
        let edit: (String) -> String? = {
            $0.replacingOccurrences(of: "published: 2023-03-14", with: "published: 14/03/2023")
        }
        try SampleContent.withEditedCopy("articles/gitlab-ci-kaniko/en.md", edit) { source in
            let root = URL(fileURLWithPath: source).deletingLastPathComponent().path
            let build = try run(["build", source, "--out", root + "/data"])
            #expect(build.status == 1)
            #expect(build.err.contains("articles/gitlab-ci-kaniko/en.md: published: 14/03/2023 is not a calendar date"))
            #expect(!FileManager.default.fileExists(atPath: root + "/data"))
        }
    }
}
