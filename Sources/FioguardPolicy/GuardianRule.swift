/// What happens below the age of consent: a guardian must consent (`required`), or minors may not
/// use face login at all (`forbidden`). `forbidden` is the stricter of the two.
public enum GuardianRule: String, Sendable, Hashable, CaseIterable {
    case required
    case forbidden

    var strictness: Int { self == .forbidden ? 1 : 0 }
}
