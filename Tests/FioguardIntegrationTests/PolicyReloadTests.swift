import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// Policy reload by SIGHUP and by `policy.reload`: validate, then swap; a bad file keeps the old
/// policy in force.
@Suite("Policy reload")
struct PolicyReloadTests {
    static let withoutShop = Lifecycle.policy(domains: #"["other.example"]"#)
    /// A typo: `domian` is not a key (and the file would otherwise deny every domain).
    static let typo = #"{"version": 1, "domian": ["other.example"]}"#

    static func decide(_ client: RPCTestClient, subject: String) async throws -> JSON {
        try await client.call("enroll.authorize", Lifecycle.authorizeParams(subject: subject))
    }

    @Test("SIGHUP after removing the domain: the next decision denies with DOMAIN_NOT_ALLOWED")
    func sighupChangesDecision() async throws {
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.recordConsent(client, subject: "pia")
            let before = try await Self.decide(client, subject: "pia")
            #expect(before["allow"]?.boolValue == true)
            let oldVersion = try #require(before["policyVersion"]?.stringValue)

            try Self.withoutShop.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            server.signal(SIGHUP)
            let after = try await eventually(timeout: .seconds(10), every: .milliseconds(100)) { () -> JSON? in
                let d = try await Self.decide(client, subject: "pia")
                if d["allow"]?.boolValue == false { return d }
                return .none
            }
            let denied = try #require(after, "the reloaded policy never took effect")
            #expect(Lifecycle.failedCodes(denied) == ["DOMAIN_NOT_ALLOWED"])
            #expect(denied["ticket"] == nil)
            #expect(denied["policyVersion"]?.stringValue != oldVersion)

            let activated = try await Lifecycle.auditEntries(client).filter { $0["action"]?.stringValue == "policy.activated" }
            #expect(activated.count == 2)
            #expect(activated.last?["details"]?["previousVersion"]?.stringValue == oldVersion)
            #expect(activated.last?["details"]?["policyVersion"] == denied["policyVersion"])
            #expect(activated.last?["caller"]?.stringValue == "fioguard")
        }
    }

