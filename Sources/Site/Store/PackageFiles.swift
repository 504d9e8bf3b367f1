internal import Glibc

/// The file operations the data layer needs beyond SQLite: reading bodies, writing a package, checking that
/// files exist. Errors carry the path and `strerror`, ready for a one-line message.
enum PackageFiles {
    /// The whole content of the regular file at `path` (not a symlink: `O_NOFOLLOW`), decoded as UTF-8
    /// (invalid sequences become U+FFFD).
    static func readText(_ path: String) throws(ContentError) -> String {
        let opened: (fd: CInt, identity: FileIdentity)
        switch FileSystem.openRegularFile(path) {
        case .success(let value): opened = value
        case .failure(let error): throw ContentError("\(path): \(describe(error.errno))")
        }
        defer { FileSystem.close(opened.fd) }
        switch FileSystem.readAll(opened.fd, count: opened.identity.size) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure(let error): throw ContentError("\(path): \(error.call): \(describe(error.errno))")
        }
    }

    /// Whether `path` opens as a regular file the way `readText` would open it.
    static func isReadableRegularFile(_ path: String) -> Bool {
        guard case .success(let opened) = FileSystem.openRegularFile(path) else { return false }
        FileSystem.close(opened.fd)
        return true
    }

    /// Whether `path` is a regular file (following symlinks, as the static file server does).
    static func isRegularFile(_ path: String) -> Bool {
        FileSystem.regularFileIdentity(path) != nil
    }

    /// Whether `path` is a directory (following symlinks).
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    /// `mkdir(2)` with mode 0755; an existing directory is fine.
    static func makeDirectory(_ path: String) throws(ContentError) {
        if mkdir(path, 0o755) == 0 || (errno == EEXIST && isDirectory(path)) { return }
        throw ContentError("\(path): mkdir: \(describe(errno))")
    }

    /// Creates or truncates `path` (mode 0644), writes `text` as UTF-8 and `fsync`s it, so the file is on
    /// disk before the package directory is renamed into place.
    static func writeText(_ path: String, _ text: String) throws(ContentError) {
        guard let file = fopen(path, "we") else { throw ContentError("\(path): fopen: \(describe(errno))") }
        let bytes = Array(text.utf8)
        let written = fwrite(bytes, 1, bytes.count, file)
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let failure = errno
        let closed = fclose(file) == 0
        guard written == bytes.count, flushed, closed else {
            throw ContentError("\(path): write: \(describe(failure))")
        }
    }

    /// The absolute form of `path`: symlinks resolved when it exists, else joined to the working directory.
    static func absolutePath(_ path: String) -> String {
        if let resolved = FileSystem.realpath(path) { return resolved }
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return cwd + "/" + path
    }

    /// `strerror(3)` text with the errno name's number: "No such file or directory (2)".
    static func describe(_ code: CInt) -> String {
        "\(String(cString: strerror(code))) (\(code))"
    }
}
