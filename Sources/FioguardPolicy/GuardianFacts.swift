/// The guardian block of `consent.record`: who consented for a minor and how that was verified.
public struct GuardianFacts: Sendable, Hashable {
    public var relationship: String
    public var verificationMethod: String
    public var reference: String?

    public init(relationship: String, verificationMethod: String, reference: String? = nil) {
        self.relationship = relationship
        self.verificationMethod = verificationMethod
        self.reference = reference
    }
}
