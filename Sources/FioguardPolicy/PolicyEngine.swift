/// The pure policy engine: `(facts, policy, now) -> Decision`. No I/O, no clock, no randomness —
/// the caller passes `now` and the decision id.
public enum PolicyEngine {
    /// Rules no policy can switch off, named after the duty in `reference/duties.md` they carry.
    public enum FixedRule {
        /// No auto-enrollment: only `trigger: user_action` can be allowed.
        public static let userAction = "duty:D7"
        /// Never enroll without affirmative consent on record.
        public static let consentRequired = "duty:D8"
        /// Consent records the notice version shown.
        public static let noticeShown = "duty:D9"
    }

    // MARK: checks shared by consent and enrollment decisions

    static func domainReason(_ domain: String, policy: Policy) -> Reason {
        if policy.domains.isEmpty {
            return Reason(
                code: ReasonCode.domainNotAllowed, rule: "domains",
                message: "no domain is allowed: the policy's domains list is empty (deny all)", passed: false)
        }
        if let hit = policy.domains.first(where: { $0.matches(domain) }) {
            return Reason(
                code: ReasonCode.domainAllowed, rule: "domains",
                message: "domain \(quoted(domain)) matches \(quoted(hit.text))", passed: true)
        }
        return Reason(
            code: ReasonCode.domainNotAllowed, rule: "domains",
            message: "domain \(quoted(domain)) is not in the policy's domains", passed: false)
    }

    static func countryReasons(_ j: Jurisdiction, policy: Policy) -> [Reason] {
        var out: [Reason] = []
        let c = j.country
        if !Jurisdiction.isCountryCode(c) {
            out.append(
                Reason(
                    code: ReasonCode.countryInvalid, rule: "countries",
                    message: "country \(quoted(c)) is not an ISO 3166-1 alpha-2 code (two upper-case letters)", passed: false))
        } else if policy.deniedCountries.contains(c) {
            out.append(
                Reason(code: ReasonCode.countryDenied, rule: "countries.deny", message: "country \(c) is denied", passed: false))
        } else if let allow = policy.allowedCountries, !allow.contains(c) {
            out.append(
                Reason(
                    code: ReasonCode.countryNotAllowed, rule: "countries.allow",
                    message: "country \(c) is not in the allowed countries", passed: false))
        } else {
            out.append(
                Reason(
                    code: ReasonCode.countryAllowed, rule: policy.allowedCountries == nil ? "countries.deny" : "countries.allow",
                    message: policy.allowedCountries == nil
                        ? "country \(c) is not denied (no allow list: all countries but the denied ones)"
                        : "country \(c) is allowed",
                    passed: true))
        }
        if let r = j.region {
            if Jurisdiction.isRegionCode(r) && r.hasPrefix(c + "-") {
                out.append(Reason(code: ReasonCode.regionValid, rule: "countries", message: "region \(r) is in \(c)", passed: true))
            } else {
                out.append(
                    Reason(
                        code: ReasonCode.regionInvalid, rule: "countries",
                        message: "region \(quoted(r)) is not an ISO 3166-2 code of country \(quoted(c)) (like US-IL)",
                        passed: false))
            }
        }
        return out
    }

    /// The age used for minors rules: the lower of a stated age and the age from a birth date, so
    /// contradictory facts never make someone older. `nil` when neither is known.
    static func effectiveAge(age: Int?, birthDate: CivilDate?, now: Timestamp) -> Int? {
        let candidates = [age, birthDate?.age(at: now)].compactMap { $0 }
        return candidates.min()
    }

    /// Age evidence, age of consent and the guardian rule, as one or two reasons.
    static func minorReasons(
        age statedAge: Int?, birthDate: CivilDate?, guardianPresent: Bool, guardianProblem: String?,
        rules: ApplicableRules, now: Timestamp
    ) -> [Reason] {
        let aoc = rules.ageOfConsent
        let aocText = aoc.profile.map { "\(aoc.value) (profile \($0))" } ?? "\(aoc.value) (policy default)"
        if let a = statedAge, a < 0 || a > 150 {
            return [Reason(code: ReasonCode.ageInvalid, rule: "minors", message: "age \(a) is not a plausible age", passed: false)]
        }
        if let b = birthDate, b.age(at: now) < 0 {
            return [
                Reason(code: ReasonCode.ageInvalid, rule: "minors", message: "birth date \(b.iso) is in the future", passed: false)
            ]
        }
        guard let age = effectiveAge(age: statedAge, birthDate: birthDate, now: now) else {
            let ev = rules.requireAgeEvidence
            if ev.value {
                return [
                    Reason(
                        code: ReasonCode.ageUnknown, rule: ev.rule,
                        message: "neither age nor birth date given, and the policy requires age evidence", profile: ev.profile,
                        passed: false)
                ]
            }
            return [
                Reason(
                    code: ReasonCode.ageNotRequired, rule: ev.rule,
                    message: "no age or birth date given; age evidence is not required, so the user is treated as not a minor",
                    profile: ev.profile, passed: true)
            ]
        }
        if age >= aoc.value {
            return [
                Reason(
                    code: ReasonCode.ageOfConsentMet, rule: aoc.rule,
                    message: "age \(age) meets the age of consent \(aocText)", profile: aoc.profile, passed: true)
            ]
        }
        let g = rules.guardian
        if g.value == .forbidden {
            return [
                Reason(
                    code: ReasonCode.minorNotPermitted, rule: g.rule,
                    message: "age \(age) is below the age of consent \(aocText), and minors may not use face login (guardianConsent: forbidden)",
                    profile: g.profile, passed: false)
            ]
        }
        if guardianPresent {
            return [
                Reason(
                    code: ReasonCode.guardianConsentPresent, rule: aoc.rule,
                    message: "age \(age) is below the age of consent \(aocText); a guardian consented", profile: aoc.profile,
                    passed: true)
            ]
        }
        return [
            Reason(
                code: ReasonCode.guardianConsentRequired, rule: aoc.rule,
                message: "age \(age) is below the age of consent \(aocText): guardian consent is required"
                    + (guardianProblem.map { " (\($0))" } ?? ""),
                profile: aoc.profile, passed: false)
        ]
    }

    static func methodReason(_ method: String, rules: ApplicableRules) -> Reason {
        let src = rules.methodRule(for: method)
        let allowed = rules.effectiveMethods
        if allowed.contains(method) {
            return Reason(
                code: ReasonCode.collectionMethodAffirmative, rule: src.rule,
                message: "collection method \(quoted(method)) is affirmative here (allowed: \(allowed.joined(separator: ", ")))",
                profile: src.profile, passed: true)
        }
        return Reason(
            code: ReasonCode.collectionMethodNotAffirmative, rule: src.rule,
            message: "collection method \(quoted(method)) is not accepted here (allowed: "
                + (allowed.isEmpty ? "none" : allowed.joined(separator: ", ")) + ")",
            profile: src.profile, passed: false)
    }

    static func quoted(_ s: String) -> String {
        // Common case first: short printable ASCII needs no clipping and no character lookups.
        if s.utf8.count <= 80, s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return "\"" + s + "\"" }
        let clipped = s.unicodeScalars.count > 80 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(80))) + "…" : s
        return "\"" + String(String.UnicodeScalarView(clipped.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "?" : $0
        })) + "\""
    }
}
