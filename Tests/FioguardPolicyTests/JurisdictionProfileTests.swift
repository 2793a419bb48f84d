import FioguardPolicy
import Testing

@Suite("Built-in jurisdiction profiles")
struct JurisdictionProfileTests {
    struct ProfileCase: Sendable, CustomTestStringConvertible {
        var code: String
        var effectiveFrom: String
        var age: Int?
        var methods: [String]? = nil
        var sinceLastInteraction: String? = nil
        var testDescription: String { code }
    }

    @Test(arguments: [
        ProfileCase(code: "EU", effectiveFrom: "2018-05-25", age: nil),
        ProfileCase(code: "GB", effectiveFrom: "2018-05-25", age: 13),
        ProfileCase(code: "US", effectiveFrom: "2000-04-21", age: 13),
        ProfileCase(code: "US-IL", effectiveFrom: "2008-10-03", age: 18, methods: ["signature"], sinceLastInteraction: "P3Y"),
        ProfileCase(code: "US-TX", effectiveFrom: "2009-09-01", age: nil, sinceLastInteraction: "P1Y"),
        ProfileCase(code: "US-WA", effectiveFrom: "2024-03-31", age: nil),
        ProfileCase(code: "US-CO", effectiveFrom: "2025-07-01", age: 13, sinceLastInteraction: "P24M"),
        ProfileCase(code: "US-CA", effectiveFrom: "2020-01-01", age: nil),
        ProfileCase(code: "BR", effectiveFrom: "2020-09-18", age: 12),
        ProfileCase(code: "IN", effectiveFrom: "2027-05-13", age: 18),
        ProfileCase(code: "CN", effectiveFrom: "2021-11-01", age: 14),
    ])
    func profileData(_ c: ProfileCase) throws {
        let p = try #require(JurisdictionProfile.builtIn.first { $0.code == c.code })
        #expect(p.effectiveFrom?.iso == c.effectiveFrom)
        #expect(p.ageOfConsent == c.age)
        #expect(p.affirmativeMethods == c.methods)
        #expect(p.maxSinceLastInteraction?.iso8601 == c.sinceLastInteraction)
        #expect(!p.citation.isEmpty)
        #expect(p.isBuiltIn)
        #expect(p.keysFromFile.isEmpty)
    }

    @Test func everyProfileHasCitationAndDate() {
        #expect(JurisdictionProfile.builtIn.count == 11 + 30)
        #expect(Set(JurisdictionProfile.builtIn.map(\.code)).count == JurisdictionProfile.builtIn.count)
        for p in JurisdictionProfile.builtIn {
            #expect(!p.citation.isEmpty, "\(p.code)")
            #expect(p.effectiveFrom != nil, "\(p.code)")
            #expect(Jurisdiction.isCountryCode(p.code) || Jurisdiction.isRegionCode(p.code))
        }
        #expect(JurisdictionProfile.euEEA.count == 30)
        #expect(!JurisdictionProfile.euEEA.contains("GB"))
        #expect(!JurisdictionProfile.euEEA.contains("CH"))
    }

    @Test(arguments: [
        ("DE", ["EU", "DE"]), ("NO", ["EU", "NO"]), ("GB", ["GB"]), ("US", ["US"]), ("US-IL", ["US", "US-IL"]),
        ("US-NY", ["US"]), ("US-CO", ["US", "US-CO"]), ("BR", ["BR"]), ("IN", []), ("CN", ["CN"]), ("CH", []), ("JP", []),
    ])
    func applicableAtNow(place: String, codes: [String]) {
        #expect(PolicyEngine.applicableProfiles(Fixture.place(place), policy: Fixture.policy(), at: Fixture.now).map(\.code) == codes)
    }

    @Test(arguments: [
        ("IN", "2027-05-12T23:59:59Z", false), ("IN", "2027-05-13T00:00:00Z", true),
        ("US-CO", "2025-06-30T23:59:59Z", false), ("US-CO", "2025-07-01T00:00:00Z", true),
        ("CN", "2021-10-31T00:00:00Z", false), ("CN", "2026-01-01T00:00:00Z", true),
    ])
    func effectiveDates(code: String, at: String, inForce: Bool) throws {
        let p = try #require(JurisdictionProfile.builtIn.first { $0.code == code })
        #expect(p.isInForce(at: Fixture.ts(at)) == inForce)
        #expect(p.isInForce(at: nil))
        #expect(PolicyEngine.applicableProfiles(Fixture.place(code), policy: Fixture.policy(), at: Fixture.ts(at)).contains { $0.code == code } == inForce)
    }

    @Test(arguments: [
        ("DE", 16, "DE"), ("FR", 15, "FR"), ("GB", 13, "GB"), ("US", 13, "US"), ("US-IL", 18, "US-IL"), ("IN", 18, "IN"),
        ("JP", 16, nil), ("CN", 14, "CN"),
    ] as [(String, Int, String?)])
    func ageOfConsentWithoutDate(place: String, age: Int, profile: String?) {
        let r = PolicyEngine.ageOfConsent(Fixture.place(place), policy: Fixture.policy())
        #expect(r.age == age)
        #expect(r.profile == profile)
    }

    @Test func ageOfConsentAtInstant() {
        let p = Fixture.policy()
        let before = PolicyEngine.ageOfConsent(Fixture.place("IN"), policy: p, at: Fixture.now)
        #expect(before.age == 16 && before.profile == nil)
        let after = PolicyEngine.ageOfConsent(Fixture.place("IN"), policy: p, at: Fixture.ts("2027-06-01T00:00:00Z"))
        #expect(after.age == 18 && after.profile == "IN")
    }

