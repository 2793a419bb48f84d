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
    /// policy in force stays; the file holds no trace of the new one.
    @Test func aPolicyThatCannotBeRecordedDoesNotTakeEffect() async throws {
        let rig = try await ReloadRig()
        defer { rig.dir.remove() }
        let (first, second, database, env, records, reloader) = (rig.first, rig.second, rig.database, rig.env, rig.records, rig.reloader)

        database.stopCheckpoints()
        await #expect(throws: StoreError.self) { try await reloader.reload(caller: .system) }
        #expect(env.policy.current.version == first.version)
        let failed = records.all.filter { $0.message.hasPrefix("policy reload failed: its activation could not be recorded") }
        #expect(failed.count == 1, "\(records.all.map(\.message))")
        #expect(failed.first?.metadata["policyVersion"] == first.version)
        #expect(failed.first?.metadata["error"]?.contains("refuses every call") == true, "\(failed.map(\.metadata))")
        await database.close()

        let (reopened, _) = try await openServiceEnvironment(at: rig.dir.file("db.sqlite"), policy: first)
        let (activations, recorded) = try await reopened.read { c in
            (try c.queryOne("SELECT count(*) FROM audit_log WHERE action = 'policy.activated'")?.int(0), try c.meta("policy_version"))
        }
        #expect(activations == 0)
        #expect(recorded != Array(second.version.utf8))
        await reopened.close()
    }

    /// A reload whose activation is recorded but whose retention recompute fails (here a trigger
    /// refuses every change to `facial_ids`) leaves the new policy in force, says that in the log,
    /// and a reload of the same file finishes the recompute; also in a database from before the
    /// `retention_policy_version` marker.
    @Test(arguments: [true, false])
    func aReloadOfThePolicyInForceFinishesAnUnfinishedRecompute(markerBefore: Bool) async throws {
        let rig = try await ReloadRig()
        defer { rig.dir.remove() }
        let (second, database, env, records, reloader) = (rig.second, rig.database, rig.env, rig.records, rig.reloader)
        try await PolicyService(env).recordStartup(source: "test")  // as the daemon's start does
        if !markerBefore { try await database.write { try $0.run("DELETE FROM meta WHERE key = 'retention_policy_version'") } }
        try await database.write { c in
            let s = try c.upsertSubject("ann", pseudonym: "sub_ann", now: 1)
            try c.run(
                "INSERT INTO facial_ids (facial_id, fid_hash, subject_id, status, enrolled_at, retain_until, retain_rule, country) VALUES ('f', 'h', ?, 'active', 1, 2, 'r', 'DE')",
                [.int(s)])
            try c.run("CREATE TRIGGER refuse_retention BEFORE UPDATE ON facial_ids BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        }
        let applied = { try await database.read { c in try c.meta("retention_policy_version").map { String(decoding: $0, as: UTF8.self) } } }

        await #expect(throws: StoreError.self) { try await reloader.reload(caller: .system) }
        #expect(env.policy.current.version == second.version, "recorded, so in force")
        let incomplete = records.all.filter { $0.message.hasPrefix("policy activated, but not every retention date is recomputed") }
        #expect(incomplete.count == 1 && incomplete.first?.metadata["policyVersion"] == second.version, "\(records.all.map(\.message))")
        #expect(try await applied() != second.version)

        try await database.write { try $0.run("DROP TRIGGER refuse_retention") }
        #expect(try await reloader.reload(caller: .system) == second.version)
        #expect(try await applied() == second.version)
        let finished = try await database.read { c in try c.queryOne("SELECT retain_until FROM facial_ids")?.int(0) }
        #expect(finished != 2, "the Facial ID's date is the new policy's")
        await database.close()
    }

    /// A store opened under a first policy, and a reloader whose file holds a second one that
    /// differs (in the ticket's lifetime); the caller removes `dir`.
    struct ReloadRig {
        let dir: TemporaryDirectory
        let first: Policy
        let second: Policy
        let database: Database
        let env: ServiceEnvironment
        let records = LogRecords()
        let reloader: PolicyReloader

        init() async throws {
            dir = try TemporaryDirectory(prefix: "fgreload")
            first = try Policy.load(bytes: Array(FIO.policy().utf8))
            let secondText = FIO.policy(ticketTTL: "PT5M")
            second = try Policy.load(bytes: Array(secondText.utf8))
            try #require(first.version != second.version)
            try secondText.write(toFile: dir.file("policy.json"), atomically: true, encoding: .utf8)
            (database, env) = try await openServiceEnvironment(at: dir.file("db.sqlite"), policy: first)
            reloader = PolicyReloader(source: PolicySource(path: dir.file("policy.json")), service: PolicyService(env), logger: records.logger())
        }
    }
}
