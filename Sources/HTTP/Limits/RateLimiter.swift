public import Reactor

/// A request rate limit per client (nginx `limit_req`): a token bucket of `burst` tokens refilled at `rate`
/// per second; a request takes one, and with none left it is answered 429 with `Retry-After`.
///
/// Shared by every loop: the buckets sit in 16 shards, each behind its own lock (`Locked`: a pthread mutex, which ThreadSanitizer sees), so two loops rarely wait for
/// each other. A shard holds at most `maxClientsPerShard` buckets; when full, buckets that have refilled
/// completely (indistinguishable from new ones) are dropped, and if none has, the new client is admitted
/// untracked rather than refused: under an address-spraying flood the limit fails open, never closed.
public final class RateLimiter: Sendable {
    /// Requests per second a client may sustain.
    public let rate: Double
    /// Requests a client may send at once after being quiet.
    public let burst: Double
    private let exempt: ExemptClients?
    private let shards: [Shard]
    private let maxClientsPerShard: Int
    private static let shardCount = 16

    final class Shard: Sendable {
        let buckets = Locked<[ClientKey: Bucket]>([:])
    }

    struct Bucket {
        var tokens: Double
        var updatedAt: UInt64
    }

    /// A limit of `rate` requests per second with bursts of `burst`, for every client but `exempt`.
    public init(rate: Double, burst: Int, exempt: ExemptClients?, maxClients: Int = 65_536) {
        self.rate = rate
        self.burst = Double(max(burst, 1))
        self.exempt = exempt
        maxClientsPerShard = max(maxClients / Self.shardCount, 16)
        shards = (0..<Self.shardCount).map { _ in Shard() }
    }

    /// Takes a token for `client`: nil when the request may go on, else the seconds until one is available.
    public func admit(_ client: SocketAddress.Host, now: UInt64 = MonotonicClock.nanoseconds()) -> Int? {
        if let exempt, exempt.contains(client) { return nil }
        let key = ClientKey(client)
        let rate = self.rate
        let burst = self.burst
        let limit = maxClientsPerShard
        return shards[key.shard(of: Self.shardCount)].buckets.withLock { buckets -> Int? in
            if var bucket = buckets[key] {
                let elapsed = Double(now &- bucket.updatedAt) / 1e9
                bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
                bucket.updatedAt = now
                if bucket.tokens >= 1 {
                    bucket.tokens -= 1
                    buckets[key] = bucket
                    return nil
                }
                buckets[key] = bucket
                return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
            }
            if buckets.count >= limit {
                let full = UInt64(burst / rate * 1e9)
                buckets = buckets.filter { now &- $0.value.updatedAt < full }
                if buckets.count >= limit { return nil }
            }
            buckets[key] = Bucket(tokens: burst - 1, updatedAt: now)
            return nil
        }
    }

    /// Clients tracked now (tests, metrics).
    public var trackedClients: Int { shards.reduce(0) { total, shard in total + shard.buckets.withLock { $0.count } } }

    /// The 429 answer (RFC 6585 §4) for a client that must wait `retryAfter` seconds.
    public static func refusal(retryAfter: Int) -> Response {
        .text(
            Status(429, "Too Many Requests"), "Too many requests: retry in \(retryAfter) s.\n",
            headers: [("Retry-After", String(retryAfter)), ("Cache-Control", "no-store")])
    }
}
