/// The timing side of one connection, as a value: which phase it is in since when, and so which deadline
/// applies. The connection feeds it events and acts on what `timerFired` decides; the clock is injected
/// (monotonic milliseconds), so tests drive it without sleeping.
///
/// ```
///            bytes of a head               complete head → response queued
///  fresh ─────────────────────▶ readingHead ───────────────▶ writing ──┐
///    ▲                              ▲                          │       │ output drained
///    │                              └──── bytes of next head ──┼── idle ◀┘
///  accept                                                      └──(pipelined head already buffered)
/// ```
/// `fresh` and `readingHead` are bounded by the header timeout, `idle` by the keep-alive timeout, `writing`
/// by the write timeout counted from the last progress.
public struct ConnectionState: Sendable, Equatable {
    /// What the connection waits for.
    public enum Phase: Sendable, Equatable {
        /// Accepted, no byte yet.
        case fresh
        /// Part of a request head is buffered.
        case readingHead
        /// A response is waiting for the client to read it.
        case writing
        /// Keep-alive, between requests.
        case idle
    }

    /// Why a connection timed out.
    public enum Timeout: Sendable, Equatable {
        case header, keepAlive, write
    }

    /// The decision on a timer firing.
    public enum Decision: Sendable, Equatable {
        /// Not yet: wake again at this time.
        case rearm(at: Int64)
        /// Close the connection for this reason.
        case close(Timeout)
    }

    /// The timeouts in milliseconds. A class: the connections of a server share one.
    public final class Timeouts: Sendable, Equatable {
        public let header: Int64
        public let keepAlive: Int64
        public let write: Int64
        /// Makes timeouts.
        public init(header: Int64, keepAlive: Int64, write: Int64) {
            self.header = header
            self.keepAlive = keepAlive
            self.write = write
        }

        public static func == (a: Timeouts, b: Timeouts) -> Bool {
            a.header == b.header && a.keepAlive == b.keepAlive && a.write == b.write
        }
    }

    // Stored in this order, the phase and the 32-bit grace share a word: the state sits in every connection.
    /// When the phase started (for `writing`: the last progress).
    public private(set) var since: Int64
    private let timeouts: Timeouts
    /// Set when the server drains: a connection that waits for its first or next request waits no longer.
    public private(set) var drainDeadline: Int64 = .max
    /// The drain grace in milliseconds, also given to a connection that turns idle after the drain began;
    /// `Int32.max` until the server drains.
    private var drainGrace: Int32 = .max
    /// The current phase.
    public private(set) var phase: Phase = .fresh

    /// A connection accepted at `now`.
    public init(now: Int64, timeouts: Timeouts) {
        since = now
        self.timeouts = timeouts
    }

    /// The time at which the current phase times out.
    public var deadline: Int64 {
        switch phase {
        case .fresh: min(since + timeouts.header, drainDeadline)
        case .readingHead: since + timeouts.header
        case .idle:
            min(since + timeouts.keepAlive, drainGrace == .max ? .max : max(drainDeadline, since + Int64(drainGrace)))
        case .writing: since + timeouts.write
        }
    }

    /// Part of a head is buffered after parsing. The header clock starts at the first byte and does not
    /// restart on later bytes (a slow-loris client cannot keep it alive by trickling).
    public mutating func partialHeadBuffered(now: Int64) {
        switch phase {
        case .fresh: phase = .readingHead  // the clock has run since accept: keep it
        case .readingHead: break
        case .idle:
            phase = .readingHead
            since = now
        case .writing: break  // decided when the output drains
        }
    }

    /// A response was queued or some of it was written.
    public mutating func wrote(now: Int64) {
        phase = .writing
        since = now
    }

    /// All output is written; `partialHead` tells whether bytes of a next request are already buffered.
    public mutating func outputDrained(now: Int64, partialHead: Bool) {
        phase = partialHead ? .readingHead : .idle
        since = now
    }

    /// The server drains: a connection with no request under way closes at `now + grace` unless a request
    /// arrives first (then it is answered, with `Connection: close`). A request a client sent just before it
    /// heard of the shutdown is answered instead of meeting a closed socket.
    public mutating func drain(now: Int64, grace: Int64) {
        drainDeadline = min(drainDeadline, now + grace)
        drainGrace = min(drainGrace, Int32(clamping: grace))
    }

    /// The timer fired at `now`.
    public func timerFired(now: Int64) -> Decision {
        if now < deadline { return .rearm(at: deadline) }
        switch phase {
        case .fresh, .readingHead: return .close(.header)
        case .idle: return .close(.keepAlive)
        case .writing: return .close(.write)
        }
    }
}
