public import FioguardJSON

/// The outcome of a policy decision: every check is reported, `allow` is true only when all passed.
public struct Decision: Sendable {
    public var allow: Bool
    public var decisionId: String
    public var policyVersion: String
    public var reasons: [Reason]

    public init(decisionId: String, policyVersion: String, reasons: [Reason]) {
        self.allow = reasons.allSatisfy(\.passed)
        self.decisionId = decisionId
        self.policyVersion = policyVersion
        self.reasons = reasons
    }

    /// The failed checks only.
    public var failures: [Reason] { reasons.filter { !$0.passed } }

    /// `{"allow","decisionId","policyVersion","reasons":[…]}`.
    public var json: JSON {
        .object(
            JSONObject([
                ("allow", .bool(allow)),
                ("decisionId", .string(decisionId)),
                ("policyVersion", .string(policyVersion)),
                ("reasons", .array(reasons.map(\.json))),
            ]))
    }
}
