import FioguardJSON
import FioguardPolicy
import Testing

@Suite("Enrollment decisions")
struct PolicyEngineEnrollmentTests {
    struct RuleCase: Sendable, CustomTestStringConvertible {
        var name: String
        var facts: EnrollmentFacts
        var policy: Policy = Fixture.policy()
        var allow: Bool
        var code: String
        var rule: String? = nil
        var profile: String? = nil
        var testDescription: String { name }
    }

    static let now = Fixture.now
    static let ruleCases: [RuleCase] = [
        RuleCase(name: "baseline", facts: Fixture.enrollment(), allow: true, code: ReasonCode.triggerUserAction, rule: "duty:D7"),
        RuleCase(
            name: "automatic trigger", facts: Fixture.enrollment(trigger: "automatic"), allow: false,
            code: ReasonCode.triggerNotUserAction, rule: "duty:D7"),
        RuleCase(name: "unknown trigger", facts: Fixture.enrollment(trigger: "page_load"), allow: false, code: ReasonCode.triggerNotUserAction),
        RuleCase(name: "empty trigger", facts: Fixture.enrollment(trigger: ""), allow: false, code: ReasonCode.triggerNotUserAction),
        RuleCase(name: "case matters", facts: Fixture.enrollment(trigger: "USER_ACTION"), allow: false, code: ReasonCode.triggerNotUserAction),
        RuleCase(
            name: "no consent", facts: Fixture.enrollment(consent: nil), allow: false, code: ReasonCode.consentMissing,
            rule: "duty:D8"),
        RuleCase(name: "consent present", facts: Fixture.enrollment(), allow: true, code: ReasonCode.consentPresent),
        RuleCase(
            name: "consent 15 minutes old", facts: Fixture.enrollment(consent: Fixture.activeConsent(recordedAt: now.adding(seconds: -900))),
            allow: true, code: ReasonCode.consentFresh, rule: "consent.maxAgeBeforeEnrollment"),
        RuleCase(
            name: "consent 15 minutes 1 second old",
            facts: Fixture.enrollment(consent: Fixture.activeConsent(recordedAt: now.adding(seconds: -901))), allow: false,
            code: ReasonCode.consentStale, rule: "consent.maxAgeBeforeEnrollment"),
        RuleCase(
            name: "consent from the future (clock skew)",
            facts: Fixture.enrollment(consent: Fixture.activeConsent(recordedAt: now.adding(seconds: 30))), allow: true,
            code: ReasonCode.consentFresh),
        RuleCase(
            name: "stale by a file profile",
            facts: Fixture.enrollment(consent: Fixture.activeConsent(recordedAt: now.adding(seconds: -600))),
            policy: Fixture.policy(#""jurisdictions":{"DE":{"consent":{"maxAgeBeforeEnrollment":"PT5M"}}}"#), allow: false,
            code: ReasonCode.consentStale, rule: "jurisdictions.DE.consent.maxAgeBeforeEnrollment", profile: "DE"),
        RuleCase(
            name: "longer policy window", facts: Fixture.enrollment(consent: Fixture.activeConsent(recordedAt: now.adding(seconds: -1800))),
            policy: Fixture.policy(#""consent":{"maxAgeBeforeEnrollment":"PT1H"}"#), allow: true, code: ReasonCode.consentFresh),
        RuleCase(
            name: "no expiry by default", facts: Fixture.enrollment(), allow: true, code: ReasonCode.consentNotExpired,
            rule: "consent.validFor"),
        RuleCase(
            name: "consent lapsed", facts: Fixture.enrollment(consent: Fixture.activeConsent(recordedAt: now.adding(seconds: -720))),
            policy: Fixture.policy(#""consent":{"validFor":"PT10M"}"#), allow: false, code: ReasonCode.consentExpired,
            rule: "consent.validFor"),
        RuleCase(
            name: "consent valid", facts: Fixture.enrollment(), policy: Fixture.policy(#""consent":{"validFor":"P1Y"}"#), allow: true,
            code: ReasonCode.consentNotExpired, rule: "consent.validFor"),
        RuleCase(
            name: "authentication not consented", facts: Fixture.enrollment(consent: Fixture.activeConsent(purposes: ["analytics"])),
            allow: false, code: ReasonCode.purposeNotConsented, rule: "purposes"),
        RuleCase(
            name: "consented purpose the policy dropped",
            facts: Fixture.enrollment(consent: Fixture.activeConsent(purposes: ["authentication", "analytics"])), allow: false,
            code: ReasonCode.purposeNotAllowed, rule: "purposes"),
        RuleCase(name: "authentication consented", facts: Fixture.enrollment(), allow: true, code: ReasonCode.purposeConsented),
        RuleCase(
            name: "stored method not affirmative", facts: Fixture.enrollment(consent: Fixture.activeConsent(method: "implied")),
            allow: false, code: ReasonCode.collectionMethodNotAffirmative),
        RuleCase(
            name: "US-IL request, click consent",
            facts: Fixture.enrollment(place: "US-IL", consent: Fixture.activeConsent(method: "click", place: "US-IL")), allow: false,
            code: ReasonCode.collectionMethodNotAffirmative, rule: "profile:US-IL", profile: "US-IL"),
        RuleCase(
            name: "consent from US-IL, request from US-CA (strictest of both)",
            facts: Fixture.enrollment(place: "US-CA", consent: Fixture.activeConsent(method: "click", place: "US-IL")), allow: false,
            code: ReasonCode.collectionMethodNotAffirmative, profile: "US-IL"),
        RuleCase(
            name: "US-IL signature", facts: Fixture.enrollment(place: "US-IL", consent: Fixture.activeConsent(method: "signature", place: "US-IL")),
            allow: true, code: ReasonCode.collectionMethodAffirmative, profile: "US-IL"),
        RuleCase(
            name: "minor without guardian consent", facts: Fixture.enrollment(consent: Fixture.activeConsent(age: 15)), allow: false,
            code: ReasonCode.guardianConsentRequired, profile: "DE"),
        RuleCase(
            name: "minor with guardian consent", facts: Fixture.enrollment(consent: Fixture.activeConsent(age: 15, guardian: true)),
            allow: true, code: ReasonCode.guardianConsentPresent, profile: "DE"),
        RuleCase(
            name: "minor grew up since consent (birth date)",
            facts: Fixture.enrollment(consent: Fixture.activeConsent(age: nil, birthDate: Fixture.date("2010-11-27"))), allow: true,
            code: ReasonCode.ageOfConsentMet),
        RuleCase(
            name: "age unknown with evidence required", facts: Fixture.enrollment(consent: Fixture.activeConsent(age: nil)),
            policy: Fixture.policy(#""minors":{"requireAgeEvidence":true}"#), allow: false, code: ReasonCode.ageUnknown),
        RuleCase(
            name: "minors forbidden", facts: Fixture.enrollment(consent: Fixture.activeConsent(age: 15, guardian: true)),
            policy: Fixture.policy(#""minors":{"guardianConsent":"forbidden"}"#), allow: false, code: ReasonCode.minorNotPermitted),
        RuleCase(name: "not enrolled", facts: Fixture.enrollment(count: 0), allow: true, code: ReasonCode.notEnrolled),
        RuleCase(
            name: "already enrolled", facts: Fixture.enrollment(count: 1), allow: false, code: ReasonCode.alreadyEnrolled,
            rule: "enrollment.allowReenrollment"),
        RuleCase(
            name: "re-enrollment allowed", facts: Fixture.enrollment(count: 2),
            policy: Fixture.policy(#""enrollment":{"allowReenrollment":true}"#), allow: true, code: ReasonCode.reenrollmentAllowed),
        RuleCase(name: "domain", facts: Fixture.enrollment(domain: "www.shop.example."), allow: true, code: ReasonCode.domainAllowed),
        RuleCase(name: "wrong domain", facts: Fixture.enrollment(domain: "evilshop.example"), allow: false, code: ReasonCode.domainNotAllowed),
        RuleCase(
            name: "denied country", facts: Fixture.enrollment(place: "DE"), policy: Fixture.policy(#""countries":{"deny":["DE"]}"#),
            allow: false, code: ReasonCode.countryDenied),
        RuleCase(
            name: "country not allowed", facts: Fixture.enrollment(place: "FR", consent: Fixture.activeConsent(place: "FR")),
            policy: Fixture.policy(#""countries":{"allow":["DE"]}"#), allow: false, code: ReasonCode.countryNotAllowed),
    ]

    @Test(arguments: ruleCases)
    func rule(_ c: RuleCase) throws {
        let d = PolicyEngine.decideEnrollment(c.facts, policy: c.policy, now: Self.now, decisionId: "dec-1")
        #expect(d.allow == c.allow, "\(d.json)")
        let r = try #require(d.reason(c.code), "no \(c.code) in \(d.codes)")
        #expect(r.passed == c.allow)
        if let rule = c.rule { #expect(r.rule == rule) }
        if let profile = c.profile { #expect(r.profile == profile) }
    }

    @Test func everyCheckIsReported() {
        let d = PolicyEngine.decideEnrollment(Fixture.enrollment(), policy: Fixture.policy(), now: Self.now, decisionId: "d")
        #expect(d.allow)
        #expect(d.codes == [
            ReasonCode.triggerUserAction, ReasonCode.domainAllowed, ReasonCode.countryAllowed, ReasonCode.consentPresent,
            ReasonCode.purposeConsented, ReasonCode.purposesAllowed, ReasonCode.consentFresh, ReasonCode.consentNotExpired,
            ReasonCode.collectionMethodAffirmative, ReasonCode.ageOfConsentMet, ReasonCode.notEnrolled,
        ])
        #expect(d.policyVersion == Fixture.policy().version)
        #expect(d.decisionId == "d")
    }

    @Test func failuresAccumulate() {
        let f = Fixture.enrollment(domain: "other.example", trigger: "automatic", consent: nil, count: 1)
        let d = PolicyEngine.decideEnrollment(f, policy: Fixture.policy(), now: Self.now, decisionId: "d")
        #expect(d.failures.map(\.code) == [
            ReasonCode.triggerNotUserAction, ReasonCode.domainNotAllowed, ReasonCode.consentMissing, ReasonCode.alreadyEnrolled,
        ])
        #expect(d.json["allow"] == false)
    }

    @Test func builtInDefaultDeniesEverywhere() {
        let d = PolicyEngine.decideEnrollment(Fixture.enrollment(), policy: .builtInDefault, now: Self.now, decisionId: "d")
        #expect(!d.allow)
        #expect(d.failures.map(\.code) == [ReasonCode.domainNotAllowed])
    }
}
