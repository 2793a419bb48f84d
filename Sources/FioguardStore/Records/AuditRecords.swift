/// A row of the hash-chained `audit_log`.
public struct AuditRow: Sendable {
    public var seq: Int64
    public var at: Int64
    public var action: String
    public var subjectRef: String?
    public var caller: String
    /// JSON object text.
    public var details: String
    public var prevHash: String
    public var hash: String
    /// The row in `subjects` the entry is about, when known at its writing: its pseudonym is
    /// `subjectRef`. Not covered by `hash`.
    public var subjectID: Int64?

    public init(
        seq: Int64, at: Int64, action: String, subjectRef: String?, caller: String, details: String, prevHash: String, hash: String,
        subjectID: Int64? = nil
    ) {
        self.seq = seq
        self.at = at
        self.action = action
        self.subjectRef = subjectRef
        self.caller = caller
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
        self.subjectID = subjectID
    }
}

extension Connection {
    /// The newest entry's sequence number and hash, or nil for an empty log.
    public func auditHead() throws(StoreError) -> (seq: Int64, hash: String)? {
        guard let r = try queryOne("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") else { return nil }
        return (r.int(0)!, r.text(1)!)
    }

    public func appendAudit(_ row: AuditRow) throws(StoreError) {
        try run(
            "INSERT INTO audit_log (seq, at, action, subject_ref, caller, details, prev_hash, hash, subject_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [.int(row.seq), .int(row.at), .text(row.action), row.subjectRef.map(SQLValue.text) ?? .null, .text(row.caller),
             .text(row.details), .text(row.prevHash), .text(row.hash), row.subjectID.map(SQLValue.int) ?? .null])
    }

    /// Streams the whole log in order (audit.verify).
    public func forEachAudit(_ body: (AuditRow) throws -> Void) throws {
        try forEach("SELECT seq, at, action, subject_ref, caller, details, prev_hash, hash FROM audit_log ORDER BY seq", []) { r in
            try body(AuditRow(r))
        }
    }

    /// Entries oldest first: all of them, or those about one subject, given by its value and its
    /// pseudonym. A subject's entries are those whose `subject_ref` is its pseudonym: linked ones
    /// are found through the ids of the rows with that pseudonym (the named row, and any rows
    /// erased before the subject came back), the others through the pseudonym.
    public func auditEntries(subject: (value: String, pseudonym: String)?, since: Int64?, limit: Int) throws(StoreError) -> [AuditRow] {
        let columns = "seq, at, action, subject_ref, caller, details, prev_hash, hash, subject_id"
        var sql: String
        var params: [SQLValue] = []
        if let subject {
            sql = """
                SELECT \(columns) FROM audit_log WHERE subject_id IS NULL AND subject_ref = ?1
                UNION ALL
                SELECT \(columns) FROM audit_log WHERE subject_ref = ?1 AND subject_id IN (
                    SELECT id FROM subjects WHERE subject = ?2
                    UNION ALL SELECT id FROM subjects WHERE subject IS NULL AND pseudonym = ?1)
                """
            params = [.text(subject.pseudonym), .text(subject.value)]
            sql = "SELECT \(columns) FROM (\(sql)) WHERE 1 = 1"
        } else {
            sql = "SELECT \(columns) FROM audit_log WHERE 1 = 1"
        }
        if let since {
            sql += " AND at >= ?\(params.count + 1)"
            params.append(.int(since))
        }
        sql += " ORDER BY seq LIMIT ?\(params.count + 1)"
        params.append(.int(Int64(limit)))
        return try query(sql, params).map(AuditRow.init)
    }

    /// The first entry linked to a subject row that does not exist or has another pseudonym than
    /// the entry's `subject_ref` (`audit.verify`): `subject_id` is outside the entry's hash.
    public func firstMislinkedAuditEntry() throws(StoreError) -> Int64? {
        try queryOne("""
            SELECT a.seq FROM audit_log a LEFT JOIN subjects s ON s.id = a.subject_id
            WHERE a.subject_id IS NOT NULL AND (s.id IS NULL OR a.subject_ref IS NOT s.pseudonym)
            ORDER BY a.seq LIMIT 1
            """)?.int(0)
    }
}

extension AuditRow {
    init(_ r: Row) {
        self.init(
            seq: r.int(0)!, at: r.int(1)!, action: r.text(2)!, subjectRef: r.text(3), caller: r.text(4)!, details: r.text(5)!,
            prevHash: r.text(6)!, hash: r.text(7)!, subjectID: r.count > 8 ? r.int(8) : nil)
    }
}
