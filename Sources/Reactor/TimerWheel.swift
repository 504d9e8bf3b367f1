/// A hashed timer wheel: O(1) insert, O(1) amortised expiry, no cancellation.
///
/// ```
///  slot = (deadline / tick) % slots.count
///  [0][1][2]...[current]...[n-1]     each slot: unordered (deadline, element) pairs
/// ```
/// Entries further away than one turn stay in their slot and are skipped until their turn comes. There is no
/// cancel: owners keep their own deadline and ignore (or re-arm) an early firing, so moving a deadline later —
/// the common case, once per request — costs nothing here. Times are milliseconds on any monotonic clock;
/// the caller passes `now`, so tests drive it with a fake clock.
public struct TimerWheel<Element> {
    private var slots: [[(deadline: Int64, element: Element)]]
    /// The tick length in milliseconds.
    public let tick: Int64
    private var lastTick: Int64
    /// Entries waiting.
    public private(set) var count = 0

    /// Makes an empty wheel of `slotCount` slots of `tick` milliseconds, starting at `now`.
    public init(tick: Int64 = 250, slotCount: Int = 1024, now: Int64) {
        precondition(tick > 0 && slotCount > 0, "TimerWheel(tick: \(tick), slotCount: \(slotCount))")
        self.tick = tick
        slots = Array(repeating: [], count: slotCount)
        lastTick = now / tick
    }

    /// Adds `element`, to fire at the first `advance` whose time is at or after `deadline`.
    public mutating func insert(_ element: Element, deadline: Int64) {
        // The slot of the first tick boundary at or after the deadline: when that slot's turn comes, `now` has
        // passed the deadline, so no entry is ever looked at one tick early and then skipped for a whole turn.
        let t = max((deadline + tick - 1) / tick, lastTick + 1)
        slots[Int(t % Int64(slots.count))].append((deadline, element))
        count += 1
    }

    /// Removes and returns, earliest deadline first, every entry whose deadline is at or before `now`.
    /// The caller fires them after this returns, so firing may insert new entries.
    public mutating func expire(upTo now: Int64) -> [Element] {
        let nowTick = now / tick
        guard nowTick > lastTick else { return [] }
        let steps = min(nowTick - lastTick, Int64(slots.count))
        var due: [(deadline: Int64, element: Element)] = []
        for step in 1...steps {
            let index = Int((lastTick + step) % Int64(slots.count))
            guard !slots[index].isEmpty else { continue }
            var kept = slots[index]
            slots[index] = []
            var i = 0
            while i < kept.count {
                if kept[i].deadline <= now {
                    due.append(kept[i])
                    kept.swapAt(i, kept.count - 1)
                    kept.removeLast()
                } else {
                    i += 1
                }
            }
            // Give back a slot's storage after a burst: an array keeps its peak capacity, and across 1,024 slots
            // that would pin memory proportional to the busiest tick ever seen.
            slots[index] = kept.isEmpty ? [] : kept.count * 4 < kept.capacity ? Array(kept) : kept
        }
        lastTick = nowTick
        count -= due.count
        if due.count > 1 { due.sort { $0.deadline < $1.deadline } }
        return due.map(\.element)
    }

    /// Expires entries up to `now` and calls `fire` with each, earliest first (tests, simple callers).
    public mutating func advance(to now: Int64, _ fire: (Element) -> Void) {
        for element in expire(upTo: now) { fire(element) }
    }

    /// Milliseconds from `now` until the next tick boundary when anything waits, else nil (sleep forever).
    public func timeUntilNextTick(now: Int64) -> Int64? {
        count == 0 ? nil : max(1, (now / tick + 1) * tick - now)
    }
}
