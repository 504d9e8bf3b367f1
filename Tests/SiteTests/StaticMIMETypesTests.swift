import Site
import Testing

@Suite struct StaticMIMETypesTests {
    static let table: [(ext: String, type: String)] = [
        ("html", "text/html; charset=utf-8"),
        ("css", "text/css; charset=utf-8"),
        ("js", "text/javascript; charset=utf-8"),
        ("mjs", "text/javascript; charset=utf-8"),
        ("txt", "text/plain; charset=utf-8"),
        ("json", "application/json"),
        ("map", "application/json"),
        ("xml", "application/xml"),
        ("webmanifest", "application/manifest+json"),
        ("svg", "image/svg+xml"),
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("gif", "image/gif"),
        ("webp", "image/webp"),
        ("avif", "image/avif"),
        ("ico", "image/x-icon"),
        ("woff", "font/woff"),
        ("woff2", "font/woff2"),
        ("ttf", "font/ttf"),
        ("otf", "font/otf"),
        ("pdf", "application/pdf"),
        ("wasm", "application/wasm"),
        ("mp4", "video/mp4"),
        ("webm", "video/webm"),
        ("PNG", "image/png"),
        ("Css", "text/css; charset=utf-8"),
        ("exe", "application/octet-stream"),
        ("", "application/octet-stream"),
    ]

    @Test(arguments: table)
    func mapsExtensionToContentType(ext: String, type: String) {
        #expect(MIMETypes.contentType(forExtension: ext) == type)
    }

    static let paths: [(path: String, type: String)] = [
        ("css/site.css", "text/css; charset=utf-8"),
        ("app.min.js", "text/javascript; charset=utf-8"),
        ("img.v2/logo", "application/octet-stream"),
        ("README", "application/octet-stream"),
        (".htaccess", "application/octet-stream"),
        ("fonts/Inter.WOFF2", "font/woff2"),
        ("trailing.", "application/octet-stream"),
    ]

    @Test(arguments: paths)
    func usesExtensionOfLastComponent(path: String, type: String) {
        #expect(MIMETypes.contentType(forPath: path) == type)
    }
}
