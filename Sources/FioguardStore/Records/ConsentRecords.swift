/// A row of the append-only `consent_events`.
public struct ConsentEventRow: Sendable {
    public var id: Int64
    public var consentID: String
    public var kind: String
    /// JSON array text.
    public var purposes: String
    public var at: Int64
    /// JSON object text (no personal data).
    public var details: String
}

/// A row of `consent_state`: one active purpose.
public struct ConsentStateRow: Sendable {
    public var purpose: String
    public var consentID: String
    public var grantedAt: Int64
    public var expiresAt: Int64?
}

/// An expired `consent_state` row found by a sweep.
public struct ExpiredConsentRow: Sendable {
    public var subjectID: Int64
    public var purpose: String
    public var consentID: String
    public var expiresAt: Int64
}

extension Connection {
    /// Appends to the history; returns the event's row id (a grant's personal part is keyed by it).
    @discardableResult
    public func appendConsentEvent(
        subjectID: Int64, consentID: String, kind: String, purposes: String, at: Int64, details: String
    ) throws(StoreError) -> Int64 {
        try run(
            "INSERT INTO consent_events (subject_id, consent_id, kind, purposes, at, details) VALUES (?, ?, ?, ?, ?, ?)",
            [.int(subjectID), .text(consentID), .text(kind), .text(purposes), .int(at), .text(details)])
        return lastInsertRowID
    }

    public func consentEvents(subjectID: Int64) throws(StoreError) -> [ConsentEventRow] {
        try query(
            "SELECT id, consent_id, kind, purposes, at, details FROM consent_events WHERE subject_id = ? ORDER BY id",
            [.int(subjectID)]
        ).map { ConsentEventRow(id: $0.int(0)!, consentID: $0.text(1)!, kind: $0.text(2)!, purposes: $0.text(3)!, at: $0.int(4)!, details: $0.text(5)!) }
    }

    public func grantEvent(consentID: String) throws(StoreError) -> ConsentEventRow? {
        try queryOne(
            "SELECT id, consent_id, kind, purposes, at, details FROM consent_events WHERE consent_id = ? AND kind = 'granted'",
            [.text(consentID)]
        ).map { ConsentEventRow(id: $0.int(0)!, consentID: $0.text(1)!, kind: $0.text(2)!, purposes: $0.text(3)!, at: $0.int(4)!, details: $0.text(5)!) }
    }

    /// Stores a grant's personal part under its grant event (the row id `appendConsentEvent`
    /// returned for it). The schema has no foreign key for it (see Schema v8): an id that is not
    /// a grant event's is refused here, since lookups and erasure would never find its row.
    public func setPersonalConsentData(grantEvent: Int64, data: String) throws(StoreError) {
        let inserted = try run(
            "INSERT INTO consent_personal (grant_event, data) SELECT id, ? FROM consent_events WHERE id = ? AND kind = 'granted'",
            [.text(data), .int(grantEvent)])
        guard inserted == 1 else { throw .misuse("consent event \(grantEvent) is not a grant: its personal part has nowhere to go") }
    }

    /// Replaces a consent's personal data (it stays erasable with the subject).
    public func updatePersonalConsentData(consentID: String, data: String) throws(StoreError) {
        try run(Self.updatePersonalConsentDataSQL, [.text(data), .text(consentID)])
    }

    public func personalConsentData(consentID: String) throws(StoreError) -> String? {
        try queryOne(Self.personalConsentDataSQL, [.text(consentID)])?.text(0)
    }

    /// Deletes the personal part of every grant of the subject (their events stay).
    public func erasePersonalConsentData(subjectID: Int64) throws(StoreError) {
        try run(Self.erasePersonalConsentDataSQL, [.int(subjectID)])
    }

    // A consent id reaches its personal part through `consent_events_grant`, a subject through
    // `consent_events_subject` (Schema v8); SchemaTests checks both plans.
    static let updatePersonalConsentDataSQL =
        "UPDATE consent_personal SET data = ?1 WHERE grant_event = (SELECT id FROM consent_events WHERE consent_id = ?2 AND kind = 'granted')"
    static let personalConsentDataSQL =
        "SELECT p.data FROM consent_events e JOIN consent_personal p ON p.grant_event = e.id WHERE e.consent_id = ? AND e.kind = 'granted'"
    static let erasePersonalConsentDataSQL =
        "DELETE FROM consent_personal WHERE grant_event IN (SELECT id FROM consent_events WHERE subject_id = ?)"

    public func activeConsents(subjectID: Int64) throws(StoreError) -> [ConsentStateRow] {
        try query(
            "SELECT purpose, consent_id, granted_at, expires_at FROM consent_state WHERE subject_id = ? ORDER BY purpose",
            [.int(subjectID)]
        ).map { ConsentStateRow(purpose: $0.text(0)!, consentID: $0.text(1)!, grantedAt: $0.int(2)!, expiresAt: $0.int(3)) }
    }

    public func setActiveConsent(subjectID: Int64, purpose: String, consentID: String, grantedAt: Int64, expiresAt: Int64?) throws(StoreError) {
        try run(
            "INSERT OR REPLACE INTO consent_state (subject_id, purpose, consent_id, granted_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            [.int(subjectID), .text(purpose), .text(consentID), .int(grantedAt), expiresAt.map(SQLValue.int) ?? .null])
    }

    public func removeActiveConsent(subjectID: Int64, purpose: String) throws(StoreError) {
        try run("DELETE FROM consent_state WHERE subject_id = ? AND purpose = ?", [.int(subjectID), .text(purpose)])
    }

    public func expiredConsents(at now: Int64, limit: Int) throws(StoreError) -> [ExpiredConsentRow] {
        try query(
            "SELECT subject_id, purpose, consent_id, expires_at FROM consent_state WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?",
            [.int(now), .int(Int64(limit))]
        ).map { ExpiredConsentRow(subjectID: $0.int(0)!, purpose: $0.text(1)!, consentID: $0.text(2)!, expiresAt: $0.int(3)!) }
    }

    // MARK: idempotency

    public func idempotencyEntry(key: String) throws(StoreError) -> (requestHash: String, consentID: String)? {
        guard let r = try queryOne("SELECT request_hash, consent_id FROM idempotency_keys WHERE key = ?", [.text(key)]) else { return nil }
        return (r.text(0)!, r.text(1)!)
    }

    public func setIdempotencyEntry(key: String, subjectID: Int64, requestHash: String, consentID: String) throws(StoreError) {
        try run(
            "INSERT INTO idempotency_keys (key, subject_id, request_hash, consent_id) VALUES (?, ?, ?, ?)",
            [.text(key), .int(subjectID), .text(requestHash), .text(consentID)])
    }

    public func eraseIdempotencyEntries(subjectID: Int64) throws(StoreError) {
        try run("DELETE FROM idempotency_keys WHERE subject_id = ?", [.int(subjectID)])
    }
}
