import CSQLite
@testable import FioguardStore
import Testing

/// When the writer asks the checkpoint thread for a pass, and when it checkpoints itself. Driven
/// through the WAL hook's entry point with made-up WAL sizes, without SQLite: a threshold of 100
/// pages, so 4 thresholds are 400 and 8 are 800.
@Suite struct CheckpointTriggerTests {
    let queue = JobQueue<CheckpointPassRequest>()
    let trigger: CheckpointTrigger

    init() {
        trigger = CheckpointTrigger(queue: queue, thresholdPages: 100)
    }

    /// The requests queued since the last call, oldest first (each as whether it chases the rest).
    func taken() -> [Bool] {
        guard queue.count > 0 else { return [] }
        return queue.takeBatch(max: 1000)?.map(\.chaseRemainder) ?? []
    }

    /// An I/O error from the writer's own checkpoint stops checkpoints for good, even past the
    /// backstop; a busy one or another failure does not.
    @Test func anIOErrorOnTheWritersCheckpointStopsCheckpoints() {
        trigger.committed(walPages: 800)
        #expect(trigger.writerShouldCheckpoint())
        trigger.writerCheckpointed(SQLITE_BUSY)
        trigger.writerCheckpointed(SQLITE_FULL)
        #expect(!trigger.checkpointsStopped)
        trigger.writerCheckpointed(SQLITE_IOERR | (4 << 8))  // SQLITE_IOERR_FSYNC
        #expect(trigger.checkpointsStopped)
        trigger.committed(walPages: 2000)
        #expect(!trigger.writerShouldCheckpoint())
    }

    @Test func asksOncePerThresholdOfGrowth() {
        trigger.committed(walPages: 99)
        #expect(taken() == [])
        trigger.committed(walPages: 100)
        #expect(taken() == [false])
        trigger.committed(walPages: 150)
        trigger.committed(walPages: 199)
        #expect(taken() == [])
        trigger.committed(walPages: 205)
        #expect(taken() == [false])
        #expect(!trigger.writerShouldCheckpoint())
    }

    /// A restart is seen as a WAL smaller than after the commit before, even when the first commit
    /// of the new WAL is larger than the size at the last request.
    @Test func aRestartedWALStartsOver() {
        trigger.committed(walPages: 250)
        #expect(taken() == [false])
        trigger.committed(walPages: 290)
        trigger.committed(walPages: 270)  // restarted with a large first group
        #expect(taken() == [false])
        #expect(trigger.walHistory.restarts == 1)
        #expect(trigger.walHistory.peakPages == 290)
    }

    /// At 4 thresholds the request chases the rest, and no other is made until the writer has
    /// copied it; the writer does so only once that very request is served, not an earlier one.
    @Test func theWriterCopiesTheRestAfterTheRequestAtFourThresholds() {
        for pages: Int32 in [100, 200, 300] { trigger.committed(walPages: pages) }
        #expect(taken() == [false, false, false])
        trigger.committed(walPages: 400)
        #expect(taken() == [true])
        #expect(!trigger.writerShouldCheckpoint())
        trigger.served(3)
        #expect(!trigger.writerShouldCheckpoint(), "served only the requests before the one at 4 thresholds")
        trigger.committed(walPages: 520)
        #expect(taken() == [], "the checkpoint thread would hold the lock the writer needs")
        trigger.served(1)
        #expect(trigger.writerShouldCheckpoint())
        trigger.writerCheckpointed(SQLITE_OK)
        #expect(!trigger.writerShouldCheckpoint(), "once per request")
    }

    /// SQLite does not wait for the checkpoint lock: a writer's checkpoint that met another one
    /// returns SQLITE_BUSY and must be tried again after the next group.
    @Test func aBusyWriterCheckpointIsTriedAgain() {
        trigger.committed(walPages: 400)
        #expect(taken() == [true])
        trigger.served(1)
        #expect(trigger.writerShouldCheckpoint())
        trigger.writerCheckpointed(SQLITE_BUSY)
        trigger.committed(walPages: 410)
        #expect(taken() == [])
        #expect(trigger.writerShouldCheckpoint())
        trigger.writerCheckpointed(SQLITE_OK)
        #expect(!trigger.writerShouldCheckpoint())
    }

