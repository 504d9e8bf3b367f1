// libFuzzer harness for `RequestParser`. Built by Fuzz/run.sh into the same module as the parser sources
// (module name `HTTP`), with -sanitize=fuzzer,address; not part of the package build.
//
// Beyond "no crash, no over-read" (ASan watches the exact-size buffer libFuzzer hands us), it checks
// invariants that every outcome must satisfy, with the default limits and with tiny ones so the limit paths
// get explored too. A broken invariant traps, which libFuzzer reports as a crash with the input saved.

/// Default limits, and small ones that inputs of a few hundred bytes can reach.
let parsers = [
    RequestParser(),
    RequestParser(limits: .init(requestLine: 40, headerBlock: 96, headerCount: 4, maxBody: 3)),
]

/// libFuzzer's entry point: parses `data` with every parser and checks the invariants. Returns 0 (keep input).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    // Invariant: libFuzzer's buffer holds `size` bytes and outlives this call.
    let bytes = Span(_unsafeStart: data, count: size)
    for parser in parsers {
        check(parser, bytes)
    }
    return 0
}

/// Traps with `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

/// Checks one parser's outcome on `bytes`, and on prefixes that must agree with it.
func check(_ parser: RequestParser, _ bytes: Span<UInt8>) {
    let outcome = parser.parse(bytes)
    require(Summary(outcome) == Summary(parser.parse(bytes)), "parsing twice gave different outcomes")

    switch outcome {
    case .incomplete:
        // More bytes will come; nothing to check beyond "no crash".
        break
    case .request(let request, let consumed):
        require(consumed > 0 && consumed <= bytes.count, "consumed \(consumed) of \(bytes.count)")
        checkRequest(request, consumed: consumed, bytes)
        // The head alone gives the same request; one byte less is incomplete.
        let alone = parser.parse(bytes.extracting(0..<consumed))
        require(Summary(alone) == Summary(outcome), "head alone gave \(Summary(alone))")
        let short = parser.parse(bytes.extracting(0..<(consumed - 1)))
        require(Summary(short) == .incomplete, "head minus one byte gave \(Summary(short))")
    case .failure(let error):
        require(error.closesConnection, "\(error) keeps the connection")
        // A failure cannot turn into a request by losing its last byte: the shorter input is incomplete
        // or fails the same way.
        guard bytes.count > 0 else { return }
        let short = Summary(parser.parse(bytes.extracting(0..<(bytes.count - 1))))
        require(short == .incomplete || short == .failure(error), "\(error), but one byte less gave \(short)")
    }
}

/// Checks that `request` is what the first `consumed` bytes of `bytes` say.
func checkRequest(_ request: Request, consumed: Int, _ bytes: Span<UInt8>) {
    let head = request.head
    // The head ends the input's first `consumed` bytes, just before the final CRLF, after CRLF CRLF.
    let start = consumed - 2 - head.count
    require(start >= 0 && start % 2 == 0 && start <= 2 * RequestParser.maxLeadingEmptyLines, "head starts at \(start)")
    for i in 0..<head.count {
        require(head[i] == bytes[start + i], "head differs from the input at \(i)")
    }
    require(head.count >= 2 && head[head.count - 2] == ASCII.cr && head[head.count - 1] == ASCII.lf, "head end")
    require(bytes[consumed - 2] == ASCII.cr && bytes[consumed - 1] == ASCII.lf, "final CRLF")

    var ranges = [request.targetRange, request.pathRange]
    ranges += [request.queryRange, request.hostRange].compactMap { $0 }
    for field in request.fields {
        require(!field.name.isEmpty, "empty field name")
        ranges += [field.name, field.value]
    }
    for range in ranges {
        require(range.lowerBound >= 0 && range.upperBound <= head.count, "range \(range) outside the head")
    }
    require(!request.targetRange.isEmpty, "empty target")
    require(request.contentLength >= 0, "negative Content-Length")
    if request.version == .http11 { require(request.hostRange != nil, "1.1 request without host") }
}

/// An outcome reduced to something comparable; requests compare by everything they hold.
enum Summary: Equatable {
    case incomplete
    case request(
        head: [UInt8], ranges: [Range<Int>], method: Method, version: Version, keepAlive: Bool,
        contentLength: Int, consumed: Int)
    case failure(HTTPError)

    init(_ outcome: RequestParser.Outcome) {
        switch outcome {
        case .incomplete:
            self = .incomplete
        case .request(let r, let consumed):
            let none = -1..<(-1)
            var ranges = [r.targetRange, r.pathRange, r.queryRange ?? none, r.hostRange ?? none]
            ranges += r.fields.flatMap { [$0.name, $0.value] }
            self = .request(
                head: r.head, ranges: ranges, method: r.method, version: r.version,
                keepAlive: r.keepAlive, contentLength: r.contentLength, consumed: consumed)
        case .failure(let error):
            self = .failure(error)
        }
    }
}
