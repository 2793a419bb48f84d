/// The stable reason codes of decisions. Failed checks deny; passed checks are reported too.
/// Documented in `proto-docs/policy.md`; never renamed.
public enum ReasonCode {
    // Purposes
    public static let purposesAllowed = "PURPOSES_ALLOWED"
    public static let purposesEmpty = "PURPOSES_EMPTY"
    public static let purposeNotAllowed = "PURPOSE_NOT_ALLOWED"
    public static let purposeConsented = "PURPOSE_CONSENTED"
    public static let purposeNotConsented = "PURPOSE_NOT_CONSENTED"
    // Consent form and notice
    public static let collectionMethodAffirmative = "COLLECTION_METHOD_AFFIRMATIVE"
    public static let collectionMethodNotAffirmative = "COLLECTION_METHOD_NOT_AFFIRMATIVE"
    public static let noticeVersionPresent = "NOTICE_VERSION_PRESENT"
    public static let noticeVersionMissing = "NOTICE_VERSION_MISSING"
    // Where
    public static let domainAllowed = "DOMAIN_ALLOWED"
    public static let domainNotAllowed = "DOMAIN_NOT_ALLOWED"
    public static let countryAllowed = "COUNTRY_ALLOWED"
    public static let countryDenied = "COUNTRY_DENIED"
    public static let countryNotAllowed = "COUNTRY_NOT_ALLOWED"
    public static let countryInvalid = "COUNTRY_INVALID"
    public static let regionValid = "REGION_VALID"
    public static let regionInvalid = "REGION_INVALID"
    // Minors
    public static let ageOfConsentMet = "AGE_OF_CONSENT_MET"
    public static let ageNotRequired = "AGE_NOT_REQUIRED"
    public static let ageUnknown = "AGE_UNKNOWN"
    public static let ageInvalid = "AGE_INVALID"
    public static let guardianConsentPresent = "GUARDIAN_CONSENT_PRESENT"
    public static let guardianConsentRequired = "GUARDIAN_CONSENT_REQUIRED"
    public static let minorNotPermitted = "MINOR_NOT_PERMITTED"
    // Enrollment
    public static let triggerUserAction = "TRIGGER_USER_ACTION"
    public static let triggerNotUserAction = "TRIGGER_NOT_USER_ACTION"
    public static let consentPresent = "CONSENT_PRESENT"
    public static let consentMissing = "CONSENT_MISSING"
    public static let consentFresh = "CONSENT_FRESH"
    public static let consentStale = "CONSENT_STALE"
    public static let consentNotExpired = "CONSENT_NOT_EXPIRED"
    public static let consentExpired = "CONSENT_EXPIRED"
    public static let notEnrolled = "NOT_ENROLLED"
    public static let reenrollmentAllowed = "REENROLLMENT_ALLOWED"
    public static let alreadyEnrolled = "ALREADY_ENROLLED"
}
