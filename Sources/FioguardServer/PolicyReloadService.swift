import FioguardServices
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the policy on SIGHUP: validate, record, then swap; a bad file, or an activation that
/// cannot be recorded, keeps the old policy running.
struct PolicyReloadService: Service {
    let reloader: PolicyReloader
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                _ = try await reloader.reload(caller: .system)
            } catch {
                // Already logged by the reloader; keep serving.
            }
        }
    }
}

/// The one place a policy source is re-read and activated (SIGHUP and `policy.reload`).
struct PolicyReloader: Sendable {
    let source: PolicySource
    let service: PolicyService
    let logger: Logger

    func reload(caller: Caller) async throws -> String {
        do {
            let (policy, _) = try await service.activate(loading: source.load, source: source.description, caller: caller)
            logger.info("policy reloaded", metadata: ["policyVersion": "\(policy.version)"])
            return policy.version
        } catch let e as PolicyLoadError {
            logger.error("policy reload refused; previous policy stays in force", metadata: ["error": "\(e.message)"])
            throw e.rpcError
        } catch PolicyActivationError.notRecorded(let inForce, let underlying) {
            logger.error(
                "policy reload failed: its activation could not be recorded; previous policy stays in force",
                metadata: ["error": "\(underlying)", "policyVersion": "\(inForce)"])
            throw underlying
        } catch PolicyActivationError.recomputeIncomplete(let inForce, let underlying) {
            logger.error(
                "policy activated, but not every retention date is recomputed; a reload of it or the next start finishes them",
                metadata: ["error": "\(underlying)", "policyVersion": "\(inForce)"])
            throw underlying
        } catch {
            logger.error("policy reload failed", metadata: ["error": "\(error)"])
            throw error
        }
    }
}
