/// The subject's current active consent, as stored.
public struct ActiveConsent: Sendable {
    public var purposes: [String]
    public var collectionMethod: String
    public var recordedAt: Timestamp
    public var jurisdiction: Jurisdiction
    public var age: Int?
    public var birthDate: CivilDate?
    public var hasGuardianConsent: Bool

    public init(
        purposes: [String], collectionMethod: String, recordedAt: Timestamp, jurisdiction: Jurisdiction,
        age: Int? = nil, birthDate: CivilDate? = nil, hasGuardianConsent: Bool = false
    ) {
        self.purposes = purposes
        self.collectionMethod = collectionMethod
        self.recordedAt = recordedAt
        self.jurisdiction = jurisdiction
        self.age = age
        self.birthDate = birthDate
        self.hasGuardianConsent = hasGuardianConsent
    }
}
