import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// The hash-chained audit log: `audit.verify`, `audit.query` (duty D22).
@Suite("Audit log")
struct AuditTests {
    /// Drives one subject through the whole lifecycle: every step is a state change.
    static func lifecycle(_ client: RPCTestClient, subject: String) async throws {
        try await Lifecycle.enroll(client, subject: subject, facialId: "fid-\(subject)")
        _ = try await client.call("facialId.touch", ["subject": .string(subject)])
        _ = try await client.call("facialId.delete", ["subject": .string(subject), "confirm": true])
        _ = try await client.call("consent.revoke", ["subject": .string(subject)])
    }

    @Test("every state change writes a chained audit entry; audit.verify is ok on an untouched log")
    func everyChangeAudited() async throws {
        try await Lifecycle.withServer { _, client in
            try await Self.lifecycle(client, subject: "aud")
            let entries = try await Lifecycle.auditEntries(client, subject: "aud")
            #expect(entries.compactMap { $0["action"]?.stringValue } == [
                "consent.recorded", "enroll.authorized", "enroll.completed", "facialId.touched", "facialId.deleted", "consent.revoked",
            ])
            for e in entries {
                #expect(e["subjectRef"]?.stringValue?.hasPrefix("sub_") == true)
                #expect(e["hash"]?.stringValue?.count == 64)
                #expect(Lifecycle.date(e["at"]) != nil)
                #expect(!e.encodedString().contains("\"aud\""), "raw subject in \(e.encodedString())")
            }

            let all = try await Lifecycle.auditEntries(client)
            let seqs = all.compactMap { $0["seq"]?.intValue }
            #expect(seqs == Array(1...Int64(all.count)), "gap-free sequence")
            #expect(all.first?["action"]?.stringValue == "policy.activated", "start-up records the policy in force")

            let verified = try await client.call("audit.verify")
            #expect(verified["ok"]?.boolValue == true)
            #expect(verified["entries"]?.intValue == Int64(all.count))
            #expect(verified["headHash"] == all.last?["hash"])
            #expect(verified["firstBadEntry"] == .null)

