import CSQLite
import Logging

/// Moves WAL checkpoints off the writer thread.
///
/// SQLite's automatic checkpoint runs inside the commit that crossed the threshold, so every write
/// queued behind that commit waited for pages to be copied into the database file and for its
/// fsync (the p99 spikes of durable writes). Instead, the writer's WAL hook only asks; a thread of
/// its own with its own connection runs `wal_checkpoint(PASSIVE)`, which never blocks the writer
/// or the readers. The writer restarts the WAL from its beginning at its next transaction once a
/// checkpoint has copied everything, as with the automatic checkpoint.
final class CheckpointTrigger: @unchecked Sendable {
    // @unchecked: `queue` and `thresholdPages` are immutable (the queue is thread-safe); the other
    // fields are touched only by the WAL hook and the group committer, both on the writer thread.
    let queue: JobQueue<Int32>
    let thresholdPages: Int32
    /// 4 thresholds (saturating): past it the writer checkpoints itself.
    let writerThresholdPages: Int32
    /// WAL size at the last request, so that a WAL that is not restarting yet is not checkpointed
    /// again after every commit.
    private var requestedAt: Int32 = 0
    /// Set when the WAL outgrew 4 thresholds: checkpoints off the writer cannot finish while
    /// writes keep coming (each one leaves the newest frames behind), so the WAL would never
    /// restart and would grow without bound. The writer then checkpoints itself, between groups.
    private(set) var writerMustCheckpoint = false

    init(queue: JobQueue<Int32>, thresholdPages: Int) {
        self.queue = queue
        self.thresholdPages = Int32(clamping: thresholdPages)
        writerThresholdPages = Int32(clamping: Int64(self.thresholdPages) * 4)
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

    private func committed(walPages pages: Int32) {
        if pages < requestedAt { requestedAt = 0 }  // the WAL restarted from its beginning
        if pages >= writerThresholdPages { writerMustCheckpoint = true }
        guard pages >= thresholdPages, pages - requestedAt >= thresholdPages else { return }
        requestedAt = pages
        _ = queue.enqueue(pages)
    }

    /// Called by the writer between groups: with no write in flight, a passive checkpoint copies
    /// every frame that no reader's snapshot still needs, so the next transaction can restart the
    /// WAL (a long read can still hold that back, as with SQLite's automatic checkpoint).
    func checkpointOnWriterIfNeeded(_ connection: Connection, logger: Logger) {
        guard writerMustCheckpoint else { return }
        writerMustCheckpoint = false
        let rc = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        if rc != SQLITE_OK && rc != SQLITE_BUSY {
            logger.warning("WAL checkpoint on the writer failed", metadata: ["code": "\(rc)"])
        }
    }
}

/// The checkpoint thread's loop: one passive checkpoint per wake-up (requests are coalesced).
struct CheckpointWorker {
    let connection: Connection
    let queue: JobQueue<Int32>
    let logger: Logger

    /// Runs until the queue is closed and drained, then closes the connection.
    func run() {
        while queue.takeBatch(max: 1 << 20) != nil {
            let rc = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            // BUSY: another checkpoint was running; the next request retries.
            if rc != SQLITE_OK && rc != SQLITE_BUSY {
                logger.warning(
                    "WAL checkpoint failed",
                    metadata: ["code": "\(rc)", "message": "\(String(cString: sqlite3_errstr(rc)))"])
            }
        }
        connection.close()
        queue.workerStopped()
    }
}
