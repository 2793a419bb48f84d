import FioguardFaceIO
@testable import FioguardStore
import FioguardTesting
import Logging
import Testing

/// The deletion outbox while the store refuses every call (checkpoints stopped after a disk
/// error, `CheckpointTrigger.stopCheckpoints`): it pauses longer after each failed round instead
/// of failing, and logging, every poll, and sends nothing to FACEIO. Driven in-process, since the
/// binary offers no way to stop checkpoints.
@Suite struct DeletionOutboxPauseTests {
    @Test func theOutboxBacksOffWhileTheStoreRefusesCalls() async throws {
        let dir = try TemporaryDirectory(prefix: "fgpause")
        defer { dir.remove() }
        let quiet = Logger(label: "fioguard.outbox.tests") { _ in SwiftLogNoOpLogHandler() }
        let (database, env) = try await openServiceEnvironment(at: dir.file("db.sqlite"))
        // One deletion job, due now.
        try await database.write { connection in
            try connection.run("INSERT INTO subjects (subject, pseudonym, created_at) VALUES ('ann', 'sub_ann', 0)")
            try connection.run(
                """
                INSERT INTO facial_ids (facial_id, fid_hash, subject_id, status, enrolled_at, retain_until, retain_rule, country)
                VALUES ('fid-ann', 'hash-ann', 1, 'deleting', 0, 0, 'test', 'DE')
                """)
            try connection.run(
                """
                INSERT INTO deletion_jobs (facial_row, facial_id, status, reason, requested_at, next_attempt_at)
                VALUES (1, 'fid-ann', 'pending', 'user_request', 0, 0)
                """)
        }
        let fake = try await FakeFaceIO.start(expectedKey: "test-key")
        var configuration = FaceIOConfiguration()
        configuration.baseURL = fake.baseURL
        configuration.apiKey = "test-key"
        let client = FaceIOClient(configuration: configuration, logger: quiet)
        let records = LogRecords()
        let outbox = DeletionOutbox(env: env, client: client, logger: records.logger())

        database.stopCheckpoints()
        let running = Task { await outbox.run() }
        try await Task.sleep(for: .seconds(3))
        running.cancel()
        await running.value

        #expect(fake.calls.isEmpty, "the store refused the job's read, so nothing may reach FACEIO")
        // Pauses of 400, 800, 1600 ms … after the first round: 3 or 4 rounds in 3 s, where the
        // 200 ms poll would make 15.
        let failedRounds = records.all.filter { $0.message.description == "deletion outbox round failed" }
        #expect((2...5).contains(failedRounds.count), "\(failedRounds.count) failed rounds logged in 3 s")
        #expect(failedRounds.allSatisfy { $0.metadata["error"]?.contains("refuses every call") == true })

        await client.shutdown()
        await fake.stop()
        await database.close()
    }
}
