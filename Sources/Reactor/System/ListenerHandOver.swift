import CLinux
import Glibc

/// Passing listening sockets from one process to the next without closing them, so a new binary takes over
/// a port while the kernel keeps queueing connections: nothing is refused and nothing in an accept queue is
/// reset. The receiving side reads the systemd socket-activation variables (`SocketActivation`), so a
/// process started by systemd with `.socket` units and one started by a predecessor take the same path.
public enum ListenerHandOver {
    /// Why a hand-over could not be made or taken: the call, the descriptor or path, and errno.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ what: String, errno code: CInt) {
            description = "\(what): \(Syscall.errnoName(code)) (\(String(cString: strerror(code))))"
        }
    }

    /// A socket inherited at start, checked and made ready for a loop.
    public struct InheritedSocket: Sendable {
        /// The descriptor (non-blocking, close-on-exec).
        public let fd: CInt
        /// Its `LISTEN_FDNAMES` name (`unknown` when none was given).
        public let name: String
        /// The address it listens on.
        public let address: SocketAddress
    }

    /// Checks that each inherited descriptor is a listening TCP socket, then makes it non-blocking and
    /// close-on-exec (systemd hands them over blocking unless `NonBlocking=yes`). Throws on the first one that
    /// is not, naming it, so a wrong unit file fails at start rather than serving nothing.
    public static func prepare(_ activation: SocketActivation) throws(Failure) -> [InheritedSocket] {
        var prepared: [InheritedSocket] = []
        for socket in activation.sockets {
            var listening: CInt = 0
            var length = socklen_t(MemoryLayout<CInt>.size)
            if getsockopt(socket.fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 {
                throw Failure("getsockopt(SO_ACCEPTCONN) on inherited fd \(socket.fd)", errno: Syscall.errno)
            }
            guard listening == 1 else {
                throw Failure("inherited fd \(socket.fd) (\(socket.name)) is not a listening socket", errno: EINVAL)
            }
            let flags = clinux_fcntl_getfl(socket.fd)
            if flags < 0 || clinux_fcntl_setfl(socket.fd, flags | O_NONBLOCK) != 0
                || clinux_fcntl_setfd(socket.fd, FD_CLOEXEC) != 0
            {
                throw Failure("fcntl on inherited fd \(socket.fd)", errno: Syscall.errno)
            }
            let address: SocketAddress
            do {
                address = try Socket.localAddress(of: socket.fd)
            } catch {
                throw Failure("getsockname on inherited fd \(socket.fd)", errno: error.errno)
            }
            prepared.append(InheritedSocket(fd: socket.fd, name: socket.name, address: address))
        }
        return prepared
    }

    /// Starts `path` with `arguments` (argv[0] included) and `environment`, passing `sockets` as fds 3, 4, …
    /// with `LISTEN_FDS`, `LISTEN_FDNAMES` and `LISTEN_PID` set for the child (any inherited ones replaced).
    /// Returns the child's pid once it has executed `path`; throws if it could not (the child is reaped).
    public static func spawn(
        path: String, arguments: [String], environment: [String: String], sockets: [(fd: CInt, name: String)]
    ) throws(Failure) -> pid_t {
        var variables = environment.filter { !["LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PID"].contains($0.key) }
        variables["LISTEN_FDS"] = "\(sockets.count)"
        variables["LISTEN_FDNAMES"] = sockets.map(\.name).joined(separator: ":")
        let pidEntry = "LISTEN_PID=" + String(repeating: "0", count: 10)
        // C strings owned here until the child has executed (the parent's copies are freed after).
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [strdup(pidEntry), nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        guard argv.dropLast().allSatisfy({ $0 != nil }), envp.dropLast().allSatisfy({ $0 != nil }),
            let pidString = envp[envp.count - 2]
        else { throw Failure("strdup", errno: ENOMEM) }
        let slot = pidString + "LISTEN_PID=".utf8.count
        let fds = sockets.map(\.fd)
        let pid = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envpBuffer in
                fds.withUnsafeBufferPointer { fdBuffer in
                    clinux_spawn_with_listeners(
                        path, argvBuffer.baseAddress, envpBuffer.baseAddress, slot, fdBuffer.baseAddress,
                        CInt(fdBuffer.count))
                }
            }
        }
        if pid < 0 { throw Failure("starting \(path)", errno: Syscall.errno) }
        return pid
    }

}

/// This process's executable.
public enum Executable {
    /// Its path, as the kernel knows it now (`/proc/self/exe`). A server that re-executes itself reads it at
    /// start: once the file is replaced on disk, the link names the deleted inode.
    public static func path() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `sd_notify(3)`: tells systemd (through `NOTIFY_SOCKET`) that the service is ready, stopping, or has a new
/// main pid. Without `NOTIFY_SOCKET` every call does nothing, so the server calls it unconditionally.
public enum ServiceNotifier {
    /// Sends `state` (`READY=1`, `STOPPING=1`, `MAINPID=…`, newline-separated) when `socketPath` is set;
    /// returns false if the datagram could not be sent.
    @discardableResult
    public static func notify(_ state: String, socketPath: String?) -> Bool {
        guard let socketPath, !socketPath.isEmpty else { return true }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let fd = Glibc.socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Syscall.close(fd) }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            // Invariant: sockaddr_un is a sockaddr of `length` bytes.
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, CInt(MSG_NOSIGNAL), $0, length)
            }
        }
        return sent == bytes.count
    }
}
