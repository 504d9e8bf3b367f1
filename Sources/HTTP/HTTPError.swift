/// Why a request head was refused. One case per failure, so tests and logs can tell them apart; each case
/// knows the status to answer with and whether the connection can be kept.
///
/// Every case produced by `RequestParser` closes the connection: once a head is malformed, or announces a
/// body we will not read, we no longer know where the next request starts.
public enum HTTPError: Error, Sendable, Equatable, Hashable, CaseIterable {
    // MARK: - Line framing

    /// A CR not followed by LF (RFC 9112 §2.2).
    case bareCarriageReturn
    /// An LF not preceded by CR. RFC 9112 §2.2 lets a recipient accept a bare LF; we do not, like a strict
    /// proxy would, so no two parsers on the path can disagree on where a line ends.
    case bareLineFeed
    /// More empty lines before the request line than `RequestParser.maxLeadingEmptyLines`.
    case tooManyEmptyLines

    // MARK: - Request line

    /// The method is empty or not a token (RFC 9110 §9.1).
    case invalidMethod
    /// The request target is empty, has a byte outside visible ASCII, a fragment, or a form we do not
    /// serve (RFC 9112 §3.2).
    case invalidTarget
    /// The version is not `HTTP/` DIGIT `.` DIGIT, or the line does not end right after it (RFC 9112 §2.3).
    case invalidVersion
    /// The request line is longer than `Limits.requestLine`.
    case requestLineTooLong
    /// A well-formed version whose major number is not 1 (RFC 9110 §15.6.6).
    case unsupportedVersion
    /// `CONNECT`: we are not a proxy, and its authority-form target has no path to serve (RFC 9110 §9.3.6).
    case connectNotSupported

    // MARK: - Header fields

    /// Whitespace between the request line and the first field (RFC 9112 §2.2).
    case whitespaceBeforeFirstField
    /// A field line starting with SP or HTAB: obsolete line folding (RFC 9112 §5.2).
    case obsoleteLineFolding
    /// A field name that is empty or not a token (RFC 9110 §5.1).
    case invalidFieldName
    /// Whitespace between a field name and its colon (RFC 9112 §5.1).
    case whitespaceBeforeColon
    /// A control character (other than HTAB) or DEL in a field value (RFC 9110 §5.5).
    case invalidFieldValue
    /// The header section is longer than `Limits.headerBlock`.
    case headerBlockTooLarge
    /// More fields than `Limits.headerCount`.
    case tooManyFields

    // MARK: - Host

    /// An HTTP/1.1 request without `Host` (RFC 9112 §3.2).
    case missingHost
    /// More than one `Host` field (RFC 9112 §3.2).
    case duplicateHost
    /// A `Host` value (or absolute-form authority) that is not `host [":" port]` (RFC 3986 §3.2).
    case invalidHost

    // MARK: - Message body framing

    /// A `Content-Length` that is empty, not decimal digits, or too large for `Int` (RFC 9110 §8.6).
    case invalidContentLength
    /// `Content-Length` values that differ, across fields or within one list (RFC 9110 §8.6).
    case conflictingContentLength
    /// Both `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.3: the framing is ambiguous).
    case contentLengthWithTransferEncoding
    /// `Transfer-Encoding` on an HTTP/1.0 request (RFC 9112 §6.1: the framing is faulty).
    case transferEncodingInHTTP10
    /// A `Transfer-Encoding` with no coding in it, or a coding that is not a token.
    case invalidTransferEncoding
    /// `chunked` missing from the end of `Transfer-Encoding`, or applied twice (RFC 9112 §6.3, §7).
    case chunkedNotFinal
    /// A transfer coding we do not know (RFC 9112 §6.1: 501).
    case unsupportedTransferCoding
    /// A chunked body: we only take bodies of announced length (RFC 9110 §15.5.12: 411).
    case lengthRequired
    /// A `Content-Length` above `Limits.maxBody` (RFC 9110 §15.5.14: 413).
    case contentTooLarge
    /// A body (or a chunked one) on a method other than GET or HEAD: 405 with `Allow` (RFC 9110 §15.5.6), since
    /// the method would be refused whatever the body.
    case methodNotAllowed

