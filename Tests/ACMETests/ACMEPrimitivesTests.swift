import ACME
import Foundation
import Testing

@Test(arguments: [
    ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("\u{FB}\u{FF}", "w7vDvw"),
])
func base64URLEncodesWithoutPadding(input: String, expected: String) {
    #expect(Base64URL.encode(input) == expected)
}

@Test func base64URLUsesTheURLAlphabet() {
    #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
}

@Test func parsesAnACMEOrder() throws {
    let text = """
        {"status": "pending", "expires": "2026-01-01T00:00:00Z",
         "identifiers": [{"type": "dns", "value": "a.test"}], "n": -1.5e2, "ok": true, "none": null,
         "authorizations": ["https://ca/authz/1"], "finalize": "https://ca/finalize/1", "s": "a\\"\\u00e9\\ud83d\\ude00"}
        """
    let json = try #require(JSON.parse(Array(text.utf8)))
    #expect(json["status"]?.string == "pending")
    #expect(json["identifiers"]?.array.first?["value"]?.string == "a.test")
    #expect(json["authorizations"]?.array.compactMap(\.string) == ["https://ca/authz/1"])
    #expect(json["n"] == .number(-150))
    #expect(json["ok"] == .bool(true))
    #expect(json["none"] == .null)
    #expect(json["s"]?.string == "a\"é😀")
}

@Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "\"open", "tru", "{\"a\":1} x", String(repeating: "[", count: 100)])
func refusesMalformedJSON(text: String) {
    #expect(JSON.parse(Array(text.utf8)) == nil)
}

@Test func serialisesMembersInOrderAndEscapes() {
    let value = JSON.object([("b", .number(1)), ("a", .array([.string("x\n\"y"), .bool(false), .null]))])
    #expect(value.text == #"{"b":1,"a":["x\n\"y",false,null]}"#)
}

@Test func thumbprintIsTheRFC7638DigestOfTheOrderedJWK() throws {
    let key = try ACMEKey.generate()
    let jwk = try key.jwk()
    #expect(jwk.text.hasPrefix(#"{"crv":"P-256","kty":"EC","x":""#))
    #expect(try key.thumbprint() == Base64URL.encode(Digest.sha256(Array(jwk.text.utf8))))
    // The key survives a PEM round trip.
    #expect(try ACMEKey(pem: key.pem()).thumbprint() == key.thumbprint())
}

@Test func es256SignaturesAreSixtyFourBytesAndDiffer() throws {
    let key = try ACMEKey.generate()
    let a = try key.signES256(Array("message".utf8))
    let b = try key.signES256(Array("message".utf8))
    #expect(a.count == 64 && b.count == 64)
    #expect(a != b)  // ECDSA is randomised
}

@Test func certificateRequestIsDER() throws {
    let der = try CertificateRequest.der(domains: ["a.test", "b.test"], key: ACMEKey.generate())
    #expect(der.first == 0x30)  // SEQUENCE
    #expect(der.count > 200)
}

@Test func renewsAtTwoThirdsWithJitterBelow() {
    let early = RenewalSchedule(jitter: 0.999)
    let late = RenewalSchedule(jitter: 0)
    #expect(late.renewalTime(notBefore: 0, notAfter: 90 * 86400) == 60 * 86400)
    let jittered = early.renewalTime(notBefore: 0, notAfter: 90 * 86400)
    #expect(jittered < 60 * 86400 && jittered > 57 * 86400)
    #expect(late.renewalTime(notBefore: 0, notAfter: 100, window: 40...60) == 40)
}

@Test func backsOffExponentiallyAndHonoursTheCA() {
    var schedule = RenewalSchedule(jitter: 0)
    #expect(schedule.failed(now: 1000, retryAfter: nil, rateLimited: false) == 1010)
    #expect(schedule.failed(now: 1000, retryAfter: nil, rateLimited: false) == 1020)
    #expect(schedule.failed(now: 1000, retryAfter: 500, rateLimited: false) == 1500)
    #expect(schedule.failed(now: 1000, retryAfter: nil, rateLimited: true) == 4600)
    for _ in 0..<20 { _ = schedule.failed(now: 0, retryAfter: nil, rateLimited: false) }
    #expect(schedule.failed(now: 0, retryAfter: nil, rateLimited: false) == 6 * 3600)
    schedule.succeeded()
    #expect(schedule.failures == 0)
}

