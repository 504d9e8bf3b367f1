import HTTP
import Reactor
import Testing

@Suite struct RateLimiterTests {
    let client = SocketAddress(ip: "203.0.113.7")!.host

    @Test func aBurstPassesThenRetryAfterSaysWhenATokenIsBack() {
        let limiter = RateLimiter(rate: 2, burst: 3, exempt: nil)
        let start: UInt64 = 1_000_000_000
        for _ in 0..<3 { #expect(limiter.admit(client, now: start) == nil) }
        #expect(limiter.admit(client, now: start) == 1)
        #expect(limiter.admit(client, now: start + 500_000_000) == nil, "half a second refills one at 2/s")
        #expect(limiter.admit(client, now: start + 500_000_000) == 1)
    }

    @Test func ipv6ClientsShareTheirSlash64() {
        let limiter = RateLimiter(rate: 1, burst: 1, exempt: nil)
        #expect(limiter.admit(SocketAddress(ip: "2001:db8::1")!.host, now: 1) == nil)
        #expect(limiter.admit(SocketAddress(ip: "2001:db8::ffff:2")!.host, now: 1) != nil)
        #expect(limiter.admit(SocketAddress(ip: "2001:db8:0:1::1")!.host, now: 1) == nil)
    }

    @Test func aFullTableFailsOpenAndForgetsRefilledClients() {
        let limiter = RateLimiter(rate: 1000, burst: 1, exempt: nil, maxClients: 16 * 16)
        for i in 0..<5000 {
            let host = SocketAddress.Host.v4(UInt32(0x0A00_0000 + i))
            #expect(limiter.admit(host, now: 1) == nil)
        }
        #expect(limiter.trackedClients <= 16 * 16)
    }
}

@Suite struct ConnectionLimiterTests {
    @Test func slotsAreGivenBackWhenReleasedOrFreed() {
        let limiter = ConnectionLimiter(perClient: 2, total: 3, exempt: nil)
        let a = SocketAddress(ip: "198.51.100.1")!.host
        let b = SocketAddress(ip: "198.51.100.2")!.host
        var slots: [ConnectionLimiter.Slot] = []
        for _ in 0..<2 { if case .success(let slot) = limiter.open(for: a) { slots.append(slot) } }
        #expect(slots.count == 2)
        #expect(limiter.open(for: a).failureValue == .perClient)
        if case .success(let slot) = limiter.open(for: b) { slots.append(slot) }
        #expect(limiter.open(for: b).failureValue == .total)
        slots.removeFirst()
        #expect(limiter.openCount == 2)
        #expect(limiter.open(for: a).failureValue == nil)
        slots.removeAll()
        #expect(limiter.openCount == 0 && limiter.trackedClients == 0)
    }

    @Test func aSlotMovesToTheRelayedClient() throws {
        let limiter = ConnectionLimiter(perClient: 1, total: nil, exempt: nil)
        let balancer = SocketAddress(ip: "10.0.0.1")!.host
        let client = SocketAddress(ip: "203.0.113.9")!.host
        guard case .success(let first) = limiter.open(for: balancer) else { throw HarnessFailure() }
        #expect(first.move(to: client))
        guard case .success(let second) = limiter.open(for: balancer) else { throw HarnessFailure() }
        #expect(!second.move(to: client), "the relayed client is at its limit")
        #expect(limiter.trackedClients == 1)
    }

    @Test func anIPv6SlotCountsItsSlash64AndGivesItBack() throws {
        // A slot keeps its client key packed (kind and high 64 bits): releasing it must find the same entry.
        let limiter = ConnectionLimiter(perClient: 1, total: nil, exempt: nil)
        let first = SocketAddress(ip: "2001:db8:1:2::1")!.host
        let sameNetwork = SocketAddress(ip: "2001:db8:1:2:ffff::9")!.host
        let other = SocketAddress(ip: "2001:db8:1:3::1")!.host
        var slots: [ConnectionLimiter.Slot] = []
        if case .success(let slot) = limiter.open(for: first) { slots.append(slot) }
        #expect(limiter.open(for: sameNetwork).failureValue == .perClient)
        if case .success(let slot) = limiter.open(for: other) { slots.append(slot) }
        #expect(slots.count == 2 && limiter.trackedClients == 2)
        #expect(slots[1].move(to: SocketAddress(ip: "198.51.100.4")!.host))
        #expect(limiter.open(for: other).failureValue == nil, "the moved slot gave its /64 back")
        slots.removeAll()
        #expect(limiter.trackedClients == 0)
    }

    struct HarnessFailure: Error {}
}

extension Result {
    fileprivate var failureValue: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
