import Testing

@testable import Site

/// One case of the Mustache spec (github.com/mustache/spec, specs/*.yml, v1.3): a template, its data, its
/// partials and the exact expected output.
struct SpecCase: CustomTestStringConvertible, Sendable {
    let name: String
    let data: TemplateValue
    let template: String
    let partials: [String: String]
    let expected: String

    init(
        _ name: String, _ data: TemplateValue, _ template: String, _ expected: String, partials: [String: String] = [:]
    ) {
        self.name = name
        self.data = data
        self.template = template
        self.partials = partials
        self.expected = expected
    }

    var testDescription: String { name }
}

/// The spec's cases for the parts the engine implements, transcribed from interpolation.yml, sections.yml,
/// inverted.yml, comments.yml and partials.yml (lambdas and set-delimiter tags are not implemented).
enum MustacheSpec {
    static let interpolation: [SpecCase] = [
        SpecCase("No Interpolation", [:], "Hello from {Mustache}!\n", "Hello from {Mustache}!\n"),
        SpecCase("Basic Interpolation", ["subject": "world"], "Hello, {{subject}}!\n", "Hello, world!\n"),
        SpecCase(
            "No Re-interpolation", ["template": "{{planet}}", "planet": "Earth"], "{{template}}: {{planet}}",
            "{{planet}}: Earth"),
        SpecCase(
            "HTML Escaping", ["forbidden": "& \" < >"], "These characters should be HTML escaped: {{forbidden}}\n",
            "These characters should be HTML escaped: &amp; &quot; &lt; &gt;\n"),
        SpecCase(
            "Triple Mustache", ["forbidden": "& \" < >"],
            "These characters should not be HTML escaped: {{{forbidden}}}\n",
            "These characters should not be HTML escaped: & \" < >\n"),
        SpecCase(
            "Ampersand", ["forbidden": "& \" < >"], "These characters should not be HTML escaped: {{&forbidden}}\n",
            "These characters should not be HTML escaped: & \" < >\n"),
        SpecCase("Basic Integer Interpolation", ["mph": 85], "\"{{mph}} miles an hour!\"", "\"85 miles an hour!\""),
        SpecCase(
            "Triple Mustache Integer Interpolation", ["mph": 85], "\"{{{mph}}} miles an hour!\"",
            "\"85 miles an hour!\""),
        SpecCase(
            "Ampersand Integer Interpolation", ["mph": 85], "\"{{&mph}} miles an hour!\"", "\"85 miles an hour!\""),
        SpecCase("Basic Decimal Interpolation", ["power": 1.210], "\"{{power}} jiggawatts!\"", "\"1.21 jiggawatts!\""),
        SpecCase(
            "Triple Mustache Decimal Interpolation", ["power": 1.210], "\"{{{power}}} jiggawatts!\"",
            "\"1.21 jiggawatts!\""),
        SpecCase("Basic Null Interpolation", ["cannot": nil], "I ({{cannot}}) be seen!", "I () be seen!"),
        SpecCase("Triple Mustache Null Interpolation", ["cannot": nil], "I ({{{cannot}}}) be seen!", "I () be seen!"),
        SpecCase("Basic Context Miss Interpolation", [:], "I ({{cannot}}) be seen!", "I () be seen!"),
        SpecCase("Triple Mustache Context Miss Interpolation", [:], "I ({{{cannot}}}) be seen!", "I () be seen!"),
        SpecCase(
            "Dotted Names - Basic Interpolation", ["person": ["name": "Joe"]],
            "\"{{person.name}}\" == \"{{#person}}{{name}}{{/person}}\"", "\"Joe\" == \"Joe\""),
        SpecCase(
            "Dotted Names - Triple Mustache Interpolation", ["person": ["name": "Joe"]],
            "\"{{{person.name}}}\" == \"{{#person}}{{{name}}}{{/person}}\"", "\"Joe\" == \"Joe\""),
        SpecCase(
            "Dotted Names - Arbitrary Depth", ["a": ["b": ["c": ["d": ["e": ["name": "Phil"]]]]]],
            "\"{{a.b.c.d.e.name}}\" == \"Phil\"", "\"Phil\" == \"Phil\""),
        SpecCase("Dotted Names - Broken Chains", ["a": [:]], "\"{{a.b.c}}\" == \"\"", "\"\" == \"\""),
        SpecCase(
            "Dotted Names - Broken Chain Resolution", ["a": ["b": [:]], "c": ["name": "Jim"]],
            "\"{{a.b.c.name}}\" == \"\"", "\"\" == \"\""),
        SpecCase(
            "Dotted Names - Initial Resolution",
            ["a": ["b": ["c": ["d": ["e": ["name": "Phil"]]]]], "b": ["c": ["d": ["e": ["name": "Wrong"]]]]],
            "\"{{#a}}{{b.c.d.e.name}}{{/a}}\" == \"Phil\"", "\"Phil\" == \"Phil\""),
        SpecCase(
            "Dotted Names - Context Precedence", ["a": ["b": [:]], "b": ["c": "ERROR"]], "{{#a}}{{b.c}}{{/a}}", ""),
        SpecCase("Implicit Iterators - Basic Interpolation", "world", "Hello, {{.}}!\n", "Hello, world!\n"),
        SpecCase(
            "Implicit Iterators - HTML Escaping", "& \" < >", "These characters should be HTML escaped: {{.}}\n",
            "These characters should be HTML escaped: &amp; &quot; &lt; &gt;\n"),
        SpecCase(
            "Implicit Iterators - Triple Mustache", "& \" < >",
            "These characters should not be HTML escaped: {{{.}}}\n",
            "These characters should not be HTML escaped: & \" < >\n"),
        SpecCase(
            "Implicit Iterators - Basic Integer Interpolation", 85, "\"{{.}} miles an hour!\"", "\"85 miles an hour!\""),
        SpecCase("Interpolation - Surrounding Whitespace", ["string": "---"], "| {{string}} |", "| --- |"),
        SpecCase("Triple Mustache - Surrounding Whitespace", ["string": "---"], "| {{{string}}} |", "| --- |"),
        SpecCase("Ampersand - Surrounding Whitespace", ["string": "---"], "| {{&string}} |", "| --- |"),
        SpecCase("Interpolation - Standalone", ["string": "---"], "  {{string}}\n", "  ---\n"),
        SpecCase("Triple Mustache - Standalone", ["string": "---"], "  {{{string}}}\n", "  ---\n"),
        SpecCase("Ampersand - Standalone", ["string": "---"], "  {{&string}}\n", "  ---\n"),
        SpecCase("Interpolation With Padding", ["string": "---"], "|{{ string }}|", "|---|"),
        SpecCase("Triple Mustache With Padding", ["string": "---"], "|{{{ string }}}|", "|---|"),
        SpecCase("Ampersand With Padding", ["string": "---"], "|{{& string }}|", "|---|"),
    ]

