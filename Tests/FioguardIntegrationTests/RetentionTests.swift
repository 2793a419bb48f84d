import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// `retention.sweep` and the server's own sweeps (duties D19, D20).
@Suite("Retention")
struct RetentionTests {
    static let shortRetention = #"{"maxSinceEnrollment": "PT3S", "maxSinceLastInteraction": "PT3S"}"#

    @Test("a Facial ID is swept after its retention lapses and not before: dry run, then real")
    func sweepAfterLapse() async throws {
        let policy = Lifecycle.policy(retention: Self.shortRetention)
        try await Lifecycle.withServer(policy: policy) { _, client in
            let done = try await Lifecycle.enroll(client, subject: "rita", facialId: "fid-rita")
            let enrolledAt = try #require(Lifecycle.date(done["enrolledAt"]))
            let retainUntil = try #require(Lifecycle.date(done["retainUntil"]))
            #expect(retainUntil == enrolledAt.addingTimeInterval(3))

            // Before the deadline: nothing due.
            let early = try await client.call("retention.sweep", ["dryRun": true])
            let earlyAt = try #require(Lifecycle.date(early["sweptAt"]))
            #expect(early["dryRun"]?.boolValue == true)
            #expect(early["examined"]?.intValue == 1)
            if earlyAt < retainUntil {
                #expect(early["expired"] == [], "swept before retainUntil \(done["retainUntil"]!.encodedString())")
            }
            if Date() < retainUntil.addingTimeInterval(-1) {
                let earlyReal = try await client.call("retention.sweep", [:])
                if let at = Lifecycle.date(earlyReal["sweptAt"]), at < retainUntil {
                    #expect(earlyReal["deletionsQueued"]?.intValue == 0)
                    let stillActive = try await client.call("facialId.show", ["subject": "rita"])
                    #expect(stillActive["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "active")
                }
            }

            // Dry runs until it is due: listed with its rule, nothing changed.
            let due = try await eventually(timeout: .seconds(10), every: .milliseconds(250)) { () -> JSON? in
                let r = try await client.call("retention.sweep", ["dryRun": true])
                if r["expired"]?.arrayValue?.isEmpty == false { return r }
                return .none
            }
            let dryRun = try #require(due, "never became due")
            let dueAt = try #require(Lifecycle.date(dryRun["sweptAt"]))
            #expect(dueAt >= retainUntil, "listed before its retainUntil")
            let entry = try #require(dryRun["expired"]?.arrayValue?.first)
            #expect(dryRun["expired"]?.arrayValue?.count == 1)
            #expect(entry["facialId"]?.stringValue == "fid-rita")
            #expect(entry["rule"]?.stringValue == "retention.maxSinceEnrollment", "a tie names maxSinceEnrollment")
            #expect(entry["dueAt"] == done["retainUntil"])
            #expect(dryRun["deletionsQueued"]?.intValue == 0)
            let afterDry = try await client.call("facialId.show", ["subject": "rita"])
            #expect(afterDry["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "active", "a dry run deletes nothing")

            // The real sweep queues the deletion.
            let real = try await client.call("retention.sweep", ["dryRun": false])
            #expect(real["dryRun"]?.boolValue == false)
            #expect(real["deletionsQueued"]?.intValue == 1)
            #expect(real["expired"]?.arrayValue?.first?["facialId"]?.stringValue == "fid-rita")
            #expect(real["expired"]?.arrayValue?.first?["rule"]?.stringValue == "retention.maxSinceEnrollment")
            let shown = try await client.call("facialId.show", ["subject": "rita"])
            let fid = try #require(shown["facialIds"]?.arrayValue?.first)
            #expect(fid["status"]?.stringValue == "deleting")
            #expect(fid["deletion"]?["reason"]?.stringValue == "retention_expired")
            #expect(fid["deletion"]?["status"]?.stringValue == "pending")

            // Nothing left to sweep.
            let again = try await client.call("retention.sweep", [:])
            #expect(again["expired"] == [])
            #expect(again["deletionsQueued"]?.intValue == 0)

            let entries = try await Lifecycle.auditEntries(client, subject: "rita")
            let expiredEntries = entries.filter { $0["action"]?.stringValue == "retention.expired" }
            #expect(expiredEntries.count == 1)
            #expect(expiredEntries.first?["details"]?["rule"]?.stringValue == "retention.maxSinceEnrollment")
        }
    }

