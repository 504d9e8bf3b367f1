import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An XML document read back with Foundation's `XMLParser` (namespace-aware), as a tree of elements: what the
/// feed and sitemap tests check.
final class XMLNode {
    let name: String
    let namespace: String?
    let attributes: [String: String]
    var text = ""
    var children: [XMLNode] = []

    init(name: String, namespace: String?, attributes: [String: String]) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
    }

    /// The direct children called `name`.
    func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// The first direct child called `name`.
    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// Parses `data`; throws with the parser's error and position when it is not well-formed.
    static func parse(_ data: Data) throws -> XMLNode {
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw HarnessError(
                "not well-formed XML at line \(parser.lineNumber), column \(parser.columnNumber): "
                    + "\(parser.parserError.map { "\($0)" } ?? "no root element")")
        }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLNode?
        var stack: [XMLNode] = []

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            let node = XMLNode(name: elementName, namespace: namespaceURI, attributes: attributes)
            if let parent = stack.last { parent.children.append(node) } else { root = node }
            stack.append(node)
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}
