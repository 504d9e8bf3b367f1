// libFuzzer harness for the HTTP/2 input path: the client's bytes after the connection preface go through
// nghttp2 and `HTTP2Connection` (requests rebuilt, parsed, answered, bodies queued) over an in-memory stream.
// Built by Fuzz/run.sh into the module `HTTP` with the library's sources, with -sanitize=fuzzer,address; not
// part of the package build. Checks "no crash, no over-read, no leak of connections": every input ends with
// the connection closed and the engine holding none.

import Logging
import Reactor

/// Answers every request with a small page, so responses (and their DATA frames) are produced too.
struct FuzzResponder: Responder {
    let body = Bytes(String(repeating: "fuzz ", count: 4000))
    func respond(to request: Request, context: RequestContext) -> Response {
        Response(status: .ok, headers: [("Content-Type", "text/plain")], body: .bytes(body))
    }
}

/// A stream that hands the fuzz input over once, then reports end of stream; writes are taken whole.
final class FuzzStream: ByteStream {
    var delegate: (any ByteStreamDelegate)?
    let loop: EventLoop
    let peer = SocketAddress(ip: "127.0.0.1", port: 443)!
    var isSecure: Bool { true }
    var input: [UInt8]
    private(set) var isClosed = false

    init(loop: EventLoop, input: [UInt8]) {
        self.loop = loop
        self.input = input
    }

    func read(into buffer: inout ReceiveBuffer) -> IOOutcome {
        if isClosed || input.isEmpty { return .closed }
        let chunk = input.prefix(4096)
        buffer.append(chunk, pool: loop.pool)
        input.removeFirst(chunk.count)
        return .done(chunk.count)
    }

    func write(_ queue: inout OutboundQueue) -> IOOutcome {
        if isClosed { return .closed }
        let count = queue.pendingCount
        queue.advance(by: count, pool: loop.pool)
        return .done(count)
    }

    func close() {
        isClosed = true
        delegate = nil
    }
}

// Invariant: libFuzzer calls the entry point from one thread; the loop and server are used from it only.
nonisolated(unsafe) let fuzzLoop = try! EventLoop(id: 0, logger: Logger(label: "fuzz"))
nonisolated(unsafe) let fuzzServer = HTTPServer(
    loop: fuzzLoop, configuration: HTTPServerConfiguration(), responder: FuzzResponder(), accessLog: nil)
let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP2(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    // Invariant: libFuzzer's buffer holds `size` bytes and outlives this call.
    let input = preface + Array(UnsafeBufferPointer(start: data, count: size))
    let stream = FuzzStream(loop: fuzzLoop, input: input)
    fuzzServer.acceptHTTP2(stream)
    stream.delegate?.streamReadable()
    if fuzzServer.connectionCount != 0 {
        fatalError("invariant broken: a connection outlived its input's end")
    }
    return 0
}
