import Synchronization

/// The policy's values for one user after the jurisdiction profiles that apply have been folded in,
/// strictest value per axis, each with the rule and profile that set it. Internal to the engine.
struct ApplicableRules: Sendable {
    /// A value and where it came from.
    struct Sourced<T: Sendable>: Sendable {
        var value: T
        var rule: String
        var profile: String?
        /// For profile durations: deadlines computed from it are never earlier than this instant
        /// (a law does not reach back before it takes effect).
        var notBefore: Timestamp? = nil
    }

    var profiles: [JurisdictionProfile]
    var ageOfConsent: Sourced<Int>
    var guardian: Sourced<GuardianRule>
    var requireAgeEvidence: Sourced<Bool>
    /// The policy's methods first, then each profile that restricts them; the effective set is the
    /// intersection.
    var methods: [Sourced<[String]>]
    var maxAgeBeforeEnrollment: [Sourced<ISODuration>]
    var validFor: [Sourced<ISODuration>]
    var maxSinceEnrollment: [Sourced<ISODuration>]
    var maxSinceLastInteraction: [Sourced<ISODuration>]
    var deleteAfterRevocation: [Sourced<ISODuration>]

    /// Profiles that apply to any of `jurisdictions` (the union, de-duplicated) and are in force at
    /// `now` (`nil`: regardless of date). The rules depend on nothing but the policy and which of
    /// its profiles apply, so each policy keeps them per set of profiles (`RulesMemo`).
    init(policy: Policy, jurisdictions: [Jurisdiction], now: Timestamp?) {
        let positions = policy.profilePositions(for: jurisdictions, inForceAt: now)
        self = policy.rulesMemo.rules(for: positions) {
            ApplicableRules(policy: policy, applicable: positions.map { policy.profiles[$0] })
        }
    }

    private init(policy: Policy, applicable: [JurisdictionProfile]) {
        profiles = applicable

        var age = Sourced(value: policy.defaultAgeOfConsent, rule: "minors.defaultAgeOfConsent", profile: nil)
        var fromProfile = false
        for p in applicable {
            guard let a = p.ageOfConsent else { continue }
            if !fromProfile || a > age.value {
                age = Sourced(value: a, rule: p.rule("minors.ageOfConsent"), profile: p.code)
                fromProfile = true
            }
        }
        ageOfConsent = age

        var g = Sourced(value: policy.guardianConsent, rule: "minors.guardianConsent", profile: nil)
        for p in applicable {
            if let r = p.guardianConsent, r.strictness > g.value.strictness {
                g = Sourced(value: r, rule: p.rule("minors.guardianConsent"), profile: p.code)
            }
        }
        guardian = g

        var evidence = Sourced(value: policy.requireAgeEvidence, rule: "minors.requireAgeEvidence", profile: nil)
        if !evidence.value, let p = applicable.first(where: { $0.requireAgeEvidence == true }) {
            evidence = Sourced(value: true, rule: p.rule("minors.requireAgeEvidence"), profile: p.code)
        }
        requireAgeEvidence = evidence

        methods = [Sourced(value: policy.affirmativeMethods, rule: "consent.affirmativeMethods", profile: nil)]
            + applicable.compactMap { p in
                p.affirmativeMethods.map { Sourced(value: $0, rule: p.rule("consent.affirmativeMethods"), profile: p.code) }
            }
        effectiveMethods = methods.dropFirst().reduce(Set(methods[0].value)) { $0.intersection($1.value) }.sorted()

        func durations(
            _ own: ISODuration?, _ ownRule: String, _ key: String, _ path: KeyPath<JurisdictionProfile, ISODuration?>
        ) -> [Sourced<ISODuration>] {
            var out: [Sourced<ISODuration>] = []
            if let own { out.append(Sourced(value: own, rule: ownRule, profile: nil)) }
            for p in applicable {
                if let d = p[keyPath: path] {
                    out.append(Sourced(value: d, rule: p.rule(key), profile: p.code, notBefore: p.effectiveFrom?.startOfDay))
                }
            }
            return out
        }
        maxAgeBeforeEnrollment = durations(
            policy.maxAgeBeforeEnrollment, "consent.maxAgeBeforeEnrollment", "consent.maxAgeBeforeEnrollment",
            \.maxAgeBeforeEnrollment)
        validFor = durations(policy.consentValidFor, "consent.validFor", "consent.validFor", \.consentValidFor)
        maxSinceEnrollment = durations(
            policy.maxSinceEnrollment, "retention.maxSinceEnrollment", "retention.maxSinceEnrollment", \.maxSinceEnrollment)
        maxSinceLastInteraction = durations(
            policy.maxSinceLastInteraction, "retention.maxSinceLastInteraction", "retention.maxSinceLastInteraction",
            \.maxSinceLastInteraction)
        deleteAfterRevocation = durations(
            policy.deleteAfterRevocation, "retention.deleteAfterRevocation", "retention.deleteAfterRevocation",
            \.deleteAfterRevocation)
    }

