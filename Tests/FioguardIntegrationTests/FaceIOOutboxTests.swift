import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// The deletion outbox against a fake FACEIO (`FakeFaceIO`) through the real binary: the call
/// FACEIO gets, retries of transient failures, permanent failures reported and not retried, jobs
/// that survive a crash, no API key, and the key kept out of every log line and answer.
/// Serialized: each test runs its own server and fake, and retry timing needs the CPU.
@Suite("FaceIO outbox", .serialized)
struct FaceIOOutboxTests {
    // MARK: success

    @Test("a deletion reaches FACEIO once, with the configured key (from --faceio-key-file) and the Facial ID")
    func deletionReachesFaceIO() async throws {
        try await FIO.withServer(key: .file(FIO.apiKey)) { _, fake, client in
            let fid = "fid0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s"
            try await FIO.enroll(client, subject: "ann", facialId: fid)
            #expect(fake.calls.isEmpty, "nothing is deleted before it is asked for")
            let queued = try await FIO.delete(client, subject: "ann")
            #expect(queued.count == 1)
            #expect(queued.first?["facialId"]?.stringValue == fid)
            #expect(["pending", "deleted"].contains(queued.first?["status"]?.stringValue ?? ""), "\(queued)")

            let shown = try await FIO.waitForDeletion(client, subject: "ann", status: "deleted")
            #expect(shown["status"]?.stringValue == "deleted")
            #expect(shown["deletion"]?["completedAt"]?.stringValue != nil)
            #expect(shown["deletion"]?["lastError"]?.isNull == true)

            let calls = fake.calls
            #expect(calls.count == 1, "\(calls)")
            #expect(calls.first?.path == "/deletefacialid")
            #expect(calls.first?.key == FIO.apiKey)
            #expect(calls.first?.fid == fid)
            #expect(fake.successCount(fid) == 1)

            let listed = try await FIO.deletions(client)
            #expect(listed.count == 1)
            #expect(listed.first?["status"]?.stringValue == "deleted")
            #expect(listed.first?["reason"]?.stringValue == "user_request")
            let completed = try await FIO.auditActions(client, subject: "ann").filter { $0 == "deletion.completed" }
            #expect(completed.count == 1)

            let health = try await FIO.health(client)
            #expect(health["faceio"]?["configured"]?.boolValue == true)
            #expect(health["faceio"]?["pendingDeletions"]?.intValue == 0)
            #expect(health["faceio"]?["failedDeletions"]?.intValue == 0)
            #expect(health["status"]?.stringValue == "ok")

            // Deleting again is idempotent: no second call to FACEIO.
            let again = try await FIO.delete(client, subject: "ann")
            #expect(again.first?["status"]?.stringValue == "deleted")
            try await Task.sleep(for: .milliseconds(1500))
            #expect(fake.calls.count == 1)
        }
    }

    @Test("the key may come from FIOGUARD_FACEIO_API_KEY; an odd Facial ID reaches FACEIO byte for byte")
    func keyFromEnvironmentAndPercentEncoding() async throws {
        try await FIO.withServer(key: .environment(FIO.apiKey)) { server, fake, client in
            let fid = "Fid+a/b&c=d?e#f%25g~h.i_j-k:l;m'n\"o"
            try await FIO.enroll(client, subject: "bob", facialId: fid)
            try await FIO.delete(client, subject: "bob")
            _ = try await FIO.waitForDeletion(client, subject: "bob", status: "deleted")
            #expect(fake.calls.map(\.fid) == [fid])
            #expect(fake.calls.first?.key == FIO.apiKey)
            #expect(fake.successCount(fid) == 1)
            #expect(try await FIO.health(client)["faceio"]?["configured"]?.boolValue == true)
            #expect(FIO.leaks(of: FIO.apiKey, core: FIO.apiKeyCore, in: server.log).isEmpty)
        }
    }

    @Test("an answer slower than usual but within the request timeout is one call, not a retry")
    func slowWithinTimeout() async throws {
        try await FIO.withServer(fakeMode: .slow(milliseconds: 2500)) { _, fake, client in
            try await FIO.enroll(client, subject: "cat", facialId: "fid-cat-slow")
            try await FIO.delete(client, subject: "cat")
            let shown = try await FIO.waitForDeletion(client, subject: "cat", status: "deleted")
            #expect(shown["deletion"]?["lastError"]?.isNull == true)
            #expect(fake.calls.count == 1, "no second call while the first is in flight: \(fake.calls)")
            #expect(fake.successCount("fid-cat-slow") == 1)
        }
    }

