import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// `enroll.authorize` and `enroll.complete` through the socket (duties D7, D8, D9, D23).
@Suite("Enrollment")
struct EnrollmentTests {
    @Test("an allowed enrollment gets a decision, a single-use ticket and the fio.enroll() options")
    func allowedWithTicket() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.recordConsent(client, subject: "ann")
            let decision = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "ann"))
            #expect(decision["allow"]?.boolValue == true, "\(decision.encodedString())")
            #expect(decision["decisionId"]?.stringValue?.isEmpty == false)
            #expect(decision["policyVersion"]?.stringValue?.hasPrefix("sha256:") == true)
            let reasons = try #require(decision["reasons"]?.arrayValue)
            #expect(!reasons.isEmpty)
            #expect(reasons.allSatisfy { $0["passed"]?.boolValue == true && $0["rule"]?.stringValue != nil && $0["message"]?.stringValue != nil })
            #expect(Lifecycle.codes(decision).contains("TRIGGER_USER_ACTION"))
            #expect(Lifecycle.codes(decision).contains("CONSENT_FRESH"))

            let ticket = try #require(decision["ticket"]?.stringValue)
            let expires = try #require(Lifecycle.date(decision["ticketExpiresAt"]))
            #expect(expires > Date(), "the ticket lasts ticketTTL (PT10M)")
            #expect(expires < Date().addingTimeInterval(11 * 60))
            #expect(decision["fioOptions"]?["userConsent"]?.boolValue == true)
            #expect(decision["fioOptions"]?["payload"]?["ticket"]?.stringValue == ticket)

            let done = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-ann-0001"])
            #expect(done["subject"]?.stringValue == "ann")
            #expect(done["facialId"]?.stringValue == "fid-ann-0001")
            let enrolledAt = try #require(Lifecycle.date(done["enrolledAt"]))
            let retainUntil = try #require(Lifecycle.date(done["retainUntil"]))
            // Demo policy: P3Y since enrollment, P1Y since last interaction: the year wins.
            #expect(retainUntil.timeIntervalSince(enrolledAt) >= 365 * 86_400)
            #expect(retainUntil.timeIntervalSince(enrolledAt) <= 366 * 86_400)

            let actions = try await Lifecycle.auditEntries(client, subject: "ann").compactMap { $0["action"]?.stringValue }
            #expect(actions == ["consent.recorded", "enroll.authorized", "enroll.completed"])
        }
    }

    @Test("auto enrollment is denied: a result with allow false, no ticket")
    func automaticTriggerDenied() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.recordConsent(client, subject: "bea")
            for trigger in ["automatic", "page_load", "USER_ACTION"] {
                let decision = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "bea", trigger: trigger))
                #expect(decision["allow"]?.boolValue == false, "trigger \(trigger)")
                #expect(Lifecycle.failedCodes(decision) == ["TRIGGER_NOT_USER_ACTION"], "trigger \(trigger)")
                #expect(decision["ticket"] == nil)
                #expect(decision["fioOptions"] == nil)
                #expect(decision["decisionId"]?.stringValue != nil)
            }
            let entries = try await Lifecycle.auditEntries(client, subject: "bea")
            #expect(entries.filter { $0["action"]?.stringValue == "enroll.denied" }.count == 3)
        }
    }

    @Test("no active consent for authentication: denied (unknown subject, revoked consent, other purpose only)")
    func noConsentDenied() async throws {
        let policy = Lifecycle.policy(purposes: #"["authentication", "fraud-prevention"]"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            let unknown = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "stranger"))
            #expect(unknown["allow"]?.boolValue == false)
            #expect(Lifecycle.failedCodes(unknown) == ["CONSENT_MISSING"])
            #expect(unknown["ticket"] == nil)

            try await Lifecycle.recordConsent(client, subject: "cid")
            _ = try await client.call("consent.revoke", ["subject": "cid"])
            let revoked = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "cid"))
            #expect(revoked["allow"]?.boolValue == false)
            #expect(Lifecycle.failedCodes(revoked) == ["CONSENT_MISSING"])

            try await Lifecycle.recordConsent(client, subject: "dee", purposes: ["fraud-prevention"])
            let otherPurpose = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "dee"))
            #expect(otherPurpose["allow"]?.boolValue == false)
            #expect(otherPurpose["ticket"] == nil)
        }
    }

    @Test("consent older than consent.maxAgeBeforeEnrollment is stale: denied")
    func staleConsentDenied() async throws {
        let policy = Lifecycle.policy(consent: #"{"maxAgeBeforeEnrollment": "PT1S"}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            let recorded = try await Lifecycle.recordConsent(client, subject: "eli")
            let recordedAt = try #require(Lifecycle.date(recorded["recordedAt"]))
            // Whole seconds: two full seconds after recordedAt the one-second window has closed.
            let wait = recordedAt.addingTimeInterval(2.2).timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
            let decision = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "eli"))
            #expect(decision["allow"]?.boolValue == false)
            #expect(Lifecycle.failedCodes(decision) == ["CONSENT_STALE"])
            let stale = decision["reasons"]?.arrayValue?.first { $0["code"]?.stringValue == "CONSENT_STALE" }
            #expect(stale?["rule"]?.stringValue == "consent.maxAgeBeforeEnrollment")
            #expect(decision["ticket"] == nil)

            // Asking again right before enrolling makes it fresh.
            try await Lifecycle.recordConsent(client, subject: "eli")
            let fresh = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "eli"))
            #expect(fresh["allow"]?.boolValue == true, "\(fresh.encodedString())")
        }
    }

    @Test("a domain or country outside the policy is denied", arguments: [
        ("evilshop.example", "DE", "DOMAIN_NOT_ALLOWED"),
        ("shop.example.evil.example", "DE", "DOMAIN_NOT_ALLOWED"),
        ("shop.example", "KP", "COUNTRY_DENIED"),
    ])
    func domainOrCountryDenied(domain: String, country: String, code: String) async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.recordConsent(client, subject: "fin")
            let decision = try await client.call(
                "enroll.authorize", Lifecycle.authorizeParams(subject: "fin", domain: domain, country: country))
            #expect(decision["allow"]?.boolValue == false)
            #expect(Lifecycle.failedCodes(decision).contains(code), "\(decision.encodedString())")
            #expect(decision["ticket"] == nil)
            // A subdomain matching *.shop.example is fine.
            let ok = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "fin", domain: "login.shop.example"))
            #expect(ok["allow"]?.boolValue == true, "\(ok.encodedString())")
        }
    }

    @Test("a country outside countries.allow is denied")
    func countryNotInAllowList() async throws {
        let policy = Lifecycle.policy(countries: #"{"allow": ["DE", "FR"]}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            try await Lifecycle.recordConsent(client, subject: "gil")
            let decision = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "gil", country: "NZ"))
            #expect(decision["allow"]?.boolValue == false)
            #expect(Lifecycle.failedCodes(decision) == ["COUNTRY_NOT_ALLOWED"])
        }
    }

    @Test("a minor without guardian consent is denied (age of consent where enrollment happens)")
    func minorWithoutGuardianDenied() async throws {
        try await Lifecycle.withServer { _, client in
            // 17 is of age in Germany (16), so the consent alone is valid there...
            _ = try await client.call(
                "consent.record", Lifecycle.consentParams(subject: "hana", collectionMethod: "signature", age: 17))
            let home = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "hana"))
            #expect(home["allow"]?.boolValue == true, "\(home.encodedString())")
            // ...but not for an enrollment in Illinois (BIPA profile: 18), without a guardian.
            let illinois = try await client.call(
                "enroll.authorize", Lifecycle.authorizeParams(subject: "hana", country: "US", region: "US-IL"))
            #expect(illinois["allow"]?.boolValue == false)
            #expect(Lifecycle.failedCodes(illinois) == ["GUARDIAN_CONSENT_REQUIRED"])
            #expect(illinois["ticket"] == nil)
        }
    }

    @Test("a subject already enrolled is denied a second enrollment")
    func alreadyEnrolledDenied() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.enroll(client, subject: "ivo", facialId: "fid-ivo")
            let decision = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "ivo"))
            #expect(decision["allow"]?.boolValue == false)
            #expect(Lifecycle.failedCodes(decision) == ["ALREADY_ENROLLED"])
            // After deleting the Facial ID the subject may enroll again.
            _ = try await client.call("facialId.delete", ["subject": "ivo", "confirm": true])
            let again = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "ivo"))
            #expect(again["allow"]?.boolValue == true, "\(again.encodedString())")
        }
    }

    @Test("a reused ticket is refused with TICKET_INVALID, as is an unknown one")
    func reusedTicketRefused() async throws {
        let policy = Lifecycle.policy(enrollment: #"{"allowReenrollment": true}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            try await Lifecycle.recordConsent(client, subject: "jo")
            let (_, ticket) = try await Lifecycle.authorize(client, subject: "jo")
            _ = try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-jo-1"])
            // Reuse with another Facial ID, and with the same one.
            await Lifecycle.expectError("TICKET_INVALID", code: -32004) {
                try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-jo-2"])
            }
            await Lifecycle.expectError("TICKET_INVALID") {
                try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-jo-1"])
            }
            await Lifecycle.expectError("TICKET_INVALID") {
                try await client.call("enroll.complete", ["ticket": "tkt_made_up_by_the_page", "facialId": "fid-jo-3"])
            }
            // A used ticket records nothing more: it cannot have Facial IDs recorded and deleted.
            #expect(try await Self.facialIDs(client, subject: "jo") == ["fid-jo-1: active"])
        }
    }

    /// Each Facial ID of a subject as "id: status", from `facialId.show`.
    static func facialIDs(_ client: RPCTestClient, subject: String) async throws -> [String] {
        let shown = try await client.call("facialId.show", ["subject": .string(subject)])
        return (shown["facialIds"]?.arrayValue ?? []).map { "\($0["facialId"]?.stringValue ?? "-"): \($0["status"]?.stringValue ?? "-")" }
    }

    @Test("an expired ticket is refused with TICKET_INVALID")
    func expiredTicketRefused() async throws {
        let policy = Lifecycle.policy(enrollment: #"{"ticketTTL": "PT1S"}"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            try await Lifecycle.recordConsent(client, subject: "kai")
            let (decision, ticket) = try await Lifecycle.authorize(client, subject: "kai")
            let expires = try #require(Lifecycle.date(decision["ticketExpiresAt"]))
            let wait = expires.addingTimeInterval(1.2).timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
            await Lifecycle.expectError("TICKET_INVALID") {
                try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-kai"])
            }
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["subject": "kai"]) }
            #expect(try await Self.facialIDs(client, subject: "kai") == ["fid-kai: deleting"], "FACEIO's template is deleted")
        }
    }

    @Test("revoking consent voids an outstanding ticket")
    func revokeVoidsTicket() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.recordConsent(client, subject: "lea")
            let (_, ticket) = try await Lifecycle.authorize(client, subject: "lea")
            _ = try await client.call("consent.revoke", ["subject": "lea"])
            await Lifecycle.expectError("TICKET_INVALID") {
                try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-lea"])
            }
            // The user's fio.enroll() ran meanwhile: FACEIO's template is deleted, not orphaned.
            #expect(try await Self.facialIDs(client, subject: "lea") == ["fid-lea: deleting"])
            // A retry of that completion, and a replay with another Facial ID: refused, nothing more kept.
            for fid in ["fid-lea", "fid-lea-2"] {
                await Lifecycle.expectError("TICKET_INVALID") {
                    try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": .string(fid)])
                }
            }
            #expect(try await Self.facialIDs(client, subject: "lea") == ["fid-lea: deleting"])
        }
    }

    /// D18 again: an account erased while its user was enrolling leaves nothing at FACEIO.
    @Test("an erasure between enroll.authorize and enroll.complete: the new Facial ID is deleted, and no raw copy kept")
    func eraseDuringEnrollment() async throws {
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.recordConsent(client, subject: "mo")
            let (_, ticket) = try await Lifecycle.authorize(client, subject: "mo")
            _ = try await client.call("subject.erase", ["subject": "mo", "confirm": true])
            await Lifecycle.expectError("TICKET_INVALID") {
                try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-mo"])
            }
            let actions = try await Lifecycle.auditEntries(client).compactMap { $0["action"]?.stringValue }
            #expect(actions.last == "enroll.refused")
            _ = await server.terminate()
            let rows = try Lifecycle.sqlite(
                server.databasePath,
                "SELECT j.status, j.reason, j.facial_id, coalesce(f.facial_id, 'null') FROM deletion_jobs j JOIN facial_ids f ON f.id = j.facial_row")
            #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "pending|enrollment_refused|fid-mo|null")
        }
    }

    /// Two tickets issued before either was used cannot make two Facial IDs when the policy allows
    /// one: the second completion is refused, and its template deleted.
    @Test("with allowReenrollment false, a second ticket completed after the first is a CONFLICT")
    func secondTicketCannotReenroll() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.recordConsent(client, subject: "ned")
            let (_, first) = try await Lifecycle.authorize(client, subject: "ned")
            let (_, second) = try await Lifecycle.authorize(client, subject: "ned")
            _ = try await client.call("enroll.complete", ["ticket": .string(first), "facialId": "fid-ned-1"])
            await Lifecycle.expectError("CONFLICT") {
                try await client.call("enroll.complete", ["ticket": .string(second), "facialId": "fid-ned-2"])
            }
            #expect(try await Self.facialIDs(client, subject: "ned") == ["fid-ned-1: active", "fid-ned-2: deleting"])
        }
    }

    @Test("a Facial ID bound to another subject is a CONFLICT")
    func facialIdOfAnotherSubject() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.enroll(client, subject: "max", facialId: "fid-shared")
            try await Lifecycle.recordConsent(client, subject: "nia")
            let (_, ticket) = try await Lifecycle.authorize(client, subject: "nia")
            await Lifecycle.expectError("CONFLICT", code: -32003) {
                try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": "fid-shared"])
            }
            let max = try await client.call("facialId.show", ["subject": "max"])
            #expect(max["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "active")
            #expect(max["facialIds"]?.arrayValue?.count == 1)
            let nia = try await client.call("facialId.show", ["subject": "nia"])
            #expect(nia["facialIds"] == [])
        }
    }

    @Test("bad params are -32602 naming the field")
    func invalidParams() async throws {
        try await Lifecycle.withServer { _, client in
            let e1 = await Lifecycle.expectError("INVALID_PARAMS", code: -32602) {
                try await client.call("enroll.authorize", ["subject": "x", "domain": "shop.example", "country": "DE"])
            }
            #expect(e1?.error["data"]?["field"]?.stringValue == "params.trigger")
            let e2 = await Lifecycle.expectError("INVALID_PARAMS", code: -32602) {
                try await client.call("enroll.complete", ["ticket": "t", "facialId": "has space"])
            }
            #expect(e2?.error["data"]?["field"]?.stringValue == "params.facialId")
        }
    }
}
