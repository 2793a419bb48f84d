public import NIOCore

/// Splits a byte stream into lines: `\n` ends a line, a `\r` before it is dropped, blank lines are
/// skipped. A line longer than `maxLineLength` (not counting the `\r` dropped) is reported once as
/// `.oversized` and its bytes are discarded as they arrive, so an 8 MiB line never sits in memory.
/// When the peer ends its input (`SHUT_WR`, as `printf '...' | socat` does, or a close), a last
/// line without its `\n` is passed on like any other: "one message per line" includes a last line
/// whose writer did not end it. When the input ends otherwise (the server's shutdown, an idle
/// timeout, a reset: see `EndOfInput`), a partial line is dropped, since its writer may not have
/// finished it. A decoder made without an `EndOfInput` always drops it.
public struct LineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame

    public let maxLineLength: Int
    /// Told what the decoder holds and passes on (nil: not counted).
    private let budget: ConnectionBudget?
    /// Bytes of the current partial line already searched for `\n` (avoids rescanning).
    private var scanned = 0
    private var discarding = false
    /// Says whether the end of input is the peer's (nil: never taken to be).
    private let endOfInput: EndOfInput?

    public init(maxLineLength: Int, budget: ConnectionBudget? = nil, endOfInput: EndOfInput? = nil) {
        self.maxLineLength = maxLineLength
        self.budget = budget
        self.endOfInput = endOfInput
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let state = decodeLine(context: context, buffer: &buffer)
        budget?.gathering(buffer.readableBytes)
        return state
    }

    private mutating func decodeLine(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        let view = buffer.readableBytesView
        let searchStart = view.startIndex + scanned
        guard let newline = view[searchStart...].firstIndex(of: UInt8(ascii: "\n")) else {
            if discarding {
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                scanned = 0
            } else if buffer.readableBytes > maxLineLength + 1 {
                // (+ 1: a line at the limit may still end in `\r\n`.)
                discarding = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                scanned = 0
                context.fireChannelRead(Self.wrapInboundOut(.oversized(limit: maxLineLength)))
            } else {
                scanned = buffer.readableBytes
            }
            return .needMoreData
        }
        let length = newline - view.startIndex
        scanned = 0
        if discarding {
            discarding = false
            buffer.moveReaderIndex(forwardBy: length + 1)
            return .continue
        }
        let carriageReturn = length > 0 && view[newline - 1] == UInt8(ascii: "\r")
        if length - (carriageReturn ? 1 : 0) > maxLineLength {
            buffer.moveReaderIndex(forwardBy: length + 1)
            context.fireChannelRead(Self.wrapInboundOut(.oversized(limit: maxLineLength)))
            return .continue
        }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if carriageReturn {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        if line.readableBytesView.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
            return .continue
        }
        // Counted before it is passed on: the request loop may handle it (and say so) at once.
        budget?.decoded(line.readableBytes, remaining: buffer.readableBytes)
        context.fireChannelRead(Self.wrapInboundOut(.line(line)))
        return .continue
    }

    /// At the peer's end of input, the bytes after the last `\n` are a last line (see above).
    /// Otherwise they are dropped.
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        let peerEnded = seenEOF && (endOfInput?.isFromPeer ?? false)
        if peerEnded, !discarding, buffer.readableBytes > 0 {
            // `decode` left fewer than `maxLineLength + 2` bytes, none of them `\n`.
            var line = buffer.readSlice(length: buffer.readableBytes)!
            if line.readableBytesView.last == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            if line.readableBytes > maxLineLength {
                context.fireChannelRead(Self.wrapInboundOut(.oversized(limit: maxLineLength)))
            } else if !line.readableBytesView.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
                budget?.decoded(line.readableBytes, remaining: 0)
                context.fireChannelRead(Self.wrapInboundOut(.line(line)))
            }
        }
        scanned = 0
        discarding = false
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        budget?.gathering(0)
        return .needMoreData
    }
}
