#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle

/// Returns once the process that started the daemon has exited (the daemon is then re-parented,
/// so `getppid()` changes), or when the group shuts down. Registered with
/// `.gracefullyShutdownGroup`, so its return stops the daemon as SIGTERM would.
struct ParentWatchService: Service {
    /// The parent when the process started (read before the database is opened, so a parent
    /// that dies during start-up is noticed too).
    let parent: pid_t
    let logger: Logger
    var interval: Duration = .milliseconds(250)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if getppid() != parent {
                logger.notice("the process that started fioguard has exited; shutting down")
                return
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
