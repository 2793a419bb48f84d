import FioguardStore
import Testing

/// Subjects on the real schema: `upsertSubject` inserts with one statement and falls back to a
/// lookup when the name exists.
@Suite("Subject records")
struct SubjectRecordsTests {
    @Test func upsertCreatesOnceAndFindsAfterwards() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir, migrations: Schema.migrations)
            try await db.write { conn in
                let ada = try conn.upsertSubject("ada", pseudonym: "sub_ada", now: 1_000)
                let bob = try conn.upsertSubject("bob", pseudonym: "sub_bob", now: 1_001)
                #expect(ada != bob)
                // Known: the same row, its first pseudonym and time kept.
                #expect(try conn.upsertSubject("ada", pseudonym: "other", now: 2_000) == ada)
                #expect(try conn.subject(id: ada)?.pseudonym == "sub_ada")
                #expect(try conn.subject(id: ada)?.createdAt == 1_000)
                // The last insert's row id must not leak into a known subject's answer.
                let carol = try conn.upsertSubject("carol", pseudonym: "sub_carol", now: 1_002)
                #expect(try conn.upsertSubject("bob", pseudonym: "sub_bob", now: 2_001) == bob)
                #expect(carol != bob)
                // Erased: the name is gone, so the name starts a new row.
                try conn.markSubjectErased(id: ada, now: 3_000)
                let again = try conn.upsertSubject("ada", pseudonym: "sub_ada", now: 3_001)
                #expect(again != ada && again != bob && again != carol)
            }
            #expect(try await db.read { try $0.queryOne("SELECT count(*) FROM subjects")?.int(0) } == 4)
            await db.close()
        }
    }
}
