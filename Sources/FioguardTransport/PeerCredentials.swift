import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The peer's uid/gid/pid from SO_PEERCRED (Linux), read once when the connection is accepted.
enum PeerCredentials {
    struct Value: Sendable {
        var uid: UInt32?
        var gid: UInt32?
        var pid: Int32?
    }

    /// Linux's `struct ucred` (pid_t, uid_t, gid_t), which Swift's Glibc module does not export.
    struct RawCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    static func read(from channel: any Channel) -> EventLoopFuture<Value> {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(Value())
        }
        let future: EventLoopFuture<RawCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { Value(uid: $0.uid, gid: $0.gid, pid: $0.pid) }
            .recover { _ in Value() }
        #else
        return channel.eventLoop.makeSucceededFuture(Value())
        #endif
    }
}
