import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A stand-in for FACEIO's REST API on 127.0.0.1, with fault modes, for the outbox tests
/// (the network here reaches only loopback). Answers `GET /deletefacialid?key=…&fid=…`.
public final class FakeFaceIO: Sendable {
    public enum Mode: Sendable, Equatable {
        /// `{"status":200}` when the key is right, `{"status":401,…}` otherwise.
        case ok
        /// Closes the connection without answering (a transport error for the client).
        case down
        /// Answers like `.ok`, after a delay.
        case slow(milliseconds: Int64)
        /// HTTP 500.
        case serverError
        /// HTTP 429.
        case tooManyRequests
        /// Refuses every key: HTTP 401 with `{"status":401,"error":"Invalid API key"}`.
        case badKey
        /// HTTP 200 with a body that is not JSON.
        case garbage
    }

    /// One request received.
    public struct Call: Sendable, Equatable {
        public var path: String
        public var key: String?
        public var fid: String?
    }

    private struct State {
        var mode: Mode = .ok
        var calls: [Call] = []
        var callTimes: [ContinuousClock.Instant] = []
        var deleted: [String: Int] = [:]
        var rejectedFacialIDs: Set<String> = []
        var echoesKeyInErrors = false
        var quotesFacialIDInErrors = false
        var inFlight = 0
        var maxInFlight = 0
    }

    /// The most requests that were being answered at the same time (a slow mode makes them overlap).
    public var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    fileprivate func answered() { state.withLock { $0.inFlight -= 1 } }

    public let expectedKey: String
    private let state = Mutex(State())
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    /// Accepted connections, closed by `stop()` (a client's pooled keep-alive connection must not
    /// outlive the fake).
    private let children: Mutex<[any Channel]> = Mutex([])
    private let boundPort = Mutex(0)
    public var port: Int { boundPort.withLock { $0 } }

    private init(expectedKey: String) {
        self.expectedKey = expectedKey
    }

