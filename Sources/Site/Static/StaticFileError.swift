public import HTTP

/// Why a path under the static prefix got no file. Each case knows its status; `response` is the plain-text
/// answer `StaticFiles.respond` sends, which the router may replace with a localised page by calling
/// `StaticFiles.serve` instead and switching on the error.
public enum StaticFileError: Error, Sendable, Equatable {
    /// The path is not a safe file path (bad escapes, NUL, `%2F`, `\`, `..` above the root): 400.
    case malformedPath(PathError)
    /// No servable file: missing, a directory, a dotfile, a special file, or outside the root once
    /// symlinks are resolved: 404. The cases are not told apart, so a probe learns nothing.
    case notFound
    /// The file exists but the server could not open or read it (EMFILE, ENOMEM, EIO): 500. The caller
    /// logs it once; the client is not told why.
    case unreadable(call: String, errno: Int32)

    /// The status to answer with.
    public var status: Status {
        switch self {
        case .malformedPath: .badRequest
        case .notFound: .notFound
        case .unreadable: .internalServerError
        }
    }

    /// A short plain-text response with `status`.
    public var response: Response {
        .text(status, "\(status.code) \(status.reason)\n")
    }
}
