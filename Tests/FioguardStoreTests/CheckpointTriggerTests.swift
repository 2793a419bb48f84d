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

    @Test func aRestartedWALStartsOver() {
        trigger.committed(walPages: 250)
        #expect(taken() == [false])
        trigger.committed(walPages: 3)  // restarted
        trigger.committed(walPages: 120)
        #expect(taken() == [false])
    }

    /// At 4 thresholds the request chases the rest; the writer copies what is left only once that
    /// very request is served, not an earlier one.
    @Test func theWriterCopiesTheRestAfterTheRequestAtFourThresholds() {
        for pages: Int32 in [100, 200, 300] { trigger.committed(walPages: pages) }
        #expect(taken() == [false, false, false])
        trigger.committed(walPages: 400)
        #expect(taken() == [true])
        #expect(!trigger.writerShouldCheckpoint())
        trigger.served(3)
        #expect(!trigger.writerShouldCheckpoint(), "served only the requests before the one at 4 thresholds")
        trigger.committed(walPages: 420)
        #expect(taken() == [])
        trigger.served(1)
        #expect(trigger.writerShouldCheckpoint())
        #expect(!trigger.writerShouldCheckpoint(), "once per request")
    }

    /// A long read kept the WAL from restarting after the writer's checkpoint: the next commit asks
    /// again, and the writer copies again once that is served.
    @Test func aWALThatDidNotRestartIsAskedForAgain() {
        trigger.committed(walPages: 400)
        #expect(taken() == [true])
        trigger.served(1)
        #expect(trigger.writerShouldCheckpoint())
        trigger.committed(walPages: 430)
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
    /// grow without bound: from 8 thresholds the writer copies whatever is left.
    @Test func atEightThresholdsTheWriterCopiesWhateverIsLeft() {
        trigger.committed(walPages: 799)
        #expect(!trigger.writerShouldCheckpoint())
        trigger.committed(walPages: 800)
        #expect(trigger.writerShouldCheckpoint())
        #expect(trigger.writerShouldCheckpoint(), "until the WAL restarts")
        trigger.committed(walPages: 5)
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
