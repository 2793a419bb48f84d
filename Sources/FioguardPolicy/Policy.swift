public import FioguardJSON
import Crypto

/// A validated policy file (or the built-in default): what the daemon enforces. Loaded once, then
/// shared read-only; `version` is stamped on every decision and receipt.
public struct Policy: Sendable {
    /// `"sha256:" + hex` of SHA-256 over the compact encoding of `canonicalJSON`.
    public var version: String
    /// The policy with every default filled in, normalised (sorted keys, sorted de-duplicated
    /// lists, canonical durations); `null` marks an optional key that is not set. It is itself a
    /// valid policy file that loads to the same version.
    public var canonicalJSON: JSON
    public var ticketTTL: ISODuration
    public var sweepInterval: ISODuration
    public var purposes: [String]
    /// `enrollment.deleteUnauthorized`: delete enrollments FACEIO reports without a ticket.
    public var deleteUnauthorizedEnrollments: Bool

    /// `domains`; empty denies every domain.
    public internal(set) var domains: [DomainPattern]
    /// `countries.allow`; `nil` = every country not denied.
    public internal(set) var allowedCountries: [String]?
    public internal(set) var deniedCountries: [String]
    public internal(set) var affirmativeMethods: [String]
    public internal(set) var maxAgeBeforeEnrollment: ISODuration
    /// `consent.validFor`; `nil` = consents do not lapse by time.
    public internal(set) var consentValidFor: ISODuration?
    public internal(set) var allowReenrollment: Bool
    public internal(set) var defaultAgeOfConsent: Int
    public internal(set) var guardianConsent: GuardianRule
    public internal(set) var requireAgeEvidence: Bool
    public internal(set) var maxSinceEnrollment: ISODuration
    public internal(set) var maxSinceLastInteraction: ISODuration
    public internal(set) var deleteAfterRevocation: ISODuration
    public internal(set) var contact: PolicyContact?
    /// How each purpose uses the biometric data, in the site's words (`purposeDescriptions`, D15);
    /// `authentication` has a built-in text when the file gives none.
    public internal(set) var purposeDescriptions: [String: String]
    /// Built-in profiles with the file's `jurisdictions` entries applied, then file-only profiles.
    /// Set only by `seal()`, together with `profilePositions`.
    public private(set) var profiles: [JurisdictionProfile]
    /// Each profile code's positions in `profiles`: finding the profiles of one user is a few
    /// lookups instead of a pass over every profile (each decision needs them).
    private var profilePositions: [String: [Int]]
    /// Rules already folded for a set of profiles; replaced by `seal()`.
    private(set) var rulesMemo = RulesMemo()
    var overrides: [JurisdictionOverride]

    /// The collection methods fioguard recognises as affirmative acts.
    public static let knownCollectionMethods = ["checkbox", "click", "signature"]

    /// The strict defaults of POLICY.md: purpose `authentication` only, no domains (deny all),
    /// every country, 15-minute consent freshness, 10-minute tickets, no re-enrollment, age of
    /// consent 16 where no profile sets one, guardian consent required, 3-year retention.
    public static let builtInDefault: Policy = Policy()

    init() {
        ticketTTL = ISODuration(iso8601: "PT10M")!
        sweepInterval = ISODuration(iso8601: "PT1H")!
        purposes = ["authentication"]
        deleteUnauthorizedEnrollments = true
        domains = []
        allowedCountries = nil
        deniedCountries = []
        affirmativeMethods = Policy.knownCollectionMethods
        maxAgeBeforeEnrollment = ISODuration(iso8601: "PT15M")!
        consentValidFor = nil
        allowReenrollment = false
        defaultAgeOfConsent = 16
        guardianConsent = .required
        requireAgeEvidence = false
        maxSinceEnrollment = ISODuration(iso8601: "P3Y")!
        maxSinceLastInteraction = ISODuration(iso8601: "P3Y")!
        deleteAfterRevocation = .zero
        contact = nil
        purposeDescriptions = [:]
        profiles = JurisdictionProfile.builtIn
        profilePositions = Self.positions(of: profiles)
        overrides = []
        version = ""
        canonicalJSON = .null
        seal()
    }

    /// Normalises lists, merges jurisdiction entries into profiles, and computes the canonical form
    /// and version. Called once after loading.
    mutating func seal() {
        purposes = Array(Set(purposes)).sorted()
        affirmativeMethods = Array(Set(affirmativeMethods)).sorted()
        deniedCountries = Array(Set(deniedCountries)).sorted()
        allowedCountries = allowedCountries.map { Array(Set($0)).sorted() }
        var seen = Set<String>()
        domains = domains.filter { seen.insert($0.text).inserted }.sorted { $0.text < $1.text }
        overrides.sort { $0.code < $1.code }
        var merged: [JurisdictionProfile] = []
        for b in JurisdictionProfile.builtIn {
            if let o = overrides.first(where: { $0.code == b.code }) {
                if let p = o.apply(to: b) { merged.append(p) }
            } else {
                merged.append(b)
            }
        }
        let builtInCodes = Set(JurisdictionProfile.builtIn.map(\.code))
        for o in overrides where !builtInCodes.contains(o.code) {
            if let p = o.apply(to: nil) { merged.append(p) }
        }
        profiles = merged
        profilePositions = Self.positions(of: merged)
        // Rules folded before this point may come from other values.
        rulesMemo = RulesMemo()
        canonicalJSON = Policy.sortedKeys(makeCanonical())
        let digest = SHA256.hash(data: canonicalJSON.encoded())
        version = "sha256:" + digest.map { b in
            let h = String(b, radix: 16)
            return b < 16 ? "0" + h : h
        }.joined()
    }

