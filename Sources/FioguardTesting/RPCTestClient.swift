public import FioguardJSON
import FioguardTransport
import NIOCore
import NIOPosix

/// A line-oriented client over NIO: send raw bytes or JSON-RPC calls, read response lines.
///
/// A plain channel with a handler that forwards each decoded line into a stream: the client lives
/// across many calls of a test, which `NIOAsyncChannel`'s scoped `executeThenClose` does not fit.
public final class RPCTestClient: Sendable {
    private let channel: any Channel
    private let iterator: IteratorBox

    private final class IteratorBox: @unchecked Sendable {
        // @unchecked: only one test task reads from a client at a time.
        var iterator: AsyncThrowingStream<Frame, any Error>.AsyncIterator
        init(_ i: AsyncThrowingStream<Frame, any Error>.AsyncIterator) { iterator = i }
    }

    /// Hands the decoded lines to the client's stream, and ends it when the connection does.
    private final class FrameForwarder: ChannelInboundHandler {
        typealias InboundIn = Frame
        let continuation: AsyncThrowingStream<Frame, any Error>.Continuation

        init(_ continuation: AsyncThrowingStream<Frame, any Error>.Continuation) { self.continuation = continuation }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            continuation.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    private init(channel: any Channel, lines: AsyncThrowingStream<Frame, any Error>) {
        self.channel = channel
        iterator = IteratorBox(lines.makeAsyncIterator())
    }

    /// A client dropped without `close()` (a test failed half-way) closes its connection.
    deinit {
        channel.close(promise: nil)
    }

    public static func connect(_ path: String, maxLine: Int = 64 << 20) async throws -> RPCTestClient {
        let (lines, continuation) = AsyncThrowingStream.makeStream(of: Frame.self)
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(LineFrameDecoder(maxLineLength: maxLine)), FrameForwarder(continuation))
                    }
                }
                .connect(unixDomainSocketPath: path).get()
            return RPCTestClient(channel: channel, lines: lines)
        } catch {
            continuation.finish(throwing: error)
            throw error
        }
    }

    /// Sends bytes as they are (no newline added).
    public func send(raw bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    public func send(line text: String) async throws {
        try await send(raw: Array((text + "\n").utf8))
    }

    /// The next response line, parsed; nil at end of stream.
    public func readResponse() async throws -> JSON? {
        guard let frame = try await iterator.iterator.next() else { return nil }
        guard case .line(let buffer) = frame else { throw TestSupportError("oversized response") }
        return try JSON.parse(Array(buffer.readableBytesView), maxDepth: 512, allowNUL: true)
    }

    /// The next response line, parsed; nil at end of stream. Throws when nothing (not even the end
    /// of the stream) arrives within `timeout`; the client is unusable after such a timeout.
    public func readResponse(timeout: Duration) async throws -> JSON? {
        guard let bytes = try await readLine(timeout: timeout) else { return nil }
        return try JSON.parse(bytes, maxDepth: 512, allowNUL: true)
    }

    /// The next response line as raw bytes (without the newline); nil at end of stream. Throws when
    /// nothing arrives within `timeout`; the client is unusable after such a timeout.
    public func readLine(timeout: Duration) async throws -> [UInt8]? {
        let box = iterator
        let outcome = try await withThrowingTaskGroup(of: ReadOutcome.self) { group in
            group.addTask {
                guard let frame = try await box.iterator.next() else { return .end }
                guard case .line(let buffer) = frame else { throw TestSupportError("oversized response") }
                return .line(Array(buffer.readableBytesView))
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .timedOut
            }
            defer { group.cancelAll() }
            return try await group.next() ?? .timedOut
        }
        switch outcome {
        case .line(let bytes): return bytes
        case .end: return nil
        case .timedOut:
            await close()
            throw TestSupportError("no response line within \(timeout)")
        }
    }

    private enum ReadOutcome: Sendable {
        case line([UInt8])
        case end
        case timedOut
    }

    /// Like `request(_:_:id:)`, but throws when the response does not come within `timeout`.
    public func request(_ method: String, _ params: JSON? = nil, id: JSON = 1, timeout: Duration) async throws -> JSON {
        var o = JSONObject([("jsonrpc", "2.0"), ("method", .string(method))])
        if let params { o["params"] = params }
        o["id"] = id
        try await send(line: JSON.object(o).encodedString())
        guard let r = try await readResponse(timeout: timeout) else { throw TestSupportError("connection closed before a response") }
        return r
    }

    /// Like `call(_:_:)`, but throws when the response does not come within `timeout`.
    public func call(_ method: String, _ params: JSON? = nil, timeout: Duration) async throws -> JSON {
        let r = try await request(method, params, timeout: timeout)
        if let e = r["error"] { throw RemoteError(error: e) }
        return r["result"] ?? .null
    }

    /// Sends a request with `id` and returns the whole response object.
    public func request(_ method: String, _ params: JSON? = nil, id: JSON = 1) async throws -> JSON {
        var o = JSONObject([("jsonrpc", "2.0"), ("method", .string(method))])
        if let params { o["params"] = params }
        o["id"] = id
        try await send(line: JSON.object(o).encodedString())
        guard let r = try await readResponse() else { throw TestSupportError("connection closed before a response") }
        return r
    }

    /// The `result` of a call, or throws the error object.
    public func call(_ method: String, _ params: JSON? = nil) async throws -> JSON {
        let r = try await request(method, params)
        if let e = r["error"] { throw RemoteError(error: e) }
        return r["result"] ?? .null
    }

    public func close() async {
        try? await channel.close()
    }
}

/// A JSON-RPC error object returned by the server.
public struct RemoteError: Error, CustomStringConvertible, Sendable {
    public let error: JSON
    public var code: Int64? { error["code"]?.intValue }
    public var reason: String? { error["data"]?["reason"]?.stringValue }
    public var description: String { error.encodedString() }
}
