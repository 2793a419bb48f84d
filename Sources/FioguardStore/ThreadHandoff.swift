/// Moves a non-`Sendable` worker (which owns a `Connection`) to the one thread that will run it.
///
/// `@unchecked Sendable`: the creator builds the worker, wraps it and never touches it again; after
/// the hand-off only the started thread uses it, so it is never shared.
struct ThreadHandoff: @unchecked Sendable {
    private let body: () -> Void

    init<Worker>(_ worker: Worker, _ entry: @escaping (Worker) -> Void) {
        body = { entry(worker) }
    }

    func run() { body() }
}