    static let sections: [SpecCase] = [
        SpecCase(
            "Truthy", ["boolean": true], "\"{{#boolean}}This should be rendered.{{/boolean}}\"",
            "\"This should be rendered.\""),
        SpecCase("Falsey", ["boolean": false], "\"{{#boolean}}This should not be rendered.{{/boolean}}\"", "\"\""),
        SpecCase("Null is falsey", ["null": nil], "\"{{#null}}This should not be rendered.{{/null}}\"", "\"\""),
        SpecCase("Context", ["context": ["name": "Joe"]], "\"{{#context}}Hi {{name}}.{{/context}}\"", "\"Hi Joe.\""),
        SpecCase(
            "Parent contexts", ["a": "foo", "b": "wrong", "sec": ["b": "bar"], "c": ["d": "baz"]],
            "\"{{#sec}}{{a}}, {{b}}, {{c.d}}{{/sec}}\"", "\"foo, bar, baz\""),
        SpecCase(
            "Variable test", ["foo": "bar"], "\"{{#foo}}{{.}} is {{foo}}{{/foo}}\"", "\"bar is bar\""),
        SpecCase(
            "List Context",
            [
                "tops": [
                    [
                        "tname": ["upper": "A", "lower": "a"],
                        "middles": [["mname": "1", "bottoms": [["bname": "x"], ["bname": "y"]]]],
                    ]
                ]
            ],
            "{{#tops}}{{#middles}}{{tname.lower}}{{mname}}.{{#bottoms}}{{tname.upper}}{{mname}}{{bname}}.{{/bottoms}}{{/middles}}{{/tops}}",
            "a1.A1x.A1y."),
        SpecCase(
            "Deeply Nested Contexts",
            ["a": ["one": 1], "b": ["two": 2], "c": ["three": 3, "d": ["four": 4, "five": 5]]],
            """
            {{#a}}
            {{one}}
            {{#b}}
            {{one}}{{two}}{{one}}
            {{#c}}
            {{one}}{{two}}{{three}}{{two}}{{one}}
            {{#d}}
            {{one}}{{two}}{{three}}{{four}}{{three}}{{two}}{{one}}
            {{#five}}
            {{one}}{{two}}{{three}}{{four}}{{five}}{{four}}{{three}}{{two}}{{one}}
            {{one}}{{two}}{{three}}{{four}}{{.}}6{{.}}{{four}}{{three}}{{two}}{{one}}
            {{one}}{{two}}{{three}}{{four}}{{five}}{{four}}{{three}}{{two}}{{one}}
            {{/five}}
            {{one}}{{two}}{{three}}{{four}}{{three}}{{two}}{{one}}
            {{/d}}
            {{one}}{{two}}{{three}}{{two}}{{one}}
            {{/c}}
            {{one}}{{two}}{{one}}
            {{/b}}
            {{one}}
            {{/a}}

            """,
            """
            1
            121
            12321
            1234321
            123454321
            12345654321
            123454321
            1234321
            12321
            121
            1

            """),
        SpecCase(
            "List", ["list": [["item": 1], ["item": 2], ["item": 3]]], "\"{{#list}}{{item}}{{/list}}\"", "\"123\""),
        SpecCase("Empty List", ["list": []], "\"{{#list}}Yay lists!{{/list}}\"", "\"\""),
        SpecCase(
            "Doubled", ["bool": true, "two": "second"],
            "{{#bool}}\n* first\n{{/bool}}\n* {{two}}\n{{#bool}}\n* third\n{{/bool}}\n",
            "* first\n* second\n* third\n"),
        SpecCase(
            "Nested (Truthy)", ["bool": true], "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", "| A B C D E |"),
        SpecCase("Nested (Falsey)", ["bool": false], "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", "| A  E |"),
        SpecCase("Context Misses", [:], "[{{#missing}}Found key 'missing'!{{/missing}}]", "[]"),
        SpecCase(
            "Implicit Iterator - String", ["list": ["a", "b", "c", "d", "e"]], "\"{{#list}}({{.}}){{/list}}\"",
            "\"(a)(b)(c)(d)(e)\""),
        SpecCase(
            "Implicit Iterator - Integer", ["list": [1, 2, 3, 4, 5]], "\"{{#list}}({{.}}){{/list}}\"",
            "\"(1)(2)(3)(4)(5)\""),
        SpecCase(
            "Implicit Iterator - Decimal", ["list": [1.10, 2.20, 3.30, 4.40, 5.50]], "\"{{#list}}({{.}}){{/list}}\"",
            "\"(1.1)(2.2)(3.3)(4.4)(5.5)\""),
        SpecCase(
            "Implicit Iterator - Array", ["list": [[1, 2, 3], ["a", "b", "c"]]],
            "\"{{#list}}({{#.}}{{.}}{{/.}}){{/list}}\"", "\"(123)(abc)\""),
        SpecCase(
            "Implicit Iterator - HTML Escaping", ["list": ["&", "\"", "<", ">"]], "\"{{#list}}({{.}}){{/list}}\"",
            "\"(&amp;)(&quot;)(&lt;)(&gt;)\""),
        SpecCase(
            "Implicit Iterator - Triple mustache", ["list": ["&", "\"", "<", ">"]], "\"{{#list}}({{{.}}}){{/list}}\"",
            "\"(&)(\")(<)(>)\""),
        SpecCase(
            "Implicit Iterator - Root-level", [["value": "a"], ["value": "b"]], "\"{{#.}}({{value}}){{/.}}\"",
            "\"(a)(b)\""),
        SpecCase(
            "Dotted Names - Truthy", ["a": ["b": ["c": true]]], "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"Here\"",
            "\"Here\" == \"Here\""),
        SpecCase(
            "Dotted Names - Falsey", ["a": ["b": ["c": false]]], "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"\"", "\"\" == \"\""),
        SpecCase("Dotted Names - Broken Chains", ["a": [:]], "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"\"", "\"\" == \"\""),
        SpecCase("Surrounding Whitespace", ["boolean": true], " | {{#boolean}}\t|\t{{/boolean}} | \n", " | \t|\t | \n"),
        SpecCase(
            "Internal Whitespace", ["boolean": true], " | {{#boolean}} {{! Important Whitespace }}\n {{/boolean}} | \n",
            " |  \n  | \n"),
        SpecCase(
            "Indented Inline Sections", ["boolean": true],
            " {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}\n",
            " YES\n GOOD\n"),
        SpecCase(
            "Standalone Lines", ["boolean": true], "| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n",
            "| This Is\n|\n| A Line\n"),
        SpecCase(
            "Indented Standalone Lines", ["boolean": true], "| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n",
            "| This Is\n|\n| A Line\n"),
        SpecCase("Standalone Line Endings", ["boolean": true], "|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|", "|\r\n|"),
        SpecCase("Standalone Without Previous Line", ["boolean": true], "  {{#boolean}}\n#{{/boolean}}\n/", "#\n/"),
        SpecCase("Standalone Without Newline", ["boolean": true], "#{{#boolean}}\n/\n  {{/boolean}}", "#\n/\n"),
        SpecCase("Padding", ["boolean": true], "|{{# boolean }}={{/ boolean }}|", "|=|"),
    ]

