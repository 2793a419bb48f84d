import FioguardStore
import Testing

/// Tickets on the real schema: which the sweep's purge may delete, and what a held enrollment
/// waits for.
@Suite("Ticket records")
struct TicketRecordsTests {
    @Test func thePurgeKeepsTicketsAHeldEnrollmentNamesAndNewerOnes() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir, migrations: Schema.migrations)
            try await db.write { conn in
                let subject = try conn.upsertSubject("ada", pseudonym: "sub_ada", now: 1_000)
                for (hash, expires) in [("t-old", 2_000), ("t-held", 2_000), ("t-new", 9_000)] as [(String, Int64)] {
                    try conn.insertTicket(hash: hash, subjectID: subject, decisionID: "dec", country: "DE", region: nil, issuedAt: 1_000, expiresAt: expires)
                }
                _ = try conn.holdEnrollment(fidHash: "h-fid", facialID: "fid-1", ticketHash: "t-held", now: 1_500, decideAfter: 2_000, action: "covered")
            }
            #expect(try await db.read { try $0.countTickets(expiredBefore: 5_000) } == 1)
            #expect(try await db.write { try $0.purgeTickets(expiredBefore: 5_000, limit: 100) } == 1)
            #expect(try await db.read { try $0.ticket(hash: "t-old") } == nil)
            #expect(try await db.read { try $0.ticket(hash: "t-held") } != nil, "its hold is not decided yet")
            #expect(try await db.read { try $0.ticket(hash: "t-new") } != nil)
            // Once the hold is over, its ticket goes too.
            try await db.write { try $0.resolveUnauthorizedEnrollment(fidHash: "h-fid") }
            #expect(try await db.write { try $0.purgeTickets(expiredBefore: 5_000, limit: 100) } == 1)
            #expect(try await db.read { try $0.ticket(hash: "t-held") } == nil)
            await db.close()
        }
    }

    @Test func theLastOpenTicketIsTheLatestUnusedUnexpiredOne() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir, migrations: Schema.migrations)
            try await db.write { conn in
                let subject = try conn.upsertSubject("ada", pseudonym: "sub_ada", now: 1_000)
                for (hash, expires) in [("t-a", 3_000), ("t-b", 5_000), ("t-used", 8_000), ("t-gone", 1_500)] as [(String, Int64)] {
                    try conn.insertTicket(hash: hash, subjectID: subject, decisionID: "dec", country: "DE", region: nil, issuedAt: 1_000, expiresAt: expires)
                }
                _ = try conn.consumeTicket(hash: "t-used", now: 1_200, facialHash: "h-x")
            }
            #expect(try await db.read { try $0.lastOpenTicketExpiry(at: 2_000) } == 5_000)
            #expect(try await db.read { try $0.lastOpenTicketExpiry(at: 5_000) } == nil)
            await db.close()
        }
    }
}
