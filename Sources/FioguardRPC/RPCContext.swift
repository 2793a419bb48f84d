public import Logging

/// Who is calling: the peer's credentials as the kernel reported them (SO_PEERCRED) when the
/// connection was accepted. `nil` fields mean the platform could not tell.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    public var uid: UInt32?
    public var gid: UInt32?
    public var pid: Int32?

    public init(uid: UInt32?, gid: UInt32?, pid: Int32?) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }

    public static let unknown = PeerIdentity(uid: nil, gid: nil, pid: nil)

    public var description: String {
        "uid=\(uid.map(String.init) ?? "?") gid=\(gid.map(String.init) ?? "?") pid=\(pid.map(String.init) ?? "?")"
    }
}

/// What a method handler knows about the call besides its params.
public struct RPCContext: Sendable {
    public var peer: PeerIdentity
    public var connectionID: UInt64
    /// The method being called.
    public var method: String
    private let baseLogger: Logger

    public init(peer: PeerIdentity, connectionID: UInt64, method: String, logger: Logger) {
        self.peer = peer
        self.connectionID = connectionID
        self.method = method
        self.baseLogger = logger
    }

    /// A logger carrying `rpc.method`, `peer.uid`, `peer.pid` and `connection` metadata. Built on
    /// demand: setting metadata on a log handler is not free (swift-log's stream handler renders
    /// its metadata on every change), and most calls never log.
    public var logger: Logger {
        var log = baseLogger
        log[metadataKey: "rpc.method"] = .string(method)
        log[metadataKey: "peer.uid"] = .stringConvertible(peer.uid.map(Int.init) ?? -1)
        log[metadataKey: "peer.pid"] = .stringConvertible(peer.pid.map(Int.init) ?? -1)
        log[metadataKey: "connection"] = .stringConvertible(connectionID)
        return log
    }

    /// Whether a message at `level` would be emitted (check before building an expensive one).
    public func logs(at level: Logger.Level) -> Bool { baseLogger.logLevel <= level }

    /// A short description of the caller for audit records ("uid=33 pid=812").
    public var callerDescription: String { peer.description }
}
