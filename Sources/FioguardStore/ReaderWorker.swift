/// One reader thread's loop over the shared read queue. The closures taken together (up to
/// `batchSize`, and no more than a fair share of the queue among the readers) share one deferred
/// read transaction: its snapshot starts after all of them were queued, so each still sees every
/// write that had returned before it was queued, and the transaction's begin and end (a file lock
/// each) are paid once per batch. Reads never wait for the writer (WAL). Each caller is resumed as
/// soon as its own closure has run.
struct ReaderWorker {
    let connection: Connection
    let queue: JobQueue<any StoreRequest>
    /// Reader threads sharing the queue: a batch takes at most its fair share of what is queued.
    let readers: Int
    var batchSize = 8

    /// Runs until the queue is closed and drained, then closes the connection.
    func run() {
        while let batch = queue.takeBatch(max: batchSize, sharedBy: readers) {
            // Never reuse a transaction a failed COMMIT (and ROLLBACK) left open: its snapshot is old.
            if !connection.isAutocommit { try? connection.control(.rollback) }
            for request in batch {
                // A closure whose statement failed may have ended the transaction: start another.
                if connection.isAutocommit {
                    do {
                        try connection.control(.begin)
                    } catch {
                        request.complete(groupError: error)
                        continue
                    }
                }
                _ = request.perform(on: connection)
                request.complete(groupError: nil)
            }
            if !connection.isAutocommit {
                do {
                    try connection.control(.commit)
                } catch {
                    try? connection.control(.rollback)
                }
            }
        }
        connection.close()
        queue.workerStopped()
    }
}
