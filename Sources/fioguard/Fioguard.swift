import ArgumentParser
import Dispatch
import Synchronization

/// `fioguard`: the daemon and its offline tools.
struct Fioguard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fioguard",
        abstract: "Privacy-by-design sidecar for FACEIO face login.",
        subcommands: [Serve.self, PolicyCommand.self])
}

/// A synchronous entry point that runs the command in a detached task and waits for it.
///
/// An `async` main parks the main thread in `dispatch_main()`, which ends it with
/// `pthread_exit`; Valgrind 3.19 (Debian 12's) dies of an internal SIGSEGV as soon as another
/// thread starts after that, so the daemon could not be run under callgrind, whose repeatable
/// instruction counts are how its cost per call is measured (README, "Performance"). Here the
/// main thread only waits, and the exit status is set on it, as `AsyncParsableCommand.main()`
/// would: `exit(withError:)` maps help, usage errors and `ExitCode` to the same codes.
@main
enum Entry {
    static func main() {
        let failure = Mutex<(any Error)?>(nil)
        let done = DispatchSemaphore(value: 0)
        // Detached: `main` is on the main actor, whose thread is about to block on `done`.
        Task.detached {
            do {
                var command = try Fioguard.parseAsRoot()
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch {
                failure.withLock { $0 = error }
            }
            done.signal()
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { Fioguard.exit(withError: error) }
    }
}
