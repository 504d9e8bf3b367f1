public import Reactor
import Synchronization

/// Caps open connections, per client (nginx `limit_conn`) and in total, across every loop. `open(for:)` at
/// accept takes a slot and returns a `ConnectionLimiter.Slot` that gives it back when released (the
/// connection's stream holds it as its attachment, so every way a connection ends returns its slot).
public final class ConnectionLimiter: Sendable {
    /// Why a connection was refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// The client has `perClient` connections open already.
        case perClient
        /// The server has `total` connections open already.
        case total

        /// The `reason` label and log word.
        public var label: String { self == .perClient ? "per_ip" : "total" }
    }

    /// Connections one client may hold open; nil: no per-client cap.
    public let perClient: Int?
    /// Connections the process holds open at most; nil: no cap.
    public let total: Int?
    private let exempt: ExemptClients?
    private let counts = Locked<[ClientKey: Int]>([:])  // a pthread mutex: ThreadSanitizer sees it
    private let open = Atomic<Int>(0)

    /// Limits of `perClient` per address (none for `exempt` ones) and `total` in all.
    public init(perClient: Int?, total: Int?, exempt: ExemptClients?) {
        self.perClient = perClient
        self.total = total
        self.exempt = exempt
    }

    /// Takes a slot for a connection from `client`, or says why not. `perClient: false` counts it in the total
    /// only (a trusted proxy's connections carry many clients).
    public func open(for client: SocketAddress.Host, perClient countsPerClient: Bool = true) -> Result<Slot, Refusal> {
        if let total {
            let now = open.add(1, ordering: .relaxed).newValue
            if now > total {
                open.subtract(1, ordering: .relaxed)
                return .failure(.total)
            }
        }
        guard let perClient, countsPerClient, !(exempt?.contains(client) ?? false) else {
            return .success(Slot(self, key: nil))
        }
        let key = ClientKey(client)
        let admitted = counts.withLock { counts -> Bool in
            let current = counts[key, default: 0]
            guard current < perClient else { return false }
            counts[key] = current + 1
            return true
        }
        guard admitted else {
            if total != nil { open.subtract(1, ordering: .relaxed) }
            return .failure(.perClient)
        }
        return .success(Slot(self, key: key))
    }

    fileprivate func release(_ key: ClientKey?) {
        if total != nil { open.subtract(1, ordering: .relaxed) }
        releasePerClient(key)
    }

    /// Connections open now under the total cap (tests, metrics).
    public var openCount: Int { open.load(ordering: .relaxed) }

    /// Clients with at least one connection counted (tests).
    public var trackedClients: Int { counts.withLock { $0.count } }

    /// One connection's place: released once, when `release()` is called or the slot is freed.
    public final class Slot {
        private let limiter: ConnectionLimiter
        // The client counted, packed: one slot sits beside every open connection, and packed it is a 48-byte
        // heap block rather than 64 (kind 0: no client counted).
        private var keyBits: UInt64 = 0
        private var keyKind: UInt8 = 0
        private var released = false

        private var key: ClientKey? {
            get { keyKind == 0 ? nil : ClientKey(packed: (keyKind, keyBits)) }
            set { (keyKind, keyBits) = newValue?.packed ?? (0, 0) }
        }

        fileprivate init(_ limiter: ConnectionLimiter, key: ClientKey?) {
            self.limiter = limiter
            self.key = key
        }

        /// Gives the place back now.
        public func release() {
            guard !released else { return }
            released = true
            limiter.release(key)
        }

        /// Counts the connection against `client` instead (the address a PROXY protocol header gave): the old
        /// client's place is given back. False when the new client is at its limit (the slot is then released).
        public func move(to client: SocketAddress.Host) -> Bool {
            guard !released, let perClient = limiter.perClient else { return true }
            if let exempt = limiter.exempt, exempt.contains(client) {
                limiter.releasePerClient(key)
                key = nil
                return true
            }
            let newKey = ClientKey(client)
            guard newKey != key else { return true }
            let admitted = limiter.counts.withLock { counts -> Bool in
                let current = counts[newKey, default: 0]
                guard current < perClient else { return false }
                counts[newKey] = current + 1
                return true
            }
            guard admitted else {
                release()
                return false
            }
            limiter.releasePerClient(key)
            key = newKey
            return true
        }

        deinit { release() }
    }

    fileprivate func releasePerClient(_ key: ClientKey?) {
        guard let key else { return }
        counts.withLock { counts in
            let remaining = counts[key, default: 1] - 1
            counts[key] = remaining > 0 ? remaining : nil
        }
    }
}
