/// A header list being built for HEADERS: names and values in one byte buffer, so a response head costs one
/// allocation and nghttp2 gets pointers into it.
struct HTTP2FieldList {
    private(set) var bytes: [UInt8] = []
    private(set) var fields: [(name: Range<Int>, value: Range<Int>)] = []

    init() {
        bytes.reserveCapacity(512)
        fields.reserveCapacity(16)
    }

    /// Appends a field whose name is already lower-case.
    mutating func append(name: String, value: String) {
        let nameStart = bytes.count
        bytes.append(contentsOf: name.utf8)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        fields.append((nameStart..<valueStart, valueStart..<bytes.count))
    }

    /// Appends a field, lower-casing the name (RFC 9113 §8.2.1: upper case in a name is malformed), unless it
    /// is connection-specific (RFC 9113 §8.2.2: those have no meaning in HTTP/2 and make the message malformed).
    mutating func appendConverting(name: some Collection<UInt8>, value: some Collection<UInt8>) {
        let nameStart = bytes.count
        for c in name { bytes.append(asciiLower(c)) }
        if Self.isConnectionSpecific(bytes[nameStart...]) {
            bytes.removeSubrange(nameStart...)
            return
        }
        let valueStart = bytes.count
        bytes.append(contentsOf: value)
        fields.append((nameStart..<valueStart, valueStart..<bytes.count))
    }

    /// Appends every `Name: value\r\n` line of an encoded HTTP/1.1 header block (a response's cached headers).
    mutating func appendLines(_ block: Span<UInt8>) {
        var lineStart = 0
        var i = 0
        let n = block.count
        while i < n {
            if block[i] == 0x0A {
                var end = i
                if end > lineStart && block[end - 1] == 0x0D { end -= 1 }
                appendLine(block, lineStart..<end)
                lineStart = i + 1
            }
            i += 1
        }
    }

    private mutating func appendLine(_ block: Span<UInt8>, _ line: Range<Int>) {
        var colon = line.lowerBound
        while colon < line.upperBound && block[colon] != 0x3A { colon += 1 }
        guard colon < line.upperBound, colon > line.lowerBound else { return }
        var valueStart = colon + 1
        while valueStart < line.upperBound && (block[valueStart] == 0x20 || block[valueStart] == 0x09) {
            valueStart += 1
        }
        // Straight into `bytes`, lower-casing the name: no temporary arrays (this runs for every cached header
        // line of every response).
        let nameStart = bytes.count
        for j in line.lowerBound..<colon { bytes.append(asciiLower(block[j])) }
        if Self.isConnectionSpecific(bytes[nameStart...]) {
            bytes.removeSubrange(nameStart...)
            return
        }
        let valueOffset = bytes.count
        for j in valueStart..<line.upperBound { bytes.append(block[j]) }
        fields.append((nameStart..<valueOffset, valueOffset..<bytes.count))
    }

    private static let connectionSpecific: [[UInt8]] = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    ].map { Array($0.utf8) }

    private static func isConnectionSpecific(_ name: ArraySlice<UInt8>) -> Bool {
        connectionSpecific.contains { $0.elementsEqual(name) }
    }
}
