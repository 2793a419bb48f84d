/// A row of `tickets`.
public struct TicketRow: Sendable {
    public var subjectID: Int64
    public var decisionID: String
    public var country: String
    public var region: String?
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var consumedAt: Int64?
    /// The keyed hash of the Facial ID that consumed it (nil: unused, or voided).
    public var consumedBy: String?
}

extension Connection {
    public func insertTicket(hash: String, subjectID: Int64, decisionID: String, country: String, region: String?, issuedAt: Int64, expiresAt: Int64) throws(StoreError) {
        try run(
            "INSERT INTO tickets (ticket_hash, subject_id, decision_id, country, region, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [.text(hash), .int(subjectID), .text(decisionID), .text(country), region.map(SQLValue.text) ?? .null, .int(issuedAt), .int(expiresAt)])
    }

    public func ticket(hash: String) throws(StoreError) -> TicketRow? {
        try queryOne(
            "SELECT subject_id, decision_id, country, region, issued_at, expires_at, consumed_at, facial_hash FROM tickets WHERE ticket_hash = ?",
            [.text(hash)]
        ).map {
            TicketRow(
                subjectID: $0.int(0)!, decisionID: $0.text(1)!, country: $0.text(2)!, region: $0.text(3), issuedAt: $0.int(4)!,
                expiresAt: $0.int(5)!, consumedAt: $0.int(6), consumedBy: $0.text(7))
        }
    }

    /// True when this call consumed it (false: already consumed).
    public func consumeTicket(hash: String, now: Int64, facialHash: String) throws(StoreError) -> Bool {
        try run(
            "UPDATE tickets SET consumed_at = ?, facial_hash = ? WHERE ticket_hash = ? AND consumed_at IS NULL",
            [.int(now), .text(facialHash), .text(hash)]) == 1
    }

    /// Ties a ticket that can no longer be used (voided or expired) to the one Facial ID made under
    /// it, which is then deleted: true when this call did, false when a Facial ID already had it.
    /// So a spent ticket, replayed, cannot have any number of Facial IDs recorded and deleted.
    public func claimTicket(hash: String, now: Int64, facialHash: String) throws(StoreError) -> Bool {
        try run(
            "UPDATE tickets SET consumed_at = coalesce(consumed_at, ?), facial_hash = ? WHERE ticket_hash = ? AND facial_hash IS NULL",
            [.int(now), .text(facialHash), .text(hash)]) == 1
    }

    /// Voids every outstanding ticket of a subject (consent revoked or account erased).
    @discardableResult
    public func voidTickets(subjectID: Int64, now: Int64) throws(StoreError) -> Int {
        try run("UPDATE tickets SET consumed_at = ? WHERE subject_id = ? AND consumed_at IS NULL", [.int(now), .int(subjectID)])
    }

    /// Deletes tickets that expired before `cutoff` (used, voided or not), at most `limit`. A
    /// ticket a held enrollment names stays until the hold is decided (it says whose it is).
    public func purgeTickets(expiredBefore cutoff: Int64, limit: Int) throws(StoreError) -> Int {
        try run(
            "DELETE FROM tickets WHERE rowid IN (SELECT rowid FROM tickets WHERE \(Self.purgeableTicket) ORDER BY expires_at LIMIT ?)",
            [.int(cutoff), .int(Int64(limit))])
    }

    public func countTickets(expiredBefore cutoff: Int64) throws(StoreError) -> Int64 {
        try queryOne("SELECT count(*) FROM tickets WHERE \(Self.purgeableTicket)", [.int(cutoff)])?.int(0) ?? 0
    }

    static let purgeableTicket = """
        expires_at < ? AND ticket_hash NOT IN \
        (SELECT ticket_hash FROM unauthorized_enrollments WHERE decide_after IS NOT NULL AND ticket_hash IS NOT NULL)
        """
}
