import FioguardStore
import Testing

/// The Facial ID records on the real schema, where a retention job races an authentication: the
/// sweep and a policy reload read rows in one transaction and write in a later one.
@Suite("Facial ID records")
struct FacialIDRecordsTests {
    /// A subject with one active Facial ID kept until `retainUntil`; returns the row id.
    private func enrolled(_ db: Database, retainUntil: Int64) async throws -> Int64 {
        try await db.write { conn in
            let subject = try conn.upsertSubject("ada", pseudonym: "sub_ada", now: 1_000)
            return try conn.insertFacialID(
                facialID: "fid-ada", hash: "h-ada", subjectID: subject, enrolledAt: 1_000, retainUntil: retainUntil,
                retainRule: "retention.maxSinceEnrollment", country: "DE", region: nil)
        }
    }

    @Test func theSweepDoesNotDeleteAFacialIDAuthenticatedSinceItsScan() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir, migrations: Schema.migrations)
            let row = try await enrolled(db, retainUntil: 2_000)
            // The sweep at 3,000 read the row expired; then an authentication pushed it to 9,000.
            try await db.write { try $0.touchFacialID(row: row, at: 2_500, retainUntil: 9_000, retainRule: "retention.maxSinceLastInteraction") }
            let tombstoned = try await db.write { conn in
                try conn.tombstoneFacialID(row: row, reason: "retention_expired", now: 3_000, notBefore: 3_000, dueBy: 3_000)
            }
            #expect(!tombstoned)
            #expect(try await db.read { try $0.facialIDs(subjectID: 1).first?.status } == "active")
            // Once really expired, it goes.
            let later = try await db.write { conn in
                try conn.tombstoneFacialID(row: row, reason: "retention_expired", now: 9_500, notBefore: 9_500, dueBy: 9_500)
            }
            #expect(later)
            await db.close()
        }
    }

    @Test func aRecomputedDateDoesNotOverwriteOneAnAuthenticationSetSince() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir, migrations: Schema.migrations)
            let row = try await enrolled(db, retainUntil: 5_000)
            // The reload read last_authenticated_at = nil; then an authentication set 9,000.
            try await db.write { try $0.touchFacialID(row: row, at: 2_500, retainUntil: 9_000, retainRule: "retention.maxSinceLastInteraction") }
            let stale = try await db.write { try $0.setRetention(row: row, retainUntil: 4_000, retainRule: "retention.maxSinceEnrollment", lastAuthenticatedAt: nil) }
            #expect(!stale)
            #expect(try await db.read { try $0.facialIDs(subjectID: 1).first?.retainUntil } == 9_000)
            let fresh = try await db.write { try $0.setRetention(row: row, retainUntil: 8_000, retainRule: "retention.maxSinceLastInteraction", lastAuthenticatedAt: 2_500) }
            #expect(fresh)
            #expect(try await db.read { try $0.facialIDs(subjectID: 1).first?.retainUntil } == 8_000)
            await db.close()
        }
    }
}
