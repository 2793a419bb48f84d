import CSQLite
import Logging
import Synchronization

/// Moves WAL checkpoints off the writer thread.
///
/// SQLite's automatic checkpoint runs inside the commit that crossed the threshold, so every write
/// queued behind that commit waited for pages to be copied into the database file and for its
/// fsync (the p99 spikes of durable writes). Instead, the writer's WAL hook only asks; a thread of
/// its own with its own connection runs `wal_checkpoint(PASSIVE)`, which never blocks the writer
/// or the readers.
///
/// The WAL restarts from its beginning at the writer's next transaction only once a checkpoint has
/// copied every frame. Under sustained writes the checkpoint thread never gets there: frames keep
/// arriving while it copies. So once the WAL holds 4 thresholds, the writer copies the rest itself,
/// between two groups, and the WAL restarts. To keep that pause short, the first request made at
/// or past 4 thresholds has the checkpoint thread repeat its passes until the frames that arrived during the
/// last one are few, and no other request is made until the writer has copied the rest: so the
/// checkpoint thread is idle when the writer's turn comes. (Before, the writer copied up to a
/// threshold of frames while every write waited: the 300 ms stalls at `consent.record`'s p99.9.)
/// From 8 thresholds the writer copies whatever is left itself, and the checkpoint thread stops
/// chasing, so one that falls behind cannot let the WAL grow much further. A writer's checkpoint
/// that met the checkpoint thread's (SQLITE_BUSY: SQLite does not wait for the checkpoint lock) is
/// tried again after the next group. A long read can still hold the restart back, as with SQLite's
/// automatic checkpoint; the WAL then grows until it ends.
final class CheckpointTrigger: @unchecked Sendable {
    // @unchecked: `queue`, the thresholds and the atomics are immutable or thread-safe; the other
    // fields are touched only by the WAL hook and the group committer, both on the writer thread.
    let queue: JobQueue<CheckpointPassRequest>
    let thresholdPages: Int32
    /// 4 thresholds (saturating): from there the writer copies the rest once the checkpoint thread
    /// has made it small.
    let writerThresholdPages: Int32
    /// 8 thresholds (saturating): the writer copies the rest whatever its size.
    let backstopPages: Int32
    /// What the checkpoint thread may leave for the writer: 1/64 of a threshold (256 pages, 1 MiB,
    /// by default).
    let remainderPages: Int32
    /// 5 thresholds: a WAL file larger than that is cut back to it when the WAL restarts
    /// (`journal_size_limit`); under sustained writes restarts come at a little over 4.
    var retainedWALPages: Int32 { Int32(clamping: Int64(thresholdPages) * 5) }
    /// WAL size after the newest commit (written by the writer, read by the checkpoint thread).
    private let latestWALPages = Atomic<Int32>(0)
    /// Requests the checkpoint thread has served: taken, then followed by its passes.
    private let servedRequests = Atomic<Int>(0)
    /// For tests and diagnostics: restarts the hook saw, and the largest WAL it saw.
    private let restartCount = Atomic<Int>(0)
    private let peakWALPages = Atomic<Int32>(0)
    /// For tests: times the checkpoint thread wrote the database file out after its passes.
    private let writebackCount = Atomic<Int>(0)
    /// Set for good at the first I/O error of a checkpoint or of writing the database file out
    /// (see `stopCheckpoints`).
    private let stopped = Atomic<Bool>(false)
    /// Requests queued so far.
    private var madeRequests = 0
    /// WAL size at the last request, so that a WAL that is not restarting yet is not checkpointed
    /// again after every commit.
    private var requestedAt: Int32 = 0
    /// WAL size at the writer's last checkpoint from 8 thresholds that was not BUSY: while a long
    /// read holds the WAL, the next waits for an eighth of a threshold more (each one walks every
    /// frame not yet copied).
    private var backstopTriedAt: Int32 = 0
    /// The first request made at or past 4 thresholds, until the writer has copied the rest.
    private var remainderRequest: Int?

