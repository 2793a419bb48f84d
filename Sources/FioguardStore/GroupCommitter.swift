import Logging
import CSQLite

/// The writer thread's loop: takes every write waiting when it wakes (up to `maxGroupSize`) and
/// commits them in one `BEGIN IMMEDIATE … COMMIT`. Callers are resumed only after COMMIT returned,
/// which with `synchronous=FULL` means the group is on disk.
///
/// A closure that throws must leave no change behind, while the rest of its group commits. The
/// group first runs its closures one after the other, with nothing between them. A closure that
/// throws before it ran any statement that may write (`Connection.writeAttempts` unchanged: the
/// common case, a refusal after a lookup) has nothing to undo. One that throws after one, or any
/// closure after which SQLite has rolled the transaction back by itself, makes a replay: the
/// whole transaction is rolled back and the group runs again from its start, each closure inside
/// a savepoint of its own, so a throw undoes exactly that closure's changes. (Should a savepoint
/// fail, or SQLite end the transaction there, that closure fails and the others start again.)
///
/// Savepoints only for the replay, because each costs a copy of every existing page its closure
/// then changes (SQLite's statement journal): about 12 pages for a `consent.record`, over 5% of
/// its instructions with the allocations of the journal's chunks. The price is that closures of
/// a replayed group run again, so they must act on nothing but the connection (`Database.write`);
/// each caller gets the outcome of the run that committed, or the group's error.
final class GroupCommitter {
    private let connection: Connection
    private let queue: JobQueue<any StoreRequest>
    private let statistics: WriterStatistics
    private let maxGroupSize: Int
    /// Kept alive with the connection: its WAL hook refers to it unretained.
    private let checkpointTrigger: CheckpointTrigger
    private let logger: Logger

    init(
        connection: Connection, queue: JobQueue<any StoreRequest>, statistics: WriterStatistics,
        maxGroupSize: Int, checkpointTrigger: CheckpointTrigger, logger: Logger
    ) {
        self.connection = connection
        self.queue = queue
        self.statistics = statistics
        self.maxGroupSize = maxGroupSize
        self.checkpointTrigger = checkpointTrigger
        self.logger = logger
    }

    /// Runs until the queue is closed and drained, then closes the connection.
    func run() {
        while let batch = queue.takeBatch(max: maxGroupSize) {
            var start = 0
            while start < batch.count {
                if !batch[start].isTransactional {
                    let request = batch[start]
                    _ = request.perform(on: connection)
                    request.complete(groupError: nil)
                    start += 1
                    continue
                }
                var end = start
                while end < batch.count && batch[end].isTransactional { end += 1 }
                // Once checkpoints have stopped, `commitOnce` refuses the group: a page whose
                // write-back failed may read back stale, and no new frame is built on it (see
                // `CheckpointTrigger.stopCheckpoints`).
                commitGroup(batch[start..<end])
                start = end
            }
            checkpointTrigger.checkpointOnWriterIfNeeded(connection, logger: logger)
        }
        // After an I/O error on the database file the WAL must outlive the store (see
        // `CheckpointTrigger.stopCheckpoints`): no checkpoint when the last connection closes.
        if checkpointTrigger.checkpointsStopped { keepWALAtClose(connection, logger: logger) }
        connection.close()
        queue.workerStopped()
    }

    /// Commits `group`. Requests that a store failure in another's closure sent back (see
    /// `commitInSavepoints`) run again in new transactions, in order, until none is left: each
    /// transaction completes at least one request, so this ends.
    private func commitGroup(_ group: ArraySlice<any StoreRequest>) {
        var next = [Array(group)]
        while !next.isEmpty {
            let more = commitOnce(next.removeFirst()[...])
            next.insert(contentsOf: more.filter { !$0.isEmpty }, at: 0)
        }
    }

