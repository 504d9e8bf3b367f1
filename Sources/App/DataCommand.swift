import ArgumentParser
import Glibc
import Reactor
import Site

/// `mywebsite data …`: the website data package. `check` runs in this binary (it needs only SQLite, so the
/// runtime image can validate a package); `build` and `package` parse Markdown and YAML with Foundation-based
/// libraries, so they live in the sibling tool `mywebsite-data` and are forwarded to it, keeping the server
/// binary small.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Build, check and package the website data package.",
        subcommands: [Check.self, Build.self, Package.self]
    )

    /// `mywebsite data check DATA_DIR`.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a data package; print one line per problem and exit 1 if there is any.")

        @Argument(help: "The data directory (holds the database, articles/ and articles/images/).")
        var dataDirectory: String
        @Option(help: "Database file name inside the data directory. Env: DATABASE_NAME. Default: site.db.")
        var databaseName: String?

        func run() throws {
            let name = databaseName ?? ProcessEnvironment.all()["DATABASE_NAME"] ?? "site.db"
            let problems = DataPackageCheck.run(dataPath: dataDirectory, databaseName: name)
            for problem in problems { FileHandleStandardError.write("\(problem)\n") }
            if !problems.isEmpty {
                FileHandleStandardError.write("\(dataDirectory): \(problems.count) problem(s)\n")
                throw ExitCode(1)
            }
            print("\(dataDirectory): valid")
        }
    }

    /// `mywebsite data build SOURCE_DIR --out DATA_DIR`, run by `mywebsite-data`.
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a data package from article sources (runs mywebsite-data build).")
        @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
        func run() throws { try forwardToDataTool(["build"] + arguments) }
    }

    /// `mywebsite data package DATA_DIR --out data.tgz`, run by `mywebsite-data`.
    struct Package: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive a data package for deployment (runs mywebsite-data package).")
        @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
        func run() throws { try forwardToDataTool(["package"] + arguments) }
    }
}

/// Replaces this process with `mywebsite-data` from the same directory as this binary.
private func forwardToDataTool(_ arguments: [String]) throws -> Never {
    let own = Executable.path() ?? ""
    let directory = own.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    let tool = directory + "/mywebsite-data"
    guard access(tool, X_OK) == 0 else {
        FileHandleStandardError.write(
            "mywebsite data \(arguments.first ?? ""): needs the mywebsite-data tool next to this binary (\(tool)); "
                + "`swift build` builds both. The runtime image carries only `data check`.\n")
        throw ExitCode(69)
    }
    let argv = ([tool] + arguments).map { strdup($0) } + [nil]
    execv(tool, argv)
    FileHandleStandardError.write("mywebsite data: cannot run \(tool): errno \(errno)\n")
    throw ExitCode(71)
}
