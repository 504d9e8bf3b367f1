import CLinux
import Glibc
import Logging
import Synchronization

/// Something registered on a loop for readiness events of one fd. Called on the loop thread only.
public protocol EventHandler: AnyObject {
    /// `events` is the epoll event mask (`EPOLLIN`, `EPOLLOUT`, `EPOLLRDHUP`, `EPOLLHUP`, `EPOLLERR`).
    func handleEvents(_ events: UInt32)
}

/// Something woken by the loop's timer wheel. Called on the loop thread only.
public protocol TimerTarget: AnyObject {
    /// A deadline this target set has passed (or an earlier one it no longer cares about: check).
    func timerFired(now: Int64)
}

/// One epoll event loop, confined to the thread that runs it.
///
/// Everything registered on a loop — streams, listeners, timers — is touched from that thread only; other
/// threads reach it through `handle` (a locked task queue plus an eventfd wake-up). Not `Sendable`.
public final class EventLoop {
    /// The loop's number, 0-based, for logs.
    public let id: Int
    /// The cross-thread face of this loop.
    public let handle: LoopHandle
    /// Buffers for connections that are busy right now.
    public let pool = BufferPool()
    /// The error log, with `loop` metadata.
    public let logger: Logger
    /// A slot for the owner's per-loop state (the server keeps its listeners and HTTP engine here, so a task
    /// sent through `handle.execute` can find them).
    public var context: AnyObject?
    /// Monotonic milliseconds, read once per loop iteration.
    public private(set) var now: Int64

    let iovecs: UnsafeMutableBufferPointer<iovec>
    private let epfd: CInt
    private var handlers: [(any EventHandler)?] = []
    private let events: UnsafeMutableBufferPointer<epoll_event>
    private var wheel: TimerWheel<any TimerTarget>
    private var unexpectedErrors = 0

    /// Creates a loop on the calling thread; run it with `run()` on the same thread.
    public init(id: Int, logger: Logger) throws(SystemError) {
        self.id = id
        var logger = logger
        logger[metadataKey: "loop"] = "\(id)"
        self.logger = logger
        epfd = try Epoll.create()
        let efd = eventfd(0, CInt(EFD_NONBLOCK | EFD_CLOEXEC))
        if efd < 0 {
            Syscall.close(epfd)
            throw SystemError(call: "eventfd", errno: Syscall.errno)
        }
        handle = LoopHandle(id: id, eventFD: efd)
        now = MonotonicClock.now()
        wheel = TimerWheel(now: now)
        iovecs = .allocate(capacity: 64)
        events = .allocate(capacity: 512)
        try Epoll.ctl(epfd, EPOLL_CTL_ADD, efd, events: CLINUX_EPOLLIN)
    }

    deinit {
        Syscall.close(epfd)
        iovecs.deallocate()
        events.deallocate()
    }

    // MARK: - Registration

    /// Registers `handler` for `events` on `fd`. The loop holds the handler until `deregister`.
    public func register(fd: CInt, handler: any EventHandler, events: UInt32) throws(SystemError) {
        let index = Int(fd)
        if index >= handlers.count {
            handlers.append(contentsOf: repeatElement(nil, count: max(index + 1, handlers.count * 2) - handlers.count))
        }
        try Epoll.ctl(epfd, EPOLL_CTL_ADD, fd, events: events)
        handlers[index] = handler
    }

    /// Changes the interest set of a registered fd.
    public func modify(fd: CInt, events: UInt32) throws(SystemError) {
        try Epoll.ctl(epfd, EPOLL_CTL_MOD, fd, events: events)
    }

    /// Stops watching `fd` and drops the loop's reference to its handler. Call before closing the fd.
    public func deregister(fd: CInt) {
        // EPOLL_CTL_DEL can only fail for an fd we never added or already closed: both our bug.
        do { try Epoll.ctl(epfd, EPOLL_CTL_DEL, fd, events: 0) } catch {
            preconditionFailure("deregister fd \(fd): \(error)")
        }
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
    }

