import Site
import Testing

@Suite struct StaticHTTPDateTests {
    static let formatted: [(seconds: Int64, text: String)] = [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_767_225_599, "Wed, 31 Dec 2025 23:59:59 GMT"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ]

    @Test(arguments: formatted)
    func formatsIMFFixdate(seconds: Int64, text: String) {
        #expect(HTTPDate.format(seconds) == text)
    }

    @Test(arguments: formatted)
    func parsesWhatItFormats(seconds: Int64, text: String) {
        #expect(HTTPDate.parse(text) == seconds)
    }

    @Test(arguments: [Int64(0), 1, 59, 86_399, 86_400, 68_169_600, 951_868_799, 1_700_000_000, 2_000_000_000])
    func roundTripsEverySecondItFormats(seconds: Int64) {
        #expect(HTTPDate.parse(HTTPDate.format(seconds)) == seconds)
    }

    static let rfcExample: Int64 = 784_111_777

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT",  // IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  // obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  // obsolete asctime
        "Sun Nov 06 08:49:37 1994",  // asctime with a two-digit day
    ])
    func parsesAllThreeForms(text: String) {
        #expect(HTTPDate.parse(text, now: 1_767_225_600) == Self.rfcExample)
    }

    @Test func readsTwoDigitYearsWithinFiftyYearsOfNow() {
        let now: Int64 = 1_767_225_600  // 2026-01-01
        #expect(
            HTTPDate.parse("Wednesday, 01-Jan-76 00:00:00 GMT", now: now)
                == HTTPDate.parse("Wed, 01 Jan 2076 00:00:00 GMT"))
        #expect(
            HTTPDate.parse("Saturday, 01-Jan-77 00:00:00 GMT", now: now)
                == HTTPDate.parse("Sat, 01 Jan 1977 00:00:00 GMT"))
        #expect(
            HTTPDate.parse("Saturday, 01-Jan-00 00:00:00 GMT", now: now)
                == HTTPDate.parse("Sat, 01 Jan 2000 00:00:00 GMT"))
    }

    @Test(arguments: [
        "",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Thu, 29 Feb 2001 00:00:00 GMT",
        "Thu, 29 Feb 1900 00:00:00 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sund, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "1994-11-06T08:49:37Z",
        "784111777",
    ])
    func refusesMalformedDates(text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    @Test func acceptsLeapDayAndLeapSecond() {
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 00:00:00 GMT") == 951_782_400)
        #expect(HTTPDate.parse("Sat, 31 Dec 2016 23:59:60 GMT") == HTTPDate.parse("Sun, 01 Jan 2017 00:00:00 GMT"))
    }
}
