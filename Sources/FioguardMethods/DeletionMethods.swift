import FioguardJSON
import FioguardRPC
import FioguardServices

/// `deletion.list` (admin): the outbox's pending, failed and done deletions.
enum DeletionMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let ledger = DeletionLedger(deps.env)
        return [
            .named("deletion.list") { p, _, _ in
                let status = try p.optionalChoice("status", ["pending", "failed", "deleted"])
                let limit = try p.optionalInt("limit", range: 1...10_000) ?? 100
                try p.finish()
                return try await ledger.list(status: status == "deleted" ? "done" : status, limit: Int(limit))
            }
        ]
    }
}
