import TLS
import Testing

@Suite struct TLSContextLoadingTests {
    private func loadError(_ pair: TLSConfiguration.CertificateKeyPair) -> TLSError? {
        do {
            _ = try TLSContext(configuration: TLSConfiguration(certificates: [pair]))
            return nil
        } catch {
            return error
        }
    }

    @Test func loadsECDSAAndRSAChainsAndGroupsThemByName() throws {
        let context = try serverContext(["ecdsa", "rsa", "other"])
        #expect(context.identities.count == 2)
        #expect(context.identities[0] == ["*.wild.test", "example.test", "localhost", "www.example.test"])
        #expect(context.identities[1] == ["*.other.test", "other.test"])
    }

    @Test func refusesAFileThatIsNotPEMAndNamesIt() throws {
        let pair = TLSConfiguration.CertificateKeyPair(
            certificateChainPath: Fixtures.path("garbage.pem"), privateKeyPath: Fixtures.path("ecdsa.key"))
        let error = try #require(loadError(pair))
        #expect(error.kind == .certificate)
        #expect(error.description.contains(Fixtures.path("garbage.pem")))
        #expect(error.description.contains("no start line"))
    }

    @Test func refusesAMissingCertificateFileAndNamesIt() throws {
        let pair = TLSConfiguration.CertificateKeyPair(
            certificateChainPath: Fixtures.path("absent.pem"), privateKeyPath: Fixtures.path("ecdsa.key"))
        let error = try #require(loadError(pair))
        #expect(error.kind == .certificate)
        #expect(error.description.contains(Fixtures.path("absent.pem")))
    }

    @Test func refusesAKeyFileThatIsNotAKey() throws {
        let pair = TLSConfiguration.CertificateKeyPair(
            certificateChainPath: Fixtures.path("ecdsa.pem"), privateKeyPath: Fixtures.path("garbage.pem"))
        let error = try #require(loadError(pair))
        #expect(error.kind == .privateKey)
        #expect(error.description.contains(Fixtures.path("garbage.pem")))
    }

    @Test func refusesAnExpiredCertificate() throws {
        let error = try #require(loadError(Fixtures.pair("expired")))
        #expect(error.kind == .expired)
        #expect(error.description.contains(Fixtures.path("expired.pem")))
        #expect(error.description.contains("expired on 2020-01-02 00:00:00 UTC"))
    }

    @Test func refusesACertificateNotYetValid() throws {
        let error = try #require(loadError(Fixtures.pair("future")))
        #expect(error.kind == .notYetValid)
        #expect(error.description.contains("not valid before 2099-01-01"))
    }

    @Test func refusesAKeyThatIsNotTheCertificates() throws {
        let error = try #require(loadError(Fixtures.pair("mismatch")))
        #expect(error.kind == .keyMismatch)
        #expect(error.description.contains(Fixtures.path("mismatch.key")))
        #expect(error.description.contains("key values mismatch"))
    }

    @Test func refusesAnRSAKeyForAnECDSACertificate() throws {
        let pair = TLSConfiguration.CertificateKeyPair(
            certificateChainPath: Fixtures.path("ecdsa.pem"), privateKeyPath: Fixtures.path("rsa.key"))
        let error = try #require(loadError(pair))
        #expect(error.kind == .keyMismatch)
        #expect(error.description.contains(Fixtures.path("rsa.key")))
    }

    @Test func refusesTwoCertificatesOfOneKeyTypeForTheSameNames() throws {
        let configuration = TLSConfiguration(certificates: [Fixtures.pair("ecdsa"), Fixtures.pair("ecdsa")])
        #expect(throws: TLSError.self) { try TLSContext(configuration: configuration) }
    }

    @Test func refusesAnEmptyCertificateList() throws {
        #expect(throws: TLSError.self) { try TLSContext(configuration: TLSConfiguration(certificates: [])) }
    }

    @Test func refusesAnALPNNameLongerThan255Bytes() throws {
        let configuration = TLSConfiguration(
            certificates: [Fixtures.pair("ecdsa")], applicationProtocols: [String(repeating: "x", count: 256)])
        #expect(throws: TLSError.self) { try TLSContext(configuration: configuration) }
    }

    @Test func holderSwapsContextsForNewSessionsOnly() throws {
        let holder = TLSContextHolder(try serverContext(["ecdsa"]))
        let first = holder.current
        let oldSession = TLSSession(context: first)
        try holder.reload(TLSConfiguration(certificates: [Fixtures.pair("other")]))
        #expect(holder.current !== first)
        #expect(holder.current.ticketKeys === first.ticketKeys)
        #expect(holder.current.identities == [["*.other.test", "other.test"]])

        // The session made before the reload still completes with the old certificate.
        let client = TLSSession(clientContext: try clientContext(verifying: false), serverName: "localhost")
        let (clientResult, serverResult) = handshake(client: client, server: oldSession)
        #expect(clientResult == .done && serverResult == .done)
        #expect(client.peerCertificateNames.contains("localhost"))
    }

    @Test func aFailedReloadKeepsTheCurrentContext() throws {
        let holder = TLSContextHolder(try serverContext(["ecdsa"]))
        let first = holder.current
        #expect(throws: TLSError.self) {
            try holder.reload(TLSConfiguration(certificates: [Fixtures.pair("expired")]))
        }
        #expect(holder.current === first)
    }
}
