public import NIOCore
import Synchronization

/// Tells the line decoder whether the end of input it sees is the peer's, the only one that
/// completes an unterminated last line. NIO reports the peer's end of input (`SHUT_WR`, or a
/// close) and the server's own closing of the read side (shutdown) alike, as `inputClosed`, and
/// `ByteToMessageHandler` runs the decoder's `decodeLast` with `seenEOF` also when the connection
/// closes for any reason. So the server marks its shutdown here, and `EndOfInputHandler` marks a
/// connection that closes before the peer ended its input (idle timeout, reset).
public final class EndOfInput: Sendable {
    private let notFromPeer = Atomic<Bool>(false)

    public init() {}

    /// The input is ending, or ended, other than by the peer's doing.
    public func markNotFromPeer() {
        notFromPeer.store(true, ordering: .releasing)
    }

    /// True until `markNotFromPeer()`.
    public var isFromPeer: Bool {
        !notFromPeer.load(ordering: .acquiring)
    }
}

/// Placed before the line decoder: a connection that closes marks its `EndOfInput` first. (When
/// the peer ended its input, the decoder had its last line already, at `inputClosed`.)
public final class EndOfInputHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private let endOfInput: EndOfInput

    public init(_ endOfInput: EndOfInput) {
        self.endOfInput = endOfInput
    }

    public func channelInactive(context: ChannelHandlerContext) {
        endOfInput.markNotFromPeer()
        context.fireChannelInactive()
    }
}
