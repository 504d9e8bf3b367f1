import CLinux
import Glibc

/// A joinable POSIX thread. The reactor avoids Foundation's `Thread` to keep the binary small.
public final class PosixThread: @unchecked Sendable {
    // `thread` is written once in `spawn` before the value is shared, then only read by `join`.
    private var thread = pthread_t()

    private final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(_ name: String, _ body: @escaping @Sendable () -> Void) {
            self.name = String(name.utf8.prefix(15))!
            self.body = body
        }
    }

    private init() {}

    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept by the kernel).
    public static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) -> PosixThread {
        let t = PosixThread()
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        let rc = pthread_create(
            &t.thread, nil,
            { raw in
                // Invariant: `raw` is the retained Box passed below; it is released exactly once, here.
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                _ = clinux_pthread_setname(box.name)
                box.body()
                return nil
            }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", errno: rc)
        }
        return t
    }

    /// Waits for the thread to finish.
    public func join() {
        _ = pthread_join(thread, nil)
    }
}

/// Process-wide signal set-up: block the signals we handle in every thread and read them from a signalfd.
public enum Signals {
    /// Ignores `SIGPIPE` (a write to a reset socket must return `EPIPE`, not kill the process) and blocks
    /// `signals` in the calling thread and every thread it starts later. Call first thing in `main`.
    public static func blockForSignalFD(_ signals: [CInt]) {
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        _ = clinux_sigemptyset(&set)
        for s in signals { _ = clinux_sigaddset(&set, s) }
        _ = pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Ignores `SIGPIPE` only (tests, tools).
    public static func ignorePipe() {
        signal(SIGPIPE, SIG_IGN)
    }
}

/// Delivers blocked signals to a loop through `signalfd(2)`, so handlers run as ordinary loop code.
public final class SignalSource: EventHandler {
    private let fd: CInt
    private unowned let loop: EventLoop
    private let onSignal: (CInt) -> Void

    /// Watches `signals` (already blocked with `Signals.blockForSignalFD`) on `loop`.
    public init(signals: [CInt], loop: EventLoop, onSignal: @escaping (CInt) -> Void) throws(SystemError) {
        var set = sigset_t()
        _ = clinux_sigemptyset(&set)
        for s in signals { _ = clinux_sigaddset(&set, s) }
        fd = signalfd(-1, &set, CInt(SFD_NONBLOCK | SFD_CLOEXEC))
        if fd < 0 { throw SystemError(call: "signalfd", errno: Syscall.errno) }
        self.loop = loop
        self.onSignal = onSignal
        super.init()
        try loop.register(fd: fd, handler: self, events: CLINUX_EPOLLIN)
    }

    public override func handleEvents(_ events: UInt32) {
        var info = signalfd_siginfo()
        while Glibc.read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            onSignal(CInt(info.ssi_signo))
        }
    }

    /// Stops watching.
    public func close() {
        loop.deregister(fd: fd, handler: self)
        Syscall.close(fd)
    }
}
