extension Connection {
    static let jobColumns = """
        id, facial_row, facial_id, status, reason, requested_at, next_attempt_at, attempts, last_error, completed_at
        """

    /// Pending jobs whose next attempt is due, oldest first.
    public func dueDeletionJobs(at now: Int64, limit: Int) throws(StoreError) -> [DeletionJobRow] {
        try query(
            "SELECT \(Self.jobColumns) FROM deletion_jobs WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
            [.int(now), .int(Int64(limit))]
        ).map(DeletionJobRow.init)
    }

    /// When the next pending job is due, if any.
    public func nextDeletionDue() throws(StoreError) -> Int64? {
        try queryOne("SELECT min(next_attempt_at) FROM deletion_jobs WHERE status = 'pending'")?.int(0)
    }

    public func deletionJob(id: Int64) throws(StoreError) -> DeletionJobRow? {
        try queryOne("SELECT \(Self.jobColumns) FROM deletion_jobs WHERE id = ?", [.int(id)]).map(DeletionJobRow.init)
    }

    public func deletionJobs(status: String?, limit: Int) throws(StoreError) -> [DeletionJobRow] {
        if let status {
            return try query(
                "SELECT \(Self.jobColumns) FROM deletion_jobs WHERE status = ? ORDER BY id DESC LIMIT ?", [.text(status), .int(Int64(limit))]
            ).map(DeletionJobRow.init)
        }
        return try query("SELECT \(Self.jobColumns) FROM deletion_jobs ORDER BY id DESC LIMIT ?", [.int(Int64(limit))]).map(DeletionJobRow.init)
    }

    /// Marks a pending job done and its Facial ID deleted. False when it was no longer pending
    /// (so a success is never recorded twice).
    public func completeDeletionJob(id: Int64, now: Int64) throws(StoreError) -> Bool {
        guard try run(
            "UPDATE deletion_jobs SET status = 'done', attempts = attempts + 1, completed_at = ?, facial_id = NULL, last_error = NULL WHERE id = ? AND status = 'pending'",
            [.int(now), .int(id)]) == 1
        else { return false }
        try run(
            "UPDATE facial_ids SET status = 'deleted', deleted_at = ? WHERE id = (SELECT facial_row FROM deletion_jobs WHERE id = ?)",
            [.int(now), .int(id)])
        return true
    }

    public func rescheduleDeletionJob(id: Int64, attempts: Int64, nextAttemptAt: Int64, error: String) throws(StoreError) {
        try run(
            "UPDATE deletion_jobs SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
            [.int(attempts), .int(nextAttemptAt), .text(error), .int(id)])
    }

    public func failDeletionJob(id: Int64, attempts: Int64, now: Int64, error: String) throws(StoreError) -> Bool {
        try run(
            "UPDATE deletion_jobs SET status = 'failed', attempts = ?, last_error = ?, completed_at = ? WHERE id = ? AND status = 'pending'",
            [.int(attempts), .text(error), .int(now), .int(id)]) == 1
    }

    /// A failed job, due again now. False when it was no longer failed.
    public func requeueFailedDeletionJob(id: Int64, now: Int64) throws(StoreError) -> Bool {
        try run(
            "UPDATE deletion_jobs SET status = 'pending', next_attempt_at = ?, completed_at = NULL WHERE id = ? AND status = 'failed'",
            [.int(now), .int(id)]) == 1
    }

    /// A deletion FACEIO reports but the sidecar did not ask for (or had not finished): records it
    /// as done so the outbox stops and `facialId.show` says deleted.
    public func recordExternalDeletion(facialRow: Int64, now: Int64) throws(StoreError) {
        try run("UPDATE facial_ids SET status = 'deleted', deleted_at = ? WHERE id = ?", [.int(now), .int(facialRow)])
        try run(
            """
            INSERT INTO deletion_jobs (facial_row, facial_id, status, reason, requested_at, next_attempt_at, completed_at)
            VALUES (?, NULL, 'done', 'deleted_at_faceio', ?, ?, ?)
            ON CONFLICT(facial_row) DO UPDATE SET status = 'done', facial_id = NULL, completed_at = excluded.completed_at
            """,
            [.int(facialRow), .int(now), .int(now), .int(now)])
    }

    // MARK: webhooks

    /// False when this delivery was seen before.
    public func rememberWebhook(bodyHash: String, event: String, now: Int64, action: String) throws(StoreError) -> Bool {
        try run(
            "INSERT INTO webhook_events (body_hash, event, received_at, action) VALUES (?, ?, ?, ?) ON CONFLICT(body_hash) DO NOTHING",
            [.text(bodyHash), .text(event), .int(now), .text(action)]) == 1
    }

    public func webhookAction(bodyHash: String) throws(StoreError) -> String? {
        try queryOne("SELECT action FROM webhook_events WHERE body_hash = ?", [.text(bodyHash)])?.text(0)
    }

    public func recordUnauthorizedEnrollment(fidHash: String, facialRow: Int64?, now: Int64, action: String) throws(StoreError) {
        try run(
            "INSERT INTO unauthorized_enrollments (fid_hash, facial_row, received_at, action) VALUES (?, ?, ?, ?) ON CONFLICT(fid_hash) DO NOTHING",
            [.text(fidHash), facialRow.map(SQLValue.int) ?? .null, .int(now), .text(action)])
    }

    /// Flagged ones; held ones (`HeldEnrollmentRecords`) are not judged yet.
    public func countUnauthorizedEnrollments() throws(StoreError) -> Int64 {
        try queryOne("SELECT count(*) FROM unauthorized_enrollments WHERE decide_after IS NULL")?.int(0) ?? 0
    }

    /// The placeholder owner of Facial IDs nobody enrolled through the sidecar.
    public func unownedSubject(now: Int64) throws(StoreError) -> Int64 {
        if let r = try queryOne(Self.unownedSubjectSQL) { return r.int(0)! }
        try run("INSERT INTO subjects (subject, pseudonym, created_at) VALUES (NULL, 'sub_unowned', ?)", [.int(now)])
        return lastInsertRowID
    }

    /// The placeholder has no name: `subject IS NULL` makes the partial index usable (see
    /// `erasedSubjectSQL` for INDEXED BY).
    static let unownedSubjectSQL =
        "SELECT id FROM subjects INDEXED BY subjects_unnamed_pseudonym WHERE pseudonym = 'sub_unowned' AND subject IS NULL LIMIT 1"
}

extension DeletionJobRow {
    init(_ r: Row) {
        self.init(
            id: r.int(0)!, facialRow: r.int(1)!, facialID: r.text(2), status: r.text(3)!, reason: r.text(4)!, requestedAt: r.int(5)!,
            nextAttemptAt: r.int(6)!, attempts: r.int(7)!, lastError: r.text(8), completedAt: r.int(9))
    }
}

extension Connection {
    /// The row id and pseudonym of the subject a Facial ID belongs to.
    public func facialIDSubject(facialRow: Int64) throws(StoreError) -> (id: Int64, pseudonym: String)? {
        try queryOne("SELECT s.id, s.pseudonym FROM facial_ids f JOIN subjects s ON s.id = f.subject_id WHERE f.id = ?", [.int(facialRow)])
            .map { ($0.int(0)!, $0.text(1)!) }
    }
}
