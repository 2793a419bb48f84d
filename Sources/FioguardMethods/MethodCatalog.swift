public import FioguardJSON
public import FioguardPolicy
public import FioguardRPC
public import FioguardServices

/// What the method table needs from the server around it.
public struct MethodDependencies: Sendable {
    public var env: ServiceEnvironment
    public var startedAt: Timestamp
    public var version: String
    /// The OpenRPC document `rpc.discover` serves.
    public var openRPC: JSON
    public var faceioConfigured: @Sendable () -> Bool
    /// Re-reads the policy source, validates, swaps; returns the version in force. Throws `RPCError`.
    public var reloadPolicy: @Sendable (Caller) async throws -> String
    /// The FACEIO webhook token (`--faceio-webhook-token-file`); nil: webhooks are refused.
    public var webhookToken: String? = nil

    public init(
        env: ServiceEnvironment, startedAt: Timestamp, version: String, openRPC: JSON,
        faceioConfigured: @escaping @Sendable () -> Bool, reloadPolicy: @escaping @Sendable (Caller) async throws -> String
    ) {
        self.env = env
        self.startedAt = startedAt
        self.version = version
        self.openRPC = openRPC
        self.faceioConfigured = faceioConfigured
        self.reloadPolicy = reloadPolicy
    }
}

/// Every method of API.md, one registration each. This table is the single source for dispatch
/// and for the test that compares it with `proto-docs/openrpc.json`.
public enum MethodCatalog {
    public static func table(_ deps: MethodDependencies) -> MethodTable {
        var table = MethodTable()
        for m in ConsentMethods.all(deps) + EnrollmentMethods.all(deps) + FacialIDMethods.all(deps) + SubjectMethods.all(deps)
            + RetentionMethods.all(deps) + AuditMethods.all(deps) + PolicyMethods.all(deps) + SystemMethods.all(deps)
            + DeletionMethods.all(deps) + WebhookMethods.all(deps)
        {
            table.register(m)
        }
        return table
    }

    /// Methods only `--admin-uid` callers may use when that list is set.
    public static let adminMethods: Set<String> = ["retention.sweep", "audit.verify", "audit.query", "policy.reload", "deletion.list"]
}

extension RPCMethod {
    /// A method whose handler reads named params with an `ObjectReader` (unknown fields rejected)
    /// and whose service errors become API.md error reasons.
    static func named(
        _ name: String, _ body: @escaping @Sendable (ObjectReader, Caller, RPCContext) async throws -> JSON
    ) -> RPCMethod {
        RPCMethod(name, requiresAdmin: MethodCatalog.adminMethods.contains(name)) { params, context in
            let reader = try ObjectReader(params ?? .object(JSONObject()), path: "params")
            let caller = Caller(uid: context.peer.uid, pid: context.peer.pid)
            do {
                return try await body(reader, caller, context)
            } catch let e as ServiceError {
                throw e.rpcError
            }
        }
    }
}

extension ServiceError {
    var rpcError: RPCError {
        switch kind {
        case .notFound: .domain(.notFound, message)
        case .conflict: .domain(.conflict, message)
        case .ticketInvalid: .domain(.ticketInvalid, message)
        case .confirmationRequired: .domain(.confirmationRequired, message)
        case .unavailable: .domain(.unavailable, message)
        case .policyDenied: .domain(.policyDenied, message, [("decision", decision?.json ?? .null)])
        case .invalidInput: .invalidParams(field: field ?? "params", message)
        case .forbidden: .domain(.forbidden, message)
        }
    }
}
