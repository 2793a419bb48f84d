@testable import FioguardTransport
import NIOCore
import NIOEmbedded
import Testing

/// The line decoder at the end of input, on an embedded channel: a last line without `\n` counts
/// when the peer ends its input, and only then.
@Suite("Line decoder, end of input")
struct LineFrameDecoderTests {
    static let limit = 8

    /// The server's pipeline, less what is not under test.
    private func channel(budget: ConnectionBudget? = nil, end: EndOfInput? = EndOfInput()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let sync = channel.pipeline.syncOperations
        if let end { try sync.addHandler(EndOfInputHandler(end)) }
        try sync.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineLength: Self.limit, budget: budget, endOfInput: end)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func frames(_ channel: EmbeddedChannel) throws -> [Frame] {
        var all: [Frame] = []
        while let f = try channel.readInbound(as: Frame.self) { all.append(f) }
        return all
    }

    /// What the server's pipeline sees when the peer shuts its write side (or the server its
    /// read side): NIO's `inputClosed` event.
    private func endInput(_ channel: EmbeddedChannel) {
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    @Test(arguments: [
        ("abc\nde", ["abc", "de"]),
        ("abc\nde\r", ["abc", "de"]),
        ("abc\n", ["abc"]),
        ("abc\n \t ", ["abc"]),
        ("12345678", ["12345678"]),
        ("12345678\r", ["12345678"]),
    ])
    func theLastLineCountsWhenThePeerEndsItsInput(input: String, lines: [String]) throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(string: input))
        endInput(channel)
        #expect(try frames(channel) == lines.map { .line(ByteBuffer(string: $0)) })
        _ = try channel.finish()
    }

    @Test func aLastLineOverTheLimitIsReportedOnce() throws {
        // 9 bytes: not yet known to be too long while the line could still end in `\r\n`.
        let short = try channel()
        try short.writeInbound(ByteBuffer(string: "123456789"))
        #expect(try frames(short).isEmpty)
        endInput(short)
        #expect(try frames(short) == [.oversized(limit: Self.limit)])
        _ = try short.finish()
        // Already being discarded when the input ends: reported when it grew too long, not again.
        let long = try channel()
        try long.writeInbound(ByteBuffer(string: "12345678901234"))
        endInput(long)
        #expect(try frames(long) == [.oversized(limit: Self.limit)])
        _ = try long.finish()
    }

    @Test func aPartialLineIsDroppedWhenTheServerClosedTheInputOrTheConnectionIsGone() throws {
        let end = EndOfInput()
        let shutDown = try channel(end: end)
        try shutDown.writeInbound(ByteBuffer(string: "abc\nde"))
        end.markNotFromPeer()
        endInput(shutDown)
        #expect(try frames(shutDown) == [.line(ByteBuffer(string: "abc"))])
        _ = try shutDown.finish()

        let gone = try channel()
        try gone.writeInbound(ByteBuffer(string: "abc\nde"))
        #expect(try frames(gone) == [.line(ByteBuffer(string: "abc"))])
        // Closing runs `decodeLast` without an end of input first: `de` must not come out.
        #expect(try gone.finish().isClean)

        let unasked = try channel(end: nil)
        try unasked.writeInbound(ByteBuffer(string: "abc\nde"))
        endInput(unasked)
        #expect(try frames(unasked) == [.line(ByteBuffer(string: "abc"))], "no `EndOfInput`: never the peer's")
        _ = try unasked.finish()
    }

    @Test func theLastLineIsCountedInTheBudgetUntilHandled() throws {
        let pool = InboundBudget(totalBytes: 1 << 20, maxFrameLength: Self.limit)
        let budget = pool.connection()
        let channel = try channel(budget: budget)
        try channel.writeInbound(ByteBuffer(string: "ab\ncde"))
        #expect(budget.held.bytes == 2 + 3)
        endInput(channel)
        #expect(budget.held.bytes == 2 + 3, "`cde` is now a line waiting to be handled")
        budget.handled(2)
        budget.handled(3)
        #expect(budget.held.bytes == 0)
        _ = try channel.finish()
    }
}