    static let inverted: [SpecCase] = [
        SpecCase(
            "Falsey", ["boolean": false], "\"{{^boolean}}This should be rendered.{{/boolean}}\"",
            "\"This should be rendered.\""),
        SpecCase("Truthy", ["boolean": true], "\"{{^boolean}}This should not be rendered.{{/boolean}}\"", "\"\""),
        SpecCase(
            "Null is falsey", ["null": nil], "\"{{^null}}This should be rendered.{{/null}}\"",
            "\"This should be rendered.\""),
        SpecCase("Context", ["context": ["name": "Joe"]], "\"{{^context}}Hi {{name}}.{{/context}}\"", "\"\""),
        SpecCase("List", ["list": [["n": 1], ["n": 2], ["n": 3]]], "\"{{^list}}{{n}}{{/list}}\"", "\"\""),
        SpecCase("Empty List", ["list": []], "\"{{^list}}Yay lists!{{/list}}\"", "\"Yay lists!\""),
        SpecCase(
            "Doubled", ["bool": false, "two": "second"],
            "{{^bool}}\n* first\n{{/bool}}\n* {{two}}\n{{^bool}}\n* third\n{{/bool}}\n", "* first\n* second\n* third\n"),
        SpecCase(
            "Nested (Falsey)", ["bool": false], "| A {{^bool}}B {{^bool}}C{{/bool}} D{{/bool}} E |", "| A B C D E |"),
        SpecCase("Nested (Truthy)", ["bool": true], "| A {{^bool}}B {{^bool}}C{{/bool}} D{{/bool}} E |", "| A  E |"),
        SpecCase("Context Misses", [:], "[{{^missing}}Found key 'missing'!{{/missing}}]", "[Found key 'missing'!]"),
        SpecCase(
            "Dotted Names - Truthy", ["a": ["b": ["c": true]]], "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"\"",
            "\"\" == \"\""),
        SpecCase(
            "Dotted Names - Falsey", ["a": ["b": ["c": false]]], "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"Not Here\"",
            "\"Not Here\" == \"Not Here\""),
        SpecCase(
            "Dotted Names - Broken Chains", ["a": [:]], "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"Not Here\"",
            "\"Not Here\" == \"Not Here\""),
        SpecCase(
            "Surrounding Whitespace", ["boolean": false], " | {{^boolean}}\t|\t{{/boolean}} | \n", " | \t|\t | \n"),
        SpecCase(
            "Internal Whitespace", ["boolean": false],
            " | {{^boolean}} {{! Important Whitespace }}\n {{/boolean}} | \n",
            " |  \n  | \n"),
        SpecCase(
            "Indented Inline Sections", ["boolean": false],
            " {{^boolean}}NO{{/boolean}}\n {{^boolean}}WAY{{/boolean}}\n",
            " NO\n WAY\n"),
        SpecCase(
            "Standalone Lines", ["boolean": false], "| This Is\n{{^boolean}}\n|\n{{/boolean}}\n| A Line\n",
            "| This Is\n|\n| A Line\n"),
        SpecCase(
            "Standalone Indented Lines", ["boolean": false], "| This Is\n  {{^boolean}}\n|\n  {{/boolean}}\n| A Line\n",
            "| This Is\n|\n| A Line\n"),
        SpecCase("Standalone Line Endings", ["boolean": false], "|\r\n{{^boolean}}\r\n{{/boolean}}\r\n|", "|\r\n|"),
        SpecCase("Standalone Without Previous Line", ["boolean": false], "  {{^boolean}}\n^{{/boolean}}\n/", "^\n/"),
        SpecCase("Standalone Without Newline", ["boolean": false], "^{{^boolean}}\n/\n  {{/boolean}}", "^\n/\n"),
        SpecCase("Padding", ["boolean": false], "|{{^ boolean }}={{/ boolean }}|", "|=|"),
    ]

