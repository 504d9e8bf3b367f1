// The header section (RFC 9112 §5): `field-name ":" OWS field-value OWS CRLF`, then an empty line.
// Fields that decide framing, host and keep-alive are recognised as they are scanned, by length and one
// packed-word compare, so no name is looked up twice and nothing is allocated for them.

extension RequestParser {
    /// What the header section says about host, body framing and the connection; ranges index the input.
    struct FieldFacts {
        /// Every field, with ranges relative to the start of `Request.head`.
        var fields: [(name: Range<Int>, value: Range<Int>)] = []
        /// Index of the CR of the final empty line: the head (as copied) ends here.
        var headEnd = 0
        /// The `Host` value.
        var host: Range<Int>?
        /// The `Content-Length`, once every value agreed.
        var contentLength: Int?
        /// The transfer codings, if any `Transfer-Encoding` was sent.
        var transferCodings: TransferCodings?
        /// A `Connection` field listed `close`.
        var connectionClose = false
        /// A `Connection` field listed `keep-alive`.
        var connectionKeepAlive = false
    }

    /// Parses field lines from `start` up to and including the empty line; field ranges are made relative
    /// to `base` (the start of `Request.head`).
    func parseFields(_ b: Span<UInt8>, at start: Int, base: Int) throws(ParseStop) -> FieldFacts {
        // Every byte of the section, final CRLF included, must lie below `limit` (see `parseRequestLine`).
        let limit = start.saturatingAdd(limits.headerBlock)
        let end = min(b.count, limit)
        let outOfBytes: ParseStop = end == limit ? .failure(.headerBlockTooLarge) : .incomplete
        var facts = FieldFacts()
        // A local array, moved into `facts` at the end: appends need no uniqueness check in the loop.
        var fields: [(name: Range<Int>, value: Range<Int>)] = []
        fields.reserveCapacity(min(limits.headerCount, 16))
        var i = start
        while true {
            guard i < end else { throw outOfBytes }
            var c = b[i]
            if c == ASCII.cr {
                guard i + 1 < end else { throw outOfBytes }
                guard b[i + 1] == ASCII.lf else { throw .failure(.bareCarriageReturn) }
                facts.headEnd = i
                facts.fields = fields
                return facts
            }
            if c == ASCII.lf { throw .failure(.bareLineFeed) }
            // RFC 9112 §2.2 (whitespace after the start line) and §5.2 (obs-fold): we reject both with 400.
            if isWhitespace(c) { throw .failure(i == start ? .whitespaceBeforeFirstField : .obsoleteLineFolding) }
            guard fields.count < limits.headerCount else { throw .failure(.tooManyFields) }

            // field-name = token, then ":" with nothing in between (RFC 9112 §5.1).
            let nameStart = i
            i = skipTokenBytes(b, from: i, to: end)
            guard i < end else { throw outOfBytes }
            c = b[i]
            guard c == ASCII.colon else {
                throw .failure(isWhitespace(c) ? .whitespaceBeforeColon : .invalidFieldName)
            }
            guard i > nameStart else { throw .failure(.invalidFieldName) }
            let name = nameStart..<i
            i += 1

            // OWS field-value OWS: the value runs from its first to its last visible byte. HTAB is the one
            // control byte allowed inside; everything else stops the value and must be the line's CRLF.
            while i < end && isWhitespace(b[i]) { i += 1 }
            let valueStart = i
            while true {
                i = skipFieldValueBytes(b, from: i, to: end)
                guard i < end else { throw outOfBytes }
                c = b[i]
                guard c == ASCII.tab else { break }
                i += 1
            }
            var valueEnd = i
            while valueEnd > valueStart && isWhitespace(b[valueEnd - 1]) { valueEnd -= 1 }
            guard c == ASCII.cr else { throw .failure(c == ASCII.lf ? .bareLineFeed : .invalidFieldValue) }
            guard i + 1 < end else { throw outOfBytes }
            guard b[i + 1] == ASCII.lf else { throw .failure(.bareCarriageReturn) }
            i += 2

            let value = valueStart..<valueEnd
            fields.append((name: name.shifted(by: base), value: value.shifted(by: base)))
            try facts.recognize(b, name: name, value: value)
        }
    }
}

extension RequestParser.FieldFacts {
    /// Takes note of `name: value` if it is one of the fields the parser acts on.
    @inline(__always)
    mutating func recognize(_ b: Span<UInt8>, name: Range<Int>, value: Range<Int>) throws(ParseStop) {
        let n = name.lowerBound
        switch name.count {
        case 4 where packed(b, n, 4, lowercased: true) == Word.host:
            try addHost(b, value)
        case 10
        where packed(b, n, 8, lowercased: true) == Word.connecti && packed(b, n + 8, 2, lowercased: true) == Word.on:
            addConnection(b, value)
        case 14
        where packed(b, n, 8, lowercased: true) == Word.content
            && packed(b, n + 8, 6, lowercased: true) == Word.length:
            try addContentLength(b, value)
        case 17
        where packed(b, n, 8, lowercased: true) == Word.transfer
            && packed(b, n + 8, 8, lowercased: true) == Word.encodin
            && packed(b, n + 16, 1, lowercased: true) == Word.g:
            try addTransferEncoding(b, value)
        default:
            break
        }
    }

    /// `Host = uri-host [":" port]` (RFC 9110 §7.2), sent once (RFC 9112 §3.2). We also refuse an empty value:
    /// the site always has an authority, and an empty one could not route.
    mutating func addHost(_ b: Span<UInt8>, _ value: Range<Int>) throws(ParseStop) {
        guard host == nil else { throw .failure(.duplicateHost) }
        guard isValidHost(b, value) else { throw .failure(.invalidHost) }
        host = value
    }

