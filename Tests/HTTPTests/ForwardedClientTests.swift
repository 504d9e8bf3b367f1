import HTTP
import Reactor
import Testing

@Suite struct TrustedProxiesTests {
    @Test(arguments: [
        ("10.1.2.3", true), ("172.20.0.5", true), ("192.168.1.1", true), ("127.0.0.1", true), ("::1", true),
        ("fd00::1", true), ("8.8.8.8", false), ("172.32.0.1", false), ("2001:db8::1", false),
    ])
    func theDefaultSetTrustsLoopbackAndPrivateRanges(_ ip: String, _ trusted: Bool) throws {
        let set = try TrustedProxies(cidrs: TrustedProxies.defaultCIDRs)
        #expect(set.contains(SocketAddress(ip: ip)!.host) == trusted)
    }

    @Test func aBareAddressIsASingleHost() throws {
        let set = try TrustedProxies(cidrs: ["203.0.113.7"])
        #expect(set.contains(SocketAddress(ip: "203.0.113.7")!.host))
        #expect(!set.contains(SocketAddress(ip: "203.0.113.8")!.host))
    }

    @Test(arguments: ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::1/129"])
    func refusesInvalidBlocksNamingThem(_ cidr: String) {
        #expect(throws: ConfigurationError.self) { try TrustedProxies(cidrs: [cidr]) }
    }
}
