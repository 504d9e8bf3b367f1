/// The value rules of a data package, shared by `mywebsite-data build` (on the sources) and `DataPackageCheck`
/// (on a package), so both accept exactly the same values. docs/data-format.md states them for other tools.
public enum ContentRules {
    /// A slug, translation key or tag key: lowercase ASCII letters and digits in runs joined by single hyphens,
    /// `^[a-z0-9]+(-[a-z0-9]+)*$`. Safe as a file name and in a URL path without escaping.
    public static func isSlug(_ text: String) -> Bool {
        var previousWasHyphen = true  // a leading hyphen is refused like a doubled one
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                previousWasHyphen = false
            case UInt8(ascii: "-"):
                if previousWasHyphen { return false }
                previousWasHyphen = true
            default:
                return false
            }
        }
        return !text.isEmpty && !previousWasHyphen
    }

    /// A language code: two lowercase ASCII letters (`en`, `fr`).
    public static func isLanguageCode(_ text: String) -> Bool {
        text.utf8.count == 2 && text.utf8.allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
    }

    /// A real calendar date written `YYYY-MM-DD` (year 0001–9999, Gregorian leap years): `2024-02-29` passes,
    /// `2023-02-29`, `2023-13-01` and `2023-1-01` do not.
    public static func isCalendarDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return false }
        guard year >= 1, (1...12).contains(month), day >= 1 else { return false }
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let daysInMonth = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= daysInMonth[month - 1]
    }

    /// An image file name: a bare name (no `/`, not starting with `.`), lowercase ASCII letters, digits, `-`,
    /// `_` and `.`, at most 128 bytes (`gitlab-kaniko.svg`). Safe to join to the images directory.
    public static func isImageFileName(_ text: String) -> Bool {
        guard let first = text.utf8.first, first != UInt8(ascii: "."), text.utf8.count <= 128 else { return false }
        return text.utf8.allSatisfy(isImageFileNameByte)
    }

    private static func isImageFileNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    /// The image file names a body references through `imageURLPrefix`, each once, in order of first use.
    /// A reference whose name breaks `isImageFileName` is returned as written, so the caller reports it.
    public static func imageReferences(inHTML html: String) -> [String] {
        var names: [String] = []
        var rest = html.utf8[...]
        let prefix = Array(imageURLPrefix.utf8)
        while let start = rest.firstRange(of: prefix) {
            rest = rest[start.upperBound...]
            let name = rest.prefix {
                $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") && $0 != UInt8(ascii: ")")
                    && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: "?")
                    && $0 != UInt8(ascii: "#")
            }
            let text = String(decoding: name, as: UTF8.self)
            if !text.isEmpty, !names.contains(text) { names.append(text) }
        }
        return names
    }

    /// Reading time in minutes for a body of `wordCount` words: 220 words a minute, rounded down, at least 1.
    public static func readingMinutes(wordCount: Int) -> Int {
        max(1, wordCount / 220)
    }

    /// The public URL prefix of article images inside bodies: `/static/images/articles/<file>`.
    public static let imageURLPrefix = "/static/images/articles/"
}
