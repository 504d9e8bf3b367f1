/// The listening sockets a process inherited through systemd socket activation (`sd_listen_fds(3)`).
///
/// systemd (or a parent re-executing us for a binary upgrade) passes `LISTEN_FDS` descriptors starting at
/// fd 3, sets `LISTEN_PID` to the pid that must take them, and may name each one in `LISTEN_FDNAMES`
/// (colon-separated). This type only reads and checks those variables; it opens, closes or probes nothing,
/// so it is tested with a plain dictionary and a pid.
public struct SocketActivation: Equatable, Sendable {
    /// One inherited descriptor and the name systemd gave it (`FileDescriptorName=`, default `"unknown"`).
    public struct Socket: Equatable, Sendable {
        /// The descriptor number, 3 or above.
        public let fd: CInt
        /// Its name from `LISTEN_FDNAMES`, or `"unknown"` when none was given (what systemd uses).
        public let name: String
    }

    /// Why the variables cannot be used; each case names the variable so start-up can say what is wrong.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case malformedCount(String)
        case malformedPID(String)
        case nameCountMismatch(names: Int, fds: Int)

        public var description: String {
            switch self {
            case .malformedCount(let text):
                return "LISTEN_FDS=\(text) is not a descriptor count (a decimal number from 1 to 4096)"
            case .malformedPID(let text):
                return "LISTEN_PID=\(text) is not a process id (a positive decimal number)"
            case .nameCountMismatch(let names, let fds):
                return "LISTEN_FDNAMES names \(names) sockets but LISTEN_FDS passes \(fds)"
            }
        }
    }

    /// The first inherited descriptor: `SD_LISTEN_FDS_START` in `sd-daemon.h`.
    public static let firstFD: CInt = 3
    /// Upper bound on `LISTEN_FDS`, far above any real listener count; a larger value is a mistake.
    public static let maximumCount = 4096

    /// The inherited sockets, in fd order (3, 4, …).
    public let sockets: [Socket]

    /// Reads `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES` from `environment`.
    ///
    /// Returns nil when no sockets are meant for this process: `LISTEN_FDS` unset or `0`, or `LISTEN_PID`
    /// set to another pid (the variables leaked from a parent, as `sd_listen_fds` also ignores them then).
    /// Throws when they are set for us but malformed, so a broken unit fails at start instead of silently
    /// opening its own sockets.
    public static func inherited(environment: [String: String], pid: CInt) throws(Problem) -> SocketActivation? {
        guard let countText = environment["LISTEN_FDS"] else { return nil }
        if let pidText = environment["LISTEN_PID"] {
            guard let owner = decimal(pidText), owner > 0, owner <= Int(CInt.max) else {
                throw .malformedPID(pidText)
            }
            guard owner == Int(pid) else { return nil }
        }
        guard let count = decimal(countText), count <= maximumCount else { throw .malformedCount(countText) }
        guard count > 0 else { return nil }
        var names = [String](repeating: "unknown", count: count)
        if let namesText = environment["LISTEN_FDNAMES"] {
            let given = namesText.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard given.count == count else { throw .nameCountMismatch(names: given.count, fds: count) }
            names = given
        }
        return SocketActivation(
            sockets: names.enumerated().map { Socket(fd: firstFD + CInt($0.offset), name: $0.element) })
    }

    /// A non-empty run of ASCII digits (no sign, no spaces) as an Int, or nil; at most 10 digits.
    private static func decimal(_ text: String) -> Int? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 10, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }
}
