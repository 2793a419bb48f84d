public import FioguardJSON
import FioguardPolicy
import FioguardStore
import Synchronization

/// One entry of a `deletions` list.
public struct Deletion: Sendable, Hashable {
    public var facialID: String?
    /// `pending` until FACEIO confirmed, then `deleted`; `failed` when FACEIO refused for good.
    public var status: String

    public var json: JSON { ["facialId": .string(facialID), "status": .string(status)] }

    init(_ row: FacialIDRow) {
        facialID = row.facialID ?? row.deletion?.facialID
        switch (row.status, row.deletion?.status) {
        case ("deleted", _), (_, "done"?): status = "deleted"
        case (_, "failed"?): status = "failed"
        default: status = "pending"
        }
    }
}

/// Facial IDs: show, touch (last interaction), delete (tombstone + outbox job in one transaction).
public struct FacialIDService: Sendable {
    let env: ServiceEnvironment
    private let rightsCache = RightsCache()

    public init(_ env: ServiceEnvironment) { self.env = env }

    public func show(subject: String) async throws -> JSON {
        let policy = env.policy.current
        let now = env.now()
        let (ids, active) = try await env.database.read { conn in
            guard let subjectID = try conn.subjectID(named: subject) else { throw ServiceError.notFound("unknown subject") }
            return (try conn.facialIDs(subjectID: subjectID), try conn.activeConsents(subjectID: subjectID))
        }
        let jurisdiction = ids.last.map { Jurisdiction(country: $0.country, region: $0.region) }
        return .encoded(Self.showAnswer(
            subject: subject, ids: ids, active: active, rights: rightsCache.rights(policy: policy, jurisdiction: jurisdiction, now: now)))
    }

    /// How the subject can act on their data, and the retention rule that applies (duty D13).
    static func rights(policy: Policy, jurisdiction: Jurisdiction?, now: Timestamp) -> JSON {
        let disclosure = PolicyEngine.disclosure(jurisdiction: jurisdiction, locale: nil, policy: policy, at: now)
        let afterRevocation = disclosure["retention"]?["afterRevocation"]?["duration"]?.stringValue
            .flatMap(ISODuration.init(iso8601:)) ?? .zero
        return [
            "revokeConsent": [
                "method": "consent.revoke",
                "effect": .string(
                    "deletes every Facial ID " + (afterRevocation == .zero ? "at once" : "within \(afterRevocation.plainText)")),
            ],
            "deleteFacialId": ["method": "facialId.delete", "requires": "confirm: true"],
            "eraseAccount": ["method": "subject.erase", "effect": "revokes all consent and deletes every Facial ID now, whatever the retention period"],
            // The schedule that applies; the per-profile sources stay in `policy.disclosure`.
            "retention": {
                guard case .object(var r)? = disclosure["retention"] else { return JSON.null }
                r["sources"] = nil
                return .object(r)
            }(),
        ]
    }

    /// `rights` depends only on the policy, the jurisdiction and the day (profiles take effect on
    /// dates), yet costs more than the rest of `facialId.show` (it is most of the answer's bytes):
    /// computed and encoded once per combination.
    final class RightsCache: Sendable {
        /// A struct, not a joined string: building the string cost an allocation and more
        /// instructions than the lookup, on every `show`.
        private struct Key: Hashable {
            var policyVersion: String
            var country: String?
            var region: String?
            var day: Int64
        }

        private let entries = Mutex<[Key: JSON]>([:])

        func rights(policy: Policy, jurisdiction: Jurisdiction?, now: Timestamp) -> JSON {
            let key = Key(
                policyVersion: policy.version, country: jurisdiction?.country, region: jurisdiction?.region,
                day: now.secondsSinceEpoch / 86_400)
            if let hit = entries.withLock({ $0[key] }) { return hit }
            let value = JSON.encoded(EncodedJSON(FacialIDService.rights(policy: policy, jurisdiction: jurisdiction, now: now)))
            entries.withLock { cache in
                if cache.count >= 4096 { cache.removeAll(keepingCapacity: true) }
                cache[key] = value
            }
            return value
        }
    }

    // MARK: touch

