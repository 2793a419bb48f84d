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

/// Drives C connections, each keeping up to P requests in flight, for a duration, and records
/// per-request latency in HdrHistogram (microseconds).
///
/// Without a rate, the loop is closed: a connection sends its next request as soon as an answer
/// arrives, so the figures are the server's capacity and its latency when saturated. With a
/// rate, the loop is open: each connection sends on a fixed schedule (its share of the rate,
/// staggered across connections), and latency counts from the scheduled time, not from when the
/// request went out. A request that finds all P of its connection's slots busy waits for the
/// next free one, and that wait is in its latency: a server that falls behind cannot hide it by
/// slowing the client down ("coordinated omission").
struct LoadDriver {
    let socketPath: String
    let connections: Int
    let pipeline: Int
    let seconds: Double
    /// Offered calls per second across all connections; nil for the closed loop.
    var rate: Double? = nil
    let makeSession: @Sendable (_ connection: Int, _ slot: Int) -> any Session

    struct Result {
        var requests: UInt64
        var errors: UInt64
        /// Open loop: scheduled calls still waiting for a free slot at the end (never sent).
        var unsent: UInt64
        var elapsedSeconds: Double
        var histogram: Histogram<UInt64>
        /// Seconds of server CPU per request (only when the bench started the server).
        var serverCPUPerCall: Double? = nil
        /// Seconds of the load generator's own CPU per request (all its threads), which it takes
        /// from the same cores.
        var clientCPUPerCall: Double? = nil
        /// Bytes the server wrote to storage per call over the measured seconds (set by the caller).
        var serverDiskBytesPerCall: Double? = nil
        /// Bytes that reached the database's block device per call, every process's (set by the caller).
        var deviceBytesPerCall: Double? = nil
        /// Per role of the server's threads: CPU seconds per call (user + system, and system
        /// alone) and the share of the measured seconds the role was busy (set by the caller).
        var serverThreads: [(role: String, perCall: Double, systemPerCall: Double, busy: Double)] = []
        var throughput: Double { Double(requests) / elapsedSeconds }
    }

    func run() async throws -> Result {
        let group = MultiThreadedEventLoopGroup.singleton
        let start = NIODeadline.now()
        let deadline = start + .nanoseconds(Int64(seconds * 1e9))
        var channels: [(any Channel, EventLoopFuture<Tally>)] = []
        for c in 0..<connections {
            let promise = group.next().makePromise(of: Tally.self)
            let sessions = (0..<pipeline).map { makeSession(c, $0) }
            let box = SessionBox(sessions)
            // Open loop: this connection's share of the rate, its first call staggered by c / rate.
            let schedule = rate.map { rate in
                ConnectionDriver.Schedule(
                    first: start + .nanoseconds(Int64(Double(c) / rate * 1e9)),
                    interval: .nanoseconds(max(1, Int64(Double(connections) / rate * 1e9))))
            }
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineLength: 256 << 20)))
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectionDriver(sessions: box.take(), deadline: deadline, schedule: schedule, done: promise))
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
        return Result(
            requests: total.requests, errors: total.errors, unsent: total.unsent, elapsedSeconds: elapsed,
            histogram: total.histogram)
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
    var unsent: UInt64 = 0
    var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)

    mutating func add(_ o: Tally) {
        requests += o.requests
        errors += o.errors
        unsent += o.unsent
        histogram.add(o.histogram)
    }
}