    /// `Connection = #connection-option` (RFC 9110 §7.6.1): notes `close` and `keep-alive`, case-insensitive,
    /// ignoring other options and empty list elements.
    mutating func addConnection(_ b: Span<UInt8>, _ value: Range<Int>) {
        var i = value.lowerBound
        let end = value.upperBound
        while i < end {
            let c = b[i]
            if c == ASCII.comma || isWhitespace(c) {
                i += 1
                continue
            }
            let optionStart = i
            while i < end && b[i] != ASCII.comma && !isWhitespace(b[i]) { i += 1 }
            switch i - optionStart {
            case 5 where packed(b, optionStart, 5, lowercased: true) == Word.close:
                connectionClose = true
            case 10
            where packed(b, optionStart, 8, lowercased: true) == Word.keepAli
                && packed(b, optionStart + 8, 2, lowercased: true) == Word.ve:
                connectionKeepAlive = true
            default:
                break
            }
        }
    }

    /// `Content-Length = 1*DIGIT` (RFC 9110 §8.6). RFC 9110 §8.6 lets a recipient either reject a list or
    /// repeated fields, or accept them when every value is the same; we accept identical values (some
    /// proxies duplicate the field) and refuse differing ones, which is where smuggling lives.
    mutating func addContentLength(_ b: Span<UInt8>, _ value: Range<Int>) throws(ParseStop) {
        var i = value.lowerBound
        let end = value.upperBound
        while true {
            let digitsStart = i
            var length = 0
            while i < end {
                let d = digitValue(b[i])
                guard d < 10 else { break }
                let (times10, o1) = length.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(d))
                guard !o1 && !o2 else { throw .failure(.invalidContentLength) }
                length = sum
                i += 1
            }
            guard i > digitsStart else { throw .failure(.invalidContentLength) }
            if let previous = contentLength, previous != length { throw .failure(.conflictingContentLength) }
            contentLength = length

            while i < end && isWhitespace(b[i]) { i += 1 }
            guard i < end else { return }
            guard b[i] == ASCII.comma else { throw .failure(.invalidContentLength) }
            i += 1
            while i < end && isWhitespace(b[i]) { i += 1 }
        }
    }

    /// `Transfer-Encoding = #transfer-coding` (RFC 9112 §6.1). Codings may span several fields; parameters
    /// after `;` are skipped up to the next comma (all of this only picks the status of a refusal).
    mutating func addTransferEncoding(_ b: Span<UInt8>, _ value: Range<Int>) throws(ParseStop) {
        var codings = transferCodings ?? TransferCodings()
        var i = value.lowerBound
        let end = value.upperBound
        while i < end {
            if b[i] == ASCII.comma || isWhitespace(b[i]) {
                i += 1
                continue
            }
            let nameStart = i
            while i < end && isTokenByte(b[i]) { i += 1 }
            guard i > nameStart else { throw .failure(.invalidTransferEncoding) }
            codings.add(b, nameStart..<i)
            while i < end && isWhitespace(b[i]) { i += 1 }
            if i < end && b[i] == ASCII.semicolon {
                while i < end && b[i] != ASCII.comma { i += 1 }
            } else if i < end && b[i] != ASCII.comma {
                throw .failure(.invalidTransferEncoding)
            }
        }
        transferCodings = codings
    }
}

/// The transfer codings of a request, in order, reduced to what decides how to refuse it.
struct TransferCodings {
    /// Codings seen.
    var count = 0
    /// How many of them are `chunked`.
    var chunkedCount = 0
    /// Whether the last one is `chunked`.
    var lastIsChunked = false
    /// Whether one of them is not a coding we know.
    var hasUnknown = false

    /// Notes the coding named `b[name]` (a token).
    mutating func add(_ b: Span<UInt8>, _ name: Range<Int>) {
        count += 1
        let n = name.lowerBound
        let isChunked = name.count == 7 && packed(b, n, 7, lowercased: true) == Word.chunked
        lastIsChunked = isChunked
        if isChunked {
            chunkedCount += 1
            return
        }
        let known =
            switch name.count {
            case 4: packed(b, n, 4, lowercased: true) == Word.gzip
            case 6: packed(b, n, 6, lowercased: true) == Word.xGzip
            case 7: packed(b, n, 7, lowercased: true) == Word.deflate
            case 8: packed(b, n, 8, lowercased: true) == Word.compress
            case 10:
                packed(b, n, 8, lowercased: true) == Word.xCompre && packed(b, n + 8, 2, lowercased: true) == Word.ss
            default: false
            }
        if !known { hasUnknown = true }
    }

    /// How to refuse the request. We take no body of unannounced length, so every `Transfer-Encoding` is
    /// refused; the status says why:
    /// - no coding at all: 400;
    /// - a coding we do not know: 501 (RFC 9112 §6.1);
    /// - `chunked` not last, or twice: 400 (RFC 9112 §6.3 and §7: the length cannot be determined);
    /// - well-formed chunked: 411 Length Required (RFC 9110 §15.5.12: we refuse a body without a
    ///   `Content-Length`; older nginx answered chunked requests the same way).
    var refusal: HTTPError {
        if count == 0 { return .invalidTransferEncoding }
        if hasUnknown { return .unsupportedTransferCoding }
        if !lastIsChunked || chunkedCount > 1 { return .chunkedNotFinal }
        return .lengthRequired
    }
}
