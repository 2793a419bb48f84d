/// What the layer above knows about a connection.
public struct ConnectionInfo: Sendable {
    public let id: UInt64
    public let uid: UInt32?
    public let gid: UInt32?
    public let pid: Int32?
}

/// Why a connection was refused before any request was read.
public enum ConnectionRefusal: Error, Sendable {
    case tooManyConnections(limit: Int)
    case uidNotAllowed
    case shuttingDown
}

/// The layer above the transport: turns one frame into at most one response line (without the
/// newline), and words a refusal. The transport writes what it returns, in order, per connection.
public protocol FrameHandler: Sendable {
    func handle(_ frame: Frame, connection: ConnectionInfo) async -> [UInt8]?
    func refusal(_ reason: ConnectionRefusal) -> [UInt8]
}