/// Per-connection state machine on the event loop: responses come back in request order, so a
/// FIFO of (start time, slot) matches each answer to its request. The start time is when the
/// request was sent (closed loop) or when it was scheduled (open loop).
final class ConnectionDriver: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: all state is touched only on the channel's event loop.
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    /// The open loop's timetable for one connection.
    struct Schedule {
        var first: NIODeadline
        var interval: TimeAmount
    }

    private var sessions: [any Session]
    private let deadline: NIODeadline
    private let schedule: Schedule?
    private let done: EventLoopPromise<Tally>
    private var inFlight: [(start: NIODeadline, slot: Int)] = []
    private var head = 0
    private var tally = Tally()
    private var finished = false
    /// Open loop: the next scheduled call, the slots with nothing in flight, the answers the
    /// free slots' sessions continue from, and scheduled calls that found no free slot (oldest
    /// first, from `lateHead`).
    private var nextDue: NIODeadline
    private var freeSlots: [Int] = []
    private var lastAnswers: [JSON?]
    private var late: [NIODeadline] = []
    private var lateHead = 0
    /// Open loop: calls are still being scheduled (the deadline has not passed).
    private var scheduling: Bool

    init(sessions: [any Session], deadline: NIODeadline, schedule: Schedule?, done: EventLoopPromise<Tally>) {
        self.sessions = sessions
        self.deadline = deadline
        self.schedule = schedule
        self.done = done
        nextDue = schedule?.first ?? deadline
        lastAnswers = Array(repeating: nil, count: sessions.count)
        scheduling = schedule != nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if schedule != nil {
            freeSlots = Array(sessions.indices.reversed())
            // A connection made late starts its schedule now: its setup is not a call's latency.
            let now = NIODeadline.now()
            if nextDue < now { nextDue = now }
            tick(context: context)
            return
        }
        for slot in sessions.indices { send(slot, previous: nil, scheduled: nil, context: context) }
        context.flush()
        checkDone()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let line) = unwrapInboundIn(data), head < inFlight.count else { return }
        let (start, slot) = inFlight[head]
        head += 1
        if head > 4096 {
            inFlight.removeFirst(head)
            head = 0
        }
        let now = NIODeadline.now()
        let micros = UInt64(max(0, (now - start).nanoseconds / 1000))
        _ = tally.histogram.record(max(micros, 1))
        tally.requests += 1
        let view = line.readableBytesView
        let isError = view.count > 24 && view.starts(with: Array(#"{"jsonrpc":"2.0","error""#.utf8))
        if isError { tally.errors += 1 }
        guard now < deadline else { return }
        let previous: JSON? = sessions[slot].needsResponse ? (try? JSON.parse(Array(view))) : nil
        guard schedule != nil else {
            send(slot, previous: previous, scheduled: nil, context: context)
            return
        }
        // Open loop: the slot takes the oldest call that is due and found no free slot, or waits.
        if lateHead < late.count {
            let due = late[lateHead]
            lateHead += 1
            if lateHead > 4096 {
                late.removeFirst(lateHead)
                lateHead = 0
            }
            send(slot, previous: previous, scheduled: due, context: context)
        } else {
            lastAnswers[slot] = previous
            freeSlots.append(slot)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        checkDone()
    }

    /// A connection the server closed early: requests still in flight count as errors and, in the
    /// open loop, calls due before the deadline that were never sent as unsent.
    func channelInactive(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        tally.errors += UInt64(inFlight.count - head)
        if let schedule, scheduling {
            var unsent = UInt64(late.count - lateHead)
            if nextDue < deadline {
                let left = (deadline - nextDue).nanoseconds
                let step = max(1, schedule.interval.nanoseconds)
                unsent += UInt64((left + step - 1) / step)
            }
            tally.unsent += unsent
        }
        done.succeed(tally)
    }

    /// Open loop: sends (or queues, when no slot is free) every call due by now, then sleeps until
    /// the next one; once the deadline has passed, what is still queued is counted as unsent.
    private func tick(context: ChannelHandlerContext) {
        guard let schedule, !finished else { return }
        let now = NIODeadline.now()
        while nextDue <= now && nextDue < deadline {
            // A tick that runs late sends nothing past the deadline: those calls stay unsent.
            if now < deadline, let slot = freeSlots.popLast() {
                let previous = lastAnswers[slot]
                lastAnswers[slot] = nil
                send(slot, previous: previous, scheduled: nextDue, context: context)
            } else {
                late.append(nextDue)
            }
            nextDue = nextDue + schedule.interval
        }
        context.flush()
        if nextDue < deadline {
            context.eventLoop.assumeIsolated().scheduleTask(deadline: nextDue) { [self] in tick(context: context) }
        } else {
            context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                scheduling = false
                tally.unsent += UInt64(late.count - lateHead)
                checkDone()
            }
        }
    }

    /// Sends the slot's next request; its latency counts from `scheduled` (open loop) or from now,
    /// once the request is built (closed loop).
    private func send(_ slot: Int, previous: JSON?, scheduled: NIODeadline?, context: ChannelHandlerContext) {
        guard var bytes = sessions[slot].next(previous) else { return }
        bytes.append(UInt8(ascii: "\n"))
        inFlight.append((scheduled ?? .now(), slot))
        context.write(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
    }

    private func checkDone() {
        if !finished && !scheduling && head == inFlight.count {
            finished = true
            done.succeed(tally)
        }
    }
}
