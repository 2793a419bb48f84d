/// What `consent.record` is asked to accept.
public struct ConsentFacts: Sendable {
    public var purposes: [String]
    public var collectionMethod: String
    public var noticeVersion: String
    public var domain: String
    public var jurisdiction: Jurisdiction
    public var age: Int?
    public var birthDate: CivilDate?
    public var guardian: GuardianFacts?

    public init(
        purposes: [String], collectionMethod: String, noticeVersion: String, domain: String,
        jurisdiction: Jurisdiction, age: Int? = nil, birthDate: CivilDate? = nil, guardian: GuardianFacts? = nil
    ) {
        self.purposes = purposes
        self.collectionMethod = collectionMethod
        self.noticeVersion = noticeVersion
        self.domain = domain
        self.jurisdiction = jurisdiction
        self.age = age
        self.birthDate = birthDate
        self.guardian = guardian
    }
}
