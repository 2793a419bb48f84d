import CSQLite
@testable import FioguardStore
import FioguardTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The checkpoint thread's write-out of the database file (`DatabaseFileWriteback`): which
/// descriptor it uses, the slices it asks for, and what it does when they fail.
@Suite struct DatabaseFileWritebackTests {
    /// A connection on `directory/wb.sqlite` in WAL mode with rows checkpointed into the file, so
    /// that the file has pages to write out.
    func openFilledConnection(_ directory: String, rows: Int = 800) throws -> Connection {
        let connection = try Connection(
            path: directory + "/wb.sqlite", readOnly: false, configuration: DatabaseConfiguration(path: directory + "/wb.sqlite"))
        let sql = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE t (body TEXT NOT NULL);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
              INSERT INTO t SELECT printf('%.*c', 2000, 'x') FROM n;
            PRAGMA wal_checkpoint(PASSIVE);
            """
        guard sqlite3_exec(connection.handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw TestFailure(String(cString: sqlite3_errmsg(connection.handle)))
        }
        return connection
    }

    func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : -1
    }

    /// The descriptor is the one SQLite opened on the database file (not the WAL; it closes with
    /// the connection), and the slices cover the whole file in order.
    @Test func writesTheWholeFileOutInSlicesOfSQLitesOwnDescriptor() async throws {
        try await withTemporaryDirectory { dir in
            let connection = try openFilledConnection(dir)
            var asked: [(descriptor: Int32, offset: Int64, length: Int64)] = []
            var writeback = DatabaseFileWriteback(connection: connection) { descriptor, offset, length in
                asked.append((descriptor, offset, length))
                return 0
            }
            let descriptor = try #require(writeback.descriptor, "the unix VFS's descriptor was not found")
            var open = stat()
            var named = stat()
            #expect(fstat(descriptor, &open) == 0 && stat(dir + "/wb.sqlite", &named) == 0)
            #expect(open.st_ino == named.st_ino && open.st_dev == named.st_dev)

            #expect(writeback.run() == .written)
            let size = fileSize(dir + "/wb.sqlite")
            #expect(size > 4 * DatabaseFileWriteback.sliceBytes, "the file should span several slices (\(size) bytes)")
            let slices = (size + DatabaseFileWriteback.sliceBytes - 1) / DatabaseFileWriteback.sliceBytes
            #expect(asked.count == Int(slices))
            #expect(asked.allSatisfy { $0.descriptor == descriptor && $0.length == DatabaseFileWriteback.sliceBytes })
            #expect(asked.map(\.offset) == (0..<slices).map { $0 * DatabaseFileWriteback.sliceBytes })

            // SQLite's own: closing the connection closes it (a descriptor of ours would stay open
            // on the file; its number may be reused by another file meanwhile, never by this one).
            connection.close()
            var after = stat()
            #expect(fstat(descriptor, &after) != 0 || after.st_ino != named.st_ino || after.st_dev != named.st_dev)
        }
    }

    /// With the system's own `sync_file_range` and `fdatasync`: the call works here (Linux), so the
    /// slices stay on.
    @Test func writesOutForReal() async throws {
        try await withTemporaryDirectory { dir in
            let connection = try openFilledConnection(dir)
            defer { connection.close() }
            var writeback = DatabaseFileWriteback(connection: connection)
            let descriptor = try #require(writeback.descriptor)
            #expect(fg_write_out_range(descriptor, 0, DatabaseFileWriteback.sliceBytes) == 0)
            #expect(writeback.run() == .written)
            #expect(writeback.slicing)
        }
    }

    /// A slice that fails to write fails the write-out, before the sync, whatever its errno (a
    /// file system may report the block layer's own); a system that refuses the call (ENOSYS,
    /// EPERM) turns the slices off, says so once, and later runs only sync.
    @Test func aFailedSliceFailsAndARefusedCallTurnsTheSlicesOff() async throws {
        try await withTemporaryDirectory { dir in
            let connection = try openFilledConnection(dir)
            defer { connection.close() }
            for failure in [EIO, ENOSPC, ETIMEDOUT, EREMOTEIO] {
                var calls = 0
                var failing = DatabaseFileWriteback(connection: connection) { _, _, _ in
                    calls += 1
                    return -failure
                }
                guard case .failed(let reason) = failing.run() else {
                    Issue.record("errno \(failure) did not fail the write-out")
                    continue
                }
                #expect(reason.contains("sync_file_range"), "\(reason)")
                #expect(calls == 1)
            }
            for refusal in [ENOSYS, EPERM] {
                var calls = 0
                var refused = DatabaseFileWriteback(connection: connection) { _, _, _ in
                    calls += 1
                    return -refusal
                }
                guard case .slicesUnavailable(let reason) = refused.run() else {
                    Issue.record("errno \(refusal) was not taken as slices unavailable")
                    continue
                }
                #expect(reason.contains("sync_file_range"))
                #expect(refused.run() == .written)
                #expect(calls == 1, "asked again after errno \(refusal)")
                #expect(!refused.slicing)
            }
        }
    }

    /// An in-memory database has no file: nothing to write out, no failure.
    @Test func anInMemoryDatabaseHasNothingToWriteOut() throws {
        let connection = try Connection(path: ":memory:", readOnly: false, configuration: DatabaseConfiguration(path: ":memory:"))
        defer { connection.close() }
        var calls = 0
        var writeback = DatabaseFileWriteback(connection: connection) { _, _, _ in
            calls += 1
            return 0
        }
        #expect(writeback.descriptor == nil)
        #expect(writeback.run() == .written)
        #expect(calls == 0)
    }

    /// What fails in `aFailedWriteOutStopsCheckpointsAndKeepsTheWAL`.
    enum Fault: CaseIterable, Sendable {
        case none, slice, sync, pass
    }

    /// A write-out that fails (a slice or the sync), or a pass with an I/O error, stops every
    /// checkpoint: the checkpoint thread runs no pass for the next batch, the writer's backstop
    /// is refused, one error is logged, and the connection closes without checkpointing, so the
    /// WAL file outlives it. (The frames in it are copied already here: what this shows is that
    /// the close leaves the WAL alone.) Without a fault the same close checkpoints and removes
    /// the WAL.
    @Test(arguments: Fault.allCases) func aFailedWriteOutStopsCheckpointsAndKeepsTheWAL(fault: Fault) async throws {
        try await withTemporaryDirectory { dir in
            let connection = try openFilledConnection(dir)
            #expect(sqlite3_exec(connection.handle, "INSERT INTO t SELECT body FROM t LIMIT 50", nil, nil, nil) == SQLITE_OK)
            let queue = JobQueue<CheckpointPassRequest>()
            let trigger = CheckpointTrigger(queue: queue, thresholdPages: 100)
            let records = LogRecords()
            var worker = CheckpointWorker(connection: connection, queue: queue, trigger: trigger, logger: records.logger())
            worker.writeRange = { _, _, _ in fault == .slice ? -EIO : 0 }
            if fault == .sync { worker.scriptedSync = { _ in SQLITE_IOERR | (4 << 8) } }  // SQLITE_IOERR_FSYNC
            let passes = Mutex(0)
            let realPass: () -> (code: Int32, copied: Int32) = {
                var copied: Int32 = 0
                let code = sqlite3_wal_checkpoint_v2(connection.handle, "main", SQLITE_CHECKPOINT_PASSIVE, nil, &copied)
                return (code, copied)
            }
            worker.scriptedPass = {
                passes.withLock { $0 += 1 }
                return fault == .pass ? (SQLITE_IOERR | (2 << 8), 0) : realPass()  // SQLITE_IOERR_READ
            }
            let stopped = fault != .none
            // The worker ends, and closes its connection, once the queue is closed and drained.
            defer { _ = queue.close() }
            queue.workerStarted()
            // Runs until the queue is closed and drained; then closes the connection.
            let handoff = ThreadHandoff(worker) { $0.run() }
            try DedicatedThread.start(name: "test-checkpointer") { handoff.run() }
            #expect(queue.enqueue(CheckpointPassRequest(chaseRemainder: false)))
            try await waitUntil { trigger.databaseWritebacks == 1 || trigger.checkpointsStopped }
            let passesBefore = passes.withLock { $0 }
            // A second batch: no pass at all once stopped.
            #expect(queue.enqueue(CheckpointPassRequest(chaseRemainder: false)))
            _ = queue.close()
            await queue.waitUntilStopped()
            #expect(trigger.checkpointsStopped == stopped)
            #expect(passes.withLock { $0 } == (stopped ? passesBefore : passesBefore + 1))
            #expect(trigger.databaseWritebacks == (stopped ? 0 : 2))
            let errors = records.all.filter { $0.level == .error }
            #expect(errors.count == (stopped ? 1 : 0), "\(errors.map(\.message))")
            #expect(errors.allSatisfy { $0.message.contains("checkpoints stop") })
            // Past the backstop, the writer would copy the rest itself, unless stopped.
            trigger.committed(walPages: 900)
            #expect(trigger.writerShouldCheckpoint() == !stopped)
            #expect((fileSize(dir + "/wb.sqlite-wal") > 0) == stopped, "the WAL is kept only when checkpoints stopped")
        }
    }

    /// Polls `condition` every 10 ms for up to 10 s.
    func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<1000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("timed out")
    }
}
