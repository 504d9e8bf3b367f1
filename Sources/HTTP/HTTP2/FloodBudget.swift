/// How many frames that ask for no response a connection may send (RFC 9113 §10.5: "an endpoint that doesn't
/// monitor this behavior exposes itself to a risk of denial-of-service attack").
///
/// A token bucket: PING, SETTINGS, WINDOW_UPDATE, PRIORITY, RST_STREAM, empty DATA and unknown frame types
/// each cost a token; tokens come back with time, with each request, and with the response bytes we send
/// (a client reading a large file sends WINDOW_UPDATEs in proportion). A browser never comes near the limit;
/// a flood of any of those frames empties the bucket within a second. nghttp2's own limits stay in force too
/// (queued ACKs, SETTINGS entries, CONTINUATION count, reset rate).
struct FloodBudget {
    /// Tokens when full.
    static let capacity = 2000
    /// Tokens regained per second.
    static let perSecond = 100
    /// Tokens regained per request.
    static let perRequest = 4
    /// Response bytes sent per regained token.
    static let bytesPerToken = 16 * 1024

    private(set) var tokens = capacity
    private var refilledAt: Int64
    private var bytesCredit = 0

    /// A full bucket at `now` (loop milliseconds).
    init(now: Int64) {
        refilledAt = now
    }

    /// Counts one received frame header; false when the bucket is empty (the peer is flooding).
    mutating func frameArrived(type: UInt8, length: Int, flags: UInt8, now: Int64) -> Bool {
        let endStream: UInt8 = 0x1
        switch type {
        case 0x0 where length > 0 || flags & endStream != 0: return true  // DATA with content
        case 0x1: return true  // HEADERS: a request, paid for by its response
        case 0x9 where length > 0: return true  // CONTINUATION with content (nghttp2 caps how many)
        case 0x7: return true  // GOAWAY: the session ends
        default: break
        }
        refill(now: now)
        tokens -= 1
        return tokens >= 0
    }

    /// A complete request head arrived.
    mutating func requestArrived() {
        tokens = min(Self.capacity, tokens + Self.perRequest)
    }

    /// `count` response body bytes were queued.
    mutating func dataSent(_ count: Int) {
        bytesCredit += count
        guard bytesCredit >= Self.bytesPerToken else { return }
        tokens = min(Self.capacity, tokens + bytesCredit / Self.bytesPerToken)
        bytesCredit %= Self.bytesPerToken
    }

    private mutating func refill(now: Int64) {
        let elapsed = now - refilledAt
        guard elapsed >= 10 else { return }
        tokens = min(Self.capacity, tokens + Int(elapsed) * Self.perSecond / 1000)
        refilledAt = now
    }
}
