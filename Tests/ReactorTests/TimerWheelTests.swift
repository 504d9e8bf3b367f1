import Reactor
import Testing

@Suite struct TimerWheelTests {
    @Test func firesNothingBeforeTheDeadline() {
        var wheel = TimerWheel<Int>(tick: 100, slotCount: 8, now: 0)
        wheel.insert(1, deadline: 550)
        var fired: [Int] = []
        wheel.advance(to: 549) { fired.append($0) }
        #expect(fired.isEmpty)
        #expect(wheel.count == 1)
        wheel.advance(to: 600) { fired.append($0) }
        #expect(fired == [1])
        #expect(wheel.count == 0)
    }

    @Test func keepsEntriesFurtherThanOneTurnUntilTheirTurn() {
        var wheel = TimerWheel<Int>(tick: 100, slotCount: 4, now: 0)  // one turn = 400 ms
        wheel.insert(7, deadline: 1_250)
        var fired: [Int] = []
        for t in stride(from: 100, through: 1_200, by: 100) { wheel.advance(to: Int64(t)) { fired.append($0) } }
        #expect(fired.isEmpty)
        wheel.advance(to: 1_300) { fired.append($0) }
        #expect(fired == [7])
    }

    @Test func firesEverythingDueAfterALongSleep() {
        var wheel = TimerWheel<Int>(tick: 10, slotCount: 16, now: 0)
        for i in 0..<100 { wheel.insert(i, deadline: Int64(i * 37)) }
        var fired: [Int] = []
        wheel.advance(to: 100_000) { fired.append($0) }
        #expect(fired.sorted() == Array(0..<100))
        #expect(wheel.count == 0)
    }

    @Test func anEntryInsertedWhileFiringWaitsForTheNextAdvance() {
        var wheel = TimerWheel<Int>(tick: 10, slotCount: 16, now: 0)
        wheel.insert(1, deadline: 10)
        var fired: [Int] = []
        var again = false
        wheel.advance(to: 20) { value in
            fired.append(value)
            again = true
        }
        if again { wheel.insert(2, deadline: 0) }
        #expect(fired == [1])
        wheel.advance(to: 30) { fired.append($0) }
        #expect(fired == [1, 2])
    }

    @Test func reportsTheNextTickOnlyWhenSomethingWaits() {
        var wheel = TimerWheel<Int>(tick: 250, slotCount: 8, now: 1_000)
        #expect(wheel.timeUntilNextTick(now: 1_000) == nil)
        wheel.insert(1, deadline: 5_000)
        #expect(wheel.timeUntilNextTick(now: 1_100) == 150)
    }
}