    /// Listens on 127.0.0.1:`port` (0: any free port; a fixed one brings a stopped fake back at
    /// the address a server already knows).
    public static func start(expectedKey: String, port: Int = 0) async throws -> FakeFaceIO {
        let fake = FakeFaceIO(expectedKey: expectedKey)
        let ch = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                fake.children.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(fake: fake))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        fake.boundPort.withLock { $0 = ch.localAddress?.port ?? 0 }
        fake.channel.withLock { $0 = ch }
        return fake
    }

    public var baseURL: String { "http://127.0.0.1:\(port)/" }

    public var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    public var calls: [Call] { state.withLock { $0.calls } }

    /// When each of `calls` arrived, in the same order: for tests of pacing, which a test's own
    /// clock would measure with its scheduling delays.
    public var callTimes: [ContinuousClock.Instant] { state.withLock { $0.callTimes } }

    /// The requests received for `fid`.
    public func calls(for fid: String) -> [Call] { state.withLock { $0.calls.filter { $0.fid == fid } } }

    /// Facial IDs FACEIO does not know: in `.ok`/`.slow` a call for one of them is answered
    /// HTTP 200 with `{"status":400,"error":"Invalid Facial ID"}` (a permanent failure).
    public var rejectedFacialIDs: Set<String> {
        get { state.withLock { $0.rejectedFacialIDs } }
        set { state.withLock { $0.rejectedFacialIDs = newValue } }
    }

    /// When true, the `error` message of a refused key quotes the key that was presented (as some
    /// APIs do): the sidecar must still never log or return it.
    public var echoesKeyInErrors: Bool {
        get { state.withLock { $0.echoesKeyInErrors } }
        set { state.withLock { $0.echoesKeyInErrors = newValue } }
    }

    /// When true, the `error` message of a 500, a 429 or a refused Facial ID quotes the Facial ID
    /// asked for (as some APIs do): the sidecar must still never log it.
    public var quotesFacialIDInErrors: Bool {
        get { state.withLock { $0.quotesFacialIDInErrors } }
        set { state.withLock { $0.quotesFacialIDInErrors = newValue } }
    }

    /// How many successful deletions of `fid` were answered.
    public func successCount(_ fid: String) -> Int { state.withLock { $0.deleted[fid] ?? 0 } }

    public func stop() async {
        let ch = channel.withLock { c -> (any Channel)? in
            defer { c = nil }
            return c
        }
        try? await ch?.close()
        let open = children.withLock { c -> [any Channel] in
            defer { c = [] }
            return c
        }
        for child in open { try? await child.close() }
    }

    fileprivate func respond(to call: Call) -> (Mode, HTTPResponseStatus, String) {
        state.withLock { s in
            s.calls.append(call)
            s.callTimes.append(.now)
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
            switch s.mode {
            case .down: return (.down, .ok, "")
            case .serverError:
                return (s.mode, .internalServerError, Self.errorBody(500, "Internal Server Error", fid: call.fid, quote: s.quotesFacialIDInErrors))
            case .tooManyRequests:
                return (s.mode, .tooManyRequests, Self.errorBody(429, "Too Many Requests", fid: call.fid, quote: s.quotesFacialIDInErrors))
            case .badKey: return (s.mode, .unauthorized, Self.badKeyBody(call.key, echo: s.echoesKeyInErrors))
            case .garbage: return (s.mode, .ok, "<html><body>502 upstream hiccup</body></html>")
            case .ok, .slow:
                guard call.path == "/deletefacialid" else { return (s.mode, .notFound, #"{"status":404,"error":"Unknown endpoint"}"#) }
                guard call.key == expectedKey else { return (s.mode, .ok, Self.badKeyBody(call.key, echo: s.echoesKeyInErrors)) }
                guard let fid = call.fid, !fid.isEmpty else { return (s.mode, .ok, #"{"status":400,"error":"Missing Facial ID"}"#) }
                guard !s.rejectedFacialIDs.contains(fid) else {
                    return (s.mode, .ok, Self.errorBody(400, "Invalid Facial ID", fid: fid, quote: s.quotesFacialIDInErrors))
                }
                s.deleted[fid, default: 0] += 1
                return (s.mode, .ok, #"{"status":200}"#)
            }
        }
    }

    /// `{"status":N,"error":"message"}`, the message prefixed with the Facial ID when `quote` is set
    /// (Facial IDs in tests need no JSON escaping).
    private static func errorBody(_ status: Int, _ message: String, fid: String?, quote: Bool) -> String {
        guard quote, let fid else { return #"{"status":\#(status),"error":"\#(message)"}"# }
        return #"{"status":\#(status),"error":"Facial ID \#(fid): \#(message)"}"#
    }

    /// `{"status":401,"error":"Invalid API key"}`, quoting the presented key when `echo` is set
    /// (keys in tests are alphanumerics and dashes: no JSON escaping needed).
    private static func badKeyBody(_ key: String?, echo: Bool) -> String {
        guard echo, let key else { return #"{"status":401,"error":"Invalid API key"}"# }
        return #"{"status":401,"error":"Invalid API key: \#(key)"}"#
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked: used only on its channel's event loop.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let fake: FakeFaceIO
        var uri = ""

        init(fake: FakeFaceIO) { self.fake = fake }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): uri = head.uri
            case .body: break
            case .end:
                let call = Self.parse(uri)
                let (mode, status, body) = fake.respond(to: call)
                if case .down = mode {
                    fake.answered()
                    context.close(promise: nil)
                    return
                }
                let write = { [context] in
                    self.fake.answered()
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                    context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
                    context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                }
                if case .slow(let ms) = mode {
                    context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(ms)) { write() }
                } else {
                    write()
                }
            }
        }

        static func parse(_ uri: String) -> Call {
            let parts = uri.split(separator: "?", maxSplits: 1)
            let path = String(parts.first ?? "")
            var key: String?
            var fid: String?
            if parts.count == 2 {
                for pair in parts[1].split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    let value = kv.count == 2 ? percentDecode(String(kv[1])) : ""
                    if kv.first == "key" { key = value }
                    if kv.first == "fid" { fid = value }
                }
            }
            return Call(path: path, key: key, fid: fid)
        }

        static func percentDecode(_ s: String) -> String {
            var bytes: [UInt8] = []
            var it = Array(s.utf8).makeIterator()
            while let b = it.next() {
                if b == UInt8(ascii: "%"), let h = it.next(), let l = it.next(),
                   let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) {
                    bytes.append(v)
                } else {
                    bytes.append(b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
