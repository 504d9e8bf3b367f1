import Glibc
import HTTP
import Logging
import Reactor

/// Zero-downtime binary upgrades, as nginx does them on `SIGUSR2`: the running process starts the binary now
/// on disk with its listening sockets as fds 3, 4, … (the systemd socket-activation layout), keeps serving
/// while the new one loads, and drains once the new one says it serves (it sends `SIGTERM` to its parent).
/// The sockets are never closed in between, so the kernel keeps queueing connections on them: none is refused
/// or reset. If the new process exits before it is ready, this one logs why and goes on serving.
///
/// The same start-up path takes sockets from systemd (`.socket` units, `FileDescriptorName=https|http|metrics`
/// or, without names, the configured port), and `sd_notify` tells systemd which pid is the service now.
extension Server {
    /// The signals the server reads from its signalfd.
    static let handledSignals: [CInt] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2]

    /// What an upgrade needs and where it stands.
    struct UpgradeState {
        /// This executable's path, read at start (once replaced on disk, `/proc/self/exe` names a deleted file).
        var executable = Executable.path()
        /// Every listening socket and its name, in the order the successor gets them.
        var sockets: [(fd: CInt, name: String)] = []
        /// The pid started by the last `SIGUSR2` while it has not exited; 0 when none.
        var child: pid_t = 0
    }

    /// Reads `LISTEN_FDS` (and kin) and checks the sockets, keeping them for the endpoints to take.
    func adoptInheritedSockets(environment: [String: String]) throws {
        let activation: SocketActivation?
        do {
            activation = try SocketActivation.inherited(environment: environment, pid: getpid())
        } catch {
            throw ConfigurationError("socket activation: \(error)")
        }
        guard let activation else { return }
        let sockets: [ListenerHandOver.InheritedSocket]
        do {
            sockets = try ListenerHandOver.prepare(activation)
        } catch {
            throw ConfigurationError("socket activation: \(error) (LISTEN_FDS passes listening TCP sockets only)")
        }
        inherited.withLock { $0 = sockets }
    }

    /// The inherited sockets for one endpoint: those named `name` or, when systemd gave no names we know,
    /// those bound to `port` (never for port 0, which only a name can match). Nil when there are none.
    func takeInherited(name: String, port: Int) -> [ListenerHandOver.InheritedSocket]? {
        inherited.withLock { pool in
            let known: Set = ["https", "http", "metrics"]
            let matches = pool.filter {
                $0.name == name || (!known.contains($0.name) && port != 0 && Int($0.address.port) == port)
            }
            guard !matches.isEmpty else { return nil }
            let taken = Set(matches.map(\.fd))
            pool.removeAll { taken.contains($0.fd) }
            logger.info(
                "using \(matches.count) inherited listening socket(s) for \(name)",
                metadata: ["port": "\(matches[0].address.port)"])
            return matches
        }
    }

    /// Spreads inherited sockets over the loops: each socket is served by one loop (a loop may get several);
    /// a loop left without one shares a duplicate of another's, so every loop accepts.
    func distribute(_ sockets: [ListenerHandOver.InheritedSocket], name: String) throws -> [[CInt]] {
        var perLoop = [[CInt]](repeating: [], count: settings.threads)
        for (index, socket) in sockets.enumerated() { perLoop[index % settings.threads].append(socket.fd) }
        for index in sockets.count..<max(sockets.count, settings.threads) {
            do {
                perLoop[index].append(try Syscall.duplicate(sockets[index % sockets.count].fd))
            } catch {
                throw ListenError(description: "cannot share the inherited \(name) socket between loops: \(error)")
            }
        }
        return perLoop
    }

    /// Inherited sockets no endpoint wanted: closed (this process's copy only), with a warning naming them.
    func closeUnclaimedInheritedSockets() {
        let left = inherited.withLock { pool in
            defer { pool = [] }
            return pool
        }
        for socket in left {
            logger.warning(
                "inherited socket not used by this mode, closed",
                metadata: ["fd": "\(socket.fd)", "name": "\(socket.name)", "address": "\(socket.address)"])
            Syscall.close(socket.fd)
        }
    }

    /// Says the server is ready: to systemd (`READY=1`, and `MAINPID` when it replaced a predecessor) and, in
    /// an upgrade, to the predecessor, which then drains.
    func announceReadiness(environment: [String: String]) {
        let notifySocket = environment["NOTIFY_SOCKET"]
        guard let text = environment["MYWEBSITE_UPGRADE_FROM"], let parent = pid_t(text), parent == getppid() else {
            ServiceNotifier.notify("READY=1", socketPath: notifySocket)
            return
        }
        // MAINPID first: systemd must follow this pid before the old main process exits.
        ServiceNotifier.notify("MAINPID=\(getpid())\nREADY=1", socketPath: notifySocket)
        logger.info(
            "took over the listening sockets; the previous process drains", metadata: ["previous_pid": "\(parent)"])
        kill(parent, SIGTERM)
    }

    /// `SIGUSR2`: starts the binary at the path this one was started from, handing it every listening socket.
    /// Runs on the watchdog thread.
    func startUpgrade() {
        guard shutdownStartedAt.load(ordering: .acquiring) == 0 else {
            logger.warning("SIGUSR2 ignored: this process is already shutting down")
            return
        }
        upgrade.withLock { state in
            guard state.child == 0 else {
                logger.warning(
                    "SIGUSR2 ignored: the process started by the previous SIGUSR2 has not taken over yet",
                    metadata: ["pid": "\(state.child)"])
                return
            }
            guard let path = state.executable else {
                logger.error("SIGUSR2: cannot tell this executable's path (/proc/self/exe); this process keeps serving")
                return
            }
            var environment = ProcessEnvironment.all()
            environment["MYWEBSITE_UPGRADE_FROM"] = "\(getpid())"
            do {
                state.child = try ListenerHandOver.spawn(
                    path: path, arguments: CommandLine.arguments, environment: environment, sockets: state.sockets)
                logger.info(
                    "SIGUSR2: started the binary on disk with the listening sockets; this process drains once it serves",
                    metadata: ["pid": "\(state.child)", "path": "\(path)", "sockets": "\(state.sockets.count)"])
            } catch {
                logger.error("SIGUSR2: cannot start \(path), this process keeps serving: \(error)")
            }
        }
    }

    /// Reaps the upgrade's process if it exited (a bad binary or configuration): this one keeps serving.
    func reapFailedUpgrade() {
        // Draining because the new process took over: its later exit is not a failed upgrade (and not ours).
        guard shutdownStartedAt.load(ordering: .acquiring) == 0 else { return }
        upgrade.withLock { state in
            guard state.child > 0 else { return }
            var status: CInt = 0
            guard waitpid(state.child, &status, WNOHANG) == state.child else { return }
            let exit = (status & 0x7f) == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(status & 0x7f)"
            logger.error(
                "upgrade failed: the new process exited (\(exit)) before it served; this process keeps serving",
                metadata: ["pid": "\(state.child)"])
            state.child = 0
        }
    }
}

extension Server.Endpoint {
    /// This endpoint's descriptors for a successor, named (a socket shared between loops is passed once per
    /// descriptor: the successor serves each, which is harmless).
    var handOver: [(fd: CInt, name: String)] {
        fds.flatMap { $0 }.map { (fd: $0, name: name) }
    }
}
