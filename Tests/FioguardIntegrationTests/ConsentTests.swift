import FioguardJSON
import FioguardTesting
import Testing

/// `consent.record`, `consent.revoke`, `consent.status` through the socket (duties D1, D3, D9, D24).
@Suite("Consent lifecycle")
struct ConsentTests {
    @Test("consent.record keeps the grant and returns a consent receipt")
    func recordReturnsReceipt() async throws {
        try await Lifecycle.withServer { _, client in
            let result = try await client.call(
                "consent.record", Lifecycle.consentParams(subject: "alice", collectionMethod: "click", region: "DE-BY"))
            let consentId = try #require(result["consentId"]?.stringValue)
            #expect(!consentId.isEmpty)
            #expect(result["subject"]?.stringValue == "alice")
            #expect(result["purposes"] == ["authentication"])
            #expect(Lifecycle.date(result["recordedAt"]) != nil)
            #expect(result["expiresAt"] == .null, "no consent.validFor in the policy: no expiry")

            let receipt = try #require(result["receipt"])
            #expect(receipt["subject"]?.stringValue == "alice", "who")
            #expect(receipt["purposes"] == ["authentication"], "what")
            #expect(receipt["noticeVersion"]?.stringValue == "notice-2026-11", "which notice")
            #expect(receipt["collectionMethod"]?.stringValue == "click", "how")
            #expect(receipt["domain"]?.stringValue == "shop.example", "where")
            #expect(receipt["recordedAt"] == result["recordedAt"], "when")
            #expect(receipt["jurisdiction"]?["country"]?.stringValue == "DE")
            #expect(receipt["jurisdiction"]?["region"]?.stringValue == "DE-BY")
            #expect(receipt["withdrawal"]?["method"]?.stringValue == "consent.revoke", "how to withdraw")
            #expect(receipt["policyVersion"]?.stringValue?.hasPrefix("sha256:") == true)
            #expect(receipt["recordedBy"]?.stringValue?.contains("uid=") == true, "the caller is kept")

            let status = try await client.call("consent.status", ["subject": "alice"])
            let active = try #require(status["active"]?.arrayValue)
            #expect(active.count == 1)
            #expect(active.first?["consentId"]?.stringValue == consentId)
            #expect(active.first?["purposes"] == ["authentication"])
            #expect(active.first?["noticeVersion"]?.stringValue == "notice-2026-11")
            #expect(active.first?["domain"]?.stringValue == "shop.example")
            #expect(active.first?["country"]?.stringValue == "DE")
            #expect(active.first?["region"]?.stringValue == "DE-BY")

            let history = try #require(status["history"]?.arrayValue)
            #expect(history.count == 1)
            let granted = try #require(history.first)
            #expect(granted["event"]?.stringValue == "granted")
            #expect(granted["consentId"]?.stringValue == consentId)
            #expect(granted["purposes"] == ["authentication"])
            let details = try #require(granted["details"])
            #expect(details["noticeVersion"]?.stringValue == "notice-2026-11")
            #expect(details["collectionMethod"]?.stringValue == "click")
            #expect(details["domain"]?.stringValue == "shop.example")
            #expect(details["country"]?.stringValue == "DE")
            #expect(details["region"]?.stringValue == "DE-BY")
            #expect(details["guardian"]?.boolValue == false)
            #expect(details["caller"]?.stringValue?.contains("uid=") == true)
            #expect(details["policyVersion"] == receipt["policyVersion"])
        }
    }

