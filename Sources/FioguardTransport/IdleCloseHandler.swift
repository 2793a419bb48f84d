import NIOCore

/// Closes a connection that has neither received nor sent a byte for `timeout` (both directions
/// count, as with NIO's `IdleStateHandler(allTimeout:)`, which this replaces). A write counts when
/// it is issued: `IdleStateHandler` stamped each write's completion, through a promise and a
/// callback made for every write, which cost more than the rest of the write path of a small
/// answer. A peer that stops reading its answers is still closed on time: the connection stops
/// issuing writes once its socket is full (backpressure), so nothing moves and the timer runs out.
final class IdleCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
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
        lastActivity = .now()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard check == nil else { return }
        lastActivity = .now()
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
        let quiet = NIODeadline.now() - lastActivity
        if quiet >= timeout {
            check = nil
            context.close(promise: nil)
        } else {
            schedule(context, in: timeout - quiet)
        }
    }
}