    /// The status to answer with.
    public var status: Status {
        switch self {
        case .requestLineTooLong: .uriTooLong
        case .unsupportedVersion: .httpVersionNotSupported
        case .connectNotSupported, .unsupportedTransferCoding: .notImplemented
        case .headerBlockTooLarge, .tooManyFields: .headerFieldsTooLarge
        case .lengthRequired: .lengthRequired
        case .contentTooLarge: .contentTooLarge
        case .methodNotAllowed: .methodNotAllowed
        case .bareCarriageReturn, .bareLineFeed, .tooManyEmptyLines, .invalidMethod, .invalidTarget,
            .invalidVersion, .whitespaceBeforeFirstField, .obsoleteLineFolding, .invalidFieldName,
            .whitespaceBeforeColon, .invalidFieldValue, .missingHost, .duplicateHost, .invalidHost,
            .invalidContentLength, .conflictingContentLength, .contentLengthWithTransferEncoding,
            .transferEncodingInHTTP10, .invalidTransferEncoding, .chunkedNotFinal:
            .badRequest
        }
    }

    /// Whether the connection must close after the error response. True for every parse failure: the rest of
    /// the stream (a body we refuse, the tail of a broken line) cannot be framed as a next request.
    public var closesConnection: Bool {
        switch self {
        case .bareCarriageReturn, .bareLineFeed, .tooManyEmptyLines, .invalidMethod, .invalidTarget,
            .invalidVersion, .requestLineTooLong, .unsupportedVersion, .connectNotSupported,
            .whitespaceBeforeFirstField, .obsoleteLineFolding, .invalidFieldName, .whitespaceBeforeColon,
            .invalidFieldValue, .headerBlockTooLarge, .tooManyFields, .missingHost, .duplicateHost, .invalidHost,
            .invalidContentLength, .conflictingContentLength, .contentLengthWithTransferEncoding,
            .transferEncodingInHTTP10, .invalidTransferEncoding, .chunkedNotFinal, .unsupportedTransferCoding,
            .lengthRequired, .contentTooLarge, .methodNotAllowed:
            true
        }
    }

    /// A short plain-text explanation, fit for the response body and a debug log line.
    public var message: String {
        switch self {
        case .bareCarriageReturn: "CR not followed by LF"
        case .bareLineFeed: "line ends with LF instead of CRLF"
        case .tooManyEmptyLines: "too many empty lines before the request line"
        case .invalidMethod: "invalid method"
        case .invalidTarget: "invalid request target"
        case .invalidVersion: "malformed HTTP version"
        case .requestLineTooLong: "request line too long"
        case .unsupportedVersion: "HTTP version not supported"
        case .connectNotSupported: "CONNECT is not supported"
        case .whitespaceBeforeFirstField: "whitespace before the first header field"
        case .obsoleteLineFolding: "obsolete line folding in header field"
        case .invalidFieldName: "invalid header field name"
        case .whitespaceBeforeColon: "whitespace between header field name and colon"
        case .invalidFieldValue: "invalid character in header field value"
        case .headerBlockTooLarge: "header section too large"
        case .tooManyFields: "too many header fields"
        case .missingHost: "missing Host header"
        case .duplicateHost: "more than one Host header"
        case .invalidHost: "invalid Host header"
        case .invalidContentLength: "invalid Content-Length header"
        case .conflictingContentLength: "conflicting Content-Length headers"
        case .contentLengthWithTransferEncoding: "both Content-Length and Transfer-Encoding"
        case .transferEncodingInHTTP10: "Transfer-Encoding in an HTTP/1.0 request"
        case .invalidTransferEncoding: "invalid Transfer-Encoding header"
        case .chunkedNotFinal: "chunked is not the final transfer coding"
        case .unsupportedTransferCoding: "unsupported transfer coding"
        case .lengthRequired: "request bodies need a Content-Length"
        case .contentTooLarge: "request body too large"
        case .methodNotAllowed: "Method not allowed: this site serves GET and HEAD."
        }
    }

    /// The plain-text error response, with `Allow` on a 405.
    public var response: Response {
        let allow: [(name: String, value: String)] = status == .methodNotAllowed ? [("Allow", Method.allowHeader)] : []
        return .text(status, message + "\n", headers: allow)
    }
}
