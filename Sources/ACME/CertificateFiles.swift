import Glibc

/// The ACME state under `CONFIG_PATH/acme/`: the account key, and the certificate key and chain for the
/// domain set (named after its first domain). Every file is 0600 and written atomically (temporary file,
/// fsync, rename, fsync of the directory), so a crash leaves the old file or the new one, never half.
public struct CertificateFiles: Sendable {
    public let directory: String
    public let name: String

    /// Files for `domains` under `directory` (`CONFIG_PATH/acme`).
    public init(directory: String, domains: [String]) {
        self.directory = directory
        name = (domains.first ?? "default").replacingSlashes()
    }

    public var accountKeyPath: String { directory + "/account.key" }
    public var certificatePath: String { directory + "/\(name).crt" }
    public var keyPath: String { directory + "/\(name).key" }

    /// The account key, made and stored on first use.
    public func accountKey() throws(ACMEError) -> ACMEKey {
        if let pem = Self.read(accountKeyPath) { return try ACMEKey(pem: pem) }
        let key = try ACMEKey.generate()
        try write(try key.pem(), to: accountKeyPath)
        return key
    }

    /// The stored chain, if there is one that parses.
    public func storedCertificate() -> CertificateInfo? {
        guard let pem = Self.read(certificatePath), Self.read(keyPath) != nil else { return nil }
        return try? CertificateInfo(pem: pem)
    }

    /// Stores a new key and chain, the key first. A reload that runs between the two renames sees a key that
    /// is not the chain's, refuses it (the old pair keeps serving) and succeeds on the next change.
    public func store(key: ACMEKey, chain: String) throws(ACMEError) {
        try write(try key.pem(), to: keyPath)
        try write(chain, to: certificatePath)
    }

    public var lockPath: String { directory + "/order.lock" }

    /// Takes the ordering lock (`flock` on `order.lock`), so one process per host orders for these files
    /// however many run on the same `CONFIG_PATH`. nil when another process holds it; the lock goes with
    /// the descriptor, so a process that dies releases it.
    public func lockOrdering() throws(ACMEError) -> OrderingLock? {
        try makeDirectory()
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ACMEError.storage("open \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return OrderingLock(fd: fd)
    }

    /// Creates the directory (0700) and its parents.
    public func makeDirectory() throws(ACMEError) {
        var current = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw ACMEError.storage("mkdir \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    private func write(_ text: String, to path: String) throws(ACMEError) {
        try makeDirectory()
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ACMEError.storage("open \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            written += n
        }
        // fchmod: a file left by an older run with a wider mode is narrowed too.
        let ok = written == bytes.count && fchmod(fd, 0o600) == 0 && fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ACMEError.storage("write \(path): \(reason)")
        }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)  // the rename itself is durable only once the directory is synced
            close(dirFD)
        }
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while bytes.count < 1 << 20 {
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}

/// The held ordering lock; `release` gives it back.
public struct OrderingLock: Sendable {
    let fd: Int32
    public func release() { close(fd) }
}

extension String {
    fileprivate func replacingSlashes() -> String {
        String(map { $0 == "/" || $0 == "\\" ? "_" : $0 })
    }
}
