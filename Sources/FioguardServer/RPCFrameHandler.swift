import FioguardJSON
import FioguardRPC
import FioguardTransport
import NIOCore

/// Glue between the transport (frames) and the RPC layer (JSON-RPC): parses straight from the
/// frame's buffer and encodes the response with jansson.
struct RPCFrameHandler: FrameHandler {
    let dispatcher: RPCDispatcher

    func handle(_ frame: Frame, connection: ConnectionInfo) async -> [UInt8]? {
        switch frame {
        case .oversized(let limit):
            return RPCDispatcher.oversizeResponse(limit: limit).encoded()
        case .line(let buffer):
            let parsed = buffer.withUnsafeReadableBytes { dispatcher.parse($0) }
            let peer = PeerIdentity(uid: connection.uid, gid: connection.gid, pid: connection.pid)
            return await dispatcher.handle(parsed, peer: peer, connectionID: connection.id)?.encoded()
        }
    }

    func refusal(_ reason: ConnectionRefusal) -> [UInt8] {
        let error: RPCError
        switch reason {
        case .tooManyConnections(let limit):
            error = .domain(.unavailable, "too many connections (limit \(limit)); retry later")
        case .uidNotAllowed:
            error = .domain(.forbidden, "this user may not connect (see --allow-uid)")
        case .shuttingDown:
            error = .domain(.unavailable, "the server is shutting down")
        }
        return RPCDispatcher.errorResponse(id: .null, error).encoded()
    }
}
