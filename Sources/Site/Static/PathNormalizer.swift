/// A request path decoded and reduced to plain file-name segments under a root.
public struct NormalizedPath: Sendable, Equatable {
    /// The segments, decoded, none empty, none `.` or `..`, each valid UTF-8 with no `/`, `\` or control byte.
    public var segments: [String]
    /// True when the path names a directory: it was empty or ended in `/`, `.` or `..`.
    public var isDirectory: Bool

    /// Makes a normalized path (tests compare against these).
    public init(_ segments: [String], isDirectory: Bool = false) {
        self.segments = segments
        self.isDirectory = isDirectory
    }

    /// The segments joined with `/`, without a leading slash: the path relative to the root.
    public var relativePath: String { segments.joined(separator: "/") }
}

/// Why a path cannot name a file. Every case is the client's fault: 400.
public enum PathError: Error, Sendable, Equatable {
    /// `%` not followed by two hex digits.
    case invalidPercentEncoding
    /// `%00` (or a raw NUL): it would cut the path short at the C boundary.
    case nulByte
    /// Another control byte (`%01`…`%1F`, `%7F`, raw or encoded).
    case controlCharacter
    /// `%2F` inside a segment: a slash the client hid from segment splitting.
    case encodedSlash
    /// `\` raw or as `%5C`: a separator on other systems, never part of our file names.
    case backslash
    /// The decoded bytes of a segment are not UTF-8.
    case invalidUTF8
    /// A `..` would climb above the root.
    case escapesRoot
}

/// Turns the percent-encoded path below a URL prefix into segments that are safe to append to a root.
///
/// Decodes exactly once, then resolves dot segments on the decoded segments (so `%2e%2e` is `..`, as
/// RFC 3986 §6.2.2.2 equivalence implies), merges repeated slashes, and refuses anything that could make
/// the joined path mean something else to the kernel: NUL and control bytes, encoded slashes, backslashes,
/// invalid UTF-8, and any `..` that would leave the root (RFC 3986 §5.2.4 would clamp it silently; we
/// refuse, since only a probe sends one).
///
/// ```
/// "css/site.css"      → ["css", "site.css"]
/// "/a//b/./c/../d"    → ["a", "b", "d"]
/// "a/%2e%2e/%2E%2e/x" → .escapesRoot
/// "a%2Fb"             → .encodedSlash
/// ```
public enum PathNormalizer {
    /// The normalized form of `raw` (percent-encoded, `/`-separated, leading `/` optional).
    public static func normalize(_ raw: some Collection<UInt8>) -> Result<NormalizedPath, PathError> {
        var segments: [String] = []
        var segment: [UInt8] = []
        var endsAsDirectory = true
        var iterator = raw.makeIterator()

        /// Closes the current segment; returns an error when it cannot be one.
        func finishSegment() -> PathError? {
            defer { segment.removeAll(keepingCapacity: true) }
            if segment.isEmpty || segment == [0x2E] {
                endsAsDirectory = true
                return nil
            }
            if segment == [0x2E, 0x2E] {
                endsAsDirectory = true
                return segments.popLast() == nil ? .escapesRoot : nil
            }
            guard let name = String(validating: segment, as: UTF8.self) else { return .invalidUTF8 }
            segments.append(name)
            endsAsDirectory = false
            return nil
        }

        while let byte = iterator.next() {
            var decoded = byte
            switch byte {
            case UInt8(ascii: "/"):
                if let error = finishSegment() { return .failure(error) }
                continue
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return .failure(.invalidPercentEncoding) }
                decoded = high << 4 | low
                if decoded == UInt8(ascii: "/") { return .failure(.encodedSlash) }
            default:
                break
            }
            switch decoded {
            case 0: return .failure(.nulByte)
            case 0x01..<0x20, 0x7F: return .failure(.controlCharacter)
            case UInt8(ascii: "\\"): return .failure(.backslash)
            default: segment.append(decoded)
            }
        }
        if let error = finishSegment() { return .failure(error) }
        return .success(NormalizedPath(segments, isDirectory: endsAsDirectory))
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
