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
}
