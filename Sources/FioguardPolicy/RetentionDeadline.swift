/// When a Facial ID must be gone, and which rule (and profile, if any) set that instant.
public struct RetentionDeadline: Sendable, Hashable {
    public var retainUntil: Timestamp
    /// The policy key path of the winning rule, e.g. `retention.maxSinceLastInteraction`.
    public var rule: String
    /// The jurisdiction profile that set the value (`US-IL`), or `nil` for the policy's own value.
    public var profile: String?

    public init(retainUntil: Timestamp, rule: String, profile: String?) {
        self.retainUntil = retainUntil
        self.rule = rule
        self.profile = profile
    }
}
