/// A value a Mustache template reads: the data model of `MustacheTemplate`.
///
/// Pages build these from the content (`PageRenderer`); the literal conformances let tests and the spec table
/// write them as Swift literals: `["name": "Jim", "items": [1, 2]]`.
///
/// Truthiness (sections and inverted sections): `null`, `false`, `""` and the empty list are false; everything
/// else, `0` included, is true. (The spec leaves `""` to the host language; false here so that an optional
/// text can guard its own markup: `{{#image}}<img src="{{image}}">{{/image}}`.)
enum TemplateValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TemplateValue])
    case object([String: TemplateValue])

    /// Whether a section over this value renders (see the type's comment).
    var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .string(let s): !s.isEmpty
        case .list(let items): !items.isEmpty
        case .int, .double, .object: true
        }
    }

    /// The text an interpolation tag writes: scalars as text, `null` and containers as nothing.
    var text: String {
        switch self {
        case .null, .list, .object: ""
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s): s
        }
    }

    /// The member `key` of an object; nil for anything else or a missing key.
    subscript(key: String) -> TemplateValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(floatLiteral value: Double) { self = .double(value) }
    init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    init(nilLiteral: ()) { self = .null }
    init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
