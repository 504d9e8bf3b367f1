import CLinux
import Glibc
import Logging
import Synchronization

/// Something registered on a loop for readiness events of one fd. Called on the loop thread only.
///
/// A class rather than a protocol: the loop keeps a pointer to the handler in the kernel's epoll entry itself
/// (`epoll_event.data`), one word with no table beside it, and calls it through the class's vtable. It has no
/// stored property, so a subclass's first fields fill the word after the object header.
open class EventHandler {
    public init() {}

    /// `events` is the epoll event mask (`EPOLLIN`, `EPOLLOUT`, `EPOLLRDHUP`, `EPOLLHUP`, `EPOLLERR`).
    open func handleEvents(_ events: UInt32) {}
}

/// Something woken by the loop's timer wheel. Called on the loop thread only.
///
/// A class, as `EventHandler`: a wheel entry is then a deadline and one pointer (16 bytes, not 24).
open class TimerTarget {
    public init() {}

    /// A deadline this target set has passed (or an earlier one it no longer cares about: check).
    open func timerFired(now: Int64) {}
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
    /// Registered handlers, the eventfd excluded. Each is retained by the loop (the pointer in its epoll
    /// entry) until `deregister`.
    public private(set) var registeredCount = 0
    /// Handlers deregistered during the current batch of events: still retained until the batch ends (one
    /// may be running the very call that deregistered it).
    private var retired: [Unmanaged<EventHandler>] = []
    private var inBatch = false
    /// The events of the current batch not yet dispatched: `deregister` blanks a handler's among them.
    private var batchNext = 0
    private var batchEnd = 0
    /// `epoll_event.data` of the eventfd, and of an event blanked by `deregister`.
    private static let wakeupData: UInt64 = 0
    private static let blankedData: UInt64 = 1
    private let events: UnsafeMutableBufferPointer<epoll_event>
    private var wheel: TimerWheel<TimerTarget>
    private var unexpectedErrors = 0
    /// A turn that handled this many events is busy enough to yield the CPU after it (see `run`).
    private static let busyTurnEvents = 4

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
        try Epoll.ctl(epfd, EPOLL_CTL_ADD, efd, events: CLINUX_EPOLLIN, data: Self.wakeupData)
    }

    deinit {
        // A handler still registered here stays retained: the loop keeps no list of them (the pointers live
        // in the kernel's epoll entries). Owners close their streams and listeners before the loop goes.
        Syscall.close(epfd)
        iovecs.deallocate()
        events.deallocate()
    }

    // MARK: - Registration

    /// Registers `handler` for `events` on `fd`. The loop holds the handler until `deregister`.
    public func register(fd: CInt, handler: EventHandler, events: UInt32) throws(SystemError) {
        let token = Unmanaged.passRetained(handler)
        do {
            try Epoll.ctl(epfd, EPOLL_CTL_ADD, fd, events: events, data: UInt64(UInt(bitPattern: token.toOpaque())))
        } catch {
            token.release()
            throw error
        }
        registeredCount += 1
    }

    /// Stops watching `fd` and drops the loop's reference to `handler` (the one registered for it). Call
    /// before closing the fd.
    public func deregister(fd: CInt, handler: EventHandler) {
        // EPOLL_CTL_DEL can only fail for an fd we never added or already closed: both our bug.
        do { try Epoll.ctl(epfd, EPOLL_CTL_DEL, fd, events: 0, data: 0) } catch {
            preconditionFailure("deregister fd \(fd): \(error)")
        }
        registeredCount -= 1
        let token = Unmanaged.passUnretained(handler)
        guard inBatch else { return token.release() }
        retired.append(token)
        // The kernel may have reported this fd again later in the batch: that event is stale now.
        let data = UInt64(UInt(bitPattern: token.toOpaque()))
        for j in batchNext..<batchEnd where events[j].data.u64 == data { events[j].data.u64 = Self.blankedData }
    }

    // MARK: - Timers

    /// Wakes `target` at or soon after `deadline` (monotonic ms). There is no cancel: see `TimerWheel`.
    public func wake(_ target: TimerTarget, at deadline: Int64) {
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
            inBatch = true
            batchEnd = n
            for i in 0..<n {
                batchNext = i + 1
                let data = events[i].data.u64
                if data == Self.wakeupData {
                    drainWakeups()
                    continue
                }
                guard data != Self.blankedData, let pointer = UnsafeRawPointer(bitPattern: UInt(data)) else { continue }
                Unmanaged<EventHandler>.fromOpaque(pointer).takeUnretainedValue().handleEvents(events[i].events)
            }
            inBatch = false
            batchEnd = 0
            if !retired.isEmpty {
                for token in retired { token.release() }
                retired.removeAll(keepingCapacity: retired.count <= 64)
            }
            for target in wheel.expire(upTo: now) { target.timerFired(now: now) }
            let turn = MonotonicClock.now() - now
            if turn > longestTurn { longestTurn = turn }
            // A busy turn ends with a yield: the threads waiting for this CPU (another loop, the clients on the
            // same machine, a neighbour) run now, and this loop's next turn comes after them. The scheduler
            // otherwise lets a loop that never blocks run its whole time slice (milliseconds on a PREEMPT_NONE
            // kernel), and every connection waiting on another thread waits that long: with 2 loops and 2 wrk
            // threads on 2 cores, p99 was 7.8 ms against nginx's 3.3 ms, and is 1.4 ms with the yield. It gives
            // no CPU away: EEVDF still picks only eligible threads, so a loop behind its fair share runs again
            // at once. When nothing else waits it is one syscall that returns at once.
            if n >= Self.busyTurnEvents || turn > 0 { sched_yield() }
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
    override func timerFired(now: Int64) { body() }
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
