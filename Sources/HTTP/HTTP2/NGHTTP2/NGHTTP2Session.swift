internal import CNGHTTP2
import Reactor

/// What the HTTP/2 engine tells its connection while it parses input or produces output. Called during
/// `NGHTTP2Session.receive` and `send` only, on the loop thread.
protocol HTTP2SessionDelegate: AnyObject {
    /// A HEADERS frame opened request stream `stream`.
    func requestBegan(stream: Int32)
    /// One decoded header field of `stream`'s request (pseudo-headers first, as RFC 9113 §8.3 requires and
    /// nghttp2 checks). The spans live for the call only.
    func requestField(stream: Int32, name: Span<UInt8>, value: Span<UInt8>)
    /// The request head of `stream` is complete (END_HEADERS); `endStream` if no body follows.
    func requestHeadComplete(stream: Int32, endStream: Bool)
    /// `stream` was closed (answered, reset by either side, or the connection ended); `errorCode` is the
    /// RFC 9113 §7 code of a reset, 0 for a clean end.
    func streamClosed(stream: Int32, errorCode: UInt32)
    /// A frame header arrived (every type, CONTINUATION included): flood accounting.
    func frameBegan(type: UInt8, stream: Int32, length: Int, flags: UInt8)
    /// How many response body bytes `stream` can give now, at most `maximum`; nil when its output must wait
    /// (the connection's queue is full), in which case the connection calls `resume(stream:)` later.
    func responseDataAvailable(stream: Int32, maximum: Int) -> (count: Int, isLast: Bool)?
    /// Appends the next `count` body bytes of `stream` to `queue` (the DATA frame header is already there).
    func appendResponseData(stream: Int32, count: Int, to queue: inout OutboundQueue)
}

/// RFC 9113 §7 error codes the server sends.
enum HTTP2ErrorCode: UInt32 {
    case noError = 0x0
    case protocolError = 0x1
    case internalError = 0x2
    case flowControlError = 0x3
    case settingsTimeout = 0x4
    case frameSizeError = 0x6
    case refusedStream = 0x7
    case compressionError = 0x9
    case enhanceYourCalm = 0xb
}

/// The outcome of feeding input to the engine.
enum HTTP2ReceiveOutcome: Equatable {
    /// All bytes were taken.
    case consumed
    /// The bytes are not HTTP/2: the client connection preface is wrong (RFC 9113 §3.4).
    case badPreface
    /// The peer queued more control-frame acknowledgements than it reads, or broke a limit nghttp2 counts
    /// (settings entries, CONTINUATION frames, reset rate): tear the connection down.
    case flooded
    /// Any other fatal error (the engine's message).
    case failed(String)
}

/// Owns one server-side `nghttp2_session *`. Created per HTTP/2 connection; freed in `deinit`. Loop-confined.
///
/// Calling order: `submitSettings` once, then per readiness edge `receive` for the bytes read and `send` to
/// move frames into `outbound`, which the connection writes to its stream. Responses are submitted with
/// `submitResponse` (from delegate calls or later); their bodies are pulled through the delegate as flow
/// control allows, at most one frame (16 KiB) at a time, and never copied: the DATA frame header is staged
/// and the body bytes are queued as references (`Bytes` slices or file ranges).
final class NGHTTP2Session {
    /// Engine limits, set once per session.
    struct Options {
        /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise and enforce.
        var maxConcurrentStreams: UInt32 = 100
        /// SETTINGS_MAX_HEADER_LIST_SIZE we advertise (the connection enforces it per stream).
        var maxHeaderListSize: UInt32 = 65_536
        /// SETTINGS_INITIAL_WINDOW_SIZE for request bodies we receive.
        var initialWindowSize: UInt32 = 65_535
        /// Control-frame acknowledgements (SETTINGS/PING ACKs) allowed to wait unsent before the peer counts
        /// as flooding (CVE-2019-9512, CVE-2019-9515).
        var maxOutboundAcks = 1000
        /// Entries one SETTINGS frame may carry (CVE-2019-9515).
        var maxSettings = 32
        /// CONTINUATION frames after one HEADERS (CVE-2024-27316, CVE-2024-28182).
        var maxContinuations = 8
        /// Client stream resets allowed in a burst, and regained per second (CVE-2023-44487).
        var resetBurst: UInt64 = 1000
        var resetRate: UInt64 = 33
    }

