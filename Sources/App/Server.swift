import ACME
import CoreMetrics
import Glibc
import HTTP
import Logging
import Reactor
import Site
import Synchronization
import TLS

/// Builds the loops, binds the listeners, wires the site, and runs until a signal stops it.
///
/// Threads: one per loop (each with its own `SO_REUSEPORT` listener per port, so the kernel spreads
/// connections), the main thread joining them, and a watchdog thread that enforces the shutdown timeout and
/// exits the process when a loop stops turning (so `restart: always` brings the service back).
final class Server: Sendable {
    let settings: ServeSettings
    let logger: Logger
    let logs: LogSinks
    private let handles = Locked<[LoopHandle]>([])
    let shutdownStartedAt = Atomic<Int64>(0)
    private let loopsRunning = Atomic<Int>(0)
    private let reloadRequested = Atomic<Bool>(false)
    private let tlsState = Locked<TLSState?>(nil)
    /// The site, for reloads from the watchdog thread.
    private let site = Locked<SiteService?>(nil)
    /// The ACME client, when domains are named; started on its own thread once the listeners are up.
    private let acme = Locked<CertificateRenewer?>(nil)
    /// Pending HTTP-01 challenges, read by the plain listener's loops.
    private let challengeTokens = ChallengeTokens()
    /// Pending TLS-ALPN-01 challenges, read by the HTTPS handshakes.
    private let alpnChallenges = ALPNChallenges()
    /// Listening sockets inherited at start (systemd socket activation or a predecessor's hand-over) that no
    /// endpoint has taken yet.
    let inherited = Locked<[ListenerHandOver.InheritedSocket]>([])
    /// The state of binary upgrades (`SIGUSR2`), read and written by the watchdog thread.
    let upgrade = Locked(UpgradeState())
    let upgradeRequested = Atomic<Bool>(false)

    /// What direct-TLS reloads: the certificate files, the context holder every listener reads, the files'
    /// last signature, and when the ticket keys last rotated.
    struct TLSState {
        let source: CertificateSource
        let holder: TLSContextHolder
        var signature: [Int]
        var lastRotation = MonotonicClock.now()
    }

    /// `MYWEBSITE_FAULT_STALL_LOOP_AFTER=SECONDS`: stall loop 0 after that long (tests of the watchdog and of a
    /// container's restart policy). Not a setting: nothing else reads it.
    private let faultStallSeconds = ProcessEnvironment.all()["MYWEBSITE_FAULT_STALL_LOOP_AFTER"].flatMap(Double.init)

    /// The connection caps shared by every loop (nil: none).
    let connectionLimiter: ConnectionLimiter?
    /// The Prometheus registry and process gauges, when `--metrics-port` is set.
    let metrics: ProcessMetrics?

    init(settings: ServeSettings, logger: Logger, logs: LogSinks) {
        self.settings = settings
        self.logger = logger
        self.logs = logs
        connectionLimiter = settings.limits.connectionLimiter
        metrics = settings.limits.metricsPort == nil ? nil : ProcessMetrics()
    }

    /// Per-loop state, kept in `EventLoop.context`.
    final class LoopState {
        var listeners: [Listener] = []
        var servers: [HTTPServer] = []
        var signals: SignalSource?
        /// When a refused connection was last logged (monotonic ms).
        var lastRefusalLog: Int64 = -1_000_000
    }

    /// One listening port: its sockets (for each loop, the ones it accepts on), what answers on it, and
    /// whether it speaks TLS. `name` labels its sockets in a hand-over (`LISTEN_FDNAMES`).
    struct Endpoint: Sendable {
        let name: String
        let fds: [[CInt]]
        let port: UInt16
        let url: String
        let responder: any Responder
        let http: HTTPServerConfiguration
        let tls: TLSContextHolder?
    }

