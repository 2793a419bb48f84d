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
/// between two groups, and the WAL restarts. To keep that pause short, the writer waits until the
/// checkpoint thread has served the request made at 4 thresholds, for which it repeats its passes
/// until the frames that arrived during the last one are few: the writer copies those alone. (Before, the writer copied up to a threshold of frames while every write waited:
/// the 300 ms stalls at `consent.record`'s p99.9.) A WAL of 8 thresholds makes the writer copy
/// whatever is left, so a checkpoint thread starved of CPU cannot let the WAL grow without bound.
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
    /// 5 thresholds: the WAL file's size kept at a restart (`journal_size_limit`), above the about
    /// 4 at which restarts happen under sustained writes.
    var retainedWALPages: Int32 { Int32(clamping: Int64(thresholdPages) * 5) }
    /// WAL size after the newest commit (written by the writer, read by the checkpoint thread).
    private let latestWALPages = Atomic<Int32>(0)
    /// Requests the checkpoint thread has served: taken, then followed by passes that ran to the end
    /// (or that met another checkpoint).
    private let servedRequests = Atomic<Int>(0)
    /// Requests queued so far.
    private var madeRequests = 0
    /// WAL size at the last request, so that a WAL that is not restarting yet is not checkpointed
    /// again after every commit.
    private var requestedAt: Int32 = 0
    /// The request made when the WAL reached 4 thresholds, until the writer has copied the rest.
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
        latestWALPages.store(pages, ordering: .relaxed)
        if pages < requestedAt {  // the WAL restarted from its beginning
            requestedAt = 0
            remainderRequest = nil
        }
        if pages >= writerThresholdPages && remainderRequest == nil {
            remainderRequest = request(pages, chaseRemainder: true)
        } else if pages >= thresholdPages && pages - requestedAt >= thresholdPages {
            _ = request(pages, chaseRemainder: false)
        }
    }

    private func request(_ pages: Int32, chaseRemainder: Bool) -> Int {
        requestedAt = pages
        madeRequests += 1
        _ = queue.enqueue(CheckpointPassRequest(chaseRemainder: chaseRemainder))
        return madeRequests
    }

    /// The WAL's size after the newest commit, for the checkpoint thread.
    var currentWALPages: Int32 { latestWALPages.load(ordering: .relaxed) }

    /// Called by the checkpoint thread once the passes that followed taking `count` requests are
    /// over.
    func served(_ count: Int) {
        servedRequests.add(count, ordering: .releasing)
    }

    /// Whether the writer should checkpoint now, between groups (writer thread): the WAL holds 4
    /// thresholds and the pass asked for then has finished, or it holds 8.
    func writerShouldCheckpoint() -> Bool {
        let pages = currentWALPages
        if let request = remainderRequest, servedRequests.load(ordering: .acquiring) >= request {
            // Asked again if the WAL still holds 4 thresholds after this checkpoint (a long read
            // kept it from restarting).
            remainderRequest = nil
            return true
        }
        return pages >= backstopPages
    }

    /// Called by the writer between groups: with no write in flight, a passive checkpoint copies
    /// every frame that no reader's snapshot still needs, so the next transaction can restart the
    /// WAL (a long read can still hold that back, as with SQLite's automatic checkpoint). If the
    /// checkpoint thread is in a pass right now, this one returns at once (BUSY).
    func checkpointOnWriterIfNeeded(_ connection: Connection, logger: Logger) {
        guard writerShouldCheckpoint() else { return }
        let rc = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        if rc != SQLITE_OK && rc != SQLITE_BUSY {
            logger.warning("WAL checkpoint on the writer failed", metadata: ["code": "\(rc)"])
        }
    }
}

/// What the writer asks of the checkpoint thread.
struct CheckpointPassRequest: Sendable {
    /// Repeat passes until few frames are left, for the writer to copy (at 4 thresholds); one pass
    /// otherwise, since each pass ends with an fsync of the database file, which competes with the
    /// commits' for the disk.
    var chaseRemainder: Bool
}

/// The checkpoint thread's loop. For the requests it finds queued (coalesced) it runs one passive
/// checkpoint, or, when one asks to chase the remainder, repeats them until the frames committed
/// during the last pass are few (`remainderPages`), up to 8 passes: each pass copies what the one
/// before left, so under steady writes the rest shrinks to what arrives during one short pass.
/// Then it counts the requests as served.
struct CheckpointWorker {
    let connection: Connection
    let queue: JobQueue<CheckpointPassRequest>
    let trigger: CheckpointTrigger
    let logger: Logger

    /// Runs until the queue is closed and drained, then closes the connection.
    func run() {
        while let requests = queue.takeBatch(max: 1 << 20) {
            let passes = requests.contains(where: \.chaseRemainder) ? 8 : 1
            for pass in 1...passes {
                var copied: Int32 = 0
                let rc = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, &copied)
                // BUSY: the writer was checkpointing; it copies the rest itself.
                guard rc == SQLITE_OK else {
                    if rc != SQLITE_BUSY {
                        logger.warning(
                            "WAL checkpoint failed",
                            metadata: ["code": "\(rc)", "message": "\(String(cString: sqlite3_errstr(rc)))"])
                    }
                    break
                }
                // `copied` counts this WAL's frames copied so far; once the WAL has restarted,
                // the difference is negative: nothing is left.
                if trigger.currentWALPages - copied <= trigger.remainderPages || pass == passes { break }
            }
            trigger.served(requests.count)
        }
        connection.close()
        queue.workerStopped()
    }
}

