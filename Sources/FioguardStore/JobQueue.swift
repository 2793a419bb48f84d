/// A FIFO of jobs shared by the callers (any thread, never blocking beyond a short lock) and the
/// worker threads that block on it. After `close()` it refuses new jobs but still hands out the
/// queued ones, so closing finishes queued work; workers report their exit so that `close()` can
/// await it without blocking a thread.
///
/// `@unchecked Sendable`: every mutable field is read and written only while holding `lock`.
final class JobQueue<Job: Sendable>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false
    private var liveWorkers = 0
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    init() {}

    /// Queues `job`; false once closed.
    func enqueue(_ job: Job) -> Bool {
        lock.lock()
        if closed {
            lock.unlock()
            return false
        }
        jobs.append(job)
        lock.unlock()
        lock.signal()
        return true
    }

    /// Jobs queued and not yet taken by a worker.
    var count: Int {
        lock.withLock { jobs.count - head }
    }

    /// Blocks until at least one job is queued, then takes up to `max` of them, and no more than
    /// a fair share when `workers` threads serve this queue (so queued jobs spread over idle
    /// workers instead of waiting behind each other); nil once closed and drained.
    func takeBatch(max: Int, sharedBy workers: Int = 1) -> [Job]? {
        lock.lock()
        defer { lock.unlock() }
        guard waitForJobs() else { return nil }
        let queued = jobs.count - head
        let share = (queued + Swift.max(1, workers) - 1) / Swift.max(1, workers)
        let end = head + Swift.max(1, Swift.min(max, share))
        let batch = Array(jobs[head..<end])
        head = end
        compact()
        // More work left: let another idle worker pick it up in parallel.
        if head < jobs.count { lock.signal() }
        return batch
    }

    /// Stops accepting jobs and wakes every worker; returns false if it was already closed.
    @discardableResult
    func close() -> Bool {
        lock.lock()
        let wasOpen = !closed
        closed = true
        lock.unlock()
        lock.broadcast()
        return wasOpen
    }

    /// Called before starting a worker thread.
    func workerStarted() {
        lock.withLock { liveWorkers += 1 }
    }

    /// Called by a worker as its very last action.
    func workerStopped() {
        lock.lock()
        liveWorkers -= 1
        var waiters: [CheckedContinuation<Void, Never>] = []
        if liveWorkers == 0 { swap(&waiters, &stopWaiters) }
        lock.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every started worker has stopped.
    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if liveWorkers == 0 {
                lock.unlock()
                continuation.resume()
            } else {
                stopWaiters.append(continuation)
                lock.unlock()
            }
        }
    }

    /// With the lock held: waits for a job; false when closed and empty.
    private func waitForJobs() -> Bool {
        while head == jobs.count {
            if closed { return false }
            lock.wait()
        }
        return true
    }

    /// With the lock held: drops taken jobs from the front now and then.
    private func compact() {
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 256 && head * 2 >= jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
    }
}
