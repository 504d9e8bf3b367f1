internal import Glibc

/// What `stat(2)` says about a regular file; any change means a cached copy is stale.
struct FileIdentity: Sendable, Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int
    /// `st_mtim`, seconds and nanoseconds: nanoseconds catch a same-size rewrite within one second.
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int(st.st_size)
        modifiedSeconds = Int64(st.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(st.st_mtim.tv_nsec)
    }
}

/// A failed file call: which call and its errno.
struct FileSystemError: Error, Sendable, Equatable {
    let call: String
    let errno: CInt

    /// True for "there is no such file for this path" (ENOENT, ENOTDIR, ELOOP, EACCES…), as opposed to
    /// the server running short (EMFILE, ENFILE, ENOMEM, EIO), which is our 500, not the client's 404.
    var meansNotFound: Bool {
        switch errno {
        case EMFILE, ENFILE, ENOMEM, EIO: false
        default: true
        }
    }
}

/// The file calls static serving needs, named as in their man pages. Cold path only: they run on a cache
/// miss or a once-a-second revalidation, never per hit.
enum FileSystem {
    /// `realpath(3)`: the absolute path of `path` with every symlink, `.` and `..` resolved, or nil.
    static func realpath(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard Glibc.realpath(path, &buffer) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `stat(2)` of `path` (following symlinks), if it is a regular file.
    static func regularFileIdentity(_ path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return FileIdentity(st)
    }

    /// Opens `path` read-only and checks with `fstat(2)` that it is a regular file; the caller owns the
    /// returned descriptor. `O_NOFOLLOW` refuses a final symlink swapped in after `realpath`; `O_NONBLOCK`
    /// keeps a FIFO planted under the root from blocking the loop thread in `open`.
    static func openRegularFile(_ path: String) -> Result<(fd: CInt, identity: FileIdentity), FileSystemError> {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        if fd < 0 { return .failure(FileSystemError(call: "open", errno: errno)) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = FileSystemError(call: "fstat", errno: errno)
            close(fd)
            return .failure(error)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .failure(FileSystemError(call: "fstat", errno: EISDIR))
        }
        return .success((fd, FileIdentity(st)))
    }

    /// Reads up to `count` bytes from the start of `fd` with `pread(2)`; fewer if the file shrank meanwhile.
    static func readAll(_ fd: CInt, count: Int) -> Result<[UInt8], FileSystemError> {
        var data = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = data.withUnsafeMutableBytes { raw in
                // Invariant: filled < count == raw.count, so [filled, count) lies inside the array's storage.
                Glibc.pread(fd, raw.baseAddress! + filled, count - filled, off_t(filled))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(FileSystemError(call: "pread", errno: errno))
            }
            if n == 0 { break }
            filled += n
        }
        data.removeLast(count - filled)
        return .success(data)
    }

    /// `close(2)` of a descriptor that is not (yet) owned by a `FileDescriptor`.
    static func close(_ fd: CInt) {
        _ = Glibc.close(fd)
    }

    /// Wall-clock epoch seconds (`CLOCK_REALTIME`).
    static func wallClockSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
