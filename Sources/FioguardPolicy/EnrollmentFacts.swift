/// What `enroll.authorize` is asked.
public struct EnrollmentFacts: Sendable {
    public var domain: String
    public var jurisdiction: Jurisdiction
    /// `user_action` is the only trigger that can be allowed (no auto-enrollment, duty D7).
    public var trigger: String
    /// `nil`: the subject has no active consent.
    public var consent: ActiveConsent?
    /// More than zero means the subject is already enrolled.
    public var activeFacialIdCount: Int

    public init(
        domain: String, jurisdiction: Jurisdiction, trigger: String, consent: ActiveConsent?,
        activeFacialIdCount: Int = 0
    ) {
        self.domain = domain
        self.jurisdiction = jurisdiction
        self.trigger = trigger
        self.consent = consent
        self.activeFacialIdCount = activeFacialIdCount
    }
}