@Test func oneHolderOfTheOrderingLockAtATime() throws {
    let directory = "/tmp/mywebsite-acme-lock-\(getpid())"
    defer { _ = try? FileManager.default.removeItem(atPath: directory) }
    let files = CertificateFiles(directory: directory + "/acme", domains: ["a.test"])
    let held = try #require(try files.lockOrdering())
    // flock belongs to the open file: a second open, as another process would make, is refused.
    #expect(try files.lockOrdering() == nil)
    held.release()
    let again = try #require(try files.lockOrdering(), "released, the lock can be taken again")
    again.release()
}

/// RFC 9773 §4.1's example: authority key identifier 69:88:5B:…:D4 and serial 0x87654321 (DER 00 87 65 43 21).
let ariExampleCertificate = """
    -----BEGIN CERTIFICATE-----
    MIIBaTCCARCgAwIBAgIFAIdlQyEwCgYIKoZIzj0EAwIwETEPMA0GA1UEAwwGYXJp
    LWNhMB4XDTI2MTIwNjIwNDAwM1oXDTM2MTIwMzIwNDAwM1owETEPMA0GA1UEAwwG
    YS50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE92BfwvqUpUeAPjKpDCVt
    SWOeFZ9kiRQwHuS6TNaBj5x7mzZDWwtJspz0ld71EuMpunZ5ldUB1UqRgcYhHW52
    C6NVMFMwEQYDVR0RBAowCIIGYS50ZXN0MB8GA1UdIwQYMBaAFGmIW2uHRkBB4bN7
    hHugrizeAcjUMB0GA1UdDgQWBBTWwwGT4gYn68oruV6UJHLHhla3RTAKBggqhkjO
    PQQDAgNHADBEAiA4rGQvzq1CMIj+pquZ1V5wvqVtUp1GEvK34cuObImm2wIgb3K7
    4K5Y4nkDqOZ2PuwxxKGiHpfSoq5ah2cdi/m4Gwc=
    -----END CERTIFICATE-----
    """

@Test func renewalInfoIdentifierIsTheRFC9773Example() throws {
    let info = try CertificateInfo(pem: ariExampleCertificate)
    #expect(info.serial == "87654321")
    #expect(info.renewalInfoIdentifier == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
}

@Test(arguments: [
    ("2025-01-02T04:00:00Z", Int64(1_735_790_400)), ("2025-01-02T04:00:00.123456Z", 1_735_790_400),
    ("2025-01-02T06:30:00+02:30", 1_735_790_400), ("2025-01-01T23:00:00-05:00", 1_735_790_400),
    ("1970-01-01t00:00:00z", 0),
])
func parsesRFC3339(text: String, seconds: Int64) {
    #expect(RFC3339.seconds(text) == seconds)
}

@Test(arguments: [
    "", "2025-01-02", "2025-01-02T04:00:00", "2025-13-02T04:00:00Z", "2025-01-02T04:00:00.Z", "2025-01-02 04:00:00Z",
    "2025-01-02T04:00:00+0200", "2025-01-02T04:00:00Zjunk", "2025-01-02T24:00:00Z",
])
func refusesWhatIsNotRFC3339(text: String) {
    #expect(RFC3339.seconds(text) == nil)
}

@Test func readsTheSuggestedWindowAndRenewsInsideIt() throws {
    let body =
        #"{"suggestedWindow": {"start": "2025-01-02T04:00:00Z", "end": "2025-01-03T04:00:00Z"}, "explanationURL": "https://ca.test/why"}"#
    let json = try #require(JSON.parse(Array(body.utf8)))
    let info = try #require(RenewalInfo(json: json, retryAfter: 21600))
    #expect(info.window == 1_735_790_400...1_735_876_800 && info.retryAfter == 21600)
    #expect(RFC3339.format(info.window.lowerBound) == "2025-01-02T04:00:00Z")
    // The CA's window wins over two thirds of the lifetime; the jitter places this process inside it.
    let schedule = RenewalSchedule(jitter: 0.5)
    #expect(schedule.renewalTime(notBefore: 0, notAfter: 9_000_000_000, window: info.window) == 1_735_833_600)
    let backwards = #"{"suggestedWindow": {"start": "2025-01-03T04:00:00Z", "end": "2025-01-02T04:00:00Z"}}"#
    let reversed = try #require(JSON.parse(Array(backwards.utf8)))
    #expect(RenewalInfo(json: reversed, retryAfter: nil) == nil)
}
