import Glibc

/// The CA's suggested renewal window for one certificate (ACME Renewal Information, RFC 9773 §4.2).
public struct RenewalInfo: Equatable, Sendable {
    /// Seconds since the epoch.
    public let window: ClosedRange<Int64>
    /// When to ask again (the response's `Retry-After`), in seconds from now.
    public let retryAfter: Int?

    public init(window: ClosedRange<Int64>, retryAfter: Int?) {
        self.window = window
        self.retryAfter = retryAfter
    }

    /// Reads a `renewalInfo` response body; nil when it has no usable `suggestedWindow` (end before start,
    /// or a time that is not RFC 3339).
    public init?(json: JSON, retryAfter: Int?) {
        guard let start = json["suggestedWindow"]?["start"]?.string.flatMap(RFC3339.seconds),
            let end = json["suggestedWindow"]?["end"]?.string.flatMap(RFC3339.seconds), start <= end
        else { return nil }
        self.init(window: start...end, retryAfter: retryAfter)
    }
}

/// RFC 3339 date-times (`2025-01-02T04:00:00Z`, `…T04:00:00.123+02:00`), as ACME writes them.
public enum RFC3339 {
    /// Seconds since the epoch (fractions dropped); nil for anything else.
    public static func seconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func number(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for c in b[at..<at + count] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A,
            b[16] == 0x3A, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        var i = 19
        if b[i] == 0x2E {  // fraction
            i += 1
            let start = i
            while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 0x5A || b[i] == 0x7A {  // Z
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D, b.count == i + 6, b[i + 3] == 0x3A,
            let h = number(i + 1, 2), let m = number(i + 4, 2), h < 24, m < 60
        {
            offset = (h * 3600 + m * 60) * (b[i] == 0x2B ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int64(timegm(&parts)) - Int64(offset)
    }

    /// `seconds` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func format(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(width - digits.count, 0)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
    }
}
