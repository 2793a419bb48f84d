import FioguardServices
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the policy on SIGHUP: validate, then swap; a bad file keeps the old policy running.
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
        } catch {
            // The store's: recording the activation failed (the old policy stays in force), or
            // the retention dates' recompute after it did (the next start finishes it).
            logger.error("policy reload failed", metadata: ["error": "\(error)", "policyVersion": "\(service.versionInForce)"])
            throw error
        }
    }
}
