import CLinux
import Glibc

/// A value guarded by a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex` for state shared between threads: on Linux, `Mutex` locks with raw
/// `futex` calls that ThreadSanitizer cannot see, so every hand-off through one (a task posted to a loop, a
/// log line) was reported as a data race and hid real ones. ThreadSanitizer intercepts pthread mutexes.
public final class Locked<Value>: @unchecked Sendable {
    // `value` is read and written only between pthread_mutex_lock and pthread_mutex_unlock of `mutex`.
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Guards `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        // Invariant: `mutex` is allocated and initialised above; a default mutex cannot fail to initialise.
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
