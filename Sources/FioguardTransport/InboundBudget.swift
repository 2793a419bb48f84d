import NIOCore
import Synchronization

/// A bound on the request bytes held across all connections: the partial line each connection's
/// decoder is gathering, and the lines decoded but not yet handled. Without it, each connection
/// could hold about 12.5 MB (a 1 MiB partial line plus NIOAsyncChannel's buffer of 10 frames of
/// up to 1 MiB each), times 1,024 connections: more memory than the machine has, for a caller
/// that sends large lines and stops reading its answers, or just sends them on many connections.
///
/// Each connection may hold `allowance` bytes (64 KiB) freely, so small requests, pipelined or
/// not, never wait on the budget. Past that it needs a *slot*: room for one more line of the frame
/// limit (`--max-frame-bytes` + 2 for `\r\n`), taken from a shared pool of
/// `totalBytes / slotBytes` slots (at least one). A connection that needs a slot when none is free
/// stops being read (its `read` is held back: NIO's backpressure, the peer's socket fills) until
/// another connection gives one back by handling its lines, or closes. A slot lets its holder
/// complete the line it is gathering (the decoder never gathers more than the frame limit), so
/// every holder can make progress: a line in progress is never starved by the pool. Only the
/// holders' peers can hold slots for long, by stalling mid-line or not reading answers, and the
/// idle timeout closes those.
///
/// So the bytes held stay under `connections × allowance + slots × slotBytes` plus one read's
/// worth per connection (64 KiB by default: 128 MiB at 1,024 connections with the default 64 MiB
/// pool), instead of `connections × 12.5 MB`.
public final class InboundBudget: Sendable {
    public let slotBytes: Int
    public let slots: Int
    public let allowance: Int
    private let state: Mutex<Pool>

    private struct Pool {
        var free: Int
        /// Connections whose read is held back, with how to wake them.
        var waiting: [ObjectIdentifier: @Sendable () -> Void] = [:]
    }

    /// - Parameters:
    ///   - totalBytes: the pool's size; `totalBytes / (maxFrameLength + 2)` slots, at least one.
    ///   - maxFrameLength: the transport's frame limit.
    ///   - allowance: bytes each connection may hold without a slot.
    public init(totalBytes: Int, maxFrameLength: Int, allowance: Int = 64 << 10) {
        self.slotBytes = maxFrameLength + 2
        self.slots = max(1, totalBytes / slotBytes)
        self.allowance = allowance
        self.state = Mutex(Pool(free: slots))
    }

    /// Slots not held by any connection.
    public var freeSlots: Int { state.withLock { $0.free } }

    /// Connections waiting for a slot.
    public var waitingConnections: Int { state.withLock { $0.waiting.count } }

    public func connection() -> ConnectionBudget { ConnectionBudget(pool: self) }

    /// Takes a slot, or registers `wake` to be called (once) when one is given back.
    fileprivate func take(for waiter: ObjectIdentifier, wake: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { s in
            if s.free > 0 {
                s.free -= 1
                s.waiting[waiter] = nil
                return true
            }
            s.waiting[waiter] = wake
            return false
        }
    }

    fileprivate func give(_ count: Int) {
        guard count > 0 else { return }
        let wake = state.withLock { s -> [@Sendable () -> Void] in
            s.free += count
            let waiting = Array(s.waiting.values)
            s.waiting.removeAll()
            return waiting
        }
        // Every waiter retries (on its own event loop); those that lose the race wait again.
        for w in wake { w() }
    }

    fileprivate func forget(_ waiter: ObjectIdentifier) {
        state.withLock { _ = $0.waiting.removeValue(forKey: waiter) }
    }
}

/// One connection's share of the `InboundBudget`. The decoder reports the partial line it holds
/// and each line it passes on (on the event loop); the request loop reports each line it has
/// handled (on its task); the read gate asks whether the connection may be read further.
public final class ConnectionBudget: Sendable {
    private let pool: InboundBudget
    private let state = Mutex(Held())

    private struct Held {
        /// Bytes of lines decoded and not yet handled.
        var lines = 0
        /// Bytes of the partial line in the decoder.
        var partial = 0
        var slots = 0
        var closed = false
        var total: Int { lines + partial }

        /// Gives back the slots the bytes held no longer need.
        mutating func returnSurplus(allowance: Int, slotBytes: Int) -> Int {
            var surplus = 0
            while slots > 0, total <= allowance + (slots - 1) * slotBytes {
                slots -= 1
                surplus += 1
            }
            return surplus
        }
    }

    fileprivate init(pool: InboundBudget) {
        self.pool = pool
    }

    /// A line of `bytes` was decoded and is being passed on; `remaining` bytes stay in the
    /// decoder's buffer (the rest of what was read: a partial line, or lines not yet decoded).
    public func decoded(_ bytes: Int, remaining: Int) {
        update { s in
            s.lines += bytes
            s.partial = remaining
        }
    }

    /// The decoder now holds `bytes` (0 while it discards an oversized line).
    public func gathering(_ bytes: Int) {
        update { s in s.partial = bytes }
    }

    /// A line of `bytes` was handled: slots no longer needed go back to the pool.
    public func handled(_ bytes: Int) {
        update { s in s.lines = max(0, s.lines - bytes) }
    }

    private func update(_ change: (inout Held) -> Void) {
        let surplus = state.withLock { s -> Int in
            guard !s.closed else { return 0 }
            change(&s)
            return s.returnSurplus(allowance: pool.allowance, slotBytes: pool.slotBytes)
        }
        pool.give(surplus)
    }

    /// Whether the connection may be read further; if not, `wake` is called once a slot may be
    /// free, and the caller asks again.
    /// (`wake` is only made when the connection has to wait.)
    func mayRead(wake: @autoclosure () -> @Sendable () -> Void) -> Bool {
        state.withLock { s in
            if s.closed || s.total < pool.allowance + s.slots * pool.slotBytes { return true }
            guard pool.take(for: ObjectIdentifier(self), wake: wake()) else { return false }
            s.slots += 1
            return true
        }
    }

    /// The connection is gone: its slots go back, and what it held no longer counts.
    func close() {
        let slots = state.withLock { s -> Int in
            s.closed = true
            s.lines = 0
            s.partial = 0
            defer { s.slots = 0 }
            return s.slots
        }
        pool.forget(ObjectIdentifier(self))
        pool.give(slots)
    }

    /// Bytes held and slots taken (tests).
    var held: (bytes: Int, slots: Int) { state.withLock { ($0.total, $0.slots) } }
}

/// Holds back a connection's reads while it holds more than its `ConnectionBudget` allows, and
/// reads again once a slot is free. Gives the connection's slots back when it closes.
final class InboundBudgetHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let budget: ConnectionBudget
    private var context: ChannelHandlerContext?
    private var readHeldBack = false

    init(budget: ConnectionBudget) {
        self.budget = budget
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        budget.close()
    }

    func channelInactive(context: ChannelHandlerContext) {
        budget.close()
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if budget.mayRead(wake: waker(context)) {
            context.read()
        } else {
            readHeldBack = true
        }
    }

    private func waker(_ context: ChannelHandlerContext) -> @Sendable () -> Void {
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        return { loop.execute { handler.value.retry() } }
    }

    private func retry() {
        guard readHeldBack, let context else { return }
        if budget.mayRead(wake: waker(context)) {
            readHeldBack = false
            context.read()
        }
    }
}
