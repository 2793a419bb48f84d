import FioguardTesting
import NIOCore
import NIOPosix
import Testing

@Suite struct ZZScratchNIO {
    @Test func serverCloseClosesChildren() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(unixDomainSocketPath: dir.file("x.sock"), cleanupExistingSocketFile: false) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let client = try RawUnixSocket(connectingTo: dir.file("x.sock"))
        var it = server.inbound.makeAsyncIterator()
        let child = try await it.next()!
        print("SCRATCH child active before: \(child.channel.isActive)")
        try await server.channel.close()
        try await Task.sleep(for: .milliseconds(100))
        print("SCRATCH child active after server close: \(child.channel.isActive) clientEOF=\(String(describing: try? client.readAvailable()))")
        child.channel.close(promise: nil)
        _ = child
    }
}
