import FioguardFaceIO
import FioguardServices
@testable import FioguardStore
import FioguardTesting
import Logging
import Testing

/// The deletion outbox while the store fails it, driven in-process against `FakeFaceIO`: it
/// pauses longer after each round that failed, or that recorded no outcome, instead of taking the
/// same jobs again every poll, calling FACEIO at its rate limit and logging each time.
@Suite struct DeletionOutboxPauseTests {
    /// A store with one deletion job due now, a fake FACEIO, and an outbox logging to `records`.
    struct Rig {
        let dir: TemporaryDirectory
        let database: Database
        let fake: FakeFaceIO
        let client: FaceIOClient
        let outbox: DeletionOutbox
        let records = LogRecords()

        init(prefix: String) async throws {
            dir = try TemporaryDirectory(prefix: prefix)
            let env: ServiceEnvironment
            (database, env) = try await openServiceEnvironment(at: dir.file("db.sqlite"))
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
            fake = try await FakeFaceIO.start(expectedKey: "test-key")
            var configuration = FaceIOConfiguration()
            configuration.baseURL = fake.baseURL
            configuration.apiKey = "test-key"
            client = FaceIOClient(configuration: configuration, logger: Logger(label: "fioguard.outbox.tests") { _ in SwiftLogNoOpLogHandler() })
            outbox = DeletionOutbox(env: env, client: client, logger: records.logger())
        }

        func messages(_ message: String) -> [LogRecords.Record] {
            records.all.filter { $0.message.description == message }
        }

        func jobStatus() async throws -> String? {
            try await database.read { try $0.queryOne("SELECT status FROM deletion_jobs WHERE id = 1")?.text(0) }
        }

        /// The directory goes in the test's `defer`, so a test that throws leaves none behind.
        func close() async {
            await client.shutdown()
            await fake.stop()
            await database.close()
        }
    }

    /// Checkpoints stopped after a disk error (`CheckpointTrigger.stopCheckpoints`): the store
    /// refuses reads too, so every round fails before it calls FACEIO.
    @Test func theOutboxBacksOffWhileTheStoreRefusesCalls() async throws {
        let rig = try await Rig(prefix: "fgpause")
        defer { rig.dir.remove() }
        rig.database.stopCheckpoints()
        let running = Task { await rig.outbox.run() }
        try await Task.sleep(for: .seconds(3))
        running.cancel()
        await running.value

        #expect(rig.fake.calls.isEmpty, "the store refused the job's read, so nothing may reach FACEIO")
        // Pauses of 400, 800, 1600 ms … after the first round: 3 or 4 rounds in 3 s, where the
        // 200 ms poll would make 15.
        let failedRounds = rig.messages("deletion outbox round failed")
        #expect((2...5).contains(failedRounds.count), "\(failedRounds.count) failed rounds logged in 3 s")
        #expect(failedRounds.allSatisfy { $0.metadata["error"]?.contains("refuses every call") == true })
        await rig.close()
    }

    /// The store reads but refuses the outcome's write (a full disk, say; here a trigger): the
    /// job stays due, and each round calls FACEIO for it again. The pause doubles, so a few
    /// calls go out in 2 s rather than one per poll, and the job completes once writes work.
    @Test func theOutboxBacksOffWhileNoOutcomeCanBeRecorded() async throws {
        let rig = try await Rig(prefix: "fgunrec")
        defer { rig.dir.remove() }
        try await rig.database.write { connection in
            try connection.run(
                "CREATE TRIGGER refuse_outcomes BEFORE UPDATE ON deletion_jobs BEGIN SELECT RAISE(ABORT, 'outcome refused by the test'); END")
        }
        let running = Task { await rig.outbox.run() }
        try await Task.sleep(for: .seconds(2))

        // Rounds at 0, 0.4 and 1.2 s, the next at 2.8 s: looked at in the middle of a pause. A
        // fixed 200 ms poll would have made 10. Messages first: a round may be between its call
        // and its message.
        let unrecorded = rig.messages("could not record a deletion outcome; the job stays due")
        let calls = rig.fake.calls.count
        #expect((2...4).contains(calls), "\(calls) FACEIO calls in 2 s for one job")
        #expect((0...1).contains(calls - unrecorded.count), "\(calls) calls, \(unrecorded.count) unrecorded")
        #expect(unrecorded.allSatisfy { $0.metadata["error"]?.contains("outcome refused by the test") == true })
        #expect(rig.messages("deletion outbox round failed").isEmpty, "the rounds' reads worked")
        #expect(try await rig.jobStatus() == "pending")

        try await rig.database.write { try $0.run("DROP TRIGGER refuse_outcomes") }
        // The pause under way is 1.6 s (3.2 s had a fourth round run), well inside 10 s.
        let deadline = ContinuousClock.now + .seconds(10)
        while try await rig.jobStatus() != "done", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        running.cancel()
        await running.value
        #expect(try await rig.jobStatus() == "done", "the job completes once its outcome can be written")
        #expect(rig.messages("facial id deleted at FACEIO").count == 1)
        await rig.close()
    }
}
