import Foundation
import Site

/// Writes a package where a running server cannot see it half-done, then swaps it into place.
///
/// ```text
/// PARENT/.DATA.tmp-<pid>-<n>/   ContentWriter + images, then DataPackageCheck
///        │ renameat2(RENAME_EXCHANGE): one atomic step, DATA is never missing nor mixed
///        ▼
/// PARENT/DATA/  (new)           PARENT/.DATA.tmp-…/ (the old package) is then removed
/// ```
/// When DATA does not exist yet, a plain `rename(2)`. When the file system cannot exchange (ENOSYS,
/// EINVAL), two renames: DATA is then missing for an instant, which a server reload treats as a broken
/// package (it keeps serving the previous content), never as a mix.
enum PackagePublisher {
    /// Publishes `content` and `images` (name → source path) as the package `outputPath`. An existing
    /// `outputPath` is replaced only if it is empty or looks like a data package (it has `databaseName` or
    /// `articles/`), so a mistyped `--out` cannot wipe an unrelated directory.
    static func publish(
        _ content: PackageContent, images: [String: String], to outputPath: String, databaseName: String
    ) throws(BuildProblems) {
        let fileManager = FileManager.default
        let output = URL(fileURLWithPath: outputPath).standardizedFileURL
        let parent = output.deletingLastPathComponent()
        try refuseUnrelatedDirectory(output.path, databaseName: databaseName)
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw BuildProblems("\(parent.path): cannot create: \(error.localizedDescription)")
        }
        let temporary = parent.appendingPathComponent(
            ".\(output.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        )
        defer { try? fileManager.removeItem(at: temporary) }
        do {
            try ContentWriter.write(content, to: temporary.path, databaseName: databaseName)
        } catch {
            throw BuildProblems(error.message)
        }
        for (name, source) in images.sorted(by: { $0.key < $1.key }) {
            do {
                let destination = temporary.appendingPathComponent("articles/images/\(name)").path
                try fileManager.copyItem(atPath: source, toPath: destination)
                try fileManager.setAttributes([.posixPermissions: 0o644], ofItemAtPath: destination)
            } catch {
                throw BuildProblems("images/\(name): cannot copy: \(error.localizedDescription)")
            }
        }
        let problems = DataPackageCheck.run(dataPath: temporary.path, databaseName: databaseName)
        guard problems.isEmpty else { throw BuildProblems(problems.map { "built package: \($0)" }) }
        try moveIntoPlace(temporary.path, output.path)
    }

    private static func refuseUnrelatedDirectory(_ path: String, databaseName: String) throws(BuildProblems) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw BuildProblems("\(path): exists and is not a directory") }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        guard names.isEmpty || names.contains(databaseName) || names.contains("articles") else {
            throw BuildProblems("\(path): exists and is not a data package; refusing to replace it")
        }
    }

    /// Swaps `temporary` into `output`; afterwards `temporary` holds the old package (if any), which the
    /// caller removes.
    private static func moveIntoPlace(_ temporary: String, _ output: String) throws(BuildProblems) {
        if rename(temporary, output) == 0 { return }  // no package there yet (or an empty directory)
        guard errno == ENOTEMPTY || errno == EEXIST else {
            throw BuildProblems("\(output): rename: \(String(cString: strerror(errno)))")
        }
        if RenameExchange.exchange(temporary, output) { return }
        let aside = temporary + ".old"
        guard rename(output, aside) == 0 else {
            throw BuildProblems("\(output): rename: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, output) == 0 else {
            let failure = errno
            _ = rename(aside, output)
            throw BuildProblems("\(output): rename: \(String(cString: strerror(failure)))")
        }
        _ = rename(aside, temporary)  // so the caller's cleanup removes the old package
    }
}

/// `renameat2(2)` with `RENAME_EXCHANGE` (Linux 3.15+, glibc 2.28+). Swift's Glibc module does not declare
/// `renameat2` (it is behind `_GNU_SOURCE`), so it is looked up once with `dlsym`.
enum RenameExchange {
    private typealias Function =
        @convention(c) (CInt, UnsafePointer<CChar>, CInt, UnsafePointer<CChar>, CUnsignedInt)
        -> CInt
    /// `RENAME_EXCHANGE` from <linux/fs.h>.
    private static let flag: CUnsignedInt = 1 << 1

    /// Atomically exchanges the two existing paths; false when the call is unavailable or fails.
    static func exchange(_ a: String, _ b: String) -> Bool {
        // dlsym(RTLD_DEFAULT (a null handle), …): the symbol from the libc the process already loaded.
        guard let symbol = dlsym(nil, "renameat2") else { return false }
        // Invariant: glibc's renameat2 has exactly this C signature (int, const char *, int, const char *,
        // unsigned int) -> int, so the cast calls it correctly.
        let renameat2 = unsafeBitCast(symbol, to: Function.self)
        return renameat2(AT_FDCWD, a, AT_FDCWD, b, flag) == 0
    }
}
