/// A policy file problem, naming the field the way the file spells it:
/// `policy.countries.allow[1]: not an ISO 3166-1 alpha-2 code`.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
