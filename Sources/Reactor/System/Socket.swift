import CLinux
import Glibc

/// Creating listening sockets.
public enum Socket {
    /// Opens a non-blocking TCP listening socket on `address`.
    ///
    /// `reusePort` sets `SO_REUSEPORT`, so that each loop can own a socket on the same port and the kernel
    /// spreads new connections between them. Returns the fd and the port actually bound (useful with port 0).
    public static func listen(on address: SocketAddress, reusePort: Bool, backlog: CInt = 4096)
        throws(SystemError) -> (fd: CInt, port: UInt16)
    {
        let family: CInt
        switch address.host {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .other: throw SystemError(call: "socket", errno: EAFNOSUPPORT)
        }
        let fd = Glibc.socket(family, CInt(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError(call: "socket", errno: Syscall.errno) }
        do {
            try Syscall.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { try Syscall.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            if family == AF_INET6 { try Syscall.setsockopt(fd, CInt(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            var storage = address.storage
            let rc = withUnsafePointer(to: &storage) { pointer in
                // Invariant: `storage` holds a sockaddr_in or sockaddr_in6 matching `family`.
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(
                        fd, $0,
                        socklen_t(
                            family == AF_INET
                                ? MemoryLayout<sockaddr_in>.size
                                : MemoryLayout<sockaddr_in6>.size))
                }
            }
            if rc != 0 { throw SystemError(call: "bind", errno: Syscall.errno) }
            if Glibc.listen(fd, backlog) != 0 { throw SystemError(call: "listen", errno: Syscall.errno) }
            return (fd, try localAddress(of: fd).port)
        } catch let error as SystemError {
            Syscall.close(fd)
            throw error
        } catch {
            preconditionFailure("unreachable: \(error)")
        }
    }

    /// `getsockname(2)`.
    public static func localAddress(of fd: CInt) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { pointer in
            // Invariant: sockaddr_storage is large enough for any family.
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if rc != 0 { throw SystemError(call: "getsockname", errno: Syscall.errno) }
        return SocketAddress(storage)
    }

    /// Sets `TCP_NODELAY`: responses are written whole, so Nagle only adds latency.
    public static func setNoDelay(_ fd: CInt) {
        try? Syscall.setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, 1)
    }
}

extension SocketAddress {
    var storage: sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            switch host {
            case .v4(let a):
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port.bigEndian
                sin.sin_addr = in_addr(s_addr: a.bigEndian)
                raw.storeBytes(of: sin, as: sockaddr_in.self)
            case .v6(let hi, let lo):
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port.bigEndian
                withUnsafeMutableBytes(of: &sin6.sin6_addr) { a in
                    a.storeBytes(of: hi.bigEndian, toByteOffset: 0, as: UInt64.self)
                    a.storeBytes(of: lo.bigEndian, toByteOffset: 8, as: UInt64.self)
                }
                raw.storeBytes(of: sin6, as: sockaddr_in6.self)
            case .other:
                break
            }
        }
        return storage
    }
}
