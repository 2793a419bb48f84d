import FioguardPolicy
import FioguardServices
import Logging
import ServiceLifecycle

/// Decides held enrollments (`enroll` webhooks that `enroll.complete` may still claim) once their
/// tickets have expired (plus `WebhookService.holdGraceSeconds`). Holds last at most the policy's
/// `enrollment.ticketTTL`, so it looks every quarter of that, between 1 and 30 seconds: a held
/// enrollment is decided at most that long after it is due. A hold left by a stopped daemon is
/// decided right after the next start.
struct HeldEnrollmentScheduler: Service {
    let webhooks: WebhookService
    let policy: PolicyHolder
    let logger: Logger

    func run() async throws {
        await Rounds.run(every: { Self.interval(policy.current) }, logger: logger, failure: "deciding held enrollments failed") {
            while try await webhooks.decideHeldEnrollments(limit: 200) == 200 {}
        }
    }

    static func interval(_ policy: Policy) -> Int64 {
        let ttl = Timestamp(secondsSinceEpoch: 0).adding(policy.ticketTTL).secondsSinceEpoch
        return min(30, max(1, ttl / 4))
    }
}
