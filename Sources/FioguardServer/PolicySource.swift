public import FioguardPolicy
import FioguardJSON
import FioguardRPC

/// Where the policy comes from: a file (re-read on every reload) or the built-in default.
public struct PolicySource: Sendable {
    public let path: String?

    public init(path: String?) { self.path = path }

    public var description: String { path ?? "built-in default" }

    /// Reads and validates. Errors name the file and the field.
    public func load() throws(PolicyLoadError) -> Policy {
        guard let path else { return Policy.builtInDefault }
        let bytes = try Self.readFile(path)
        do {
            return try Policy.load(bytes: bytes)
        } catch {
            throw PolicyLoadError(message: "\(path): \(error.description)", field: error.path)
        }
    }

    /// Reads a policy or facts file (at most 4 MiB).
    public static func read(_ path: String) throws(PolicyLoadError) -> [UInt8] { try readFile(path) }

    static func readFile(_ path: String) throws(PolicyLoadError) -> [UInt8] {
        do {
            return try RegularFile.read(path, limit: 4 << 20, limitName: "4 MiB")
        } catch {
            throw PolicyLoadError(message: error.description, field: nil)
        }
    }
}

/// A policy file could not be used; the old policy stays in force.
public struct PolicyLoadError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let field: String?
    public var description: String { message }

    var rpcError: RPCError {
        var extra: [(String, FioguardJSON.JSON)] = []
        if let field { extra.append(("field", .string(field))) }
        return .domain(.policyInvalid, "policy not reloaded, the previous one stays in force: \(message)", extra)
    }
}