    public func touch(subject: String?, facialID: String?, caller: Caller) async throws -> JSON {
        let now = env.now()
        let fidHash = facialID.map { env.pseudonymizer.lookupHash("facialId", $0) }
        let subjectRef = subject.map { env.pseudonymizer.subject($0) }
        return try await env.database.write { conn in
            // Read here, not before queueing: a reload swaps the policy, then recomputes rows as
            // they are. A touch written after that recompute read its row must use the new policy.
            let policy = env.policy.current
            var rows: [FacialIDRow]
            if let subject {
                guard let subjectID = try conn.subjectID(named: subject) else { throw ServiceError.notFound("unknown subject") }
                rows = try conn.facialIDs(subjectID: subjectID)
                if let fidHash { rows = rows.filter { r in r.facialID.map { env.pseudonymizer.lookupHash("facialId", $0) } == fidHash } }
            } else if let fidHash, let r = try conn.facialID(hash: fidHash) {
                rows = [r]
            } else {
                rows = []
            }
            rows = rows.filter { $0.status == "active" }
            guard !rows.isEmpty else { throw ServiceError.notFound("no active Facial ID") }
            // A login after the retention deadline does not bring the Facial ID back: its deletion
            // was due already, and the next sweep carries it out (D19).
            rows = rows.filter { $0.retainUntil > now.secondsSinceEpoch }
            guard !rows.isEmpty else {
                throw ServiceError.notFound("the Facial ID's retention period has ended: it is due for deletion")
            }
            var latest: RetentionDeadline?
            for r in rows {
                let deadline = PolicyEngine.retention(
                    enrolledAt: Timestamp(secondsSinceEpoch: r.enrolledAt), lastInteractionAt: now,
                    jurisdiction: Jurisdiction(country: r.country, region: r.region), policy: policy)
                try conn.touchFacialID(row: r.id, at: now.secondsSinceEpoch, retainUntil: deadline.retainUntil.secondsSinceEpoch, retainRule: deadline.rule)
                if latest == nil || deadline.retainUntil > latest!.retainUntil { latest = deadline }
            }
            let ref = try subjectRef ?? conn.subject(id: rows[0].subjectID)?.pseudonym
            try AuditTrail.append(
                conn, at: now.secondsSinceEpoch, action: "facialId.touched", subjectRef: ref, subjectID: rows[0].subjectID, caller: caller,
                details: ["count": .int(rows.count), "retainUntil": .string(latest!.retainUntil.rfc3339)])
            return [
                "lastAuthenticatedAt": .string(now.rfc3339), "retainUntil": .string(latest!.retainUntil.rfc3339),
                "retentionRule": .string(latest!.rule), "touched": .int(rows.count),
            ]
        }
    }

    // MARK: delete

    public func delete(subject: String, facialID: String?, reason: String?, caller: Caller) async throws -> [Deletion] {
        let now = env.now()
        let subjectRef = env.pseudonymizer.subject(subject)
        return try await env.database.write { conn in
            guard let subjectID = try conn.subjectID(named: subject) else { throw ServiceError.notFound("unknown subject") }
            var rows = try conn.facialIDs(subjectID: subjectID)
            if let facialID {
                rows = rows.filter { $0.facialID == facialID }
                guard !rows.isEmpty else { throw ServiceError.notFound("the subject has no such Facial ID") }
            }
            var queued = 0, expedited = 0
            for r in rows {
                if try conn.tombstoneFacialID(row: r.id, reason: "user_request", now: now.secondsSinceEpoch, notBefore: now.secondsSinceEpoch) {
                    queued += 1
                } else if try conn.expediteDeletion(row: r.id, now: now.secondsSinceEpoch) {
                    // Already being deleted, but later (after a revocation's delay) or failed:
                    // the user's request makes it due now.
                    expedited += 1
                }
            }
            if queued > 0 || expedited > 0 {
                try AuditTrail.append(
                    conn, at: now.secondsSinceEpoch, action: "facialId.deleted", subjectRef: subjectRef, subjectID: subjectID, caller: caller,
                    // Whether the caller gave a reason, not its words: the audit trail outlives an
                    // erasure, and free text may name a person.
                    details: ["queued": .int(queued), "expedited": .int(expedited), "reasonGiven": .bool(reason != nil)])
            }
            let ids = Set(rows.map(\.id))
            return try conn.facialIDs(subjectID: subjectID).filter { ids.contains($0.id) }.map(Deletion.init)
        }
    }

    /// Tombstones every active Facial ID of a subject in the caller's transaction, its deletion due
    /// at `notBefore(row)`. With `expedite`, deletions already queued for later, or failed, are
    /// made due now as well (account erasure: D18, "immediately, even before retention ends").
    /// Returns the subject's whole deletion picture afterwards.
    static func tombstoneAll(
        _ conn: Connection, subjectID: Int64, reason: String, now: Timestamp, notBefore: (FacialIDRow) -> Timestamp,
        expedite: Bool = false
    ) throws -> [Deletion] {
        let rows = try conn.facialIDs(subjectID: subjectID)
        for r in rows {
            if r.status == "active" {
                _ = try conn.tombstoneFacialID(row: r.id, reason: reason, now: now.secondsSinceEpoch, notBefore: notBefore(r).secondsSinceEpoch)
            } else if expedite {
                _ = try conn.expediteDeletion(row: r.id, now: now.secondsSinceEpoch)
            }
        }
        return try conn.facialIDs(subjectID: subjectID).filter { $0.status != "active" }.map(Deletion.init)
    }

    /// When a revoked or lapsed consent's Facial ID is deleted: `retention.deleteAfterRevocation`
    /// and the caps of the profiles that apply where it was enrolled, earliest wins.
    static func revocationDeadline(_ row: FacialIDRow, revokedAt now: Timestamp, policy: Policy) -> Timestamp {
        PolicyEngine.revocationDeadline(
            revokedAt: now, jurisdiction: Jurisdiction(country: row.country, region: row.region), policy: policy
        ).retainUntil
    }
}
