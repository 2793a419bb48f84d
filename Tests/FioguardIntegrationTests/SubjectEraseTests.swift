import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// `subject.erase`: account deletion counts as revocation, deletes every Facial ID now and leaves
/// only a pseudonymous audit trail (duties D6, D14, D18).
@Suite("Subject erasure")
struct SubjectEraseTests {
    /// Distinctive, so a search for it cannot hit anything else.
    static let subject = "erase-me-7f3c9a@example.org"

    @Test("subject.erase revokes all, deletes every Facial ID now, and forgets the subject")
    func erase() async throws {
        // Retention of three years: erasure must not wait for it.
        try await Lifecycle.withServer { _, client in
            let subject = Self.subject
            let done = try await Lifecycle.enroll(client, subject: subject, facialId: "fid-erase-1")
            #expect(done["retainUntil"] != nil)
            _ = try await client.call("facialId.touch", ["subject": .string(subject)])
            // A later consent, recorded with an idempotency key (erased with the rest).
            _ = try await client.call(
                "consent.record", Lifecycle.consentParams(subject: subject, idempotencyKey: "erase-key"))

            let erased = try await client.call("subject.erase", ["subject": .string(subject), "confirm": true])
            let erasedAt = try #require(Lifecycle.date(erased["erasedAt"]))
            #expect(abs(erasedAt.timeIntervalSinceNow) < 60)
            #expect(erased["deletions"] == [["facialId": "fid-erase-1", "status": "pending"]])

            await Lifecycle.expectError("NOT_FOUND") { try await client.call("consent.status", ["subject": .string(subject)]) }
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.show", ["subject": .string(subject)]) }
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["subject": .string(subject)]) }
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["facialId": "fid-erase-1"]) }
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("consent.revoke", ["subject": .string(subject)]) }
            let decision = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: subject))
            #expect(decision["allow"]?.boolValue == false)

            // The audit trail stays, by pseudonym, without the raw subject anywhere.
            let entries = try await Lifecycle.auditEntries(client, subject: subject)
            let actions = entries.compactMap { $0["action"]?.stringValue }
            #expect(actions.starts(with: ["consent.recorded", "enroll.authorized", "enroll.completed", "facialId.touched"]))
            #expect(actions.contains("subject.erased"))
            let refs = Set(entries.compactMap { $0["subjectRef"]?.stringValue })
            #expect(refs.count == 1)
            #expect(refs.first?.hasPrefix("sub_") == true)
            for entry in entries {
                let text = entry.encodedString()
                #expect(!text.contains(subject), "raw subject in audit entry \(text)")
                #expect(!text.contains("fid-erase-1"), "raw Facial ID in audit entry \(text)")
            }
            let everything = try await Lifecycle.auditEntries(client)
            #expect(!everything.map { $0.encodedString() }.joined().contains(subject))

            let verified = try await client.call("audit.verify")
            #expect(verified["ok"]?.boolValue == true)
        }
    }

    @Test("erasure deletes at once even when the policy allows a delay after revocation")
    func eraseDeletesNowWhateverTheDelay() async throws {
        let policy = Lifecycle.policy(retention: #"{"deleteAfterRevocation": "P30D"}"#)
        try await Lifecycle.withServer(policy: policy) { server, client in
            try await Lifecycle.enroll(client, subject: "now", facialId: "fid-now")
            _ = try await client.call("subject.erase", ["subject": "now", "confirm": true])
            _ = await server.terminate()
            let job = try Lifecycle.sqlite(
                server.databasePath, "SELECT next_attempt_at - requested_at, status FROM deletion_jobs WHERE facial_id = 'fid-now'")
            #expect(job.trimmingCharacters(in: .whitespacesAndNewlines) == "0|pending", "the FACEIO deletion is due at once")
        }
    }

    @Test("a revocation's deletion is due by the earliest of the policy's delay and the caps where the Facial ID was enrolled")
    func revocationDelayIsCappedByTheJurisdiction() async throws {
        let policy = Lifecycle.policy(retention: #"{"deleteAfterRevocation": "P90D"}"#)
        try await Lifecycle.withServer(policy: policy) { server, client in
            try await Lifecycle.enroll(client, subject: "dee", facialId: "fid-dee")  // in DE: the EU profile's P1M
            _ = try await client.call("consent.revoke", ["subject": "dee"])
            _ = await server.terminate()
            let delay = try Lifecycle.sqlite(
                server.databasePath, "SELECT next_attempt_at - requested_at FROM deletion_jobs WHERE facial_id = 'fid-dee'")
            let seconds = Int(delay.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            #expect((28 * 86_400)...(31 * 86_400) ~= seconds, "due \(seconds) s after the revocation: one month, not 90 days")
        }
    }

    /// D3, D13: what the receipt and `facialId.show` tell the user about withdrawing follows the
    /// policy's delay (capped by the profiles), as `policy.disclosure` does: not "at once" when
    /// the deletion waits.
    @Test("the receipt and facialId.show say by when a withdrawal deletes", arguments: ["PT0S", "P10D", "P90D"])
    func withdrawalTextsFollowTheDelay(delay: String) async throws {
        let policy = Lifecycle.policy(retention: #"{"deleteAfterRevocation": "\#(delay)"}"#)
        let expected = ["PT0S": "at once", "P10D": "within 10 days", "P90D": "within 1 month"][delay]!  // DE: the EU profile's P1M
        try await Lifecycle.withServer(policy: policy) { _, client in
            let recorded = try await Lifecycle.recordConsent(client, subject: "told")
            #expect(
                recorded["receipt"]?["withdrawal"]?["effect"]?.stringValue
                    == "revoking 'authentication' deletes every Facial ID of the subject at FACEIO \(expected)", "\(recorded)")
            let (_, ticket) = try await Lifecycle.authorize(client, subject: "told")
            _ = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-told"])
            let shown = try await client.call("facialId.show", ["subject": "told"])
            #expect(shown["rights"]?["revokeConsent"]?["effect"]?.stringValue == "deletes every Facial ID \(expected)", "\(shown)")
            let disclosure = try await client.call("policy.disclosure", ["country": "DE"])
            #expect(disclosure["howToRevoke"]?.stringValue?.hasSuffix("deletes your Facial ID \(expected).") == true, "\(disclosure)")
        }
    }

    /// D18: account deletion deletes at once, even a deletion a revocation had put off; a user's
    /// own delete acts at once too.
    @Test("subject.erase and facialId.delete make a deletion put off by a revocation due now", arguments: ["subject.erase", "facialId.delete"])
    func eraseOrDeleteAfterRevocationActsNow(method: String) async throws {
        let policy = Lifecycle.policy(retention: #"{"deleteAfterRevocation": "P30D"}"#)
        try await Lifecycle.withServer(policy: policy) { server, client in
            try await Lifecycle.enroll(client, subject: "late", facialId: "fid-late")
            _ = try await client.call("consent.revoke", ["subject": "late"])
            _ = try await client.call(method, ["subject": "late", "confirm": true])
            if method == "facialId.delete" {
                // Nothing new to queue: the job the revocation wrote was brought forward.
                let deleted = try await Lifecycle.auditEntries(client, subject: "late").filter { $0["action"] == "facialId.deleted" }
                #expect(deleted.count == 1)
                #expect(deleted.first?["details"]?["queued"]?.intValue == 0)
                #expect(deleted.first?["details"]?["expedited"]?.intValue == 1, "\(deleted)")
            }
            _ = await server.terminate()
            let job = try Lifecycle.sqlite(
                server.databasePath,
                "SELECT next_attempt_at <= CAST(strftime('%s','now') AS INTEGER), status FROM deletion_jobs WHERE facial_row = (SELECT id FROM facial_ids ORDER BY id LIMIT 1)")
            #expect(job.trimmingCharacters(in: .whitespacesAndNewlines) == "1|pending", "\(method): the FACEIO deletion is due now")
        }
    }

    /// A caller's free text may name a person: it is shown while the subject exists, and nothing
    /// that outlives an erasure (the consent history, the audit trail) keeps it.
    @Test("the caller's reasons and an unknown trigger are not kept past an erasure")
    func callerTextDoesNotOutliveErasure() async throws {
        let said = "Max Mustermann phoned, tel +49 30 1234567"
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.enroll(client, subject: "rex", facialId: "fid-rex")
            _ = try await client.call("facialId.delete", ["subject": "rex", "confirm": true, "reason": .string(said)])
            _ = try await client.call("consent.revoke", ["subject": "rex", "reason": .string(said)])
            let status = try await client.call("consent.status", ["subject": "rex"])
            let revoked = status["history"]?.arrayValue?.first { $0["event"] == "revoked" }
            #expect(revoked?["details"]?["reason"]?.stringValue == said, "shown until erased")
            _ = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "rex", trigger: "Mustermann clicked"))
            _ = try await client.call("subject.erase", ["subject": "rex", "confirm": true])
            _ = await server.terminate()
            for table in ["consent_events", "audit_log", "consent_personal", "deletion_jobs"] {
                let dump = try Lifecycle.sqlite(server.databasePath, "SELECT * FROM \(table)")
                #expect(!dump.contains("Mustermann"), "\(table) keeps the caller's words: \(dump)")
            }
        }
    }

    @Test("repeating subject.erase is idempotent")
    func eraseIsIdempotent() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.enroll(client, subject: "bart", facialId: "fid-bart")
            let first = try await client.call("subject.erase", ["subject": "bart", "confirm": true])
            let auditCount = try await Lifecycle.auditEntries(client).count
            let second = try await client.call("subject.erase", ["subject": "bart", "confirm": true])
            #expect(second["erasedAt"] == first["erasedAt"])
            #expect(second["deletions"]?.arrayValue?.count == 1)
            #expect(second["deletions"]?.arrayValue?.first?["status"]?.stringValue == "pending")
            #expect(try await Lifecycle.auditEntries(client).count == auditCount, "a repeat changes nothing")
        }
    }

    @Test("subject.erase needs confirm: true; an unknown subject is NOT_FOUND")
    func eraseFailures() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.enroll(client, subject: "cleo", facialId: "fid-cleo")
            await Lifecycle.expectError("CONFIRMATION_REQUIRED", code: -32005) { try await client.call("subject.erase", ["subject": "cleo"]) }
            await Lifecycle.expectError("CONFIRMATION_REQUIRED") { try await client.call("subject.erase", ["subject": "cleo", "confirm": false]) }
            let status = try await client.call("consent.status", ["subject": "cleo"])
            #expect(status["active"]?.arrayValue?.count == 1, "an unconfirmed erase changes nothing")
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("subject.erase", ["subject": "never-seen", "confirm": true]) }
        }
    }

    @Test("after erasure the database holds no personal value of the subject")
    func nothingPersonalLeftInDatabase() async throws {
        try await Lifecycle.withServer { server, client in
            let subject = Self.subject
            let guardian: JSON = ["relationship": "parent", "verificationMethod": "eid", "reference": "guardian-ref-5521"]
            _ = try await client.call(
                "consent.record",
                Lifecycle.consentParams(subject: subject, age: 12, locale: "de-AT", idempotencyKey: "idem-5521", guardian: guardian))
            let (_, ticket) = try await Lifecycle.authorize(client, subject: subject)
            _ = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-erase-2"])
            _ = try await client.call("subject.erase", ["subject": .string(subject), "confirm": true])
            _ = await server.terminate()

            let dump = try Lifecycle.sqlite(server.databasePath, ".dump")
            #expect(!dump.contains(subject), "the raw subject survives erasure in the database")
            #expect(!dump.contains("guardian-ref-5521"), "guardian evidence survives erasure")
            #expect(!dump.contains("de-AT"), "the locale survives erasure")
            // The file's bytes too: what a delete or update frees stays in a page's free space
            // unless SQLite zeroes it (secure_delete). A clean stop folds the WAL into the file.
            let left = Lifecycle.valuesInFileBytes([subject, "guardian-ref-5521"], database: server.databasePath)
            #expect(left.isEmpty, "erased values are still in the file's bytes: \(left)")
            // Only the deletion outbox may still hold the Facial ID (FACEIO must be told).
            let facialRows = try Lifecycle.sqlite(server.databasePath, "SELECT count(*) FROM facial_ids WHERE facial_id IS NOT NULL")
            #expect(facialRows.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            let outbox = try Lifecycle.sqlite(server.databasePath, "SELECT facial_id, status, reason FROM deletion_jobs")
            #expect(outbox.trimmingCharacters(in: .whitespacesAndNewlines) == "fid-erase-2|pending|account_erased")
        }
    }
}
