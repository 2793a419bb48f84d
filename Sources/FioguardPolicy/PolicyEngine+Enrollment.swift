extension PolicyEngine {
    /// The decision behind `enroll.authorize`. Consent-related rules use the profiles of both the
    /// request's jurisdiction and the one the consent was recorded in (strictest wins).
    public static func decideEnrollment(_ f: EnrollmentFacts, policy: Policy, now: Timestamp, decisionId: String) -> Decision {
        var reasons: [Reason] = []

        reasons.append(
            f.trigger == "user_action"
                ? Reason(
                    code: ReasonCode.triggerUserAction, rule: FixedRule.userAction,
                    message: "enrollment was started by the user", passed: true)
                : Reason(
                    code: ReasonCode.triggerNotUserAction, rule: FixedRule.userAction,
                    message: "trigger \(quoted(f.trigger)) is not user_action: no auto-enrollment", passed: false))

        reasons.append(domainReason(f.domain, policy: policy))
        reasons += countryReasons(f.jurisdiction, policy: policy)

        if let c = f.consent {
            var places = [f.jurisdiction]
            if c.jurisdiction != f.jurisdiction { places.append(c.jurisdiction) }
            let rules = ApplicableRules(policy: policy, jurisdictions: places, now: now)
            reasons.append(
                Reason(
                    code: ReasonCode.consentPresent, rule: FixedRule.consentRequired,
                    message: "active consent recorded at \(c.recordedAt.rfc3339)", passed: true))

            reasons.append(
                c.purposes.contains("authentication")
                    ? Reason(
                        code: ReasonCode.purposeConsented, rule: "purposes",
                        message: "the consent covers the purpose \"authentication\"", passed: true)
                    : Reason(
                        code: ReasonCode.purposeNotConsented, rule: "purposes",
                        message: "the consent does not cover the purpose \"authentication\"", passed: false))

            let outside = c.purposes.filter { !policy.purposes.contains($0) }
            reasons.append(
                outside.isEmpty
                    ? Reason(
                        code: ReasonCode.purposesAllowed, rule: "purposes",
                        message: "the consented purposes are all among the policy's purposes", passed: true)
                    : Reason(
                        code: ReasonCode.purposeNotAllowed, rule: "purposes",
                        message: "consented purposes not in the policy: \(outside.map(quoted).joined(separator: ", "))",
                        passed: false))

            if let (deadline, src) = ApplicableRules.earliest(rules.maxAgeBeforeEnrollment.map { ($0, c.recordedAt) }).map({ ($0.deadline, $0.source) }) {
                reasons.append(
                    now <= deadline
                        ? Reason(
                            code: ReasonCode.consentFresh, rule: src.rule,
                            message: "consent is within \(src.value.iso8601) of enrollment (until \(deadline.rfc3339))",
                            profile: src.profile, passed: true)
                        : Reason(
                            code: ReasonCode.consentStale, rule: src.rule,
                            message: "consent is older than \(src.value.iso8601) (fresh until \(deadline.rfc3339)): ask again right before enrolling",
                            profile: src.profile, passed: false))
            }

            if let (expiry, src) = ApplicableRules.earliest(rules.validFor.map { ($0, c.recordedAt) }).map({ ($0.deadline, $0.source) }) {
                reasons.append(
                    now < expiry
                        ? Reason(
                            code: ReasonCode.consentNotExpired, rule: src.rule,
                            message: "consent is valid until \(expiry.rfc3339)", profile: src.profile, passed: true)
                        : Reason(
                            code: ReasonCode.consentExpired, rule: src.rule,
                            message: "consent lapsed at \(expiry.rfc3339) (valid for \(src.value.iso8601))", profile: src.profile,
                            passed: false))
            } else {
                reasons.append(
                    Reason(
                        code: ReasonCode.consentNotExpired, rule: "consent.validFor",
                        message: "consent does not lapse by time (consent.validFor is not set)", passed: true))
            }

            reasons.append(methodReason(c.collectionMethod, rules: rules))
            reasons += minorReasons(
                age: c.age, birthDate: c.birthDate, guardianPresent: c.hasGuardianConsent,
                guardianProblem: nil, rules: rules, now: now)
        } else {
            reasons.append(
                Reason(
                    code: ReasonCode.consentMissing, rule: FixedRule.consentRequired,
                    message: "no active consent for the subject: record consent (consent.record) first", passed: false))
        }

        if f.activeFacialIdCount <= 0 {
            reasons.append(
                Reason(
                    code: ReasonCode.notEnrolled, rule: "enrollment.allowReenrollment",
                    message: "the subject has no active Facial ID", passed: true))
        } else if policy.allowReenrollment {
            reasons.append(
                Reason(
                    code: ReasonCode.reenrollmentAllowed, rule: "enrollment.allowReenrollment",
                    message: "the subject already has \(f.activeFacialIdCount) active Facial ID(s); re-enrollment is allowed",
                    passed: true))
        } else {
            reasons.append(
                Reason(
                    code: ReasonCode.alreadyEnrolled, rule: "enrollment.allowReenrollment",
                    message: "the subject already has \(f.activeFacialIdCount) active Facial ID(s); delete it before enrolling again",
                    passed: false))
        }

        return Decision(decisionId: decisionId, policyVersion: policy.version, reasons: reasons)
    }
}
