import NIOCore
import Synchronization

/// Whether a connection's request loop is handling a request, and when it last finished one: a
/// request being handled is not idleness, however long it runs (a large batch, a sweep), and a
/// request that got no answer (a notification) counts when it finished. Shared by the loop, which
/// marks each request, and the connection's `IdleCloseHandler`, which looks when its timer runs
/// out. Three atomic operations and a clock read per request.
final class ConnectionActivity: Sendable {
    private let handling = Atomic<Int>(0)
    private let lastFinished = Atomic<UInt64>(0)
    private let clock: @Sendable () -> NIODeadline

    /// `clock` must be the event loop's (`NIODeadline.now` for NIO's own loops; tests on an
    /// embedded loop pass its clock).
    init(clock: @escaping @Sendable () -> NIODeadline = { NIODeadline.now() }) {
        self.clock = clock
    }

    func begin() {
        handling.add(1, ordering: .relaxed)
    }

    func end() {
        lastFinished.store(clock().uptimeNanoseconds, ordering: .relaxed)
        handling.subtract(1, ordering: .releasing)
    }

    /// Whether a request is being handled; if not, when the last one finished (zero: none has).
    var state: (handling: Bool, lastFinished: NIODeadline) {
        let busy = handling.load(ordering: .acquiring) > 0
        return (busy, .uptimeNanoseconds(lastFinished.load(ordering: .relaxed)))
    }
}

/// Closes a connection on which nothing has moved for `timeout`: no byte received, no request
/// being handled or finished, no answer written, and none of the answers already written drained
/// towards the peer. It replaces NIO's
/// `IdleStateHandler(allTimeout:)`, which made a promise and a callback for every write to note
/// when it completed, at more cost than the rest of the write path of a small answer. Here a
/// write counts when it is issued. When the timeout runs out while NIO still holds answer bytes
/// for the socket, the handler notes how many and looks again one timeout later: if fewer are
/// left, the peer is still taking them (a slow reader of a large answer) and the connection
/// stays; if not, it is closed. So a peer that stopped reading with answers pending is closed
/// after two timeouts, one that reads nothing and was answered in full after one. (The kernel's
/// socket buffer is invisible here, as it was to `IdleStateHandler`.) Times come from the event
/// loop's clock.
final class IdleCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let timeout: TimeAmount
    private let activity: ConnectionActivity?
    private let bufferedBytes: (any Channel) -> Int
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    /// Bytes NIO held for the socket when the handler last looked, since the last write.
    private var bufferedAtLastLook: Int?
    private var check: Scheduled<Void>?

    /// `activity`: the connection's request loop, if any. `bufferedBytes` reads how many bytes NIO
    /// holds for the socket (a parameter for tests).
    init(
        timeout: TimeAmount, activity: ConnectionActivity? = nil,
        bufferedBytes: @escaping (any Channel) -> Int = IdleCloseHandler.nioBufferedBytes
    ) {
        self.timeout = timeout
        self.activity = activity
        self.bufferedBytes = bufferedBytes
    }

    static func nioBufferedBytes(_ channel: any Channel) -> Int {
        (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        bufferedAtLastLook = nil
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard check == nil else { return }
        lastActivity = context.eventLoop.now
        schedule(context, in: timeout)
    }

    private func stop() {
        check?.cancel()
        check = nil
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        check = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            self.expire(context)
        }
    }

    private func expire(_ context: ChannelHandlerContext) {
        guard check != nil, context.channel.isActive else { return }
        let now = context.eventLoop.now
        if let activity {
            let (handling, lastFinished) = activity.state
            // A request being handled counts as activity up to now; its answer, or its end if it
            // has none, will push the deadline back again.
            lastActivity = handling ? now : max(lastActivity, lastFinished)
        }
        let quiet = now - lastActivity
        guard quiet >= timeout else {
            schedule(context, in: timeout - quiet)
            return
        }
        // Answers still waiting for the socket: close only once they stopped leaving.
        let buffered = bufferedBytes(context.channel)
        if buffered > 0, bufferedAtLastLook.map({ buffered < $0 }) ?? true {
            bufferedAtLastLook = buffered
            schedule(context, in: timeout)
            return
        }
        check = nil
        context.close(promise: nil)
    }
}
