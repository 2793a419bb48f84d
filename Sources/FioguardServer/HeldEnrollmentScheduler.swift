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
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                while try await webhooks.decideHeldEnrollments(limit: 200) == 200 {}
            } catch {
                logger.error("deciding held enrollments failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(Self.interval(policy.current))) }
        }
    }

    static func interval(_ policy: Policy) -> Int64 {
        let ttl = Timestamp(secondsSinceEpoch: 0).adding(policy.ticketTTL).secondsSinceEpoch
        return min(30, max(1, ttl / 4))
    }
}
