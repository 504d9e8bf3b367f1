import Reactor
import Testing

@Suite struct SocketActivationTests {
    @Test func readsCountAndNamesForThisProcess() throws {
        let env = ["LISTEN_FDS": "3", "LISTEN_PID": "42", "LISTEN_FDNAMES": "https:https:http"]
        let activation = try #require(try SocketActivation.inherited(environment: env, pid: 42))
        #expect(activation.sockets.map(\.fd) == [3, 4, 5])
        #expect(activation.sockets.map(\.name) == ["https", "https", "http"])
    }

    @Test func namesDefaultToUnknownLikeSystemd() throws {
        let activation = try #require(try SocketActivation.inherited(environment: ["LISTEN_FDS": "2"], pid: 7))
        #expect(activation.sockets.map(\.name) == ["unknown", "unknown"])
    }

    @Test(arguments: [
        [String: String](),
        ["LISTEN_FDS": "0", "LISTEN_PID": "42"],
        ["LISTEN_FDS": "2", "LISTEN_PID": "41"],
    ])
    func ignoresVariablesMeantForNobodyOrAnotherProcess(_ env: [String: String]) throws {
        #expect(try SocketActivation.inherited(environment: env, pid: 42) == nil)
    }

    @Test(arguments: ["", "-1", "+2", " 2", "2 ", "x", "4097", "99999999999"])
    func rejectsMalformedCount(_ text: String) {
        #expect(throws: SocketActivation.Problem.malformedCount(text)) {
            try SocketActivation.inherited(environment: ["LISTEN_FDS": text, "LISTEN_PID": "42"], pid: 42)
        }
    }

    @Test(arguments: ["", "0", "-42", "42x", "99999999999"])
    func rejectsMalformedPID(_ text: String) {
        #expect(throws: SocketActivation.Problem.malformedPID(text)) {
            try SocketActivation.inherited(environment: ["LISTEN_FDS": "1", "LISTEN_PID": text], pid: 42)
        }
    }

    @Test(arguments: [("a", 2, 1), ("a:b", 1, 2), ("a:b:c", 2, 3), ("", 2, 1)] as [(String, Int, Int)])
    func rejectsNameCountThatDisagreesWithFDCount(_ names: String, _ fds: Int, _ named: Int) {
        #expect(throws: SocketActivation.Problem.nameCountMismatch(names: named, fds: fds)) {
            try SocketActivation.inherited(
                environment: ["LISTEN_FDS": "\(fds)", "LISTEN_PID": "42", "LISTEN_FDNAMES": names], pid: 42)
        }
    }
}