    static let comments: [SpecCase] = [
        SpecCase("Inline", [:], "12345{{! Comment Block! }}67890", "1234567890"),
        SpecCase("Multiline", [:], "12345{{!\n  This is a\n  multi-line comment...\n}}67890\n", "1234567890\n"),
        SpecCase("Standalone", [:], "Begin.\n{{! Comment Block! }}\nEnd.\n", "Begin.\nEnd.\n"),
        SpecCase("Indented Standalone", [:], "Begin.\n  {{! Indented Comment Block! }}\nEnd.\n", "Begin.\nEnd.\n"),
        SpecCase("Standalone Line Endings", [:], "|\r\n{{! Standalone Comment }}\r\n|", "|\r\n|"),
        SpecCase("Standalone Without Previous Line", [:], "  {{! I'm Still Standalone }}\n!", "!"),
        SpecCase("Standalone Without Newline", [:], "!\n  {{! I'm Still Standalone }}", "!\n"),
        SpecCase(
            "Multiline Standalone", [:], "Begin.\n{{!\nSomething's going on here...\n}}\nEnd.\n", "Begin.\nEnd.\n"),
        SpecCase(
            "Indented Multiline Standalone", [:], "Begin.\n  {{!\n    Something's going on here...\n  }}\nEnd.\n",
            "Begin.\nEnd.\n"),
        SpecCase("Indented Inline", [:], "  12 {{! 34 }}\n", "  12 \n"),
        SpecCase("Surrounding Whitespace", [:], "12345 {{! Comment Block! }} 67890", "12345  67890"),
        SpecCase(
            "Variable Name Collision", ["! comment": 1, "! comment ": 2, "!comment": 3, "comment": 4],
            "comments never show: >{{! comment }}<", "comments never show: ><"),
    ]

