import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// `facialId.show`, `facialId.touch`, `facialId.delete` through the socket (duties D4, D5, D13, D24).
@Suite("Facial IDs")
struct FacialIDTests {
    @Test("facialId.show lists the Facial ID, the consent in force and the subject's rights")
    func show() async throws {
        try await Lifecycle.withServer { _, client in
            let done = try await Lifecycle.enroll(client, subject: "amy", facialId: "fid-amy")
            let shown = try await client.call("facialId.show", ["subject": "amy"])
            #expect(shown["subject"]?.stringValue == "amy")
            let ids = try #require(shown["facialIds"]?.arrayValue)
            #expect(ids.count == 1)
            let fid = try #require(ids.first)
            #expect(fid["facialId"]?.stringValue == "fid-amy")
            #expect(fid["status"]?.stringValue == "active")
            #expect(fid["enrolledAt"] == done["enrolledAt"])
            #expect(fid["lastAuthenticatedAt"] == .null)
            #expect(fid["retainUntil"] == done["retainUntil"])
            #expect(fid["deletion"] == .null)

            let consent = try #require(shown["consent"])
            #expect(consent["consentId"]?.stringValue != nil)
            #expect(consent["purposes"] == ["authentication"])

            let rights = try #require(shown["rights"])
            #expect(rights["revokeConsent"]?["method"]?.stringValue == "consent.revoke")
            #expect(rights["deleteFacialId"]?["method"]?.stringValue == "facialId.delete")
            #expect(rights["eraseAccount"]?["method"]?.stringValue == "subject.erase")
            #expect(rights["retention"] != nil && rights["retention"] != .null, "the retention rule that applies")
        }
    }

