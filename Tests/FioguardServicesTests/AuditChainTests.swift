@testable import FioguardServices
import FioguardStore
import FioguardTesting
import Logging
import Testing

/// The audit trail's head is staged per write group (`StagedMeta`): many appends in one
/// transaction, some of them by closures that throw after appending, must still leave one
/// unbroken chain whose stored head is its last entry.
@Suite("Audit chain under group commit")
struct AuditChainTests {
    struct Refused: Error {}

    @Test func appendsOfOneGroupChainAndThrownOnesLeaveNoTrace() async throws {
        let dir = try TemporaryDirectory(prefix: "fg-audit")
        defer { dir.remove() }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let db = try Database(configuration: DatabaseConfiguration(path: dir.file("db.sqlite")), migrations: Schema.migrations, logger: logger)
        for round in 0..<3 {
            // Many writes at once, so the writer takes them in groups; every third throws after
            // its append, which undoes the entry (and makes its group replay).
            let kept = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<60 {
                    group.addTask {
                        do {
                            try await db.write { conn in
                                try AuditTrail.append(
                                    conn, at: 1_790_000_000 + Int64(i), action: "test.entry", subjectRef: "ps_\(round)_\(i)", caller: .system,
                                    details: ["i": .int(Int64(i))])
                                if i % 3 == 0 { throw Refused() }
                            }
                            return true
                        } catch is Refused {
                            return false
                        }
                    }
                }
                var kept = 0
                for try await ok in group where ok { kept += 1 }
                return kept
            }
            #expect(kept == 40)
            let verified = try await AuditTrail.verify(db)
            #expect(verified.ok, "round \(round): \(verified.problem ?? "")")
            #expect(verified.entries == Int64(40 * (round + 1)))
        }
        #expect(db.replayedGroups > 0)
        await db.close()
    }
}
