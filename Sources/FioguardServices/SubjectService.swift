public import FioguardJSON
public import FioguardPolicy
import FioguardStore

/// Account deletion (duties D6, D18): revoke everything, delete every Facial ID now whatever the
/// retention period, erase personal fields, keep only the pseudonymous audit trail.
public struct SubjectService: Sendable {
    let env: ServiceEnvironment

    public init(_ env: ServiceEnvironment) { self.env = env }

    public struct Erased: Sendable {
        public var erasedAt: Timestamp
        public var deletions: [Deletion]

        public var json: JSON { ["erasedAt": .string(erasedAt.rfc3339), "deletions": .array(deletions.map(\.json))] }
    }

    public func erase(subject: String, caller: Caller) async throws -> Erased {
        let now = env.now()
        let subjectRef = env.pseudonymizer.subject(subject)
        return try await env.database.write { conn in
            guard let subjectID = try conn.subjectID(named: subject) else {
                // Idempotent: a retry after a lost answer finds the earlier erasure by pseudonym.
                if let earlier = try conn.erasedSubject(pseudonym: subjectRef) {
                    // A deletion that failed since (a refused key, fixed by now) is tried again:
                    // the account's erasure is the one request that can still name it.
                    for row in try conn.facialIDs(subjectID: earlier.id) {
                        _ = try conn.expediteDeletion(row: row.id, now: now.secondsSinceEpoch)
                    }
                    let deletions = try conn.facialIDs(subjectID: earlier.id).map(Deletion.init)
                    return Erased(erasedAt: Timestamp(secondsSinceEpoch: earlier.erasedAt ?? now.secondsSinceEpoch), deletions: deletions)
                }
                throw ServiceError.notFound("unknown subject")
            }
            let active = try conn.activeConsents(subjectID: subjectID)
            try ConsentService.revoke(conn, subjectID: subjectID, rows: active, kind: "revoked", reason: "account erased", now: now)
            try conn.voidTickets(subjectID: subjectID, now: now.secondsSinceEpoch)
            try EnrollmentService.abandonHeldEnrollments(
                conn, env: env, subjectID: subjectID, reason: "account_erased", policy: env.policy.current, now: now, caller: caller)
            let deletions = try FacialIDService.tombstoneAll(
                conn, subjectID: subjectID, reason: "account_erased", now: now, notBefore: { _ in now }, expedite: true)
            try conn.erasePersonalConsentData(subjectID: subjectID)
            try conn.eraseIdempotencyEntries(subjectID: subjectID)
            try conn.eraseFacialIDValues(subjectID: subjectID)
            try conn.markSubjectErased(id: subjectID, now: now.secondsSinceEpoch)
            try AuditTrail.append(
                conn, at: now.secondsSinceEpoch, action: "subject.erased", subjectRef: subjectRef, subjectID: subjectID, caller: caller,
                details: ["consentsRevoked": .int(Set(active.map(\.consentID)).count), "deletionsQueued": .int(deletions.count)])
            return Erased(erasedAt: now, deletions: deletions)
        }
    }
}
