import FioguardPolicy
import FioguardServices
import Logging
import ServiceLifecycle

/// Sweeps retention on its own at the policy's `sweep.interval` (re-read each round, so a reload
/// takes effect at the next round). The first sweep runs right after start-up.
struct RetentionScheduler: Service {
    let retention: RetentionService
    let policy: PolicyHolder
    let logger: Logger

    func run() async throws {
        await Rounds.run(
            every: { Timestamp(secondsSinceEpoch: 0).adding(policy.current.sweepInterval).secondsSinceEpoch },
            logger: logger, failure: "scheduled retention sweep failed"
        ) {
            // Drain in bounded rounds so one huge backlog cannot starve requests.
            while try await retention.sweep(dryRun: false, limit: 5000, caller: .system).expired.count == 5000 {}
        }
    }
}
