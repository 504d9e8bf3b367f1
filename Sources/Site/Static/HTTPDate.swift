/// HTTP dates (RFC 9110 §5.6.7): formats IMF-fixdate, parses IMF-fixdate and the two obsolete forms.
///
/// ```
/// IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
/// rfc850-date  Sunday, 06-Nov-94 08:49:37 GMT
/// asctime-date Sun Nov  6 08:49:37 1994
/// ```
/// Pure arithmetic on epoch seconds (UTC, no leap seconds, no time zones): no Foundation, no libc.
public enum HTTPDate {
    static let shortDays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    static let longDays = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `epochSeconds` as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func format(_ epochSeconds: Int64) -> String {
        let days = floorDivide(epochSeconds, 86_400)
        let secondOfDay = Int(epochSeconds - days * 86_400)
        let (year, month, day) = civil(fromDays: days)
        let weekday = shortDays[Int(((days % 7) + 7) % 7)]
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }

    /// The epoch seconds of an HTTP date in any of the three forms, or nil if `text` is not one.
    ///
    /// `now` (epoch seconds, default the wall clock) anchors the two-digit years of rfc850-date: RFC 9110
    /// §5.6.7 reads a year more than 50 years in the future as the most recent past year with those digits.
    public static func parse(_ text: String, now: Int64? = nil) -> Int64? {
        parse(Array(text.utf8)[...], now: now)
    }

    /// The epoch seconds of an HTTP date held in `bytes` (a header value), or nil; see `parse(_:now:)`.
    /// Allocates nothing, so a conditional request on a cached file stays allocation-free.
    public static func parse(_ bytes: ArraySlice<UInt8>, now: Int64? = nil) -> Int64? {
        var s = DateScanner(bytes)
        let dayNameLength = s.skipLetters()
        guard dayNameLength >= 3 else { return nil }
        let dayName = bytes[bytes.startIndex..<bytes.startIndex + dayNameLength]
        if s.take(UInt8(ascii: ",")) {
            if dayNameLength == 3 {
                guard shortDays.contains(where: { $0.utf8.elementsEqual(dayName) }) else { return nil }
                return parseIMFFixdate(&s)
            }
            guard longDays.contains(where: { $0.utf8.elementsEqual(dayName) }) else { return nil }
            return parseRFC850(&s, now: now)
        }
        guard dayNameLength == 3, shortDays.contains(where: { $0.utf8.elementsEqual(dayName) }) else { return nil }
        return parseAsctime(&s)
    }

    // MARK: - The three forms, after the day name

    /// `, 06 Nov 1994 08:49:37 GMT` (the comma already taken).
    private static func parseIMFFixdate(_ s: inout DateScanner) -> Int64? {
        guard s.take(UInt8(ascii: " ")), let day = s.digits(exactly: 2), s.take(UInt8(ascii: " ")),
            let month = s.month(), s.take(UInt8(ascii: " ")), let year = s.digits(exactly: 4),
            s.take(UInt8(ascii: " ")), let time = s.timeOfDay(), s.takeGMT(), s.atEnd
        else { return nil }
        return epoch(year: year, month: month, day: day, time: time)
    }

    /// `, 06-Nov-94 08:49:37 GMT` (the comma already taken).
    private static func parseRFC850(_ s: inout DateScanner, now: Int64?) -> Int64? {
        guard s.take(UInt8(ascii: " ")), let day = s.digits(exactly: 2), s.take(UInt8(ascii: "-")),
            let month = s.month(), s.take(UInt8(ascii: "-")), let yy = s.digits(exactly: 2),
            s.take(UInt8(ascii: " ")), let time = s.timeOfDay(), s.takeGMT(), s.atEnd
        else { return nil }
        // RFC 9110 §5.6.7: more than 50 years ahead of now means the century before.
        let currentYear = civil(fromDays: floorDivide(now ?? FileSystem.wallClockSeconds(), 86_400)).year
        var year = currentYear - currentYear % 100 + yy
        if year > currentYear + 50 { year -= 100 }
        return epoch(year: year, month: month, day: day, time: time)
    }

    /// ` Nov  6 08:49:37 1994` (the day name already taken; the day is space-padded or two digits).
    private static func parseAsctime(_ s: inout DateScanner) -> Int64? {
        guard s.take(UInt8(ascii: " ")), let month = s.month(), s.take(UInt8(ascii: " ")) else { return nil }
        let day: Int
        if s.take(UInt8(ascii: " ")) {
            guard let d = s.digits(exactly: 1) else { return nil }
            day = d
        } else {
            guard let d = s.digits(exactly: 2) else { return nil }
            day = d
        }
        guard s.take(UInt8(ascii: " ")), let time = s.timeOfDay(), s.take(UInt8(ascii: " ")),
            let year = s.digits(exactly: 4), s.atEnd
        else { return nil }
        return epoch(year: year, month: month, day: day, time: time)
    }

    // MARK: - Calendar arithmetic

    /// Epoch seconds of a UTC date and time, or nil when the day does not exist in that month.
    private static func epoch(year: Int, month: Int, day: Int, time: Int) -> Int64? {
        guard day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        return days(fromCivil: year, month, day) * 86_400 + Int64(time)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day number (Howard Hinnant's civil_from_days).
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }

    private static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

/// A cursor over the bytes of a date; every method either consumes what it names or nothing useful.
private struct DateScanner {
    let bytes: ArraySlice<UInt8>
    var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var atEnd: Bool { index == bytes.endIndex }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.endIndex, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Skips ASCII letters; returns how many.
    mutating func skipLetters() -> Int {
        let start = index
        while index < bytes.endIndex, (bytes[index] | 0x20) &- UInt8(ascii: "a") < 26 { index += 1 }
        return index - start
    }

    mutating func digits(exactly count: Int) -> Int? {
        guard bytes.endIndex - index >= count else { return nil }
        var value = 0
        for i in index..<index + count {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            value = value * 10 + Int(d)
        }
        index += count
        return value
    }

    /// A three-letter month name (case-sensitive, RFC 9110 §5.6.7), as 1...12.
    mutating func month() -> Int? {
        guard bytes.endIndex - index >= 3 else { return nil }
        let name = bytes[index..<index + 3]
        guard let i = HTTPDate.months.firstIndex(where: { $0.utf8.elementsEqual(name) }) else { return nil }
        index += 3
        return i + 1
    }

    /// `HH:MM:SS` as seconds of the day; a leap second (60) is accepted and rolls into the next minute.
    mutating func timeOfDay() -> Int? {
        guard let h = digits(exactly: 2), take(UInt8(ascii: ":")), let m = digits(exactly: 2),
            take(UInt8(ascii: ":")), let s = digits(exactly: 2), h < 24, m < 60, s <= 60
        else { return nil }
        return h * 3600 + m * 60 + s
    }

    mutating func takeGMT() -> Bool {
        take(UInt8(ascii: " ")) && take(UInt8(ascii: "G")) && take(UInt8(ascii: "M")) && take(UInt8(ascii: "T"))
    }
}
