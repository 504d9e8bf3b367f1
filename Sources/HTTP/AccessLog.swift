public import Reactor

/// The access log: one line per response, in the combined log format or JSON, to one or more `LogFile`s.
///
/// Lines are built into a per-loop buffer (`AccessLogBuffer`) and written in batches, so logging costs no
/// system call per request. Shared by all loops.
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
    private let sinks: [LogFile]

    /// Writes lines in `format` to each of `sinks`.
    public init(format: Format, sinks: [LogFile]) {
        self.format = format
        self.sinks = sinks
    }

    func write(_ bytes: [UInt8]) {
        for sink in sinks { sink.write(bytes) }
    }
}

/// One loop's pending access-log lines. Loop-confined.
struct AccessLogBuffer {
    let log: AccessLog
    private(set) var bytes: [UInt8] = []

    init(log: AccessLog) {
        self.log = log
        bytes.reserveCapacity(16 * 1024)
    }

    /// Appends the line for one response; flushes when the buffer passes 32 KiB.
    mutating func record(request: Request, context: RequestContext, status: Int, bodyBytes: Int) {
        let time = context.now
        let line: String
        let requestLine = String(decoding: request.head.prefix { $0 != 0x0D }, as: UTF8.self)
        let referer = request.header("Referer") ?? ""
        let agent = request.header("User-Agent") ?? ""
        switch log.format {
        case .combined:
            line =
                "\(context.clientAddress) - - [\(IMFDate.commonLog(time))] \"\(Self.escape(requestLine))\" "
                + "\(status) \(bodyBytes) \"\(Self.escape(referer.isEmpty ? "-" : referer))\" "
                + "\"\(Self.escape(agent.isEmpty ? "-" : agent))\"\n"
        case .json:
            line =
                "{\"time\":\"\(IMFDate.iso8601(time))\",\"client\":\"\(Self.escape(context.clientAddress, json: true))\","
                + "\"scheme\":\"\(context.scheme)\",\"host\":\"\(Self.escape(context.host ?? "", json: true))\","
                + "\"request\":\"\(Self.escape(requestLine, json: true))\",\"status\":\(status),\"bytes\":\(bodyBytes),"
                + "\"referer\":\"\(Self.escape(referer, json: true))\",\"user_agent\":\"\(Self.escape(agent, json: true))\"}\n"
        }
        bytes.append(contentsOf: line.utf8)
        if bytes.count >= 32 * 1024 { flush() }
    }

    /// Writes what is pending.
    mutating func flush() {
        guard !bytes.isEmpty else { return }
        log.write(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

    /// Escapes `"` and `\` and every byte outside printable ASCII as `\xHH`, like nginx, so a hostile header
    /// cannot forge a log line or break the JSON.
    /// In JSON the escape is `\u00HH` instead, which every JSON parser reads.
    static func escape(_ s: String, json: Bool = false) -> String {
        var out = ""
        for c in s.utf8 {
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x7F {
                let hex = Array("0123456789ABCDEF".utf8)
                out += (json ? "\\u00" : "\\x") + String(decoding: [hex[Int(c >> 4)], hex[Int(c & 15)]], as: UTF8.self)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(c))
            }
        }
        return out
    }
}
