import CLinux
import Glibc

/// Thin wrappers over the system calls the reactor makes. Each keeps its man-page name, retries `EINTR`,
/// reports `EAGAIN`/EOF as `IOOutcome`, and throws `SystemError` naming the call for anything else.
/// `EBADF`/`EFAULT` mean the caller passed a closed fd or a bad pointer: our bug, so they trap.
public enum Syscall {
    /// The symbolic name of an errno value (`ECONNRESET`), for log lines.
    public static func errnoName(_ code: CInt) -> String {
        switch code {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case EINTR: "EINTR"
        case EBADF: "EBADF"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EFAULT: "EFAULT"
        case EINVAL: "EINVAL"
        case ENFILE: "ENFILE"
        case EMFILE: "EMFILE"
        case EPIPE: "EPIPE"
        case EADDRINUSE: "EADDRINUSE"
        case EADDRNOTAVAIL: "EADDRNOTAVAIL"
        case ECONNABORTED: "ECONNABORTED"
        case ECONNRESET: "ECONNRESET"
        case ENOBUFS: "ENOBUFS"
        case ETIMEDOUT: "ETIMEDOUT"
        case ECONNREFUSED: "ECONNREFUSED"
        case ENOTCONN: "ENOTCONN"
        default: "errno"
        }
    }

    static var errno: CInt { clinux_errno() }

    @inline(never)
    static func programmingError(_ call: StaticString, fd: CInt, errno: CInt) -> Never {
        preconditionFailure("\(call) on fd \(fd): \(errnoName(errno)) (\(errno)) — a bug in the caller")
    }

    /// What a failed stream read or write means: `EAGAIN` is `.wouldBlock`; the peer's resets and vanished
    /// routes close that connection (`.closed`); `EBADF`/`EFAULT` are our bug; anything else is thrown.
    /// (`EINTR` is retried by the caller.)
    static func streamOutcome(of e: CInt, call: StaticString, fd: CInt) throws(SystemError) -> IOOutcome {
        switch e {
        case EAGAIN: return .wouldBlock
        case ECONNRESET, EPIPE, ETIMEDOUT, ENOTCONN, EHOSTUNREACH, ENETUNREACH: return .closed
        case EBADF, EFAULT: programmingError(call, fd: fd, errno: e)
        default: throw SystemError(call: call, errno: e)
        }
    }

