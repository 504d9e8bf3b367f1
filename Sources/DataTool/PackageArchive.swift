import Foundation
import Site

/// `mywebsite-data package`: a checked package as a gzip'd tar that is the same bytes for the same content.
///
/// ```text
/// data.tgz
/// ├── site.db
/// └── articles/            en/…, fr/…, images/…   (names sorted, as GNU tar --sort=name does)
/// ```
/// Deterministic: entries sorted by name; every mtime set to the newest content date (midnight UTC), so
/// the server's `Last-Modified` for images still means something; owner and group 0 without names; modes
/// normalised to 0644/0755; gzip without a name or timestamp (`gzip -n`). Only the database and
/// `articles/` go in: a stray `site.db-journal` or editor file does not.
enum PackageArchive {
    /// Checks the package in `dataPath`, then writes the archive to `outputPath` (through a temporary file
    /// renamed into place). Throws the check's problems or the failing command's message.
    static func write(dataPath: String, databaseName: String, to outputPath: String) throws(BuildProblems) {
        let problems = DataPackageCheck.run(dataPath: dataPath, databaseName: databaseName)
        guard problems.isEmpty else { throw BuildProblems(problems) }
        let store: ContentStore
        do {
            store = try ContentStore(dataPath: dataPath, databaseName: databaseName)
        } catch {
            throw BuildProblems(error.message)
        }
        let newest = store.languages.flatMap { store.articles(lang: $0) }.map(\.updated).max() ?? "1970-01-01"
        let output = URL(fileURLWithPath: outputPath).standardizedFileURL
        let temporary = output.deletingLastPathComponent()
            .appendingPathComponent(".\(output.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let arguments = [
            "--create", "--file", temporary.path, "--use-compress-program", "gzip -9n",
            "--directory", dataPath, "--sort=name", "--format=gnu", "--mtime=@\(epochSeconds(newest))",
            "--owner=0", "--group=0", "--numeric-owner", "--mode=u=rwX,go=rX", "--no-acls", "--no-xattrs",
            "--", databaseName, "articles",
        ]
        try run("/bin/tar", arguments)
        // rename(2) replaces an existing archive in one step: a reader sees the old file or the new one.
        guard rename(temporary.path, output.path) == 0 else {
            throw BuildProblems("\(output.path): rename: \(String(cString: strerror(errno)))")
        }
    }

    /// Seconds since 1970 at midnight UTC of `date` (`YYYY-MM-DD`, already checked).
    static func epochSeconds(_ date: String) -> Int {
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return 0 }
        // Days from civil (H. Hinnant's algorithm): exact for the proleptic Gregorian calendar.
        let year = parts[0] - (parts[1] <= 2 ? 1 : 0)
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (parts[1] + (parts[1] > 2 ? -3 : 9)) + 2) / 5 + parts[2] - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return (era * 146_097 + dayOfEra - 719_468) * 86_400
    }

    private static func run(_ executable: String, _ arguments: [String]) throws(BuildProblems) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw BuildProblems("\(executable): cannot start: \(error.localizedDescription)")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let detail = message.split(separator: "\n").first.map(String.init) ?? "exit \(process.terminationStatus)"
            throw BuildProblems("\(executable): \(detail)")
        }
    }
}