            // Reads are not audited; denials are.
            _ = try await client.call("consent.status", ["subject": "aud"])
            _ = try await client.call("facialId.show", ["subject": "aud"])
            #expect(try await Lifecycle.auditEntries(client).count == all.count)
            _ = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "aud", trigger: "automatic"))
            #expect(try await Lifecycle.auditEntries(client).count == all.count + 1)
        }
    }

    /// Writes some history, stops the server, runs `tamper` SQL on the file, restarts, verifies.
    static func verifyAfterTampering(_ sql: String) async throws -> JSON {
        try await Lifecycle.withServer { server, client in
            try await Self.lifecycle(client, subject: "t1")
            try await Self.lifecycle(client, subject: "t2")
            let before = try await client.call("audit.verify")
            #expect(before["ok"]?.boolValue == true)
            #expect((before["entries"]?.intValue ?? 0) >= 10)
            #expect(await server.terminate() == 0)

            try Lifecycle.sqlite(server.databasePath, sql)

            try await server.start()
            let again = try await server.connect()
            let verified = try await again.call("audit.verify")
            await again.close()
            return verified
        }
    }

    @Test("an edited row is named by audit.verify")
    func editedRowDetected() async throws {
        let verified = try await Self.verifyAfterTampering("UPDATE audit_log SET details='{}' WHERE seq=2")
        #expect(verified["ok"]?.boolValue == false)
        #expect(verified["firstBadEntry"]?.intValue == 2)
    }

    @Test("a removed row is named by audit.verify")
    func removedRowDetected() async throws {
        let verified = try await Self.verifyAfterTampering("DELETE FROM audit_log WHERE seq=3")
        #expect(verified["ok"]?.boolValue == false)
        #expect(verified["firstBadEntry"]?.intValue == 3)
    }

    @Test("a row edited together with its own hash still breaks the chain")
    func rehashedRowDetected() async throws {
        let verified = try await Self.verifyAfterTampering(
            "UPDATE audit_log SET action='consent.revoked', hash='\(String(repeating: "a", count: 64))' WHERE seq=4")
        #expect(verified["ok"]?.boolValue == false)
        #expect(verified["firstBadEntry"]?.intValue == 4)
    }

    @Test("removing the newest rows is detected too")
    func truncatedTailDetected() async throws {
        let verified = try await Self.verifyAfterTampering(
            "DELETE FROM audit_log WHERE seq >= (SELECT max(seq) - 1 FROM audit_log)")
        #expect(verified["ok"]?.boolValue == false)
        let entries = try #require(verified["entries"]?.intValue)
        #expect(verified["firstBadEntry"]?.intValue == entries + 1)
    }

    @Test("removed newest rows stay detected after the server writes new entries")
    func truncatedTailStaysDetected() async throws {
        try await Lifecycle.withServer { server, client in
            try await Self.lifecycle(client, subject: "t1")
            #expect(await server.terminate() == 0)
            try Lifecycle.sqlite(server.databasePath, "DELETE FROM audit_log WHERE seq >= (SELECT max(seq) - 1 FROM audit_log)")
            try await server.start()
            let again = try await server.connect()
            let tampered = try await again.call("audit.verify")
            #expect(tampered["ok"]?.boolValue == false)
            // New state changes must not paper over the removed entries.
            try await Lifecycle.recordConsent(again, subject: "t2")
            let verified = try await again.call("audit.verify")
            #expect(verified["ok"]?.boolValue == false, "the removed entries became invisible: \(verified.encodedString())")
            #expect(verified["firstBadEntry"] == tampered["firstBadEntry"])
            await again.close()
        }
    }

    /// Entries about a subject are found through its row id when they have one (schema v6) and
    /// through its pseudonym when not: a denied first consent has no row to link, and a subject
    /// erased and then back has two rows with one pseudonym. `audit.query` shows them all.
    @Test("audit.query finds a subject's entries with and without a link to its row, across erasure and return")
    func queryAcrossLinksAndErasure() async throws {
        try await Lifecycle.withServer { server, client in
            await Lifecycle.expectError("POLICY_DENIED", code: -32001) {
                try await client.call("consent.record", Lifecycle.consentParams(subject: "back", domain: "elsewhere.example"))
            }
            try await Self.lifecycle(client, subject: "back")
            _ = try await client.call("subject.erase", ["subject": "back", "confirm": true])
            try await Lifecycle.recordConsent(client, subject: "back")
            try await Lifecycle.recordConsent(client, subject: "other")

            let entries = try await Lifecycle.auditEntries(client, subject: "back")
            let actions = entries.compactMap { $0["action"]?.stringValue }
            #expect(actions.first == "consent.denied")
            #expect(actions.contains("subject.erased"))
            #expect(actions.last == "consent.recorded")
            #expect(actions.filter { $0 == "consent.recorded" }.count == 2, "\(actions)")
            #expect(Set(entries.compactMap { $0["subjectRef"]?.stringValue }).count == 1)
            let seqs = entries.compactMap { $0["seq"]?.intValue }
            #expect(seqs == seqs.sorted(), "oldest first")
            let all = try await Lifecycle.auditEntries(client)
            let ref = entries.first?["subjectRef"]
            #expect(all.filter { $0["subjectRef"] == ref }.count == entries.count, "every entry with the subject's pseudonym")
            #expect(try await Lifecycle.auditEntries(client, subject: "back", limit: 2).compactMap { $0["seq"]?.intValue } == Array(seqs.prefix(2)))

            // Both kinds were written: the denial without a row, the rest linked to one of two rows.
            let links = try Lifecycle.sqlite(
                server.databasePath,
                "SELECT count(*) FILTER (WHERE subject_id IS NULL), count(DISTINCT subject_id) FROM audit_log WHERE subject_ref = '\(ref?.stringValue ?? "")'")
            let counts = links.split(separator: "|").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            #expect(counts.count == 2 && counts[0] >= 1 && counts[1] == 2, "unlinked | rows linked: \(links)")
            #expect(try await client.call("audit.verify")["ok"]?.boolValue == true)
        }
    }

    @Test("an entry linked to another subject's row, or to no row, is named by audit.verify")
    func mislinkedEntryDetected() async throws {
        let firstLinked = "(SELECT min(seq) FROM audit_log WHERE subject_id IS NOT NULL)"
        for target in ["(SELECT max(id) FROM subjects)", "999999"] {
            let expected = try await Lifecycle.withServer { server, client in
                try await Self.lifecycle(client, subject: "t1")
                try await Self.lifecycle(client, subject: "t2")
                #expect(await server.terminate() == 0)
                let seq = try Lifecycle.sqlite(server.databasePath, "SELECT \(firstLinked)").trimmingCharacters(in: .whitespacesAndNewlines)
                try Lifecycle.sqlite(server.databasePath, "UPDATE audit_log SET subject_id = \(target) WHERE seq = \(firstLinked)")
                try await server.start()
                let again = try await server.connect()
                let verified = try await again.call("audit.verify")
                await again.close()
                #expect(verified["ok"]?.boolValue == false, "\(target)")
                #expect(verified["problem"]?.stringValue?.contains("subject") == true)
                return (Int64(seq), verified["firstBadEntry"]?.intValue)
            }
            #expect(expected.0 != nil && expected.0 == expected.1, "\(target)")
        }
    }

    @Test("audit.query filters by subject, since and limit; bad params are -32602")
    func query() async throws {
        try await Lifecycle.withServer { _, client in
            try await Self.lifecycle(client, subject: "q1")
            try await Lifecycle.recordConsent(client, subject: "q2")
            let q2 = try await Lifecycle.auditEntries(client, subject: "q2")
            #expect(q2.compactMap { $0["action"]?.stringValue } == ["consent.recorded"])
            let q1 = try await Lifecycle.auditEntries(client, subject: "q1")
            #expect(q1.count == 6)
            #expect(Set(q1.compactMap { $0["subjectRef"]?.stringValue }).count == 1)
            #expect(q1.first?["subjectRef"] != q2.first?["subjectRef"])
            #expect(try await Lifecycle.auditEntries(client, subject: "nobody") == [])

            let limited = try await client.call("audit.query", ["limit": 2])
            #expect(limited["entries"]?.arrayValue?.count == 2)
            #expect(limited["entries"]?.arrayValue?.first?["seq"]?.intValue == 1, "oldest first")

            let future = try await client.call("audit.query", ["since": "2999-01-01T00:00:00Z"])
            #expect(future["entries"] == [])
            let past = try await client.call("audit.query", ["since": "2000-01-01T00:00:00Z", "subject": "q2"])
            #expect(past["entries"]?.arrayValue?.count == 1)

            await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("audit.query", ["since": "yesterday"]) }
            await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("audit.query", ["limit": 0]) }
            await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("audit.verify", ["deep": true]) }
        }
    }
}
