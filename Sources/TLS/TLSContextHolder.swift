import Reactor

/// The server's current `TLSContext`, swapped atomically on reload. Listeners read `current` for each new
/// connection; sessions already made keep the context they started with.
public final class TLSContextHolder: Sendable {
    // The lock guards the one reference; building a context happens outside it.
    private let context: Locked<TLSContext>

    /// Holds `context` as the current one.
    public init(_ context: TLSContext) {
        self.context = Locked(context)
    }

    /// The context for a new connection. Safe from any thread.
    public var current: TLSContext { context.withLock { $0 } }

    /// Makes `context` current for connections accepted from now on. Safe from any thread.
    public func replace(with context: TLSContext) {
        self.context.withLock { $0 = context }
    }

    /// Builds a context from `configuration` with the current ticket keys (so tickets stay valid) and ACME
    /// challenges, and makes
    /// it current. On error nothing changes and the error names the file or setting at fault.
    public func reload(_ configuration: TLSConfiguration) throws(TLSError) {
        let old = current
        let fresh = try TLSContext(configuration: configuration, ticketKeys: old.ticketKeys, challenges: old.challenges)
        replace(with: fresh)
    }

    /// Rotates the ticket keys shared by the current context and those reloaded from it. Safe from any thread.
    public func rotateTicketKeys() {
        current.rotateTicketKeys()
    }
}