    @Test("an answer slower than the request timeout is retried")
    func slowBeyondTimeout() async throws {
        try await FIO.withServer(arguments: ["--faceio-request-timeout", "1"], fakeMode: .slow(milliseconds: 3000)) { _, fake, client in
            try await FIO.enroll(client, subject: "dan", facialId: "fid-dan-slow")
            try await FIO.delete(client, subject: "dan")
            try await FIO.waitUntil("a second call after the timeout") { fake.calls.count >= 2 }
            fake.mode = .ok
            _ = try await FIO.waitForDeletion(client, subject: "dan", status: "deleted")
        }
    }

    // MARK: transient failures

    @Test("FACEIO down: the deletion stays pending, then completes once it is back; success recorded once")
    func downThenBack() async throws {
        try await FIO.withServer(fakeMode: .down) { _, fake, client in
            let fid = "fid-eve-0001"
            try await FIO.enroll(client, subject: "eve", facialId: fid)
            try await FIO.delete(client, subject: "eve")
            try await FIO.waitUntil("two failed calls") { fake.calls(for: fid).count >= 2 }

            let pending = try await FIO.facialID(client, subject: "eve")
            #expect(pending["status"]?.stringValue == "deleting")
            #expect(pending["deletion"]?["status"]?.stringValue == "pending")
            #expect((pending["deletion"]?["attempts"]?.intValue ?? 0) >= 1)
            #expect(pending["deletion"]?["lastError"]?.stringValue?.isEmpty == false, "\(pending)")
            #expect(pending["deletion"]?["completedAt"]?.isNull == true)
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["pendingDeletions"]?.intValue == 1)
            #expect(health["faceio"]?["failedDeletions"]?.intValue == 0)
            #expect(try await FIO.deletions(client, status: "pending").count == 1)
            #expect(fake.successCount(fid) == 0)

            fake.mode = .ok
            let done = try await FIO.waitForDeletion(client, subject: "eve", status: "deleted")
            #expect(done["status"]?.stringValue == "deleted")
            #expect(done["deletion"]?["lastError"]?.isNull == true)
            #expect(fake.successCount(fid) == 1)

            let completed = try await FIO.auditActions(client, subject: "eve").filter { $0 == "deletion.completed" }
            #expect(completed.count == 1, "exactly one deletion.completed")
            let listed = try await FIO.deletions(client)
            #expect(listed.count == 1, "one job: \(listed)")
            #expect(listed.first?["status"]?.stringValue == "deleted")
            #expect(try await FIO.deletions(client, status: "deleted").count == 1)
            #expect(try await FIO.deletions(client, status: "pending").isEmpty)

            // Nothing more goes to FACEIO once it confirmed.
            let callsAfter = fake.calls.count
            try await Task.sleep(for: .milliseconds(2500))
            #expect(fake.calls.count == callsAfter)
            #expect(fake.successCount(fid) == 1)
            #expect(try await FIO.auditActions(client, subject: "eve").filter { $0 == "deletion.completed" }.count == 1)
        }
    }

    @Test("FACEIO unreachable (connection refused): pending, then done when it listens again")
    func connectionRefusedThenBack() async throws {
        try await FIO.withServer { _, fake, client in
            let port = fake.port
            await fake.stop()
            try await FIO.enroll(client, subject: "fay", facialId: "fid-fay-0001")
            try await FIO.delete(client, subject: "fay")
            let failing = try await eventually { () -> JSON? in
                let f = try await FIO.facialID(client, subject: "fay")
                guard (f["deletion"]?["attempts"]?.intValue ?? 0) >= 1 else { return Optional<JSON>.none }
                return f
            }
            let shown = try #require(failing, "a failed attempt recorded")
            #expect(shown["deletion"]?["status"]?.stringValue == "pending")
            #expect(shown["deletion"]?["lastError"]?.stringValue?.isEmpty == false)

            let back = try await FakeFaceIO.start(expectedKey: FIO.apiKey, port: port)
            do {
                _ = try await FIO.waitForDeletion(client, subject: "fay", status: "deleted")
                #expect(back.successCount("fid-fay-0001") == 1)
                #expect(back.calls.first?.key == FIO.apiKey)
            } catch {
                await back.stop()
                throw error
            }
            await back.stop()
        }
    }

    @Test("HTTP 500, HTTP 429 and a garbage body are retried, then the deletion completes", arguments: [
        FakeFaceIO.Mode.serverError, .tooManyRequests, .garbage,
    ])
    func transientFailuresRetried(mode: FakeFaceIO.Mode) async throws {
        try await FIO.withServer(fakeMode: mode) { _, fake, client in
            let fid = "fid-gus-0001"
            try await FIO.enroll(client, subject: "gus", facialId: fid)
            try await FIO.delete(client, subject: "gus")
            try await FIO.waitUntil("three calls while FACEIO answers \(mode)") { fake.calls(for: fid).count >= 3 }
            let pending = try await FIO.facialID(client, subject: "gus")
            #expect(pending["deletion"]?["status"]?.stringValue == "pending", "\(mode) is not permanent: \(pending)")
            #expect(pending["deletion"]?["lastError"]?.stringValue?.isEmpty == false)
            #expect(try await FIO.health(client)["faceio"]?["failedDeletions"]?.intValue == 0)

            fake.mode = .ok
            let done = try await FIO.waitForDeletion(client, subject: "gus", status: "deleted")
            #expect(done["deletion"]?["lastError"]?.isNull == true)
            #expect(fake.successCount(fid) == 1)
            #expect(try await FIO.auditActions(client, subject: "gus").filter { $0 == "deletion.completed" }.count == 1)
        }
    }

    @Test("retries back off: with FACEIO down, attempts are at least about a second apart")
    func retriesAreSpaced() async throws {
        try await FIO.withServer(fakeMode: .serverError) { _, fake, client in
            try await FIO.enroll(client, subject: "hal", facialId: "fid-hal-0001")
            try await FIO.delete(client, subject: "hal")
            try await FIO.waitUntil("a first call") { !fake.calls.isEmpty }
            try await Task.sleep(for: .seconds(4))
            // Whole-second schedule, jitter ≤ 0.5 s: at most one call per second, plus the first
            // and one at a second boundary. A worker without backoff would make dozens.
            let n = fake.calls.count
            #expect(n >= 2, "retried at all: \(n)")
            #expect(n <= 7, "backed off: \(n) calls in ~4 s")
        }
    }

    // MARK: crash and restart

    @Test("SIGKILL with deletions pending (FACEIO down), restart with FACEIO back: every job completes once")
    func crashWithPendingJobs() async throws {
        try await FIO.withServer(fakeMode: .down) { server, fake, client in
            let subjects = ["ida", "jon", "kim"]
            for s in subjects { try await FIO.enroll(client, subject: s, facialId: "fid-\(s)-crash") }
            for s in subjects { try await FIO.delete(client, subject: s) }
            try await FIO.waitUntil("each deletion tried once") {
                subjects.allSatisfy { fake.calls(for: "fid-\($0)-crash").count >= 1 }
            }
            #expect(try await FIO.deletions(client, status: "pending").count == 3)

            await server.crash()
            #expect(!server.isRunning)
            fake.mode = .ok
            try await server.start()
            try await client.reconnect(server)

            for s in subjects {
                let done = try await FIO.waitForDeletion(client, subject: s, status: "deleted")
                #expect(done["status"]?.stringValue == "deleted")
                #expect(fake.successCount("fid-\(s)-crash") == 1, "\(s)")
                #expect(try await FIO.auditActions(client, subject: s).filter { $0 == "deletion.completed" }.count == 1, "\(s)")
            }
            #expect(try await FIO.deletions(client, status: "deleted").count == 3)
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["pendingDeletions"]?.intValue == 0)
            #expect(health["status"]?.stringValue == "ok")
        }
    }

    @Test("no API key: deletions wait (pending, nothing sent), health says so; with a key after restart they complete")
    func noKeyJobsWait() async throws {
        try await FIO.withServer(key: .none) { server, fake, client in
            try await FIO.enroll(client, subject: "lea", facialId: "fid-lea-0001")
            let queued = try await FIO.delete(client, subject: "lea")
            #expect(queued.first?["status"]?.stringValue == "pending")
            try await Task.sleep(for: .milliseconds(1500))
            #expect(fake.calls.isEmpty)
            let shown = try await FIO.facialID(client, subject: "lea")
            #expect(shown["deletion"]?["status"]?.stringValue == "pending")
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["configured"]?.boolValue == false)
            #expect(health["faceio"]?["pendingDeletions"]?.intValue == 1)
            #expect(health["status"]?.stringValue == "degraded")

            #expect(await server.terminate() == 0)
            try server.directory.write("faceio.key", FIO.apiKey + "\n")
            server.arguments += ["--faceio-key-file", server.directory.file("faceio.key")]
            try await server.start()
            try await client.reconnect(server)
            _ = try await FIO.waitForDeletion(client, subject: "lea", status: "deleted")
            #expect(fake.calls.count == 1)
            #expect(fake.calls.first?.key == FIO.apiKey)
            #expect(try await FIO.health(client)["faceio"]?["configured"]?.boolValue == true)
        }
    }

    // MARK: permanent failures

    @Test("a refused API key (HTTP 401) is a reported permanent failure and is not retried")
    func badKeyPermanent() async throws {
        try await FIO.withServer(fakeMode: .badKey) { _, fake, client in
            let fid = "fid-max-0001"
            try await FIO.enroll(client, subject: "max", facialId: fid)
            try await FIO.delete(client, subject: "max")
            let failed = try await FIO.waitForDeletion(client, subject: "max", status: "failed")
            #expect(failed["deletion"]?["attempts"]?.intValue == 1)
            let lastError = try #require(failed["deletion"]?["lastError"]?.stringValue)
            #expect(lastError.contains("401"), "\(lastError)")

            let listed = try await FIO.deletions(client, status: "failed")
            #expect(listed.count == 1)
            #expect(listed.first?["status"]?.stringValue == "failed")
            #expect(listed.first?["lastError"]?.stringValue?.isEmpty == false)
            #expect(listed.first?["attempts"]?.intValue == 1)
            let health = try await FIO.health(client)
            #expect((health["faceio"]?["failedDeletions"]?.intValue ?? 0) >= 1)
            #expect(health["status"]?.stringValue == "degraded")
            #expect(try await FIO.auditActions(client, subject: "max").contains("deletion.failed"))

            let calls = fake.calls.count
            #expect(calls == 1)
            try await Task.sleep(for: .seconds(3))
            #expect(fake.calls.count == calls, "a permanent failure is not retried")
            #expect(try await FIO.facialID(client, subject: "max")["deletion"]?["status"]?.stringValue == "failed")
        }
    }

    @Test("a wrong key refused in the body (HTTP 200, status 401) is a permanent failure, not retried")
    func wrongKeyInBodyPermanent() async throws {
        try await FIO.withServer(key: .file("fk-not-the-right-key-123456"), fakeKey: FIO.apiKey) { _, fake, client in
            try await FIO.enroll(client, subject: "ned", facialId: "fid-ned-0001")
            try await FIO.delete(client, subject: "ned")
            let failed = try await FIO.waitForDeletion(client, subject: "ned", status: "failed")
            #expect(failed["deletion"]?["lastError"]?.stringValue?.contains("401") == true, "\(failed)")
            try await Task.sleep(for: .seconds(2))
            #expect(fake.calls.count == 1)
            #expect(fake.successCount("fid-ned-0001") == 0)
        }
    }

    @Test("a Facial ID FACEIO rejects is a permanent failure, not retried; other deletions still go through")
    func badFacialIDPermanent() async throws {
        try await FIO.withServer { _, fake, client in
            fake.rejectedFacialIDs = ["fid-oli-bad"]
            try await FIO.enroll(client, subject: "oli", facialId: "fid-oli-bad")
            try await FIO.enroll(client, subject: "pam", facialId: "fid-pam-good")
            try await FIO.delete(client, subject: "oli")
            try await FIO.delete(client, subject: "pam")
            let failed = try await FIO.waitForDeletion(client, subject: "oli", status: "failed")
            #expect(failed["deletion"]?["lastError"]?.stringValue?.contains("400") == true, "\(failed)")
            _ = try await FIO.waitForDeletion(client, subject: "pam", status: "deleted")
            #expect(fake.successCount("fid-pam-good") == 1)
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["failedDeletions"]?.intValue == 1)
            #expect(health["status"]?.stringValue == "degraded")
            try await Task.sleep(for: .seconds(2))
            #expect(fake.calls(for: "fid-oli-bad").count == 1)
        }
    }

    /// A permanent failure (a refused key) is not the end: once the operator fixed the key, the
    /// user's delete or the account's erasure tries again.
    /// With `subject.erase` the first request is the erasure itself: the subject is gone, and only
    /// a repeated erasure can still name the deletion.
    @Test("a failed deletion is tried again by facialId.delete or subject.erase", arguments: ["facialId.delete", "subject.erase"])
    func failedDeletionIsRetriedOnRequest(method: String) async throws {
        try await FIO.withServer(fakeMode: .badKey) { _, fake, client in
            let fid = "fid-rae-0001"
            try await FIO.enroll(client, subject: "rae", facialId: fid)
            _ = try await client.call(method, ["subject": "rae", "confirm": true])
            try await FIO.waitUntil("the deletion failed") { try await FIO.deletions(client, status: "failed").count == 1 }
            fake.mode = .ok
            _ = try await client.call(method, ["subject": "rae", "confirm": true])
            try await FIO.waitUntil("FACEIO deleted it") { fake.successCount(fid) == 1 }
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["failedDeletions"]?.intValue == 0)
            #expect(try await FIO.deletions(client, status: "deleted").count == 1)
        }
    }

    /// Once FACEIO confirmed an erased account's deletion, nothing raw of it is left: the erasure
    /// cleared the subject and the Facial ID's row, the confirmation the outbox job's copy, and
    /// secure_delete zeroed the bytes those updates freed.
    @Test("after an erasure FACEIO confirmed, the database file holds neither the subject nor the Facial ID")
    func confirmedErasureLeavesNoRawValue() async throws {
        try await FIO.withServer { server, fake, client in
            let subject = "gone-4c1d9e@example.org"
            let fid = "fid-gone-9b27e4c1d9e0"
            try await FIO.enroll(client, subject: subject, facialId: fid)
            _ = try await client.call("subject.erase", ["subject": .string(subject), "confirm": true])
            try await FIO.waitUntil("FACEIO deleted it") { fake.successCount(fid) == 1 }
            try await FIO.waitUntil("the deletion is recorded") { try await FIO.deletions(client, status: "deleted").count == 1 }
            #expect(await server.terminate() == 0)
            let left = Lifecycle.valuesInFileBytes([subject, fid], database: server.databasePath)
            #expect(left.isEmpty, "raw values are still in the file's bytes: \(left)")
        }
    }

    /// Fixing a refused key means a restart: the failed jobs are then tried once more, on their own.
    @Test("failed deletions are tried again after a restart with a key, and complete once FACEIO accepts it")
    func failedDeletionIsRetriedAfterRestart() async throws {
        try await FIO.withServer(fakeMode: .badKey) { server, fake, client in
            let fids = ["fid-sid-0001", "fid-ted-0001"]
            for (s, fid) in zip(["sid", "ted"], fids) {
                try await FIO.enroll(client, subject: s, facialId: fid)
                try await FIO.delete(client, subject: s)
            }
            try await FIO.waitUntil("both deletions failed") { try await FIO.deletions(client, status: "failed").count == 2 }
            // A restart that does not fix it: tried once more each, failed again, reported again.
            #expect(await server.terminate() == 0)
            try await server.start()
            try await client.reconnect(server)
            try await FIO.waitUntil("each tried again after the restart") { fids.allSatisfy { fake.calls(for: $0).count == 2 } }
            try await FIO.waitUntil("both failed again") { try await FIO.deletions(client, status: "failed").count == 2 }
            try await Task.sleep(for: .seconds(2))
            #expect(fids.allSatisfy { fake.calls(for: $0).count == 2 }, "one more try per start, no retry loop")

            #expect(await server.terminate() == 0)
            fake.mode = .ok
            try await server.start()
            try await client.reconnect(server)
            for (s, fid) in zip(["sid", "ted"], fids) {
                let done = try await FIO.waitForDeletion(client, subject: s, status: "deleted")
                #expect(done["deletion"]?["attempts"]?.intValue == 3, "\(done)")
                #expect(fake.successCount(fid) == 1)
                let actions = try await FIO.auditActions(client, subject: s)
                #expect(actions.filter { $0 == "deletion.retried" }.count == 2, "\(actions)")
                #expect(actions.filter { $0 == "deletion.failed" }.count == 2)
                #expect(actions.contains("deletion.completed"))
            }
            let health = try await FIO.health(client)
            #expect(health["faceio"]?["failedDeletions"]?.intValue == 0)
            #expect(health["status"]?.stringValue == "ok")
        }
    }

    @Test("the reported attempts count every call made, the successful one included")
    func attemptsCountTheSuccessfulCall() async throws {
        try await FIO.withServer(fakeMode: .serverError) { _, fake, client in
            let fid = "fid-quin-0001"
            try await FIO.enroll(client, subject: "quin", facialId: fid)
            try await FIO.delete(client, subject: "quin")
            try await FIO.waitUntil("two failed calls") { fake.calls(for: fid).count >= 2 }
            fake.mode = .ok
            let done = try await FIO.waitForDeletion(client, subject: "quin", status: "deleted")
            let calls = Int64(fake.calls(for: fid).count)
            let audited = try await FIO.auditEntries(client, subject: "quin").first { $0["action"]?.stringValue == "deletion.completed" }
            #expect(audited?["details"]?["attempts"]?.intValue == calls, "audit: \(audited?.encodedString() ?? "-")")
            #expect(done["deletion"]?["attempts"]?.intValue == calls, "facialId.show: \(done.encodedString()), FACEIO saw \(calls) calls")
            #expect(try await FIO.deletions(client).first?["attempts"]?.intValue == calls, "deletion.list")
        }
    }

    // MARK: the API key stays secret

    @Test("the API key appears in no log line and no RPC answer, through failures of every kind")
    func keyNeverLeaks() async throws {
        try await FIO.withServer(key: .file(FIO.apiKey), fakeMode: .down) { server, fake, client in
            let fid = "fid-rex-0001"
            try await FIO.enroll(client, subject: "rex", facialId: fid)
            try await FIO.delete(client, subject: "rex")
            for (mode, calls) in [(FakeFaceIO.Mode.down, 1), (.serverError, 2), (.garbage, 3), (.tooManyRequests, 4)] {
                fake.mode = mode
                try await FIO.waitUntil("call \(calls) (\(mode))") { fake.calls(for: fid).count >= calls }
                _ = try await FIO.facialID(client, subject: "rex")
                _ = try await FIO.deletions(client)
            }
            fake.mode = .ok
            _ = try await FIO.waitForDeletion(client, subject: "rex", status: "deleted")

            fake.mode = .badKey
            try await FIO.enroll(client, subject: "sue", facialId: "fid-sue-0001")
            try await FIO.delete(client, subject: "sue")
            _ = try await FIO.waitForDeletion(client, subject: "sue", status: "failed")

            // Every read method that could echo configuration or errors.
            _ = try await FIO.health(client)
            _ = try await FIO.deletions(client)
            _ = try await FIO.deletions(client, status: "failed")
            _ = try await FIO.auditEntries(client)
            _ = try await client.call("facialId.show", ["subject": "rex"])
            _ = try await client.call("facialId.show", ["subject": "sue"])
            _ = try await client.call("policy.disclosure", ["country": "DE"])
            _ = try await client.call("rpc.discover")
            _ = try await client.failure("facialId.delete", ["subject": "sue"])
            _ = try await client.failure("no.such.method")
            _ = try await client.failure("deletion.list", ["status": "bogus"])

            #expect(fake.calls.allSatisfy { $0.key == FIO.apiKey }, "the key was sent")
            let log = server.log
            #expect(log.contains("deletion will be retried"), "the failure paths were logged (debug level)")
            #expect(log.contains("deletion failed permanently"))
            let logLeaks = FIO.leaks(of: FIO.apiKey, core: FIO.apiKeyCore, in: log)
            #expect(logLeaks.isEmpty, "key in the log: \(logLeaks)")
            let answerLeaks = FIO.leaks(of: FIO.apiKey, core: FIO.apiKeyCore, in: client.transcript.joined(separator: "\n"))
            #expect(answerLeaks.isEmpty, "key in an answer: \(answerLeaks)")
            #expect(client.transcript.count >= 20)
        }
    }

    @Test("a FACEIO error message quoting the key does not carry it into lastError or the log")
    func keyQuotedByFaceIOIsScrubbed() async throws {
        try await FIO.withServer(key: .file(FIO.apiKey), fakeMode: .badKey) { server, fake, client in
            fake.echoesKeyInErrors = true
            try await FIO.enroll(client, subject: "tom", facialId: "fid-tom-0001")
            try await FIO.delete(client, subject: "tom")
            let failed = try await FIO.waitForDeletion(client, subject: "tom", status: "failed")
            _ = try await FIO.deletions(client, status: "failed")
            _ = try await FIO.auditEntries(client)
            #expect(failed["deletion"]?["lastError"]?.stringValue?.contains("401") == true)
            let answerLeaks = FIO.leaks(of: FIO.apiKey, core: FIO.apiKeyCore, in: client.transcript.joined(separator: "\n"))
            #expect(answerLeaks.isEmpty, "key in an answer: \(answerLeaks)")
            let logLeaks = FIO.leaks(of: FIO.apiKey, core: FIO.apiKeyCore, in: server.log)
            #expect(logLeaks.isEmpty, "key in the log: \(logLeaks)")
        }
    }

    @Test("a FACEIO error message quoting the Facial ID does not carry it into lastError or the log")
    func facialIDQuotedByFaceIOIsScrubbed() async throws {
        try await FIO.withServer(fakeMode: .serverError) { server, fake, client in
            fake.quotesFacialIDInErrors = true
            let retried = "fid-tia-retried", rejected = "fid-uma-rejected"
            fake.rejectedFacialIDs = [rejected]
            try await FIO.enroll(client, subject: "tia", facialId: retried)
            try await FIO.enroll(client, subject: "uma", facialId: rejected)
            try await FIO.delete(client, subject: "tia")
            try await FIO.waitUntil("a failed call, recorded") {
                try await FIO.facialID(client, subject: "tia")["deletion"]?["lastError"]?.stringValue != nil
            }
            let pending = try await FIO.facialID(client, subject: "tia")
            #expect(pending["deletion"]?["lastError"]?.stringValue == "HTTP 500: Facial ID <facial id>: Internal Server Error")
            fake.mode = .ok
            try await FIO.delete(client, subject: "uma")
            let failed = try await FIO.waitForDeletion(client, subject: "uma", status: "failed")
            #expect(failed["deletion"]?["lastError"]?.stringValue == "FACEIO status 400: Facial ID <facial id>: Invalid Facial ID")
            _ = try await FIO.waitForDeletion(client, subject: "tia", status: "deleted")
            #expect(!fake.calls(for: rejected).isEmpty, "FACEIO was asked for the real Facial ID")

            let log = server.log
            #expect(log.contains("deletion will be retried") && log.contains("deletion failed permanently"))
            for fid in [retried, rejected] {
                let leaks = log.split(separator: "\n").filter { $0.contains(fid) }
                #expect(leaks.isEmpty, "Facial ID in the log: \(leaks)")
            }
        }
    }
}

