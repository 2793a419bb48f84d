public import FioguardJSON

/// One set of legal rules (a law, or a member state's GDPR Art. 8 age) as policy data: each axis is
/// optional (`nil` = this profile says nothing), and carries the citation and effective date shown
/// in decisions and disclosures. Built-ins come from `reference/biometric-law.md`; the policy
/// file's `jurisdictions` entries override them or add new ones.
public struct JurisdictionProfile: Sendable, Hashable {
    /// `EU`, a country (`DE`) or a region (`US-IL`).
    public var code: String
    public var name: String
    public var citation: String
    /// The profile applies from midnight UTC of this day; `nil` = always.
    public var effectiveFrom: CivilDate?
    /// Rows the research notes mark *[verify]*.
    public var needsVerification: Bool
    public var notes: [String]

    public var ageOfConsent: Int?
    public var guardianConsent: GuardianRule?
    /// What the consent must look like, in words (for disclosures).
    public var consentForm: String?
    public var affirmativeMethods: [String]?
    public var maxAgeBeforeEnrollment: ISODuration?
    public var consentValidFor: ISODuration?
    public var requireAgeEvidence: Bool?
    public var maxSinceEnrollment: ISODuration?
    public var maxSinceLastInteraction: ISODuration?
    public var deleteAfterRevocation: ISODuration?

    /// Built into fioguard (possibly overridden by the file) rather than defined by the file alone.
    public var isBuiltIn: Bool
    /// Keys inside the `jurisdictions` entry (`consent.affirmativeMethods`) whose value the policy
    /// file set; decisions then name the file's key path instead of `profile:CODE`.
    public var keysFromFile: Set<String>

    init(
        code: String, name: String, citation: String, effectiveFrom: String?, needsVerification: Bool = false,
        notes: [String] = [], ageOfConsent: Int? = nil, guardianConsent: GuardianRule? = nil,
        consentForm: String? = nil, affirmativeMethods: [String]? = nil,
        maxSinceLastInteraction: ISODuration? = nil, deleteAfterRevocation: ISODuration? = nil,
        isBuiltIn: Bool = true
    ) {
        self.code = code
        self.name = name
        self.citation = citation
        self.effectiveFrom = effectiveFrom.flatMap { CivilDate(iso: $0) }
        self.needsVerification = needsVerification
        self.notes = notes
        self.ageOfConsent = ageOfConsent
        self.guardianConsent = guardianConsent
        self.consentForm = consentForm
        self.affirmativeMethods = affirmativeMethods
        self.maxSinceLastInteraction = maxSinceLastInteraction
        self.deleteAfterRevocation = deleteAfterRevocation
        self.isBuiltIn = isBuiltIn
        self.keysFromFile = []
    }

    /// `EU` covers every EU/EEA member state; any other code applies to the country or region it names.
    public func applies(to j: Jurisdiction) -> Bool {
        if code == "EU" { return JurisdictionProfile.euEEA.contains(j.country) }
        return code == j.country || (j.region != nil && code == j.region)
    }

    /// In force at `now`; `now == nil` means "regardless of date" (forward-looking views).
    public func isInForce(at now: Timestamp?) -> Bool {
        guard let now, let effectiveFrom else { return true }
        return effectiveFrom.startOfDay <= now
    }

    /// The rule name a decision reports for one axis of this profile.
    public func rule(_ key: String) -> String {
        keysFromFile.contains(key) ? "jurisdictions.\(code).\(key)" : "profile:\(code)"
    }

    /// `{"code","name","citation","effectiveFrom","needsVerification","notes","source"}`.
    public var summaryJSON: JSON {
        .object(
            JSONObject([
                ("code", .string(code)),
                ("name", .string(name)),
                ("citation", .string(citation)),
                ("effectiveFrom", .string(effectiveFrom?.iso)),
                ("needsVerification", .bool(needsVerification)),
                ("notes", .strings(notes)),
                ("source", .string(isBuiltIn ? (keysFromFile.isEmpty ? "built-in" : "built-in, overridden by policy") : "policy")),
            ]))
    }
}
