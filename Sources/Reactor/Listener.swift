import CLinux
import Glibc
import Logging

/// A listening socket on a loop: accepts until `EAGAIN`, hands each connection to `onAccept`.
///
/// When the process runs out of descriptors (`EMFILE`/`ENFILE`) or memory, accepting again at once would
/// spin on a level-triggered socket that stays readable. Like nginx, the listener steps back: it stops
/// watching the socket for `backoff` ms, logs once, then tries again. Pending connections wait in the backlog.
public final class Listener: EventHandler {
    /// The listening fd; -1 once closed.
    public private(set) var fd: CInt
    /// The port bound.
    public let port: UInt16
    private unowned let loop: EventLoop
    private let onAccept: (CInt, SocketAddress) -> Void
    private let backoff: Int64
    private var watching = true
    private var failures = 0
    /// Called for each failed `accept4` (metrics: EMFILE and kin), on the loop.
    public var onAcceptError: ((SystemError) -> Void)?

    /// Opens a listener on `address` (with `SO_REUSEPORT` when `reusePort`) and registers it on `loop`.
    public convenience init(
        address: SocketAddress, reusePort: Bool, loop: EventLoop, backoffMilliseconds: Int64 = 100,
        onAccept: @escaping (CInt, SocketAddress) -> Void
    ) throws(SystemError) {
        let (fd, port) = try Socket.listen(on: address, reusePort: reusePort)
        try self.init(
            listeningFD: fd, port: port, loop: loop, backoffMilliseconds: backoffMilliseconds,
            onAccept: onAccept)
    }

    /// Takes over a socket already listening (opened with `Socket.listen` on another thread) and registers it
    /// on `loop`. On failure the socket is closed.
    public init(
        listeningFD fd: CInt, port: UInt16, loop: EventLoop, backoffMilliseconds: Int64 = 100,
        onAccept: @escaping (CInt, SocketAddress) -> Void
    ) throws(SystemError) {
        self.fd = fd
        self.port = port
        self.loop = loop
        self.onAccept = onAccept
        self.backoff = backoffMilliseconds
        super.init()
        do {
            try loop.register(fd: fd, handler: self, events: CLINUX_EPOLLIN)
        } catch {
            Syscall.close(fd)
            throw error
        }
    }

    public override func handleEvents(_ events: UInt32) {
        // At most 256 per wake-up so one busy listener cannot starve the loop's connections; the socket is
        // level-triggered, so whatever is left wakes us again at once.
        for _ in 0..<256 {
            guard fd >= 0 else { return }
            do {
                guard let (client, peer) = try Syscall.accept4(fd) else { return }
                onAccept(client, peer)
            } catch let error {
                onAcceptError?(error)
                switch error.errno {
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    pause(error)
                default:
                    loop.logUnexpected(error)
                }
                return
            }
        }
    }

    private func pause(_ error: SystemError) {
        failures += 1
        if failures == 1 || failures % 100 == 0 {
            loop.logger.error(
                "accept paused for \(backoff) ms: \(error) (\(failures) times)",
                metadata: ["port": "\(port)"])
        }
        loop.deregister(fd: fd, handler: self)
        watching = false
        loop.schedule(afterMilliseconds: backoff) { [weak self] in
            guard let self, self.fd >= 0, !self.watching else { return }
            do {
                try self.loop.register(fd: self.fd, handler: self, events: CLINUX_EPOLLIN)
                self.watching = true
            } catch {
                self.loop.logger.critical("cannot resume accepting on port \(self.port): \(error)")
            }
        }
    }

    /// Stops accepting and closes the socket; connections already accepted are not touched.
    public func close() {
        guard fd >= 0 else { return }
        if watching { loop.deregister(fd: fd, handler: self) }
        Syscall.close(fd)
        fd = -1
    }
}