    /// One transaction for `group`; returns the groups to run next, in order (none, usually).
    private func commitOnce(_ group: ArraySlice<any StoreRequest>) -> [[any StoreRequest]] {
        // Also for the transactions a replay splits a group into: a stop seen meanwhile holds.
        guard !checkpointTrigger.checkpointsStopped else {
            for request in group { request.complete(groupError: StoreError.checkpointsStopped) }
            return []
        }
        guard begin(group) else { return [] }
        for request in group {
            let writeAttempts = connection.writeAttempts
            let returned = request.perform(on: connection)
            // A throw before any statement that may write leaves the transaction as it was.
            // Otherwise the group is replayed, and also whenever SQLite has ended the transaction
            // by itself (SQLITE_FULL, SQLITE_IOERR, … can roll back on their own), even under a
            // closure that caught the error and returned: what ran before it is gone.
            guard !connection.isAutocommit, returned || connection.writeAttempts == writeAttempts else {
                rollback()
                for member in group { member.discardOutcome() }
                statistics.recordReplay()
                return commitInSavepoints(group)
            }
        }
        guard commit(group, stage: "commit") else { return [] }
        statistics.recordGroup(writes: group.count)
        for member in group { member.complete(groupError: nil) }
        return []
    }

    /// BEGIN IMMEDIATE for a non-empty group; false if empty, or BEGIN failed (the group failed).
    private func begin(_ group: ArraySlice<any StoreRequest>) -> Bool {
        guard !group.isEmpty else { return false }
        do {
            try connection.control(.beginImmediate)
            return true
        } catch {
            fail(group, error, stage: "begin")
            return false
        }
    }

    /// Writes the staged `meta` values, then COMMITs. On failure, rolls back and fails `members`.
    private func commit(_ members: some Collection<any StoreRequest>, stage: String) -> Bool {
        do {
            guard !connection.isAutocommit else { throw StoreError.transactionLost }
            try connection.writeStagedMeta()
            try connection.control(.commit)
            connection.stagedMetaCommitted()
            return true
        } catch {
            rollback()
            fail(members, error, stage: stage)
            return false
        }
    }

    /// Undoes the open transaction, if SQLite has not already, and what it staged.
    private func rollback() {
        if !connection.isAutocommit { try? connection.control(.rollback) }
        connection.discardStagedMeta()
    }

    /// The replay of a group: each closure in a savepoint of its own. Returns the groups to run
    /// next, in order.
    private func commitInSavepoints(_ group: ArraySlice<any StoreRequest>) -> [[any StoreRequest]] {
        guard begin(group) else { return [] }
        var members: [any StoreRequest] = []
        members.reserveCapacity(group.count)
        var index = group.startIndex
        while index < group.endIndex {
            let request = group[index]
            index += 1
            do {
                let staged = connection.staged.pending
                try connection.control(.savepoint)
                if request.perform(on: connection) {
                    try connection.control(.release)
                } else {
                    try connection.control(.rollbackToSavepoint)
                    try connection.control(.release)
                    connection.staged.pending = staged
                }
                members.append(request)
            } catch {
                // Only SQLite trouble (I/O, disk full, memory) gets here, and SQLite may have
                // rolled the transaction back already (SQLITE_FULL and SQLITE_IOERR can). Whatever
                // state it is in, it can no longer be trusted: undo it. The request at which it
                // happened fails, with its own error if its closure threw (one request must go for
                // this to end, even one whose SAVEPOINT failed before it ran). The others' changes
                // went with the transaction through no fault of their own: those before it, which
                // ran to the end, run again in a transaction of their own, then those after it in
                // another, so that a limit reached again (a full disk) costs no more re-runs.
                let cause = connection.isAutocommit ? StoreError.transactionLost : error
                rollback()
                fail([request], cause, stage: "savepoint")
                for member in members { member.discardOutcome() }
                return [members, Array(group[index...])]
            }
        }
        guard commit(members, stage: "commit") else { return [] }
        statistics.recordGroup(writes: members.count)
        for member in members { member.complete(groupError: nil) }
        return []
    }

    private func fail(_ requests: some Collection<any StoreRequest>, _ error: any Error, stage: String) {
        guard !requests.isEmpty else { return }
        logger.error(
            "group commit failed",
            metadata: ["stage": "\(stage)", "writes": "\(requests.count)", "error": "\(error)"])
        for request in requests { request.complete(groupError: error) }
    }
}
