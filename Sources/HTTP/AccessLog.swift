public import Reactor

/// The access log: one line per response, in the combined log format or JSON, to one or more `LogFile`s.
///
/// Lines are built into a per-loop buffer (`AccessLogBuffer`) and handed in batches to a `LogWriter`, whose
/// thread does the `write(2)`: logging costs a loop no system call per request, and no wait on the disk
/// at all. Shared by all loops.
public final class AccessLog: Sendable {
    /// The line format.
    public enum Format: String, Sendable, CaseIterable {
        /// Apache/nginx "combined".
        case combined
        /// One JSON object per line.
        case json
    }

    /// The format.
    public let format: Format
    private let writer: LogWriter

    /// Writes lines in `format` to each of `sinks`.
    public init(format: Format, sinks: [LogFile]) {
        self.format = format
        writer = LogWriter(sinks: sinks)
    }

    func write(_ bytes: [UInt8]) {
        writer.write(bytes)
    }

    /// Returns once every line handed over so far is written (before the process exits; tests).
    public func waitUntilWritten() {
        writer.waitUntilWritten()
    }
}

/// One loop's pending access-log lines. Loop-confined.
struct AccessLogBuffer {
    let log: AccessLog
    private(set) var bytes: [UInt8] = []
    private var stampSecond: Int64 = .min
    private var stamp: [UInt8] = []

    init(log: AccessLog) {
        self.log = log
        bytes.reserveCapacity(16 * 1024)
    }

    /// Appends the line for one response; flushes when the buffer passes 32 KiB.
    ///
    /// The line is built byte by byte straight into the buffer: no `String` per field, no interpolation
    /// (formatting it through strings cost more than the rest of a cached response).
    mutating func record(request: Request, context: RequestContext, status: Int, bodyBytes: Int) {
        let head = request.head
        let lineEnd = head.firstIndex(of: 0x0D) ?? head.endIndex
        let referer = request.headerRange("Referer")
        let agent = request.headerRange("User-Agent")
        switch log.format {
        case .combined:
            append(context.clientAddress)
            append(" - - [")
            appendTimestamp(context.now)
            append("] \"")
            appendEscaped(head[..<lineEnd], json: false)
            append("\" ")
            appendDecimal(status)
            bytes.append(0x20)
            appendDecimal(bodyBytes)
            append(" \"")
            appendField(referer.map { head[$0] }, json: false)
            append("\" \"")
            appendField(agent.map { head[$0] }, json: false)
            append("\"\n")
        case .json:
            append("{\"time\":\"")
            appendTimestamp(context.now)
            append("\",\"client\":\"")
            appendEscaped(context.clientAddress.utf8, json: true)
            append("\",\"scheme\":\"")
            append(context.scheme)
            append("\",\"host\":\"")
            appendEscaped((context.host ?? "").utf8, json: true)
            append("\",\"request\":\"")
            appendEscaped(head[..<lineEnd], json: true)
            append("\",\"status\":")
            appendDecimal(status)
            append(",\"bytes\":")
            appendDecimal(bodyBytes)
            append(",\"referer\":\"")
            appendEscaped(referer.map { head[$0] } ?? ArraySlice(), json: true)
            append("\",\"user_agent\":\"")
            appendEscaped(agent.map { head[$0] } ?? ArraySlice(), json: true)
            append("\"}\n")
        }
        if bytes.count >= 32 * 1024 { flush() }
    }

    /// The line's time in the log's format, formatted once per second.
    private mutating func appendTimestamp(_ now: Int64) {
        if now != stampSecond {
            stampSecond = now
            stamp = Array((log.format == .json ? IMFDate.iso8601(now) : IMFDate.commonLog(now)).utf8)
        }
        bytes.append(contentsOf: stamp)
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// A combined-format field: its escaped bytes, `-` when absent or empty.
    private mutating func appendField(_ value: ArraySlice<UInt8>?, json: Bool) {
        guard let value, !value.isEmpty else { return bytes.append(0x2D) }
        appendEscaped(value, json: json)
    }

    private mutating func appendDecimal(_ value: Int) {
        if value < 0 {
            bytes.append(0x2D)
            return appendDecimal(0 - value)
        }
        if value >= 10 { appendDecimal(value / 10) }
        bytes.append(UInt8(truncatingIfNeeded: 0x30 + value % 10))
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends `source` with `"`, `\` and every byte outside printable ASCII escaped as `\xHH`, like nginx, so
    /// a hostile header cannot forge a log line or break the JSON; in JSON the escape is `\u00HH`, which every
    /// JSON parser reads. Bytes are escaped as received (invalid UTF-8 included), not re-encoded.
    private mutating func appendEscaped(_ source: some Sequence<UInt8>, json: Bool) {
        for c in source {
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x7F {
                bytes.append(0x5C)  // backslash
                if json {
                    bytes.append(0x75)  // u00
                    bytes.append(0x30)
                    bytes.append(0x30)
                } else {
                    bytes.append(0x78)  // x
                }
                bytes.append(Self.hexDigits[Int(c >> 4)])
                bytes.append(Self.hexDigits[Int(c & 15)])
            } else {
                bytes.append(c)
            }
        }
    }

    /// Writes what is pending.
    mutating func flush() {
        guard !bytes.isEmpty else { return }
        log.write(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

}
