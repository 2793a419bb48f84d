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
        // Cancellation (another service failed) ends the loop as surely as a graceful shutdown.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // Drain in bounded rounds so one huge backlog cannot starve requests.
                while true {
                    let report = try await retention.sweep(dryRun: false, limit: 5000, caller: .system)
                    if report.expired.count < 5000 { break }
                }
            } catch {
                logger.error("scheduled retention sweep failed", metadata: ["error": "\(error)"])
            }
            let interval = policy.current.sweepInterval
            let seconds = max(1, Timestamp(secondsSinceEpoch: 0).adding(interval).secondsSinceEpoch)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(seconds)) }
        }
    }
}
