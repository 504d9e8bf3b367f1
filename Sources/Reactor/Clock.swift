import Glibc

/// Monotonic milliseconds, for deadlines. Never goes back; unrelated to wall time.
public enum MonotonicClock {
    /// Milliseconds since an arbitrary fixed point.
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// Wall-clock seconds since the Unix epoch, for `Date` headers and logs.
public enum WallClock {
    /// Seconds since 1970-01-01T00:00:00Z.
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}

extension MonotonicClock {
    /// Nanoseconds since the same fixed point (latency measurements; `now()` is too coarse for them).
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
