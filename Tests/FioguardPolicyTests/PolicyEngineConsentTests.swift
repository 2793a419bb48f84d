import FioguardJSON
import FioguardPolicy
import Testing

@Suite("Consent decisions")
struct PolicyEngineConsentTests {
    struct RuleCase: Sendable, CustomTestStringConvertible {
        var name: String
        var facts: ConsentFacts
        var policy: Policy = Fixture.policy()
        var allow: Bool
        var code: String
        var rule: String? = nil
        var profile: String? = nil
        var testDescription: String { name }
    }

    static let ruleCases: [RuleCase] = [
        RuleCase(name: "baseline", facts: Fixture.consent(), allow: true, code: ReasonCode.purposesAllowed, rule: "purposes"),
        RuleCase(name: "no purposes", facts: Fixture.consent(purposes: []), allow: false, code: ReasonCode.purposesEmpty, rule: "purposes"),
        RuleCase(
            name: "purpose outside policy", facts: Fixture.consent(purposes: ["authentication", "marketing"]), allow: false,
            code: ReasonCode.purposeNotAllowed, rule: "purposes"),
        RuleCase(
            name: "extra purpose the policy lists",
            facts: Fixture.consent(purposes: ["authentication", "fraud-prevention"]),
            policy: Fixture.policy(#""purposes":["authentication","fraud-prevention"]"#), allow: true, code: ReasonCode.purposesAllowed),
        RuleCase(name: "click", facts: Fixture.consent(method: "click"), allow: true, code: ReasonCode.collectionMethodAffirmative),
        RuleCase(name: "checkbox", facts: Fixture.consent(method: "checkbox"), allow: true, code: ReasonCode.collectionMethodAffirmative),
        RuleCase(name: "signature", facts: Fixture.consent(method: "signature"), allow: true, code: ReasonCode.collectionMethodAffirmative),
        RuleCase(
            name: "pre-ticked box", facts: Fixture.consent(method: "pre-ticked"), allow: false,
            code: ReasonCode.collectionMethodNotAffirmative, rule: "consent.affirmativeMethods"),
        RuleCase(
            name: "silence", facts: Fixture.consent(method: ""), allow: false, code: ReasonCode.collectionMethodNotAffirmative),
        RuleCase(
            name: "policy narrows methods", facts: Fixture.consent(method: "click"),
            policy: Fixture.policy(#""consent":{"affirmativeMethods":["signature"]}"#), allow: false,
            code: ReasonCode.collectionMethodNotAffirmative, rule: "consent.affirmativeMethods"),
        RuleCase(
            name: "US-IL needs a signature", facts: Fixture.consent(method: "click", place: "US-IL"), allow: false,
            code: ReasonCode.collectionMethodNotAffirmative, rule: "profile:US-IL", profile: "US-IL"),
        RuleCase(
            name: "US-IL signature", facts: Fixture.consent(method: "signature", place: "US-IL"), allow: true,
            code: ReasonCode.collectionMethodAffirmative, rule: "profile:US-IL", profile: "US-IL"),
        RuleCase(
            name: "US without region: click", facts: Fixture.consent(method: "click", place: "US"), allow: true,
            code: ReasonCode.collectionMethodAffirmative, rule: "consent.affirmativeMethods"),
        RuleCase(
            name: "file loosens US-IL", facts: Fixture.consent(method: "checkbox", place: "US-IL"),
            policy: Fixture.policy(#""jurisdictions":{"US-IL":{"consent":{"affirmativeMethods":["signature","checkbox"]}}}"#),
            allow: true, code: ReasonCode.collectionMethodAffirmative,
            rule: "jurisdictions.US-IL.consent.affirmativeMethods", profile: "US-IL"),
        RuleCase(
            name: "file tightens DE", facts: Fixture.consent(method: "click", place: "DE"),
            policy: Fixture.policy(#""jurisdictions":{"DE":{"consent":{"affirmativeMethods":["checkbox"]}}}"#),
            allow: false, code: ReasonCode.collectionMethodNotAffirmative,
            rule: "jurisdictions.DE.consent.affirmativeMethods", profile: "DE"),
        RuleCase(
            name: "notice version missing", facts: Fixture.consent(notice: "  "), allow: false, code: ReasonCode.noticeVersionMissing,
            rule: "duty:D9"),
        RuleCase(name: "notice version", facts: Fixture.consent(notice: "2026-10"), allow: true, code: ReasonCode.noticeVersionPresent),
        RuleCase(name: "domain exact", facts: Fixture.consent(domain: "shop.example"), allow: true, code: ReasonCode.domainAllowed, rule: "domains"),
        RuleCase(name: "domain wildcard", facts: Fixture.consent(domain: "login.shop.example"), allow: true, code: ReasonCode.domainAllowed),
        RuleCase(name: "domain elsewhere", facts: Fixture.consent(domain: "evilshop.example"), allow: false, code: ReasonCode.domainNotAllowed),
        RuleCase(
            name: "no domains: deny all", facts: Fixture.consent(), policy: .builtInDefault, allow: false,
            code: ReasonCode.domainNotAllowed, rule: "domains"),
        RuleCase(
            name: "empty domains: deny all", facts: Fixture.consent(), policy: try! Policy.load(bytes: Array(#"{"version":1,"domains":[]}"#.utf8)),
            allow: false, code: ReasonCode.domainNotAllowed),
        RuleCase(name: "any country by default", facts: Fixture.consent(place: "JP"), allow: true, code: ReasonCode.countryAllowed),
        RuleCase(
            name: "denied country", facts: Fixture.consent(place: "RU"), policy: Fixture.policy(#""countries":{"deny":["RU"]}"#),
            allow: false, code: ReasonCode.countryDenied, rule: "countries.deny"),
        RuleCase(
            name: "not on allow list", facts: Fixture.consent(place: "US"), policy: Fixture.policy(#""countries":{"allow":["DE","FR"]}"#),
            allow: false, code: ReasonCode.countryNotAllowed, rule: "countries.allow"),
        RuleCase(
            name: "on allow list", facts: Fixture.consent(place: "FR"), policy: Fixture.policy(#""countries":{"allow":["DE","FR"]}"#),
            allow: true, code: ReasonCode.countryAllowed, rule: "countries.allow"),
        RuleCase(
            name: "deny beats allow", facts: Fixture.consent(place: "DE"),
            policy: Fixture.policy(#""countries":{"allow":["DE","FR"],"deny":["DE"]}"#), allow: false,
            code: ReasonCode.countryDenied, rule: "countries.deny"),
        RuleCase(
            name: "empty allow list denies all", facts: Fixture.consent(place: "DE"), policy: Fixture.policy(#""countries":{"allow":[]}"#),
            allow: false, code: ReasonCode.countryNotAllowed),
        RuleCase(
            name: "lower-case country", facts: ConsentFacts(
                purposes: ["authentication"], collectionMethod: "click", noticeVersion: "v1", domain: "shop.example",
                jurisdiction: Jurisdiction(country: "de", region: nil), age: 30),
            allow: false, code: ReasonCode.countryInvalid),
        RuleCase(
            name: "region of another country", facts: ConsentFacts(
                purposes: ["authentication"], collectionMethod: "click", noticeVersion: "v1", domain: "shop.example",
                jurisdiction: Jurisdiction(country: "US", region: "DE-BY"), age: 30),
            allow: false, code: ReasonCode.regionInvalid),
        RuleCase(
            name: "region without country prefix", facts: ConsentFacts(
                purposes: ["authentication"], collectionMethod: "click", noticeVersion: "v1", domain: "shop.example",
                jurisdiction: Jurisdiction(country: "US", region: "IL"), age: 30),
            allow: false, code: ReasonCode.regionInvalid),
        RuleCase(name: "valid region", facts: Fixture.consent(place: "US-TX"), allow: true, code: ReasonCode.regionValid),
        RuleCase(name: "age unknown, not required", facts: Fixture.consent(age: nil), allow: true, code: ReasonCode.ageNotRequired),
        RuleCase(
            name: "age unknown, evidence required", facts: Fixture.consent(age: nil),
            policy: Fixture.policy(#""minors":{"requireAgeEvidence":true}"#), allow: false, code: ReasonCode.ageUnknown,
            rule: "minors.requireAgeEvidence"),
        RuleCase(
            name: "age evidence required by a file profile", facts: Fixture.consent(place: "IN", age: nil),
            policy: Fixture.policy(#""jurisdictions":{"IN":{"minors":{"requireAgeEvidence":true},"effectiveFrom":"2026-01-01"}}"#),
            allow: false, code: ReasonCode.ageUnknown, rule: "jurisdictions.IN.minors.requireAgeEvidence", profile: "IN"),
        RuleCase(
            name: "birth date is evidence", facts: Fixture.consent(age: nil, birthDate: Fixture.date("1990-05-05")),
            policy: Fixture.policy(#""minors":{"requireAgeEvidence":true}"#), allow: true, code: ReasonCode.ageOfConsentMet),
        RuleCase(name: "negative age", facts: Fixture.consent(age: -1), allow: false, code: ReasonCode.ageInvalid),
        RuleCase(
            name: "birth date in the future", facts: Fixture.consent(age: nil, birthDate: Fixture.date("2027-01-01")), allow: false,
            code: ReasonCode.ageInvalid),
        RuleCase(
            name: "minor with guardian", facts: Fixture.consent(
                place: "DE", age: 15, guardian: GuardianFacts(relationship: "parent", verificationMethod: "id-check")),
            allow: true, code: ReasonCode.guardianConsentPresent, rule: "profile:DE", profile: "DE"),
        RuleCase(
            name: "minor with incomplete guardian", facts: Fixture.consent(
                place: "DE", age: 15, guardian: GuardianFacts(relationship: "parent", verificationMethod: " ")),
            allow: false, code: ReasonCode.guardianConsentRequired, profile: "DE"),
        RuleCase(
            name: "minors forbidden by policy", facts: Fixture.consent(
                place: "GB", age: 12, guardian: GuardianFacts(relationship: "parent", verificationMethod: "card")),
            policy: Fixture.policy(#""minors":{"guardianConsent":"forbidden"}"#), allow: false, code: ReasonCode.minorNotPermitted,
            rule: "minors.guardianConsent"),
        RuleCase(
            name: "minors forbidden by a file profile", facts: Fixture.consent(place: "FR", age: 14),
            policy: Fixture.policy(#""jurisdictions":{"FR":{"minors":{"guardianConsent":"forbidden"}}}"#), allow: false,
            code: ReasonCode.minorNotPermitted, rule: "jurisdictions.FR.minors.guardianConsent", profile: "FR"),
        RuleCase(
            name: "adult unaffected by forbidden", facts: Fixture.consent(place: "GB", age: 13),
            policy: Fixture.policy(#""minors":{"guardianConsent":"forbidden"}"#), allow: true, code: ReasonCode.ageOfConsentMet),
    ]

    @Test(arguments: ruleCases)
    func rule(_ c: RuleCase) throws {
        let d = PolicyEngine.decideConsent(c.facts, policy: c.policy, now: Fixture.now, decisionId: "dec-1")
        #expect(d.allow == c.allow, "\(d.json)")
        let r = try #require(d.reason(c.code), "no \(c.code) in \(d.codes)")
        #expect(r.passed == c.allow)
        if let rule = c.rule { #expect(r.rule == rule) }
        if let profile = c.profile { #expect(r.profile == profile) }
    }

    @Test func everyCheckIsReported() {
        let d = PolicyEngine.decideConsent(Fixture.consent(method: "signature", place: "US-IL"), policy: Fixture.policy(), now: Fixture.now, decisionId: "d")
        #expect(d.allow)
        #expect(d.codes == [
            ReasonCode.purposesAllowed, ReasonCode.collectionMethodAffirmative, ReasonCode.noticeVersionPresent,
            ReasonCode.domainAllowed, ReasonCode.countryAllowed, ReasonCode.regionValid, ReasonCode.ageOfConsentMet,
        ])
        #expect(d.reasons.allSatisfy { $0.passed })
    }

    @Test func failuresAccumulate() {
        let f = Fixture.consent(purposes: [], method: "silence", notice: "", domain: "evil.example", place: "RU", age: 10)
        let d = PolicyEngine.decideConsent(f, policy: Fixture.policy(#""countries":{"deny":["RU"]}"#), now: Fixture.now, decisionId: "d")
        #expect(!d.allow)
        #expect(d.failures.map(\.code) == [
            ReasonCode.purposesEmpty, ReasonCode.collectionMethodNotAffirmative, ReasonCode.noticeVersionMissing,
            ReasonCode.domainNotAllowed, ReasonCode.countryDenied, ReasonCode.guardianConsentRequired,
        ])
    }

    @Test func decisionJSON() throws {
        let p = Fixture.policy()
        let d = PolicyEngine.decideConsent(Fixture.consent(place: "DE", age: 15), policy: p, now: Fixture.now, decisionId: "dec-42")
        let j = d.json
        #expect(j["allow"] == false)
        #expect(j["decisionId"] == "dec-42")
        #expect(j["policyVersion"] == .string(p.version))
        let reasons = try #require(j["reasons"]?.arrayValue)
        #expect(reasons.count == d.reasons.count)
        let guardian = try #require(reasons.first { $0["code"] == "GUARDIAN_CONSENT_REQUIRED" })
        #expect(guardian["profile"] == "DE")
        #expect(guardian["rule"] == "profile:DE")
        #expect(guardian["passed"] == false)
        #expect(guardian.objectValue?.keys == ["code", "rule", "message", "profile", "passed"])
        let domain = try #require(reasons.first { $0["code"] == "DOMAIN_ALLOWED" })
        #expect(domain.objectValue?.keys == ["code", "rule", "message", "passed"])
    }

    // MARK: ages

    struct AgeCase: Sendable, CustomTestStringConvertible {
        var place: String
        var age: Int
        var now: String = "2026-11-27T04:37:46Z"
        var code: String
        var profile: String?
        var testDescription: String { "\(place) age \(age) at \(now) → \(code) (\(profile ?? "default"))" }
    }

    @Test(arguments: [
        AgeCase(place: "DE", age: 15, code: ReasonCode.guardianConsentRequired, profile: "DE"),
        AgeCase(place: "DE", age: 16, code: ReasonCode.ageOfConsentMet, profile: "DE"),
        AgeCase(place: "FR", age: 15, code: ReasonCode.ageOfConsentMet, profile: "FR"),
        AgeCase(place: "FR", age: 14, code: ReasonCode.guardianConsentRequired, profile: "FR"),
        AgeCase(place: "GB", age: 15, code: ReasonCode.ageOfConsentMet, profile: "GB"),
        AgeCase(place: "GB", age: 13, code: ReasonCode.ageOfConsentMet, profile: "GB"),
        AgeCase(place: "GB", age: 12, code: ReasonCode.guardianConsentRequired, profile: "GB"),
        AgeCase(place: "US", age: 12, code: ReasonCode.guardianConsentRequired, profile: "US"),
        AgeCase(place: "US", age: 13, code: ReasonCode.ageOfConsentMet, profile: "US"),
        AgeCase(place: "US-IL", age: 17, code: ReasonCode.guardianConsentRequired, profile: "US-IL"),
        AgeCase(place: "US-IL", age: 18, code: ReasonCode.ageOfConsentMet, profile: "US-IL"),
        AgeCase(place: "US-TX", age: 13, code: ReasonCode.ageOfConsentMet, profile: "US"),
        AgeCase(place: "US-WA", age: 12, code: ReasonCode.guardianConsentRequired, profile: "US"),
        AgeCase(place: "US-CA", age: 13, code: ReasonCode.ageOfConsentMet, profile: "US"),
        AgeCase(place: "US-CO", age: 12, code: ReasonCode.guardianConsentRequired, profile: "US"),
        AgeCase(place: "BR", age: 12, code: ReasonCode.ageOfConsentMet, profile: "BR"),
        AgeCase(place: "BR", age: 11, code: ReasonCode.guardianConsentRequired, profile: "BR"),
        AgeCase(place: "CN", age: 13, code: ReasonCode.guardianConsentRequired, profile: "CN"),
        AgeCase(place: "CN", age: 14, code: ReasonCode.ageOfConsentMet, profile: "CN"),
        AgeCase(place: "IN", age: 17, code: ReasonCode.ageOfConsentMet, profile: nil),  // DPDP not yet in force
        AgeCase(place: "IN", age: 15, code: ReasonCode.guardianConsentRequired, profile: nil),
        AgeCase(place: "IN", age: 17, now: "2027-05-12T23:59:59Z", code: ReasonCode.ageOfConsentMet, profile: nil),
        AgeCase(place: "IN", age: 17, now: "2027-05-13T00:00:00Z", code: ReasonCode.guardianConsentRequired, profile: "IN"),
        AgeCase(place: "IN", age: 18, now: "2027-05-13T00:00:00Z", code: ReasonCode.ageOfConsentMet, profile: "IN"),
        AgeCase(place: "JP", age: 15, code: ReasonCode.guardianConsentRequired, profile: nil),
        AgeCase(place: "JP", age: 16, code: ReasonCode.ageOfConsentMet, profile: nil),
        AgeCase(place: "CH", age: 16, code: ReasonCode.ageOfConsentMet, profile: nil),
        AgeCase(place: "DK", age: 15, code: ReasonCode.ageOfConsentMet, profile: "DK"),
        AgeCase(place: "DK", age: 15, now: "2023-12-31T23:59:59Z", code: ReasonCode.guardianConsentRequired, profile: nil),
    ])
    func ageOfConsent(_ c: AgeCase) throws {
        let d = PolicyEngine.decideConsent(
            Fixture.consent(method: "signature", place: c.place, age: c.age), policy: Fixture.policy(), now: Fixture.ts(c.now),
            decisionId: "d")
        let r = try #require(d.reason(c.code), "\(d.codes)")
        #expect(r.profile == c.profile)
        #expect(r.rule == (c.profile.map { "profile:\($0)" } ?? "minors.defaultAgeOfConsent"))
        #expect(d.allow == (c.code == ReasonCode.ageOfConsentMet))
    }

    /// GDPR Art. 8 national ages, as listed in reference/biometric-law.md.
    static let memberStateAges: [(String, Int)] = [
        ("AT", 14), ("BE", 13), ("BG", 14), ("HR", 16), ("CY", 14), ("CZ", 15), ("DK", 15), ("EE", 13), ("FI", 13),
        ("FR", 15), ("DE", 16), ("GR", 15), ("HU", 16), ("IE", 16), ("IT", 14), ("LV", 13), ("LT", 14), ("LU", 16),
        ("MT", 13), ("NL", 16), ("PL", 16), ("PT", 13), ("RO", 16), ("SK", 16), ("SI", 15), ("ES", 14), ("SE", 13),
        ("IS", 13), ("LI", 16), ("NO", 13),
    ]

    @Test(arguments: memberStateAges)
    func memberStateAge(country: String, age: Int) throws {
        let p = Fixture.policy()
        let at = PolicyEngine.decideConsent(Fixture.consent(place: country, age: age), policy: p, now: Fixture.now, decisionId: "d")
        #expect(at.allow)
        #expect(at.reason(ReasonCode.ageOfConsentMet)?.profile == country)
        let below = PolicyEngine.decideConsent(Fixture.consent(place: country, age: age - 1), policy: p, now: Fixture.now, decisionId: "d")
        #expect(!below.allow)
        #expect(below.reason(ReasonCode.guardianConsentRequired)?.profile == country)
        #expect(PolicyEngine.applicableProfiles(Fixture.place(country), policy: p, at: Fixture.now).map(\.code) == ["EU", country])
    }

    struct BirthdayCase: Sendable, CustomTestStringConvertible {
        var place: String
        var birthDate: String
        var age: Int?
        var met: Bool
        var testDescription: String { "\(place) born \(birthDate) (stated \(age.map(String.init) ?? "-")) → \(met)" }
    }

    @Test(arguments: [
        BirthdayCase(place: "GB", birthDate: "2013-11-27", met: true),  // 13th birthday today
        BirthdayCase(place: "GB", birthDate: "2013-11-28", met: false),  // tomorrow
        BirthdayCase(place: "GB", birthDate: "2013-11-26", met: true),  // yesterday
        BirthdayCase(place: "DE", birthDate: "2010-11-27", met: true),
        BirthdayCase(place: "DE", birthDate: "2010-11-28", met: false),
        BirthdayCase(place: "GB", birthDate: "2000-01-01", age: 12, met: false),  // contradictory: the lower age counts
        BirthdayCase(place: "GB", birthDate: "2013-11-28", age: 40, met: false),
    ])
    func birthDates(_ c: BirthdayCase) {
        let f = Fixture.consent(place: c.place, age: c.age, birthDate: Fixture.date(c.birthDate))
        let d = PolicyEngine.decideConsent(f, policy: Fixture.policy(), now: Fixture.now, decisionId: "d")
        #expect(d.allow == c.met, "\(d.json)")
        #expect((d.reason(ReasonCode.ageOfConsentMet) != nil) == c.met)
    }

    @Test func regionStricterThanCountry() {
        let p = Fixture.policy()
        let us = PolicyEngine.decideConsent(Fixture.consent(method: "click", place: "US", age: 16), policy: p, now: Fixture.now, decisionId: "d")
        #expect(us.allow)
        let il = PolicyEngine.decideConsent(Fixture.consent(method: "click", place: "US-IL", age: 16), policy: p, now: Fixture.now, decisionId: "d")
        #expect(!il.allow)
        #expect(il.failures.map(\.code) == [ReasonCode.collectionMethodNotAffirmative, ReasonCode.guardianConsentRequired])
        #expect(il.failures.allSatisfy { $0.profile == "US-IL" })
    }

    @Test("caller text in reasons is quoted, clipped and stripped of control characters")
    func callerTextInMessages() {
        func message(_ method: String) -> String {
            let d = PolicyEngine.decideConsent(Fixture.consent(method: method), policy: Fixture.policy(), now: Fixture.now, decisionId: "d")
            return d.reasons.first { $0.code == ReasonCode.collectionMethodNotAffirmative }?.message ?? ""
        }
        #expect(message("pre-ticked").hasPrefix(#"collection method "pre-ticked" is not accepted"#))
        #expect(message("a\u{7}b\nc").hasPrefix(#"collection method "a?b?c" is not"#))
        #expect(message("é-box").hasPrefix(#"collection method "é-box" is not"#))
        let long = String(repeating: "x", count: 81)
        #expect(message(long).hasPrefix("collection method \"" + String(repeating: "x", count: 80) + "…\" is not"))
        let exact = String(repeating: "y", count: 80)
        #expect(message(exact).hasPrefix("collection method \"" + exact + "\" is not"))
    }
}
