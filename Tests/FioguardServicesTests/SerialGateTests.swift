@testable import FioguardServices
import Synchronization
import Testing

@Suite("SerialGate")
struct SerialGateTests {
    final class Trace: Sendable {
        let entries = Mutex<[String]>([])
        let inside = Atomic<Int>(0)  // bodies running now
    }

    /// Bodies that suspend (as a chunked recompute does between writes) still never overlap, and
    /// those that queued behind a running one go in the order they queued.
    @Test func bodiesRunOneAtATimeInTheOrderTheyQueued() async throws {
        let gate = SerialGate()
        let log = Trace()
        let release = AsyncStream<Void>.makeStream()

        let first = Task {
            await gate.run {
                log.entries.withLock { $0.append("first in") }
                for await _ in release.stream {}  // held until the test lets go
                log.entries.withLock { $0.append("first out") }
            }
        }
        #expect(await Self.wait(until: { !log.entries.withLock { $0.isEmpty } }))

        var queued: [Task<Void, Never>] = []
        for index in 0..<20 {
            queued.append(Task {
                await gate.run {
                    #expect(log.inside.add(1, ordering: .sequentiallyConsistent).newValue == 1)
                    log.entries.withLock { $0.append("\(index) in") }
                    for _ in 0..<3 { await Task.yield() }
                    log.entries.withLock { $0.append("\(index) out") }
                    log.inside.subtract(1, ordering: .sequentiallyConsistent)
                }
            })
            // Queued behind the first before the next is started, so the order is known.
            guard await Self.wait(until: { gate.waitingCount == index + 1 }) else {
                Issue.record("body \(index) did not wait for the gate")
                break
            }
        }
        #expect(log.entries.withLock { $0 } == ["first in"])
        release.continuation.finish()
        await first.value
        for task in queued { await task.value }

        let expected = ["first in", "first out"] + (0..<20).flatMap { ["\($0) in", "\($0) out"] }
        #expect(log.entries.withLock { $0 } == expected)
        #expect(gate.waitingCount == 0)
    }

    /// Polls for up to 10 s; a broken gate fails the test instead of hanging it.
    private static func wait(until condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return true
    }

    @Test func aThrowingBodyOpensTheGate() async throws {
        struct Refused: Error {}
        let gate = SerialGate()
        await #expect(throws: Refused.self) { try await gate.run { throw Refused() } }
        #expect(await gate.run { 7 } == 7)
    }
}
