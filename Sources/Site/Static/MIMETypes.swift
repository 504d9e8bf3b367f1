/// `Content-Type` values for the file extensions the site serves.
///
/// Text types carry `charset=utf-8`: every text file in the repository is UTF-8, and without the parameter
/// browsers guess (RFC 9110 §8.3.1 leaves the default charset to the media type). Unknown extensions get
/// `application/octet-stream`, which with `X-Content-Type-Options: nosniff` is never rendered as a page.
public enum MIMETypes {
    /// The fallback for unknown or missing extensions.
    public static let defaultType = "application/octet-stream"

    static let types: [String: String] = [
        "html": "text/html; charset=utf-8",
        "htm": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        // RFC 9239 §6: text/javascript is the one media type for JavaScript, modules included.
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "xml": "application/xml",
        "json": "application/json",
        "map": "application/json",
        "webmanifest": "application/manifest+json",
        "svg": "image/svg+xml",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "avif": "image/avif",
        "ico": "image/x-icon",
        "woff": "font/woff",
        "woff2": "font/woff2",
        "ttf": "font/ttf",
        "otf": "font/otf",
        "pdf": "application/pdf",
        "wasm": "application/wasm",
        "mp4": "video/mp4",
        "webm": "video/webm",
    ]

    /// The `Content-Type` for a file extension without the dot (`"css"`), ASCII case-insensitive.
    public static func contentType(forExtension ext: some StringProtocol) -> String {
        types[ext.lowercased()] ?? defaultType
    }

    /// The `Content-Type` for a file name or path: its extension after the last dot of the last component.
    /// Names without an extension, and dotfiles such as `.htaccess`, get the default.
    public static func contentType(forPath path: String) -> String {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return defaultType }
        return contentType(forExtension: name[name.index(after: dot)...])
    }
}
