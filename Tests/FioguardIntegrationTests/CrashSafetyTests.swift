import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// SIGKILL while clients write: every acknowledged write survives (WAL, synchronous=FULL, group
/// commit acknowledges only after the commit), and the audit chain still verifies.
@Suite("Crash safety")
struct CrashSafetyTests {
    /// A lock-protected value (the writers append from several tasks).
    final class Locked<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Value
        init(_ value: Value) { self.value = value }
        func withLock<T>(_ body: (inout Value) -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body(&value)
        }
    }

    struct Ack: Sendable {
        var subject: String
        var key: String
        var consentId: String
    }

    @Test("SIGKILL during concurrent consent.record: every acknowledged consent is there after restart")
    func acknowledgedWritesSurviveSIGKILL() async throws {
        let server = try await LiveServer.started(policy: Lifecycle.demoPolicy)
        do {
            let acks = Locked<[Ack]>([])
            let writers = 4
            let perWriterLimit = 2_000

            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    let client = try await server.connect()
                    group.addTask {
                        await Self.write(client, writer: w, limit: perWriterLimit, acks: acks)
                        await client.close()
                    }
                }
                // Let the writers get going, then pull the plug mid-stream.
                let deadline = ContinuousClock.now + .seconds(10)
                while acks.withLock({ $0.count }) < 100 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(300))
                await server.crash()
                try await group.waitForAll()
            }

            let acknowledged = acks.withLock { $0 }
            #expect(acknowledged.count >= 100, "too few writes before the crash to prove anything")
            #expect(acknowledged.count < writers * perWriterLimit, "the crash came after every writer had finished")

            try await server.start()
            let client = try await server.connect()
            var missing: [String] = []
            for ack in acknowledged {
                do {
                    let status = try await client.call("consent.status", ["subject": .string(ack.subject)])
                    let active = status["active"]?.arrayValue?.compactMap { $0["consentId"]?.stringValue } ?? []
                    if !active.contains(ack.consentId) { missing.append(ack.subject) }
                } catch {
                    missing.append("\(ack.subject) (\(error))")
                }
            }
            #expect(missing.isEmpty, "acknowledged but lost after SIGKILL: \(missing.prefix(10)) (\(missing.count) of \(acknowledged.count))")

            let verified = try await client.call("audit.verify")
            #expect(verified["ok"]?.boolValue == true, "\(verified.encodedString())")
            #expect((verified["entries"]?.intValue ?? 0) >= Int64(acknowledged.count) + 1)

            // A client that never saw its answer retries with the same key: same consent.
            if let last = acknowledged.last {
                let retry = try await client.call("consent.record", Lifecycle.consentParams(subject: last.subject, idempotencyKey: last.key))
                #expect(retry["consentId"]?.stringValue == last.consentId)
            }
            // The server is fully usable on the recovered database.
            try await Lifecycle.enroll(client, subject: "after-crash", facialId: "fid-after-crash")
            #expect(try await client.call("audit.verify")["ok"]?.boolValue == true)
            await client.close()
        } catch {
            let log = String(server.log.suffix(3000))
            await server.cleanUp()
            throw TestSupportError("\(error)\n--- server log (tail) ---\n\(log)")
        }
        await server.cleanUp()
    }

    @Test("the store runs in WAL mode; migrations are versioned, applied once, and a newer schema is refused")
    func storeModeAndMigrations() async throws {
        try await Lifecycle.withServer { server, client in
            try await Lifecycle.recordConsent(client, subject: "mig")
            #expect(await server.terminate() == 0)
            let mode = try Lifecycle.sqlite(server.databasePath, "PRAGMA journal_mode")
            #expect(mode.trimmingCharacters(in: .whitespacesAndNewlines) == "wal")
            let applied = try Lifecycle.sqlite(server.databasePath, "SELECT version FROM schema_migrations ORDER BY version")
            let versions = applied.split(separator: "\n").compactMap { Int($0) }
            #expect(!versions.isEmpty)
            #expect(versions == Array(1...max(1, versions.count)), "versions 1…n, each once")

            // A restart on the same file applies nothing again and keeps the data.
            try await server.start()
            #expect(!server.log.contains("applied schema migration"), "a migration ran twice")
            let again = try await server.connect()
            let status = try await again.call("consent.status", ["subject": "mig"])
            #expect(status["active"]?.arrayValue?.count == 1)
            await again.close()
            #expect(await server.terminate() == 0)
            #expect(try Lifecycle.sqlite(server.databasePath, "SELECT version FROM schema_migrations ORDER BY version") == applied)

            // A database migrated by a newer fioguard is refused, not downgraded.
            try Lifecycle.sqlite(
                server.databasePath, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from-the-future', 'now')")
            await #expect(throws: (any Error).self, "an older build opened a newer schema") { try await server.start(timeout: .seconds(15)) }
            #expect(server.log.contains("999"), "the refusal names the schema version")
        }
    }

    /// One writer: records consents until the server stops answering or `limit` is reached.
    static func write(_ client: RPCTestClient, writer w: Int, limit: Int, acks: Locked<[Ack]>) async {
        for i in 0..<limit {
            let subject = "crash-w\(w)-\(i)"
            let key = "key-w\(w)-\(i)"
            do {
                let r = try await client.call("consent.record", Lifecycle.consentParams(subject: subject, idempotencyKey: key))
                guard let id = r["consentId"]?.stringValue else { return }
                acks.withLock { $0.append(Ack(subject: subject, key: key, consentId: id)) }
            } catch {
                return  // the server died under us: this write was never acknowledged
            }
        }
    }
}
