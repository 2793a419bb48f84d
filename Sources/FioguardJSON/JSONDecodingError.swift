/// A value did not have the shape a reader asked for. `path` names the field the way a caller
/// wrote it (`params.guardian.relationship`); the description reads
/// `params.guardian.relationship: expected string, got number`.
public struct JSONDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
