import HTTP
import Reactor
import Synchronization

/// One version of one file, ready to send: the 200 and 304 responses are built once, when the file is
/// loaded, so a hit copies a `Response` and allocates nothing.
///
/// ```
/// whole.cachedHeaders   Content-Type, ETag, Last-Modified, Cache-Control, Accept-Ranges, nosniff
/// whole.body            .bytes(contents)  ≤ memoryFileLimit: writev straight from memory
///                       .file(fd, 0, n)   larger: sendfile from a descriptor held open here
/// notModified           ETag, Last-Modified, Cache-Control; no body
/// ```
/// Immutable but for `lastChecked`; shared by every loop thread.
final class CachedFile: Sendable {
    /// The canonical request path (`/static/` + decoded relative path): the cache key.
    let key: PathKey
    /// The decoded path below the root, `css/site.css`.
    let relativePath: String
    /// The file's `realpath(3)` when loaded; revalidation expects the same.
    let realPath: String
    /// What `stat(2)` said when loaded; revalidation expects the same.
    let identity: FileIdentity
    /// ETag, Last-Modified and length, for conditional and range requests.
    let validators: Validators
    /// The 200 response.
    let whole: Response
    /// The 304 response.
    let notModified: Response
    /// Bytes of file content held in memory (0 for a descriptor-backed file).
    let memoryCost: Int
    /// Wall-clock seconds of the last `stat` (or of the load). Bumped with compare-exchange so that one
    /// thread per interval revalidates while the others keep serving.
    let lastChecked: Atomic<Int64>

    init(
        key: [UInt8], relativePath: String, realPath: String, identity: FileIdentity, validators: Validators,
        whole: Response, notModified: Response, memoryCost: Int, loadedAt: Int64
    ) {
        self.key = PathKey(key[...])
        self.relativePath = relativePath
        self.realPath = realPath
        self.identity = identity
        self.validators = validators
        self.whole = whole
        self.notModified = notModified
        self.memoryCost = memoryCost
        self.lastChecked = Atomic(loadedAt)
    }
}

/// The loaded files by canonical request path, bounded in count (each may hold a descriptor) and in bytes
/// held in memory. A hit is one lock and one dictionary lookup keyed by a slice of the request's own bytes.
///
/// When full, an insert evicts arbitrary entries (the first in dictionary order): the working set of a
/// site's assets fits the default limits many times over, so eviction only matters under a probe for many
/// distinct files, where any victim is as good as another.
final class FileCache: Sendable {
    private struct State {
        var files: [PathKey: CachedFile] = [:]
        var memoryBytes = 0
    }

    // All mutable state is behind this lock; entries themselves are immutable (see `CachedFile`).
    private let state = Locked(State())  // a pthread mutex: ThreadSanitizer sees it (Mutex uses raw futex)
    /// At most this many entries.
    let maxEntries: Int
    /// At most this many content bytes in memory, summed over entries.
    let memoryBudget: Int

    /// Makes an empty cache with these bounds.
    init(maxEntries: Int, memoryBudget: Int) {
        self.maxEntries = max(1, maxEntries)
        self.memoryBudget = memoryBudget
    }

    /// The entry for `key`, if loaded.
    func file(for key: PathKey) -> CachedFile? {
        state.withLock { $0.files[key] }
    }

    /// Adds `file`, replacing any entry with its key and evicting others to stay within the bounds.
    func insert(_ file: CachedFile) {
        state.withLock { s in
            if let old = s.files.removeValue(forKey: file.key) { s.memoryBytes -= old.memoryCost }
            while !s.files.isEmpty
                && (s.files.count >= maxEntries || s.memoryBytes + file.memoryCost > memoryBudget)
            {
                s.memoryBytes -= s.files.remove(at: s.files.startIndex).value.memoryCost
            }
            s.files[file.key] = file
            s.memoryBytes += file.memoryCost
        }
    }

    /// Drops `file` if it is still the entry for its key (another thread may have replaced it already).
    func remove(_ file: CachedFile) {
        state.withLock { s in
            if let current = s.files[file.key], current === file {
                s.files[file.key] = nil
                s.memoryBytes -= file.memoryCost
            }
        }
    }

    /// The number of entries and the content bytes they hold in memory (tests, metrics).
    var usage: (count: Int, memoryBytes: Int) {
        state.withLock { ($0.files.count, $0.memoryBytes) }
    }
}

/// A request path as a dictionary key, compared byte for byte. Every hit hashes the raw path, so it is fed
/// to the hasher eight bytes at a time rather than byte by byte as `ArraySlice`'s own `hash(into:)` does.
struct PathKey: Hashable, Sendable {
    /// The path bytes (a slice of a request head on lookup, of an owned array in the cache).
    let bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    static func == (a: PathKey, b: PathKey) -> Bool { a.bytes.elementsEqual(b.bytes) }

    func hash(into hasher: inout Hasher) {
        var word: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            word |= UInt64(byte) << shift
            shift += 8
            if shift == 64 {
                hasher.combine(word)
                word = 0
                shift = 0
            }
        }
        hasher.combine(word)
        hasher.combine(bytes.count)
    }
}
