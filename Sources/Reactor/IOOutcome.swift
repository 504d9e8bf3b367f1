/// The result of one non-blocking I/O call. `EAGAIN` and end-of-file are outcomes, not errors.
public enum IOOutcome: Equatable, Sendable {
    /// The call moved this many bytes (for a write: possibly fewer than offered).
    case done(Int)
    /// The kernel (or the TLS engine) has nothing more now; wait for the next readiness event.
    case wouldBlock
    /// The peer closed, reset, or the stream failed; the caller must close its side.
    case closed
}

/// A system call failed in a way that is not an ordinary peer outcome, e.g. `accept4: EMFILE (24)`.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// The call that failed, as named in its man page.
    public let call: StaticString
    /// The `errno` it left.
    public let errno: CInt

    /// Makes an error for `call` failing with `errno`.
    public init(call: StaticString, errno: CInt) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call): \(Syscall.errnoName(errno)) (\(errno))"
    }
}
