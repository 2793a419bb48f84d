/// A row of `facial_ids`, joined with its deletion job when there is one.
public struct FacialIDRow: Sendable {
    public var id: Int64
    public var facialID: String?
    public var subjectID: Int64
    public var status: String
    public var enrolledAt: Int64
    public var lastAuthenticatedAt: Int64?
    public var retainUntil: Int64
    public var retainRule: String
    public var country: String
    public var region: String?
    public var deletedAt: Int64?
    public var deletion: DeletionJobRow?
}

/// A row of `deletion_jobs`.
public struct DeletionJobRow: Sendable {
    public var id: Int64
    public var facialRow: Int64
    public var facialID: String?
    public var status: String
    public var reason: String
    public var requestedAt: Int64
    public var nextAttemptAt: Int64
    public var attempts: Int64
    public var lastError: String?
    public var completedAt: Int64?
}

/// An active Facial ID past its retention date, found by a sweep.
public struct ExpiredFacialIDRow: Sendable {
    public var id: Int64
    public var facialID: String?
    public var subjectID: Int64
    public var retainUntil: Int64
    public var retainRule: String
}

extension Connection {
    static let facialColumns = """
        f.id, f.facial_id, f.subject_id, f.status, f.enrolled_at, f.last_authenticated_at, f.retain_until,
        f.retain_rule, f.country, f.region, f.deleted_at,
        d.id, d.facial_row, d.facial_id, d.status, d.reason, d.requested_at, d.next_attempt_at, d.attempts,
        d.last_error, d.completed_at
        """

    // Built once: `facialId.show` runs the first on every call, and the statement cache looks
    // statements up by their text.
    static let facialIDsOfSubjectSQL =
        "SELECT \(facialColumns) FROM facial_ids f LEFT JOIN deletion_jobs d ON d.facial_row = f.id WHERE f.subject_id = ? ORDER BY f.id"
    static let facialIDByHashSQL =
        "SELECT \(facialColumns) FROM facial_ids f LEFT JOIN deletion_jobs d ON d.facial_row = f.id WHERE f.fid_hash = ?"

    public func facialIDs(subjectID: Int64) throws(StoreError) -> [FacialIDRow] {
        try query(Self.facialIDsOfSubjectSQL, [.int(subjectID)]).map(FacialIDRow.init)
    }

    public func facialID(hash: String) throws(StoreError) -> FacialIDRow? {
        try queryOne(Self.facialIDByHashSQL, [.text(hash)]).map(FacialIDRow.init)
    }

    public func insertFacialID(
        facialID: String, hash: String, subjectID: Int64, enrolledAt: Int64, retainUntil: Int64, retainRule: String,
        country: String, region: String?
    ) throws(StoreError) -> Int64 {
        try run(
            """
            INSERT INTO facial_ids (facial_id, fid_hash, subject_id, status, enrolled_at, retain_until, retain_rule, country, region)
            VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?)
            """,
            [.text(facialID), .text(hash), .int(subjectID), .int(enrolledAt), .int(retainUntil), .text(retainRule), .text(country),
             region.map(SQLValue.text) ?? .null])
        return lastInsertRowID
    }

    public func touchFacialID(row: Int64, at: Int64, retainUntil: Int64, retainRule: String) throws(StoreError) {
        try run(
            "UPDATE facial_ids SET last_authenticated_at = ?, retain_until = ?, retain_rule = ? WHERE id = ? AND status = 'active'",
            [.int(at), .int(retainUntil), .text(retainRule), .int(row)])
    }

    /// Sets a recomputed retention date, unless the row was authenticated since the inputs were
    /// read (`lastAuthenticatedAt` then differs: the touch already computed a later date) or is no
    /// longer active. Returns whether it changed the row.
    @discardableResult
    public func setRetention(row: Int64, retainUntil: Int64, retainRule: String, lastAuthenticatedAt: Int64?) throws(StoreError) -> Bool {
        try run(
            "UPDATE facial_ids SET retain_until = ?, retain_rule = ? WHERE id = ? AND status = 'active' AND last_authenticated_at IS ?",
            [.int(retainUntil), .text(retainRule), .int(row), lastAuthenticatedAt.map(SQLValue.int) ?? .null]) == 1
    }

