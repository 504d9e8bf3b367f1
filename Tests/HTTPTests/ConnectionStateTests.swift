import HTTP
import Testing

@Suite struct ConnectionStateTests {
    let timeouts = ConnectionState.Timeouts(header: 15_000, keepAlive: 75_000, write: 30_000)

    @Test func aSilentNewConnectionTimesOutOnTheHeaderTimeout() {
        let state = ConnectionState(now: 1_000, timeouts: timeouts)
        #expect(state.timerFired(now: 15_999) == .rearm(at: 16_000))
        #expect(state.timerFired(now: 16_000) == .close(.header))
    }

    @Test func trickledHeaderBytesDoNotExtendTheHeaderClock() {
        var state = ConnectionState(now: 0, timeouts: timeouts)
        state.wrote(now: 100)
        state.outputDrained(now: 200, partialHead: false)
        state.partialHeadBuffered(now: 1_000)  // first byte of the next request
        state.partialHeadBuffered(now: 9_000)  // more bytes, still no complete head
        #expect(state.phase == .readingHead)
        #expect(state.deadline == 16_000)
        #expect(state.timerFired(now: 16_000) == .close(.header))
    }

    @Test func anIdleKeepAliveConnectionGetsTheKeepAliveTimeout() {
        var state = ConnectionState(now: 0, timeouts: timeouts)
        state.wrote(now: 10)
        state.outputDrained(now: 20, partialHead: false)
        #expect(state.phase == .idle)
        #expect(state.timerFired(now: 15_020) == .rearm(at: 75_020))
        #expect(state.timerFired(now: 75_020) == .close(.keepAlive))
    }

    @Test func writeProgressPushesTheWriteDeadline() {
        var state = ConnectionState(now: 0, timeouts: timeouts)
        state.wrote(now: 1_000)
        state.wrote(now: 20_000)
        #expect(state.timerFired(now: 31_000) == .rearm(at: 50_000))
        #expect(state.timerFired(now: 50_000) == .close(.write))
    }

    @Test func aPipelinedHeadAfterTheResponseStartsTheHeaderClock() {
        var state = ConnectionState(now: 0, timeouts: timeouts)
        state.wrote(now: 500)
        state.outputDrained(now: 600, partialHead: true)
        #expect(state.phase == .readingHead)
        #expect(state.deadline == 15_600)
    }

    @Test func drainingGivesAWaitingConnectionTheGraceThenClosesIt() {
        var idle = ConnectionState(now: 0, timeouts: timeouts)
        idle.wrote(now: 10)
        idle.outputDrained(now: 20, partialHead: false)
        idle.drain(now: 5_000, grace: 1_000)
        #expect(idle.timerFired(now: 5_999) == .rearm(at: 6_000))
        #expect(idle.timerFired(now: 6_000) == .close(.keepAlive))

        var fresh = ConnectionState(now: 0, timeouts: timeouts)
        fresh.drain(now: 100, grace: 1_000)
        #expect(fresh.timerFired(now: 1_100) == .close(.header))
        // Draining again never extends the grace.
        fresh.drain(now: 900, grace: 1_000)
        #expect(fresh.deadline == 1_100)

        // A response that was under way when the drain began ends later: the client gets the grace from then.
        var busy = ConnectionState(now: 0, timeouts: timeouts)
        busy.wrote(now: 10)
        busy.drain(now: 20, grace: 1_000)
        busy.outputDrained(now: 4_000, partialHead: false)
        #expect(busy.deadline == 5_000)
    }

    @Test func drainingLeavesARequestUnderWayItsOwnTimeouts() {
        var reading = ConnectionState(now: 0, timeouts: timeouts)
        reading.partialHeadBuffered(now: 0)
        reading.wrote(now: 10)
        reading.outputDrained(now: 20, partialHead: true)
        reading.drain(now: 30, grace: 1_000)
        #expect(reading.deadline == 15_020)
        var writing = ConnectionState(now: 0, timeouts: timeouts)
        writing.wrote(now: 10)
        writing.drain(now: 20, grace: 1_000)
        #expect(writing.deadline == 30_010)
    }
}
