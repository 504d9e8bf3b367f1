import Glibc
import Logging
import Reactor

/// What the renewer orders and from whom.
public struct ACMEOptions: Sendable {
    public var domains: [String]
    public var directoryURL: String
    public var email: String?
    public var caBundle: String?
    /// Challenge types we answer, preferred first (`http-01` needs the plain port).
    public var challengeTypes: [String]
    /// `CONFIG_PATH/acme`.
    public var stateDirectory: String

    public init(
        domains: [String], directoryURL: String, email: String?, caBundle: String?, challengeTypes: [String],
        stateDirectory: String
    ) {
        self.domains = domains
        self.directoryURL = directoryURL
        self.email = email
        self.caBundle = caBundle
        self.challengeTypes = challengeTypes
        self.stateDirectory = stateDirectory
    }
}

/// The one ACME thread of the process: orders when there is no certificate for the names, renews on the
/// schedule, and writes the files that the server's certificate watcher hot-reloads. A failure is one log
/// line naming the domains and the CA's problem; the certificate on disk (if any) keeps serving.
public final class CertificateRenewer: Sendable {
    public let options: ACMEOptions
    public let files: CertificateFiles
    private let responder: any ChallengeResponder
    private let logger: Logger
    private let stopped = Locked(false)
    private let finished = Locked(false)

    public init(options: ACMEOptions, responder: any ChallengeResponder, logger: Logger) {
        self.options = options
        files = CertificateFiles(directory: options.stateDirectory, domains: options.domains)
        self.responder = responder
        self.logger = logger
    }

    /// Asks `run` to return at its next wake-up (within a tenth of a second when it waits, at the next step of
    /// an order in flight).
    public func stop() { stopped.withLock { $0 = true } }

    /// Waits up to `seconds` for `run` to return after `stop`; false if an order is still in flight.
    public func waitUntilFinished(seconds: Double) -> Bool {
        let deadline = Double(time(nil)) + seconds
        while !finished.withLock({ $0 }) {
            if Double(time(nil)) >= deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// Sleeps `seconds`, or less once `stop` is called.
    private func pause(seconds: Int) {
        for _ in 0..<(seconds * 10) where !stopped.withLock({ $0 }) { usleep(100_000) }
    }

    private func makeClient() throws(ACMEError) -> ACMEClient {
        ACMEClient(
            directoryURL: options.directoryURL, http: try HTTPSClient(caBundle: options.caBundle),
            accountKey: try files.accountKey(), logger: logger)
    }

    /// Runs until `stop`. Call on a thread of its own.
    public func run() {
        defer { finished.withLock { $0 = true } }
        var schedule = RenewalSchedule(jitter: Double(UInt32.random(in: 0..<1000)) / 1000)
        var nextAttempt: Int64 = 0
        var retrying = false
        var waitingForOther = false
        let names = options.domains.map { $0.lowercased() }.sorted()
        let domains = options.domains.joined(separator: ",")
        // ARI (RFC 9773) for the stored certificate: its serial, the CA's window if it gave one, when to ask.
        var renewalInfo: (serial: String, info: RenewalInfo?, checkAt: Int64)?
        func due(_ stored: CertificateInfo) -> Int64 {
            let window = renewalInfo?.serial == stored.serial ? renewalInfo?.info?.window : nil
            return schedule.renewalTime(notBefore: stored.notBefore, notAfter: stored.notAfter, window: window)
        }
        func refreshRenewalInfo(_ stored: CertificateInfo, now: Int64) {
            do {
                let info = try makeClient().renewalInfo(for: stored)
                let wait = Int64(min(max(info?.retryAfter ?? 6 * 3600, 60), 24 * 3600))
                if let info, info != renewalInfo?.info {
                    logger.info(
                        "ACME: the CA suggests renewing \(domains) between \(RFC3339.format(info.window.lowerBound)) and \(RFC3339.format(info.window.upperBound))"
                    )
                }
                renewalInfo = (stored.serial, info, now + wait)
            } catch {
                logger.warning(
                    "ACME: no renewal information for \(domains) (\(error)); renewing at two thirds of the lifetime")
                renewalInfo = (stored.serial, nil, now + 3600)
            }
        }
        while !stopped.withLock({ $0 }) {
            let now = Int64(time(nil))
            if !retrying {
                nextAttempt = now
                if let stored = files.storedCertificate(), stored.names == names, stored.notAfter > now {
                    if renewalInfo?.serial != stored.serial {
                        // First asked a few minutes after start (a restart contacts nobody), or when renewal
                        // falls due, whichever comes first.
                        let soon = now + Int64.random(in: 60..<600)
                        renewalInfo = (stored.serial, nil, min(soon, due(stored)))
                    }
                    if let checkAt = renewalInfo?.checkAt, now >= checkAt { refreshRenewalInfo(stored, now: now) }
                    nextAttempt = due(stored)
                }
            }
            if now < nextAttempt {
                pause(seconds: 1)
                continue
            }
            let lock: OrderingLock
            do {
                guard let held = try files.lockOrdering() else {
                    // Another process on this CONFIG_PATH orders; its files reach us through the reload.
                    if !waitingForOther {
                        logger.info(
                            "ACME: another process orders for \(domains) (\(files.lockPath) is held); using its certificate"
                        )
                        waitingForOther = true
                    }
                    pause(seconds: 5)
                    continue
                }
                lock = held
            } catch {
                lock = OrderingLock(fd: -1)
                logger.error("ACME: \(error); ordering without the lock")
            }
            defer { lock.release() }
            waitingForOther = false
            let replacing = files.storedCertificate().flatMap { $0.names == names ? $0 : nil }
            if !retrying, let stored = replacing, now < due(stored) {
                continue  // written by the process that held the lock
            }
            do {
                let started = MonotonicClock.now()
                // A client per order: the directory and the account (newAccount finds it by its key) are
                // looked up afresh, so a CA that moved its endpoints or forgot the account is met again.
                let client = try makeClient()
                let key = try ACMEKey.generate()
                let chain = try client.order(
                    domains: options.domains, certificateKey: key, email: options.email,
                    types: options.challengeTypes, responder: responder, replacing: replacing)
                try files.store(key: key, chain: chain)
                let info = try CertificateInfo(pem: chain)
                schedule.succeeded()
                retrying = false
                logger.notice(
                    "ACME: certificate issued for \(domains)",
                    metadata: [
                        "serial": "\(info.serial)", "ms": "\(MonotonicClock.now() - started)",
                        "cert": "\(files.certificatePath)",
                    ])
            } catch {
                let next = schedule.failed(now: now, retryAfter: error.retryAfter, rateLimited: error.isRateLimited)
                nextAttempt = next
                retrying = true
                logger.error(
                    "ACME: ordering a certificate for \(domains) failed (attempt \(schedule.failures), next in \(next - now) s); the current certificate keeps serving: \(error)"
                )
            }
        }
    }
}