    @Test func fileOverrides() {
        let p = Fixture.policy(
            #""minors":{"defaultAgeOfConsent":18},"jurisdictions":{"FR":{"minors":{"ageOfConsent":16}},"US-IL":{"enabled":false},"IN":{"effectiveFrom":"2026-01-01"},"EU":{"minors":{"guardianConsent":"forbidden"}}}"#)
        #expect(PolicyEngine.ageOfConsent(Fixture.place("FR"), policy: p) == (16, "FR"))
        #expect(PolicyEngine.ageOfConsent(Fixture.place("US-IL"), policy: p) == (13, "US"))
        #expect(PolicyEngine.ageOfConsent(Fixture.place("JP"), policy: p) == (18, nil))
        #expect(PolicyEngine.ageOfConsent(Fixture.place("IN"), policy: p, at: Fixture.now) == (18, "IN"))
        #expect(PolicyEngine.guardianRule(Fixture.place("DE"), policy: p) == (.forbidden, "EU"))
        #expect(PolicyEngine.guardianRule(Fixture.place("GB"), policy: p) == (.required, nil))
        let fr = p.profiles.first { $0.code == "FR" }
        #expect(fr?.rule("minors.ageOfConsent") == "jurisdictions.FR.minors.ageOfConsent")
        #expect(fr?.rule("consent.affirmativeMethods") == "profile:FR")
    }

    /// The engine finds a user's profiles through an index by code; it must pick exactly the
    /// profiles a pass over all of them with `applies(to:)` and `isInForce(at:)` would, in order.
    @Test func indexedLookupMatchesAPassOverEveryProfile() {
        let p = Fixture.policy(
            #""jurisdictions":{"JP":{"name":"Japan","citation":"APPI","minors":{"ageOfConsent":15}},"US-IL":{"enabled":false},"IN":{"effectiveFrom":"2026-01-01"}}"#)
        let places = ["DE", "FR", "GB", "US", "US-IL", "US-TX", "JP", "IN", "BR", "ZZ", "EU", "US-ZZ"].map(Fixture.place)
            + [Jurisdiction(country: "DE", region: "US-IL"), Jurisdiction(country: "US", region: "EU"), Jurisdiction(country: "EU", region: nil)]
        for j in places {
            for at in [nil, Fixture.ts("2020-01-01T00:00:00Z"), Fixture.now] {
                let expected = p.profiles.filter { $0.isInForce(at: at) && $0.applies(to: j) }.map(\.code)
                #expect(PolicyEngine.applicableProfiles(j, policy: p, at: at).map(\.code) == expected, "\(j) at \(String(describing: at))")
            }
        }
        #expect(PolicyEngine.applicableProfiles(Fixture.place("DE"), policy: p).map(\.code) == ["EU", "DE"])
        #expect(PolicyEngine.applicableProfiles(Fixture.place("US-IL"), policy: p).map(\.code) == ["US"])
        #expect(PolicyEngine.applicableProfiles(Fixture.place("JP"), policy: p).map(\.code) == ["JP"])
    }

    /// Each policy keeps the rules it folded per set of applicable profiles. One policy asked
    /// about many places and dates, in any order, must answer as a fresh policy does each time.
    @Test func rulesKeptPerProfileSetMatchFreshlyFoldedOnes() {
        let extra = #""minors":{"defaultAgeOfConsent":18},"jurisdictions":{"FR":{"minors":{"ageOfConsent":16}},"IN":{"effectiveFrom":"2026-01-01"}}"#
        let shared = Fixture.policy(extra)
        let places = ["DE", "FR", "US-IL", "US-TX", "IN", "JP", "BR", "DE", "IN", "US-IL"]
        let dates = ["2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z", "2008-10-02T00:00:00Z", "2026-01-01T00:00:00Z"]
        for place in places {
            for date in dates {
                let at = Fixture.ts(date)
                let fresh = Fixture.policy(extra)
                let facts = Fixture.consent(place: place, age: 15)
                #expect(
                    PolicyEngine.decideConsent(facts, policy: shared, now: at, decisionId: "dec_1").json
                        == PolicyEngine.decideConsent(facts, policy: fresh, now: at, decisionId: "dec_1").json,
                    "\(place) at \(date)")
                #expect(PolicyEngine.ageOfConsent(Fixture.place(place), policy: shared, at: at)
                    == PolicyEngine.ageOfConsent(Fixture.place(place), policy: fresh, at: at))
                #expect(PolicyEngine.consentExpiry(recordedAt: at, jurisdiction: Fixture.place(place), policy: shared)
                    == PolicyEngine.consentExpiry(recordedAt: at, jurisdiction: Fixture.place(place), policy: fresh))
            }
        }
        // The profile that comes into force changes the answer for the same place and policy.
        #expect(PolicyEngine.ageOfConsent(Fixture.place("IN"), policy: shared, at: Fixture.ts(dates[0])) == (18, nil))
        #expect(PolicyEngine.ageOfConsent(Fixture.place("IN"), policy: shared, at: Fixture.ts(dates[1])) == (18, "IN"))
        #expect(PolicyEngine.ageOfConsent(Fixture.place("FR"), policy: shared, at: Fixture.ts(dates[1])) == (16, "FR"))
    }
}
