public import FioguardJSON

/// One callable method. The handler gets the `params` member (nil when absent) and returns the
/// `result`. It may throw `RPCError` (sent as is), `JSONDecodingError` (sent as -32602 naming the
/// field), or anything else (logged, sent as -32603 without details).
public struct RPCMethod: Sendable {
    public typealias Handler = @Sendable (_ params: JSON?, _ context: RPCContext) async throws -> JSON

    public let name: String
    /// Methods that only an administrator may call (see `--admin-uid`).
    public let requiresAdmin: Bool
    public let handler: Handler

    public init(_ name: String, requiresAdmin: Bool = false, handler: @escaping Handler) {
        self.name = name
        self.requiresAdmin = requiresAdmin
        self.handler = handler
    }
}

/// The single source for dispatch and for the OpenRPC document check (ARCHITECTURE.md).
public struct MethodTable: Sendable {
    public private(set) var methods: [String: RPCMethod] = [:]

    public init(_ methods: [RPCMethod] = []) {
        for m in methods { register(m) }
    }

    /// Registering a name twice is a programming error.
    public mutating func register(_ method: RPCMethod) {
        precondition(methods[method.name] == nil, "method \(method.name) registered twice")
        methods[method.name] = method
    }

    public var names: [String] { methods.keys.sorted() }

    public subscript(name: String) -> RPCMethod? { methods[name] }
}
