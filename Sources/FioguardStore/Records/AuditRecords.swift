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
        try forEach("SELECT \(Self.auditColumns) FROM audit_log ORDER BY seq", []) { r in
            try body(AuditRow(r))
        }
    }

    /// Entries oldest first: all of them, or those about one subject, given by its value and its
    /// pseudonym. A subject's entries are those whose `subject_ref` is its pseudonym: linked ones
    /// are found through the ids of the rows with that pseudonym (the named row, and any rows
    /// erased before the subject came back), the others through the pseudonym.
    public func auditEntries(subject: (value: String, pseudonym: String)?, since: Int64?, limit: Int) throws(StoreError) -> [AuditRow] {
        guard let subject else {
            var sql = "SELECT \(Self.auditColumns) FROM audit_log"
            var params: [SQLValue] = []
            if let since {
                sql += " WHERE at >= ?"
                params.append(.int(since))
            }
            return try query(sql + " ORDER BY seq LIMIT ?", params + [.int(Int64(limit))]).map(AuditRow.init)
        }
        let rows = try query(Self.subjectRowsSQL, [.text(subject.value), .text(subject.pseudonym)]).compactMap { $0.int(0) }
        // Rows in groups, to stay far below SQLite's limit on the arms of a compound select (a
        // subject erased and back that often is a stretch, but not an error).
        var found: [AuditRow] = []
        var start = 0
        repeat {
            let group = rows[start..<min(start + Self.maxMergedRows, rows.count)]
            let sql = Self.subjectAuditSQL(rows: group.count, unlinked: start == 0, since: since != nil)
            var params: [SQLValue] = [.text(subject.pseudonym)] + group.map(SQLValue.int)
            if let since { params.append(.int(since)) }
            params.append(.int(Int64(limit)))
            found += try query(sql, params).map(AuditRow.init)
            start += Self.maxMergedRows
        } while start < rows.count
        if rows.count > Self.maxMergedRows {
            found.sort { $0.seq < $1.seq }
            found = Array(found.prefix(limit))
        }
        return found
    }

    static let auditColumns = "seq, at, action, subject_ref, caller, details, prev_hash, hash, subject_id"

    /// The ids of a subject's rows (?1 its value, ?2 its pseudonym): the named one and any erased
    /// before it came back. INDEXED BY as in `erasedSubjectSQL`: without it SQLite would walk every
    /// erased subject in the unique index on `subject`.
    static let subjectRowsSQL = """
        SELECT id FROM subjects WHERE subject = ?1
        UNION ALL SELECT id FROM subjects INDEXED BY subjects_unnamed_pseudonym WHERE subject IS NULL AND pseudonym = ?2
        """

    /// The most rows merged arm by arm in one query (see `subjectAuditSQL`).
    static let maxMergedRows = 64

    /// A subject's entries (?1 the pseudonym, ?2… the ids of its `rows`, then `since` if any, then
    /// the limit): one arm for the unlinked entries (when `unlinked`) and one per row, each read
    /// from its index in `seq` order and merged by SQLite, so the limit stops the reading early
    /// instead of sorting every entry first.
    static func subjectAuditSQL(rows: Int, unlinked: Bool, since: Bool) -> String {
        precondition(rows > 0 || unlinked, "a query with no arm")
        let sinceClause = since ? " AND at >= ?\(rows + 2)" : ""
        var arms: [String] = []
        if unlinked { arms.append("SELECT \(auditColumns) FROM audit_log WHERE subject_id IS NULL AND subject_ref = ?1\(sinceClause)") }
        for k in 0..<rows {
            arms.append("SELECT \(auditColumns) FROM audit_log WHERE subject_id = ?\(k + 2) AND subject_ref = ?1\(sinceClause)")
        }
        return arms.joined(separator: " UNION ALL ") + " ORDER BY seq LIMIT ?\(rows + (since ? 3 : 2))"
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
            prevHash: r.text(6)!, hash: r.text(7)!, subjectID: r.int(8))
    }
}
