import Foundation
import Testing

@testable import Site

@Suite struct TemplateLibraryTests {
    @Test func repositoryTemplatesLoadWithEveryPartialTheyInclude() throws {
        let library = try TemplateLibrary(
            directory: PagesFixture.templatesPath, names: PageTemplate.allCases.map(\.rawValue))
        for page in PageTemplate.allCases { #expect(library.templates[page.rawValue] != nil, "\(page)") }
        for partial in ["partials/article-card", "partials/tag-list", "partials/pagination", "partials/author"] {
            #expect(library.templates[partial] != nil, "\(partial)")
        }
        #expect(library.files.count == library.templates.count)
    }

    static let names: [(String, Bool)] = [
        ("layout", true), ("partials/tag-list", true), ("a_b/c-1", true), ("", false), ("/etc/passwd", false),
        ("../secret", false), ("partials/../layout", false), ("partials//x", false), (".hidden", false),
        ("Layout", false), ("a b", false), ("partials/", false),
    ]

    @Test(arguments: names.indices)
    func partialNamesStayInsideTheTemplatesDirectory(_ index: Int) {
        let (name, valid) = Self.names[index]
        #expect(TemplateLibrary.isValidName(name) == valid, "\(name)")
    }

    @Test func partialEscapingTheDirectoryIsRefusedAtLoad() throws {
        try PagesFixture.withDirectory { root in
            try Data("{{> ../outside}}".utf8).write(to: URL(fileURLWithPath: root + "/page.mustache"))
            try Data("secret".utf8).write(to: URL(fileURLWithPath: root + "/../outside.mustache"))
            defer { try? FileManager.default.removeItem(atPath: root + "/../outside.mustache") }
            let error = #expect(throws: TemplateError.self) { try TemplateLibrary(directory: root, names: ["page"]) }
            #expect(error?.description.contains("invalid partial name '../outside'") == true)
        }
    }

    @Test func missingPageTemplateIsNamed() throws {
        try PagesFixture.withDirectory { root in
            let error = #expect(throws: TemplateError.self) { try TemplateLibrary(directory: root, names: ["home"]) }
            #expect(error?.description.contains("home.mustache") == true)
            #expect(error?.description.contains("No such file or directory") == true)
        }
    }
}
