/// One reader thread's loop over the shared read queue. Each closure runs in its own deferred
/// read transaction, so all its queries see one snapshot, and never waits for the writer (WAL).
struct ReaderWorker {
    let connection: Connection
    let queue: JobQueue<any StoreRequest>

    /// Runs until the queue is closed and drained, then closes the connection.
    func run() {
        while let request = queue.takeOne() {
            do {
                try connection.control(.begin)
            } catch {
                request.complete(groupError: error)
                continue
            }
            _ = request.perform(on: connection)
            if !connection.isAutocommit {
                do {
                    try connection.control(.commit)
                } catch {
                    try? connection.control(.rollback)
                }
            }
            request.complete(groupError: nil)
        }
        connection.close()
        queue.workerStopped()
    }
}
