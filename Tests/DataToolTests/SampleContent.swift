import Foundation

@testable import DataTool

/// The repository's `content/` directory and temporary copies of it, removed after each use.
enum SampleContent {
    /// `content/` at the repository root.
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../content").standardizedFileURL.path

    /// Runs `body` with a fresh temporary directory, then removes it.
    static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("datatool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        return try body(root.path)
    }

    /// Runs `body` with the data package built from `content/` (at `<tmp>/data`).
    static func withBuiltPackage<T>(_ body: (String) throws -> T) throws -> T {
        try withTemporaryDirectory { root in
            _ = try DataBuilder(sourcePath: path).build(into: root + "/data")
            return try body(root + "/data")
        }
    }

    /// Runs `body` with a copy of `content/` (at `<tmp>/content`) where `file` was changed by `edit` (removed
    /// when `edit` returns nil).
    @discardableResult
    static func withEditedCopy<T>(
        _ file: String, _ edit: (String) -> String?, _ body: (String) throws -> T
    ) throws -> T {
        try withTemporaryDirectory { root in
            let copy = root + "/content"
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            let target = copy + "/" + file
            let original = (try? String(contentsOfFile: target, encoding: .utf8)) ?? ""
            if let edited = edit(original) {
                try edited.write(toFile: target, atomically: false, encoding: .utf8)
            } else {
                try FileManager.default.removeItem(atPath: target)
            }
            return try body(copy)
        }
    }
}
