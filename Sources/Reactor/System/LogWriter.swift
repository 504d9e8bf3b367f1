import CLinux
import Glibc

/// Writes batches of log bytes to `LogFile`s on a thread of its own, so an event loop hands a batch over
/// and goes on serving instead of waiting in `write(2)`.
///
/// A write to a file can block for milliseconds (page-cache dirty throttling, a slow disk, a full pipe on
/// standard output), and every connection of the loop waited with it: with the access log on, the loop that
/// flushed its 32 KiB of lines showed in every connection's p99 (issue #11). Batches are written in the order
/// they were handed over. The thread starts with the first batch; if it cannot start, batches are written
/// on the caller's thread as before. When more than `maxPendingBytes` wait, `write` waits for the writer
/// (back-pressure rather than unbounded memory, or lost lines, when the disk cannot keep up).
///
/// Calling order: `write` from any thread; `waitUntilWritten` before the process exits (and in tests before
/// reading a file back).
public final class LogWriter: @unchecked Sendable {
    // `pending`, `pendingBytes`, `busy` and `thread` are read and written only with `mutex` held. `wake` is
    // signalled when a batch is queued, `drained` when the queue empties (or falls below the limit).
    private var pending: [[UInt8]] = []
    private var pendingBytes = 0
    private var busy = false
    private var thread: PosixThread?
    private var threadFailed = false
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private let drained: UnsafeMutablePointer<pthread_cond_t>
    private let sinks: [LogFile]
    private let maxPendingBytes: Int

    /// Writes to every one of `sinks`, in order; holds at most about `maxPendingBytes` not yet written.
    public init(sinks: [LogFile], maxPendingBytes: Int = 4 << 20) {
        self.sinks = sinks
        self.maxPendingBytes = maxPendingBytes
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        drained = .allocate(capacity: 1)
        // Invariant: all three are allocated above; default attributes cannot make these calls fail.
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(drained, nil)
    }

    deinit {
        // Only reached when no thread was started: the writer thread holds `self` for the process's life.
        pthread_cond_destroy(drained)
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        drained.deallocate()
        wake.deallocate()
        mutex.deallocate()
    }

    /// Queues `bytes` for the writer thread (or writes them now if it could not start).
    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        pthread_mutex_lock(mutex)
        if thread == nil && !threadFailed { startThread() }
        if threadFailed {
            pthread_mutex_unlock(mutex)
            for sink in sinks { sink.write(bytes) }
            return
        }
        while pendingBytes >= maxPendingBytes { pthread_cond_wait(drained, mutex) }
        pending.append(bytes)
        pendingBytes += bytes.count
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    /// Returns once every batch handed over before the call has been written.
    public func waitUntilWritten() {
        pthread_mutex_lock(mutex)
        while !pending.isEmpty || busy { pthread_cond_wait(drained, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Called with `mutex` held.
    private func startThread() {
        do {
            thread = try PosixThread.spawn(name: "log-writer") { [self] in self.run() }
        } catch {
            threadFailed = true
        }
    }

    private func run() {
        pthread_mutex_lock(mutex)
        while true {
            while pending.isEmpty { pthread_cond_wait(wake, mutex) }
            let batches = pending
            pending.removeAll(keepingCapacity: true)
            busy = true
            pthread_mutex_unlock(mutex)
            for batch in batches {
                for sink in sinks { sink.write(batch) }
            }
            pthread_mutex_lock(mutex)
            for batch in batches { pendingBytes -= batch.count }
            busy = false
            pthread_cond_broadcast(drained)
        }
    }
}
