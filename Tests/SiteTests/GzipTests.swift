import Foundation
import Testing

@testable import Site

@Suite struct GzipTests {
    static let inputs: [(String, [UInt8])] = [
        ("empty", []),
        ("one byte", [0x41]),
        ("a page", Array(String(repeating: "<p>Le conteneur démarre, écoute et répond.</p>\n", count: 400).utf8)),
        ("every byte value", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }),
        ("incompressible", pseudoRandom(count: 100_000)),
    ]

    static func pseudoRandom(count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    @Test(arguments: inputs.map(\.0))
    func compressedDataInflatesToTheInput(_ name: String) throws {
        let input = try #require(Self.inputs.first { $0.0 == name }).1
        let compressed = try #require(Gzip.compress(input))
        #expect(compressed.starts(with: [0x1F, 0x8B, 0x08]), "gzip magic and deflate method (RFC 1952 §2.3)")
        #expect(Gzip.decompress(compressed) == input)
    }

    @Test func gzipCommandReadsWhatWeWrite() throws {
        let input = Self.inputs[2].1
        let compressed = try #require(Gzip.compress(input))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-\(UUID().uuidString).gz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(compressed).write(to: URL(fileURLWithPath: path))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-dc", path]
        let output = Pipe()
        gzip.standardOutput = output
        try gzip.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0)
        #expect(Array(data) == input)
    }

    @Test func decompressRefusesDamagedInput() throws {
        let compressed = try #require(Gzip.compress(Array("hello, hello, hello".utf8)))
        #expect(Gzip.decompress(Array(compressed.dropLast(4))) == nil, "truncated trailer")
        #expect(Gzip.decompress(compressed + [0]) == nil, "trailing garbage")
        #expect(Gzip.decompress([0x1F, 0x8B, 0x08, 0, 0, 0]) == nil, "header only")
        #expect(Gzip.decompress(Array("not gzip at all".utf8)) == nil)
        #expect(Gzip.decompress(try #require(Gzip.compress([UInt8](repeating: 0, count: 10_000))), limit: 100) == nil)
    }

    @Test func compressionShrinksRepetitiveText() throws {
        let input = Self.inputs[2].1
        let compressed = try #require(Gzip.compress(input))
        #expect(compressed.count * 10 < input.count)
    }
}
