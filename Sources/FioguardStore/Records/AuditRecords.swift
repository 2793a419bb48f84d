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

    public init(
        seq: Int64, at: Int64, action: String, subjectRef: String?, caller: String, details: String, prevHash: String, hash: String
    ) {
        self.seq = seq
        self.at = at
        self.action = action
        self.subjectRef = subjectRef
        self.caller = caller
        self.details = details
        self.prevHash = prevHash
        self.hash = hash
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
            "INSERT INTO audit_log (seq, at, action, subject_ref, caller, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [.int(row.seq), .int(row.at), .text(row.action), row.subjectRef.map(SQLValue.text) ?? .null, .text(row.caller),
             .text(row.details), .text(row.prevHash), .text(row.hash)])
    }

    /// Streams the whole log in order (audit.verify).
    public func forEachAudit(_ body: (AuditRow) throws -> Void) throws {
        try forEach("SELECT seq, at, action, subject_ref, caller, details, prev_hash, hash FROM audit_log ORDER BY seq", []) { r in
            try body(AuditRow(r))
        }
    }

    public func auditEntries(subjectRef: String?, since: Int64?, limit: Int) throws(StoreError) -> [AuditRow] {
        var sql = "SELECT seq, at, action, subject_ref, caller, details, prev_hash, hash FROM audit_log WHERE 1 = 1"
        var params: [SQLValue] = []
        if let subjectRef {
            sql += " AND subject_ref = ?"
            params.append(.text(subjectRef))
        }
        if let since {
            sql += " AND at >= ?"
            params.append(.int(since))
        }
        sql += " ORDER BY seq LIMIT ?"
        params.append(.int(Int64(limit)))
        return try query(sql, params).map(AuditRow.init)
    }
}

extension AuditRow {
    init(_ r: Row) {
        self.init(
            seq: r.int(0)!, at: r.int(1)!, action: r.text(2)!, subjectRef: r.text(3), caller: r.text(4)!, details: r.text(5)!,
            prevHash: r.text(6)!, hash: r.text(7)!)
    }
}