    /// A long read kept the WAL from restarting after the writer's checkpoint: the next request
    /// waits for another threshold of growth, and the writer copies again once it is served.
    @Test func aWALThatDidNotRestartIsAskedForAgainAThresholdLater() {
        trigger.committed(walPages: 400)
        #expect(taken() == [true])
        trigger.served(1)
        #expect(trigger.writerShouldCheckpoint())
        trigger.writerCheckpointed(SQLITE_OK)
        trigger.committed(walPages: 430)
        #expect(taken() == [])
        trigger.committed(walPages: 500)
        #expect(taken() == [true])
        #expect(!trigger.writerShouldCheckpoint())
        trigger.served(1)
        #expect(trigger.writerShouldCheckpoint())
    }

    /// A request at 4 thresholds left unserved when the WAL restarted is forgotten: it must not let
    /// the writer copy a whole WAL later on.
    @Test func aRestartDropsTheRequestAtFourThresholds() {
        trigger.committed(walPages: 410)
        #expect(taken() == [true])
        trigger.committed(walPages: 2)  // restarted (the checkpoint thread copied everything)
        trigger.served(1)
        #expect(!trigger.writerShouldCheckpoint())
        for pages: Int32 in [100, 200, 300] { trigger.committed(walPages: pages) }
        #expect(taken() == [false, false, false])
        trigger.served(3)
        #expect(!trigger.writerShouldCheckpoint())
    }

    /// A checkpoint thread that never serves (starved, or stuck behind a read) cannot let the WAL
    /// grow without bound: from 8 thresholds the writer tries itself, after every group while it
    /// meets the checkpoint thread's pass (BUSY), and an eighth of a threshold later when a read
    /// kept it from copying everything (each try walks every frame not yet copied).
    @Test func atEightThresholdsTheWriterCopiesWhateverIsLeft() {
        trigger.committed(walPages: 799)
        #expect(!trigger.writerShouldCheckpoint())
        trigger.committed(walPages: 800)
        #expect(trigger.writerShouldCheckpoint())
        trigger.writerCheckpointed(SQLITE_BUSY)
        #expect(trigger.writerShouldCheckpoint(), "BUSY: again after the next group")
        trigger.writerCheckpointed(SQLITE_BUSY | (2 << 8))  // an extended BUSY code
        #expect(trigger.writerShouldCheckpoint())
        trigger.writerCheckpointed(SQLITE_OK)
        trigger.committed(walPages: 811)
        #expect(!trigger.writerShouldCheckpoint())
        trigger.committed(walPages: 812)
        #expect(trigger.writerShouldCheckpoint())
        trigger.committed(walPages: 5)
        #expect(!trigger.writerShouldCheckpoint())
    }

    /// The writer's checkpoints from 8 thresholds do not stop requests to the checkpoint thread:
    /// if they did, the writer would be left to copy the whole WAL once a long read ended.
    @Test func theWritersCheckpointsLeaveRequestsGoing() {
        for pages: Int32 in [100, 200, 300] { trigger.committed(walPages: pages) }
        trigger.committed(walPages: 400)
        #expect(taken() == [false, false, false, true])
        trigger.served(4)
        #expect(trigger.writerShouldCheckpoint())
        trigger.writerCheckpointed(SQLITE_OK)  // a read kept the WAL from restarting
        trigger.committed(walPages: 499)
        #expect(taken() == [])
        trigger.committed(walPages: 500)
        #expect(taken() == [true])
        trigger.committed(walPages: 900)
        trigger.writerCheckpointed(SQLITE_OK)
        trigger.committed(walPages: 950)
        #expect(taken() == [true], "a threshold after the last request, whatever the writer did")
    }

    /// The chase is the first request at or past 4 thresholds; requests still come a threshold
    /// apart, wherever they fell before.
    @Test func theChaseIsTheFirstRequestPastFourThresholds() {
        for pages: Int32 in [150, 250, 350] { trigger.committed(walPages: pages) }
        #expect(taken() == [false, false, false])
        trigger.committed(walPages: 449)
        #expect(taken() == [])
        trigger.committed(walPages: 450)
        #expect(taken() == [true])
    }