    /// Runs the server; returns the process exit code.
    func run() -> Int32 {
        Signals.blockForSignalFD(Self.handledSignals)
        let environment = ProcessEnvironment.all()
        do {
            try adoptInheritedSockets(environment: environment)
        } catch {
            logger.critical("\(error)")
            return 64
        }
        let staticFiles = StaticFiles(root: settings.staticPath, options: .init(replicas: settings.threads))
        let site = SiteService(
            configuration: SiteConfiguration(
                languages: settings.languages, templatesPath: settings.templatesPath, dataPath: settings.dataPath,
                databaseName: settings.databaseName, siteURL: settings.siteURL, loops: settings.threads),
            staticFiles: staticFiles, isHealthy: { [self] in self.loopsAreResponsive() }, logger: logger)
        self.site.withLock { $0 = site }
        let router = site
        let endpoints: [Endpoint]
        let metricsEndpoint: Endpoint?
        do {
            endpoints = try makeEndpoints(router: router)
            metricsEndpoint = try makeMetricsEndpoint()
        } catch {
            logger.critical("\(error)")
            return error is ConfigurationError ? 64 : 1
        }
        closeUnclaimedInheritedSockets()
        upgrade.withLock { $0.sockets = endpoints.flatMap(\.handOver) + (metricsEndpoint?.handOver ?? []) }
        let accessLog =
            settings.accessLogEnabled ? AccessLog(format: settings.accessLogFormat, sinks: logs.access) : nil
        var threads: [PosixThread] = []
        for index in 0..<settings.threads {
            do {
                threads.append(
                    try PosixThread.spawn(name: "loop-\(index)") { [self] in
                        self.runLoop(
                            index: index, endpoints: endpoints, metricsEndpoint: metricsEndpoint, accessLog: accessLog)
                    })
            } catch {
                logger.critical("cannot start loop thread \(index): \(error)")
                exit(1)
            }
        }
        while loopsRunning.load(ordering: .acquiring) < settings.threads { usleep(1000) }
        publishMetrics()  // before the listening lines: a first scrape already has every gauge
        if let metricsEndpoint {
            logger.info("serving metrics", metadata: ["url": "\(metricsEndpoint.url)/metrics"])
            LogFile.standardOutput.write(Array("metrics: \(metricsEndpoint.url)/metrics\n".utf8))
        }
        for endpoint in endpoints {
            logger.info(
                "listening",
                metadata: [
                    "url": "\(endpoint.url)", "mode": "\(settings.mode.rawValue)", "loops": "\(settings.threads)",
                ])
            // Tests and scripts wait for these exact lines on stdout.
            LogFile.standardOutput.write(Array("listening: \(endpoint.url)\n".utf8))
        }
        announceReadiness(environment: environment)
        let watchdog = try? PosixThread.spawn(name: "watchdog") { [self] in self.watch() }
        // One ACME thread per process, whatever the number of loops; it needs the listeners (challenges).
        var acmeThread: PosixThread?
        if let renewer = acme.withLock({ $0 }) {
            do {
                acmeThread = try PosixThread.spawn(name: "acme") { renewer.run() }
            } catch {
                logger.error("cannot start the ACME thread, no certificate will be ordered: \(error)")
            }
        }
        for thread in threads { thread.join() }
        accessLog?.waitUntilWritten()  // each loop handed its last lines over as it drained
        watchdog?.join()  // it returns once no loop runs
        if let renewer = acme.withLock({ $0 }), let acmeThread {
            renewer.stop()
            if renewer.waitUntilFinished(seconds: 5) {
                acmeThread.join()
            } else {
                logger.warning("ACME: an order was still in flight at shutdown; the next start orders again")
            }
        }
        logger.info("stopped")
        return 0
    }