    @Test("facialId.show for an unknown subject is NOT_FOUND; a consenting subject without enrollment has none")
    func showFailures() async throws {
        try await Lifecycle.withServer { _, client in
            await Lifecycle.expectError("NOT_FOUND", code: -32002) { try await client.call("facialId.show", ["subject": "ghost"]) }
            try await Lifecycle.recordConsent(client, subject: "bo")
            let shown = try await client.call("facialId.show", ["subject": "bo"])
            #expect(shown["facialIds"] == [])
            let e = await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("facialId.show", [:]) }
            #expect(e?.error["data"]?["field"]?.stringValue == "params.subject")
        }
    }

    @Test("facialId.touch records the last interaction and recomputes retainUntil")
    func touchRecomputesRetention() async throws {
        // Retention: one hour after the last interaction (three years after enrollment).
        let policy = Lifecycle.policy(retention: #"{"maxSinceEnrollment": "P3Y", "maxSinceLastInteraction": "PT1H"}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            let done = try await Lifecycle.enroll(client, subject: "cy", facialId: "fid-cy")
            let enrolledAt = try #require(Lifecycle.date(done["enrolledAt"]))
            let firstUntil = try #require(Lifecycle.date(done["retainUntil"]))
            #expect(firstUntil == enrolledAt.addingTimeInterval(3600))

            // Times have whole seconds: let one pass so the touch is visibly later.
            try await Task.sleep(for: .milliseconds(1100))
            let touched = try await client.call("facialId.touch", ["subject": "cy"])
            let lastAuth = try #require(Lifecycle.date(touched["lastAuthenticatedAt"]))
            let newUntil = try #require(Lifecycle.date(touched["retainUntil"]))
            #expect(lastAuth > enrolledAt)
            #expect(newUntil == lastAuth.addingTimeInterval(3600))
            #expect(newUntil > firstUntil)

            let shown = try await client.call("facialId.show", ["subject": "cy"])
            let fid = try #require(shown["facialIds"]?.arrayValue?.first)
            #expect(fid["lastAuthenticatedAt"] == touched["lastAuthenticatedAt"])
            #expect(fid["retainUntil"] == touched["retainUntil"])

            // By facialId alone (what a login callback knows).
            try await Task.sleep(for: .milliseconds(1100))
            let byId = try await client.call("facialId.touch", ["facialId": "fid-cy"])
            let later = try #require(Lifecycle.date(byId["lastAuthenticatedAt"]))
            #expect(later > lastAuth)

            let actions = try await Lifecycle.auditEntries(client, subject: "cy").compactMap { $0["action"]?.stringValue }
            #expect(actions.filter { $0 == "facialId.touched" }.count == 2)
        }
    }

    @Test("facialId.touch without an active Facial ID is NOT_FOUND; without subject or facialId -32602")
    func touchFailures() async throws {
        try await Lifecycle.withServer { _, client in
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["subject": "nobody"]) }
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["facialId": "fid-unknown"]) }
            try await Lifecycle.recordConsent(client, subject: "di")
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["subject": "di"]) }
            await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("facialId.touch", [:]) }
        }
    }

    @Test("facialId.delete needs confirm: true, else CONFIRMATION_REQUIRED and nothing changes")
    func deleteNeedsConfirmation() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.enroll(client, subject: "ed", facialId: "fid-ed")
            let missing = await Lifecycle.expectError("CONFIRMATION_REQUIRED", code: -32005) {
                try await client.call("facialId.delete", ["subject": "ed"])
            }
            #expect(missing?.error["data"]?["field"]?.stringValue == "params.confirm")
            await Lifecycle.expectError("CONFIRMATION_REQUIRED") {
                try await client.call("facialId.delete", ["subject": "ed", "confirm": false])
            }
            await Lifecycle.expectError("INVALID_PARAMS", code: -32602) {
                try await client.call("facialId.delete", ["subject": "ed", "confirm": "yes"])
            }
            let shown = try await client.call("facialId.show", ["subject": "ed"])
            #expect(shown["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "active")
            let actions = try await Lifecycle.auditEntries(client, subject: "ed").compactMap { $0["action"]?.stringValue }
            #expect(!actions.contains("facialId.deleted"))
        }
    }

    @Test("facialId.delete tombstones the Facial ID and queues a durable deletion job; repeating it is idempotent")
    func deleteTombstonesAndIsIdempotent() async throws {
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.enroll(client, subject: "flo", facialId: "fid-flo")
            let first = try await client.call("facialId.delete", ["subject": "flo", "confirm": true, "reason": "user clicked delete"])
            let deletions = try #require(first["deletions"]?.arrayValue)
            #expect(deletions == [["facialId": "fid-flo", "status": "pending"]])

            let shown = try await client.call("facialId.show", ["subject": "flo"])
            let fid = try #require(shown["facialIds"]?.arrayValue?.first)
            #expect(fid["status"]?.stringValue == "deleting")
            #expect(fid["retainUntil"] == .null)
            let job = try #require(fid["deletion"])
            #expect(job["status"]?.stringValue == "pending")
            #expect(job["reason"]?.stringValue == "user_request")
            #expect(Lifecycle.date(job["requestedAt"]) != nil)
            #expect(job["completedAt"] == .null)
            #expect(job["attempts"]?.intValue == 0)

            // Once deleting, a login no longer counts and no new deletion is queued.
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["subject": "flo"]) }
            let second = try await client.call("facialId.delete", ["subject": "flo", "confirm": true])
            #expect(second["deletions"] == first["deletions"])
            let third = try await client.call("facialId.delete", ["subject": "flo", "facialId": "fid-flo", "confirm": true])
            #expect(third["deletions"] == first["deletions"])
            let actions = try await Lifecycle.auditEntries(client, subject: "flo").compactMap { $0["action"]?.stringValue }
            #expect(actions.filter { $0 == "facialId.deleted" }.count == 1)

            // The job is durable: it is still there after a restart.
            _ = await server.terminate()
            try await server.start()
            let again = try await server.connect()
            let after = try await again.call("facialId.show", ["subject": "flo"])
            #expect(after["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "deleting")
            #expect(after["facialIds"]?.arrayValue?.first?["deletion"]?["status"]?.stringValue == "pending")
            let jobs = try Lifecycle.sqlite(server.databasePath, "SELECT facial_id, status, reason FROM deletion_jobs")
            #expect(jobs.trimmingCharacters(in: .whitespacesAndNewlines) == "fid-flo|pending|user_request")
            await again.close()
        }
    }

    @Test("facialId.delete of one Facial ID leaves the others; unknown ones are NOT_FOUND")
    func deleteOne() async throws {
        let policy = Lifecycle.policy(enrollment: #"{"allowReenrollment": true}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            try await Lifecycle.enroll(client, subject: "gia", facialId: "fid-gia-1")
            let (_, ticket) = try await Lifecycle.authorize(client, subject: "gia")
            _ = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-gia-2"])

            let one = try await client.call("facialId.delete", ["subject": "gia", "facialId": "fid-gia-1", "confirm": true])
            #expect(one["deletions"] == [["facialId": "fid-gia-1", "status": "pending"]])
            let shown = try await client.call("facialId.show", ["subject": "gia"])
            let statuses = (shown["facialIds"]?.arrayValue ?? []).map { ($0["facialId"]?.stringValue ?? "", $0["status"]?.stringValue ?? "") }
            #expect(statuses.map(\.0) == ["fid-gia-1", "fid-gia-2"])
            #expect(statuses.map(\.1) == ["deleting", "active"])

            await Lifecycle.expectError("NOT_FOUND") {
                try await client.call("facialId.delete", ["subject": "gia", "facialId": "fid-other", "confirm": true])
            }
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.delete", ["subject": "nobody", "confirm": true]) }

            // Without facialId: all of the subject's.
            let all = try await client.call("facialId.delete", ["subject": "gia", "confirm": true])
            #expect(all["deletions"]?.arrayValue?.count == 2)
        }
    }
}
