import Synchronization

/// Runs async bodies one at a time, in the order they asked: an async mutex for work that spans
/// several database writes and must not interleave with another run of itself (a policy
/// activation and its chunked retention recompute). Waiting is not cancellable; keep bodies short
/// of anything that waits on a caller.
final class SerialGate: Sendable {
    private struct State {
        var busy = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var next = 0  // index of the first waiter not yet let in
    }

    private let state = Mutex(State())

    func run<T>(_ body: () async throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Hands the gate straight to the longest waiter (it stays busy), or opens it.
    private func leave() {
        let successor = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.next < state.waiting.count else {
                state.busy = false
                state.waiting.removeAll(keepingCapacity: false)
                state.next = 0
                return nil
            }
            defer { state.next += 1 }
            return state.waiting[state.next]
        }
        successor?.resume()
    }

    /// Bodies waiting to run (for tests).
    var waitingCount: Int { state.withLock { $0.waiting.count - $0.next } }
}
