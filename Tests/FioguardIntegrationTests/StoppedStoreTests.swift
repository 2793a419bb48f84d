import FioguardJSON
import FioguardMethods
import FioguardPolicy
import FioguardRPC
@testable import FioguardServer
import FioguardServices
@testable import FioguardStore
import FioguardTesting
import Foundation
import Testing

/// What callers see while the store refuses every call (checkpoints stopped after a disk error,
/// `CheckpointTrigger.stopCheckpoints`), through the real method table and dispatcher: writes and
/// reads answer JSON-RPC -32603 with no detail, the store's message goes to the log, and methods
/// that need no store still answer. Driven in-process, since the binary offers no way to stop
/// checkpoints.
@Suite struct StoppedStoreTests {
    static let peer = PeerIdentity(uid: 1000, gid: 1000, pid: 4242)

    static func call(_ dispatcher: RPCDispatcher, _ method: String, _ params: String) async -> JSON? {
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":\#(params)}"#.utf8)
        let parsed = line.withUnsafeBytes { dispatcher.parse($0) }
        return await dispatcher.handle(parsed, peer: peer, connectionID: 1)
    }

    static func consent(_ subject: String) -> String {
        #"{"subject":"\#(subject)","purposes":["authentication"],"noticeVersion":"2026-11","collectionMethod":"checkbox","domain":"shop.example","country":"DE","age":30}"#
    }

    @Test func writesAndReadsAnswerAnInternalErrorWhileTheStoreRefusesCalls() async throws {
        let dir = try TemporaryDirectory(prefix: "fgstopped")
        defer { dir.remove() }
        let policy = try Policy.load(bytes: Array(FIO.policy().utf8))
        let (database, env) = try await openServiceEnvironment(at: dir.file("db.sqlite"), policy: policy)
        let records = LogRecords()
        let deps = MethodDependencies(
            env: env, startedAt: env.now(), version: "test", openRPC: .object(JSONObject()), faceioConfigured: { false },
            reloadPolicy: { _ in "test" })
        let dispatcher = RPCDispatcher(table: MethodCatalog.table(deps), logger: records.logger())

        let before = await Self.call(dispatcher, "consent.record", Self.consent("ann"))
        #expect(before?["result"]?["consentId"]?.stringValue != nil, "before the stop: \(String(describing: before))")

        database.stopCheckpoints()
        let refused: [(String, String)] = [
            ("consent.record", Self.consent("bob")),  // a write
            ("consent.status", #"{"subject":"ann"}"#),  // reads
            ("facialId.show", #"{"subject":"ann"}"#),
            ("audit.verify", "{}"),
        ]
        for (method, params) in refused {
            let answer = await Self.call(dispatcher, method, params)
            #expect(answer?["error"]?["code"]?.intValue == -32603, "\(method): \(String(describing: answer))")
            #expect(
                answer?["error"]?["message"]?.stringValue == "Internal error: the details are in fioguard's log",
                "\(method): no store detail reaches the caller")
            #expect(answer?["error"]?["data"]?["reason"]?.stringValue == "INTERNAL")
            #expect(answer?["result"] == nil)
        }
        let failures = records.all.filter { $0.message == "method failed" }
        #expect(failures.count == refused.count)
        #expect(failures.allSatisfy { $0.metadata["error"]?.contains("refuses every call") == true }, "\(failures.map(\.metadata))")

        // Methods that need no store still answer, so a health probe can tell the daemon is up.
        let ping = await Self.call(dispatcher, "system.ping", "{}")
        #expect(ping?["result"] != nil, "\(String(describing: ping))")
        await database.close()
    }

    /// A policy takes effect only once its activation is recorded: while the store refuses
    /// calls, a reload (SIGHUP's and `policy.reload`'s path) fails, says so in the log, and the
    /// policy in force stays.
    @Test func aPolicyThatCannotBeRecordedDoesNotTakeEffect() async throws {
        let dir = try TemporaryDirectory(prefix: "fgstopped")
        defer { dir.remove() }
        let first = try Policy.load(bytes: Array(FIO.policy().utf8))
        let secondText = FIO.policy(ticketTTL: "PT5M")
        let second = try Policy.load(bytes: Array(secondText.utf8))
        #expect(first.version != second.version)
        try secondText.write(toFile: dir.file("policy.json"), atomically: true, encoding: .utf8)
        let (database, env) = try await openServiceEnvironment(at: dir.file("db.sqlite"), policy: first)
        let records = LogRecords()
        let reloader = PolicyReloader(source: PolicySource(path: dir.file("policy.json")), service: PolicyService(env), logger: records.logger())

        database.stopCheckpoints()
        await #expect(throws: (any Error).self) { try await reloader.reload(caller: .system) }
        #expect(env.policy.current.version == first.version)
        let failed = records.all.filter { $0.message == "policy reload failed" }
        #expect(failed.count == 1 && failed.first?.metadata["policyVersion"] == first.version, "\(records.all.map(\.message))")
        await database.close()
    }
}
