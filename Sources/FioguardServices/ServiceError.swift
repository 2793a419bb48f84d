public import FioguardPolicy

/// A lifecycle rule refused the call. The Methods layer maps each kind to its API.md reason.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case notFound, conflict, ticketInvalid, confirmationRequired, policyDenied, invalidInput, unavailable, forbidden
    }

    public let kind: Kind
    public let message: String
    /// The decision behind a `policyDenied`.
    public let decision: Decision?
    /// The param at fault for `invalidInput` (`params.region`).
    public let field: String?

    public init(_ kind: Kind, _ message: String, decision: Decision? = nil, field: String? = nil) {
        self.kind = kind
        self.message = message
        self.decision = decision
        self.field = field
    }

    public var description: String { message }

    static func notFound(_ m: String) -> ServiceError { ServiceError(.notFound, m) }
    static func conflict(_ m: String) -> ServiceError { ServiceError(.conflict, m) }
    static func ticketInvalid(_ m: String) -> ServiceError { ServiceError(.ticketInvalid, m) }
    static func invalid(_ field: String, _ m: String) -> ServiceError { ServiceError(.invalidInput, m, field: field) }
}
