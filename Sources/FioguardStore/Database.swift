#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging
import CSQLite

/// The store: one writer connection on a dedicated thread committing waiting writes in groups, and
/// `readerCount` reader connections on threads of their own. Every connection runs in WAL mode with
/// `synchronous=FULL`, `foreign_keys=ON` and the configured busy timeout, so a write that returned
/// is on disk. No SQLite call ever runs on the caller's thread, except in `init`.
public final class Database: Sendable {
    public let configuration: DatabaseConfiguration
    /// The schema version after the migrations ran at open.
    public let schemaVersion: Int
    private let writes = JobQueue<any StoreRequest>()
    private let reads = JobQueue<any StoreRequest>()
    private let checkpoints = JobQueue<CheckpointPassRequest>()
    private let checkpointTrigger: CheckpointTrigger
    private let statistics = WriterStatistics()
    private let ownerLock: OwnerLock
    private let logger: Logger

    /// Opens (creating the file, not its directory), configures every connection and runs the
    /// pending migrations, synchronously: call it at startup, not from an event loop.
    public init(configuration: DatabaseConfiguration, migrations: [Migration], logger: Logger) throws(StoreError) {
        guard !configuration.path.isEmpty, configuration.path != ":memory:", !configuration.path.hasPrefix("file::memory:") else {
            throw .misuse("an in-memory database cannot be shared by the writer and the readers; give a file path")
        }
        guard configuration.readerCount >= 1 else { throw .misuse("readerCount must be at least 1") }
        guard configuration.maxGroupSize >= 1 else { throw .misuse("maxGroupSize must be at least 1") }
        let migrator = try SchemaMigrator(migrations: migrations, logger: logger)
        // Before any connection: a second process must not migrate, let alone write.
        ownerLock = try OwnerLock.acquire(for: configuration.path)
        Self.createOwnerOnly(configuration.path, logger: logger)

        let writer = try Connection(path: configuration.path, readOnly: false, configuration: configuration)
        let journalMode = try writer.queryOne("PRAGMA journal_mode = WAL")?.text(0)
        guard journalMode?.lowercased() == "wal" else {
            throw StoreError(
                code: SQLITE_ERROR, message: "cannot switch \(configuration.path) to WAL (journal_mode is \(journalMode ?? "unknown"))")
        }
        // A migration that rebuilds a table journals every page it drops and sorts every index it
        // creates: in memory (`temp_store = MEMORY`, the writer's setting for its small statement
        // journals), v7's rebuild of a million consent events peaked at 522 MB. On disk, in
        // SQLite's temporary files, memory stays bounded by the page cache.
        try writer.execute("PRAGMA temp_store = FILE")
        schemaVersion = try migrator.migrate(writer)
        try writer.execute("PRAGMA temp_store = MEMORY")

        // Checkpoints run on a thread of their own (see Checkpointer.swift), and less often than
        // SQLite's default: a page rewritten by many commits (the right edge of an index, the meta
        // row) is then copied to the database file once per checkpoint, not once per 1,000 pages.
        let thresholdPages = max(100, configuration.walAutocheckpointPages)
        let trigger = CheckpointTrigger(queue: checkpoints, thresholdPages: thresholdPages)
        trigger.install(on: writer)
        checkpointTrigger = trigger
        // Under sustained writes the WAL restarts once it holds 4 thresholds and a bit (see
        // Checkpointer.swift). Its file then keeps its size and is written over, instead of being
        // cut back to one threshold at each restart and grown again by appending. Measured on the
        // first version of that restart (47acda3), `consent.record`'s p99.9 in the bench (32
        // connections × 2) was 230–330 ms in two runs when the file was cut back, and 84–106 ms
        // in two when it kept its size. A file larger than 5 thresholds is still cut back to 5
        // at a restart. So the file keeps the largest size the WAL reached: about 4 thresholds
        // and a bit under sustained writes (about 260 MiB by default in the bench), up to 8 and
        // more while a long read holds the restart back; closing removes it.
        let pageSize = try writer.queryOne("PRAGMA page_size")?.int(0) ?? 4096
        try writer.execute("PRAGMA journal_size_limit = \(Int64(trigger.retainedWALPages) * pageSize)")
        let checkpointer = try Connection(path: configuration.path, readOnly: false, configuration: configuration)

        var readers: [Connection] = []
        for _ in 0..<configuration.readerCount {
            readers.append(try Connection(path: configuration.path, readOnly: true, configuration: configuration))
        }
        self.configuration = configuration
        self.logger = logger

        let committer = GroupCommitter(
            connection: writer, queue: writes, statistics: statistics,
            maxGroupSize: configuration.maxGroupSize, checkpointTrigger: trigger, logger: logger)
        do {
            try start(name: "fg-writer", on: writes, ThreadHandoff(committer) { $0.run() })
            let worker = CheckpointWorker(connection: checkpointer, queue: checkpoints, trigger: trigger, logger: logger)
            try start(name: "fg-checkpointer", on: checkpoints, ThreadHandoff(worker) { $0.run() })
            for (number, reader) in readers.enumerated() {
                let worker = ReaderWorker(connection: reader, queue: reads, readers: readers.count)
                try start(name: "fg-reader-\(number)", on: reads, ThreadHandoff(worker) { $0.run() })
            }
        } catch {
            writes.close()
            reads.close()
            checkpoints.close()
            throw error
        }
        logger.info(
            "database opened",
            metadata: [
                "path": "\(configuration.path)", "schemaVersion": "\(schemaVersion)",
                "readers": "\(configuration.readerCount)",
            ])
    }