    @Test("a touch moves the interaction deadline, but never past maxSinceEnrollment")
    func touchDoesNotOutliveEnrollmentCap() async throws {
        // Times are whole seconds: a touch 2.1 s after enrolling is at least 2 s past `enrolledAt`,
        // so its own interaction deadline (12 s or more) would pass the 11 s cap. It must come
        // before the 10 s deadline (a touch at or past it no longer extends: see the test below),
        // which leaves a slow machine (a sanitizer build, parallel tests) about 7 s.
        let policy = Lifecycle.policy(retention: #"{"maxSinceEnrollment": "PT11S", "maxSinceLastInteraction": "PT10S"}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            let done = try await Lifecycle.enroll(client, subject: "rex", facialId: "fid-rex")
            let enrolledAt = try #require(Lifecycle.date(done["enrolledAt"]))
            #expect(Lifecycle.date(done["retainUntil"]) == enrolledAt.addingTimeInterval(10))
            #expect(done["retentionRule"]?.stringValue == "retention.maxSinceLastInteraction")
            try await Task.sleep(for: .milliseconds(2100))
            let touched = try await client.call("facialId.touch", ["subject": "rex"])
            #expect(Lifecycle.date(touched["retainUntil"]) == enrolledAt.addingTimeInterval(11))
            #expect(touched["retentionRule"]?.stringValue == "retention.maxSinceEnrollment")
        }
    }