    init(queue: JobQueue<CheckpointPassRequest>, thresholdPages: Int) {
        self.queue = queue
        self.thresholdPages = Int32(clamping: thresholdPages)
        writerThresholdPages = Int32(clamping: Int64(self.thresholdPages) * 4)
        backstopPages = Int32(clamping: Int64(self.thresholdPages) * 8)
        remainderPages = max(1, self.thresholdPages / 64)
    }

    /// Replaces `connection`'s automatic checkpoint with a request to the checkpoint thread. The
    /// hook runs on the writer thread after each commit; whoever holds the writer connection must
    /// keep this object alive as long as it (the hook's context is unretained).
    func install(on connection: Connection) {
        sqlite3_wal_hook(connection.handle, { context, _, _, pages in
            Unmanaged<CheckpointTrigger>.fromOpaque(context!).takeUnretainedValue().committed(walPages: pages)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// The WAL hook's work (writer thread): `pages` is the WAL's size after the commit.
    func committed(walPages pages: Int32) {
        let previous = latestWALPages.exchange(pages, ordering: .relaxed)
        if pages < previous {  // the WAL restarted from its beginning (or was truncated)
            restartCount.add(1, ordering: .relaxed)
            requestedAt = 0
            backstopTriedAt = 0
            remainderRequest = nil
        }
        if pages > peakWALPages.load(ordering: .relaxed) { peakWALPages.store(pages, ordering: .relaxed) }
        // While the writer waits to copy the rest, no other pass is asked for: it would hold the
        // checkpoint lock just when the writer needs it.
        guard remainderRequest == nil, pages >= thresholdPages, pages - requestedAt >= thresholdPages else { return }
        let chase = pages >= writerThresholdPages
        guard queue.enqueue(CheckpointPassRequest(chaseRemainder: chase)) else { return }  // closing
        madeRequests += 1
        requestedAt = pages
        if chase { remainderRequest = madeRequests }
    }

    /// The WAL's size after the newest commit, for the checkpoint thread.
    var currentWALPages: Int32 { latestWALPages.load(ordering: .relaxed) }

    /// Called by the checkpoint thread once the passes that followed taking `count` requests are
    /// over.
    func served(_ count: Int) {
        servedRequests.add(count, ordering: .releasing)
    }

    /// Whether the writer should checkpoint now, between groups (writer thread): the first request
    /// made at or past 4 thresholds has been served, or the WAL holds 8.
    func writerShouldCheckpoint() -> Bool {
        guard !checkpointsStopped else { return false }
        if let request = remainderRequest, servedRequests.load(ordering: .acquiring) >= request { return true }
        let pages = currentWALPages
        return pages >= backstopPages && pages - backstopTriedAt >= max(1, thresholdPages / 8)
    }

    /// The writer's checkpoint returned `code` (writer thread). Busy: the writer tries again after
    /// the next group. Otherwise its turn is over; if a read kept the WAL from restarting, the
    /// next request comes a threshold after the last one, as before.
    func writerCheckpointed(_ code: Int32) {
        if code & 0xff == SQLITE_IOERR { stopCheckpoints() }
        guard code & 0xff != SQLITE_BUSY else { return }
        remainderRequest = nil
        let pages = currentWALPages
        if pages >= backstopPages { backstopTriedAt = pages }
    }

    /// Called by the checkpoint thread each time it has written the database file out.
    func wroteBack() {
        writebackCount.add(1, ordering: .relaxed)
    }

    /// Stops every checkpoint, write and read until the store is opened again.
    ///
    /// After an I/O error on the database file, pages the checkpoints copied may not be on disk,
    /// and Linux reports a failed write-back only once per open file: the next sync on that
    /// descriptor would report success, and a checkpoint would let the WAL restart over the frames
    /// that hold those pages. Linux also marks such pages clean, so once evicted they read back
    /// stale from the file, and SQLite reads a page from the file whenever its frames are all
    /// counted as copied: a read would answer from the old page, and a write built on one would
    /// make the loss permanent. So the store refuses writes and reads
    /// (`StoreError.checkpointsStopped`), no checkpoint runs, and the connections close without
    /// checkpointing (`SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`). Every acknowledged write
    /// is in the WAL, which stays; the next opening recovers it (every page then comes from its
    /// frames again) and copies it anew.
    func stopCheckpoints() {
        stopped.store(true, ordering: .releasing)
    }

    /// Whether checkpoints are stopped (see `stopCheckpoints`).
    var checkpointsStopped: Bool { stopped.load(ordering: .acquiring) }

    /// Times the checkpoint thread wrote the database file out after its passes.
    var databaseWritebacks: Int { writebackCount.load(ordering: .relaxed) }

    /// Restarts of the WAL the hook has seen, and the largest WAL size after a commit.
    var walHistory: (restarts: Int, peakPages: Int32) {
        (restartCount.load(ordering: .relaxed), peakWALPages.load(ordering: .relaxed))
    }

    /// Called by the writer between groups: with no write in flight, a passive checkpoint copies
    /// every frame that no reader's snapshot still needs, so the next transaction can restart the
    /// WAL (a long read can still hold that back, as with SQLite's automatic checkpoint).
    func checkpointOnWriterIfNeeded(_ connection: Connection, logger: Logger) {
        checkpointOnWriterIfNeeded(logger: logger) {
            sqlite3_wal_checkpoint_v2(connection.handle, "main", SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        }
    }

    /// The same with the checkpoint call given (tests script its result codes).
    func checkpointOnWriterIfNeeded(logger: Logger, checkpoint: () -> Int32) {
        guard writerShouldCheckpoint() else { return }
        let code = checkpoint()
        writerCheckpointed(code)
        if code & 0xff == SQLITE_IOERR {
            logger.error(
                "WAL checkpoint on the writer failed with an I/O error: checkpoints stop until fioguard is restarted, and the WAL keeps every write meanwhile",
                metadata: ["code": "\(code)", "message": "\(String(cString: sqlite3_errstr(code)))"])
        } else if code != SQLITE_OK && code & 0xff != SQLITE_BUSY {
            logger.warning("WAL checkpoint on the writer failed", metadata: ["code": "\(code)"])
        }
    }
}

/// What the writer asks of the checkpoint thread.
struct CheckpointPassRequest: Sendable {
    /// Repeat passes until few frames are left, for the writer to copy (at 4 thresholds); one pass
    /// otherwise, since each pass that copies something syncs the WAL file first (and the database
    /// file when it caught up), and those syncs compete with the commits' for the disk.
    var chaseRemainder: Bool
}

/// The checkpoint thread's loop: for the requests it finds queued (coalesced), the passes
/// `passes(chasing:…)` decides; then it writes out what they copied into the database file
/// (`DatabaseFileWriteback`), so that the writer's sync before a WAL restart finds little left,
/// and counts the requests as served.
struct CheckpointWorker {
    let connection: Connection
    let queue: JobQueue<CheckpointPassRequest>
    let trigger: CheckpointTrigger
    let logger: Logger

    /// Most passes per batch of requests.
    static let maxPasses = 8

    /// Writes out a range of the database file (tests make it fail).
    var writeRange: DatabaseFileWriteback.RangeWriter = { fg_write_out_range($0, $1, $2) }
    /// Tests: replaces one passive checkpoint (its result code and frames copied).
    var scriptedPass: (() -> (code: Int32, copied: Int32))?
    /// Tests: replaces the database file's sync after the slices.
    var scriptedSync: ((UnsafeMutablePointer<sqlite3_file>) -> Int32)?

    /// Runs until the queue is closed and drained, then closes the connection.
    func run() {
        var writeback = DatabaseFileWriteback(connection: connection, writeRange: writeRange, syncFile: scriptedSync)
        while let requests = queue.takeBatch(max: 1 << 20) {
            // Once checkpoints have stopped, no pass runs (nor the write-out after them): a stop
            // set before the batch or during its chase (by the writer) ends it before the next.
            let outcome = Self.passes(
                chasing: requests.contains(where: \.chaseRemainder), remainderPages: trigger.remainderPages,
                writerPages: trigger.backstopPages, walPages: { trigger.currentWALPages },
                checkpoint: { trigger.checkpointsStopped ? (SQLITE_ABORT, 0) : (scriptedPass ?? checkpoint)() })
            guard !trigger.checkpointsStopped || outcome.code & 0xff == SQLITE_IOERR else {
                trigger.served(requests.count)
                continue
            }
            // BUSY: the writer was checkpointing, which copies the rest anyway.
            if outcome.code & 0xff == SQLITE_IOERR {
                stop(because: String(cString: sqlite3_errstr(outcome.code)), code: outcome.code)
            } else if outcome.code != SQLITE_OK && outcome.code & 0xff != SQLITE_BUSY {
                logger.warning(
                    "WAL checkpoint failed",
                    metadata: ["code": "\(outcome.code)", "message": "\(String(cString: sqlite3_errstr(outcome.code)))"])
            }
            // What the passes copied goes to disk now, a slice at a time, rather than all at once
            // in the writer's sync before the WAL restarts (see DatabaseFileWriteback).
            if outcome.code == SQLITE_OK {
                switch writeback.run() {
                case .written:
                    trigger.wroteBack()
                case .slicesUnavailable(let reason):
                    trigger.wroteBack()
                    logger.warning(
                        "the database file is written out after checkpoints in one sync, not in slices",
                        metadata: ["reason": "\(reason)"])
                case .failed(let reason):
                    stop(because: reason, code: nil)
                }
            }
            trigger.served(requests.count)
        }
        if trigger.checkpointsStopped { keepWALAtClose(connection, logger: logger) }
        connection.close()
        queue.workerStopped()
    }

    /// After an I/O error: no checkpoint again until the store is opened again (see
    /// `CheckpointTrigger.stopCheckpoints`).
    private func stop(because reason: String, code: Int32?) {
        trigger.stopCheckpoints()
        var metadata: Logger.Metadata = ["error": "\(reason)"]
        if let code { metadata["code"] = "\(code)" }
        logger.error(
            "the database file could not be written out after a checkpoint: checkpoints stop until fioguard is restarted, and the WAL keeps every write meanwhile",
            metadata: metadata)
    }

    /// One passive checkpoint: its result code and how many of this WAL's frames are copied so far.
    private func checkpoint() -> (code: Int32, copied: Int32) {
        var copied: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(connection.handle, "main", SQLITE_CHECKPOINT_PASSIVE, nil, &copied)
        return (code, copied)
    }

    /// Runs `checkpoint` once, or when `chasing`, again while more than `remainderPages` frames were
    /// committed during the last pass (`walPages()` minus what it reported copied), up to
    /// `maxPasses`: each pass copies what the one before left, so under steady writes the rest
    /// shrinks to what arrives during one short pass. Stops at the first code other than
    /// SQLITE_OK, when the rest stopped shrinking (writes outpace the copying, or a read holds
    /// the frames back), and once the WAL holds `writerPages`, where the writer copies itself
    /// and needs the checkpoint lock. Returns the passes run and the last code.
    static func passes(
        chasing: Bool, remainderPages: Int32, writerPages: Int32, walPages: () -> Int32,
        checkpoint: () -> (code: Int32, copied: Int32)
    ) -> (count: Int, code: Int32) {
        let most = chasing ? maxPasses : 1
        var count = 0
        var leftBefore = Int32.max
        while true {
            let (code, copied) = checkpoint()
            count += 1
            // Left: negative once the WAL restarted after the pass; stale (high) until the next
            // commit after a truncating checkpoint, which only costs a pass with nothing to copy.
            let pages = walPages()
            let left = pages - copied
            guard code == SQLITE_OK, count < most, left > remainderPages, left < leftBefore, pages < writerPages else {
                return (count, code)
            }
            leftBefore = left
        }
    }
}

/// Before closing `connection` once checkpoints have stopped: closing the last connection must
/// leave the WAL as it is (see `CheckpointTrigger.stopCheckpoints`).
func keepWALAtClose(_ connection: Connection, logger: Logger) {
    let code = fg_sqlite3_no_checkpoint_on_close(connection.handle)
    if code != SQLITE_OK {
        logger.error(
            "cannot keep the WAL from being checkpointed at close",
            metadata: ["code": "\(code)", "message": "\(String(cString: sqlite3_errstr(code)))"])
    }
}