    private static func positions(of profiles: [JurisdictionProfile]) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for (i, p) in profiles.enumerated() { out[p.code, default: []].append(i) }
        return out
    }

    /// The positions in `profiles` of the profiles that apply to any of `jurisdictions` (see
    /// `JurisdictionProfile.applies`) and are in force at `now` (`nil`: regardless of date), once
    /// each, in policy order.
    func profilePositions(for jurisdictions: [Jurisdiction], inForceAt now: Timestamp?) -> [Int] {
        // Which profiles apply does not depend on the date: one user's (a single jurisdiction, as
        // every decision has) are kept per policy, and only the date is checked per call. A
        // `consent.record` looks them up three times (its decision, expiry and withdrawal delay).
        let applying =
            jurisdictions.count == 1
            ? rulesMemo.positions(for: jurisdictions[0]) { applyingPositions(for: jurisdictions) }
            : applyingPositions(for: jurisdictions)
        guard now != nil else { return applying }
        return applying.filter { profiles[$0].isInForce(at: now) }
    }

    /// `profilePositions` regardless of date.
    private func applyingPositions(for jurisdictions: [Jurisdiction]) -> [Int] {
        var found: [Int] = []
        func add(_ code: String) {
            guard let positions = profilePositions[code] else { return }
            for i in positions where jurisdictions.contains(where: { profiles[i].applies(to: $0) }) { found.append(i) }
        }
        for j in jurisdictions {
            // The only codes `applies(to:)` can accept for `j`.
            add(j.country)
            if let region = j.region { add(region) }
            if JurisdictionProfile.euEEA.contains(j.country) { add("EU") }
        }
        // Policy order, once each (a code can be found through two jurisdictions).
        found.sort()
        var once: [Int] = []
        for i in found where once.last != i { once.append(i) }
        return once
    }

    private func makeCanonical() -> JSON {
        var o = JSONObject([
            ("version", .int(1)),
            ("purposes", .strings(purposes)),
            ("domains", .strings(domains.map(\.text))),
            ("countries", .object(JSONObject([
                ("allow", allowedCountries.map(JSON.strings) ?? .null),
                ("deny", .strings(deniedCountries)),
            ]))),
            ("consent", .object(JSONObject([
                ("affirmativeMethods", .strings(affirmativeMethods)),
                ("maxAgeBeforeEnrollment", .string(maxAgeBeforeEnrollment.iso8601)),
                ("validFor", .string(consentValidFor?.iso8601)),
            ]))),
            ("enrollment", .object(JSONObject([
                ("ticketTTL", .string(ticketTTL.iso8601)),
                ("allowReenrollment", .bool(allowReenrollment)),
                ("deleteUnauthorized", .bool(deleteUnauthorizedEnrollments)),
            ]))),
            ("minors", .object(JSONObject([
                ("defaultAgeOfConsent", .int(defaultAgeOfConsent)),
                ("guardianConsent", .string(guardianConsent.rawValue)),
                ("requireAgeEvidence", .bool(requireAgeEvidence)),
            ]))),
            ("retention", .object(JSONObject([
                ("maxSinceEnrollment", .string(maxSinceEnrollment.iso8601)),
                ("maxSinceLastInteraction", .string(maxSinceLastInteraction.iso8601)),
                ("deleteAfterRevocation", .string(deleteAfterRevocation.iso8601)),
            ]))),
            ("jurisdictions", .object(JSONObject(overrides.map { ($0.code, $0.canonicalJSON) }))),
            ("sweep", .object(JSONObject([("interval", .string(sweepInterval.iso8601))]))),
            ("contact", contact?.json ?? .null),
        ])
        // Only when given, so the version of a policy without descriptions did not change.
        if !purposeDescriptions.isEmpty {
            o["purposeDescriptions"] = .object(JSONObject(purposeDescriptions.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        return .object(o)
    }

    /// Recursively sorts object keys (by UTF-8 bytes) so equal policies encode identically.
    static func sortedKeys(_ v: JSON) -> JSON {
        switch v {
        case .object(let o):
            let pairs = o.members
                .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
                .map { ($0.key, sortedKeys($0.value)) }
            return .object(JSONObject(pairs))
        case .array(let a):
            return .array(a.map(sortedKeys))
        default:
            return v
        }
    }
}
