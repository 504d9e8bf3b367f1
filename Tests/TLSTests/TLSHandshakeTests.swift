import Reactor
import TLS
import Testing

@Suite struct TLSHandshakeTests {
    @Test func completesATLS13HandshakeAndSelectsHTTP11() throws {
        let server = TLSSession(context: try serverContext())
        let client = TLSSession(
            clientContext: try clientContext(applicationProtocols: ["h2", "http/1.1"]), serverName: "localhost")
        let (clientResult, serverResult) = handshake(client: client, server: server)
        #expect(clientResult == .done)
        #expect(serverResult == .done)
        #expect(server.isHandshakeComplete)
        #expect(server.protocolVersion == .tls13)
        #expect(client.protocolVersion == .tls13)
        #expect(server.applicationProtocol == "http/1.1")
        #expect(client.applicationProtocol == "http/1.1")
        #expect(server.serverName == "localhost")
        #expect(server.cipher == "TLS_AES_128_GCM_SHA256")
        #expect(!server.isResumed)
    }

    @Test(arguments: [
        ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        // A client listing ChaCha20 first (no AES hardware) gets it: SSL_OP_PRIORITIZE_CHACHA.
        ("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
    ])
    func completesATLS12HandshakeWithTheServersPreferredCipher(offered: String, chosen: String) throws {
        let server = TLSSession(context: try serverContext())
        let client = TLSSession(
            clientContext: try clientContext(maximumVersion: .tls12, ciphers: offered), serverName: "localhost")
        let (clientResult, serverResult) = handshake(client: client, server: server)
        #expect(clientResult == .done && serverResult == .done)
        #expect(server.protocolVersion == .tls12)
        #expect(server.cipher == chosen)
        #expect(server.applicationProtocol == "http/1.1")
    }

    @Test func worksWithoutALPNWhenTheClientOffersNone() throws {
        let server = TLSSession(context: try serverContext())
        let client = TLSSession(clientContext: try clientContext(applicationProtocols: []), serverName: "localhost")
        let (clientResult, serverResult) = handshake(client: client, server: server)
        #expect(clientResult == .done && serverResult == .done)
        #expect(server.applicationProtocol == nil)
    }

    @Test func refusesAClientWhoseALPNListHasNothingWeSpeak() throws {
        let server = TLSSession(context: try serverContext())
        let client = TLSSession(clientContext: try clientContext(applicationProtocols: ["h2"]), serverName: "localhost")
        let (_, serverResult) = handshake(client: client, server: server)
        #expect(failure(serverResult)?.kind == .handshake)
    }

    @Test func prefersTheServersALPNOrder() throws {
        let server = TLSSession(context: try serverContext(applicationProtocols: ["h2", "http/1.1"]))
        let client = TLSSession(
            clientContext: try clientContext(applicationProtocols: ["http/1.1", "h2"]), serverName: "localhost")
        handshake(client: client, server: server)
        #expect(server.applicationProtocol == "h2")
    }

    @Test func modernProfileRefusesTLS12() throws {
        let server = TLSSession(context: try serverContext(profile: .modern))
        let client = TLSSession(clientContext: try clientContext(maximumVersion: .tls12), serverName: "localhost")
        let (_, serverResult) = handshake(client: client, server: server)
        let error = try #require(failure(serverResult))
        #expect(error.kind == .handshake)
        #expect(error.description.contains("SSL_do_handshake"))
    }

    @Test func clientVerifiesTheChainAgainstTheTestCA() throws {
        let server = TLSSession(context: try serverContext())
        let client = TLSSession(clientContext: try clientContext(), serverName: "www.example.test")
        let (clientResult, _) = handshake(client: client, server: server)
        #expect(clientResult == .done)
    }

    @Test(arguments: [
        ("localhost", "localhost"), ("other.test", "other.test"), ("a.other.test", "other.test"),
        ("OTHER.test.", "other.test"), ("x.wild.test", "localhost"), ("unknown.test", "localhost"),
        ("a.b.other.test", "localhost"),
    ])
    func serverNamePicksTheCertificate(serverName: String, expectedName: String) throws {
        let server = TLSSession(context: try serverContext(["ecdsa", "other"]))
        let client = TLSSession(clientContext: try clientContext(verifying: false), serverName: serverName)
        let (clientResult, serverResult) = handshake(client: client, server: server)
        #expect(clientResult == .done && serverResult == .done)
        #expect(client.peerCertificateNames.contains(expectedName))
    }

    @Test func noServerNameGetsTheDefaultCertificate() throws {
        let server = TLSSession(context: try serverContext(["other", "ecdsa"]))
        let client = TLSSession(clientContext: try clientContext(verifying: false), serverName: nil)
        handshake(client: client, server: server)
        #expect(client.peerCertificateNames == ["*.other.test", "other.test"])
    }

    @Test(arguments: [
        (nil as String?, nil as String?, "ECDSA"),
        ("ECDHE-RSA-AES128-GCM-SHA256", nil, "RSA"),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", nil, "ECDSA"),
        (nil, "rsa_pss_rsae_sha256", "RSA"),
    ])
    func servesECDSAAndRSACertificatesForTheSameName(ciphers: String?, signatureAlgorithms: String?, keyType: String)
        throws
    {
        let server = TLSSession(context: try serverContext(["ecdsa", "rsa"]))
        let client = TLSSession(
            clientContext: try clientContext(
                maximumVersion: ciphers == nil ? .tls13 : .tls12, ciphers: ciphers,
                signatureAlgorithms: signatureAlgorithms),
            serverName: "localhost")
        let (clientResult, serverResult) = handshake(client: client, server: server)
        #expect(clientResult == .done && serverResult == .done)
        #expect(client.peerCertificateKeyType == keyType)
    }

    @Test func plaintextHTTPFailsTheHandshakeCleanly() throws {
        let server = TLSSession(context: try serverContext())
        server.feed(ciphertext: Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        let error = try #require(failure(server.handshake()))
        #expect(error.kind == .handshake)
        #expect(error.description.contains("http request"))
        #expect(server.shutdown() == .closed)  // no close_notify after a failed handshake
    }

    @Test func randomBytesFailTheHandshakeCleanly() throws {
        let server = TLSSession(context: try serverContext())
        server.feed(ciphertext: pattern(600, seed: 3))
        let error = try #require(failure(server.handshake()))
        #expect(error.kind == .handshake)
        #expect(!error.reasons.isEmpty)
    }

    @Test func aClientLeavingMidHandshakeIsAQuietClose() throws {
        let server = TLSSession(context: try serverContext())
        let client = TLSSession(clientContext: try clientContext(), serverName: "localhost")
        _ = client.handshake()
        let hello = client.takeCiphertext()
        server.feed(ciphertext: hello.prefix(hello.count / 2))
        #expect(server.handshake() == .wantRead)
        server.feedEndOfStream()
        #expect(server.handshake() == .closed)
    }

    @Test func waitsForMoreBytesOfASplitClientHello() throws {
        let server = TLSSession(context: try serverContext())
        let client = TLSSession(clientContext: try clientContext(), serverName: "localhost")
        _ = client.handshake()
        for byte in client.takeCiphertext() {
            #expect(server.handshake() == .wantRead)
            server.feed(ciphertext: [byte])
        }
        let (clientResult, serverResult) = handshake(client: client, server: server)
        #expect(clientResult == .done && serverResult == .done)
    }
}
