import CLinux
import Glibc

/// An append-only log destination: standard output/error, or a file that can be reopened (after
/// logrotate renamed it) on `SIGUSR1`. Thread-safe; each `write` is one `write(2)` under a lock, so lines
/// from different loops never interleave.
public final class LogFile: Sendable {
    private let path: String?
    private let fd: Locked<CInt>

    /// Standard output.
    public static let standardOutput = LogFile(fd: 1)
    /// Standard error.
    public static let standardError = LogFile(fd: 2)

    private init(fd: CInt) {
        path = nil
        self.fd = Locked(fd)
    }

    /// Opens (creating, mode 0640) `path` for appending.
    public init(path: String) throws(SystemError) {
        self.path = path
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        if fd < 0 { throw SystemError(call: "open", errno: Syscall.errno) }
        self.fd = Locked(fd)
    }

    /// The file's path, or nil for a standard stream.
    public var filePath: String? { path }

    /// Appends `bytes`. A failed write (disk full) is dropped: logging must never stop the server.
    public func write(_ bytes: [UInt8]) {
        fd.withLock { fd in
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { raw in
                    // Invariant: offset < count, so the pointer and length stay inside the array.
                    Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                }
                if n > 0 { offset += n } else if n < 0 && Syscall.errno == EINTR { continue } else { return }
            }
        }
    }

    /// Reopens the file at its path (a new file if it was renamed away). Standard streams are left alone.
    public func reopen() throws(SystemError) {
        guard let path else { return }
        let newFD = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        if newFD < 0 { throw SystemError(call: "open", errno: Syscall.errno) }
        let old = fd.withLock { fd in
            let old = fd
            fd = newFD
            return old
        }
        Syscall.close(old)
    }

    deinit {
        let f = fd.withLock { $0 }
        if f > 2 { Syscall.close(f) }
    }
}
