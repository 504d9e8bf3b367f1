import Site
import Testing

@Suite struct PathNormalizerTests {
    static let accepted: [(raw: String, expected: NormalizedPath)] = [
        ("css/site.css", NormalizedPath(["css", "site.css"])),
        ("/css/site.css", NormalizedPath(["css", "site.css"])),
        ("a//b///c", NormalizedPath(["a", "b", "c"])),
        ("a/./b", NormalizedPath(["a", "b"])),
        ("a/b/../c", NormalizedPath(["a", "c"])),
        ("a/%2e/b/%2E%2e/c", NormalizedPath(["a", "c"])),
        ("%61%62c", NormalizedPath(["abc"])),
        ("caf%C3%A9.css", NormalizedPath(["café.css"])),
        ("café.css", NormalizedPath(["café.css"])),
        ("a%20b.txt", NormalizedPath(["a b.txt"])),
        ("a%25b", NormalizedPath(["a%b"])),
        ("...", NormalizedPath(["..."])),
        ("..a", NormalizedPath(["..a"])),
        (".env", NormalizedPath([".env"])),  // dotfiles are StaticFiles' 404, not a syntax error
        ("", NormalizedPath([], isDirectory: true)),
        ("/", NormalizedPath([], isDirectory: true)),
        ("css/", NormalizedPath(["css"], isDirectory: true)),
        ("css/.", NormalizedPath(["css"], isDirectory: true)),
        ("css/x/..", NormalizedPath(["css"], isDirectory: true)),
        ("a/..", NormalizedPath([], isDirectory: true)),
    ]

    @Test(arguments: accepted)
    func normalizesSafePaths(raw: String, expected: NormalizedPath) {
        #expect(PathNormalizer.normalize(raw.utf8) == .success(expected))
    }

    static let refused: [(raw: String, error: PathError)] = [
        ("..", .escapesRoot),
        ("/..", .escapesRoot),
        ("../etc/passwd", .escapesRoot),
        ("a/../../etc/passwd", .escapesRoot),
        ("%2e%2e", .escapesRoot),
        ("%2e%2e/etc/passwd", .escapesRoot),
        ("%2E%2e/", .escapesRoot),
        (".%2e/x", .escapesRoot),
        ("a/b/../../../x", .escapesRoot),
        ("a%2Fb", .encodedSlash),
        ("a%2fb", .encodedSlash),
        ("..%2Fetc%2Fpasswd", .encodedSlash),
        ("%2e%2e%2fetc", .encodedSlash),
        ("a%00.css", .nulByte),
        ("a%0Ab", .controlCharacter),
        ("a%7f", .controlCharacter),
        ("a\\b", .backslash),
        ("..\\..\\etc\\passwd", .backslash),
        ("a%5Cb", .backslash),
        ("%5c..%5c", .backslash),
        ("a%", .invalidPercentEncoding),
        ("a%2", .invalidPercentEncoding),
        ("a%zz", .invalidPercentEncoding),
        ("%G0", .invalidPercentEncoding),
        ("%%32e", .invalidPercentEncoding),
        ("%FF", .invalidUTF8),
        ("caf%C3", .invalidUTF8),
        ("%C0%AE%C0%AE/etc", .invalidUTF8),  // overlong "..": not UTF-8, so never a dot segment
    ]

    @Test(arguments: refused)
    func refusesUnsafePaths(raw: String, error: PathError) {
        #expect(PathNormalizer.normalize(raw.utf8) == .failure(error))
    }

    @Test func refusesRawNulByte() {
        // Kept out of the table: a NUL in an argument would garble the test log.
        #expect(PathNormalizer.normalize([0x61, 0x00, 0x62]) == .failure(.nulByte))
    }

    @Test func decodesOnlyOnce() {
        // %252e is "%2e" after one decoding: a literal name, not a dot segment.
        #expect(PathNormalizer.normalize("%252e%252e/x".utf8) == .success(NormalizedPath(["%2e%2e", "x"])))
    }

    @Test func joinsSegmentsIntoRelativePath() {
        #expect(NormalizedPath(["css", "site.css"]).relativePath == "css/site.css")
    }
}
