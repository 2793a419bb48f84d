/// A row of `subjects`.
public struct SubjectRow: Sendable {
    public var id: Int64
    public var subject: String?
    public var pseudonym: String
    public var createdAt: Int64
    public var erasedAt: Int64?
}

extension Connection {
    /// The row id of the subject with this name. Answered from the unique index on `subject`
    /// alone (it holds the row id), without reading the row; `subject(id:)` reads the row.
    public func subjectID(named subject: String) throws(StoreError) -> Int64? {
        try queryOne(Self.subjectIDSQL, [.text(subject)])?.int(0)
    }

    static let subjectIDSQL = "SELECT id FROM subjects WHERE subject = ?"

    public func subject(id: Int64) throws(StoreError) -> SubjectRow? {
        try queryOne("SELECT id, subject, pseudonym, created_at, erased_at FROM subjects WHERE id = ?", [.int(id)]).map(SubjectRow.init)
    }

    /// The most recently erased subject with this pseudonym (makes `subject.erase` idempotent).
    public func erasedSubject(pseudonym: String) throws(StoreError) -> SubjectRow? {
        try queryOne(Self.erasedSubjectSQL, [.text(pseudonym)]).map(SubjectRow.init)
    }

    /// Erasure clears the name, so `subject IS NULL` makes the partial index usable. INDEXED BY:
    /// without statistics SQLite would rather walk every NULL of the unique index on `subject`
    /// (each erased subject), and if the index could not be used the statement would not prepare.
    static let erasedSubjectSQL = """
        SELECT id, subject, pseudonym, created_at, erased_at FROM subjects INDEXED BY subjects_unnamed_pseudonym
        WHERE pseudonym = ? AND subject IS NULL AND erased_at IS NOT NULL ORDER BY id DESC LIMIT 1
        """

    /// Returns the subject's row id, creating the row when new.
    public func upsertSubject(_ subject: String, pseudonym: String, now: Int64) throws(StoreError) -> Int64 {
        // One statement for a new subject (most calls: a first consent), two for a known one.
        if try run(
            "INSERT INTO subjects (subject, pseudonym, created_at) VALUES (?, ?, ?) ON CONFLICT (subject) DO NOTHING",
            [.text(subject), .text(pseudonym), .int(now)]) == 1
        {
            return lastInsertRowID
        }
        if let id = try subjectID(named: subject) { return id }
        throw .misuse("subject neither inserted nor found")
    }

    /// Forgets the personal value; the pseudonym stays for the audit trail.
    public func markSubjectErased(id: Int64, now: Int64) throws(StoreError) {
        try run("UPDATE subjects SET subject = NULL, erased_at = ? WHERE id = ?", [.int(now), .int(id)])
    }

    public func meta(_ key: String) throws(StoreError) -> [UInt8]? {
        try queryOne("SELECT value FROM meta WHERE key = ?", [.text(key)])?.blob(0)
    }

    public func setMeta(_ key: String, _ value: [UInt8]) throws(StoreError) {
        try run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), .blob(value)])
    }
}

extension SubjectRow {
    init(_ r: Row) {
        self.init(id: r.int(0)!, subject: r.text(1), pseudonym: r.text(2)!, createdAt: r.int(3)!, erasedAt: r.int(4))
    }
}