    /// Creates the database file, if it is missing, readable and writable by its owner only: it
    /// holds raw subjects, Facial IDs and the key of their pseudonyms. SQLite would create it with
    /// 0644 under the usual umask; it gives the WAL and shared-memory files the database file's
    /// permissions, so they are 0600 too. An existing file keeps its permissions (its owner may
    /// have chosen them, for a backup group say); if others may read or write it, a warning says so.
    static func createOwnerOnly(_ path: String, logger: Logger) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            closeDescriptor(fd)
            return
        }
        // Any other failure than "exists" is SQLite's to report, when it opens the path.
        var status = stat()
        guard errno == EEXIST, stat(path, &status) == 0, status.st_mode & 0o077 != 0 else { return }
        logger.warning(
            "the database file is open to other users than its owner",
            metadata: ["path": "\(path)", "mode": "\(String(status.st_mode & 0o777, radix: 8))"])
    }

    deinit {
        // Threads drain what is queued, close their connections and exit on their own.
        writes.close()
        reads.close()
        checkpoints.close()
    }

    private func start<Job>(name: String, on queue: JobQueue<Job>, _ handoff: ThreadHandoff) throws(StoreError) {
        queue.workerStarted()
        do {
            try DedicatedThread.start(name: name) { handoff.run() }
        } catch {
            queue.workerStopped()
            throw error
        }
    }

    /// Runs `body` on the writer connection inside the next group transaction and returns once that
    /// transaction has committed durably. If `body` throws, only its own changes are undone and only
    /// this call throws; if the group's COMMIT fails, every call of the group throws that error.
    /// `body` must not start or end transactions nor use savepoints (SQLITE_AUTH). `body` may run
    /// more than once: when a closure of its group throws after changing something, the group is
    /// rolled back and run again (see `GroupCommitter`), and the caller gets the outcome of the
    /// run that committed. So `body` must not act outside the connection in ways a repeat would
    /// harm.
    /// Cancelling the calling task does not withdraw a queued write.
    /// (`@inlinable`, like `read`: see `ClosureRequest`.)
    @discardableResult @inlinable
    public func write<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
            if !enqueueWrite(ClosureRequest.make(body: body, continuation: continuation)) {
                continuation.resume(throwing: StoreError.closed)
            }
        }
    }

    /// Runs `body` on a reader connection, in one read transaction (a consistent snapshot that
    /// includes every write that has returned). Reader connections are read-only.
    @discardableResult @inlinable
    public func read<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
            if !enqueueRead(ClosureRequest.make(body: body, continuation: continuation)) {
                continuation.resume(throwing: StoreError.closed)
            }
        }
    }

    /// False once the database is closed (the request was not taken).
    @usableFromInline
    func enqueueWrite(_ request: ClosureRequest) -> Bool { writes.enqueue(request) }

    /// Once checkpoints have stopped after a disk error, reads are refused too: a page whose
    /// write-back failed may read back stale from the database file, and an old answer (a consent
    /// that was revoked, say) is worse than none (see `CheckpointTrigger.stopCheckpoints`).
    @usableFromInline
    func enqueueRead(_ request: ClosureRequest) -> Bool {
        guard !checkpointTrigger.checkpointsStopped else {
            request.complete(groupError: StoreError.checkpointsStopped)
            return true
        }
        return reads.enqueue(request)
    }

    /// Checkpoints the WAL into the database file and truncates it (`wal_checkpoint(TRUNCATE)`),
    /// between write groups. Throws SQLITE_BUSY if active readers, or the checkpoint thread's own
    /// checkpoint running at that moment, kept it from finishing; SQLITE_IOERR once checkpoints
    /// have stopped after an I/O error on the database file (see
    /// `CheckpointTrigger.stopCheckpoints`). Optional: closing the last connection checkpoints too.
    public func checkpoint() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if !writes.enqueue(CheckpointRequest(continuation: continuation, trigger: checkpointTrigger)) {
                continuation.resume(throwing: StoreError.closed)
            }
        }
    }

    /// Finishes the queued reads and writes, then closes every connection (readers and the
    /// checkpoint thread first, so the writer's close checkpoints and removes the WAL), and gives
    /// back the file's owner lock. Later calls throw `StoreError.closed`.
    /// Idempotent; every caller returns once all is closed.
    public func close() async {
        let first = reads.close()
        await reads.waitUntilStopped()
        checkpoints.close()
        await checkpoints.waitUntilStopped()
        writes.close()
        await writes.waitUntilStopped()
        ownerLock.release()
        if first { logger.info("database closed", metadata: ["path": "\(configuration.path)"]) }
    }

    /// Write transactions committed so far (each holding one or more writes).
    public var committedGroups: Int { statistics.committedGroups }
    /// Write closures committed so far.
    public var committedWrites: Int { statistics.committedWrites }
    /// Groups rolled back and run again, each closure in a savepoint, because one of their
    /// closures threw after a statement that may write (see `GroupCommitter`).
    public var replayedGroups: Int { statistics.replayedGroups }
    /// Writes waiting for the writer thread (not counting the group being committed).
    public var queuedWrites: Int { writes.count }
    /// Reads waiting for a reader thread.
    public var queuedReads: Int { reads.count }
    /// Restarts of the WAL so far, and the largest WAL after a commit (pages).
    var walHistory: (restarts: Int, peakPages: Int32) { checkpointTrigger.walHistory }
    /// Times the checkpoint thread wrote the database file out after its passes.
    var databaseWritebacks: Int { checkpointTrigger.databaseWritebacks }
    /// Whether checkpoints stopped after an I/O error (see `CheckpointTrigger.stopCheckpoints`).
    var checkpointsStopped: Bool { checkpointTrigger.checkpointsStopped }
    /// For tests: stops checkpoints as an I/O error would.
    func stopCheckpoints() { checkpointTrigger.stopCheckpoints() }
}

/// `close(2)`, which `Database.close()` hides inside the class.
private func closeDescriptor(_ fd: Int32) {
    close(fd)
}