    private let session: OpaquePointer
    /// Frames waiting to be written to the stream.
    var outbound = OutboundQueue()
    /// Buffers for `outbound`.
    let pool: BufferPool
    /// The queue size at which the engine stops producing DATA (back-pressure: a slow reader of a large file
    /// holds at most this much of it).
    let outboundLimit: Int
    unowned(unsafe) var delegate: (any HTTP2SessionDelegate)!

    /// Makes a server session. Fails only when nghttp2 cannot allocate.
    init?(options: Options, pool: BufferPool, outboundLimit: Int) {
        self.pool = pool
        self.outboundLimit = outboundLimit
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.install(callbacks)
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { return nil }
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_max_outbound_ack(option, options.maxOutboundAcks)
        nghttp2_option_set_max_settings(option, options.maxSettings)
        nghttp2_option_set_max_continuations(option, options.maxContinuations)
        nghttp2_option_set_stream_reset_rate_limit(option, options.resetBurst, options.resetRate)
        // RFC 9113 §5.1.2: the peer must respect our stream limit before it has acknowledged our SETTINGS too.
        nghttp2_option_set_peer_max_concurrent_streams(option, options.maxConcurrentStreams)
        var made: OpaquePointer?
        // The user data is filled in below, once `self` is complete; no callback runs before then.
        guard nghttp2_session_server_new2(&made, callbacks, nil, option) == 0, let made else { return nil }
        session = made
        nghttp2_session_set_user_data(session, Unmanaged.passUnretained(self).toOpaque())
        let entries: [(Int32, UInt32)] = [
            (Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), options.maxConcurrentStreams),
            (Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), options.maxHeaderListSize),
            (Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), options.initialWindowSize),
            (Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), 0),
        ]
        var settings = entries.map { nghttp2_settings_entry(settings_id: $0.0, value: $0.1) }
        // Queues our SETTINGS, the server's connection preface (RFC 9113 §3.4); sent by the first `send`.
        _ = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
    }

    deinit { nghttp2_session_del(session) }

    // MARK: - Input and output

    /// Parses `bytes`, calling the delegate for each request event.
    func receive(_ bytes: Span<UInt8>) -> HTTP2ReceiveOutcome {
        let result = bytes.withUnsafeBufferPointer { buffer in
            // Invariant: nghttp2 reads the bytes during the call only; it copies what it keeps.
            nghttp2_session_mem_recv(session, buffer.baseAddress, buffer.count)
        }
        if result >= 0 { return .consumed }
        switch Int32(result) {
        case NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue: return .badPreface
        case NGHTTP2_ERR_FLOODED.rawValue: return .flooded
        default: return .failed(String(cString: nghttp2_strerror(Int32(result))))
        }
    }

    /// Moves every frame the engine may send now into `outbound` (stopping early once `outboundLimit` is
    /// passed). Returns false on a fatal engine error.
    func send() -> Bool {
        nghttp2_session_send(session) == 0
    }

    /// True while the engine expects more input (false once a GOAWAY ended the session both ways).
    var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }
    /// True while the engine has frames to send or streams to finish.
    var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }

    // MARK: - Responses

    /// Queues the response head of `stream` (`fields` names already lower-case, `:status` first); with
    /// `hasBody`, the body follows as the delegate supplies it. Returns false if the stream is gone.
    func submitResponse(stream: Int32, fields: HTTP2FieldList, hasBody: Bool) -> Bool {
        var bytes = fields.bytes
        return bytes.withUnsafeMutableBufferPointer { storage in
            // Invariant: nghttp2_submit_response copies names and values (no NO_COPY flag) before returning.
            let base = storage.baseAddress!
            var nva = fields.fields.map { field in
                nghttp2_nv(
                    name: base + field.name.lowerBound, value: base + field.value.lowerBound,
                    namelen: field.name.count, valuelen: field.value.count,
                    flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            if hasBody {
                var provider = nghttp2_data_provider(
                    source: nghttp2_data_source(ptr: nil), read_callback: dataSourceRead)
                return nghttp2_submit_response(session, stream, &nva, nva.count, &provider) == 0
            }
            return nghttp2_submit_response(session, stream, &nva, nva.count, nil) == 0
        }
    }

    /// Lets a stream whose body waited (`responseDataAvailable` returned nil) produce DATA again.
    func resume(stream: Int32) {
        _ = nghttp2_session_resume_data(session, stream)
    }

    /// Resets `stream` with `code` (RST_STREAM).
    func reset(stream: Int32, code: HTTP2ErrorCode) {
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, code.rawValue)
    }

    /// Graceful end (RFC 9113 §6.8): GOAWAY naming the last stream we took, NO_ERROR; streams up to it finish.
    func submitGracefulGoaway() {
        let last = nghttp2_session_get_last_proc_stream_id(session)
        _ = nghttp2_submit_goaway(
            session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, HTTP2ErrorCode.noError.rawValue, nil, 0)
    }

    /// Ends the session with GOAWAY(`code`): nothing more is read; queued frames are still sent.
    func terminate(_ code: HTTP2ErrorCode) {
        _ = nghttp2_session_terminate_session(session, code.rawValue)
    }

    // MARK: - Callbacks

    fileprivate static func from(_ user: UnsafeMutableRawPointer?) -> NGHTTP2Session {
        // Invariant: user data is this session, set in init; nghttp2 calls back only during our calls into it.
        Unmanaged<NGHTTP2Session>.fromOpaque(user!).takeUnretainedValue()
    }

    private static func install(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_send_callback(callbacks) { _, data, length, _, user in
            let session = NGHTTP2Session.from(user)
            guard session.outbound.pendingCount < session.outboundLimit, let data else {
                return Int(NGHTTP2_ERR_WOULDBLOCK.rawValue)
            }
            // Invariant: `data` holds `length` bytes for the duration of this callback.
            session.stage(UnsafeRawBufferPointer(start: data, count: length))
            return length
        }
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, header, length, _, user in
            let session = NGHTTP2Session.from(user)
            guard let frame, let header else { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
            // Invariant: `header` is the 9-byte frame header (RFC 9113 §4.1), valid during this callback.
            session.stage(UnsafeRawBufferPointer(start: header, count: 9))
            session.delegate.appendResponseData(
                stream: frame.pointee.hd.stream_id, count: length, to: &session.outbound)
            return 0
        }
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks) { _, header, user in
            guard let hd = header?.pointee else { return 0 }
            NGHTTP2Session.from(user).delegate.frameBegan(
                type: hd.type, stream: hd.stream_id, length: hd.length, flags: hd.flags)
            return 0
        }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, user in
            guard let hd = frame?.pointee.hd, hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                frame?.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
            else { return 0 }
            NGHTTP2Session.from(user).delegate.requestBegan(stream: hd.stream_id)
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _, frame, name, nameLength, value, valueLength, _, user in
            guard let frame, let name, let value, frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
            // Invariant: nghttp2 keeps name and value alive for the duration of this callback.
            NGHTTP2Session.from(user).delegate.requestField(
                stream: frame.pointee.hd.stream_id,
                name: Span(_unsafeElements: UnsafeBufferPointer(start: name, count: nameLength)),
                value: Span(_unsafeElements: UnsafeBufferPointer(start: value, count: valueLength)))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            guard let hd = frame?.pointee.hd, hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                frame?.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
            else { return 0 }
            let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            NGHTTP2Session.from(user).delegate.requestHeadComplete(stream: hd.stream_id, endStream: endStream)
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, code, user in
            NGHTTP2Session.from(user).delegate.streamClosed(stream: stream, errorCode: code)
            return 0
        }
    }

    /// Copies `bytes` (a control frame or a DATA frame header) into the outbound staging block.
    private func stage(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count > 0 else { return }
        let staged = outbound.stage(reserving: count, pool: pool) { space in
            // Invariant: `space` has room for `count` bytes (reserved above).
            space.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: count)
            return count
        }
        if !staged { outbound.append(Bytes(bytes)) }
    }
}

/// The body source of every response: asks the connection how much is ready, and sends it without copying
/// (NGHTTP2_DATA_FLAG_NO_COPY: nghttp2 calls the send-data callback, which queues the bytes by reference).
private let dataSourceRead: nghttp2_data_source_read_callback = { _, stream, _, maximum, flags, _, user in
    guard let available = NGHTTP2Session.from(user).delegate.responseDataAvailable(stream: stream, maximum: maximum)
    else { return Int(NGHTTP2_ERR_DEFERRED.rawValue) }
    var value = NGHTTP2_DATA_FLAG_NO_COPY.rawValue
    if available.isLast { value |= NGHTTP2_DATA_FLAG_EOF.rawValue }
    flags?.pointee = value
    return available.count
}
