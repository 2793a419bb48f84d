import FioguardJSON
import FioguardRPC
import Logging
import Synchronization

/// A small hand-made method table: enough to reach every branch of the dispatcher.
final class Recorder: Sendable {
    private let calls = Mutex<[String]>([])
    func record(_ s: String) { calls.withLock { $0.append(s) } }
    var all: [String] { calls.withLock { $0 } }
}

struct Boom: Error, CustomStringConvertible {
    var description: String { "database exploded: secret-subject-123" }
}

func makeTable(_ recorder: Recorder) -> MethodTable {
    MethodTable([
        RPCMethod("echo") { params, _ in
            recorder.record("echo:\(params?["tag"]?.stringValue ?? "-")")
            return params ?? .null
        },
        RPCMethod("peer") { _, context in
            [
                "uid": context.peer.uid.map { .int(Int64($0)) } ?? .null,
                "pid": context.peer.pid.map { .int(Int64($0)) } ?? .null,
                "connection": .int(Int64(context.connectionID)),
                "method": .string(context.method),
            ]
        },
        RPCMethod("typed") { params, _ in
            let p = try ObjectReader(params ?? .object(JSONObject()), path: "params")
            let g = try p.object("guardian")
            let relationship = try g.string("relationship")
            try g.finish()
            try p.finish()
            return ["relationship": .string(relationship)]
        },
        RPCMethod("fail.domain") { params, _ in
            recorder.record("fail.domain")
            let name = params?["reason"]?.stringValue ?? ""
            guard let reason = ErrorReason.all.first(where: { $0.name == name }) else {
                throw RPCError.invalidParams(field: "params.reason", "unknown reason")
            }
            throw RPCError.domain(reason, "domain failure", [("extra", "x")])
        },
        RPCMethod("fail.internal") { _, _ in
            recorder.record("fail.internal")
            throw Boom()
        },
        RPCMethod("admin.only", requiresAdmin: true) { _, _ in
            recorder.record("admin.only")
            return ["ok": true]
        },
    ])
}

let quiet = Logger(label: "fioguard.rpc.tests") { _ in SwiftLogNoOpLogHandler() }

struct Harness {
    let recorder = Recorder()
    let dispatcher: RPCDispatcher

    init(logger: Logger = quiet, configure: (inout RPCConfiguration) -> Void = { _ in }) {
        var configuration = RPCConfiguration()
        configure(&configuration)
        dispatcher = RPCDispatcher(table: makeTable(recorder), configuration: configuration, logger: logger)
    }

    /// The response to one line of raw bytes, as the transport would get it.
    func send(_ bytes: [UInt8], uid: UInt32? = 1000) async -> JSON? {
        let parsed = bytes.withUnsafeBytes { dispatcher.parse($0) }
        return await dispatcher.handle(parsed, peer: PeerIdentity(uid: uid, gid: 1000, pid: 4242), connectionID: 7)
    }

    func send(_ text: String, uid: UInt32? = 1000) async -> JSON? {
        await send(Array(text.utf8), uid: uid)
    }

    func send(_ message: JSON, uid: UInt32? = 1000) async -> JSON? {
        await send(message.encoded(), uid: uid)
    }
}

/// A request object with the given members.
func request(_ method: String, params: JSON? = nil, id: JSON? = 1) -> JSON {
    var o = JSONObject([("jsonrpc", "2.0"), ("method", .string(method))])
    if let params { o["params"] = params }
    if let id { o["id"] = id }
    return .object(o)
}