/// The outbox's politeness towards FACEIO: `--faceio-rate` and `--faceio-max-concurrent`.
@Suite("FaceIO outbox limits", .serialized)
struct FaceIOOutboxLimitTests {
    /// Enrolls `count` subjects, then queues all their deletions at once; returns the seconds until
    /// FACEIO has answered every one.
    static func deleteMany(_ client: FIO.Client, fake: FakeFaceIO, prefix: String, count: Int) async throws -> Double {
        for i in 0..<count { try await FIO.enroll(client, subject: "\(prefix)-\(i)", facialId: "fid-\(prefix)-\(i)") }
        let start = ContinuousClock.now
        for i in 0..<count { _ = try await FIO.delete(client, subject: "\(prefix)-\(i)") }
        try await FIO.waitUntil("\(count) deletions answered") {
            (0..<count).allSatisfy { fake.successCount("fid-\(prefix)-\($0)") == 1 }
        }
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test("--faceio-rate 2: six deletions take at least two seconds (burst of two, then one per half second)")
    func rateLimit() async throws {
        try await FIO.withServer(arguments: ["--faceio-rate", "2"]) { _, fake, client in
            let seconds = try await Self.deleteMany(client, fake: fake, prefix: "rate", count: 6)
            #expect(seconds >= 1.8, "6 calls in \(seconds) s at 2/s")
        }
    }

    @Test("--faceio-max-concurrent 1: never two calls at FACEIO at once; by default several")
    func concurrencyCap() async throws {
        try await FIO.withServer(arguments: ["--faceio-max-concurrent", "1"], fakeMode: .slow(milliseconds: 300)) { _, fake, client in
            _ = try await Self.deleteMany(client, fake: fake, prefix: "one", count: 4)
            #expect(fake.maxInFlight == 1)
        }
        try await FIO.withServer(fakeMode: .slow(milliseconds: 300)) { _, fake, client in
            _ = try await Self.deleteMany(client, fake: fake, prefix: "many", count: 4)
            #expect(fake.maxInFlight > 1, "the default allows 4 in flight")
        }
    }
}
