import Reactor
import Testing

@Suite struct SocketAddressTests {
    @Test(arguments: ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::7", "fe80::1"])
    func parsesAndPrintsNumericAddresses(_ text: String) {
        #expect(SocketAddress(ip: text)?.ipString == text)
    }

    @Test(arguments: ["", "localhost", "1.2.3", "256.1.1.1", "::g"])
    func refusesNamesAndMalformedAddresses(_ text: String) {
        #expect(SocketAddress(ip: text) == nil)
    }
}
