@testable import FioguardTransport
import NIOCore
import NIOEmbedded
import Testing

/// The idle-close handler on an embedded channel, whose event loop's clock only moves when told.
@Suite("Idle close")
struct IdleCloseHandlerTests {
    static let timeout = TimeAmount.seconds(10)

    private func activeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(IdleCloseHandler(timeout: Self.timeout))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test func closesAConnectionOnWhichNothingMoves() throws {
        let channel = try activeChannel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive, "not yet")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "closed at the timeout")
    }

    /// Reads and writes each count on their own.
    @Test(arguments: ["read", "write"])
    func eachReadOrWritePushesTheDeadlineBack(direction: String) throws {
        let channel = try activeChannel()
        for _ in 0..<3 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(6))
            if direction == "read" {
                try channel.writeInbound(ByteBuffer(string: "request\n"))
            } else {
                try channel.writeOutbound(ByteBuffer(string: "answer\n"))
            }
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive, "9 s after the last \(direction)")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    /// Added before the channel is active (as the server does), the timer starts at activation:
    /// one started while inactive would find the channel inactive, stop, and never close it.
    @Test func startsAtActivationWhenAddedBefore() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(IdleCloseHandler(timeout: Self.timeout))
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(channel.isActive, "the time before activation does not count")
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        try channel.writeInbound(ByteBuffer(string: "x"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        #expect(channel.isActive, "one timer, pushed back by the read")
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(!channel.isActive)
    }

    /// Added to a channel that is already active, it starts its timer at once.
    @Test func startsAtOnceWhenAddedToAnActiveChannel() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(IdleCloseHandler(timeout: Self.timeout))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }

    @Test func aRemovedHandlerClosesNothing() throws {
        let channel = try activeChannel()
        let handler = try channel.pipeline.syncOperations.handler(type: IdleCloseHandler.self)
        try channel.pipeline.syncOperations.removeHandler(handler).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        #expect(try channel.finish().isClean)
    }

    /// Once the channel closed, the pending check is cancelled: nothing holds the handler.
    @Test func closingReleasesTheHandler() throws {
        let channel = EmbeddedChannel()
        weak var released: IdleCloseHandler?
        do {
            let handler = IdleCloseHandler(timeout: Self.timeout)
            released = handler
            try channel.pipeline.syncOperations.addHandler(handler)
        }
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.close().wait()
        channel.embeddedEventLoop.run()
        #expect(released == nil, "still referenced, by a check that was not cancelled")
    }

    /// An active channel whose handler also watches a request loop's activity (on the loop's clock).
    private func activeChannelWithRequests() throws -> (EmbeddedChannel, ConnectionActivity) {
        let channel = EmbeddedChannel()
        let loop = channel.embeddedEventLoop
        let activity = ConnectionActivity(clock: { loop.now })
        try channel.pipeline.syncOperations.addHandler(IdleCloseHandler(timeout: Self.timeout, activity: activity))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, activity)
    }

    /// A request being handled is not idleness, however long it runs; the time counts again from
    /// its end.
    @Test func aRequestBeingHandledKeepsTheConnection() throws {
        let (channel, activity) = try activeChannelWithRequests()
        let loop = channel.embeddedEventLoop
        try channel.writeInbound(ByteBuffer(string: "a long batch\n"))
        activity.begin()
        loop.advanceTime(by: .seconds(35))
        #expect(channel.isActive, "35 s into the request")
        activity.end()
        loop.advanceTime(by: .seconds(9))
        #expect(channel.isActive, "9 s after its end")
        loop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive, "closed a timeout after its end")
    }

    /// A request that gets no answer (a notification) counts when it finished, not when it was read.
    @Test func aRequestWithoutAnswerCountsWhenItFinished() throws {
        let (channel, activity) = try activeChannelWithRequests()
        let loop = channel.embeddedEventLoop
        try channel.writeInbound(ByteBuffer(string: "a notification\n"))
        activity.begin()
        loop.advanceTime(by: .seconds(5))
        activity.end()
        loop.advanceTime(by: .seconds(9))
        #expect(channel.isActive, "14 s after the read, 9 s after the end")
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    /// The count the handler reads is NIO's: bytes written and not yet handed to the socket (on
    /// an embedded channel, the writes not yet flushed).
    @Test func readsNIOsBufferedByteCount() throws {
        let channel = try activeChannel()
        #expect(IdleCloseHandler.nioBufferedBytes(channel) == 0)
        channel.write(ByteBuffer(string: "twelve bytes"), promise: nil)
        #expect(IdleCloseHandler.nioBufferedBytes(channel) == 12)
        channel.flush()
        #expect(IdleCloseHandler.nioBufferedBytes(channel) == 0)
    }
}