    static let partials: [SpecCase] = [
        SpecCase("Basic Behavior", [:], "\"{{>text}}\"", "\"from partial\"", partials: ["text": "from partial"]),
        SpecCase("Failed Lookup", [:], "\"{{>text}}\"", "\"\""),
        SpecCase(
            "Context", ["text": "content"], "\"{{>partial}}\"", "\"*content*\"", partials: ["partial": "*{{text}}*"]),
        SpecCase(
            "Recursion", ["content": "X", "nodes": [["content": "Y", "nodes": []]]], "{{>node}}", "X<Y<>>",
            partials: ["node": "{{content}}<{{#nodes}}{{>node}}{{/nodes}}>"]),
        SpecCase(
            "Nested", ["a": "hello", "b": "world"], "{{>outer}}", "*hello world!*",
            partials: ["outer": "*{{a}} {{>inner}}*", "inner": "{{b}}!"]),
        SpecCase("Surrounding Whitespace", [:], "| {{>partial}} |", "| \t|\t |", partials: ["partial": "\t|\t"]),
        SpecCase(
            "Inline Indentation", ["data": "|"], "  {{data}}  {{> partial}}\n", "  |  >\n>\n",
            partials: ["partial": ">\n>"]),
        SpecCase("Standalone Line Endings", [:], "|\r\n{{>partial}}\r\n|", "|\r\n>|", partials: ["partial": ">"]),
        SpecCase(
            "Standalone Without Previous Line", [:], "  {{>partial}}\n>", "  >\n  >>", partials: ["partial": ">\n>"]),
        SpecCase("Standalone Without Newline", [:], ">\n  {{>partial}}", ">\n  >\n  >", partials: ["partial": ">\n>"]),
        SpecCase(
            "Standalone Indentation", ["content": "<\n->"], "\\\n {{>partial}}\n/\n", "\\\n |\n <\n->\n |\n/\n",
            partials: ["partial": "|\n{{{content}}}\n|\n"]),
        SpecCase("Padding Whitespace", ["boolean": true], "|{{> partial }}|", "|[]|", partials: ["partial": "[]"]),
    ]

