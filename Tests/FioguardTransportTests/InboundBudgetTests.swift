@testable import FioguardTransport
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

/// The shared bound on request bytes held by connections: its arithmetic, then the decoder's
/// accounting and the read gate on an embedded channel.
@Suite("Inbound budget")
struct InboundBudgetTests {
    static let frame = 100_000
    static let slot = frame + 2

    private func pool(slots: Int) -> InboundBudget {
        InboundBudget(totalBytes: slots * Self.slot, maxFrameLength: Self.frame, allowance: 1000)
    }

    fileprivate final class Wakes: Sendable {
        let count = Atomic(0)
        var wake: @Sendable () -> Void { { self.count.add(1, ordering: .relaxed) } }
        var value: Int { count.load(ordering: .relaxed) }
    }

    @Test func theSlotsAreWholeLinesAndThereIsAlwaysOne() {
        #expect(pool(slots: 3).slots == 3)
        #expect(InboundBudget(totalBytes: 3 * Self.slot - 1, maxFrameLength: Self.frame).slots == 2)
        #expect(InboundBudget(totalBytes: 10, maxFrameLength: Self.frame).slots == 1)
        #expect(InboundBudget(totalBytes: 64 << 20, maxFrameLength: 1 << 20).slots == 63)
    }

    @Test func withinTheAllowanceNoSlotIsTaken() {
        let p = pool(slots: 1)
        let c = p.connection()
        c.gathering(999)
        #expect(c.mayRead())
        #expect(c.held.slots == 0)
        #expect(p.freeSlots == 1)
    }

    @Test func pastTheAllowanceASlotIsTakenAndGivenBackOnceTheLinesAreHandled() {
        let p = pool(slots: 2)
        let c = p.connection()
        c.decoded(600, remaining: 500)
        #expect(c.mayRead())
        #expect(c.held == (1100, 1))
        #expect(p.freeSlots == 1)
        // Room for a whole line past the allowance: no second slot.
        c.gathering(1000 + Self.slot - 601)
        #expect(c.mayRead())
        #expect(c.held.slots == 1)
        // At the limit, a second one.
        c.gathering(1000 + Self.slot - 600)
        #expect(c.mayRead())
        #expect(c.held.slots == 2)
        #expect(p.freeSlots == 0)
        // The decoder passed the partial line on (its `\r\n` is not held): one slot covers it.
        c.decoded(Self.slot - 2, remaining: 0)
        #expect(c.held == (600 + Self.slot - 2, 1))
        #expect(p.freeSlots == 1)
        c.handled(600)
        #expect(c.held == (Self.slot - 2, 1), "the line not yet handled keeps its slot")
        c.handled(Self.slot - 2)
        #expect(c.held == (0, 0))
        #expect(p.freeSlots == 2)
    }

    /// A pool of one slot, taken by `a`; `b`, past its allowance too, waits for it.
    private func oneSlotHeldByAWithBWaiting(
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> (InboundBudget, ConnectionBudget, ConnectionBudget, Wakes) {
        let p = pool(slots: 1)
        let a = p.connection(), b = p.connection()
        a.gathering(5000)
        #expect(a.mayRead(), sourceLocation: sourceLocation)
        b.gathering(5000)
        let wakes = Wakes()
        #expect(!b.mayRead(waking: wakes), sourceLocation: sourceLocation)
        return (p, a, b, wakes)
    }

    @Test func withNoSlotFreeTheReaderWaitsAndIsWokenWhenOneIsGivenBack() {
        let (p, a, b, wakes) = oneSlotHeldByAWithBWaiting()
        #expect(p.waitingConnections == 1)
        a.gathering(4000)
        #expect(wakes.value == 0, "a still needs its slot")
        a.decoded(4000, remaining: 0)
        a.handled(4000)
        #expect(wakes.value == 1)
        #expect(p.waitingConnections == 0)
        #expect(b.mayRead())
        #expect(b.held.slots == 1)
    }

    @Test func closingGivesTheSlotsBackForgetsTheWaiterAndIgnoresLateReports() {
        let (p, a, b, wakes) = oneSlotHeldByAWithBWaiting()
        b.close()
        #expect(p.waitingConnections == 0)
        a.decoded(5000, remaining: 0)
        a.close()
        #expect(p.freeSlots == 1)
        #expect(wakes.value == 0, "a closed waiter is not woken")
        // The request loop may still handle lines that were queued when the connection closed.
        a.handled(5000)
        a.decoded(7000, remaining: 3000)
        #expect(a.held == (0, 0))
        #expect(a.mayRead(), "a closed connection's reads are not held back")
        #expect(p.freeSlots == 1)
    }

    // MARK: - on a channel

    /// Counts the reads that pass the gate.
    private final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = NIOAny
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    private func channel(_ budget: ConnectionBudget) throws -> (EmbeddedChannel, ReadCounter) {
        let channel = EmbeddedChannel()
        let counter = ReadCounter()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(counter)
        try sync.addHandler(InboundBudgetHandler(budget: budget))
        try sync.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineLength: Self.frame, budget: budget)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, counter)
    }

    @Test func theDecoderCountsPartialAndPassedOnLinesButNotBlankOrOversizedOnes() throws {
        let p = pool(slots: 1)
        let budget = p.connection()
        let (channel, _) = try channel(budget)
        try channel.writeInbound(ByteBuffer(string: "abc\r\n\n  \nde"))
        #expect(budget.held.bytes == 3 + 2, "the line `abc` and the partial `de`")
        #expect(try channel.readInbound(as: Frame.self) == .line(ByteBuffer(string: "abc")))
        try channel.writeInbound(ByteBuffer(string: "f\n"))
        #expect(budget.held.bytes == 3 + 3)
        budget.handled(3)
        budget.handled(3)
        #expect(budget.held.bytes == 0)
        // An oversized line is discarded as it comes: nothing of it is held.
        try channel.writeInbound(ByteBuffer(repeating: UInt8(ascii: "x"), count: Self.frame + 10))
        #expect(budget.held.bytes == 0)
        try channel.writeInbound(ByteBuffer(repeating: UInt8(ascii: "x"), count: 500))
        #expect(budget.held.bytes == 0)
        try channel.writeInbound(ByteBuffer(string: "x\nnext"))
        #expect(budget.held.bytes == 4, "only the partial `next`")
        _ = try channel.finish()
        #expect(p.freeSlots == 1)
    }

    @Test func aReadIsHeldBackUntilASlotIsFreeAndTheSlotsReturnWhenTheChannelCloses() throws {
        let p = pool(slots: 1)
        let other = p.connection()
        other.gathering(5000)
        #expect(other.mayRead())
        let budget = p.connection()
        let (channel, counter) = try channel(budget)
        channel.read()
        #expect(counter.reads == 1, "within the allowance")
        try channel.writeInbound(ByteBuffer(repeating: UInt8(ascii: "x"), count: 2000))
        channel.read()
        #expect(counter.reads == 1, "past the allowance, with no slot free")
        other.decoded(5000, remaining: 0)
        other.handled(5000)
        #expect(counter.reads == 1, "the wake-up runs on the channel's event loop")
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 2)
        #expect(budget.held.slots == 1)
        #expect(p.freeSlots == 0)
        _ = try channel.finish()
        #expect(p.freeSlots == 1)
    }
}

extension ConnectionBudget {
    fileprivate func mayRead() -> Bool { mayRead(wake: {}) }
    fileprivate func mayRead(waking wakes: InboundBudgetTests.Wakes) -> Bool { mayRead(wake: wakes.wake) }
}