    @Test("the append-only history keeps locale, age evidence and guardian evidence of each grant")
    func historyKeepsEvidence() async throws {
        try await Lifecycle.withServer { _, client in
            let guardian: JSON = ["relationship": "parent", "verificationMethod": "eid"]
            _ = try await client.call(
                "consent.record", Lifecycle.consentParams(subject: "ida", age: 12, locale: "fr-BE", guardian: guardian))
            let status = try await client.call("consent.status", ["subject": "ida"])
            let details = try #require(status["history"]?.arrayValue?.first?["details"])
            #expect(details["guardian"] != nil, "guardian evidence")
            #expect(details["locale"]?.stringValue == "fr-BE", "locale missing from the history: \(details.encodedString())")
            #expect(
                details["age"] != nil || details["ageEvidence"] != nil || details["birthDate"] != nil,
                "age evidence missing from the history: \(details.encodedString())")
        }
    }

    @Test("only affirmative collection methods are accepted", arguments: ["click", "checkbox", "signature"])
    func affirmativeMethodsAccepted(method: String) async throws {
        try await Lifecycle.withServer { _, client in
            let result = try await client.call("consent.record", Lifecycle.consentParams(subject: "u-\(method)", collectionMethod: method))
            #expect(result["consentId"]?.stringValue != nil)
            #expect(result["receipt"]?["collectionMethod"]?.stringValue == method)
        }
    }

    @Test("a non-affirmative collection method is POLICY_DENIED with the decision, and nothing is recorded")
    func nonAffirmativeMethodDenied() async throws {
        try await Lifecycle.withServer { _, client in
            for method in ["pre-ticked", "implied", "scroll", "CLICK"] {
                let error = await Lifecycle.expectError("POLICY_DENIED", code: -32001) {
                    try await client.call("consent.record", Lifecycle.consentParams(subject: "bob", collectionMethod: method))
                }
                let decision = error?.error["data"]?["decision"]
                #expect(decision?["allow"]?.boolValue == false, "method \(method)")
                #expect(decision?["decisionId"]?.stringValue != nil)
                #expect(decision?["policyVersion"]?.stringValue?.hasPrefix("sha256:") == true)
                #expect(Lifecycle.failedCodes(decision) == ["COLLECTION_METHOD_NOT_AFFIRMATIVE"], "method \(method)")
                for reason in decision?["reasons"]?.arrayValue ?? [] {
                    #expect(reason["code"]?.stringValue != nil && reason["rule"]?.stringValue != nil && reason["message"]?.stringValue != nil)
                }
            }
            // A denial records no consent: the subject is still unknown.
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("consent.status", ["subject": "bob"]) }
            // ...but the refusal itself is audited (pseudonymously).
            let entries = try await Lifecycle.auditEntries(client, subject: "bob")
            #expect(entries.count == 4)
            #expect(entries.allSatisfy { $0["action"]?.stringValue == "consent.denied" })
        }
    }

    @Test("consent on a domain or from a country the policy does not allow is denied")
    func domainAndCountryDenied() async throws {
        try await Lifecycle.withServer { _, client in
            let domainError = await Lifecycle.expectError("POLICY_DENIED") {
                try await client.call("consent.record", Lifecycle.consentParams(subject: "c", domain: "evilshop.example"))
            }
            #expect(Lifecycle.failedCodes(domainError?.error["data"]?["decision"]) == ["DOMAIN_NOT_ALLOWED"])
            let countryError = await Lifecycle.expectError("POLICY_DENIED") {
                try await client.call("consent.record", Lifecycle.consentParams(subject: "c", country: "KP"))
            }
            #expect(Lifecycle.failedCodes(countryError?.error["data"]?["decision"]) == ["COUNTRY_DENIED"])
        }
    }

    @Test("a minor needs a guardian's consent; with it, the guardian evidence is kept")
    func minorNeedsGuardian() async throws {
        try await Lifecycle.withServer { _, client in
            let error = await Lifecycle.expectError("POLICY_DENIED") {
                try await client.call("consent.record", Lifecycle.consentParams(subject: "kid", age: 12))
            }
            #expect(Lifecycle.failedCodes(error?.error["data"]?["decision"]) == ["GUARDIAN_CONSENT_REQUIRED"])

            let guardian: JSON = ["relationship": "parent", "verificationMethod": "eid", "reference": "case-77"]
            let result = try await client.call("consent.record", Lifecycle.consentParams(subject: "kid", age: 12, guardian: guardian))
            #expect(result["receipt"]?["guardian"]?["relationship"]?.stringValue == "parent")
            #expect(result["receipt"]?["guardian"]?["verificationMethod"]?.stringValue == "eid")
            #expect(result["receipt"]?["guardian"]?["reference"]?.stringValue == "case-77")
            let status = try await client.call("consent.status", ["subject": "kid"])
            #expect(status["history"]?.arrayValue?.first?["details"]?["guardian"]?.boolValue == true)
            // The age and guardian evidence are kept for the enrollment decision.
            let decision = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "kid"))
            #expect(decision["allow"]?.boolValue == true, "\(decision.encodedString())")
            #expect(Lifecycle.codes(decision).contains("GUARDIAN_CONSENT_PRESENT"))
            // The locale is kept too: it is handed to fio.enroll().
            #expect(decision["fioOptions"]?["locale"]?.stringValue == "de-DE")
        }
    }

    @Test("a retry with the same idempotency key returns the same consent; different params are a CONFLICT")
    func idempotencyKey() async throws {
        try await Lifecycle.withServer { server, client in
            let params = Lifecycle.consentParams(subject: "dora", idempotencyKey: "req-1")
            let first = try await client.call("consent.record", params)
            let retry = try await client.call("consent.record", params)
            let firstId = try #require(first["consentId"]?.stringValue)
            #expect(retry["consentId"]?.stringValue == firstId)
            #expect(retry["recordedAt"] == first["recordedAt"])
            #expect(retry["receipt"] == first["receipt"])

            // A retry on another connection is the same request too.
            let second = try await server.connect()
            let other = try await second.call("consent.record", params)
            await second.close()
            #expect(other["consentId"]?.stringValue == firstId)

            // The retries added nothing to the history.
            let status = try await client.call("consent.status", ["subject": "dora"])
            #expect(status["history"]?.arrayValue?.count == 1)
            #expect(status["active"]?.arrayValue?.count == 1)

            let changed = Lifecycle.consentParams(subject: "dora", idempotencyKey: "req-1", noticeVersion: "notice-2027-01")
            await Lifecycle.expectError("CONFLICT", code: -32003) { try await client.call("consent.record", changed) }
            let otherSubject = Lifecycle.consentParams(subject: "eve", idempotencyKey: "req-1")
            await Lifecycle.expectError("CONFLICT") { try await client.call("consent.record", otherSubject) }
            let unchanged = try await client.call("consent.status", ["subject": "dora"])
            #expect(unchanged["history"]?.arrayValue?.count == 1)

            // Without a key, the same params record a new consent.
            let fresh = try await client.call("consent.record", Lifecycle.consentParams(subject: "dora"))
            #expect(fresh["consentId"]?.stringValue != firstId)
        }
    }

    @Test("history only grows: grant, revoke and re-grant each append, earlier events unchanged")
    func historyOnlyGrows() async throws {
        try await Lifecycle.withServer { _, client in
            let first = try await Lifecycle.recordConsent(client, subject: "fay")
            let h1 = try await client.call("consent.status", ["subject": "fay"])["history"]?.arrayValue ?? []
            #expect(h1.count == 1)

            let revoked = try await client.call("consent.revoke", ["subject": "fay", "reason": "changed my mind"])
            #expect(revoked["revoked"] == ["authentication"])
            #expect(revoked["deletions"] == [])
            #expect(Lifecycle.date(revoked["revokedAt"]) != nil)
            let s2 = try await client.call("consent.status", ["subject": "fay"])
            #expect(s2["active"] == [])
            let h2 = s2["history"]?.arrayValue ?? []
            #expect(h2.count == 2)
            #expect(Array(h2.prefix(1)) == h1)
            #expect(h2.last?["event"]?.stringValue == "revoked")
            #expect(h2.last?["consentId"] == first["consentId"])
            #expect(h2.last?["details"]?["reason"]?.stringValue == "changed my mind")

            let second = try await Lifecycle.recordConsent(client, subject: "fay")
            #expect(second["consentId"] != first["consentId"])
            let s3 = try await client.call("consent.status", ["subject": "fay"])
            let h3 = s3["history"]?.arrayValue ?? []
            #expect(h3.count == 3)
            #expect(Array(h3.prefix(2)) == h2)
            #expect(s3["active"]?.arrayValue?.first?["consentId"] == second["consentId"])

            // Revoking with nothing active changes nothing but is not an error.
            _ = try await client.call("consent.revoke", ["subject": "fay"])
            let again = try await client.call("consent.revoke", ["subject": "fay"])
            #expect(again["revoked"] == [])
            let h4 = try await client.call("consent.status", ["subject": "fay"])["history"]?.arrayValue ?? []
            #expect(h4.count == 4)
            #expect(Array(h4.prefix(3)) == h3)
        }
    }

    @Test("revoking authentication deletes the subject's Facial IDs")
    func revokeDeletesFacialIDs() async throws {
        try await Lifecycle.withServer { _, client in
            try await Lifecycle.enroll(client, subject: "gus", facialId: "fid-gus-1")
            let revoked = try await client.call("consent.revoke", ["subject": "gus", "purposes": ["authentication"]])
            #expect(revoked["revoked"] == ["authentication"])
            let deletions = try #require(revoked["deletions"]?.arrayValue)
            #expect(deletions.count == 1)
            #expect(deletions.first?["facialId"]?.stringValue == "fid-gus-1")
            #expect(deletions.first?["status"]?.stringValue == "pending", "no FACEIO key configured: the deletion waits in the outbox")

            let shown = try await client.call("facialId.show", ["subject": "gus"])
            let fid = try #require(shown["facialIds"]?.arrayValue?.first)
            #expect(fid["status"]?.stringValue == "deleting")
            #expect(fid["deletion"]?["status"]?.stringValue == "pending")
            #expect(fid["deletion"]?["reason"]?.stringValue == "consent_revoked")
            #expect(fid["deletion"]?["requestedAt"] == revoked["revokedAt"])
            #expect(shown["consent"] == .null)

            // No login or enrollment may follow on the revoked consent.
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("facialId.touch", ["subject": "gus"]) }
            let decision = try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: "gus"))
            #expect(decision["allow"]?.boolValue == false)
            #expect(Lifecycle.failedCodes(decision) == ["CONSENT_MISSING"])
        }
    }

    @Test("revoking another purpose keeps the Facial ID; revoking all (the default) deletes it")
    func revokeOtherPurposeKeepsFacialID() async throws {
        let policy = Lifecycle.policy(purposes: #"["authentication", "fraud-prevention"]"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            try await Lifecycle.enroll(client, subject: "hal", facialId: "fid-hal", purposes: ["authentication", "fraud-prevention"])
            let partial = try await client.call("consent.revoke", ["subject": "hal", "purposes": ["fraud-prevention"]])
            #expect(partial["revoked"] == ["fraud-prevention"])
            #expect(partial["deletions"] == [])
            let status = try await client.call("consent.status", ["subject": "hal"])
            #expect(status["active"]?.arrayValue?.first?["purposes"] == ["authentication"])
            let shown = try await client.call("facialId.show", ["subject": "hal"])
            #expect(shown["facialIds"]?.arrayValue?.first?["status"]?.stringValue == "active")

            let all = try await client.call("consent.revoke", ["subject": "hal"])
            #expect(all["revoked"] == ["authentication"])
            #expect(all["deletions"]?.arrayValue?.first?["facialId"]?.stringValue == "fid-hal")
        }
    }

    @Test("consent.revoke and consent.status for an unknown subject are NOT_FOUND; bad params are -32602")
    func failures() async throws {
        try await Lifecycle.withServer { _, client in
            await Lifecycle.expectError("NOT_FOUND", code: -32002) { try await client.call("consent.status", ["subject": "nobody"]) }
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("consent.revoke", ["subject": "nobody"]) }

            var missing = Lifecycle.consentParams(subject: "ivy").objectValue!
            missing = JSONObject(missing.members.filter { $0.key != "noticeVersion" }.map { ($0.key, $0.value) })
            let e1 = await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("consent.record", .object(missing)) }
            #expect(e1?.error["data"]?["field"]?.stringValue == "params.noticeVersion")

            var badGuardian = Lifecycle.consentParams(subject: "ivy", age: 10).objectValue!
            badGuardian["guardian"] = ["relationship": 5, "verificationMethod": "eid"]
            let e2 = await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("consent.record", .object(badGuardian)) }
            #expect(e2?.error["data"]?["field"]?.stringValue == "params.guardian.relationship")

            let e3 = await Lifecycle.expectError("INVALID_PARAMS", code: -32602) {
                try await client.call("consent.revoke", ["subject": "ivy", "purposes": []])
            }
            #expect(e3?.error["data"]?["field"]?.stringValue?.hasPrefix("params.purposes") == true)
        }
    }

    /// Values a careless or hostile caller sends get -32602 naming the field, and nothing is kept.
    @Test(
        "malformed values are INVALID_PARAMS naming the field",
        arguments: [
            ("purposes", JSON.strings(["authentication\u{1}"]), "params.purposes[0]"),
            ("purposes", JSON.strings(["authentication", "a\u{85}b"]), "params.purposes[1]"),
            ("domain", "..", "params.domain"),
            ("domain", "shop..example", "params.domain"),
            ("domain", ".shop.example", "params.domain"),
            ("domain", "shop.example..", "params.domain"),
            ("domain", "-shop.example", "params.domain"),
            ("domain", "shop-.example", "params.domain"),
            ("domain", .string(String(repeating: "a", count: 64) + ".example"), "params.domain"),
            ("birthDate", "0000-01-01", "params.birthDate"),
            ("birthDate", "1850-06-30", "params.birthDate"),
        ] as [(String, JSON, String)])
    func malformedValues(key: String, value: JSON, field: String) async throws {
        try await Lifecycle.withServer { _, client in
            var params = Lifecycle.consentParams(subject: "vic", age: key == "birthDate" ? nil : 30).objectValue!
            params[key] = value
            let e = await Lifecycle.expectError("INVALID_PARAMS", code: -32602) { try await client.call("consent.record", .object(params)) }
            #expect(e?.error["data"]?["field"]?.stringValue == field, "\(key): \(value.encodedString())")
            await Lifecycle.expectError("NOT_FOUND") { try await client.call("consent.status", ["subject": "vic"]) }
        }
    }

    @Test("host names at their limits, and birth dates up to 150 years ago, are accepted")
    func valuesAtTheirLimits() async throws {
        let label = String(repeating: "a", count: 63)
        let policy = Lifecycle.policy(domains: #"["localhost", "shop.example", "*.shop.example", "xn--caf-dma.example", "\#(label).example"]"#)
        try await Lifecycle.withServer(policy: policy) { _, client in
            let domains = ["localhost", "a-b.shop.example", "a.shop.example.", "xn--caf-dma.example", label + ".example"]
            for (i, domain) in domains.enumerated() {
                _ = try await client.call("consent.record", Lifecycle.consentParams(subject: "wes-\(i)", domain: domain))
            }
            var params = Lifecycle.consentParams(subject: "wes-old", age: nil).objectValue!
            params["birthDate"] = "1900-01-01"
            _ = try await client.call("consent.record", .object(params))
        }
    }
}
