import FioguardJSON
import FioguardMethods
import FioguardPolicy
import FioguardRPC
import FioguardServices
import FioguardStore
import FioguardTesting
import Foundation
import Logging
import Testing

/// `proto-docs/openrpc.json` and the method table must name the same methods, both ways, and
/// `rpc.discover` must serve that very document.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct OpenRPCDocumentTests {
    static var documentPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("proto-docs/openrpc.json").path
    }

    static func document() throws -> JSON {
        let data = try Data(contentsOf: URL(fileURLWithPath: documentPath))
        return try JSON.parse(Array(data), maxDepth: 256)
    }

    static func documentedNames(_ doc: JSON) -> [String] {
        (doc["methods"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    /// The names `MethodCatalog.table` registers, built exactly as the server builds it.
    static func registeredNames() async throws -> [String] {
        let dir = try TemporaryDirectory(prefix: "fgcat")
        defer { dir.remove() }
        let (database, env) = try await openServiceEnvironment(at: dir.file("catalog.sqlite"))
        let deps = MethodDependencies(
            env: env, startedAt: env.now(), version: "test", openRPC: try document(), faceioConfigured: { false },
            reloadPolicy: { _ in "test" })
        let names = MethodCatalog.table(deps).names
        await database.close()
        return names
    }

    @Test func theDocumentIsWellFormed() throws {
        let doc = try Self.document()
        #expect(doc["openrpc"]?.stringValue?.hasPrefix("1.") == true)
        #expect(doc["info"]?["title"] != nil)
        let methods = doc["methods"]?.arrayValue ?? []
        #expect(!methods.isEmpty)
        let names = Self.documentedNames(doc)
        #expect(names.count == methods.count, "every method entry needs a name")
        #expect(Set(names).count == names.count, "a method is documented twice: \(names)")
        for m in methods {
            #expect(m["params"]?.arrayValue != nil, "\(m["name"] ?? "?") has no params list")
            #expect(m["result"]?.objectValue != nil, "\(m["name"] ?? "?") has no result")
        }
    }

    @Test func everyRegisteredMethodIsDocumentedAndViceVersa() async throws {
        let documented = Set(Self.documentedNames(try Self.document()))
        let registered = Set(try await Self.registeredNames())
        #expect(!registered.isEmpty)
        let undocumented = registered.subtracting(documented).sorted()
        let unregistered = documented.subtracting(registered).sorted()
        #expect(undocumented.isEmpty, "registered in MethodCatalog but missing from proto-docs/openrpc.json: \(undocumented)")
        #expect(unregistered.isEmpty, "documented in proto-docs/openrpc.json but not registered: \(unregistered)")
    }

    @Test func theDocumentedErrorsMatchTheErrorReasons() throws {
        let doc = try Self.document()
        var documented: [String: Int64] = [:]
        for (_, e) in (doc["components"]?["errors"]?.objectValue ?? JSONObject()).map({ ($0.key, $0.value) }) {
            if let reason = e["data"]?["reason"]?.stringValue, let code = e["code"]?.intValue { documented[reason] = code }
        }
        var expected: [String: Int64] = [
            "PARSE_ERROR": -32700, "INVALID_REQUEST": -32600, "METHOD_NOT_FOUND": -32601, "INVALID_PARAMS": -32602, "INTERNAL": -32603,
        ]
        for r in ErrorReason.all { expected[r.name] = Int64(r.code) }
        #expect(documented == expected, "components.errors in openrpc.json disagree with ErrorReason")
    }

    /// Against a live server: `rpc.discover` serves the file as it is, every documented name is
    /// callable (whatever else happens, not -32601), and the probe itself can tell a missing method.
    @Test func rpcDiscoverServesTheDocumentAndEveryDocumentedMethodIsCallable() async throws {
        let doc = try Self.document()
        let server = try await LiveServer.started()
        let c = try await server.connect()
        let served = try await c.call("rpc.discover", timeout: Spine.lineTimeout)
        #expect(served == doc, "rpc.discover does not serve proto-docs/openrpc.json as built")
        #expect(Self.documentedNames(served) == Self.documentedNames(doc))

        // The probe: an unknown member in params, so that no method actually does anything.
        for (i, name) in Self.documentedNames(served).enumerated() {
            let r = try await c.request(name, ["fioguardDocumentProbe": true], id: .int(Int64(i)), timeout: Spine.lineTimeout)
            #expect(r["error"]?["code"] != -32601, "\(name) is documented but the server does not know it: \(r)")
        }
        let missing = try await c.request("fioguard.not.a.method", ["fioguardDocumentProbe": true], id: "probe", timeout: Spine.lineTimeout)
        #expect(missing["error"]?["code"] == -32601, "the probe cannot tell a missing method: \(missing)")
        await c.close()
        await Spine.stop(server)
    }
}
