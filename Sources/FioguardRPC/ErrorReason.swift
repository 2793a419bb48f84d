/// A domain error reason of API.md: a stable UPPER_SNAKE name with one fixed JSON-RPC code in
/// -32000…-32099. The error table in `proto-docs/README.md` and `openrpc.json` list the same pairs.
public struct ErrorReason: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let code: Int

    private init(_ name: String, _ code: Int) {
        self.name = name
        self.code = code
    }

    public var description: String { name }

    public static let policyDenied = ErrorReason("POLICY_DENIED", -32001)
    public static let notFound = ErrorReason("NOT_FOUND", -32002)
    public static let conflict = ErrorReason("CONFLICT", -32003)
    public static let ticketInvalid = ErrorReason("TICKET_INVALID", -32004)
    public static let confirmationRequired = ErrorReason("CONFIRMATION_REQUIRED", -32005)
    public static let forbidden = ErrorReason("FORBIDDEN", -32006)
    public static let unavailable = ErrorReason("UNAVAILABLE", -32007)
    public static let rateLimited = ErrorReason("RATE_LIMITED", -32008)
    /// Added by fioguard: `policy.reload` found the policy file invalid (the old one stays).
    public static let policyInvalid = ErrorReason("POLICY_INVALID", -32009)

    /// Every reason, in code order (documentation and tests iterate this).
    public static let all: [ErrorReason] = [
        .policyDenied, .notFound, .conflict, .ticketInvalid, .confirmationRequired, .forbidden, .unavailable,
        .rateLimited, .policyInvalid,
    ]
}
