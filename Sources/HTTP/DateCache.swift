/// The `Date` header line, formatted at most once per second per loop (RFC 9110 §6.6.1, IMF-fixdate).
struct DateCache {
    private var second: Int64 = -1
    /// `Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n`
    private(set) var line: [UInt8] = []

    /// The header line for `now` (wall-clock epoch seconds).
    mutating func line(for now: Int64) -> [UInt8] {
        if now != second {
            second = now
            line = Array("Date: \(IMFDate.format(now))\r\n".utf8)
        }
        return line
    }
}

/// RFC 9110 §5.6.7 IMF-fixdate formatting, without Foundation.
public enum IMFDate {
    private static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sun, 06 Nov 1994 08:49:37 GMT` for `epochSeconds`.
    public static func format(_ epochSeconds: Int64) -> String {
        let c = CivilTime(epochSeconds)
        return "\(days[Int(c.dayNumber % 7 + 7) % 7]), \(two(c.day)) \(months[c.month - 1]) \(c.year) "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) GMT"
    }

    /// `10/Oct/2000:13:55:36 +0000`, the common log format's timestamp.
    public static func commonLog(_ epochSeconds: Int64) -> String {
        let c = CivilTime(epochSeconds)
        return "\(two(c.day))/\(months[c.month - 1])/\(c.year):\(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }

    /// `2000-10-10T13:55:36Z`.
    public static func iso8601(_ epochSeconds: Int64) -> String {
        let c = CivilTime(epochSeconds)
        return "\(c.year)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))Z"
    }

    private static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

/// A UTC calendar date and time from epoch seconds (Howard Hinnant's days-from-civil inverse).
public struct CivilTime: Sendable, Equatable {
    public let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    /// Days since 1970-01-01.
    public let dayNumber: Int64

    /// The UTC date and time of `epochSeconds`.
    public init(_ epochSeconds: Int64) {
        let days = epochSeconds >= 0 ? epochSeconds / 86400 : (epochSeconds - 86399) / 86400
        let secs = Int(epochSeconds - days * 86400)
        dayNumber = days
        hour = secs / 3600
        minute = secs % 3600 / 60
        second = secs % 60
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = Int(doy - (153 * mp + 2) / 5 + 1)
        month = Int(mp < 10 ? mp + 3 : mp - 9)
        year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
    }

    /// Epoch seconds of a UTC date and time; nil when a field is out of range.
    public static func epochSeconds(
        year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0,
        second: Int = 0
    ) -> Int64? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