    /// What the writer does with its checkpoint's result: BUSY keeps its turn, anything else ends
    /// it; only failures other than BUSY are logged.
    @Test func theWriterKeepsItsTurnOnlyOnBusy() {
        trigger.committed(walPages: 400)
        #expect(taken() == [true])
        trigger.served(1)
        var calls = 0
        let codes = [SQLITE_BUSY, SQLITE_OK]
        for _ in 0..<3 {
            trigger.checkpointOnWriterIfNeeded(logger: quietLogger) {
                calls += 1
                return codes[calls - 1]
            }
        }
        #expect(calls == 2)
    }

    /// Once the queue is closed (the store is closing) nothing counts as asked for.
    @Test func aClosedQueueMakesNoRequest() {
        queue.close()
        trigger.committed(walPages: 400)
        trigger.served(1)
        #expect(!trigger.writerShouldCheckpoint())
    }

    @Test func sizes() {
        #expect(trigger.writerThresholdPages == 400)
        #expect(trigger.backstopPages == 800)
        #expect(trigger.retainedWALPages == 500)
        #expect(trigger.remainderPages == 1)
        let large = CheckpointTrigger(queue: queue, thresholdPages: 16_384)
        #expect(large.remainderPages == 256)
        #expect(large.retainedWALPages == 81_920)
    }
}

/// The checkpoint thread's passes for one batch of requests, with a scripted checkpoint.
@Suite struct CheckpointPassesTests {
    /// Runs `passes` against a WAL that grows by `growth[i]` frames during pass i; each pass copies
    /// every frame there was when it started.
    func run(
        chasing: Bool, growth: [Int32], codes: [Int32] = [], remainder: Int32 = 10, writerPages: Int32 = 100_000
    ) -> (count: Int, code: Int32) {
        var wal: Int32 = 1000
        var pass = 0
        return CheckpointWorker.passes(chasing: chasing, remainderPages: remainder, writerPages: writerPages, walPages: { wal }) {
            let copied = wal
            wal += pass < growth.count ? growth[pass] : 0
            let code = pass < codes.count ? codes[pass] : SQLITE_OK
            pass += 1
            return (code, copied)
        }
    }

    @Test func oneRequestWithoutChasingIsOnePass() {
        let outcome = run(chasing: false, growth: [500, 500])
        #expect(outcome.count == 1)
        #expect(outcome.code == SQLITE_OK)
    }

    @Test func chasingStopsOnceTheRestIsSmall() {
        // 300 frames arrive during the first pass, 40 during the second, 10 during the third.
        #expect(run(chasing: true, growth: [300, 40, 10, 500]).count == 3)
        #expect(run(chasing: true, growth: [0]).count == 1)
    }

    @Test func chasingStopsAfterEightPasses() {
        // The rest shrinks by one frame per pass, never to 10.
        let outcome = run(chasing: true, growth: (0..<20).map { 200 - Int32($0) })
        #expect(outcome.count == CheckpointWorker.maxPasses)
    }

    /// Writes that outpace the copying, or a read holding frames back: no use going on.
    @Test func chasingStopsWhenTheRestStopsShrinking() {
        #expect(run(chasing: true, growth: [300, 200, 200, 100]).count == 3)
    }

    /// At 8 thresholds the writer copies itself and needs the checkpoint lock.
    @Test func chasingStopsWhereTheWriterTakesOver() {
        // The WAL starts at 1,000 frames: 300, 200 and 100 more arrive in the first three passes.
        #expect(run(chasing: true, growth: [300, 200, 100, 50], writerPages: 1500).count == 2)
    }

    @Test func aBusyOrFailedPassEndsTheChase() {
        #expect(run(chasing: true, growth: [300, 300, 300], codes: [SQLITE_OK, SQLITE_BUSY]) == (2, SQLITE_BUSY))
        #expect(run(chasing: true, growth: [300], codes: [SQLITE_IOERR]) == (1, SQLITE_IOERR))
    }

    @Test func aRestartedWALEndsTheChase() {
        var wal: Int32 = 1000
        let outcome = CheckpointWorker.passes(chasing: true, remainderPages: 10, writerPages: 100_000, walPages: { wal }) {
            defer { wal = 3 }  // the writer restarted the WAL during the pass
            return (SQLITE_OK, 1000)
        }
        #expect(outcome.count == 1)
    }
}
