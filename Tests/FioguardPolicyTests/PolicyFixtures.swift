import FioguardJSON
import FioguardPolicy
import Testing

/// Shared helpers for the policy tests: instants, policies and facts with sensible defaults.
enum Fixture {
    static let now = ts("2026-11-27T04:37:46Z")

    /// The domains every test policy allows.
    static let basePolicyJSON = #"{"version":1,"domains":["shop.example","*.shop.example"]}"#

    static func ts(_ s: String) -> Timestamp {
        guard let t = Timestamp(rfc3339: s) else { fatalError("bad fixture timestamp \(s)") }
        return t
    }

    static func date(_ s: String) -> CivilDate {
        guard let d = CivilDate(iso: s) else { fatalError("bad fixture date \(s)") }
        return d
    }

    static func duration(_ s: String) -> ISODuration {
        guard let d = ISODuration(iso8601: s) else { fatalError("bad fixture duration \(s)") }
        return d
    }

    /// The base policy with `extra` top-level members merged in (a JSON object body without braces).
    static func policy(_ extra: String = "") -> Policy {
        let text = extra.isEmpty
            ? basePolicyJSON
            : #"{"version":1,"domains":["shop.example","*.shop.example"],"# + extra + "}"
        do {
            return try Policy.load(bytes: Array(text.utf8))
        } catch {
            fatalError("fixture policy invalid: \(error)")
        }
    }

    static func place(_ code: String) -> Jurisdiction {
        code.count > 2 ? Jurisdiction(country: String(code.prefix(2)), region: code) : Jurisdiction(country: code, region: nil)
    }

    static func consent(
        purposes: [String] = ["authentication"], method: String = "click", notice: String = "v1",
        domain: String = "shop.example", place: String = "DE", age: Int? = 30, birthDate: CivilDate? = nil,
        guardian: GuardianFacts? = nil
    ) -> ConsentFacts {
        ConsentFacts(
            purposes: purposes, collectionMethod: method, noticeVersion: notice, domain: domain,
            jurisdiction: Fixture.place(place), age: age, birthDate: birthDate, guardian: guardian)
    }

    static func activeConsent(
        purposes: [String] = ["authentication"], method: String = "click", recordedAt: Timestamp = now.adding(seconds: -300),
        place: String = "DE", age: Int? = 30, birthDate: CivilDate? = nil, guardian: Bool = false
    ) -> ActiveConsent {
        ActiveConsent(
            purposes: purposes, collectionMethod: method, recordedAt: recordedAt, jurisdiction: Fixture.place(place),
            age: age, birthDate: birthDate, hasGuardianConsent: guardian)
    }

    static func enrollment(
        domain: String = "shop.example", place: String = "DE", trigger: String = "user_action",
        consent: ActiveConsent? = activeConsent(), count: Int = 0
    ) -> EnrollmentFacts {
        EnrollmentFacts(
            domain: domain, jurisdiction: Fixture.place(place), trigger: trigger, consent: consent, activeFacialIdCount: count)
    }
}

extension Decision {
    var codes: [String] { reasons.map(\.code) }
    func reason(_ code: String) -> Reason? { reasons.first { $0.code == code } }
}
