extension PolicyEngine {
    /// The decision behind `consent.record`: purposes, collection method, notice, domain, country,
    /// region and minors rules, each reported.
    public static func decideConsent(_ f: ConsentFacts, policy: Policy, now: Timestamp, decisionId: String) -> Decision {
        let rules = ApplicableRules(policy: policy, jurisdictions: [f.jurisdiction], now: now)
        var reasons: [Reason] = []

        if f.purposes.isEmpty {
            reasons.append(
                Reason(code: ReasonCode.purposesEmpty, rule: "purposes", message: "no purpose given: consent must name its purposes", passed: false))
        } else {
            let outside = f.purposes.filter { !policy.purposes.contains($0) }
            reasons.append(
                outside.isEmpty
                    ? Reason(
                        code: ReasonCode.purposesAllowed, rule: "purposes",
                        message: "purposes \(f.purposes.joined(separator: ", ")) are all among the policy's purposes", passed: true)
                    : Reason(
                        code: ReasonCode.purposeNotAllowed, rule: "purposes",
                        message: "purposes not in the policy: \(outside.map(quoted).joined(separator: ", "))", passed: false))
        }

        reasons.append(methodReason(f.collectionMethod, rules: rules))

        let notice = f.noticeVersion.trimmingWhitespace
        reasons.append(
            notice.isEmpty
                ? Reason(
                    code: ReasonCode.noticeVersionMissing, rule: FixedRule.noticeShown,
                    message: "the version of the notice shown before consent is required", passed: false)
                : Reason(
                    code: ReasonCode.noticeVersionPresent, rule: FixedRule.noticeShown,
                    message: "notice version \(quoted(notice)) recorded", passed: true))

        reasons.append(domainReason(f.domain, policy: policy))
        reasons += countryReasons(f.jurisdiction, policy: policy)

        var guardianProblem: String?
        var guardianPresent = false
        if let g = f.guardian {
            if g.relationship.trimmingWhitespace.isEmpty || g.verificationMethod.trimmingWhitespace.isEmpty {
                guardianProblem = "guardian.relationship and guardian.verificationMethod must both be given"
            } else {
                guardianPresent = true
            }
        }
        reasons += minorReasons(
            age: f.age, birthDate: f.birthDate, guardianPresent: guardianPresent, guardianProblem: guardianProblem,
            rules: rules, now: now)

        return Decision(decisionId: decisionId, policyVersion: policy.version, reasons: reasons)
    }
}
