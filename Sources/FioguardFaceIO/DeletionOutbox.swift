public import FioguardServices
import FioguardStore  // DeletionJobRow
public import Logging
import Synchronization

/// Drains the durable deletion outbox: every job the lifecycle wrote (tombstone + job in one
/// transaction) ends as a `deletefacialid` call at FACEIO. Transport errors, timeouts, 5xx and 429
/// are retried with exponential backoff and full jitter; permanent failures stop and are reported.
/// A job's state changes only after FACEIO answered, so a crash mid-call means one more call after
/// restart, never a lost deletion; a success is recorded at most once (conditional update).
public final class DeletionOutbox: Sendable {
    private let env: ServiceEnvironment
    private let client: FaceIOClient
    private let logger: Logger
    private let limiter: RateLimiter
    private let ledger: DeletionLedger

    public init(env: ServiceEnvironment, client: FaceIOClient, logger: Logger) {
        self.env = env
        self.client = client
        self.logger = logger
        limiter = RateLimiter(perSecond: client.configuration.callsPerSecond)
        ledger = DeletionLedger(env)
    }

    /// Works until the task is cancelled. Without an API key it only waits (health says so).
    /// With one, it first makes the jobs that failed before due again (`DeletionLedger.requeueFailed`).
    public func run() async {
        let config = client.configuration
        if config.isConfigured {
            do {
                let count = try await ledger.requeueFailed()
                if count > 0 { logger.notice("failed deletions will be tried again", metadata: ["count": "\(count)"]) }
            } catch {
                logger.error("could not make failed deletions due again", metadata: ["error": "\(error)"])
            }
        }
        // Rounds in a row that failed, or found jobs due but could record no outcome (the store
        // refusing calls, say): each doubles the pause, up to 30 s, so that the same deletions are
        // not sent to FACEIO again and again, nor the same error logged, meanwhile.
        var unrecordedRounds = 0
        while !Task.isCancelled {
            var round = (due: 0, recorded: 0)
            var failed = false
            if config.isConfigured {
                do {
                    round = try await drainRound()
                } catch {
                    failed = true
                    logger.error("deletion outbox round failed", metadata: ["error": "\(error)"])
                }
            }
            unrecordedRounds = failed || (round.due > 0 && round.recorded == 0) ? unrecordedRounds + 1 : 0
            if round.recorded == 0 {
                let pause = min(30_000, config.pollIntervalMilliseconds << min(unrecordedRounds, 16))
                try? await Task.sleep(for: .milliseconds(pause))
            }
        }
    }

    /// One round: the jobs due now, `maxConcurrentCalls` at a time. How many were due, and for how
    /// many an outcome was recorded (a job whose outcome could not be recorded stays due).
    private func drainRound() async throws -> (due: Int, recorded: Int) {
        let jobs = try await ledger.due(limit: 64)
        guard !jobs.isEmpty else { return (0, 0) }
        let width = max(1, client.configuration.maxConcurrentCalls)
        let recorded = await withTaskGroup(of: Bool.self) { group in
            var iterator = jobs.makeIterator()
            var recorded = 0
            for _ in 0..<width {
                guard let job = iterator.next() else { break }
                group.addTask { await self.attempt(job) }
            }
            while let outcome = await group.next() {
                if outcome { recorded += 1 }
                if Task.isCancelled { break }
                if let job = iterator.next() { group.addTask { await self.attempt(job) } }
            }
            return recorded
        }
        return (jobs.count, recorded)
    }

    /// Calls FACEIO for `job` and records the outcome; false when recording failed.
    private func attempt(_ job: DeletionJobRow) async -> Bool {
        let outcome: DeletionOutcome
        if let facialID = job.facialID {
            await limiter.acquire()
            outcome = await client.deleteFacialID(facialID)
        } else {
            outcome = .permanent("no Facial ID on the job")  // cannot happen for jobs the lifecycle wrote
        }
        let facialRef = job.facialID.map(env.pseudonymizer.facialID) ?? "-"
        do {
            switch outcome {
            case .deleted:
                try await ledger.completed(job)
                logger.info("facial id deleted at FACEIO", metadata: ["facialRef": "\(facialRef)", "attempts": "\(job.attempts + 1)"])
            case .retryable(let message):
                let config = client.configuration
                let delay = Backoff.fullJitter(attempt: Int(job.attempts + 1), base: config.backoffBaseSeconds, cap: config.backoffCapSeconds)
                try await ledger.retry(job, afterSeconds: Int64(delay.rounded(.up)), error: message)
                logger.warning("deletion will be retried", metadata: ["facialRef": "\(facialRef)", "error": "\(message)"])
            case .permanent(let message):
                try await ledger.failed(job, error: message)
                logger.error("deletion failed permanently", metadata: ["facialRef": "\(facialRef)", "error": "\(message)"])
            }
        } catch {
            logger.error("could not record a deletion outcome; the job stays due", metadata: ["error": "\(error)"])
            return false
        }
        return true
    }
}

/// Exponential backoff with full jitter: uniform in [0, min(cap, base·2^attempt)].
enum Backoff {
    static func fullJitter(attempt: Int, base: Double, cap: Double) -> Double {
        let ceiling = min(cap, base * Double(1 << min(attempt, 30)))
        return Double.random(in: 0...max(ceiling, 0.001))
    }
}

/// A token bucket: `perSecond` calls per second, bursts up to the same number.
final class RateLimiter: Sendable {
    private struct State {
        var tokens: Double
        var last: ContinuousClock.Instant
    }

    private let perSecond: Double
    private let state: Mutex<State>

    init(perSecond: Double) {
        self.perSecond = max(perSecond, 0.1)
        state = Mutex(State(tokens: max(perSecond, 1), last: .now))
    }

    func acquire() async {
        while true {
            let wait: Double = state.withLock { s in
                let now = ContinuousClock.now
                let elapsed = now - s.last
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                s.tokens = min(max(perSecond, 1), s.tokens + seconds * perSecond)
                s.last = now
                if s.tokens >= 1 {
                    s.tokens -= 1
                    return 0
                }
                return (1 - s.tokens) / perSecond
            }
            if wait == 0 { return }
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1))
        }
    }
}
