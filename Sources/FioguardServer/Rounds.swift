import Logging
import ServiceLifecycle

/// The loop of a service that works in rounds (the retention and held-enrollment schedulers): a
/// round right after start-up, then one every `seconds()` (read again after each round, so a
/// policy reload takes effect at the next). A failed round is logged and the next comes as usual.
/// Cancellation (another service failed) ends the loop as surely as a graceful shutdown.
enum Rounds {
    static func run(
        every seconds: () -> Int64, logger: Logger, failure: Logger.Message, _ round: () async throws -> Void
    ) async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await round()
            } catch {
                logger.error(failure, metadata: ["error": "\(error)"])
            }
            let pause = max(1, seconds())
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(pause)) }
        }
    }
}