    @Test("SIGHUP with a broken file keeps the old policy in force", arguments: [typo, #"{"version": 1, "domains": ["#])
    func sighupBrokenFileKeepsPolicy(broken: String) async throws {
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.recordConsent(client, subject: "quinn")
            let before = try await Self.decide(client, subject: "quinn")
            #expect(before["allow"]?.boolValue == true)

            try broken.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            server.signal(SIGHUP)
            let refused = try await eventually(timeout: .seconds(10)) { () -> Bool? in
                server.log.contains("policy reload refused") ? true : Bool?.none
            }
            #expect(refused == true, "the server never logged the refused reload")

            let after = try await Self.decide(client, subject: "quinn")
            #expect(after["allow"]?.boolValue == true, "\(after.encodedString())")
            #expect(after["policyVersion"] == before["policyVersion"])
            let health = try await client.call("system.health")
            #expect(health["status"] != nil, "still serving")

            // Fixing the file and signalling again takes effect.
            try Self.withoutShop.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            server.signal(SIGHUP)
            let fixed = try await eventually(timeout: .seconds(10)) { () -> JSON? in
                let d = try await Self.decide(client, subject: "quinn")
                if d["allow"]?.boolValue == false { return d }
                return .none
            }
            #expect(Lifecycle.failedCodes(fixed) == ["DOMAIN_NOT_ALLOWED"])
        }
    }

    @Test("policy.reload with a broken file is POLICY_INVALID naming the field; the old policy stays")
    func reloadMethodBrokenFile() async throws {
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.recordConsent(client, subject: "rae")
            let before = try await Self.decide(client, subject: "rae")
            #expect(before["allow"]?.boolValue == true)

            try Self.typo.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            let e = await Lifecycle.expectError("POLICY_INVALID") { try await client.call("policy.reload") }
            #expect(e?.code.map { (-32099)...(-32000) ~= $0 } == true, "a domain error code: \(String(describing: e))")
            #expect(e?.error["data"]?["field"]?.stringValue == "policy.domian")
            #expect(e?.error["message"]?.stringValue?.contains("domian") == true)

            let badDuration = Lifecycle.policy(retention: #"{"maxSinceEnrollment": "3 years"}"#)
            try badDuration.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            let e2 = await Lifecycle.expectError("POLICY_INVALID") { try await client.call("policy.reload") }
            #expect(e2?.error["data"]?["field"]?.stringValue == "policy.retention.maxSinceEnrollment")

            let after = try await Self.decide(client, subject: "rae")
            #expect(after["allow"]?.boolValue == true)
            #expect(after["policyVersion"] == before["policyVersion"])
            let activated = try await Lifecycle.auditEntries(client).filter { $0["action"]?.stringValue == "policy.activated" }
            #expect(activated.count == 1, "a refused reload activates nothing")
        }
    }

    @Test("policy.reload with a valid file returns the new version, which the next decision carries")
    func reloadMethodSwaps() async throws {
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.recordConsent(client, subject: "sol")
            let before = try await Self.decide(client, subject: "sol")
            let unchanged = try await client.call("policy.reload")
            #expect(unchanged["policyVersion"] == before["policyVersion"], "same file, same version")

            let denyDE = Lifecycle.policy(countries: #"{"deny": ["KP", "DE"]}"#)
            try denyDE.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            let reloaded = try await client.call("policy.reload")
            let version = try #require(reloaded["policyVersion"]?.stringValue)
            #expect(version != before["policyVersion"]?.stringValue)
            let after = try await Self.decide(client, subject: "sol")
            #expect(after["allow"]?.boolValue == false)
            #expect(after["policyVersion"]?.stringValue == version)
            #expect(Lifecycle.failedCodes(after) == ["COUNTRY_DENIED"])
        }
    }

    @Test("a reloaded policy stays in force across a restart without a phantom policy change in the audit log")
    func reloadedPolicySurvivesRestart() async throws {
        try await Lifecycle.withServer { server, client in
            try Self.withoutShop.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            let reloaded = try await client.call("policy.reload")
            let version = try #require(reloaded["policyVersion"]?.stringValue)
            #expect(await server.terminate() == 0)
            try await server.start()
            let again = try await server.connect()
            _ = try await again.call("consent.record", Lifecycle.consentParams(subject: "uli", domain: "other.example"))
            let decision = try await again.call("enroll.authorize", Lifecycle.authorizeParams(subject: "uli", domain: "other.example"))
            #expect(decision["policyVersion"]?.stringValue == version)
            let activated = try await Lifecycle.auditEntries(again).filter { $0["action"]?.stringValue == "policy.activated" }
            #expect(
                activated.count == 2,
                "start-up after the reload recorded a policy change that did not happen: \(activated.map { $0["details"]!.encodedString() })")
            #expect(try await again.call("audit.verify")["ok"]?.boolValue == true)
            await again.close()
        }
    }

    @Test("a reload that shortens retention recomputes retainUntil of enrolled Facial IDs")
    func reloadRecomputesRetention() async throws {
        try await Lifecycle.withServer { server, client in
            let done = try await Lifecycle.enroll(client, subject: "tom", facialId: "fid-tom")
            let enrolledAt = try #require(Lifecycle.date(done["enrolledAt"]))
            let shorter = Lifecycle.policy(retention: #"{"maxSinceEnrollment": "P3Y", "maxSinceLastInteraction": "PT1H"}"#)
            try shorter.write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            _ = try await client.call("policy.reload")
            let shown = try await client.call("facialId.show", ["subject": "tom"])
            let until = Lifecycle.date(shown["facialIds"]?.arrayValue?.first?["retainUntil"])
            #expect(until == enrolledAt.addingTimeInterval(3600))
        }
    }
}
