@testable import FioguardStore
import Foundation
import Testing

/// The real schema: migrates from an empty file and from every earlier version, keeps data, and
/// enforces the append-only consent history.
@Suite struct SchemaTests {
    static let latest = Schema.migrations.last!.version

    /// The store at `path` with the first `steps` migrations applied (all of them by default).
    static func open(_ path: String, steps: Int = Schema.migrations.count) throws -> Database {
        try Database(configuration: DatabaseConfiguration(path: path), migrations: Array(Schema.migrations.prefix(steps)), logger: quietLogger)
    }

    @Test func migratesFromEmpty() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Self.open(dir + "/db.sqlite")
            #expect(db.schemaVersion == Self.latest)
            let tables = try await db.read { c in try c.query("SELECT name FROM sqlite_master WHERE type = 'table'").compactMap { $0.text(0) } }
            for t in ["subjects", "consent_events", "consent_personal", "consent_state", "tickets", "facial_ids", "deletion_jobs", "audit_log", "webhook_events", "unauthorized_enrollments"] {
                #expect(tables.contains(t), "missing table \(t)")
            }
            await db.close()
        }
    }

    @Test(arguments: 1..<Schema.migrations.count)
    func migratesFromEveryEarlierVersion(_ applied: Int) async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/db.sqlite"
            let old = try Self.open(path, steps: applied)
            #expect(old.schemaVersion == Schema.migrations[applied - 1].version)
            try await old.write { c in
                _ = try c.upsertSubject("alice", pseudonym: "sub_a", now: 1)
                try c.setMeta("k", [1, 2, 3])
            }
            await old.close()

            let new = try Self.open(path)
            #expect(new.schemaVersion == Self.latest)
            let kept = try await new.read { c in
                (try c.subjectID(named: "alice").flatMap { id in try c.subject(id: id) }?.pseudonym, try c.meta("k"))
            }
            #expect(kept.0 == "sub_a")
            #expect(kept.1 == [1, 2, 3])
            await new.close()
        }
    }

    /// v7 rebuilds `consent_events` and `deletion_jobs` with their status CHECKs as comparisons:
    /// rows, indexes and the append-only triggers are kept, bad values are still refused, and an
    /// insert no longer builds a temporary B-tree (`OpenEphemeral`) for the CHECK.
    @Test func v7KeepsRowsAndRulesAndDropsTheTemporaryBtree() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/db.sqlite"
            let old = try Self.open(path, steps: 6)
            try await old.write { c in
                let s = try c.upsertSubject("alice", pseudonym: "sub_a", now: 1)
                try c.appendConsentEvent(subjectID: s, consentID: "cns_1", kind: "granted", purposes: "[]", at: 1, details: "{}")
                try c.appendConsentEvent(subjectID: s, consentID: "cns_1", kind: "revoked", purposes: "[]", at: 2, details: "{}")
                try c.execute(
                    "INSERT INTO facial_ids (id, facial_id, fid_hash, subject_id, status, enrolled_at, retain_until, retain_rule, country) VALUES (7, 'f', 'h', \(s), 'deleting', 1, 9, 'r', 'DE')")
                try c.execute(
                    "INSERT INTO deletion_jobs (id, facial_row, facial_id, status, reason, requested_at, next_attempt_at) VALUES (3, 7, 'f', 'pending', 'x', 1, 1)")
            }
            await old.close()

            let db = try Self.open(path)
            let (events, job, objects) = try await db.read { c in
                (try c.query("SELECT id, kind FROM consent_events ORDER BY id").map { "\($0.int(0)!):\($0.text(1)!)" },
                 try c.queryOne("SELECT id, facial_row, status FROM deletion_jobs").map { "\($0.int(0)!):\($0.int(1)!):\($0.text(2)!)" },
                 Set(try c.query("SELECT name FROM sqlite_master WHERE tbl_name IN ('consent_events', 'deletion_jobs')").compactMap { $0.text(0) }))
            }
            #expect(events == ["1:granted", "2:revoked"])
            #expect(job == "3:7:pending")
            #expect(objects == [
                "consent_events", "consent_events_subject", "consent_events_grant", "consent_events_no_update", "consent_events_no_delete",
                "deletion_jobs", "sqlite_autoindex_deletion_jobs_1", "deletion_jobs_due",
            ])
            try await db.write { c in
                let s = try #require(try c.subjectID(named: "alice"))
                for bad in [
                    "INSERT INTO consent_events (subject_id, consent_id, kind, purposes, at, details) VALUES (\(s), 'cns_2', 'granted ', '[]', 3, '{}')",
                    "UPDATE consent_events SET details = '' WHERE id = 1",
                    "DELETE FROM consent_events WHERE id = 2",
                    "UPDATE deletion_jobs SET status = 'later' WHERE id = 3",
                    "INSERT INTO consent_events (subject_id, consent_id, kind, purposes, at, details) VALUES (\(s), 'cns_1', 'granted', '[]', 3, '{}')",
                ] {
                    #expect(throws: StoreError.self, "\(bad)") { try c.execute(bad) }
                }
                try c.execute("UPDATE deletion_jobs SET status = 'done' WHERE id = 3")
                for insert in [
                    "INSERT INTO consent_events (subject_id, consent_id, kind, purposes, at, details) VALUES (1, 'x', 'expired', '[]', 1, '{}')",
                    "INSERT INTO deletion_jobs (facial_row, status, reason, requested_at, next_attempt_at) VALUES (1, 'failed', 'x', 1, 1)",
                ] {
                    let ops = try c.query("EXPLAIN " + insert).compactMap { $0.text(1) }
                    #expect(ops.contains("Insert") && !ops.contains("OpenEphemeral"), "\(insert): \(ops)")
                }
            }
            await db.close()
        }
    }

    /// v8 keys `consent_personal` by its grant event: every row is kept under the right event,
    /// the table is its only B-tree, lookups and erasure go through `consent_events`' indexes, and
    /// a row can only be stored under a grant event.
    @Test func v8KeysPersonalDataByGrantEvent() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/db.sqlite"
            let old = try Self.open(path, steps: 7)
            try await old.write { c in
                let a = try c.upsertSubject("alice", pseudonym: "sub_a", now: 1)
                let b = try c.upsertSubject("bob", pseudonym: "sub_b", now: 1)
                // Interleaved, so that the event ids and the consent ids do not sort alike.
                for (s, id) in [(b, "cns_9"), (a, "cns_1"), (b, "cns_5"), (a, "cns_3")] {
                    try c.appendConsentEvent(subjectID: s, consentID: id, kind: "granted", purposes: "[]", at: 1, details: "{}")
                    try c.run("INSERT INTO consent_personal (consent_id, subject_id, data) VALUES (?, ?, ?)", [.text(id), .int(s), .text("{\"of\":\"\(id)\"}")])
                }
                try c.appendConsentEvent(subjectID: a, consentID: "cns_1", kind: "revoked", purposes: "[]", at: 2, details: "{}")
            }
            await old.close()

            let db = try Self.open(path)
            let (rows, objects) = try await db.read { c in
                (try c.query("SELECT p.grant_event, e.consent_id, p.data FROM consent_personal p JOIN consent_events e ON e.id = p.grant_event ORDER BY 1")
                    .map { "\($0.int(0)!) \($0.text(1)!) \($0.text(2)!)" },
                 Set(try c.query("SELECT name FROM sqlite_master WHERE tbl_name = 'consent_personal'").compactMap { $0.text(0) }))
            }
            #expect(rows == ["1 cns_9 {\"of\":\"cns_9\"}", "2 cns_1 {\"of\":\"cns_1\"}", "3 cns_5 {\"of\":\"cns_5\"}", "4 cns_3 {\"of\":\"cns_3\"}"])
            #expect(objects == ["consent_personal"], "no index beside the table")

            let plans = try await db.read { c in
                [Connection.personalConsentDataSQL, Connection.updatePersonalConsentDataSQL, Connection.erasePersonalConsentDataSQL].map { sql in
                    (sql, (try? c.query("EXPLAIN QUERY PLAN " + sql, sql.contains("?2") ? [.text("{}"), .text("x")] : [.text("x")]))?
                        .compactMap { $0.text(3) }.joined(separator: "; ") ?? "")
                }
            }
            for (sql, plan) in plans {
                #expect(!plan.isEmpty && !plan.contains("SCAN"), "\(sql): \(plan)")
                #expect(plan.contains(sql.contains("subject_id") ? "consent_events_subject" : "consent_events_grant"), "\(sql): \(plan)")
            }

            try await db.write { c in
                let a = try #require(try c.subjectID(named: "alice"))
                #expect(try c.personalConsentData(consentID: "cns_3") == "{\"of\":\"cns_3\"}")
                try c.updatePersonalConsentData(consentID: "cns_3", data: "{}")
                #expect(try c.personalConsentData(consentID: "cns_3") == "{}")
                let event = try c.appendConsentEvent(subjectID: a, consentID: "cns_7", kind: "granted", purposes: "[]", at: 3, details: "{}")
                try c.setPersonalConsentData(grantEvent: event, data: "{\"new\":true}")
                #expect(try c.personalConsentData(consentID: "cns_7") == "{\"new\":true}")
                #expect(throws: StoreError.self, "no such grant event") { try c.setPersonalConsentData(grantEvent: 99, data: "{}") }
                let revoke = try c.appendConsentEvent(subjectID: a, consentID: "cns_7", kind: "revoked", purposes: "[]", at: 4, details: "{}")
                #expect(throws: StoreError.self, "a revocation has no personal part") { try c.setPersonalConsentData(grantEvent: revoke, data: "{}") }
                #expect(throws: StoreError.self, "one personal part per grant") { try c.setPersonalConsentData(grantEvent: event, data: "{}") }

                try c.erasePersonalConsentData(subjectID: a)
                let left = try c.query("SELECT e.consent_id FROM consent_personal p JOIN consent_events e ON e.id = p.grant_event ORDER BY 1").compactMap { $0.text(0) }
                #expect(left == ["cns_5", "cns_9"], "bob's rows stay")
                #expect(try c.personalConsentData(consentID: "cns_1") == nil)
            }
            await db.close()
        }
    }

    /// A personal row without a grant event of its consent and subject (none can be written, but a
    /// hand-edited file may have one) stops the v8 migration: nothing is dropped, nothing would be
    /// erased with the wrong subject, and the file stays at v7.
    @Test(arguments: ["no event at all", "a revocation only", "another subject's grant"])
    func v8RefusesPersonalDataWithoutItsGrant(_ orphan: String) async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/db.sqlite"
            let old = try Self.open(path, steps: 7)
            try await old.write { c in
                let a = try c.upsertSubject("alice", pseudonym: "sub_a", now: 1)
                let b = try c.upsertSubject("bob", pseudonym: "sub_b", now: 1)
                try c.appendConsentEvent(subjectID: a, consentID: "cns_1", kind: "granted", purposes: "[]", at: 1, details: "{}")
                try c.run("INSERT INTO consent_personal (consent_id, subject_id, data) VALUES ('cns_1', ?, '{}')", [.int(a)])
                switch orphan {
                case "no event at all": break
                case "a revocation only":
                    try c.appendConsentEvent(subjectID: a, consentID: "cns_2", kind: "revoked", purposes: "[]", at: 2, details: "{}")
                default:
                    try c.appendConsentEvent(subjectID: b, consentID: "cns_2", kind: "granted", purposes: "[]", at: 2, details: "{}")
                }
                try c.run("INSERT INTO consent_personal (consent_id, subject_id, data) VALUES ('cns_2', ?, '{}')", [.int(a)])
            }
            await old.close()

            #expect {
                try Self.open(path)
            } throws: { error in
                "\(error)".contains("every_consent_personal_row_has_a_grant_event")
            }
            let again = try Self.open(path, steps: 7)
            #expect(again.schemaVersion == 7)
            let kept = try await again.read { c in try c.query("SELECT consent_id FROM consent_personal ORDER BY 1").compactMap { $0.text(0) } }
            #expect(kept == ["cns_1", "cns_2"])
            await again.close()
        }
    }

    /// v8 leaves no copy of the old table's personal values in the file: after the subject's
    /// erasure and a checkpoint, its values are in neither the database file nor the WAL (the
    /// other subject's are, which shows the search works).
    @Test func v8LeavesNoCopyOfErasedValues() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/db.sqlite"
            let old = try Self.open(path, steps: 7)
            try await old.write { c in
                for (name, id) in [("alice", "cns_1"), ("bob", "cns_2")] {
                    let s = try c.upsertSubject(name, pseudonym: "sub_" + name, now: 1)
                    try c.appendConsentEvent(subjectID: s, consentID: id, kind: "granted", purposes: "[]", at: 1, details: "{}")
                    try c.run(
                        "INSERT INTO consent_personal (consent_id, subject_id, data) VALUES (?, ?, ?)",
                        [.text(id), .int(s), .text("{\"guardian\":\"guardian-of-\(name)-5521\"}")])
                }
            }
            try await old.checkpoint()
            await old.close()

            let db = try Self.open(path)
            try await db.write { c in try c.erasePersonalConsentData(subjectID: try #require(try c.subjectID(named: "alice"))) }
            try await db.checkpoint()
            await db.close()
            var bytes: [UInt8] = []
            for file in [path, path + "-wal"] { bytes += FileManager.default.contents(atPath: file).map(Array.init) ?? [] }
            func holds(_ text: String) -> Bool {
                let needle = Array(text.utf8)
                return bytes.count >= needle.count && (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
            }
            #expect(holds("guardian-of-bob-5521"))
            #expect(!holds("guardian-of-alice-5521"))
        }
    }

    /// Audit entries written before v6 have no `subject_id`: after the migration they are still
    /// found by their subject's pseudonym, next to newer entries linked to the subject's row, and
    /// both lookups use an index (the query plan names both and does not scan the log).
    @Test func auditEntriesFromBeforeV6AreFoundWithLinkedOnes() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/db.sqlite"
            let old = try Self.open(path, steps: 5)
            try await old.write { c in
                _ = try c.upsertSubject("alice", pseudonym: "sub_a", now: 1)
                for (seq, ref) in [(1, "sub_a"), (2, "sub_b"), (3, "sub_a")] {
                    try c.execute(
                        "INSERT INTO audit_log (seq, at, action, subject_ref, caller, details, prev_hash, hash) VALUES (\(seq), 1, 'old', '\(ref)', 'c', '{}', 'p', 'h')")
                }
            }
            await old.close()

            let db = try Self.open(path)
            try await db.write { c in
                let alice = try #require(try c.subjectID(named: "alice"))
                try c.appendAudit(AuditRow(seq: 4, at: 2, action: "new", subjectRef: "sub_a", caller: "c", details: "{}", prevHash: "p", hash: "h", subjectID: alice))
                try c.appendAudit(AuditRow(seq: 5, at: 2, action: "new", subjectRef: "sub_b", caller: "c", details: "{}", prevHash: "p", hash: "h"))
            }
            let (alice, since, bob, mislinked) = try await db.read { c in
                (try c.auditEntries(subject: ("alice", "sub_a"), since: nil, limit: 10).map(\.seq),
                 try c.auditEntries(subject: ("alice", "sub_a"), since: 2, limit: 10).map(\.seq),
                 try c.auditEntries(subject: ("bob", "sub_b"), since: nil, limit: 1).map(\.seq),
                 try c.firstMislinkedAuditEntry())
            }
            #expect(alice == [1, 3, 4])
            #expect(since == [4])
            #expect(bob == [2], "the limit keeps the oldest")
            #expect(mislinked == nil)

            let plans = try await db.read { c in
                [
                    try c.query("EXPLAIN QUERY PLAN " + Connection.subjectAuditSQL(rows: 2, unlinked: true, since: true), [.text("sub_a"), .int(1), .int(2), .int(0), .int(9)]),
                    try c.query("EXPLAIN QUERY PLAN " + Connection.subjectRowsSQL, [.text("alice"), .text("sub_a")]),
                ].map { rows in rows.compactMap { $0.text(3) }.joined(separator: "; ") }
            }
            #expect(plans[0].contains("audit_unlinked_subject") && plans[0].contains("audit_subject_id"), "\(plans[0])")
            #expect(!plans[0].contains("SCAN") && !plans[0].contains("TEMP B-TREE"), "read in seq order, no sort: \(plans[0])")
            #expect(plans[1].contains("subjects_unnamed_pseudonym"), "\(plans[1])")
            await db.close()
        }
    }

    /// A subject erased and back more times than one query merges (`maxMergedRows`) still gets
    /// all its entries, oldest first, up to the limit.
    @Test func aSubjectWithManyRowsGetsAllItsEntriesInOrder() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Self.open(dir + "/db.sqlite")
            let rowCount = Connection.maxMergedRows * 2 + 3
            try await db.write { c in
                var seq: Int64 = 0
                for i in 0..<rowCount {
                    let id = try c.upsertSubject("carol", pseudonym: "sub_c", now: Int64(i))
                    for _ in 0..<2 {
                        seq += 1
                        try c.appendAudit(AuditRow(seq: seq, at: seq, action: "a", subjectRef: "sub_c", caller: "c", details: "{}", prevHash: "p", hash: "h", subjectID: id))
                    }
                    seq += 1
                    try c.appendAudit(AuditRow(seq: seq, at: seq, action: "u", subjectRef: "sub_c", caller: "c", details: "{}", prevHash: "p", hash: "h"))
                    if i < rowCount - 1 { try c.markSubjectErased(id: id, now: Int64(i)) }
                }
            }
            let (all, first, since) = try await db.read { c in
                (try c.auditEntries(subject: ("carol", "sub_c"), since: nil, limit: 10_000).map(\.seq),
                 try c.auditEntries(subject: ("carol", "sub_c"), since: nil, limit: 5).map(\.seq),
                 try c.auditEntries(subject: ("carol", "sub_c"), since: 300, limit: 3).map(\.seq))
            }
            #expect(all == Array(1...Int64(rowCount * 3)))
            #expect(first == [1, 2, 3, 4, 5])
            #expect(since == [300, 301, 302])
            await db.close()
        }
    }

    /// Only subjects without a name are indexed by pseudonym (v4), and both lookups by pseudonym
    /// use that partial index (they name it; a query that stopped implying `subject IS NULL`
    /// would fail to prepare).
    @Test func pseudonymLookupsUseThePartialIndex() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Self.open(dir + "/db.sqlite")
            let (erased, unowned) = try await db.write { c in
                _ = try c.upsertSubject("carol", pseudonym: "sub_c", now: 1)
                _ = try c.upsertSubject("dave", pseudonym: "sub_d", now: 1)
                let gone = try c.upsertSubject("erin", pseudonym: "sub_e", now: 1)
                try c.markSubjectErased(id: gone, now: 2)
                return (gone, try c.unownedSubject(now: 3))
            }
            let found = try await db.read { c in
                (try c.erasedSubject(pseudonym: "sub_e")?.id, try c.erasedSubject(pseudonym: "sub_c"),
                 try c.queryOne("SELECT count(*) FROM subjects INDEXED BY subjects_unnamed_pseudonym WHERE subject IS NULL")?.int(0))
            }
            #expect(found.0 == erased)
            #expect(found.1 == nil, "a subject with a name is not erased")
            #expect(found.2 == 2, "the erased subject and the placeholder, no named subject")
            #expect(try await db.write { c in try c.unownedSubject(now: 4) } == unowned, "the placeholder is found, not made again")

            let plans = try await db.read { c in
                [
                    try c.query("EXPLAIN QUERY PLAN " + Connection.erasedSubjectSQL, [.text("sub_e")]),
                    try c.query("EXPLAIN QUERY PLAN " + Connection.unownedSubjectSQL),
                ].map { rows in rows.compactMap { $0.text(3) }.joined(separator: "; ") }
            }
            for plan in plans { #expect(plan.contains("USING INDEX subjects_unnamed_pseudonym"), "\(plan)") }
            await db.close()
        }
    }

    /// Finding a subject's row id by name reads the unique index on `subject` only (it holds
    /// the row id): the hot methods (`facialId.show`, `consent.status`, …) skip the row itself.
    @Test func subjectIDByNameReadsOnlyTheIndex() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Self.open(dir + "/db.sqlite")
            let frank = try await db.write { c in
                _ = try c.upsertSubject("eve", pseudonym: "sub_e", now: 1)
                return try c.upsertSubject("frank", pseudonym: "sub_f", now: 1)
            }
            let (found, missing, plan) = try await db.read { c in
                (try c.subjectID(named: "frank"), try c.subjectID(named: "nobody"),
                 try c.query("EXPLAIN QUERY PLAN " + Connection.subjectIDSQL, [.text("frank")]).compactMap { $0.text(3) }.joined(separator: "; "))
            }
            #expect(found == frank)
            #expect(missing == nil)
            #expect(try await db.write { c in try c.upsertSubject("frank", pseudonym: "sub_f", now: 2) } == frank, "found, not made again")
            #expect(plan.contains("USING COVERING INDEX"), "\(plan)")
            await db.close()
        }
    }

    @Test func consentHistoryIsAppendOnly() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Self.open(dir + "/db.sqlite")
            try await db.write { c in
                let s = try c.upsertSubject("bob", pseudonym: "sub_b", now: 1)
                try c.appendConsentEvent(subjectID: s, consentID: "cns_1", kind: "granted", purposes: "[]", at: 1, details: "{}")
            }
            await #expect(throws: StoreError.self) {
                try await db.write { c in try c.run("UPDATE consent_events SET at = 2") }
            }
            await #expect(throws: StoreError.self) {
                try await db.write { c in try c.run("DELETE FROM consent_events") }
            }
            let count = try await db.read { c in try c.queryOne("SELECT count(*) FROM consent_events")?.int(0) }
            #expect(count == 1)
            await db.close()
        }
    }
}
