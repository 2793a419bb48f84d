/// Counters of committed work, read by tests and health reports.
///
/// `@unchecked Sendable`: the counters are read and written only while holding `lock`.
final class WriterStatistics: @unchecked Sendable {
    private let lock = ConditionLock()
    private var groups = 0
    private var writes = 0
    private var replays = 0

    func recordGroup(writes count: Int) {
        lock.withLock {
            groups += 1
            writes += count
        }
    }

    func recordReplay() {
        lock.withLock { replays += 1 }
    }

    var committedGroups: Int { lock.withLock { groups } }
    var committedWrites: Int { lock.withLock { writes } }
    var replayedGroups: Int { lock.withLock { replays } }
}
