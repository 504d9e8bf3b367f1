internal import COpenSSL

/// OpenSSL's per-thread error queue. Cleared before every call whose failure we report, drained into
/// `TLSError` after, so a log line carries OpenSSL's reason and never a stale one from an earlier call.
enum OpenSSLErrorQueue {
    /// Forgets whatever earlier calls on this thread left behind (`ERR_clear_error`).
    static func clear() {
        // ERR_clear_error walks all 16 slots and frees each one's data even when the queue is empty: ~3% of a
        // keep-alive request's CPU under perf. Peeking first costs one thread-local lookup.
        if ERR_peek_error() != 0 { ERR_clear_error() }
    }

    /// Empties the queue into strings such as `error:0A00009C:SSL routines::http request`, oldest first.
    static func drain() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { return reasons }
            let text = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
                // Invariant: ERR_error_string_n writes at most `count` bytes including the terminating NUL.
                ERR_error_string_n(code, buffer.baseAddress, buffer.count)
                return String(cString: buffer.baseAddress!)
            }
            reasons.append(text)
        }
    }

    /// A `TLSError` of `kind` with the drained queue, or `fallback` when OpenSSL queued nothing.
    static func error(_ kind: TLSError.Kind, context: String, fallback: String) -> TLSError {
        let reasons = drain()
        return TLSError(kind, context: context, reasons: reasons.isEmpty ? [fallback] : reasons)
    }
}
