import FioguardJSON
import FioguardPolicy
import Testing

@Suite("Disclosure")
struct PolicyEngineDisclosureTests {
    @Test func memberState() throws {
        let p = Fixture.policy(#""contact":{"name":"DPO","email":"dpo@shop.example"}"#)
        let d = PolicyEngine.disclosure(jurisdiction: Fixture.place("DE"), locale: "de-DE", policy: p)
        #expect(d["policyVersion"] == .string(p.version))
        #expect(d["purposes"] == ["authentication"])
        #expect(d["locale"] == "de-DE")
        #expect(d["minors"]?["ageOfConsent"] == 16)
        #expect(d["minors"]?["profile"] == "DE")
        #expect(d["minors"]?["guardianConsent"] == "required")
        #expect(d["contact"]?["email"] == "dpo@shop.example")
        let rights = try #require(d["rights"]?.arrayValue)
        #expect(rights.compactMap { $0["method"]?.stringValue } == ["facialId.show", "consent.revoke", "facialId.delete", "subject.erase"])
        #expect(d["howToRevoke"]?.stringValue?.contains("deletes your Facial ID") == true)
        #expect(d["howToRevoke"]?.stringValue?.contains("consent.revoke") == false)  // plain language; methods are in `rights`
        #expect(d["howToDelete"]?.stringValue?.contains("confirm") == true)
        #expect(d["anonymization"]?.stringValue?.contains("pseudonym") == true, "D14: what stays after erasure, and how")
        #expect(d["profiles"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == ["EU", "DE"])
        let schedule = try #require(d["retention"]?["schedule"]?.arrayValue)
        #expect(schedule.compactMap { $0["rule"]?.stringValue } == ["retention.maxSinceEnrollment", "retention.maxSinceLastInteraction"])
        #expect(schedule.allSatisfy { $0["duration"] == "P3Y" })
        #expect(d["consent"]?["formRequired"]?.arrayValue?.first?["profile"] == "EU")
    }

    @Test func regionSchedule() throws {
        let p = Fixture.policy(#""retention":{"maxSinceEnrollment":"P5Y","maxSinceLastInteraction":"P5Y"}"#)
        let d = PolicyEngine.disclosure(jurisdiction: Fixture.place("US-IL"), locale: nil, policy: p)
        let schedule = try #require(d["retention"]?["schedule"]?.arrayValue)
        #expect(schedule[1]["duration"] == "P3Y")
        #expect(schedule[1]["profile"] == "US-IL")
        #expect(schedule[0]["duration"] == "P5Y")
        #expect(schedule[0]["profile"] == .null)
        #expect(d["consent"]?["affirmativeMethods"] == ["signature"])
        #expect(d["consent"]?["profile"] == "US-IL")
        #expect(d["minors"]?["ageOfConsent"] == 18)
        #expect(d["locale"] == .null)
    }

    @Test func general() {
        let d = PolicyEngine.disclosure(jurisdiction: nil, locale: nil, policy: .builtInDefault)
        #expect(d["jurisdiction"] == .null)
        #expect(d["profiles"] == [])
        #expect(d["minors"]?["ageOfConsent"] == 16)
        #expect(d["minors"]?["profile"] == .null)
        #expect(d["contact"] == .null)
        #expect(d["retention"]?["afterRevocation"]?["duration"] == "PT0S")
    }

    @Test func datedView() {
        let p = Fixture.policy()
        let undated = PolicyEngine.disclosure(jurisdiction: Fixture.place("IN"), locale: nil, policy: p)
        #expect(undated["minors"]?["ageOfConsent"] == 18)
        let dated = PolicyEngine.disclosure(jurisdiction: Fixture.place("IN"), locale: nil, policy: p, at: Fixture.now)
        #expect(dated["minors"]?["ageOfConsent"] == 16)
        #expect(dated["profiles"] == [])
    }
}