    /// D19: a face login after the deadline, before the hourly sweep, used to set a new deadline
    /// and cancel a deletion that was due.
    @Test("a touch after the retention deadline does not bring the Facial ID back")
    func aTouchPastTheDeadlineDoesNotExtendIt() async throws {
        let policy = Lifecycle.policy(retention: #"{"maxSinceEnrollment": "P1Y", "maxSinceLastInteraction": "PT2S"}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            try await Lifecycle.enroll(client, subject: "late", facialId: "fid-late")
            try await Task.sleep(for: .milliseconds(3100))
            let e = await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["subject": "late"]) }
            #expect(e?.error["message"]?.stringValue?.contains("retention period has ended") == true, "\(String(describing: e))")
            let swept = try await client.call("retention.sweep", [:])
            #expect(swept["expired"]?.arrayValue?.compactMap { $0["facialId"]?.stringValue } == ["fid-late"], "\(swept)")
        }
    }

    @Test("consents past their expiry are swept, and their Facial IDs with them")
    func consentExpiry() async throws {
        let policy = Lifecycle.policy(consent: #"{"validFor": "PT3S"}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            let consent = try await Lifecycle.recordConsent(client, subject: "sam")
            let recordedAt = try #require(Lifecycle.date(consent["recordedAt"]))
            let expiresAt = try #require(Lifecycle.date(consent["expiresAt"]))
            #expect(expiresAt == recordedAt.addingTimeInterval(3))
            let (_, ticket) = try await Lifecycle.authorize(client, subject: "sam")
            _ = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-sam"])

            let due = try await eventually(timeout: .seconds(10), every: .milliseconds(250)) { () -> JSON? in
                let r = try await client.call("retention.sweep", ["dryRun": true])
                if (r["consentsExpired"]?.intValue ?? 0) > 0 { return r }
                return .none
            }
            let dryRun = try #require(due, "the consent never expired")
            #expect(try #require(Lifecycle.date(dryRun["sweptAt"])) >= expiresAt)
            #expect(dryRun["consentsExpired"]?.intValue == 1)
            #expect(dryRun["expired"] == [], "the Facial ID's own retention (P3Y) has not lapsed")
            let untouched = try await client.call("consent.status", ["subject": "sam"])
            #expect(untouched["active"]?.arrayValue?.count == 1, "a dry run changes nothing")

            let real = try await client.call("retention.sweep", [:])
            #expect(real["consentsExpired"]?.intValue == 1)
            #expect(real["deletionsQueued"]?.intValue == 1)
            let status = try await client.call("consent.status", ["subject": "sam"])
            #expect(status["active"] == [])
            #expect(status["history"]?.arrayValue?.last?["event"]?.stringValue == "expired")
            let shown = try await client.call("facialId.show", ["subject": "sam"])
            #expect(shown["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "deleting")
            #expect(shown["facialIds"]?.arrayValue?.first?["deletion"]?["reason"]?.stringValue == "consent_expired")
        }
    }

    @Test("the server sweeps on its own at sweep.interval (PT1S)")
    func automaticSweepAtInterval() async throws {
        let policy = Lifecycle.policy(retention: Self.shortRetention, sweep: #"{"interval": "PT1S"}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            let done = try await Lifecycle.enroll(client, subject: "tia", facialId: "fid-tia")
            let retainUntil = try #require(Lifecycle.date(done["retainUntil"]))
            let swept = try await eventually(timeout: .seconds(12), every: .milliseconds(200)) { () -> Date? in
                let shown = try await client.call("facialId.show", ["subject": "tia"])
                guard shown["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "deleting" else { return nil }
                return Lifecycle.date(shown["facialIds"]?.arrayValue?.first?["deletion"]?["requestedAt"])
            }
            let requestedAt = try #require(swept, "the scheduled sweep never deleted the lapsed Facial ID")
            #expect(requestedAt >= retainUntil, "swept before its retention lapsed")
            let entries = try await Lifecycle.auditEntries(client, subject: "tia")
            let expired = entries.first { $0["action"]?.stringValue == "retention.expired" }
            #expect(expired?["caller"]?.stringValue == "fioguard", "the server's own sweep")
        }
    }

    @Test("the server's own sweep (first round at start-up) catches a Facial ID that lapsed while it was down")
    func automaticSweepAtStartup() async throws {
        let policy = Lifecycle.policy(retention: Self.shortRetention, sweep: #"{"interval": "PT1M"}"#)
        try await Lifecycle.withServer(policy: policy) { server, client in
            let done = try await Lifecycle.enroll(client, subject: "uma", facialId: "fid-uma")
            let retainUntil = try #require(Lifecycle.date(done["retainUntil"]))
            _ = await server.terminate()
            let wait = retainUntil.addingTimeInterval(1.1).timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
            try await server.start()
            let again = try await server.connect()
            let swept = try await eventually(timeout: .seconds(10), every: .milliseconds(100)) { () -> JSON? in
                let shown = try await again.call("facialId.show", ["subject": "uma"])
                let fid = shown["facialIds"]?.arrayValue?.first
                if fid?["status"]?.stringValue == "deleting" { return fid }
                return .none
            }
            let fid = try #require(swept, "the start-up sweep did not delete the lapsed Facial ID")
            #expect(fid["deletion"]?["reason"]?.stringValue == "retention_expired")
            let entries = try await Lifecycle.auditEntries(again, subject: "uma")
            let expired = entries.first { $0["action"]?.stringValue == "retention.expired" }
            #expect(expired?["caller"]?.stringValue == "fioguard", "the server's own sweep, not a client's")
            await again.close()
        }
    }

    @Test("retention.sweep rejects bad params and is reserved to admins when --admin-uid is set")
    func sweepFailures() async throws {
        try await Lifecycle.withServer { _, client in
            await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("retention.sweep", ["dryRun": "yes"]) }
            await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("retention.sweep", ["limit": 0]) }
            await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("retention.sweep", ["force": true]) }
        }
        let someoneElse = String(getuid() &+ 4242)
        try await Lifecycle.withServer(arguments: ["--admin-uid", someoneElse]) { _, client in
            await Lifecycle.expectError("FORBIDDEN", code: -32006) { try await client.call("retention.sweep", ["dryRun": true]) }
            // Ordinary lifecycle methods stay open.
            try await Lifecycle.recordConsent(client, subject: "val")
        }
    }
    @Test("retention.sweep deletes tickets expired over 7 days ago, used or not; a dry run counts them; newer ones stay")
    func spentTicketsPurged() async throws {
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.recordConsent(client, subject: "uma")
            try await Lifecycle.recordConsent(client, subject: "vic")
            _ = try await Lifecycle.authorize(client, subject: "uma")  // never used
            let (_, used) = try await Lifecycle.authorize(client, subject: "uma")
            _ = try await client.call("enroll.complete", ["ticket": .string(used), "facialId": "fid-uma"])
            _ = try await Lifecycle.authorize(client, subject: "vic")  // stays: expired only 6 days ago
            let fresh = try await client.call("retention.sweep", ["dryRun": true])
            #expect(fresh["ticketsPurged"]?.intValue == 0)
            // Age them (the daemon's clock cannot be moved): WAL mode lets the CLI write meanwhile.
            func age(_ subject: String, days: Int) throws {
                try Lifecycle.sqlite(
                    server.databasePath,
                    "PRAGMA busy_timeout = 10000; UPDATE tickets SET expires_at = expires_at - \(days) * 86400 "
                        + "WHERE subject_id = (SELECT id FROM subjects WHERE subject = '\(subject)')")
            }
            try age("uma", days: 8)
            try age("vic", days: 6)
            let dry = try await client.call("retention.sweep", ["dryRun": true])
            #expect(dry["ticketsPurged"]?.intValue == 2, "\(dry)")
            #expect(try Lifecycle.sqlite(server.databasePath, "SELECT count(*) FROM tickets") == "3\n", "a dry run deletes nothing")
            let real = try await client.call("retention.sweep", [:])
            #expect(real["ticketsPurged"]?.intValue == 2, "\(real)")
            #expect(try Lifecycle.sqlite(server.databasePath, "SELECT count(*) FROM tickets") == "1\n")
            #expect(try await client.call("retention.sweep", [:])["ticketsPurged"]?.intValue == 0)
            try age("vic", days: 2)
            #expect(try await client.call("retention.sweep", [:])["ticketsPurged"]?.intValue == 1)
            // uma's Facial ID is untouched by the purge.
            let shown = try await client.call("facialId.show", ["subject": "uma"])
            #expect(shown["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "active")
        }
    }

    /// A crash while a new policy's retention dates were being written (they go in chunks after
    /// the activation is recorded) left the rest on the old dates for good: the next start saw
    /// the version unchanged. Here the crash is staged in the database: the version recorded, the
    /// dates not.
    @Test("retention dates a crash left half-recomputed are finished at the next start")
    func aRecomputeCutShortIsFinishedAtTheNextStart() async throws {
        let long = Lifecycle.policy(retention: #"{"maxSinceEnrollment": "P3Y", "maxSinceLastInteraction": "P3Y"}"#)
        let short = Lifecycle.policy(retention: #"{"maxSinceEnrollment": "P30D", "maxSinceLastInteraction": "P30D"}"#)
        let server = try await LiveServer.started(policy: long)
        defer { server.directory.remove() }
        let client = try await server.connect()
        try await Lifecycle.enroll(client, subject: "cut", facialId: "fid-cut")
        await client.close()
        _ = await server.terminate()
        let query = "SELECT retain_until FROM facial_ids WHERE facial_id = 'fid-cut'"
        let underLong = try Lifecycle.sqlite(server.databasePath, query)
        let longVersion = try Lifecycle.sqlite(server.databasePath, "SELECT CAST(value AS TEXT) FROM meta WHERE key = 'policy_version'")

        try short.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
        try await server.start()
        _ = await server.terminate()
        let underShort = try Lifecycle.sqlite(server.databasePath, query)
        #expect(underShort != underLong, "the new policy shortened the date")

        // The crash: the short policy recorded, its dates not yet written.
        _ = try Lifecycle.sqlite(server.databasePath, """
            UPDATE facial_ids SET retain_until = \(underLong.trimmingCharacters(in: .whitespacesAndNewlines)) WHERE facial_id = 'fid-cut';
            INSERT OR REPLACE INTO meta (key, value) VALUES ('retention_policy_version', CAST('\(longVersion.trimmingCharacters(in: .whitespacesAndNewlines))' AS BLOB));
            """)
        try await server.start()
        _ = await server.terminate()
        #expect(try Lifecycle.sqlite(server.databasePath, query) == underShort, "finished at the next start")
        #expect(server.log.contains("an earlier activation of this policy did not finish"), "\(server.log.suffix(2000))")
    }
}