    /// `read(2)` into `buffer`.
    public static func read(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOOutcome {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .done(n) }
            if n == 0 { return buffer.count == 0 ? .done(0) : .closed }
            let e = errno
            if e == EINTR { continue }
            return try streamOutcome(of: e, call: "read", fd: fd)
        }
    }

    /// `recv(2)` with `MSG_PEEK`: copies what is queued into `buffer` without consuming it (`.closed` at EOF).
    public static func peek(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOOutcome {
        while true {
            let n = Glibc.recv(fd, buffer.baseAddress, buffer.count, CInt(MSG_PEEK))
            if n > 0 { return .done(n) }
            if n == 0 { return .closed }
            let e = errno
            if e == EINTR { continue }
            return try streamOutcome(of: e, call: "recv", fd: fd)
        }
    }

    /// `writev(2)` of `count` iovecs.
    public static func writev(_ fd: CInt, _ iov: UnsafePointer<iovec>, _ count: Int) throws(SystemError) -> IOOutcome {
        while true {
            let n = Glibc.writev(fd, iov, CInt(count))
            if n >= 0 { return .done(n) }
            let e = errno
            if e == EINTR { continue }
            return try streamOutcome(of: e, call: "writev", fd: fd)
        }
    }

    /// `sendmsg(2)` of `count` iovecs with `flags` (`MSG_MORE`: more follows at once, so the kernel holds a
    /// partial segment back instead of sending it alone, as `TCP_CORK` would, for this call only).
    public static func sendmsg(_ fd: CInt, _ iov: UnsafeMutablePointer<iovec>, _ count: Int, flags: CInt)
        throws(SystemError) -> IOOutcome
    {
        var message = msghdr()
        message.msg_iov = iov
        message.msg_iovlen = count
        while true {
            let n = Glibc.sendmsg(fd, &message, flags | CInt(MSG_NOSIGNAL))
            if n >= 0 { return .done(n) }
            let e = errno
            if e == EINTR { continue }
            return try streamOutcome(of: e, call: "sendmsg", fd: fd)
        }
    }

    /// `sendfile(2)` of `count` bytes of `fileFD` from `offset` to socket `fd`.
    public static func sendfile(_ fd: CInt, _ fileFD: CInt, offset: Int, count: Int) throws(SystemError) -> IOOutcome {
        var off = off_t(offset)
        while true {
            let n = CLinux.sendfile(fd, fileFD, &off, count)
            if n > 0 { return .done(n) }
            if n == 0 { return count == 0 ? .done(0) : .closed }  // file shrank under us: stop this response
            let e = errno
            if e == EINTR { continue }
            return try streamOutcome(of: e, call: "sendfile", fd: fd)
        }
    }

    /// `pread(2)`, for streams that cannot `sendfile` (TLS).
    public static func pread(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer, offset: Int) throws(SystemError)
        -> Int
    {
        while true {
            let n = Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            throw SystemError(call: "pread", errno: e)
        }
    }

    /// `shutdown(2)` with `SHUT_WR`: sends our FIN, keeps reading possible. Failures (ENOTCONN: the peer is
    /// already gone) leave nothing to do.
    public static func shutdownWrite(_ fd: CInt) {
        _ = Glibc.shutdown(fd, CInt(SHUT_WR))
    }

    /// Bytes written to TCP socket `fd` that the peer has not acknowledged yet (`SIOCOUTQ`); nil on error.
    public static func unacknowledgedBytes(_ fd: CInt) -> Int? {
        let value = clinux_unacknowledged_bytes(fd)
        return value >= 0 ? Int(value) : nil
    }

    /// `close(2)`. Linux releases the fd even when close reports EINTR, so it is not retried.
    /// `fcntl(F_DUPFD_CLOEXEC)`: a second descriptor for the same open socket.
    public static func duplicate(_ fd: CInt) throws(SystemError) -> CInt {
        let copy = clinux_dup_cloexec(fd)
        if copy < 0 { throw SystemError(call: "fcntl(F_DUPFD_CLOEXEC)", errno: errno) }
        return copy
    }

    public static func close(_ fd: CInt) {
        _ = Glibc.close(fd)
    }

    /// `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`; returns nil on `EAGAIN`.
    public static func accept4(_ fd: CInt) throws(SystemError) -> (fd: CInt, peer: SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let client = withUnsafeMutablePointer(to: &storage) { pointer in
                // Invariant: sockaddr_storage is large enough for any address family accept4 returns.
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    clinux_accept4(fd, $0, &length, CInt(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
                }
            }
            if client >= 0 { return (client, SocketAddress(storage)) }
            let e = errno
            switch e {
            case EINTR, ECONNABORTED, EPROTO: continue  // the peer gave up before we took it: take the next
            case EAGAIN: return nil
            case EBADF, EFAULT: programmingError("accept4", fd: fd, errno: e)
            default: throw SystemError(call: "accept4", errno: e)
            }
        }
    }

    /// `setsockopt(2)` of an integer option.
    public static func setsockopt(_ fd: CInt, _ level: CInt, _ name: CInt, _ value: CInt) throws(SystemError) {
        var v = value
        if Glibc.setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<CInt>.size)) != 0 {
            throw SystemError(call: "setsockopt", errno: errno)
        }
    }
}

/// `epoll(7)` calls.
public enum Epoll {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    public static func create() throws(SystemError) -> CInt {
        let fd = epoll_create1(CInt(EPOLL_CLOEXEC))
        if fd < 0 { throw SystemError(call: "epoll_create1", errno: Syscall.errno) }
        return fd
    }

    /// `epoll_ctl(2)`; `op` is `EPOLL_CTL_ADD`, `_MOD` or `_DEL`.
    public static func ctl(_ epfd: CInt, _ op: CInt, _ fd: CInt, events: UInt32, data: UInt64) throws(SystemError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        if epoll_ctl(epfd, op, fd, &event) != 0 {
            throw SystemError(call: "epoll_ctl", errno: Syscall.errno)
        }
    }

    /// `epoll_wait(2)`; returns 0 on EINTR so the loop re-checks its state.
    public static func wait(_ epfd: CInt, _ events: UnsafeMutableBufferPointer<epoll_event>, timeoutMS: CInt)
        throws(SystemError) -> Int
    {
        let n = epoll_wait(epfd, events.baseAddress, CInt(events.count), timeoutMS)
        if n >= 0 { return Int(n) }
        let e = Syscall.errno
        if e == EINTR { return 0 }
        throw SystemError(call: "epoll_wait", errno: e)
    }
}
