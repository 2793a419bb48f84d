import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// `webhook.ingest` through the real binary: the token (file or environment, FACEIO's
/// `WWW-Authenticate: Bearer` header or `Authorization`), deduplication, and the reconciliation of
/// `deletion`, `auth` and `enroll` events with the sidecar's records and the fake FACEIO.
@Suite("FaceIO webhooks", .serialized)
struct WebhookTests {
    // MARK: authentication

    @Test("the token is required: missing, wrong or empty → FORBIDDEN; right in WWW-Authenticate or Authorization → accepted")
    func tokenRequired() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { server, _, client in
            let body = FIO.webhookBody(event: "auth", facialId: "fid-unknown-1")
            let refused: [[(String, String)]] = [
                [],
                [("Content-Type", "application/json")],
                [("WWW-Authenticate", "Bearer wrong-token")],
                [("WWW-Authenticate", "Bearer \(FIO.webhookToken)x")],
                [("WWW-Authenticate", "Bearer \(String(FIO.webhookToken.dropLast()))")],
                [("WWW-Authenticate", "Bearer ")],
                [("WWW-Authenticate", "")],
                [("WWW-Authenticate", "Bearer\t")],
                [("WWW-Authenticate", "Bearer\(FIO.webhookToken)")],
                [("WWW-Authenticate", "bearerX \(FIO.webhookToken)")],
                [("WWW-Authenticate", "Bearer Bearer \(FIO.webhookToken)")],
                [("WWW-Authenticate", "Bearer\u{00A0}\(FIO.webhookToken)")],
                [("Authorization", "Basic \(FIO.webhookToken.uppercased())")],
                [("X-Webhook-Token", FIO.webhookToken)],
            ]
            for headers in refused {
                let e = try await client.failure("webhook.ingest", FIO.ingestParams(body: body, headers: headers))
                #expect(e?.reason == "FORBIDDEN", "headers \(headers): \(e?.description ?? "-")")
                #expect(e?.code == -32006)
            }
            // Nothing was processed while refused: the first accepted delivery is not a duplicate.
            let accepted: [[(String, String)]] = [
                [("WWW-Authenticate", "Bearer \(FIO.webhookToken)")],
                [("www-authenticate", "Bearer \(FIO.webhookToken)")],
                [("Authorization", "Bearer \(FIO.webhookToken)")],
                [("WWW-Authenticate", FIO.webhookToken)],
                [("Authorization", "bearer   \(FIO.webhookToken) ")],
                [("WWW-Authenticate", "\tBearer\t\(FIO.webhookToken)")],
            ]
            for (i, headers) in accepted.enumerated() {
                let r = try await client.call(
                    "webhook.ingest", FIO.ingestParams(body: FIO.webhookBody(event: "auth", facialId: "fid-unknown-1", timestamp: 100 + i), headers: headers))
                #expect(r["accepted"]?.boolValue == true, "headers \(headers)")
                #expect(r["event"]?.stringValue == "auth")
                #expect(r["action"]?.stringValue?.hasPrefix("duplicate") == false, "\(r)")
            }
            let first = try await client.call("webhook.ingest", FIO.ingestParams(body: body))
            #expect(first["action"]?.stringValue?.hasPrefix("duplicate") == false, "refused deliveries left no trace: \(first)")

            #expect(FIO.leaks(of: FIO.webhookToken, in: server.log).isEmpty, "token in the log")
            let answers = client.transcript.joined(separator: "\n")
            #expect(FIO.leaks(of: FIO.webhookToken, in: answers).isEmpty, "token in an answer")
        }
    }

    @Test("the token may come from FIOGUARD_FACEIO_WEBHOOK_TOKEN")
    func tokenFromEnvironment() async throws {
        try await FIO.withServer(token: .environment(FIO.webhookToken)) { server, _, client in
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "auth", facialId: "fid-env-1"))
            #expect(r["accepted"]?.boolValue == true)
            let e = try await client.failure(
                "webhook.ingest", FIO.ingestParams(body: FIO.webhookBody(event: "auth", facialId: "fid-env-2"), headers: [("WWW-Authenticate", "Bearer nope")]))
            #expect(e?.reason == "FORBIDDEN")
            #expect(FIO.leaks(of: FIO.webhookToken, in: server.log).isEmpty)
        }
    }

    @Test("with no token configured every webhook is refused (FORBIDDEN)")
    func noTokenConfigured() async throws {
        try await FIO.withServer(token: .none) { _, _, client in
            for headers in [[("WWW-Authenticate", "Bearer \(FIO.webhookToken)")], [("WWW-Authenticate", "Bearer ")], []] {
                let e = try await client.failure(
                    "webhook.ingest", FIO.ingestParams(body: FIO.webhookBody(event: "enroll", facialId: "fid-x"), headers: headers))
                #expect(e?.reason == "FORBIDDEN", "\(headers)")
            }
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
        }
    }

    @Test("malformed params and bodies are invalid params (-32602), not processed")
    func malformed() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { _, _, client in
            let auth: JSON = ["WWW-Authenticate": .string("Bearer \(FIO.webhookToken)")]
            let cases: [JSON] = [
                ["headers": auth, "body": "not json"],
                ["headers": auth, "body": "[1,2]"],
                ["headers": auth, "body": #"{"facialId":"fid-1"}"#],
                ["headers": auth, "body": #"{"eventName":"enroll"}"#],
                ["headers": auth, "body": #"{"eventName":"enroll","facialId":""}"#],
                ["headers": ["WWW-Authenticate": 1], "body": .string(FIO.webhookBody(event: "enroll", facialId: "fid-1"))],
                ["headers": auth, "body": ["eventName": "enroll"]],
                ["headers": auth],
                ["body": .string(FIO.webhookBody(event: "enroll", facialId: "fid-1"))],
            ]
            for params in cases {
                let e = try await client.failure("webhook.ingest", params)
                #expect(e?.code == -32602, "\(params.encodedString()): \(e?.description ?? "-")")
            }
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
        }
    }

    // MARK: deduplication

    @Test("a redelivered body is a duplicate and changes nothing")
    func duplicates() async throws {
        try await FIO.withServer(key: .none, token: .file(FIO.webhookToken)) { _, _, client in
            try await FIO.enroll(client, subject: "ann", facialId: "fid-ann-dup")
            let body = FIO.webhookBody(event: "auth", facialId: "fid-ann-dup")
            let first = try await FIO.ingest(client, body)
            #expect(first["action"]?.stringValue == "recorded last interaction")
            for _ in 0..<3 {
                let again = try await FIO.ingest(client, body)
                #expect(again["accepted"]?.boolValue == true)
                #expect(again["event"]?.stringValue == "auth")
                #expect(again["action"]?.stringValue?.hasPrefix("duplicate") == true, "\(again)")
            }
            let webhookAudits = try await FIO.auditActions(client, subject: "ann").filter { $0 == "webhook.auth" }
            #expect(webhookAudits.count == 1)

            let enroll = FIO.webhookBody(event: "enroll", facialId: "fid-stranger-dup")
            let flagged = try await FIO.ingest(client, enroll)
            #expect(flagged["action"]?.stringValue?.hasPrefix("flagged") == true, "\(flagged)")
            let dup = try await FIO.ingest(client, enroll)
            #expect(dup["action"]?.stringValue?.hasPrefix("duplicate") == true, "\(dup)")
            #expect(try await FIO.auditActions(client).filter { $0 == "enrollment.unauthorized" }.count == 1)
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 1)
        }
    }

    // MARK: deletion events

    @Test("a deletion event confirms a pending deletion (no API key: the outbox was waiting)")
    func deletionConfirmsPending() async throws {
        try await FIO.withServer(key: .none, token: .file(FIO.webhookToken)) { _, fake, client in
            try await FIO.enroll(client, subject: "bob", facialId: "fid-bob-0001")
            try await FIO.delete(client, subject: "bob")
            #expect(try await FIO.facialID(client, subject: "bob")["deletion"]?["status"]?.stringValue == "pending")
            #expect(try await FIO.health(client)["faceio"]?["pendingDeletions"]?.intValue == 1)

            let r = try await FIO.ingest(client, FIO.webhookBody(event: "deletion", facialId: "fid-bob-0001"))
            #expect(r["event"]?.stringValue == "deletion")
            #expect(r["action"]?.stringValue == "confirmed pending deletion")
            let shown = try await FIO.facialID(client, subject: "bob")
            #expect(shown["status"]?.stringValue == "deleted")
            #expect(shown["deletion"]?["status"]?.stringValue == "deleted")
            #expect(try await FIO.deletions(client, status: "pending").isEmpty)
            #expect(try await FIO.deletions(client, status: "deleted").count == 1)
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["pendingDeletions"]?.intValue == 0)
            #expect(try await FIO.auditActions(client, subject: "bob").contains("webhook.deletion"))

            // FACEIO's event name is compared case-insensitively; a second confirmation is a no-op.
            let again = try await FIO.ingest(client, FIO.webhookBody(event: "DELETION", facialId: "fid-bob-0001", timestamp: 2))
            #expect(again["action"]?.stringValue == "already deleted")
            #expect(fake.calls.isEmpty)
        }
    }

    @Test("a deletion event for an active Facial ID records a deletion made outside fioguard; nothing is sent to FACEIO")
    func deletionOutsideSidecar() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { _, fake, client in
            try await FIO.enroll(client, subject: "cat", facialId: "fid-cat-0001")
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "deletion", facialId: "fid-cat-0001"))
            #expect(r["action"]?.stringValue == "recorded deletion made outside fioguard")
            let shown = try await FIO.facialID(client, subject: "cat")
            #expect(shown["status"]?.stringValue == "deleted")
            #expect(shown["deletion"]?["status"]?.stringValue == "deleted")
            #expect(shown["deletion"]?["reason"]?.stringValue == "deleted_at_faceio")

            let unknown = try await FIO.ingest(client, FIO.webhookBody(event: "deletion", facialId: "fid-nobody"))
            #expect(unknown["action"]?.stringValue?.hasPrefix("ignored") == true)

            try await Task.sleep(for: .milliseconds(1500))
            #expect(fake.calls.isEmpty, "\(fake.calls)")
            // Deleting it through the sidecar afterwards stays idempotent.
            let again = try await FIO.delete(client, subject: "cat")
            #expect(again.first?["status"]?.stringValue == "deleted")
            try await Task.sleep(for: .milliseconds(1000))
            #expect(fake.calls.isEmpty)
        }
    }

    // MARK: auth events

    @Test("an auth event counts as the last interaction")
    func authTouches() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { _, _, client in
            try await FIO.enroll(client, subject: "dan", facialId: "fid-dan-0001")
            let before = try await FIO.facialID(client, subject: "dan")
            #expect(before["lastAuthenticatedAt"]?.isNull == true)
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "auth", facialId: "fid-dan-0001"))
            #expect(r["action"]?.stringValue == "recorded last interaction")
            let after = try await FIO.facialID(client, subject: "dan")
            let last = try #require(after["lastAuthenticatedAt"]?.stringValue)
            let when = try #require(ISO8601DateFormatter().date(from: last))
            #expect(abs(when.timeIntervalSinceNow) < 60)
            #expect(after["retainUntil"]?.stringValue != nil)
            #expect(try await FIO.auditActions(client, subject: "dan").contains("webhook.auth"))

            let unknown = try await FIO.ingest(client, FIO.webhookBody(event: "auth", facialId: "fid-nobody"))
            #expect(unknown["action"]?.stringValue?.hasPrefix("ignored") == true)
        }
    }

    // MARK: enroll events

    @Test("an enrollment no ticket covers is flagged (audit, health) and deleted at FACEIO")
    func unauthorizedEnrollmentFlagged() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { _, fake, client in
            let fid = "fid-rogue-0001"
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid))
            #expect(r["event"]?.stringValue == "enroll")
            #expect(r["action"]?.stringValue == "flagged unauthorized enrollment; deletion queued")

            let flagged = try await FIO.auditEntries(client).filter { $0["action"]?.stringValue == "enrollment.unauthorized" }
            #expect(flagged.count == 1)
            #expect(flagged.first?["details"]?["facialRef"]?.stringValue?.isEmpty == false)
            let health = try await FIO.health(client)
            #expect((health["faceio"]?["unauthorizedEnrollments"]?.intValue ?? 0) >= 1)
            #expect(health["status"]?.stringValue == "degraded")

            try await FIO.waitUntil("the rogue Facial ID deleted at FACEIO") { fake.successCount(fid) == 1 }
            #expect(fake.calls(for: fid).first?.key == FIO.apiKey)
            try await FIO.waitUntil("the job recorded done") {
                try await FIO.deletions(client, status: "deleted").contains { $0["reason"]?.stringValue == "unauthorized_enrollment" }
            }
            #expect(try await FIO.auditActions(client).filter { $0 == "deletion.completed" }.count == 1)
            #expect(fake.successCount(fid) == 1)

            // A forged ticket covers nothing either.
            let forged = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: "fid-rogue-0002", ticket: "tkt-forged-123"))
            #expect(forged["action"]?.stringValue?.hasPrefix("flagged unauthorized enrollment") == true, "\(forged)")
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 2)
        }
    }

    @Test("with enrollment.deleteUnauthorized false an unauthorized enrollment is flagged but not deleted")
    func unauthorizedEnrollmentKeptByPolicy() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken), policy: FIO.policy(deleteUnauthorized: false)) { _, fake, client in
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: "fid-rogue-kept"))
            #expect(r["action"]?.stringValue == "flagged unauthorized enrollment")
            #expect(try await FIO.auditActions(client).contains("enrollment.unauthorized"))
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 1)
            #expect(health["faceio"]?["pendingDeletions"]?.intValue == 0)
            try await Task.sleep(for: .milliseconds(1500))
            #expect(fake.calls.isEmpty)
        }
    }

    @Test("an enrollment carrying the ticket of enroll.authorize is covered, not flagged; after enroll.complete it is known")
    func enrollmentCoveredByTicket() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "eve")
            let fid = "fid-eve-0001"
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, ticket: ticket))
            #expect(r["action"]?.stringValue == "covered by an enrollment ticket")
            #expect(try await FIO.auditActions(client).contains("enrollment.unauthorized") == false)
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
            #expect(health["status"]?.stringValue == "ok")

            // The browser then reports the Facial ID as usual.
            let done = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": .string(fid)])
            #expect(done["subject"]?.stringValue == "eve")
            let later = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, ticket: ticket, timestamp: 2))
            #expect(later["action"]?.stringValue == "known enrollment")
            #expect(try await FIO.facialID(client, subject: "eve")["status"]?.stringValue == "active")
            try await Task.sleep(for: .milliseconds(1000))
            #expect(fake.calls.isEmpty)
        }
    }

    @Test("a single-use ticket already spent on one Facial ID does not cover a second enrollment")
    func spentTicketDoesNotCoverAnotherEnrollment() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "fox")
            try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-fox-0001"])
            // The page's payload (and so the ticket) is visible to the browser; a second, silent
            // enrollment replaying it must still be caught.
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: "fid-fox-0002", ticket: ticket))
            #expect(r["action"]?.stringValue?.hasPrefix("flagged unauthorized enrollment") == true, "\(r)")
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 1)
            _ = fake
        }
    }
    // MARK: held enrollments (no ticket in the payload, or a ticket not completed yet)

    /// Tickets live 2 s, so holds are decided within about 8 s (5 s of grace after the ticket
    /// expired, and the scheduler looks every second).
    static let shortTickets = FIO.policy(ticketTTL: "PT2S")

    @Test("an enroll webhook without a payload while a ticket is open is held, and enroll.complete claims it: nothing is deleted")
    func heldEnrollmentClaimedByComplete() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken), policy: Self.shortTickets) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "gil")
            let fid = "fid-gil-0001"
            // Lower FACEIO plans send no payload, and the webhook may beat the page's enroll.complete.
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid))
            #expect(r["action"]?.stringValue?.hasPrefix("held until ") == true, "\(r)")
            var health = try await FIO.health(client)
            #expect(health["faceio"]?["heldEnrollments"]?.intValue == 1)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
            #expect(health["status"]?.stringValue == "ok")

            let done = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": .string(fid)])
            #expect(done["subject"]?.stringValue == "gil")
            health = try await FIO.health(client)
            #expect(health["faceio"]?["heldEnrollments"]?.intValue == 0)

            // Past the ticket's expiry and a scheduler round or two: still enrolled, nothing sent.
            try await Task.sleep(for: .milliseconds(4000))
            #expect(try await FIO.facialID(client, subject: "gil")["status"]?.stringValue == "active")
            #expect(fake.calls.isEmpty, "\(fake.calls)")
            health = try await FIO.health(client)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
            #expect(health["status"]?.stringValue == "ok")
            let actions = try await FIO.auditActions(client)
            #expect(actions.contains("enrollment.held"))
            #expect(!actions.contains("enrollment.unauthorized"))
        }
    }

    @Test("a held enrollment nobody claims is flagged and deleted at FACEIO once the open tickets expire")
    func heldEnrollmentUnclaimedIsFlagged() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken), policy: Self.shortTickets) { server, fake, client in
            _ = try await FIO.authorize(client, subject: "hal")  // an open ticket, never used
            let fid = "fid-rogue-held"
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid))
            #expect(r["action"]?.stringValue?.hasPrefix("held until ") == true, "\(r)")
            #expect(fake.calls.isEmpty)

            try await FIO.waitUntil("the held Facial ID deleted at FACEIO") { fake.successCount(fid) == 1 }
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["heldEnrollments"]?.intValue == 0)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 1)
            #expect(health["status"]?.stringValue == "degraded")
            let flagged = try await FIO.auditEntries(client).filter { $0["action"]?.stringValue == "enrollment.unauthorized" }
            #expect(flagged.count == 1)
            #expect(flagged.first?["details"]?["heldSince"]?.stringValue != nil, "\(flagged)")
            #expect(flagged.first?["details"]?["action"]?.stringValue == "flagged unauthorized enrollment; deletion queued")
            #expect(try await FIO.deletions(client).contains { $0["reason"]?.stringValue == "unauthorized_enrollment" })
            // The hold kept the raw Facial ID only while it was needed.
            let kept = try Lifecycle.sqlite(
                server.databasePath, "PRAGMA busy_timeout = 10000; SELECT count(*) FROM unauthorized_enrollments WHERE facial_id IS NOT NULL")
            #expect(kept.split(separator: "\n").last == "0", "\(kept)")

            // The page's enroll.complete, far too late, cannot take it over.
            let late = try await FIO.authorize(client, subject: "hal")
            let e = try await client.failure("enroll.complete", ["ticket": .string(late), "facialId": .string(fid)])
            #expect(e?.reason == "CONFLICT", "\(e?.description ?? "-")")
        }
    }

    @Test("an enrollment whose payload ticket is never completed is deleted, for the ticket's subject, once the ticket expires")
    func ticketedEnrollmentNeverCompleted() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken), policy: Self.shortTickets) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "ivy")
            let fid = "fid-ivy-0001"
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, ticket: ticket))
            #expect(r["action"]?.stringValue == "covered by an enrollment ticket")
            // The page closed after fio.enroll(): enroll.complete never comes.
            try await FIO.waitUntil("the uncompleted Facial ID deleted at FACEIO") { fake.successCount(fid) == 1 }
            let shown = try await FIO.waitForDeletion(client, subject: "ivy", status: "deleted")
            #expect(shown["facialId"]?.stringValue == fid)
            #expect(try await FIO.deletions(client).contains { $0["reason"]?.stringValue == "enrollment_not_completed" })
            #expect(try await FIO.auditActions(client, subject: "ivy").contains("enroll.abandoned"))
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
            #expect(health["faceio"]?["heldEnrollments"]?.intValue == 0)
            // Its ticket now has its one Facial ID: replaying it records nothing more.
            let replay = try await client.failure("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-ivy-0002"])
            #expect(replay?.reason == "TICKET_INVALID")
            #expect(fake.calls(for: "fid-ivy-0002").isEmpty)
        }
    }

    @Test("a hold left by a stopped daemon is decided right after the next start")
    func heldEnrollmentDecidedAfterRestart() async throws {
        // Tickets of 10 minutes: the scheduler's rounds are 30 s apart, so only the round at
        // start-up can decide the hold within the wait below.
        try await FIO.withServer(token: .file(FIO.webhookToken)) { server, fake, client in
            _ = try await FIO.authorize(client, subject: "jay")
            let fid = "fid-rogue-restart"
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid))
            #expect(r["action"]?.stringValue?.hasPrefix("held until ") == true, "\(r)")
            #expect(await server.terminate() == 0)
            // An hour passes while it is down.
            try Lifecycle.sqlite(
                server.databasePath,
                "UPDATE tickets SET expires_at = expires_at - 3600; UPDATE unauthorized_enrollments SET decide_after = decide_after - 3600")
            try await server.start()
            try await client.reconnect(server)
            try await FIO.waitUntil("the held Facial ID deleted at FACEIO after the restart", timeout: .seconds(15)) { fake.successCount(fid) == 1 }
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 1)
        }
    }

    @Test("another delivery of a held enrollment leaves it held, then it is flagged once")
    func redeliveryOfAHeldEnrollment() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken), policy: Self.shortTickets) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "kim")
            let fid = "fid-rogue-twice"
            let first = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid))
            #expect(first["action"]?.stringValue?.hasPrefix("held until ") == true, "\(first)")
            // kim's own enrollment uses the last open ticket; then FACEIO delivers again (another body).
            _ = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-kim-0001"])
            let again = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, timestamp: 7))
            #expect(again["action"] == first["action"], "\(again)")
            var health = try await FIO.health(client)
            #expect(health["faceio"]?["heldEnrollments"]?.intValue == 1)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)

            try await FIO.waitUntil("the held Facial ID deleted at FACEIO") { fake.successCount(fid) == 1 }
            health = try await FIO.health(client)
            #expect(health["faceio"]?["heldEnrollments"]?.intValue == 0)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 1)
            #expect(health["status"]?.stringValue == "degraded")
            #expect(try await FIO.auditActions(client).filter { $0 == "enrollment.unauthorized" }.count == 1)
            #expect(try await FIO.facialID(client, subject: "kim")["status"]?.stringValue == "active")
        }
    }

    @Test("an enrollment whose payload ticket was voided unused is the ticket's subject's, and deleted at once")
    func enrollmentUnderAVoidedTicket() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "lou")
            _ = try await client.call("consent.revoke", ["subject": "lou"])  // voids the ticket
            let fid = "fid-lou-late"
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, ticket: ticket))
            #expect(r["action"]?.stringValue == "enrolled under an expired or voided ticket; deletion queued", "\(r)")
            let shown = try await FIO.waitForDeletion(client, subject: "lou", status: "deleted")
            #expect(shown["facialId"]?.stringValue == fid)
            #expect(fake.successCount(fid) == 1)
            #expect(try await FIO.auditActions(client, subject: "lou").contains("enroll.abandoned"))
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
            #expect(health["status"]?.stringValue == "ok")
            // The page's completion, late: refused as the ticket's, not as another subject's.
            let e = try await client.failure("enroll.complete", ["ticket": .string(ticket), "facialId": .string(fid)])
            #expect(e?.reason == "TICKET_INVALID", "\(e?.description ?? "-")")
        }
    }

    /// enroll.complete takes its time before it waits for the writer, so a webhook handled just
    /// after the ticket expired may still be followed by a completion that came in time.
    @Test("a webhook just after the ticket expired is held, not decided, with or without a payload")
    func justExpiredTicketsStillHold() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken), policy: Self.shortTickets) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "max")
            try await Task.sleep(for: .milliseconds(2600))  // expired, within the 5 s of grace
            let withTicket = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: "fid-max-0001", ticket: ticket))
            #expect(withTicket["action"]?.stringValue == "covered by an enrollment ticket", "\(withTicket)")
            let without = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: "fid-rogue-grace"))
            #expect(without["action"]?.stringValue?.hasPrefix("held until ") == true, "\(without)")
            #expect(try await FIO.health(client)["faceio"]?["heldEnrollments"]?.intValue == 2)
            #expect(fake.calls.isEmpty)
            // Decided once the grace is over: max's is abandoned, the other flagged.
            try await FIO.waitUntil("both deleted at FACEIO") {
                fake.successCount("fid-max-0001") == 1 && fake.successCount("fid-rogue-grace") == 1
            }
            #expect(try await FIO.auditActions(client, subject: "max").contains("enroll.abandoned"))
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 1)
        }
    }

    @Test("erasing the account deletes an enrollment held on its ticket at once, not when the ticket expires")
    func eraseDecidesHeldEnrollments() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "ned")  // a 10-minute ticket
            let fid = "fid-ned-0001"
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, ticket: ticket))
            #expect(r["action"]?.stringValue == "covered by an enrollment ticket")
            let erased = try await client.call("subject.erase", ["subject": "ned", "confirm": true])
            let deletions = erased["deletions"]?.arrayValue ?? []
            #expect(deletions.contains { $0["facialId"]?.stringValue == fid }, "\(erased)")
            #expect(try await FIO.health(client)["faceio"]?["heldEnrollments"]?.intValue == 0)
            try await FIO.waitUntil("deleted at FACEIO") { fake.successCount(fid) == 1 }
            #expect(try await FIO.deletions(client).contains { $0["reason"]?.stringValue == "account_erased" })
        }
    }

    @Test("a flagged enrollment that turns out to be a subject's (a late, refused completion) is no longer reported as unauthorized")
    func flagClearedByCompletion() async throws {
        let policy = FIO.policy(deleteUnauthorized: false, ticketTTL: "PT2S")
        try await FIO.withServer(token: .file(FIO.webhookToken), policy: policy) { _, fake, client in
            let ticket = try await FIO.authorize(client, subject: "oda")
            let fid = "fid-oda-0001"
            let r = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid))
            #expect(r["action"]?.stringValue?.hasPrefix("held until ") == true, "\(r)")
            try await FIO.waitUntil("flagged") { try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 1 }
            #expect(fake.calls.isEmpty, "deleteUnauthorized is false")
            // The page reports it, too late: refused, recorded for oda and deleted.
            let e = try await client.failure("enroll.complete", ["ticket": .string(ticket), "facialId": .string(fid)])
            #expect(e?.reason == "TICKET_INVALID", "\(e?.description ?? "-")")
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["unauthorizedEnrollments"]?.intValue == 0)
            #expect(try await FIO.auditActions(client, subject: "oda").contains("enrollment.flagCleared"))
            try await FIO.waitUntil("deleted at FACEIO") { fake.successCount(fid) == 1 }
        }
    }

    @Test("a flagged enrollment kept by the policy is deleted when the policy changes and FACEIO delivers it again")
    func keptFlagDeletedAfterPolicyChange() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken), policy: FIO.policy(deleteUnauthorized: false)) { server, fake, client in
            let fid = "fid-rogue-kept-then-deleted"
            let first = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid))
            #expect(first["action"]?.stringValue == "flagged unauthorized enrollment")
            let kept = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, timestamp: 2))
            #expect(kept["action"]?.stringValue == "already flagged: flagged unauthorized enrollment", "\(kept)")

            try FIO.policy(deleteUnauthorized: true).write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            _ = try await client.call("policy.reload")
            let again = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, timestamp: 3))
            #expect(again["action"]?.stringValue == "flagged unauthorized enrollment; deletion queued", "\(again)")
            try await FIO.waitUntil("deleted at FACEIO") { fake.successCount(fid) == 1 }
            #expect(try await FIO.health(client)["faceio"]?["unauthorizedEnrollments"]?.intValue == 1)
            let later = try await FIO.ingest(client, FIO.webhookBody(event: "enroll", facialId: fid, timestamp: 4))
            #expect(later["action"]?.stringValue == "known enrollment")
            #expect(try await FIO.auditActions(client).filter { $0 == "enrollment.unauthorized" }.count == 2)
        }
    }
}
