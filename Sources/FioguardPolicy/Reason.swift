public import FioguardJSON

/// One check of a decision, passed or failed. `code` is a stable UPPER_SNAKE string (`ReasonCode`),
/// `rule` the policy key path or `profile:CODE` that decided it, `profile` the jurisdiction profile
/// that set the value, if any.
public struct Reason: Sendable, Hashable {
    public var code: String
    public var rule: String
    public var message: String
    public var profile: String?
    public var passed: Bool

    public init(code: String, rule: String, message: String, profile: String? = nil, passed: Bool) {
        self.code = code
        self.rule = rule
        self.message = message
        self.profile = profile
        self.passed = passed
    }

    /// `{"code","rule","message","profile"?,"passed"}`; `profile` only when set.
    public var json: JSON {
        var o = JSONObject()
        o["code"] = .string(code)
        o["rule"] = .string(rule)
        o["message"] = .string(message)
        if let profile { o["profile"] = .string(profile) }
        o["passed"] = .bool(passed)
        return .object(o)
    }
}
