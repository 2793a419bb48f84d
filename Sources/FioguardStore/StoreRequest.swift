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
}

/// A caller's `read`/`write` closure and the continuation awaiting it.
///
/// `@unchecked Sendable`: `outcome` is written by `perform` and read by `complete`, both on the one
/// store thread that took the request from its `JobQueue`; the queue's mutex orders that hand-off
/// after the caller's enqueue, and the caller never touches the request again.
final class ClosureRequest<T: Sendable>: StoreRequest, @unchecked Sendable {
    private let body: @Sendable (Connection) throws -> T
    private let continuation: CheckedContinuation<T, any Error>
    private var outcome: Result<T, any Error>?

    init(body: @escaping @Sendable (Connection) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        self.body = body
        self.continuation = continuation
    }

    var isTransactional: Bool { true }

    func perform(on connection: Connection) -> Bool {
        connection.runsCallerCode = true
        defer { connection.runsCallerCode = false }
        do {
            outcome = .success(try body(connection))
            return true
        } catch {
            outcome = .failure(error)
            return false
        }
    }

    func complete(groupError: (any Error)?) {
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
            continuation.resume(
                throwing: groupError ?? StoreError(code: SQLITE_INTERNAL, message: "request completed without running"))
        }
    }
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` on the writer connection, between transactions.
///
/// `@unchecked Sendable`: as for `ClosureRequest`, `failure` is only touched by the writer thread.
final class CheckpointRequest: StoreRequest, @unchecked Sendable {
    private let continuation: CheckedContinuation<Void, any Error>
    private var failure: StoreError?

    init(continuation: CheckedContinuation<Void, any Error>) {
        self.continuation = continuation
    }

    var isTransactional: Bool { false }

    func perform(on connection: Connection) -> Bool {
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

    func complete(groupError: (any Error)?) {
        if let error = failure ?? groupError {
            continuation.resume(throwing: error)
        } else {
            continuation.resume()
        }
    }
}
