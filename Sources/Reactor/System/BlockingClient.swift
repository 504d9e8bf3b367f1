import CLinux
import Glibc

/// A one-shot blocking TCP exchange for command-line probes (`mywebsite healthcheck`): connect, send, read
/// until the peer closes, all within a timeout. Never used on a loop thread.
public enum BlockingClient {
    /// Sends `bytes` to `address` and returns everything received until EOF (at most 64 KiB).
    public static func exchange(with address: SocketAddress, send bytes: [UInt8], timeoutMilliseconds: Int)
        throws(SystemError) -> [UInt8]
    {
        let family: CInt = if case .v6 = address.host { AF_INET6 } else { AF_INET }
        let fd = socket(family, CInt(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError(call: "socket", errno: Syscall.errno) }
        defer { Syscall.close(fd) }
        var tv = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var storage = address.storage
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        let rc = withUnsafePointer(to: &storage) { pointer in
            // Invariant: storage holds a sockaddr of `family`.
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        if rc != 0 { throw SystemError(call: "connect", errno: Syscall.errno) }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + sent, $0.count - sent) }
            if n <= 0 { throw SystemError(call: "write", errno: Syscall.errno) }
            sent += n
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while reply.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if Syscall.errno == EINTR { continue }
                throw SystemError(call: "read", errno: Syscall.errno)
            }
            reply.append(contentsOf: chunk[0..<n])
        }
        return reply
    }
}
