/// When to order next: a value type with the clock passed in (seconds since the epoch), so the policy is
/// tested without waiting.
///
/// - No certificate, or one for other names: order now.
/// - Otherwise at two thirds of the lifetime, pulled earlier by up to 1/30 of the lifetime of jitter, so a
///   fleet restarted together does not renew together (the CA's ARI window wins when it gave one).
/// - After a failure: 10 s, doubling to at most 6 h; never sooner than the CA's `Retry-After`; a
///   `rateLimited` problem waits at least an hour.
public struct RenewalSchedule: Sendable {
    /// Consecutive failures since the last success.
    public private(set) var failures = 0
    /// In 0..<1: where in the jitter window this process renews.
    public let jitter: Double

    public init(jitter: Double) { self.jitter = jitter }

    /// When a certificate valid `notBefore`..`notAfter` should be replaced.
    public func renewalTime(notBefore: Int64, notAfter: Int64, window: ClosedRange<Int64>? = nil) -> Int64 {
        if let window { return window.lowerBound + Int64(Double(window.upperBound - window.lowerBound) * jitter) }
        let lifetime = max(notAfter - notBefore, 0)
        return notBefore + lifetime * 2 / 3 - Int64(Double(lifetime / 30) * jitter)
    }

    /// Records a failure at `now`; returns when to try again.
    public mutating func failed(now: Int64, retryAfter: Int?, rateLimited: Bool) -> Int64 {
        failures += 1
        var delay = Int64(10) << Int64(min(failures - 1, 12))
        delay = min(delay, 6 * 3600)
        if rateLimited { delay = max(delay, 3600) }
        if let retryAfter { delay = max(delay, Int64(retryAfter)) }
        return now + delay
    }

    /// Records a success.
    public mutating func succeeded() { failures = 0 }
}
