public import FioguardJSON

/// One check of a decision, passed or failed. `code` is a stable UPPER_SNAKE string (`ReasonCode`),
/// `rule` the policy key path or `profile:CODE` that decided it, `profile` the jurisdiction profile
/// that set the value, if any.
public struct Reason: Sendable, Hashable {
    public var code: String
    public var rule: String
    public var profile: String?
    public var passed: Bool
    /// The message's text is made when read: most decisions allow, and their reasons' words are
    /// then read by nobody (`consent.record` keeps only the decision's id), while formatting
    /// them cost about 15,000 instructions per decision.
    private var text: @Sendable () -> String

    public var message: String {
        get { text() }
        set { text = { newValue } }
    }

    public init(
        code: String, rule: String, message: @autoclosure @escaping @Sendable () -> String, profile: String? = nil, passed: Bool
    ) {
        self.code = code
        self.rule = rule
        self.text = message
        self.profile = profile
        self.passed = passed
    }

    public static func == (a: Reason, b: Reason) -> Bool {
        a.code == b.code && a.rule == b.rule && a.profile == b.profile && a.passed == b.passed && a.message == b.message
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(rule)
        hasher.combine(profile)
        hasher.combine(passed)
        hasher.combine(message)
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