    /// Marks the row as being deleted and writes its outbox job, in the caller's transaction.
    /// Returns false when it was not active (already deleting or deleted: nothing to do), or, with
    /// `dueBy`, when its retention date is now later than that (the sweep read it expired, then an
    /// authentication pushed the date back).
    public func tombstoneFacialID(row: Int64, reason: String, now: Int64, notBefore: Int64, dueBy: Int64? = nil) throws(StoreError) -> Bool {
        let changed: Int
        if let dueBy {
            changed = try run(
                "UPDATE facial_ids SET status = 'deleting' WHERE id = ? AND status = 'active' AND retain_until <= ?", [.int(row), .int(dueBy)])
        } else {
            changed = try run("UPDATE facial_ids SET status = 'deleting' WHERE id = ? AND status = 'active'", [.int(row)])
        }
        guard changed == 1 else { return false }
        try run(
            """
            INSERT INTO deletion_jobs (facial_row, facial_id, status, reason, requested_at, next_attempt_at)
            SELECT id, facial_id, 'pending', ?, ?, ? FROM facial_ids WHERE id = ?
            """,
            [.text(reason), .int(now), .int(notBefore), .int(row)])
        return true
    }

    /// Makes the row's deletion due at `now`, for a request that must act at once (account
    /// erasure, a user's own delete): a pending job not tried yet and deferred to later (the delay
    /// after a revocation) is brought forward, and a failed one is tried again (its key or URL may
    /// have been fixed since). A job waiting out its backoff after a failed call keeps it, so
    /// repeated requests cannot set the pace of calls to FACEIO. Returns whether a job changed.
    public func expediteDeletion(row: Int64, now: Int64) throws(StoreError) -> Bool {
        try run(
            """
            UPDATE deletion_jobs SET status = 'pending', next_attempt_at = ?, completed_at = NULL
            WHERE facial_row = ? AND ((status = 'pending' AND attempts = 0 AND next_attempt_at > ?) OR status = 'failed')
            """,
            [.int(now), .int(row), .int(now)]) > 0
    }

    /// Forgets the raw Facial IDs of an erased subject (the outbox keeps its own copy until done).
    public func eraseFacialIDValues(subjectID: Int64) throws(StoreError) {
        try run("UPDATE facial_ids SET facial_id = NULL WHERE subject_id = ?", [.int(subjectID)])
    }

    /// Active Facial IDs whose retention date has passed, oldest first.
    public func expiredFacialIDs(at now: Int64, limit: Int) throws(StoreError) -> [ExpiredFacialIDRow] {
        try query(
            "SELECT id, facial_id, subject_id, retain_until, retain_rule FROM facial_ids WHERE status = 'active' AND retain_until <= ? ORDER BY retain_until LIMIT ?",
            [.int(now), .int(Int64(limit))]
        ).map { ExpiredFacialIDRow(id: $0.int(0)!, facialID: $0.text(1), subjectID: $0.int(2)!, retainUntil: $0.int(3)!, retainRule: $0.text(4)!) }
    }

    public func countActiveFacialIDs() throws(StoreError) -> Int64 {
        try queryOne("SELECT count(*) FROM facial_ids WHERE status = 'active'")?.int(0) ?? 0
    }

    /// Every active row's inputs to the retention rule (policy reload recomputes them).
    public func forEachActiveFacialID(_ body: (_ row: Int64, _ enrolledAt: Int64, _ lastAuth: Int64?, _ country: String, _ region: String?) throws -> Void) throws {
        try forEach(
            "SELECT id, enrolled_at, last_authenticated_at, country, region FROM facial_ids WHERE status = 'active'", []
        ) { r in try body(r.int(0)!, r.int(1)!, r.int(2), r.text(3)!, r.text(4)) }
    }

    // MARK: outbox

    public func deletionCounts() throws(StoreError) -> (pending: Int64, failed: Int64, done: Int64) {
        var pending: Int64 = 0, failed: Int64 = 0, done: Int64 = 0
        for r in try query("SELECT status, count(*) FROM deletion_jobs GROUP BY status") {
            switch r.text(0) {
            case "pending": pending = r.int(1) ?? 0
            case "failed": failed = r.int(1) ?? 0
            default: done = r.int(1) ?? 0
            }
        }
        return (pending, failed, done)
    }
}

extension FacialIDRow {
    init(_ r: Row) {
        self.init(
            id: r.int(0)!, facialID: r.text(1), subjectID: r.int(2)!, status: r.text(3)!, enrolledAt: r.int(4)!,
            lastAuthenticatedAt: r.int(5), retainUntil: r.int(6)!, retainRule: r.text(7)!, country: r.text(8)!,
            region: r.text(9), deletedAt: r.int(10),
            deletion: r.int(11).map { jobID in
                DeletionJobRow(
                    id: jobID, facialRow: r.int(12)!, facialID: r.text(13), status: r.text(14)!, reason: r.text(15)!,
                    requestedAt: r.int(16)!, nextAttemptAt: r.int(17)!, attempts: r.int(18)!, lastError: r.text(19),
                    completedAt: r.int(20))
            })
    }
}
