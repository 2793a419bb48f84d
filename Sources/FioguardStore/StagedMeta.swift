/// `meta` values that many closures of a group overwrite in turn, such as the audit trail's head:
/// each would otherwise read and write the same row once per closure (two statements, about
/// 20,000 instructions of a `consent.record`). They are kept in memory while the group runs and
/// written once, just before it commits (`GroupCommitter`), in the same transaction.
struct StagedMeta {
    /// Set in the open transaction, not yet written.
    var pending: [String: [UInt8]] = [:]
    /// Written by a transaction that committed: what the database holds, without reading it.
    var committed: [String: [UInt8]] = [:]
}

extension Connection {
    /// Sets `key` in `meta` as of the end of the current write transaction: later closures of the
    /// group read it back with `stagedMeta(_:)`, and the writer writes the last value once, before
    /// COMMIT. A closure that throws after this is undone like one that ran a write (see
    /// `GroupCommitter`). Only for keys written no other way (`setMeta` bypasses the staging).
    public func setStagedMeta(_ key: String, _ value: [UInt8]) throws(StoreError) {
        // Only the writer commits staged values; a reader would keep them forever.
        guard !isReadOnly else { throw .misuse("staged meta values are for write closures") }
        staged.pending[key] = value
        noteWriteAttempt()
    }

    /// `key`'s value in `meta` as the current transaction sees it: staged in it, else last
    /// committed through `setStagedMeta`, else read from the database (and kept).
    public func stagedMeta(_ key: String) throws(StoreError) -> [UInt8]? {
        guard !isReadOnly else { throw .misuse("staged meta values are for write closures") }
        if let value = staged.pending[key] ?? staged.committed[key] { return value }
        let value = try meta(key)
        if let value { staged.committed[key] = value }
        return value
    }

    /// Writes the staged values, inside the transaction about to commit.
    func writeStagedMeta() throws(StoreError) {
        for (key, value) in staged.pending { try setMeta(key, value) }
    }

    /// After COMMIT: the staged values are the database's now.
    func stagedMetaCommitted() {
        staged.committed.merge(staged.pending) { _, new in new }
        staged.pending.removeAll(keepingCapacity: true)
    }

    /// After a rollback of the whole transaction. The committed values are forgotten too and read
    /// again when next asked for: after a failure, the database is what counts.
    func discardStagedMeta() {
        staged.pending.removeAll(keepingCapacity: true)
        staged.committed.removeAll()
    }
}
