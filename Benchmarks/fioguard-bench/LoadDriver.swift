import FioguardJSON
import FioguardTransport
import Histogram
import NIOCore
import NIOPosix

/// One in-flight chain of requests on a connection: it says what to send next, given the
/// previous answer (parsed only when `needsResponse`). `nil` ends this round of the chain.
protocol Session: AnyObject {
    var needsResponse: Bool { get }
    func next(_ previous: JSON?) -> [UInt8]?
}

/// Drives C connections, each keeping up to P requests in flight (closed loop), for a duration,
/// and records per-request latency in HdrHistogram (microseconds).
struct LoadDriver {
    let socketPath: String
    let connections: Int
    let pipeline: Int
    let seconds: Double
    let makeSession: @Sendable (_ connection: Int, _ slot: Int) -> any Session

    struct Result {
        var requests: UInt64
        var errors: UInt64
        var elapsedSeconds: Double
        var histogram: Histogram<UInt64>
        /// Seconds of server CPU per request (only when the bench started the server).
        var serverCPUPerCall: Double? = nil
        /// Bytes the server wrote to storage per call over the measured seconds (set by the caller).
        var serverDiskBytesPerCall: Double? = nil
        /// Per role of the server's threads: CPU seconds per call (user + system, and system
        /// alone) and the share of the measured seconds the role was busy (set by the caller).
        var serverThreads: [(role: String, perCall: Double, systemPerCall: Double, busy: Double)] = []
        var throughput: Double { Double(requests) / elapsedSeconds }
    }

    func run() async throws -> Result {
        let group = MultiThreadedEventLoopGroup.singleton
        let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
        let start = NIODeadline.now()
        var channels: [(any Channel, EventLoopFuture<Tally>)] = []
        for c in 0..<connections {
            let promise = group.next().makePromise(of: Tally.self)
            let sessions = (0..<pipeline).map { makeSession(c, $0) }
            let box = SessionBox(sessions)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineLength: 256 << 20)))
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectionDriver(sessions: box.take(), deadline: deadline, done: promise))
                    }
                }
                .connect(unixDomainSocketPath: socketPath).get()
            channels.append((channel, promise.futureResult))
        }
        var total = Tally()
        for (_, f) in channels {
            let t = try await f.get()
            total.add(t)
        }
        let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        for (ch, _) in channels { try? await ch.close() }
        return Result(requests: total.requests, errors: total.errors, elapsedSeconds: elapsed, histogram: total.histogram)
    }
}

/// Moves the non-Sendable sessions into the channel initializer exactly once.
final class SessionBox: @unchecked Sendable {
    // @unchecked: written at creation, taken once by the initializer on the channel's event loop.
    private var sessions: [any Session]?
    init(_ s: [any Session]) { sessions = s }
    func take() -> [any Session] {
        defer { sessions = nil }
        return sessions ?? []
    }
}

struct Tally: Sendable {
    var requests: UInt64 = 0
    var errors: UInt64 = 0
    var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)

    mutating func add(_ o: Tally) {
        requests += o.requests
        errors += o.errors
        histogram.add(o.histogram)
    }
}

/// Per-connection state machine on the event loop: responses come back in request order, so a
/// FIFO of (send time, slot) matches each answer to its request.
final class ConnectionDriver: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: all state is touched only on the channel's event loop.
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private var sessions: [any Session]
    private let deadline: NIODeadline
    private let done: EventLoopPromise<Tally>
    private var inFlight: [(sent: NIODeadline, slot: Int)] = []
    private var head = 0
    private var tally = Tally()
    private var finished = false

    init(sessions: [any Session], deadline: NIODeadline, done: EventLoopPromise<Tally>) {
        self.sessions = sessions
        self.deadline = deadline
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        for slot in sessions.indices { send(slot, previous: nil, context: context) }
        context.flush()
        checkDone()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let line) = unwrapInboundIn(data), head < inFlight.count else { return }
        let (sent, slot) = inFlight[head]
        head += 1
        if head > 4096 {
            inFlight.removeFirst(head)
            head = 0
        }
        let micros = UInt64(max(0, (NIODeadline.now() - sent).nanoseconds / 1000))
        _ = tally.histogram.record(max(micros, 1))
        tally.requests += 1
        let view = line.readableBytesView
        let isError = view.count > 24 && view.starts(with: Array(#"{"jsonrpc":"2.0","error""#.utf8))
        if isError { tally.errors += 1 }
        if NIODeadline.now() < deadline {
            let previous: JSON? = sessions[slot].needsResponse ? (try? JSON.parse(Array(view))) : nil
            send(slot, previous: previous, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        checkDone()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            done.succeed(tally)
        }
    }

    private func send(_ slot: Int, previous: JSON?, context: ChannelHandlerContext) {
        guard var bytes = sessions[slot].next(previous) else { return }
        bytes.append(UInt8(ascii: "\n"))
        inFlight.append((NIODeadline.now(), slot))
        context.write(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
    }

    private func checkDone() {
        if !finished && head == inFlight.count {
            finished = true
            done.succeed(tally)
        }
    }
}
