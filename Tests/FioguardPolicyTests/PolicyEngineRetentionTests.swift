import FioguardPolicy
import Testing

@Suite("Retention and deadlines")
struct PolicyEngineRetentionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var policy: String = ""
        var place: String = "DE"
        var enrolledAt: String = "2026-01-01T00:00:00Z"
        var touchedAt: String? = nil
        var until: String
        var rule: String
        var profile: String? = nil
        var testDescription: String { name }
    }

    static let long = #""retention":{"maxSinceEnrollment":"P5Y","maxSinceLastInteraction":"P5Y"}"#

    @Test(arguments: [
        Case(name: "defaults, tie names enrollment", until: "2029-01-01T00:00:00Z", rule: "retention.maxSinceEnrollment"),
        Case(
            name: "interaction rule earlier", policy: #""retention":{"maxSinceEnrollment":"P5Y","maxSinceLastInteraction":"P1Y"}"#,
            until: "2027-01-01T00:00:00Z", rule: "retention.maxSinceLastInteraction"),
        Case(
            name: "touch extends the interaction rule",
            policy: #""retention":{"maxSinceEnrollment":"P5Y","maxSinceLastInteraction":"P1Y"}"#, touchedAt: "2026-06-01T12:00:00Z",
            until: "2027-06-01T12:00:00Z", rule: "retention.maxSinceLastInteraction"),
        Case(
            name: "touch never extends past maxSinceEnrollment",
            policy: #""retention":{"maxSinceEnrollment":"P5Y","maxSinceLastInteraction":"P1Y"}"#, touchedAt: "2030-06-01T00:00:00Z",
            until: "2031-01-01T00:00:00Z", rule: "retention.maxSinceEnrollment"),
        Case(
            name: "touch before enrollment is ignored",
            policy: #""retention":{"maxSinceEnrollment":"P5Y","maxSinceLastInteraction":"P1Y"}"#, touchedAt: "2025-01-01T00:00:00Z",
            until: "2027-01-01T00:00:00Z", rule: "retention.maxSinceLastInteraction"),
        Case(name: "US-IL BIPA 3 years", policy: long, place: "US-IL", until: "2029-01-01T00:00:00Z",
             rule: "retention.maxSinceLastInteraction", profile: "US-IL"),
        Case(name: "US-IL after a touch", policy: long, place: "US-IL", touchedAt: "2027-03-04T05:06:07Z",
             until: "2030-03-04T05:06:07Z", rule: "retention.maxSinceLastInteraction", profile: "US-IL"),
        Case(name: "US-TX 1 year", policy: long, place: "US-TX", until: "2027-01-01T00:00:00Z",
             rule: "retention.maxSinceLastInteraction", profile: "US-TX"),
        Case(name: "US-CO 24 months", policy: long, place: "US-CO", until: "2028-01-01T00:00:00Z",
             rule: "retention.maxSinceLastInteraction", profile: "US-CO"),
        Case(name: "US-CO not before it takes effect", policy: long, place: "US-CO", enrolledAt: "2023-01-01T00:00:00Z",
             until: "2025-07-01T00:00:00Z", rule: "retention.maxSinceLastInteraction", profile: "US-CO"),
        Case(name: "US-CA keeps the policy's value", policy: long, place: "US-CA", until: "2031-01-01T00:00:00Z",
             rule: "retention.maxSinceEnrollment"),
        Case(name: "EU keeps the policy's value", policy: long, place: "FR", until: "2031-01-01T00:00:00Z",
             rule: "retention.maxSinceEnrollment"),
        Case(name: "policy shorter than a profile", policy: #""retention":{"maxSinceLastInteraction":"P6M"}"#, place: "US-IL",
             until: "2026-07-01T00:00:00Z", rule: "retention.maxSinceLastInteraction"),
        Case(name: "file tightens US-IL",
             policy: long + #","jurisdictions":{"US-IL":{"retention":{"maxSinceLastInteraction":"P1Y"}}}"#, place: "US-IL",
             until: "2027-01-01T00:00:00Z", rule: "retention.maxSinceLastInteraction", profile: "US-IL"),
        Case(name: "file disables US-TX",
             policy: long + #","jurisdictions":{"US-TX":{"enabled":false}}"#, place: "US-TX",
             until: "2031-01-01T00:00:00Z", rule: "retention.maxSinceEnrollment"),
        Case(name: "file-only profile for JP",
             policy: long + #","jurisdictions":{"JP":{"retention":{"maxSinceEnrollment":"P2Y"}}}"#, place: "JP",
             until: "2028-01-01T00:00:00Z", rule: "retention.maxSinceEnrollment", profile: "JP"),
        Case(name: "month-end enrollment", policy: #""retention":{"maxSinceEnrollment":"P1M"}"#, enrolledAt: "2026-01-31T08:00:00Z",
             until: "2026-02-28T08:00:00Z", rule: "retention.maxSinceEnrollment"),
    ])
    func deadline(_ c: Case) {
        let policy = Fixture.policy(c.policy)
        let r = PolicyEngine.retention(
            enrolledAt: Fixture.ts(c.enrolledAt), lastInteractionAt: c.touchedAt.map(Fixture.ts), jurisdiction: Fixture.place(c.place),
            policy: policy)
        #expect(r.retainUntil.rfc3339 == c.until)
        #expect(r.rule == c.rule)
        #expect(r.profile == c.profile)
    }

    @Test func revocationDeadline() {
        let at = Fixture.ts("2026-05-01T00:00:00Z")
        let d = PolicyEngine.revocationDeadline(revokedAt: at, jurisdiction: Fixture.place("DE"), policy: Fixture.policy())
        #expect(d == RetentionDeadline(retainUntil: at, rule: "retention.deleteAfterRevocation", profile: nil))
        let lax = Fixture.policy(#""retention":{"deleteAfterRevocation":"P90D"}"#)
        let ca = PolicyEngine.revocationDeadline(revokedAt: at, jurisdiction: Fixture.place("US-CA"), policy: lax)
        #expect(ca.retainUntil.rfc3339 == "2026-06-15T00:00:00Z")
        #expect(ca.profile == "US-CA")
        let eu = PolicyEngine.revocationDeadline(revokedAt: at, jurisdiction: Fixture.place("DE"), policy: lax)
        #expect(eu.retainUntil.rfc3339 == "2026-06-01T00:00:00Z")
        #expect(eu.profile == "EU")
    }

    /// biometric-law.md: Illinois treats withdrawal as the purpose satisfied (destroy promptly),
    /// Texas allows at most a year once the purpose expires, China deletes on withdrawal on its
    /// own initiative. A policy that waits longer is capped there too.
    @Test(arguments: [
        ("US-IL", "P1M", "US-IL"), ("US-TX", "P1Y", "US-TX"), ("CN", "P1M", "CN"), ("US-CA", "P45D", "US-CA"),
        ("DE", "P1M", "EU"), ("US", "P2Y", nil), ("JP", "P2Y", nil),
    ] as [(String, String, String?)])
    func revocationDelayIsCappedWhereTheLawSetsADeadline(place: String, delay: String, profile: String?) {
        let lax = Fixture.policy(#""retention":{"maxSinceEnrollment":"P3Y","deleteAfterRevocation":"P2Y"}"#)
        #expect(PolicyEngine.revocationDelay(jurisdiction: Fixture.place(place), policy: lax).iso8601 == delay)
        let at = Fixture.ts("2026-05-01T00:00:00Z")
        #expect(PolicyEngine.revocationDeadline(revokedAt: at, jurisdiction: Fixture.place(place), policy: lax).profile == profile)
        #expect(PolicyEngine.revocationDelay(jurisdiction: Fixture.place(place), policy: Fixture.policy()) == .zero)
    }

    @Test func consentExpiry() {
        let at = Fixture.ts("2026-01-31T00:00:00Z")
        #expect(PolicyEngine.consentExpiry(recordedAt: at, jurisdiction: Fixture.place("DE"), policy: Fixture.policy()) == nil)
        let p = Fixture.policy(#""consent":{"validFor":"P1Y"},"jurisdictions":{"FR":{"consent":{"validFor":"P1M"}}}"#)
        #expect(PolicyEngine.consentExpiry(recordedAt: at, jurisdiction: Fixture.place("DE"), policy: p)?.rfc3339 == "2027-01-31T00:00:00Z")
        #expect(PolicyEngine.consentExpiry(recordedAt: at, jurisdiction: Fixture.place("FR"), policy: p)?.rfc3339 == "2026-02-28T00:00:00Z")
        let onlyFR = Fixture.policy(#""jurisdictions":{"FR":{"consent":{"validFor":"P6M"}}}"#)
        #expect(PolicyEngine.consentExpiry(recordedAt: at, jurisdiction: Fixture.place("DE"), policy: onlyFR) == nil)
        #expect(PolicyEngine.consentExpiry(recordedAt: at, jurisdiction: Fixture.place("FR"), policy: onlyFR)?.rfc3339 == "2026-07-31T00:00:00Z")
    }
}
