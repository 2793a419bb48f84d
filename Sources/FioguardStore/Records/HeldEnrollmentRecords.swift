/// A row of `unauthorized_enrollments` still held: an `enroll` webhook that `enroll.complete`
/// may yet claim (schema v5).
public struct HeldEnrollmentRow: Sendable {
    public var fidHash: String
    /// The raw Facial ID, which a deletion at FACEIO needs.
    public var facialID: String
    /// The hash of the ticket the webhook's payload carried, if it had one.
    public var ticketHash: String?
    public var receivedAt: Int64
    public var decideAfter: Int64
}

extension Connection {
    /// Holds an enrollment until `decideAfter`. False when this Facial ID is already held or
    /// flagged (a second delivery with another body).
    public func holdEnrollment(
        fidHash: String, facialID: String, ticketHash: String?, now: Int64, decideAfter: Int64, action: String
    ) throws(StoreError) -> Bool {
        try run(
            """
            INSERT INTO unauthorized_enrollments (fid_hash, facial_row, received_at, action, facial_id, ticket_hash, decide_after)
            VALUES (?, NULL, ?, ?, ?, ?, ?) ON CONFLICT(fid_hash) DO NOTHING
            """,
            [.text(fidHash), .int(now), .text(action), .text(facialID), ticketHash.map(SQLValue.text) ?? .null, .int(decideAfter)]) == 1
    }

    /// What an earlier `enroll` webhook left for this Facial ID: nil, or whether it is still held
    /// (and until when), the action recorded, and the Facial ID row queued for deletion, if any.
    public func unauthorizedEnrollment(fidHash: String) throws(StoreError) -> (decideAfter: Int64?, action: String, facialRow: Int64?)? {
        try queryOne("SELECT decide_after, action, facial_row FROM unauthorized_enrollments WHERE fid_hash = ?", [.text(fidHash)])
            .map { ($0.int(0), $0.text(1) ?? "", $0.int(2)) }
    }

    /// This Facial ID is now recorded for a subject (`enroll.complete`, or a ticket's Facial ID
    /// deleted): whatever a webhook left for it is over, a hold or a flag. True when it was a
    /// flag (reported as unauthorized until now).
    @discardableResult
    public func resolveUnauthorizedEnrollment(fidHash: String) throws(StoreError) -> Bool {
        guard let earlier = try unauthorizedEnrollment(fidHash: fidHash) else { return false }
        try run("DELETE FROM unauthorized_enrollments WHERE fid_hash = ?", [.text(fidHash)])
        return earlier.decideAfter == nil
    }

    /// Held enrollments whose payload ticket is one of this subject's.
    public func heldEnrollments(ticketsOfSubject subjectID: Int64) throws(StoreError) -> [HeldEnrollmentRow] {
        try query(
            """
            SELECT fid_hash, facial_id, ticket_hash, received_at, decide_after FROM unauthorized_enrollments
            WHERE decide_after IS NOT NULL AND ticket_hash IN (SELECT ticket_hash FROM tickets WHERE subject_id = ?)
            """,
            [.int(subjectID)]
        ).map(HeldEnrollmentRow.init)
    }

    /// Held enrollments whose `decide_after` is at or before `cutoff`, oldest first.
    public func dueHeldEnrollments(decidedBy cutoff: Int64, limit: Int) throws(StoreError) -> [HeldEnrollmentRow] {
        try query(
            """
            SELECT fid_hash, facial_id, ticket_hash, received_at, decide_after FROM unauthorized_enrollments
            WHERE decide_after IS NOT NULL AND decide_after <= ? ORDER BY decide_after LIMIT ?
            """,
            [.int(cutoff), .int(Int64(limit))]
        ).map(HeldEnrollmentRow.init)
    }

    /// A held enrollment judged unauthorized, or a flagged one whose deletion is queued later: it
    /// stays, flagged, without its raw Facial ID (a deletion's outbox job has its own copy).
    public func markEnrollmentFlagged(fidHash: String, facialRow: Int64?, action: String) throws(StoreError) {
        try run(
            "UPDATE unauthorized_enrollments SET facial_row = ?, action = ?, facial_id = NULL, ticket_hash = NULL, decide_after = NULL WHERE fid_hash = ?",
            [facialRow.map(SQLValue.int) ?? .null, .text(action), .text(fidHash)])
    }

    public func countHeldEnrollments() throws(StoreError) -> Int64 {
        try queryOne("SELECT count(*) FROM unauthorized_enrollments WHERE decide_after IS NOT NULL")?.int(0) ?? 0
    }

    /// When the last ticket still open at `now` expires, if any is open: until then an
    /// `enroll.complete` may yet claim an enrollment.
    public func lastOpenTicketExpiry(at now: Int64) throws(StoreError) -> Int64? {
        try queryOne("SELECT max(expires_at) FROM tickets WHERE expires_at > ? AND consumed_at IS NULL", [.int(now)])?.int(0)
    }
}

extension HeldEnrollmentRow {
    init(_ r: Row) {
        self.init(fidHash: r.text(0)!, facialID: r.text(1) ?? "", ticketHash: r.text(2), receivedAt: r.int(3)!, decideAfter: r.int(4)!)
    }
}
