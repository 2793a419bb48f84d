import CSQLite

/// Work handed to a store thread: run it on that thread's connection, then resume the caller.
protocol StoreRequest: AnyObject, Sendable {
    /// False for work that must run outside any transaction (a WAL checkpoint).
    var isTransactional: Bool { get }
    /// Runs the caller's work; returns false if it threw (its changes must be rolled back).
    func perform(on connection: Connection) -> Bool
    /// Resumes the caller with its own error if it threw, else `groupError` if the enclosing
    /// transaction failed, else its value.
    func complete(groupError: (any Error)?)
    /// Forgets the outcome of a run whose transaction was rolled back, before the group runs
    /// again: should the next run not reach this request, its caller gets the group's error.
    func discardOutcome()
}

/// A caller's `read`/`write` closure and the continuation awaiting it.
///
/// Not generic: `make` builds one closure that knows the caller's result type, and `Database.read`
/// and `write` are `@inlinable`, so that closure is compiled for that type in the calling module.
/// A generic request class ran its `perform` and `complete` unspecialized behind the
/// `StoreRequest` protocol, and looked up the metadata of `Result<T, Error>`, `Optional` of that
/// and `CheckedContinuation<T, Error>` in the runtime's cache on every call (with the checked
/// continuation's allocation, about 6,500 instructions of a `facialId.show` by `make callgrind`).
///
/// `@unchecked Sendable`: `step` captures the outcome, written by `perform` and read by `complete`,
/// both on the one store thread that took the request from its `JobQueue`; the queue's mutex
/// orders that hand-off after the caller's enqueue, and the caller never touches the request again.
@usableFromInline
final class ClosureRequest: StoreRequest, @unchecked Sendable {
    @usableFromInline
    enum Step {
        /// Run the caller's closure; answer whether it returned (false: it threw).
        case perform(Connection)
        /// Resume the caller: with its own error if it threw, else `groupError` if the enclosing
        /// transaction failed, else its value.
        case complete(groupError: (any Error)?)
        /// Forget the outcome of a run that was rolled back.
        case discard
    }

    private let step: (Step) -> Bool

    @usableFromInline
    init(_ step: @escaping (Step) -> Bool) {
        self.step = step
    }

    /// The request for `body`, resuming `continuation` once. The store resumes every request it
    /// accepted exactly once (its threads drain their queues before they exit), which is what
    /// makes an unchecked continuation safe here.
    @inlinable
    static func make<T: Sendable>(
        body: @escaping @Sendable (Connection) throws -> T, continuation: UnsafeContinuation<T, any Error>
    ) -> ClosureRequest {
        var outcome: Result<T, any Error>?
        return ClosureRequest { step in
            switch step {
            case .perform(let connection):
                do {
                    outcome = .success(try body(connection))
                    return true
                } catch {
                    outcome = .failure(error)
                    return false
                }
            case .complete(let groupError):
                switch outcome {
                case .failure(let error):
                    continuation.resume(throwing: error)
                case .success(let value):
                    if let groupError {
                        continuation.resume(throwing: groupError)
                    } else {
                        continuation.resume(returning: value)
                    }
                case nil:
                    continuation.resume(throwing: groupError ?? StoreError.notRun)
                }
                return true
            case .discard:
                outcome = nil
                return true
            }
        }
    }

    var isTransactional: Bool { true }

    func perform(on connection: Connection) -> Bool {
        connection.runsCallerCode = true
        defer { connection.runsCallerCode = false }
        return step(.perform(connection))
    }

    func complete(groupError: (any Error)?) {
        _ = step(.complete(groupError: groupError))
    }

    func discardOutcome() {
        _ = step(.discard)
    }
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` on the writer connection, between transactions.
///
/// `@unchecked Sendable`: as for `ClosureRequest`, `failure` is only touched by the writer thread.
final class CheckpointRequest: StoreRequest, @unchecked Sendable {
    private let continuation: CheckedContinuation<Void, any Error>
    private let trigger: CheckpointTrigger
    private var failure: StoreError?

    init(continuation: CheckedContinuation<Void, any Error>, trigger: CheckpointTrigger) {
        self.continuation = continuation
        self.trigger = trigger
    }

    var isTransactional: Bool { false }

    func perform(on connection: Connection) -> Bool {
        guard !trigger.checkpointsStopped else {
            failure = .checkpointsStopped
            return false
        }
        defer { if failure?.code == SQLITE_IOERR { trigger.stopCheckpoints() } }
        do {
            // Columns: busy (1 if readers kept it from finishing), WAL frames, frames checkpointed.
            if let row = try connection.queryOne("PRAGMA wal_checkpoint(TRUNCATE)"), row.int(0) == 1 {
                failure = StoreError(
                    code: SQLITE_BUSY, message: "WAL checkpoint could not finish: readers or another checkpoint are active")
            }
        } catch {
            failure = error
        }
        return failure == nil
    }

    func discardOutcome() {
        failure = nil
    }

    func complete(groupError: (any Error)?) {
        if let error = failure ?? groupError {
            continuation.resume(throwing: error)
        } else {
            continuation.resume()
        }
    }
}
