#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import FioguardStore
import FioguardTesting
import Logging
import Testing

@Suite("Database")
struct DatabaseTests {
    @Test func durabilitySettingsAreAppliedOnEveryConnection() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let settings: @Sendable (Connection) throws -> [SQLValue] = { connection in
                [
                    try connection.queryOne("PRAGMA journal_mode")?[0] ?? .null,
                    try connection.queryOne("PRAGMA synchronous")?[0] ?? .null,
                    try connection.queryOne("PRAGMA foreign_keys")?[0] ?? .null,
                    try connection.queryOne("PRAGMA busy_timeout")?[0] ?? .null,
                    try connection.queryOne("PRAGMA secure_delete")?[0] ?? .null,
                    // Memory (2): migrations run with files (1), and the writer goes back after.
                    try connection.queryOne("PRAGMA temp_store")?[0] ?? .null,
                ]
            }
            let expected: [SQLValue] = [.text("wal"), .int(2), .int(1), .int(5000), .int(1), .int(2)]
            #expect(try await db.write(settings) == expected)
            for _ in 0..<4 {
                #expect(try await db.read(settings) == expected)
            }
            await db.close()
        }
    }

    /// The file holds personal data: created by the store, it and its WAL and shared-memory files
    /// are for their owner only, whatever the umask lets through.
    @Test func aNewDatabaseFileIsForItsOwnerOnly() async throws {
        try await withTemporaryDirectory { dir in
            let old = umask(0o022)
            defer { umask(old) }
            let db = try openDatabase(dir)
            try await db.write { try $0.execute("INSERT INTO note(body) VALUES ('a')") }
            for suffix in ["", "-wal", "-shm"] {
                #expect(mode(of: dir + "/store.sqlite" + suffix) == 0o600, "store.sqlite\(suffix)")
            }
            await db.close()
        }
    }

    /// proto-docs promises that a clean stop folds the WAL (which may hold older copies of erased
    /// values) into the database file and removes it.
    @Test func closingFoldsTheWALIntoTheFileAndRemovesIt() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { try $0.execute("INSERT INTO note(body) VALUES ('kept')") }
            #expect(access(dir + "/store.sqlite-wal", F_OK) == 0, "a write goes to the WAL first")
            await db.close()
            #expect(access(dir + "/store.sqlite-wal", F_OK) != 0, "the WAL is still there after close")
            let again = try openDatabase(dir)
            #expect(try await again.read { try $0.queryOne("SELECT body FROM note")?[0] } == .text("kept"))
            await again.close()
        }
    }

    /// An existing file keeps the permissions its owner gave it.
    @Test func anExistingDatabaseFileKeepsItsPermissions() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/store.sqlite"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o640)
            #expect(fd >= 0)
            close(fd)
            #expect(chmod(path, 0o640) == 0)
            let db = try openDatabase(dir)
            try await db.write { try $0.execute("INSERT INTO note(body) VALUES ('a')") }
            #expect(mode(of: path) == 0o640)
            await db.close()
        }
    }

    /// Others may open an existing file: the store says so once, at start-up, and leaves it be.
    @Test(arguments: [(0o600 as mode_t, false), (0o640, true), (0o604, true), (0o660, true)])
    func anExistingFileOpenToOthersIsWarnedAbout(mode: mode_t, warned: Bool) async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/store.sqlite"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            #expect(fd >= 0)
            close(fd)
            #expect(chmod(path, mode) == 0)
            let records = LogRecords()
            Database.createOwnerOnly(path, logger: records.logger())
            let warnings = records.all.filter { $0.level == .warning }
            #expect(warnings.count == (warned ? 1 : 0), "\(records.all)")
            if warned {
                #expect(warnings.first?.message.contains("open to other users") == true)
                #expect(warnings.first?.metadata["mode"] == String(mode, radix: 8))
            }
            #expect(self.mode(of: path) == mode)
        }
    }

    private func mode(of path: String) -> mode_t? {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o777 : nil
    }

    #if os(Linux)
    /// The store's threads carry names, so `top -H` and per-thread CPU figures can tell them apart.
    @Test func storeThreadsAreNamed() async throws {
        try await withTemporaryDirectory { dir in
            // Six readers: no other test opens that many, so fg-reader-5 can only be this one's.
            let db = try openDatabase(dir) { $0.readerCount = 6 }
            let expected: Set = ["fg-writer", "fg-checkpointer", "fg-reader-0", "fg-reader-5"]
            // Each thread names itself as it starts, so the last may still be on its way.
            try await poll(timeout: .seconds(10)) { expected.isSubset(of: threadNames()) }
            await db.close()
        }
    }

    private func threadNames() -> Set<String> {
        var names: Set<String> = []
        guard let tasks = opendir("/proc/self/task") else { return names }
        defer { closedir(tasks) }
        while let entry = readdir(tasks) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let file = fopen("/proc/self/task/\(tid)/comm", "r") else { continue }
            var line = [UInt8](repeating: 0, count: 64)
            let n = fread(&line, 1, line.count, file)
            fclose(file)
            names.insert(String(decoding: line[..<n].prefix { $0 != 0 && $0 != 10 }, as: UTF8.self))
        }
        return names
    }
    #endif

    @Test func waitingWritesCommitInOneGroup() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let before = db.committedGroups
            try await writeWhileWriterIsHeld(db, waiting: 99) { index in
                { try $0.run("INSERT INTO note (body) VALUES (?)", [.text("note \(index)")]) }
            }
            #expect(db.committedGroups - before == 2)  // the held one, then all 99 waiting together
            #expect(db.committedWrites == 100)
            #expect(try await count("note", in: db) == 100)
            await db.close()
        }
    }

    @Test func groupsAreCappedAtMaxGroupSize() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir) { $0.maxGroupSize = 10 }
            let before = db.committedGroups
            try await writeWhileWriterIsHeld(db, waiting: 40) { index in
                { try $0.run("INSERT INTO note (body) VALUES (?)", [.text("note \(index)")]) }
            }
            #expect(db.committedGroups - before == 5)
            #expect(try await count("note", in: db) == 41)
            await db.close()
        }
    }

    /// How a closure can change the database before it throws: through a cached statement,
    /// through `execute`, or with a statement that fails (SQLite undoes that statement alone).
    enum ChangeBeforeThrow: CaseIterable, Sendable { case run, execute, failedInsert }

    @Test(arguments: ChangeBeforeThrow.allCases)
    func aThrowingWriteRollsBackOnlyItself(_ change: ChangeBeforeThrow) async throws {
        struct Refused: Error {}
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { try $0.run("INSERT INTO subject (name) VALUES ('ann')") }
            let before = (groups: db.committedGroups, replays: db.replayedGroups)
            let outcomes = try await writeWhileWriterIsHeld(db, waiting: 10) { index in
                { connection in
                    // A token of this run: the caller must get the run that committed, not one
                    // a replay undid.
                    let token = "note \(index) \(UInt64.random(in: 0...UInt64.max))"
                    guard index == 5 else {
                        try connection.run("INSERT INTO note (body) VALUES (?)", [.text(token)])
                        return token
                    }
                    switch change {
                    case .run: try connection.run("INSERT INTO note (body) VALUES (?)", [.text(token)])
                    case .execute: try connection.execute("INSERT INTO note (body) VALUES ('note 5 by execute')")
                    case .failedInsert:  // fails, so it changed nothing: still counted as a write
                        _ = try? connection.run("INSERT INTO subject (name) VALUES ('ann')")
                    }
                    throw Refused()
                }
            }
            #expect(db.committedGroups - before.groups == 2)
            #expect(db.replayedGroups - before.replays == 1)
            var tokens: Set<String> = []
            for (index, outcome) in outcomes {
                if index == 5 {
                    #expect(throws: Refused.self) { try outcome.get() }
                } else {
                    #expect(throws: Never.self) { tokens.insert(try outcome.get()) }
                }
            }
            let bodies = try await db.read { try $0.query("SELECT body FROM note").compactMap { $0.text(0) } }
            #expect(bodies.count == 10)
            #expect(!bodies.contains { $0.hasPrefix("note 5") })
            #expect(tokens.count == 9 && tokens.isSubset(of: Set(bodies)))
            await db.close()
        }
    }

    /// A closure that catches an error after which SQLite rolled the whole transaction back
    /// (here `RAISE(ROLLBACK)` from a trigger; SQLITE_FULL or SQLITE_IOERR can do it too) and
    /// returns must not let the closures after it run outside a transaction: what ran before it is
    /// gone, so it fails, and the others run again and commit in a new transaction. One that goes
    /// on writing after the caught error is refused (`transactionLost`), so nothing of it commits
    /// on its own.
    @Test func aTransactionSQLiteRolledBackIsNotCommittedPiecemeal() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { connection in
                try connection.execute("""
                    CREATE TABLE boom (x TEXT);
                    CREATE TRIGGER boom_rollback BEFORE INSERT ON boom BEGIN SELECT RAISE(ROLLBACK, 'boom'); END;
                    """)
            }
            let runs = RunCounter()
            let outcomes = try await writeWhileWriterIsHeld(db, waiting: 10) { index in
                { connection in
                    runs.add(index)
                    if index == 5 {
                        _ = try? connection.run("INSERT INTO boom VALUES ('x')")  // caught, and the closure returns
                        return
                    }
                    if index == 6 {
                        _ = try? connection.run("INSERT INTO boom VALUES ('x')")  // caught, and it goes on
                        try connection.run("INSERT INTO note (body) VALUES ('note 6, outside the transaction')")
                        return
                    }
                    try connection.run("INSERT INTO note (body) VALUES (?)", [.text("note \(index)")])
                }
            }
            #expect(throws: (any Error).self) { try outcomes[5]!.get() }
            if case .failure(let error)? = outcomes[6] {
                #expect((error as? StoreError)?.message == StoreError.transactionLost.message, "\(error)")
            } else {
                Issue.record("a write after the transaction was lost succeeded")
            }
            let bodies = Set(try await db.read { try $0.query("SELECT body FROM note").compactMap { $0.text(0) } })
            // Every call that succeeded is in the table, and nothing else but the holder's note.
            let succeeded = Set(outcomes.compactMap { index, outcome in (try? outcome.get()).map { "note \(index)" } })
            #expect(bodies == succeeded.union(["holder"]))
            #expect(succeeded.count == 8)
            #expect(runs.counts[5] == 2)  // the first pass noticed it, and replayed
            await db.close()
        }
    }

    /// A full database (SQLITE_FULL, here from `max_page_count`) in the middle of a group: SQLite
    /// rolls the whole transaction back. Every caller gets an answer; only writes that hit the
    /// limit themselves fail, with SQLITE_FULL, while the others are run again and commit as long
    /// as there is room; exactly the writes that succeeded are in the table; the writer goes on
    /// once there is room again.
    @Test func aDatabaseFullInTheMiddleOfAGroupLeavesExactlyTheSuccessfulWrites() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let pages = try #require(try await db.write { try $0.queryOne("PRAGMA page_count")?.int(0) })
            try await db.write { try $0.execute("PRAGMA max_page_count = \(pages + 3)") }
            let runs = RunCounter()
            let outcomes = try await writeWhileWriterIsHeld(db, waiting: 20) { index in
                { connection in
                    runs.add(index)
                    try connection.run("INSERT INTO note (body) VALUES (?)", [.text("note \(index) " + String(repeating: "x", count: 3000))])
                }
            }
            // A few runs each (first pass, replay, then its own transaction), not one per failure.
            #expect(runs.counts.values.allSatisfy { $0 <= 4 }, "\(runs.counts)")
            #expect(outcomes.count == 20)
            let failures = outcomes.values.filter { if case .failure = $0 { true } else { false } }
            #expect(!failures.isEmpty, "the limit was never reached")
            #expect(failures.count < 20, "nothing fitted in the room left")
            for case .failure(let error) in outcomes.values {
                #expect((error as? StoreError)?.code == 13, "\(error)")  // SQLITE_FULL
            }
            let succeeded = Set(outcomes.compactMap { index, outcome in (try? outcome.get()).map { _ in "note \(index)" } })
            let bodies = Set(try await db.read { try $0.query("SELECT body FROM note").compactMap { $0.text(0)?.split(separator: " ").prefix(2).joined(separator: " ") } })
            #expect(bodies == succeeded.union(["holder"]))
            try await db.write { try $0.execute("PRAGMA max_page_count = 1073741823") }
            try await db.write { try $0.run("INSERT INTO note (body) VALUES ('after')") }
            #expect(try await count("note", in: db) == Int64(succeeded.count + 2))
            await db.close()
        }
    }

    /// The common refusal (a lookup, then a throw) changes nothing: its group is not replayed,
    /// so every closure runs once.
    @Test func aWriteThatThrowsBeforeChangingAnythingDoesNotReplayItsGroup() async throws {
        struct Refused: Error {}
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let runs = RunCounter()
            let before = (groups: db.committedGroups, replays: db.replayedGroups)
            let outcomes = try await writeWhileWriterIsHeld(db, waiting: 10) { index in
                { connection in
                    runs.add(index)
                    if index == 5 {
                        _ = try connection.queryOne("SELECT count(*) FROM note")
                        throw Refused()
                    }
                    try connection.run("INSERT INTO note (body) VALUES (?)", [.text("note \(index)")])
                }
            }
            #expect(db.committedGroups - before.groups == 2)
            #expect(db.replayedGroups == before.replays)
            #expect(runs.counts == Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, 1) }))
            #expect(throws: Refused.self) { try outcomes[5]!.get() }
            #expect(try await count("note", in: db) == 10)  // the holder's and nine
            await db.close()
        }
    }

    /// Staged `meta` values: each closure of a group reads what the one before it staged; the
    /// last value is what the database holds after the commit, and after a reopen. A closure that
    /// staged a value and then threw leaves nothing of it, even without a statement that wrote.
    /// Readers cannot stage (they would never write it).
    @Test func stagedMetaIsSharedAlongTheGroupAndCommitted() async throws {
        struct Refused: Error {}
        @Sendable func counter(_ bytes: [UInt8]?) -> Int { bytes.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0 }
        try await withTemporaryDirectory { dir in
            var db = try openDatabase(dir)
            try await db.write { try $0.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT") }
            let before = db.replayedGroups
            let outcomes = try await writeWhileWriterIsHeld(db, waiting: 10) { index in
                { connection -> Int in
                    let seen = try counter(connection.stagedMeta("counter"))
                    if index == 5 {
                        try connection.setStagedMeta("counter", Array("1000".utf8))
                        throw Refused()
                    }
                    try connection.setStagedMeta("counter", Array(String(seen + 1).utf8))
                    return seen
                }
            }
            #expect(db.replayedGroups - before == 1)
            // Each of the nine saw the count of those before it: 0 to 8, once each.
            let seen = outcomes.compactMap { try? $0.value.get() }.sorted()
            #expect(seen == Array(0..<9))
            #expect(try await db.read { try counter($0.meta("counter")) } == 9)
            // Later groups go on from the committed value, and so does a reopened store.
            try await db.write { connection in
                try connection.setStagedMeta("counter", Array(String(try counter(connection.stagedMeta("counter")) + 1).utf8))
            }
            await db.close()
            db = try openDatabase(dir)
            #expect(try await db.write { try counter($0.stagedMeta("counter")) } == 10)
            await #expect(throws: StoreError.self) { try await db.read { try $0.setStagedMeta("counter", [1]) } }
            await #expect(throws: StoreError.self) { try await db.read { try $0.stagedMeta("counter") } }
            await db.close()
        }
    }

    /// Closures that each change about 750 existing pages (3 MB of statement journal) share a
    /// group with small ones: the savepoints must still undo exactly the closure that threw,
    /// whatever the order they ran in (the small ones add rows the large ones do not touch).
    @Test func aLargeThrowingWriteRollsBackOnlyItself() async throws {
        struct Refused: Error {}
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { connection in
                for _ in 0..<3000 {
                    try connection.run("INSERT INTO note (body) VALUES (?)", [.text(String(repeating: "v", count: 1000))])
                }
            }
            let outcomes = try await writeWhileWriterIsHeld(db, waiting: 6) { index in
                { connection in
                    switch index {
                    case 0:  // about 750 pages journaled, then undone
                        try connection.run("UPDATE note SET body = 'X' || body WHERE id <= 3000")
                        throw Refused()
                    case 5:  // the same, kept
                        try connection.run("UPDATE note SET body = body || '+' WHERE id <= 3000")
                    default:
                        try connection.run("INSERT INTO note (id, body) VALUES (?, ?)", [.int(Int64(10_000 + index)), .text("kept \(index)")])
                    }
                }
            }
            #expect(throws: Refused.self) { try outcomes[0]!.get() }
            for index in 1...5 { #expect(throws: Never.self) { try outcomes[index]!.get() } }
            let rows = try await db.read { try $0.query("SELECT id, body FROM note WHERE id <= 3000 ORDER BY id") }
            #expect(rows.count == 3000)
            #expect(rows.allSatisfy { $0.text(1)!.hasSuffix("+") && !$0.text(1)!.hasSuffix("++") && !$0.text(1)!.hasPrefix("X") })
            let kept = try await db.read { try $0.query("SELECT body FROM note WHERE id > 10000 ORDER BY id").compactMap { $0.text(0) } }
            #expect(kept == ["kept 1", "kept 2", "kept 3", "kept 4"])
            #expect(rows[1].text(1) == String(repeating: "v", count: 1000) + "+")
            await db.close()
        }
    }

    @Test func writerSurvivesThrowingAndFailingWrites() async throws {
        struct Refused: Error {}
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            await #expect(throws: Refused.self) {
                try await db.write { connection in
                    try connection.run("INSERT INTO note (body) VALUES ('gone')")
                    throw Refused()
                }
            }
            await #expect(throws: StoreError.self) {
                try await db.write { try $0.run("INSERT INTO nowhere VALUES (1)") }
            }
            try await db.write { try $0.run("INSERT INTO note (body) VALUES ('kept')") }
            #expect(try await db.read { try $0.query("SELECT body FROM note").map { $0[0] } } == [.text("kept")])
            await db.close()
        }
    }

    @Test func readsSeeEveryWriteThatReturned() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir) { $0.readerCount = 3 }
            for index in 1...200 {
                let id = try await db.write { connection in
                    try connection.run("INSERT INTO note (body) VALUES (?)", [.text("n\(index)")])
                    return connection.lastInsertRowID
                }
                let body = try await db.read { try $0.queryOne("SELECT body FROM note WHERE id = ?", [.int(id)])?.text(0) }
                #expect(body == "n\(index)")
            }
            #expect(try await count("note", in: db) == 200)
            await db.close()
        }
    }

    @Test func readsRunWhileAWriteIsInProgress() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { try $0.run("INSERT INTO note (body) VALUES ('committed')") }
            let writing = Flag()
            let release = Flag()
            async let slowWrite: Void = db.write { connection in
                try connection.run("INSERT INTO note (body) VALUES ('pending')")
                writing.set()
                spin { release.isSet }
            }
            try await poll { writing.isSet }
            // The writer holds an open transaction; readers neither wait for it nor see it.
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<50 { group.addTask { try await count("note", in: db) } }
                for try await seen in group { #expect(seen == 1) }
            }
            release.set()
            try await slowWrite
            #expect(try await count("note", in: db) == 2)
            await db.close()
        }
    }

    @Test func constraintViolationsAreRecognised() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { try $0.run("INSERT INTO subject (name) VALUES ('ann')") }
            do {
                try await db.write { try $0.run("INSERT INTO subject (name) VALUES ('ann')") }
                Issue.record("duplicate accepted")
            } catch let error as StoreError {
                #expect(error.isConstraintViolation)
                #expect(error.extendedCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
                #expect(error.message.contains("UNIQUE"))
                #expect(!error.isBusy)
            }
            do {
                try await db.write { try $0.run("INSERT INTO consent (subject_id, purpose) VALUES (999, 'login')") }
                Issue.record("dangling foreign key accepted")
            } catch let error as StoreError {
                #expect(error.isConstraintViolation)
                #expect(error.extendedCode == 787)  // SQLITE_CONSTRAINT_FOREIGNKEY
            }
            await db.close()
        }
    }

    @Test func transactionControlIsRefusedInsideClosures() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            for sql in ["COMMIT", "ROLLBACK", "BEGIN", "RELEASE fioguard_write", "END"] {
                do {
                    try await db.write { try $0.execute(sql) }
                    Issue.record("\(sql) accepted")
                } catch let error as StoreError {
                    #expect(error.code == 23, "\(sql): \(error)")  // SQLITE_AUTH
                }
            }
            await #expect(throws: StoreError.self) { try await db.read { try $0.run("COMMIT") } }
            // Savepoints too: the writer puts none between the closures of a group, so one left
            // open would reach into the next closure.
            for sql in ["SAVEPOINT mine", "RELEASE mine", "ROLLBACK TO mine"] {
                do {
                    try await db.write { try $0.run(sql) }
                    Issue.record("\(sql) accepted")
                } catch let error as StoreError {
                    #expect(error.code == 23, "\(sql): \(error)")
                }
            }
            await #expect(throws: StoreError.self) {
                try await db.write { try $0.execute("INSERT INTO note (body) VALUES ('a'); SAVEPOINT mine;") }
            }
            #expect(try await count("note", in: db) == 0)
            // Nor can a closure weaken what an acknowledged write means: inside a transaction
            // SQLite refuses to change `synchronous` or `journal_mode`. Reading them is fine.
            for sql in ["PRAGMA synchronous = OFF", "PRAGMA Synchronous=NORMAL", "PRAGMA main.synchronous = 1", "PRAGMA journal_mode = DELETE"] {
                do {
                    try await db.write { try $0.execute(sql) }
                    Issue.record("\(sql) accepted")
                } catch let error as StoreError {
                    #expect(error.code == 1, "\(sql): \(error)")  // SQLITE_ERROR
                }
            }
            #expect(try await db.write { try $0.queryOne("PRAGMA synchronous")?.int(0) } == 2)  // FULL
            #expect(try await db.write { try $0.queryOne("PRAGMA journal_mode")?.text(0) } == "wal")
            await db.close()
        }
    }

    @Test func readersAreReadOnly() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            do {
                _ = try await db.read { try $0.run("INSERT INTO note (body) VALUES ('x')") }
                Issue.record("a reader wrote")
            } catch let error as StoreError {
                #expect(error.code == 8)  // SQLITE_READONLY
            }
            await db.close()
        }
    }

    @Test func closeFinishesQueuedWorkThenRefuses() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let succeeded = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        do {
                            try await db.write { try $0.run("INSERT INTO note (body) VALUES (?)", [.text("\(index)")]) }
                            return true
                        } catch let error as StoreError where error.isClosed {
                            return false
                        }
                    }
                }
                await db.close()
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            await #expect(throws: StoreError.self) { try await db.write { _ in 1 } }
            await #expect(throws: StoreError.self) { try await db.read { _ in 1 } }
            await #expect(throws: StoreError.self) { try await db.checkpoint() }
            do {
                _ = try await db.read { _ in 1 }
            } catch let error as StoreError {
                #expect(error.isClosed)
            }
            await db.close()  // idempotent

            let reopened = try openDatabase(dir)
            #expect(try await count("note", in: reopened) == Int64(succeeded))
            await reopened.close()
        }
    }

    @Test func concurrentClosesAllReturn() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { try $0.run("INSERT INTO note (body) VALUES ('x')") }
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<5 { group.addTask { await db.close() } }
            }
            await #expect(throws: StoreError.self) { try await db.write { _ in 1 } }
        }
    }

    @Test func checkpointTruncatesTheWAL() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            for index in 0..<20 {
                try await db.write { try $0.run("INSERT INTO note (body) VALUES (?)", [.text("\(index)")]) }
            }
            #expect((fileSize(dir + "/store.sqlite-wal") ?? 0) > 0)
            try await db.checkpoint()
            #expect(fileSize(dir + "/store.sqlite-wal") == 0)
            #expect(try await count("note", in: db) == 20)
            await db.close()
        }
    }

    /// Once checkpoints have stopped after an I/O error (`CheckpointTrigger.stopCheckpoints`),
    /// writes, reads and an explicit checkpoint are refused, and closing leaves the WAL in place;
    /// the next opening recovers every write from it and checkpoints again.
    @Test func stoppedCheckpointsKeepTheWALUntilTheNextOpening() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            for index in 0..<21 {
                try await db.write { try $0.run("INSERT INTO note (body) VALUES (?)", [.text("\(index)")]) }
            }
            db.stopCheckpoints()
            let refusals: [() async throws -> Void] = [
                { _ = try await db.write { try $0.run("INSERT INTO note (body) VALUES ('after')") } },
                { try await db.checkpoint() },
                { _ = try await db.read { try $0.queryOne("SELECT count(*) FROM note") } },
            ]
            for refused in refusals {
                await #expect {
                    try await refused()
                } throws: { error in
                    (error as? StoreError)?.code == 10  // SQLITE_IOERR
                }
            }
            await db.close()
            #expect((fileSize(dir + "/store.sqlite-wal") ?? 0) > 0, "closing checkpointed and removed the WAL")

            let reopened = try openDatabase(dir)
            #expect(!reopened.checkpointsStopped)
            #expect(try await count("note", in: reopened) == 21)
            try await reopened.checkpoint()
            #expect(fileSize(dir + "/store.sqlite-wal") == 0)
            await reopened.close()
        }
    }

    /// Pages reach the database file only through checkpoints, and the automatic one is replaced
    /// by the checkpoint thread: the file grows while the database stays open, the writer goes on,
    /// and every row is there.
    @Test func theCheckpointThreadCopiesTheWALWhileWritesGoOn() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir) { $0.walAutocheckpointPages = 100 }
            let file = dir + "/store.sqlite"
            let before = fileSize(file) ?? 0
            let body = String(repeating: "x", count: 2000)
            for batch in 0..<20 {
                try await db.write { conn in
                    for index in 0..<50 { try conn.run("INSERT INTO note (body) VALUES (?)", [.text("\(batch)-\(index) \(body)")]) }
                }
            }
            // About 2 MB written: well past 100 pages of WAL, so checkpoints must have been asked for.
            let grown = try await eventually(timeout: .seconds(5), every: .milliseconds(50)) {
                (fileSize(file) ?? 0) > before + 1_000_000 ? true : nil
            } ?? false
            #expect(grown, "the database file did not grow: no checkpoint ran (\(before) -> \(fileSize(file) ?? -1) bytes)")
            #expect(try await count("note", in: db) == 1000)
            await db.close()
            #expect(fileSize(dir + "/store.sqlite-wal") == nil, "the writer's close removes the WAL")
            let reopened = try openDatabase(dir)
            #expect(try await count("note", in: reopened) == 1000)
            await reopened.close()
        }
    }

    /// Writes that never pause leave the checkpoint thread always behind; the WAL must still
    /// restart (the writer copies the rest), again and again, while the writes add up to about 24
    /// thresholds. The bound on the WAL's peak leaves room for a loaded machine: without the
    /// writer's own checkpoint it never restarts and reaches about 27 thresholds.
    @Test func theWALRestartsUnderWritesThatNeverPause() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir) { $0.walAutocheckpointPages = 100 }
            let body = String(repeating: "y", count: 3000)
            let writers = 8, writesEach = 60, rowsPerWrite = 5
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for index in 0..<writesEach {
                            try await db.write { conn in
                                for row in 0..<rowsPerWrite {
                                    try conn.run("INSERT INTO note (body) VALUES (?)", [.text("\(writer)-\(index)-\(row) \(body)")])
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let history = db.walHistory
            #expect(history.restarts >= 2, "the WAL restarted \(history.restarts) times (peak \(history.peakPages) pages)")
            #expect(history.peakPages <= 1200, "the WAL grew to \(history.peakPages) pages")
            // The checkpoint thread wrote out what its passes copied (DatabaseFileWriteback).
            #expect(db.databaseWritebacks >= 1)
            #expect(try await count("note", in: db) == Int64(writers * writesEach * rowsPerWrite))
            // A WAL file over 5 thresholds is cut back to 5 at a restart, not to 1.
            let (limit, pageSize) = try await db.write { conn in
                (try conn.queryOne("PRAGMA journal_size_limit")?.int(0), try conn.queryOne("PRAGMA page_size")?.int(0))
            }
            #expect(limit != nil && limit == pageSize.map { 500 * $0 })
            await db.close()
        }
    }

    /// One store per file: a second `Database` on the same path (in a second daemon, or here in
    /// the same process, since `flock` locks belong to an open file) is refused at once, naming the
    /// holder, and the file is free again once the first is closed or its opening failed.
    @Test func aSecondStoreOnTheSameFileIsRefusedUntilTheFirstCloses() async throws {
        try await withTemporaryDirectory { dir in
            let first = try openDatabase(dir)
            do {
                _ = try openDatabase(dir)
                Issue.record("a second store opened the same file")
            } catch let error as StoreError {
                #expect(error.isInUse)
                #expect(error.description.contains("pid \(getpid())"), "\(error)")
                #expect(error.description.contains(dir + "/store.sqlite.lock"), "\(error)")
            }
            // The refused opening touched nothing: the first store still writes.
            try await first.write { try $0.execute("INSERT INTO note(body) VALUES ('first')") }
            #expect(mode(of: dir + "/store.sqlite.lock") == 0o600)
            await first.close()
            await first.close()

            // A failed opening (a schema newer than this build) gives the lock back too.
            do {
                _ = try openDatabase(dir, migrations: Array(sampleMigrations.prefix(2)))
                Issue.record("a build older than the file's schema opened it")
            } catch let error as StoreError {
                #expect(!error.isInUse, "refused for the lock, not for the schema: \(error)")
            }
            let second = try openDatabase(dir)
            #expect(try await count("note", in: second) == 1)
            await second.close()
        }
    }

    /// A database named through a symlink or a relative path is the same file, so it has the
    /// same lock: a second store reaching it by another name is refused as well.
    @Test func theLockFollowsTheFileNotItsName() async throws {
        try await withTemporaryDirectory { dir in
            mkdir(dir + "/real", 0o700)
            mkdir(dir + "/other", 0o700)
            #expect(symlink(dir + "/real", dir + "/alias") == 0)
            let first = try openDatabase(dir + "/real")
            // other/store.sqlite is a symlink to the file: its own name would give another lock file.
            #expect(symlink(dir + "/real/store.sqlite", dir + "/other/store.sqlite") == 0)
            #expect(OwnerLock.canonical(dir + "/other/store.sqlite") == OwnerLock.canonical(dir + "/real/store.sqlite"))
            #expect(OwnerLock.canonical(dir + "/alias/new.sqlite").hasSuffix("/real/new.sqlite"))
            #expect(OwnerLock.canonical(dir + "/missing/new.sqlite") == dir + "/missing/new.sqlite")
            do {
                _ = try openDatabase(dir + "/other")
                Issue.record("a second store opened the same file through a symlink")
            } catch let error as StoreError {
                #expect(error.isInUse, "\(error)")
            }
            await first.close()
        }
    }

    /// A closed store frees its file even while a copy of the lock's descriptor lives on, as it
    /// does in a child that another thread has forked but not yet `exec`ed (a test suite starting
    /// a daemon, say). Closing the descriptor alone would keep the `flock` lock until that copy
    /// closes, and a store opened at once on the same file would be refused as "in use".
    @Test func aClosedStoreFreesItsFileWhileACopyOfTheLockDescriptorLives() async throws {
        try await withTemporaryDirectory { dir in
            let first = try openDatabase(dir)
            let lockPath = OwnerLock.canonical(dir + "/store.sqlite") + ".lock"
            let copy = try #require(descriptors(naming: lockPath).first.map { dup($0) })
            #expect(copy >= 0)
            defer { close(copy) }
            await first.close()
            let second = try openDatabase(dir)
            await second.close()
        }
    }

    /// This process's open descriptors whose file is `path` (read from `/proc/self/fd`).
    private func descriptors(naming path: String) -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        var found: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            var target = [CChar](repeating: 0, count: 4096)
            let count = readlink("/proc/self/fd/" + name, &target, target.count - 1)
            if count > 0, String(decoding: target.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) == path {
                found.append(fd)
            }
        }
        return found
    }

    @Test func inMemoryAndInvalidConfigurationsAreRefused() async throws {
        #expect(throws: StoreError.self) {
            try Database(configuration: DatabaseConfiguration(path: ":memory:"), migrations: [], logger: quietLogger)
        }
        try await withTemporaryDirectory { dir in
            #expect(throws: StoreError.self) { try openDatabase(dir) { $0.readerCount = 0 } }
            #expect(throws: StoreError.self) { try openDatabase(dir + "/missing/dir") }
        }
    }

    /// Holds the writer in one closure until `waiting` more writes are queued behind it, so those
    /// are known to meet in the writer's next wake-up. Returns each waiting write's outcome by index.
    @discardableResult
    private func writeWhileWriterIsHeld<T: Sendable>(
        _ db: Database, waiting: Int, _ makeBody: @escaping @Sendable (Int) -> @Sendable (Connection) throws -> T
    ) async throws -> [Int: Result<T, any Error>] {
        let holding = Flag()
        return try await withThrowingTaskGroup(of: (Int, Result<T, any Error>)?.self) { group in
            group.addTask {
                try await db.write { connection in
                    try connection.run("INSERT INTO note (body) VALUES ('holder')")
                    holding.set()
                    spin { db.queuedWrites >= waiting }
                }
                return nil
            }
            try await poll { holding.isSet }
            for index in 0..<waiting {
                let body = makeBody(index)
                group.addTask {
                    do {
                        return (index, .success(try await db.write(body)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var outcomes: [Int: Result<T, any Error>] = [:]
            for try await case let (index, outcome)? in group { outcomes[index] = outcome }
            return outcomes
        }
    }

    /// How often each closure ran.
    private final class RunCounter: @unchecked Sendable {
        private let lock = ConditionLock()
        private var runs: [Int: Int] = [:]
        func add(_ index: Int) { lock.withLock { runs[index, default: 0] += 1 } }
        var counts: [Int: Int] { lock.withLock { runs } }
    }

    private func fileSize(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }
}