/// NIO's buffer for the socket, as the handler sees it (an embedded channel has none).
final class FakeBuffer: @unchecked Sendable {
    // @unchecked: only touched on the embedded event loop's (the test's) thread.
    var bytes = 0
}

@Suite("Idle close, answers draining")
struct IdleCloseDrainTests {
    private func channel(_ buffer: FakeBuffer) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            IdleCloseHandler(timeout: IdleCloseHandlerTests.timeout, bufferedBytes: { _ in buffer.bytes }))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// A large answer leaving slowly keeps the connection, though no new answer is written.
    @Test func aShrinkingBufferCountsAsActivity() throws {
        let buffer = FakeBuffer()
        let channel = try channel(buffer)
        buffer.bytes = 1_000_000
        try channel.writeOutbound(ByteBuffer(string: "a large answer"))
        // At each timeout the handler looks at the buffer: the first look notes 1,000,000 bytes,
        // each later one finds fewer.
        for left in [1_000_000, 800_000, 500_000, 200_000] {
            buffer.bytes = left
            channel.embeddedEventLoop.advanceTime(by: .seconds(10))
            #expect(channel.isActive, "still draining at \(left) bytes")
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "stuck at 200,000 bytes for a whole timeout")
    }

    /// A peer that stopped reading leaves the buffer as it is: closed once the second look finds
    /// the same bytes, two timeouts after the last write.
    @Test func aBufferThatDoesNotMoveIsIdle() throws {
        let buffer = FakeBuffer()
        let channel = try channel(buffer)
        buffer.bytes = 70_000
        try channel.writeOutbound(ByteBuffer(string: "answer"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(19))
        #expect(channel.isActive, "the first look only notes the buffer")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    /// A write after the first look starts over: the buffer it left is the next baseline.
    @Test func aWriteBetweenTheLooksStartsOver() throws {
        let buffer = FakeBuffer()
        let channel = try channel(buffer)
        buffer.bytes = 1_000
        try channel.writeOutbound(ByteBuffer(string: "answer"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))  // first look: 1,000 bytes noted
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        try channel.writeOutbound(ByteBuffer(string: "another"))  // still 1,000 bytes buffered
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive, "10 s after the write: a first look again, not a second")
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive, "the second look finds the same 1,000 bytes")
    }

    /// A read between the looks pushes the next look back; the buffer must still shrink.
    @Test func aReadBetweenTheLooksPushesTheSecondBack() throws {
        let buffer = FakeBuffer()
        let channel = try channel(buffer)
        buffer.bytes = 1_000
        try channel.writeOutbound(ByteBuffer(string: "answer"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))  // first look
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        try channel.writeInbound(ByteBuffer(string: "request"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive, "9 s after the read")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "10 s after the read, with the buffer unchanged")
    }

    /// Once everything was handed to the socket, one timeout is enough.
    @Test func anEmptyBufferClosesAtTheFirstTimeout() throws {
        let buffer = FakeBuffer()
        let channel = try channel(buffer)
        try channel.writeOutbound(ByteBuffer(string: "answer"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }
}
