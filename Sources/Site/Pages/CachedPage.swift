import HTTP

/// One rendered page (or feed, sitemap, error page) with every response it can give, built once per
/// generation so that serving it is a header choice, never rendering or encoding.
///
/// ```
/// identity.whole        200  Content-Type, Content-Language, ETag "h", Last-Modified, Cache-Control, Vary,
///                            security headers          body: the page
/// identity.notModified  304  ETag "h", Last-Modified, Cache-Control, Vary
/// gzip.whole            200  … ETag "h-gz", Content-Encoding: gzip  body: the page, gzip-compressed
/// gzip.notModified      304  ETag "h-gz", …
/// ```
/// Each encoding is its own representation with its own strong entity-tag (RFC 9110 §8.8.3), so a cache that
/// stored one never revalidates it against the other. There is no gzip variant when compression would not
/// make the body smaller. Error pages (404, 500, 503) have no validators and are never 304.
final class CachedPage: Sendable {
    /// The responses of one content coding. A class, so that choosing a variant per request is one
    /// reference, not a copy of two responses and their buffers' reference counts.
    final class Variant: Sendable {
        let validators: Validators
        let whole: Response
        let notModified: Response

        init(validators: Validators, whole: Response, notModified: Response) {
            self.validators = validators
            self.whole = whole
            self.notModified = notModified
        }
    }

    let identity: Variant
    let gzip: Variant?
    /// Whether `If-None-Match`/`If-Modified-Since` apply (2xx pages only).
    let isConditional: Bool

    /// The headers every page and search result carries (CSP: nothing but this origin's own files, no
    /// inline script or style, no framing, no plugins; images may also be `data:` URIs).
    static let securityHeaderLines =
        "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        + "base-uri 'none'; frame-ancestors 'none'; form-action 'self'\r\n"
        + "X-Content-Type-Options: nosniff\r\nReferrer-Policy: strict-origin-when-cross-origin\r\n"

    /// Renders the responses of `body`.
    ///
    /// - Parameters:
    ///   - status: 200 for pages; 404, 500, 503 for error pages (no validators, `Cache-Control: no-cache`).
    ///   - contentType: the full `Content-Type` value, charset included.
    ///   - language: the `Content-Language`, if the body has one.
    ///   - lastModified: epoch seconds for `Last-Modified`.
    ///   - cacheControl: `Cache-Control` for a 200.
    init(
        status: Status = .ok, body: [UInt8], contentType: String, language: String?, lastModified: Int64,
        cacheControl: String, route: RouteKind = .page
    ) {
        let isConditional = (200..<300).contains(status.code)
        let securityLines = Self.securityHeaderLines
        let hash = Self.hash(body)
        let compressed = Gzip.compress(body).flatMap { $0.count < body.count ? $0 : nil }
        let vary = compressed == nil ? "" : "Vary: Accept-Encoding\r\n"
        let cacheLine = "Cache-Control: \(isConditional ? cacheControl : "no-cache")\r\n"
        let commonLines =
            "Content-Type: \(contentType)\r\n" + (language.map { "Content-Language: \($0)\r\n" } ?? "")

        func variant(_ bytes: [UInt8], tag: String, encoding: String?) -> Variant {
            let validators = Validators(etag: Array(tag.utf8), lastModified: lastModified, size: bytes.count)
            var validatorLines = ""
            if isConditional {
                validatorLines = "ETag: \(tag)\r\nLast-Modified: \(HTTPDate.format(lastModified))\r\n"
            }
            let encodingLine = encoding.map { "Content-Encoding: \($0)\r\n" } ?? ""
            let wholeLines =
                commonLines + encodingLine + validatorLines + cacheLine + vary + securityLines
            var whole = Response(
                status: status, cachedHeaders: .init(Array(wholeLines.utf8)), body: .bytes(.init(bytes)))
            var notModified = Response(
                status: .notModified, cachedHeaders: .init(Array((validatorLines + cacheLine + vary).utf8)))
            whole.route = route
            notModified.route = route
            return Variant(validators: validators, whole: whole, notModified: notModified)
        }
        self.isConditional = isConditional
        identity = variant(body, tag: "\"\(hash)\"", encoding: nil)
        gzip = compressed.map { variant($0, tag: "\"\(hash)-gz\"", encoding: "gzip") }
    }

    /// The identity entity-tag, quoted.
    var etag: String { String(decoding: identity.validators.etag, as: UTF8.self) }

    /// The response for `request` at wall-clock `now`: the gzip variant if accepted, then 304 if the
    /// client's copy is current. Allocates nothing but the copy of a `Response`.
    func response(to request: borrowing Request, now: Int64) -> Response {
        let chosen: Variant
        if let gzip, AcceptEncoding.acceptsGzip(request) {
            chosen = gzip
        } else {
            chosen = identity
        }
        guard isConditional else { return chosen.whole }
        // Range is ignored (RFC 9110 §14.2 lets a server do so): pages are small and sent whole.
        switch ConditionalRequest(request).selection(for: chosen.validators, now: now) {
        case .notModified: return chosen.notModified
        case .whole, .partial, .unsatisfiable: return chosen.whole
        }
    }

    /// FNV-1a, 64 bits, as 16 hex digits: a strong validator for a body we produced ourselves (no adversary
    /// chooses page bodies; a collision would only serve a stale 304).
    static func hash(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        h ^= UInt64(bytes.count)
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