    static let all = interpolation + sections + inverted + comments + partials
}

@Suite struct TemplateSpecTests {
    @Test(arguments: MustacheSpec.all)
    func rendersAsTheSpecSays(_ spec: SpecCase) throws {
        var partials: [String: MustacheTemplate] = [:]
        for (name, source) in spec.partials { partials[name] = try MustacheTemplate(name: name, source) }
        let template = try MustacheTemplate(spec.template)
        let output = MustacheRenderer(partials: partials).renderString(template, spec.data)
        #expect(output == spec.expected)
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        let template: String
        let line: Int
        let message: String
        var testDescription: String { template.debugDescription }
    }

    static let malformed: [Malformed] = [
        .init(template: "a {{b", line: 1, message: "unclosed tag"),
        .init(template: "x\ny {{{b}}", line: 2, message: "unclosed tag"),
        .init(template: "{{#a}}\n\nx", line: 1, message: "never closed"),
        .init(template: "{{#a}}{{/b}}", line: 1, message: "closes 'a'"),
        .init(template: "\n{{/a}}", line: 2, message: "closes no open section"),
        .init(template: "{{}}", line: 1, message: "empty tag name"),
        .init(template: "{{a b}}", line: 1, message: "invalid tag name"),
        .init(template: "{{=<% %>=}}", line: 1, message: "set-delimiter"),
        .init(template: "{{#a}}{{#b}}{{/a}}{{/b}}", line: 1, message: "closes 'b'"),
    ]

    @Test(arguments: malformed)
    func refusesMalformedTemplatesNamingTheLine(_ bad: Malformed) {
        let error = #expect(throws: TemplateError.self) { try MustacheTemplate(name: "page", bad.template) }
        #expect(error?.line == bad.line)
        #expect(error?.message.contains(bad.message) == true, "\(String(describing: error))")
        #expect(error?.description.contains("page.mustache line \(bad.line)") == true)
    }

    @Test func escapesApostrophesForAttributes() throws {
        let template = try MustacheTemplate("<a title='{{t}}'>")
        #expect(MustacheRenderer().renderString(template, ["t": "l'été <b>"]) == "<a title='l&#39;été &lt;b&gt;'>")
    }

    @Test func emptyStringIsFalsey() throws {
        let template = try MustacheTemplate("{{#image}}<img src=\"{{image}}\">{{/image}}{{^image}}none{{/image}}")
        #expect(MustacheRenderer().renderString(template, ["image": ""]) == "none")
        #expect(MustacheRenderer().renderString(template, ["image": "a.svg"]) == "<img src=\"a.svg\">")
    }

    @Test func selfIncludingPartialStopsAtTheDepthLimit() throws {
        let loop = try MustacheTemplate(name: "loop", "x{{>loop}}")
        let output = MustacheRenderer(partials: ["loop": loop]).renderString(loop, [:])
        #expect(output == String(repeating: "x", count: MustacheRenderer.maximumPartialDepth + 1))
    }
}
