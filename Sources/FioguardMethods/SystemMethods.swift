import FioguardJSON
import FioguardRPC
import FioguardServices

/// `system.health`, `system.ping` (the transport baseline), `rpc.discover`.
enum SystemMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let status = SystemStatus(deps.env, startedAt: deps.startedAt)
        // Encoded once: the document is about 20 KB, and a batch may ask for it 1,000 times.
        let document = JSON.encoded(EncodedJSON(deps.openRPC))
        return [
            .named("system.health") { p, _, _ in
                try p.finish()
                return await status.health(version: deps.version, faceioConfigured: deps.faceioConfigured())
            },
            .named("system.ping") { p, _, _ in
                try p.finish()
                return ["pong": true]
            },
            .named("rpc.discover") { p, _, _ in
                try p.finish()
                return document
            },
        ]
    }
}