    /// Binds the ports of the mode: one plain port behind a proxy; HTTPS plus the redirecting plain port with
    /// direct TLS.
    private func makeEndpoints(router: SiteService) throws -> [Endpoint] {
        switch settings.mode {
        case .behindProxy:
            let (fds, port) = try bind(port: settings.port, name: "http")
            return [
                Endpoint(
                    name: "http", fds: fds, port: port, url: url("http", port), responder: router,
                    http: settings.http, tls: nil)
            ]
        case .directTLS:
            let stateDirectory = settings.configPath ?? settings.dataPath
            let acme = settings.tls.acme.map { acme in
                CertificateRenewer(
                    options: ACMEOptions(
                        domains: acme.domains, directoryURL: acme.directory, email: acme.email,
                        caBundle: acme.caBundle, challengeTypes: acme.challenges,
                        stateDirectory: stateDirectory + "/acme"),
                    responder: ListenerChallengeResponder(tokens: challengeTokens, alpn: alpnChallenges),
                    logger: logger)
            }
            let certificates = try CertificateSource(
                settings: settings.tls, stateDirectory: stateDirectory,
                acmePair: acme.map {
                    .init(certificateChainPath: $0.files.certificatePath, privateKeyPath: $0.files.keyPath)
                }, logger: logger)
            let holder: TLSContextHolder
            do {
                holder = TLSContextHolder(
                    try TLSContext(
                        configuration: certificates.configuration, challenges: acme == nil ? nil : alpnChallenges))
            } catch {
                throw ConfigurationError("direct-tls: \(error)")
            }
            tlsState.withLock {
                $0 = TLSState(source: certificates, holder: holder, signature: certificates.signature())
            }
            var https = settings.http
            let maxAge = settings.tls.hstsMaxAge ?? (certificates.isSelfSigned ? 0 : 31_536_000)
            if maxAge > 0 { https.secureHeaders = [("Strict-Transport-Security", "max-age=\(maxAge)")] }
            let (fds, port) = try bind(port: settings.tls.httpsPort, name: "https")
            var endpoints = [
                Endpoint(
                    name: "https", fds: fds, port: port, url: url("https", port), responder: router, http: https,
                    tls: holder)
            ]
            if let httpPort = settings.tls.httpPort {
                let (plainFDs, plainPort) = try bind(port: httpPort, name: "http")
                let plain: any Responder =
                    settings.tls.httpServesSite
                    ? router
                    : HTTPSRedirector(
                        httpsPort: Int(port), fallbackHost: settings.host == "0.0.0.0" ? "localhost" : settings.host,
                        passThrough: ["/healthz": router])
                let responder: any Responder =
                    acme == nil ? plain : ACMEChallengeAnswerer(tokens: challengeTokens, next: plain)
                endpoints.append(
                    Endpoint(
                        name: "http", fds: plainFDs, port: plainPort, url: url("http", plainPort), responder: responder,
                        http: settings.http, tls: nil))
            }
            if let acme { self.acme.withLock { $0 = acme } }
            return endpoints
        }
    }

    /// The `/metrics` listener: one socket, served by loop 0, on `--metrics-host` (default `--host`).
    private func makeMetricsEndpoint() throws -> Endpoint? {
        guard let metrics, let port = settings.limits.metricsPort else { return nil }
        metrics.bootstrap()
        let host = settings.limits.metricsHost ?? settings.host
        guard let address = SocketAddress(ip: host, port: UInt16(port)) else {
            throw ConfigurationError("--metrics-host '\(host)' is not a numeric address")
        }
        let fds: [CInt]
        let actualPort: UInt16
        if let taken = takeInherited(name: "metrics", port: port) {
            (fds, actualPort) = (taken.map(\.fd), taken[0].address.port)
        } else {
            do {
                let (fd, bound) = try Socket.listen(on: address, reusePort: true)
                (fds, actualPort) = ([fd], bound)
            } catch {
                throw ListenError(description: "cannot listen on \(host):\(port) for /metrics: \(error)")
            }
        }
        return Endpoint(
            name: "metrics", fds: [fds], port: actualPort, url: url("http", actualPort, host: host),
            responder: MetricsResponder(metrics: metrics), http: settings.http, tls: nil)
    }

    private func url(_ scheme: String, _ port: UInt16, host: String? = nil) -> String {
        let name = host ?? settings.host
        let host = name.contains(":") ? "[\(name)]" : name
        return "\(scheme)://\(host):\(port)"
    }

