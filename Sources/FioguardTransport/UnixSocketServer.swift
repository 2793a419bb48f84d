public import Logging
public import NIOCore
public import NIOPosix
import Synchronization

/// The NDJSON server on a Unix domain socket (SwiftNIO). Each connection is one child task; its
/// frames are handled one after another, so responses leave in request order and a pipelining
/// client's requests take effect in the order sent. Backpressure comes from NIOAsyncChannel: a
/// connection whose requests are not yet handled stops being read.
public final class UnixSocketServer: Sendable {
    public let configuration: TransportConfiguration
    private let handler: any FrameHandler
    private let group: any EventLoopGroup
    private let logger: Logger
    /// The request bytes all connections may hold (`TransportConfiguration.maxBufferedBytes`).
    public let inboundBudget: InboundBudget
    private let state = Mutex(State())
    private let readyContinuation: AsyncStream<Void>.Continuation
    /// Yields once the socket is bound and its mode set (tests and `make run` wait on it).
    public let ready: AsyncStream<Void>

    private struct State {
        var nextID: UInt64 = 1
        var shuttingDown = false
        var serverChannel: (any Channel)?
        var connections: [UInt64: (channel: any Channel, endOfInput: EndOfInput)] = [:]
    }

    public init(
        configuration: TransportConfiguration,
        handler: any FrameHandler,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.handler = handler
        self.group = group
        self.logger = logger
        self.inboundBudget = InboundBudget(
            totalBytes: configuration.maxBufferedBytes, maxFrameLength: configuration.maxFrameLength)
        (self.ready, self.readyContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    public var connectionCount: Int { state.withLock { $0.connections.count } }

    private struct Accepted: Sendable {
        /// Outbound `Never`: answers are written with `writeAndFlush` on the raw channel (see
        /// `serve`). (A writer-less wrapper can also be dropped safely when NIO discards a connection that
        /// was accepted just as the server closed; a live writer would trap on deinit.)
        let channel: NIOAsyncChannel<Frame, Never>
        let peer: PeerCredentials.Value
        /// Marked by `serve` around each request, read by the connection's idle timer.
        let activity: ConnectionActivity
        /// Told by `serve` of each line handled.
        let budget: ConnectionBudget
        /// Marked by `beginShutdown` before it closes the read side.
        let endOfInput: EndOfInput
    }

    /// Binds, serves until `beginShutdown()`, waits for in-flight requests, removes the socket.
    public func run() async throws {
        let path = configuration.socketPath
        DescriptorLimit.ensure(connections: configuration.maxConnections, logger: logger)
        try SocketPath.prepare(path)
        let maxFrame = configuration.maxFrameLength
        let idle = configuration.idleTimeoutSeconds
        let inboundBudget = self.inboundBudget
        let fd = try SocketPath.bindListening(path, mode: configuration.socketMode)
        let identity = SocketPath.identity(path)
        defer { SocketPath.remove(path, identity: identity) }
        let server: NIOAsyncChannel<Accepted, Never>
        do {
            server = try await ServerBootstrap(group: group)
                // Closing the read side (shutdown, or a client's SHUT_WR) must not close the write
                // side: the answers to lines already received still go out.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(fd) { channel in
                    PeerCredentials.read(from: channel).flatMapThrowing { peer in
                        let sync = channel.pipeline.syncOperations
                        let activity = ConnectionActivity()
                        let budget = inboundBudget.connection()
                        let endOfInput = EndOfInput()
                        try sync.addHandler(IdleCloseHandler(timeout: .seconds(idle), activity: activity))
                        try sync.addHandler(InboundBudgetHandler(budget: budget))
                        try sync.addHandler(EndOfInputHandler(endOfInput))
                        try sync.addHandler(ByteToMessageHandler(LineFrameDecoder(
                            maxLineLength: maxFrame, budget: budget, endOfInput: endOfInput)))
                        let async = try NIOAsyncChannel<Frame, Never>(wrappingChannelSynchronously: channel)
                        return Accepted(
                            channel: async, peer: peer, activity: activity, budget: budget, endOfInput: endOfInput)
                    }
                }
        } catch {
            close(fd)
            throw error
        }
        let alreadyStopping = state.withLock { s in
            s.serverChannel = server.channel
            return s.shuttingDown
        }
        if alreadyStopping { server.channel.close(promise: nil) }
        logger.info("listening", metadata: ["socket": "\(path)"])
        readyContinuation.yield()

        await withDiscardingTaskGroup { group in
            do {
                try await server.executeThenClose { inbound in
                    for try await accepted in inbound {
                        group.addTask { await self.serve(accepted) }
                    }
                }
            } catch {
                logger.debug("accept loop ended", metadata: ["error": "\(error)"])
            }
        }
        logger.info("stopped listening", metadata: ["socket": "\(path)"])
    }

    /// Stops accepting and shuts the read side of every connection: each one still answers the
    /// complete lines it had received (in-flight requests are drained), then closes. A partial
    /// line is dropped, its writer may not have finished it. `run()` returns once every connection
    /// is gone.
    public func beginShutdown() {
        let (server, open) = state.withLock { s -> ((any Channel)?, [(channel: any Channel, endOfInput: EndOfInput)]) in
            s.shuttingDown = true
            return (s.serverChannel, Array(s.connections.values))
        }
        server?.close(promise: nil)
        for (c, endOfInput) in open {
            endOfInput.markNotFromPeer()
            c.close(mode: .input, promise: nil)
            // A peer that never reads its answers would hold the drain forever: cut it off.
            c.eventLoop.scheduleTask(in: .seconds(25)) { c.close(promise: nil) }
        }
    }

    private func serve(_ accepted: Accepted) async {
        let channel = accepted.channel
        let peer = accepted.peer
        let admitted: Result<UInt64, ConnectionRefusal> = state.withLock { s in
            if s.shuttingDown { return .failure(.shuttingDown) }
            if s.connections.count >= configuration.maxConnections {
                return .failure(.tooManyConnections(limit: configuration.maxConnections))
            }
            if !configuration.allowedUIDs.isEmpty, !(peer.uid.map(configuration.allowedUIDs.contains) ?? false) {
                return .failure(.uidNotAllowed)
            }
            let id = s.nextID
            s.nextID += 1
            s.connections[id] = (channel.channel, accepted.endOfInput)
            return .success(id)
        }
        let id: UInt64
        switch admitted {
        case .failure(let refusal):
            logger.notice("connection refused", metadata: ["reason": "\(refusal)", "peer.uid": "\(peer.uid.map(String.init) ?? "?")"])
            try? await channel.executeThenClose { _, _ in
                let raw = channel.channel
                try await raw.writeAndFlush(line(handler.refusal(refusal), allocator: raw.allocator)).get()
            }
            return
        case .success(let assigned):
            id = assigned
        }
        defer { _ = state.withLock { $0.connections.removeValue(forKey: id) } }
        let info = ConnectionInfo(id: id, uid: peer.uid, gid: peer.gid, pid: peer.pid)
        do {
            try await channel.executeThenClose { inbound, _ in
                let raw = channel.channel
                var lastWrite: EventLoopFuture<Void>?
                for try await frame in inbound {
                    // The peer is gone (a write failed, or it closed): its remaining requests are
                    // not executed, since nobody would receive their answers.
                    guard raw.isActive else { break }
                    accepted.activity.begin()
                    let answer = await handler.handle(frame, connection: info)
                    accepted.activity.end()
                    if case .line(let bytes) = frame { accepted.budget.handled(bytes.readableBytes) }
                    if let response = answer {
                        let promise = raw.eventLoop.makePromise(of: Void.self)
                        raw.writeAndFlush(line(response, allocator: raw.allocator), promise: promise)
                        let write = promise.futureResult
                        lastWrite = write
                        // A peer that does not read its answers fills the socket, then NIO's buffer
                        // past its high-water mark: from then on each answer is waited for, which
                        // stops reading from that peer (backpressure) and holds back no one else.
                        // (The write runs on the event loop, so the check may lag by one answer.)
                        if !raw.isWritable { try await write.get() }
                    }
                }
                // Writes complete in order: once the last one succeeded every answer reached the
                // socket, so none is cut off by the close that follows.
                try await lastWrite?.get()
            }
        } catch {
            logger.debug("connection ended", metadata: ["connection": "\(id)", "error": "\(error)"])
        }
    }

    private func line(_ bytes: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: bytes.count + 1)
        buffer.writeBytes(bytes)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }
}
