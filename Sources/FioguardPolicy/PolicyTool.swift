import FioguardJSON

/// Backs `fioguard policy check FILE` and `fioguard policy explain FILE --input FACTS.json`.
/// Pure: bytes in, exit status and text out; the CLI does the file reading and printing.
public enum PolicyTool {
    /// Exit statuses.
    public static let exitAllow: Int32 = 0
    public static let exitBadPolicy: Int32 = 1
    public static let exitBadFacts: Int32 = 2
    public static let exitDeny: Int32 = 3

    /// 0 and `policy is valid` plus the version when valid; 1 and one `path: message` line per problem.
    public static func check(policyBytes: [UInt8]) -> (exitCode: Int32, output: String) {
        let (policy, errors) = Policy.read(bytes: policyBytes)
        if errors.isEmpty {
            return (0, "policy is valid\npolicyVersion: \(policy.version)\n")
        }
        return (exitBadPolicy, errors.map { "\($0)\n" }.joined())
    }

    /// Evaluates one decision. `policyBytes == nil` uses the built-in default policy. Facts:
    /// `{"kind":"consent"|"enrollment","now":RFC3339,"decisionId"?:…, …}` with the API.md parameter
    /// names (see proto-docs/policy.md). Prints the decision JSON; exit 0 allow, 3 deny, 1 bad
    /// policy, 2 bad facts.
    public static func explain(policyBytes: [UInt8]?, factsBytes: [UInt8]) -> (exitCode: Int32, output: String) {
        var policy = Policy.builtInDefault
        if let policyBytes {
            let (p, errors) = Policy.read(bytes: policyBytes)
            if !errors.isEmpty { return (exitBadPolicy, errors.map { "\($0)\n" }.joined()) }
            policy = p
        }
        let facts: JSON
        do {
            facts = try JSON.parse(factsBytes)
        } catch {
            return (exitBadFacts, "facts: not valid JSON: \(error.message)\n")
        }
        let decision: Decision
        do {
            decision = try decide(facts, policy: policy)
        } catch {
            return (exitBadFacts, "\(error)\n")
        }
        return (decision.allow ? exitAllow : exitDeny, decision.json.encodedString() + "\n")
    }

    static func decide(_ facts: JSON, policy: Policy) throws(JSONDecodingError) -> Decision {
        let r = try ObjectReader(facts, path: "facts")
        let kind = try r.choice("kind", ["consent", "enrollment"])
        let nowText = try r.string("now", maxLength: 64)
        guard let now = Timestamp(rfc3339: nowText) else { throw r.fail("now", "not an RFC 3339 timestamp") }
        let decisionId = try r.optionalText("decisionId") ?? "explain"
        _ = try r.optionalText("subject")
        let domain = try r.string("domain", maxLength: 1024)
        let jurisdiction = try readJurisdiction(r)
        switch kind {
        case "consent":
            _ = try r.optionalText("locale", maxLength: 64)
            _ = try r.optionalText("idempotencyKey")
            let purposes = try r.optionalStringArray("purposes") ?? []
            guard r.has("purposes") else { throw r.fail("purposes", "is required") }
            let method = try r.string("collectionMethod", maxLength: 64)
            let notice = try r.string("noticeVersion")
            let (age, birth) = try readAge(r)
            var guardian: GuardianFacts?
            if let g = try r.optionalObject("guardian") {
                guardian = GuardianFacts(
                    relationship: try g.string("relationship"), verificationMethod: try g.string("verificationMethod"),
                    reference: try g.optionalText("reference"))
                try g.finish()
            }
            try r.finish()
            let f = ConsentFacts(
                purposes: purposes, collectionMethod: method, noticeVersion: notice, domain: domain,
                jurisdiction: jurisdiction, age: age, birthDate: birth, guardian: guardian)
            return PolicyEngine.decideConsent(f, policy: policy, now: now, decisionId: decisionId)
        default:
            let trigger = try r.string("trigger", maxLength: 64)
            let count = try r.optionalInt("activeFacialIdCount", range: 0...1_000_000) ?? 0
            var consent: ActiveConsent?
            if let c = try r.optionalObject("consent") {
                let recordedText = try c.string("recordedAt", maxLength: 64)
                guard let recordedAt = Timestamp(rfc3339: recordedText) else {
                    throw c.fail("recordedAt", "not an RFC 3339 timestamp")
                }
                let purposes = try c.optionalStringArray("purposes") ?? []
                guard c.has("purposes") else { throw c.fail("purposes", "is required") }
                let method = try c.string("collectionMethod", maxLength: 64)
                let consentPlace = c.has("country") ? try readJurisdiction(c) : jurisdiction
                let (age, birth) = try readAge(c)
                let guardian = try c.optionalBool("hasGuardianConsent") ?? false
                try c.finish()
                consent = ActiveConsent(
                    purposes: purposes, collectionMethod: method, recordedAt: recordedAt, jurisdiction: consentPlace,
                    age: age, birthDate: birth, hasGuardianConsent: guardian)
            }
            try r.finish()
            let f = EnrollmentFacts(
                domain: domain, jurisdiction: jurisdiction, trigger: trigger, consent: consent, activeFacialIdCount: Int(count))
            return PolicyEngine.decideEnrollment(f, policy: policy, now: now, decisionId: decisionId)
        }
    }

    private static func readJurisdiction(_ r: ObjectReader) throws(JSONDecodingError) -> Jurisdiction {
        Jurisdiction(country: try r.string("country", maxLength: 16), region: try r.optionalString("region", maxLength: 16))
    }

    private static func readAge(_ r: ObjectReader) throws(JSONDecodingError) -> (Int?, CivilDate?) {
        let age = try r.optionalInt("age", range: -1000...1000).map { Int($0) }
        var birth: CivilDate?
        if let b = try r.optionalString("birthDate", maxLength: 16) {
            guard let d = CivilDate(iso: b) else { throw r.fail("birthDate", "not a date YYYY-MM-DD") }
            birth = d
        }
        return (age, birth)
    }
}
