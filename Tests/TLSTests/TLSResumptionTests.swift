import Reactor
import Synchronization
import TLS
import Testing

@Suite struct TLSResumptionTests {
    /// A full handshake, reading past it so the client has the server's tickets; returns the saved session.
    private func firstConnection(_ server: TLSContext, _ client: TLSContext) throws -> TLSSavedSession {
        let serverSession = TLSSession(context: server)
        let clientSession = TLSSession(clientContext: client, serverName: "localhost")
        let (clientResult, serverResult) = handshake(client: clientSession, server: serverSession)
        try #require(clientResult == .done && serverResult == .done)
        #expect(!serverSession.isResumed)
        _ = readPlaintext(clientSession)
        return try #require(clientSession.savedSession)
    }

    private func resumes(_ server: TLSContext, _ client: TLSContext, _ saved: TLSSavedSession) -> Bool {
        let serverSession = TLSSession(context: server)
        let clientSession = TLSSession(clientContext: client, serverName: "localhost", resuming: saved)
        let (clientResult, serverResult) = handshake(client: clientSession, server: serverSession)
        guard clientResult == .done && serverResult == .done else { return false }
        return serverSession.isResumed && clientSession.isResumed
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func resumesWithATicket(version: TLSVersion) throws {
        let server = try serverContext()
        let client = try clientContext(maximumVersion: version)
        let saved = try firstConnection(server, client)
        #expect(resumes(server, client, saved))
    }

    @Test func acceptsTicketsSealedWithThePreviousKey() throws {
        let server = try serverContext()
        let client = try clientContext()
        let saved = try firstConnection(server, client)
        server.rotateTicketKeys()
        #expect(resumes(server, client, saved))
    }

    @Test func refusesTicketsTwoRotationsOld() throws {
        let server = try serverContext()
        let client = try clientContext()
        let saved = try firstConnection(server, client)
        server.rotateTicketKeys()
        server.rotateTicketKeys()
        #expect(!resumes(server, client, saved))
    }

    @Test func ticketsSurviveAReloadThroughTheHolder() throws {
        let holder = TLSContextHolder(try serverContext())
        let client = try clientContext()
        let saved = try firstConnection(holder.current, client)
        try holder.reload(TLSConfiguration(certificates: [Fixtures.pair("ecdsa")]))
        #expect(resumes(holder.current, client, saved))
    }

    @Test func anotherServersTicketsAreNotAccepted() throws {
        let client = try clientContext()
        let saved = try firstConnection(try serverContext(), client)
        #expect(!resumes(try serverContext(), client, saved))
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func turningResumptionOffMakesEveryHandshakeFull(version: TLSVersion) throws {
        let server = try TLSContext(
            configuration: TLSConfiguration(certificates: [Fixtures.pair("ecdsa")], sessionResumption: false))
        let client = try clientContext(maximumVersion: version)
        let serverSession = TLSSession(context: server)
        let clientSession = TLSSession(clientContext: client, serverName: "localhost")
        handshake(client: clientSession, server: serverSession)
        _ = readPlaintext(clientSession)
        let saved = try #require(clientSession.savedSession)
        #expect(!resumes(server, client, saved))
    }

    @Test func oneContextServesHandshakesOnManyThreadsAtOnce() throws {
        let server = try serverContext()
        let client = try clientContext()
        let completed = Atomic<Int>(0)
        var threads: [PosixThread] = []
        for index in 0..<4 {
            threads.append(
                try PosixThread.spawn(name: "tls-\(index)") {
                    for round in 0..<25 {
                        if round % 10 == 0 { server.rotateTicketKeys() }
                        let serverSession = TLSSession(context: server)
                        let clientSession = TLSSession(clientContext: client, serverName: "localhost")
                        let (clientResult, serverResult) = handshake(client: clientSession, server: serverSession)
                        if clientResult == .done && serverResult == .done { completed.add(1, ordering: .relaxed) }
                    }
                })
        }
        for thread in threads { thread.join() }
        #expect(completed.load(ordering: .relaxed) == 100)
    }
}
