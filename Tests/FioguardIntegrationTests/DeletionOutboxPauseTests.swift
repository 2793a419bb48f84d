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
    /// refuses reads too, so every round fails before it calls FACEIO. The failed rounds come
    /// further and further apart (400, 800 ms … after the 200 ms poll), measured between the log
    /// lines' times, which a slow machine can only stretch.
    @Test func theOutboxBacksOffWhileTheStoreRefusesCalls() async throws {
        let rig = try await Rig(prefix: "fgpause")
        defer { rig.dir.remove() }
        rig.database.stopCheckpoints()
        let running = Task { await rig.outbox.run() }
        let deadline = ContinuousClock.now + .seconds(30)
        while rig.messages("deletion outbox round failed").count < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        running.cancel()
        await running.value

        #expect(rig.fake.calls.isEmpty, "the store refused the job's read, so nothing may reach FACEIO")
        let failedRounds = rig.messages("deletion outbox round failed")
        try #require(failedRounds.count >= 3, "\(failedRounds.count) failed rounds logged in 30 s")
        // With the fixed 200 ms poll both gaps would be about 200 ms.
        #expect(failedRounds[1].at - failedRounds[0].at >= .milliseconds(380), "\(failedRounds[1].at - failedRounds[0].at)")
        #expect(failedRounds[2].at - failedRounds[1].at >= .milliseconds(780), "\(failedRounds[2].at - failedRounds[1].at)")
        #expect(failedRounds.allSatisfy { $0.metadata["error"]?.contains("refuses every call") == true })
        await rig.close()
    }

    /// The store reads but refuses the outcome's write (a full disk, say; here a trigger): the
    /// job stays due, and each round calls FACEIO for it again. The pause after each such round
    /// doubles (400, 800 ms … after the 200 ms poll), so the calls come further and further apart
    /// instead of one per poll; and the job completes once writes work. Measured between the
    /// calls' arrival times at the fake, not against the test's clock, so a slow machine (the
    /// sanitizer build, a loaded CI) cannot fail it: a pause is never shorter than asked for.
    @Test func theOutboxBacksOffWhileNoOutcomeCanBeRecorded() async throws {
        let rig = try await Rig(prefix: "fgunrec")
        defer { rig.dir.remove() }
        try await rig.database.write { connection in
            try connection.run(
                "CREATE TRIGGER refuse_outcomes BEFORE UPDATE ON deletion_jobs BEGIN SELECT RAISE(ABORT, 'outcome refused by the test'); END")
        }
        let running = Task { await rig.outbox.run() }
        let deadline = ContinuousClock.now + .seconds(30)
        while rig.fake.calls.count < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let times = rig.fake.callTimes
        try #require(times.count >= 3, "\(times.count) FACEIO calls in 30 s")
        // With the fixed 200 ms poll both gaps would be about 200 ms.
        #expect(times[1] - times[0] >= .milliseconds(380), "\(times[1] - times[0]) between the first two calls")
        #expect(times[2] - times[1] >= .milliseconds(780), "\(times[2] - times[1]) between the next two")
        // Messages before calls: a round may be between its call and its message.
        let unrecorded = rig.messages("could not record a deletion outcome; the job stays due")
        let calls = rig.fake.calls.count
        #expect((0...1).contains(calls - unrecorded.count), "\(calls) calls, \(unrecorded.count) unrecorded")
        #expect(unrecorded.allSatisfy { $0.metadata["error"]?.contains("outcome refused by the test") == true })
        #expect(rig.messages("deletion outbox round failed").isEmpty, "the rounds' reads worked")
        #expect(try await rig.jobStatus() == "pending")

        try await rig.database.write { try $0.run("DROP TRIGGER refuse_outcomes") }
        // The pause under way is at most 3.2 s (after a fourth round), well inside 30 s.
        let done = ContinuousClock.now + .seconds(30)
        while try await rig.jobStatus() != "done", ContinuousClock.now < done {
            try await Task.sleep(for: .milliseconds(50))
        }
        running.cancel()
        await running.value
        #expect(try await rig.jobStatus() == "done", "the job completes once its outcome can be written")
        #expect(rig.messages("facial id deleted at FACEIO").count == 1)
        await rig.close()
    }
}