    /// The intersection of every source's methods, sorted (computed once with the rules).
    private(set) var effectiveMethods: [String] = []

    /// The source that decides `method`: the first that excludes it, or, when all include it, the
    /// narrowest one (the policy's own on a tie).
    func methodRule(for method: String) -> Sourced<[String]> {
        if let excluding = methods.first(where: { !$0.value.contains(method) }) { return excluding }
        return methods.dropFirst().reduce(methods[0]) { $1.value.count < $0.value.count ? $1 : $0 }
    }

    /// The earliest deadline among `candidates`, each measured from `base` (the first wins a tie).
    static func earliest(
        _ candidates: [(Sourced<ISODuration>, Timestamp)]
    ) -> (deadline: Timestamp, source: Sourced<ISODuration>)? {
        var best: (Timestamp, Sourced<ISODuration>)?
        for (s, base) in candidates {
            var t = base.adding(s.value)
            if let nb = s.notBefore, t < nb { t = nb }
            if best == nil || t < best!.0 { best = (t, s) }
        }
        return best
    }

    /// The strictest duration for display (shortest nominal length).
    static func shortest(_ candidates: [Sourced<ISODuration>]) -> Sourced<ISODuration>? {
        var best: Sourced<ISODuration>?
        for c in candidates where best == nil || c.value.nominalSeconds < best!.value.nominalSeconds { best = c }
        return best
    }
}

/// A policy's `ApplicableRules` per set of applicable profiles (their positions in
/// `Policy.profiles`). Every decision needs them, few distinct sets ever occur, and building them
/// (rule names, duration lists) was more than half of the engine's time in `consent.record`. Made
/// afresh by `Policy.seal()`, after which a policy's values no longer change.
final class RulesMemo: Sendable {
    private let entries = Mutex<[[Int]: ApplicableRules]>([:])
    /// The profiles that apply to a jurisdiction, regardless of date (`Policy.profilePositions`).
    private let applying = Mutex<[Jurisdiction: [Int]]>([:])
    /// More distinct sets (or jurisdictions) than any real policy has (or a country has regions);
    /// past it the memo starts over, so callers naming random regions cannot make it grow.
    static let capacity = 1024

    func positions(for jurisdiction: Jurisdiction, find: () -> [Int]) -> [Int] {
        Self.value(in: applying, for: jurisdiction, make: find)
    }

    func rules(for positions: [Int], build: () -> ApplicableRules) -> ApplicableRules {
        Self.value(in: entries, for: positions, make: build)
    }

    /// The value kept for `key`, or `make()`'s, then kept (starting over past `capacity`).
    private static func value<Key: Hashable & Sendable, Value: Sendable>(
        in memo: borrowing Mutex<[Key: Value]>, for key: Key, make: () -> Value
    ) -> Value {
        if let hit = memo.withLock({ $0[key] }) { return hit }
        let value = make()
        memo.withLock { m in
            if m.count >= capacity { m.removeAll() }
            m[key] = value
        }
        return value
    }
}
