import FioguardJSON
import FioguardRPC
import FioguardServices

/// `retention.sweep`.
enum RetentionMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let retention = RetentionService(deps.env)
        return [
            .named("retention.sweep") { p, caller, _ in
                let dryRun = try p.optionalBool("dryRun") ?? false
                let limit = try p.optionalInt("limit", range: 1...1_000_000) ?? 1000
                try p.finish()
                return try await retention.sweep(dryRun: dryRun, limit: Int(limit), caller: caller).json
            }
        ]
    }
}
