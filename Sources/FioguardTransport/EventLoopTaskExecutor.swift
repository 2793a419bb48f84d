import NIOCore

/// Runs a task's jobs on one NIO event loop (Swift's `TaskExecutor`, SE-0417).
///
/// A connection's task prefers the executor of its own channel's loop, so reading a frame,
/// decoding the request, encoding the answer and writing it all happen on the thread that owns the
/// socket: no hop to Swift's global pool and back for each request. Only the store's work leaves
/// the loop (SQLite runs on the store's own threads), and its answer comes back here.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