    /// One `SO_REUSEPORT` socket per loop on `port` (0: the first socket picks a free port, the others join
    /// it), or the inherited sockets named `name` when there are some.
    private func bind(port: Int, name: String) throws -> (fds: [[CInt]], port: UInt16) {
        if let taken = takeInherited(name: name, port: port) {
            return (try distribute(taken, name: name), taken[0].address.port)
        }
        guard let address = SocketAddress(ip: settings.host, port: UInt16(port)) else {
            throw ConfigurationError("--host '\(settings.host)' is not a numeric address")
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
            let hint =
                error.errno == EACCES
                ? " (ports below 1024 need CAP_NET_BIND_SERVICE or net.ipv4.ip_unprivileged_port_start; see README)"
                : ""
            throw ListenError(description: "cannot listen on \(settings.host):\(port): \(error)\(hint)")
        }
        return (fds.map { [$0] }, actualPort)
    }

    struct ListenError: Error, CustomStringConvertible {
        let description: String
    }

    private func runLoop(index: Int, endpoints: [Endpoint], metricsEndpoint: Endpoint?, accessLog: AccessLog?) {
        let loop: EventLoop
        do {
            loop = try EventLoop(id: index, logger: logger)
        } catch {
            logger.critical("cannot create event loop \(index): \(error)")
            exit(1)
        }
        let state = LoopState()
        loop.context = state
        do {
            for endpoint in endpoints {
                let http = HTTPServer(
                    loop: loop, configuration: endpoint.http, responder: endpoint.responder, accessLog: accessLog)
                state.servers.append(http)
                let accepts = Counter(
                    label: "mywebsite_accepts_total", dimensions: [("listener", endpoint.tls == nil ? "http" : "https")]
                )
                for fd in endpoint.fds[index] {
                    let listener = try Listener(listeningFD: fd, port: endpoint.port, loop: loop) {
                        [self] fd, peer in
                        accepts.increment()
                        self.serveAccepted(fd: fd, peer: peer, endpoint: endpoint, http: http, loop: loop)
                    }
                    if let metrics { listener.onAcceptError = { metrics.acceptFailed($0) } }
                    state.listeners.append(listener)
                }
            }
            if index == 0, let metricsEndpoint {
                var configuration = settings.http
                configuration.countsRequests = false
                configuration.rateLimiter = nil
                let server = HTTPServer(
                    loop: loop, configuration: configuration, responder: metricsEndpoint.responder, accessLog: nil)
                state.servers.append(server)
                for fd in metricsEndpoint.fds[0] {
                    state.listeners.append(
                        try Listener(listeningFD: fd, port: metricsEndpoint.port, loop: loop) { fd, peer in
                            do {
                                server.accept(try SocketStream(fd: fd, peer: peer, loop: loop))
                            } catch {
                                Syscall.close(fd)
                                loop.logUnexpected(error)
                            }
                        })
                }
            }
            if index == 0 {
                state.signals = try SignalSource(signals: Self.handledSignals, loop: loop) {
                    [self] signal in self.handle(signal: signal)
                }
            }
        } catch {
            logger.critical("cannot start loop \(index): \(error)")
            exit(1)
        }
        if index == 0, let seconds = faultStallSeconds {
            // Fault injection for the watchdog's tests: this loop stops turning, as a deadlock would make it.
            logger.warning("MYWEBSITE_FAULT_STALL_LOOP_AFTER is set: loop 0 will stall after \(seconds) s")
            loop.schedule(afterMilliseconds: Int64(seconds * 1000)) {
                while true { sleep(3600) }
            }
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
            let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
            let successor = upgrade.withLock { $0.child }
            beginShutdown(reason: successor > 0 ? "\(name) (pid \(successor), started by SIGUSR2, serves)" : name)
        case SIGUSR2:
            // Starting the new binary forks this process: done on the watchdog thread, not on this loop.
            upgradeRequested.store(true, ordering: .releasing)
        case SIGUSR1:
            logs.reopen(logger: logger)
        case SIGHUP:
            // Reloading reads files and builds contexts: done on the watchdog thread, not on this loop.
            reloadRequested.store(true, ordering: .releasing)
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
                // The loop stops once every server on it has drained.
                var remaining = state.servers.count
                for server in state.servers {
                    server.beginShutdown { [unowned loop] in
                        remaining -= 1
                        if remaining == 0 { loop.handle.stop() }
                    }
                }
                if state.servers.isEmpty { loop.handle.stop() }
            }
        }
    }

    // MARK: - Reloading

    /// Reloads what changed on disk (or everything, on SIGHUP). Runs on the watchdog thread.
    private func reloadIfNeeded(force: Bool) {
        if force { logger.info("SIGHUP: reloading") }
        if let site = site.withLock({ $0 }) {
            // The site logs what it loaded or refused, and why.
            let outcome = force ? site.reload(force: true) : site.reloadIfChanged()
            metrics?.contentReloaded(outcome, generationNumber: site.generationNumber)
        }
        tlsState.withLock { state in
            guard var current = state else { return }
            let signature = current.source.signature()
            if force || signature != current.signature {
                current.signature = signature
                do {
                    try current.holder.reload(current.source.configuration)
                    metrics?.certificatesReloaded(success: true)
                    logger.info(
                        "TLS certificates reloaded; new connections use them",
                        metadata: ["files": "\(current.source.watchedFiles.joined(separator: ","))"])
                } catch {
                    metrics?.certificatesReloaded(success: false)
                    logger.error("TLS reload refused, the previous certificates keep serving: \(error)")
                }
            }
            let lifetime = Int64(current.source.configuration.sessionLifetimeSeconds) * 1000
            if MonotonicClock.now() - current.lastRotation >= lifetime {
                current.holder.rotateTicketKeys()
                current.lastRotation = MonotonicClock.now()
            }
            state = current
        }
    }

    // MARK: - Watchdog and health

    /// True when every loop has turned in the last five seconds.
    func loopsAreResponsive() -> Bool {
        let now = MonotonicClock.now()
        return handles.withLock { $0.allSatisfy { now - $0.lastHeartbeat < 5000 } }
    }

    /// The gauges only the process knows, refreshed every second by the watchdog (and once at start).
    private func publishMetrics() {
        guard let metrics else { return }
        if let site = site.withLock({ $0 }) {
            metrics.contentGeneration(site.generationNumber)
        }
        let certificates = tlsState.withLock { $0?.holder.current.certificates } ?? []
        metrics.publish(certificates: certificates, loops: handles.withLock { $0 }, now: WallClock.now())
    }

    private func watch() {
        var forced = false
        var lastFileCheck = MonotonicClock.now()
        var trimmer = MemoryTrimmer()
        while loopsRunning.load(ordering: .relaxed) > 0 {
            usleep(250_000)
            let now = MonotonicClock.now()
            if upgradeRequested.exchange(false, ordering: .acquiringAndReleasing) { startUpgrade() }
            reapFailedUpgrade()
            let forcedReload = reloadRequested.exchange(false, ordering: .acquiringAndReleasing)
            if forcedReload || now - lastFileCheck >= 1000 {
                lastFileCheck = now
                reloadIfNeeded(force: forcedReload)
                publishMetrics()
                if let released = trimmer.check(now: now), released > 0 {
                    logger.debug("returned \(released / 1024) KiB of freed memory to the system")
                }
            }
            let started = shutdownStartedAt.load(ordering: .acquiring)
            if started > 0 {
                if !forced && now - started > settings.shutdownTimeout {
                    forced = true
                    logger.warning("shutdown timeout passed: closing the connections still open")
                    for handle in handles.withLock({ $0 }) {
                        handle.execute { loop in
                            for server in (loop.context as? LoopState)?.servers ?? [] { server.closeAll() }
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
                _exit(70)  // the error log is unbuffered; access lines still queued are lost with the stalled loop
            }
        }
    }
}
