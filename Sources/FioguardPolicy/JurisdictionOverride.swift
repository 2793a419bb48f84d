import FioguardJSON

/// One entry of the policy file's `jurisdictions` object, as written: every key optional. Applied on
/// top of the built-in profile with the same code, or defining a new profile for that country/region.
struct JurisdictionOverride: Sendable, Hashable {
    var code: String
    var enabled: Bool?
    var effectiveFrom: CivilDate?
    var name: String?
    var citation: String?
    var ageOfConsent: Int?
    var guardianConsent: GuardianRule?
    var requireAgeEvidence: Bool?
    var affirmativeMethods: [String]?
    var maxAgeBeforeEnrollment: ISODuration?
    var validFor: ISODuration?
    var maxSinceEnrollment: ISODuration?
    var maxSinceLastInteraction: ISODuration?
    var deleteAfterRevocation: ISODuration?

    /// The profile this entry yields on top of `base` (the built-in with the same code, if any);
    /// `nil` when the entry disables it.
    func apply(to base: JurisdictionProfile?) -> JurisdictionProfile? {
        if enabled == false { return nil }
        var p =
            base
            ?? JurisdictionProfile(
                code: code, name: name ?? "\(code) (defined by the policy file)",
                citation: citation ?? "site policy", effectiveFrom: nil, isBuiltIn: false)
        var keys = p.keysFromFile
        func set<T>(_ value: T?, _ key: String, _ path: WritableKeyPath<JurisdictionProfile, T?>) {
            guard let value else { return }
            p[keyPath: path] = value
            keys.insert(key)
        }
        if let name { p.name = name }
        if let citation { p.citation = citation }
        if let effectiveFrom { p.effectiveFrom = effectiveFrom }
        set(ageOfConsent, "minors.ageOfConsent", \.ageOfConsent)
        set(guardianConsent, "minors.guardianConsent", \.guardianConsent)
        set(requireAgeEvidence, "minors.requireAgeEvidence", \.requireAgeEvidence)
        set(affirmativeMethods, "consent.affirmativeMethods", \.affirmativeMethods)
        set(maxAgeBeforeEnrollment, "consent.maxAgeBeforeEnrollment", \.maxAgeBeforeEnrollment)
        set(validFor, "consent.validFor", \.consentValidFor)
        set(maxSinceEnrollment, "retention.maxSinceEnrollment", \.maxSinceEnrollment)
        set(maxSinceLastInteraction, "retention.maxSinceLastInteraction", \.maxSinceLastInteraction)
        set(deleteAfterRevocation, "retention.deleteAfterRevocation", \.deleteAfterRevocation)
        p.keysFromFile = keys
        return p
    }

    /// The entry's canonical form: only the keys the file set, sorted, values normalised.
    var canonicalJSON: JSON {
        var o = JSONObject()
        if let enabled { o["enabled"] = .bool(enabled) }
        if let effectiveFrom { o["effectiveFrom"] = .string(effectiveFrom.iso) }
        if let name { o["name"] = .string(name) }
        if let citation { o["citation"] = .string(citation) }
        var minors = JSONObject()
        if let ageOfConsent { minors["ageOfConsent"] = .int(ageOfConsent) }
        if let guardianConsent { minors["guardianConsent"] = .string(guardianConsent.rawValue) }
        if let requireAgeEvidence { minors["requireAgeEvidence"] = .bool(requireAgeEvidence) }
        if minors.count > 0 { o["minors"] = .object(minors) }
        var consent = JSONObject()
        if let affirmativeMethods { consent["affirmativeMethods"] = .strings(affirmativeMethods) }
        if let maxAgeBeforeEnrollment { consent["maxAgeBeforeEnrollment"] = .string(maxAgeBeforeEnrollment.iso8601) }
        if let validFor { consent["validFor"] = .string(validFor.iso8601) }
        if consent.count > 0 { o["consent"] = .object(consent) }
        var retention = JSONObject()
        if let maxSinceEnrollment { retention["maxSinceEnrollment"] = .string(maxSinceEnrollment.iso8601) }
        if let maxSinceLastInteraction { retention["maxSinceLastInteraction"] = .string(maxSinceLastInteraction.iso8601) }
        if let deleteAfterRevocation { retention["deleteAfterRevocation"] = .string(deleteAfterRevocation.iso8601) }
        if retention.count > 0 { o["retention"] = .object(retention) }
        return .object(o)
    }
}