    /// Registered fds, the eventfd excluded (tests: nothing may leak).
    public var registeredCount: Int { handlers.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    // MARK: - Timers

    /// Wakes `target` at or soon after `deadline` (monotonic ms). There is no cancel: see `TimerWheel`.
    public func wake(_ target: any TimerTarget, at deadline: Int64) {
        wheel.insert(target, deadline: deadline)
    }

    /// Runs `body` on this loop after `delay` milliseconds.
    public func schedule(afterMilliseconds delay: Int64, _ body: @escaping () -> Void) {
        wheel.insert(ScheduledTask(body), deadline: now + delay)
    }

    /// Runs `body` every `interval` milliseconds until the loop stops.
    public func repeating(everyMilliseconds interval: Int64, _ body: @escaping () -> Void) {
        schedule(afterMilliseconds: interval) { [unowned self] in
            body()
            self.repeating(everyMilliseconds: interval, body)
        }
    }

    // MARK: - Running

    /// Runs until `handle.stop()`; returns on the loop thread.
    public func run() {
        handle.beat(now)
        // Lag: the longest turn (events and timers handled between two waits) since the last heartbeat, which is
        // how long a ready connection may have waited for its turn.
        var longestTurn: Int64 = 0
        repeating(everyMilliseconds: 1000) { [unowned self] in
            self.handle.beat(self.now, lag: longestTurn)
            longestTurn = 0
        }
        while !handle.isStopping {
            let timeout = wheel.timeUntilNextTick(now: now).map { CInt(min($0, 60_000)) } ?? -1
            let n: Int
            do {
                n = try Epoll.wait(epfd, events, timeoutMS: timeout)
            } catch {
                logger.critical("event loop cannot wait: \(error)")
                return
            }
            now = MonotonicClock.now()
            for i in 0..<n {
                let fd = events[i].data.fd
                let mask = events[i].events
                if fd == handle.eventFD {
                    drainWakeups()
                    continue
                }
                // A handler closed earlier in this batch leaves nil: its stale event is dropped.
                guard Int(fd) < handlers.count, let handler = handlers[Int(fd)] else { continue }
                handler.handleEvents(mask)
            }
            for target in wheel.expire(upTo: now) { target.timerFired(now: now) }
            let turn = MonotonicClock.now() - now
            if turn > longestTurn { longestTurn = turn }
        }
    }

    private func drainWakeups() {
        var value: UInt64 = 0
        _ = Glibc.read(handle.eventFD, &value, 8)
        for task in handle.takeTasks() { task(self) }
    }

    /// Logs an error a syscall wrapper did not expect, at most a few times per loop so a storm cannot flood.
    public func logUnexpected(_ error: any Error) {
        unexpectedErrors += 1
        if unexpectedErrors <= 10 || unexpectedErrors % 1000 == 0 {
            logger.error("unexpected I/O error (\(unexpectedErrors) so far): \(error)")
        }
    }
}

private final class ScheduledTask: TimerTarget {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
    func timerFired(now: Int64) { body() }
}

/// The thread-safe face of an `EventLoop`: run a task on it, stop it, read its heartbeat.
public final class LoopHandle: Sendable {
    /// The loop's number.
    public let id: Int
    let eventFD: CInt
    private let tasks = Locked<[@Sendable (EventLoop) -> Void]>([])
    private let stopping = Atomic<Bool>(false)
    private let lastBeat = Atomic<Int64>(0)
    private let lastLag = Atomic<Int64>(0)

    init(id: Int, eventFD: CInt) {
        self.id = id
        self.eventFD = eventFD
    }

    deinit { Syscall.close(eventFD) }

    /// Runs `task` on the loop thread, soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable (EventLoop) -> Void) {
        tasks.withLock { $0.append(task) }
        wake()
    }

    /// Asks the loop to return from `run()` after its current iteration. Safe from any thread.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        wake()
    }

    /// True once `stop()` was called.
    public var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Monotonic ms of the loop's last heartbeat (it beats every second while it turns).
    public var lastHeartbeat: Int64 { lastBeat.load(ordering: .relaxed) }

    /// The loop's lag: its longest turn, in milliseconds, over the second before the last heartbeat.
    public var lag: Int64 { lastLag.load(ordering: .relaxed) }

    func beat(_ now: Int64, lag: Int64 = 0) {
        lastBeat.store(now, ordering: .relaxed)
        lastLag.store(max(lag, 0), ordering: .relaxed)
    }

    func takeTasks() -> [@Sendable (EventLoop) -> Void] {
        tasks.withLock { queue in
            let taken = queue
            queue.removeAll()
            return taken
        }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(eventFD, &one, 8)
    }
}
