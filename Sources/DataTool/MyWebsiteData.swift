import ArgumentParser
import Foundation
import Site

/// `mywebsite-data`: builds, checks and packs website data packages (docs/data-format.md). The server
/// binary forwards `mywebsite data build|package` here, keeping Foundation, Yams and Ink out of it.
@main
struct MyWebsiteData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mywebsite-data",
        abstract: "Build, check and package website data packages.",
        subcommands: [Build.self, Check.self, Package.self])

    /// Exit code when the content or the package has problems (each printed on one line to stderr).
    static let problemsExitCode: Int32 = 1

    /// Prints `problems` to standard error, one a line, and returns the failure to throw.
    static func fail(_ problems: BuildProblems) -> ExitCode {
        for line in problems.lines { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        return ExitCode(problemsExitCode)
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a content source directory into a data package (replaced atomically).")

        @Argument(help: "The content source directory (site.yml, tags.yml, articles/, images/).")
        var source: String

        @Option(name: .customLong("out"), help: "The data package directory to create or replace.")
        var output: String

        @Option(help: "The database file name inside the package.")
        var databaseName = ContentWriter.defaultDatabaseName

        func run() throws {
            do {
                let loaded = try DataBuilder(sourcePath: source).build(into: output, databaseName: databaseName)
                for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                let translations = loaded.content.articles.map(\.translations.count).reduce(0, +)
                print(
                    "built \(output): \(loaded.content.articles.count) articles, \(translations) translations, "
                        + "\(loaded.content.tags.count) tags, \(loaded.images.count) images")
            } catch {
                throw MyWebsiteData.fail(error)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a data package; prints one line per problem and exits 1 if there is any.")

        @Argument(help: "The data package directory.")
        var data: String

        @Option(help: "The database file name inside the package.")
        var databaseName = ContentWriter.defaultDatabaseName

        func run() throws {
            let problems = DataPackageCheck.run(dataPath: data, databaseName: databaseName)
            guard problems.isEmpty else { throw MyWebsiteData.fail(BuildProblems(problems)) }
            print("\(data): valid")
        }
    }

    struct Package: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a data package, then write it as a reproducible .tgz archive.")

        @Argument(help: "The data package directory.")
        var data: String

        @Option(name: .customLong("out"), help: "The archive to write, e.g. data.tgz.")
        var output: String

        @Option(help: "The database file name inside the package.")
        var databaseName = ContentWriter.defaultDatabaseName

        func run() throws {
            do {
                try PackageArchive.write(dataPath: data, databaseName: databaseName, to: output)
                print("packaged \(data) into \(output)")
            } catch {
                throw MyWebsiteData.fail(error)
            }
        }
    }
}
