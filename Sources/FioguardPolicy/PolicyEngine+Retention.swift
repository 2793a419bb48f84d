extension PolicyEngine {
    /// When a Facial ID must be deleted: the earliest of `maxSinceEnrollment` from `enrolledAt` and
    /// `maxSinceLastInteraction` from `lastInteractionAt ?? enrolledAt`, over the policy's own values
    /// and every profile of `jurisdiction`. A profile's deadline is never before the day it took
    /// effect. `rule` is always the policy key (`retention.maxSinceEnrollment` or
    /// `retention.maxSinceLastInteraction`, the former on a tie); `profile` says which profile set
    /// the winning value (`nil`: the policy's own, which also wins ties).
    public static func retention(
        enrolledAt: Timestamp, lastInteractionAt: Timestamp?, jurisdiction: Jurisdiction, policy: Policy
    ) -> RetentionDeadline {
        let rules = ApplicableRules(policy: policy, jurisdictions: [jurisdiction], now: nil)
        // A touch dated before enrollment (clock skew) must not shorten retention below enrollment.
        let last = max(lastInteractionAt ?? enrolledAt, enrolledAt)
        let enrollment = ApplicableRules.earliest(rules.maxSinceEnrollment.map { ($0, enrolledAt) })!
        let interaction = ApplicableRules.earliest(rules.maxSinceLastInteraction.map { ($0, last) })!
        // The policy always sets both keys, so both exist; a tie names maxSinceEnrollment.
        if interaction.deadline < enrollment.deadline {
            return RetentionDeadline(
                retainUntil: interaction.deadline, rule: "retention.maxSinceLastInteraction", profile: interaction.source.profile)
        }
        return RetentionDeadline(retainUntil: enrollment.deadline, rule: "retention.maxSinceEnrollment", profile: enrollment.source.profile)
    }

    /// By when a Facial ID must be deleted after consent is revoked (`retention.deleteAfterRevocation`,
    /// tightened by profiles; the policy default `PT0S` means at once).
    public static func revocationDeadline(revokedAt: Timestamp, jurisdiction: Jurisdiction, policy: Policy) -> RetentionDeadline {
        let rules = ApplicableRules(policy: policy, jurisdictions: [jurisdiction], now: nil)
        let best = ApplicableRules.earliest(rules.deleteAfterRevocation.map { ($0, revokedAt) })!
        return RetentionDeadline(retainUntil: best.deadline, rule: "retention.deleteAfterRevocation", profile: best.source.profile)
    }

    /// How long a Facial ID may be kept once consent is revoked: the shortest of
    /// `retention.deleteAfterRevocation` and the profiles' caps (`.zero`: at once). Counts every
    /// profile, in force or not, as `revocationDeadline` does.
    public static func revocationDelay(jurisdiction: Jurisdiction, policy: Policy) -> ISODuration {
        let rules = ApplicableRules(policy: policy, jurisdictions: [jurisdiction], now: nil)
        return ApplicableRules.shortest(rules.deleteAfterRevocation)!.value
    }

    /// When a consent lapses: `consent.validFor` (and any profile's `consent.validFor`) after
    /// `recordedAt`, earliest wins; `nil` when nothing sets a validity (no expiry).
    public static func consentExpiry(recordedAt: Timestamp, jurisdiction: Jurisdiction, policy: Policy) -> Timestamp? {
        let rules = ApplicableRules(policy: policy, jurisdictions: [jurisdiction], now: nil)
        return ApplicableRules.earliest(rules.validFor.map { ($0, recordedAt) })?.deadline
    }

    /// The age of consent and the profile that set it (`nil`: the policy's `minors.defaultAgeOfConsent`).
    /// Without a date every profile counts, including ones not yet in force (a forward-looking view);
    /// use `ageOfConsent(_:policy:at:)` for the rule in force at an instant.
    public static func ageOfConsent(_ j: Jurisdiction, policy: Policy) -> (age: Int, profile: String?) {
        let a = ApplicableRules(policy: policy, jurisdictions: [j], now: nil).ageOfConsent
        return (a.value, a.profile)
    }

    /// The age of consent in force at `now`, and the profile that set it.
    public static func ageOfConsent(_ j: Jurisdiction, policy: Policy, at now: Timestamp) -> (age: Int, profile: String?) {
        let a = ApplicableRules(policy: policy, jurisdictions: [j], now: now).ageOfConsent
        return (a.value, a.profile)
    }

    /// The guardian rule below the age of consent (`required` or `forbidden`) and the profile that set it.
    public static func guardianRule(_ j: Jurisdiction, policy: Policy, at now: Timestamp? = nil) -> (rule: GuardianRule, profile: String?) {
        let g = ApplicableRules(policy: policy, jurisdictions: [j], now: now).guardian
        return (g.value, g.profile)
    }

    /// The jurisdiction profiles that apply at `now` (`nil`: regardless of effective date).
    public static func applicableProfiles(_ j: Jurisdiction, policy: Policy, at now: Timestamp? = nil) -> [JurisdictionProfile] {
        ApplicableRules(policy: policy, jurisdictions: [j], now: now).profiles
    }
}
