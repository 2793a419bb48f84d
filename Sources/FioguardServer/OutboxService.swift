import FioguardFaceIO
import ServiceLifecycle

/// The deletion outbox worker as a lifecycle `Service`: stops at graceful shutdown; a call cut
/// short is simply retried after the next start (jobs are durable).
struct OutboxService: Service {
    let outbox: DeletionOutbox

    func run() async throws {
        await cancelWhenGracefulShutdown { await outbox.run() }
    }
}
