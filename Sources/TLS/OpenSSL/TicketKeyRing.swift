internal import COpenSSL
import Glibc
import Reactor

/// The keys that encrypt session tickets (RFC 5077 layout, AES-256-CBC + HMAC-SHA256), shared by every
/// loop and every context built from one configuration reload to the next.
///
/// New tickets use the current key; tickets under the previous key are still accepted (and the client is
/// given a fresh ticket), so a rotation never costs a resumption. Call `rotate()` from a timer, no more often
/// than the session lifetime. Keys live only in memory: a restart forces one full handshake per client.
public final class TicketKeyRing: Sendable {
    struct Key: Sendable {
        /// Sent in clear in the ticket so we can find the key again (16 bytes).
        let name: [UInt8]
        /// AES-256 key (32 bytes).
        let cipherKey: [UInt8]
        /// HMAC-SHA256 key (32 bytes).
        let macKey: [UInt8]

        static func random() -> Key {
            Key(name: randomBytes(16), cipherKey: randomBytes(32), macKey: randomBytes(32))
        }
    }

    // Protects both keys; held only to copy a key out (array copies are reference-counted, no allocation).
    private let keys: Locked<(current: Key, previous: Key?)>

    /// Makes a ring with one fresh random key.
    public init() {
        keys = Locked((Key.random(), nil))
    }

    /// Makes a fresh current key; the old current becomes the previous one, the old previous is forgotten.
    public func rotate() {
        let fresh = Key.random()
        keys.withLock { $0 = (fresh, $0.current) }
    }

    /// The key new tickets are sealed with.
    var current: Key { keys.withLock { $0.current } }

    /// The key named `name` (16 bytes) and whether it is the current one, or nil when it is unknown or retired.
    func key(named name: UnsafePointer<UInt8>) -> (key: Key, isCurrent: Bool)? {
        let (current, previous) = keys.withLock { ($0.current, $0.previous) }
        if Self.matches(current, name) { return (current, true) }
        if let previous, Self.matches(previous, name) { return (previous, false) }
        return nil
    }

    private static func matches(_ key: Key, _ name: UnsafePointer<UInt8>) -> Bool {
        // Invariant: key names are 16 bytes, and OpenSSL's ticket key-name buffer is 16 bytes.
        key.name.withUnsafeBufferPointer { memcmp($0.baseAddress!, name, 16) == 0 }
    }
}

/// `count` bytes from OpenSSL's CSPRNG.
func randomBytes(_ count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        // Invariant: `buffer` has room for `count` bytes, all written by RAND_bytes before `initialized` is set.
        // RAND_bytes fails only when the CSPRNG cannot be seeded; serving tickets with weak keys is worse
        // than stopping, and it cannot happen on a Linux with getrandom(2).
        guard RAND_bytes(buffer.baseAddress, CInt(count)) == 1 else {
            preconditionFailure("RAND_bytes(\(count)) failed: \(OpenSSLErrorQueue.drain())")
        }
        initialized = count
    }
}
