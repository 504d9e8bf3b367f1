import Glibc
import HTTP
import Logging
import Reactor
import Site
import Synchronization

/// Builds the loops, binds the listeners, wires the site, and runs until a signal stops it.
///
/// Threads: one per loop (each with its own `SO_REUSEPORT` listener per port, so the kernel spreads
/// connections), the main thread joining them, and a watchdog thread that enforces the shutdown timeout and
/// exits the process when a loop stops turning (so `restart: always` brings the service back).
final class Server: Sendable {
    let settings: ServeSettings
    let logger: Logger
    let logs: LogSinks
    private let handles = Mutex<[LoopHandle]>([])
    private let shutdownStartedAt = Atomic<Int64>(0)
    private let loopsRunning = Atomic<Int>(0)

    init(settings: ServeSettings, logger: Logger, logs: LogSinks) {
        self.settings = settings
        self.logger = logger
        self.logs = logs
    }

    /// Per-loop state, kept in `EventLoop.context`.
    final class LoopState {
        var listeners: [Listener] = []
        var http: HTTPServer?
        var signals: SignalSource?
    }

    /// One bound port: its sockets (one per loop) and what to run on it.
    struct BoundPort: Sendable {
        let fds: [CInt]
        let port: UInt16
        let url: String
    }

    /// Runs the server; returns the process exit code.
    func run() -> Int32 {
        Signals.blockForSignalFD([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
        let bound: BoundPort
        do {
            bound = try bind(host: settings.host, port: settings.port, scheme: "http")
        } catch {
            logger.critical("cannot listen on \(settings.host):\(settings.port): \(error)")
            return 1
        }
        let staticFiles = StaticFiles(root: settings.staticPath)
        let router = Router(staticFiles: staticFiles, isHealthy: { [self] in self.loopsAreResponsive() })
        let accessLog =
            settings.accessLogEnabled
            ? AccessLog(format: settings.accessLogFormat, sinks: logs.access)
            : nil
        var threads: [PosixThread] = []
        for index in 0..<settings.threads {
            let fd = bound.fds[index]
            do {
                threads.append(
                    try PosixThread.spawn(name: "loop-\(index)") { [self] in
                        self.runLoop(index: index, listenFD: fd, port: bound.port, router: router, accessLog: accessLog)
                    })
            } catch {
                logger.critical("cannot start loop thread \(index): \(error)")
                exit(1)
            }
        }
        while loopsRunning.load(ordering: .acquiring) < settings.threads { usleep(1000) }
        logger.info(
            "listening",
            metadata: [
                "url": "\(bound.url)", "mode": "\(settings.mode.rawValue)",
                "loops": "\(settings.threads)",
            ])
        // Tests and scripts wait for this exact line on stdout.
        LogFile.standardOutput.write(Array("listening: \(bound.url)\n".utf8))
        let watchdog = try? PosixThread.spawn(name: "watchdog") { [self] in self.watch() }
        for thread in threads { thread.join() }
        watchdog?.join()  // it returns once no loop runs
        logs.flush()
        logger.info("stopped")
        return 0
    }

    private func bind(host: String, port: Int, scheme: String) throws(SystemError) -> BoundPort {
        guard let address = SocketAddress(ip: host, port: UInt16(port)) else {
            throw SystemError(call: "inet_pton", errno: EINVAL)
        }
        var fds: [CInt] = []
        var actualPort = UInt16(port)
        do {
            for _ in 0..<settings.threads {
                let (fd, p) = try Socket.listen(
                    on: SocketAddress(host: address.host, port: actualPort), reusePort: true)
                fds.append(fd)
                actualPort = p
            }
        } catch {
            for fd in fds { Syscall.close(fd) }
            throw error
        }
        let shownHost = if case .v6 = address.host { "[\(host)]" } else { host }
        return BoundPort(fds: fds, port: actualPort, url: "\(scheme)://\(shownHost):\(actualPort)")
    }

    private func runLoop(index: Int, listenFD: CInt, port: UInt16, router: Router, accessLog: AccessLog?) {
        let loop: EventLoop
        do {
            loop = try EventLoop(id: index, logger: logger)
        } catch {
            logger.critical("cannot create event loop \(index): \(error)")
            exit(1)
        }
        let state = LoopState()
        loop.context = state
        let http = HTTPServer(loop: loop, configuration: settings.http, responder: router, accessLog: accessLog)
        state.http = http
        do {
            state.listeners.append(
                try Listener(listeningFD: listenFD, port: port, loop: loop) { fd, peer in
                    do {
                        http.accept(try SocketStream(fd: fd, peer: peer, loop: loop))
                    } catch {
                        Syscall.close(fd)
                        loop.logUnexpected(error)
                    }
                })
            if index == 0 {
                state.signals = try SignalSource(signals: [SIGTERM, SIGINT, SIGHUP, SIGUSR1], loop: loop) {
                    [self] signal in self.handle(signal: signal)
                }
            }
        } catch {
            logger.critical("cannot start loop \(index): \(error)")
            exit(1)
        }
        handles.withLock { $0.append(loop.handle) }
        loopsRunning.add(1, ordering: .releasing)
        loop.run()
        state.signals?.close()
        for listener in state.listeners { listener.close() }
        loop.context = nil
        loopsRunning.subtract(1, ordering: .relaxed)
    }

    // MARK: - Signals

    private func handle(signal: CInt) {
        switch signal {
        case SIGTERM, SIGINT:
            beginShutdown(reason: signal == SIGTERM ? "SIGTERM" : "SIGINT")
        case SIGUSR1:
            logs.reopen(logger: logger)
        case SIGHUP:
            logger.info("SIGHUP: nothing to reload yet in this mode")
        default:
            break
        }
    }

    private func beginShutdown(reason: String) {
        let (exchanged, _) = shutdownStartedAt.compareExchange(
            expected: 0, desired: MonotonicClock.now(),
            ordering: .acquiringAndReleasing)
        guard exchanged else { return }
        logger.info(
            "\(reason): shutting down, finishing requests in progress",
            metadata: ["timeout_ms": "\(settings.shutdownTimeout)"])
        for handle in handles.withLock({ $0 }) {
            handle.execute { loop in
                guard let state = loop.context as? LoopState else { return }
                for listener in state.listeners { listener.close() }
                state.http?.beginShutdown { [unowned loop] in loop.handle.stop() }
            }
        }
    }

    // MARK: - Watchdog and health

    /// True when every loop has turned in the last five seconds.
    func loopsAreResponsive() -> Bool {
        let now = MonotonicClock.now()
        return handles.withLock { $0.allSatisfy { now - $0.lastHeartbeat < 5000 } }
    }

    private func watch() {
        var forced = false
        while loopsRunning.load(ordering: .relaxed) > 0 {
            usleep(250_000)
            let now = MonotonicClock.now()
            let started = shutdownStartedAt.load(ordering: .acquiring)
            if started > 0 {
                if !forced && now - started > settings.shutdownTimeout {
                    forced = true
                    logger.warning("shutdown timeout passed: closing the connections still open")
                    for handle in handles.withLock({ $0 }) {
                        handle.execute { loop in
                            (loop.context as? LoopState)?.http?.closeAll()
                            loop.handle.stop()
                        }
                    }
                }
                continue
            }
            guard settings.watchdogTimeout > 0 else { continue }
            for handle in handles.withLock({ $0 }) where now - handle.lastHeartbeat > settings.watchdogTimeout {
                logger.critical(
                    "watchdog: loop \(handle.id) has not turned for \(now - handle.lastHeartbeat) ms; exiting so the supervisor restarts the service"
                )
                logs.flush()
                _exit(70)
            }
        }
    }
}
