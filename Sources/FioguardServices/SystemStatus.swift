public import FioguardJSON
public import FioguardPolicy
import FioguardStore

/// What `system.health` reports about the store and the deletion outbox.
public struct SystemStatus: Sendable {
    let env: ServiceEnvironment
    let startedAt: Timestamp

    public init(_ env: ServiceEnvironment, startedAt: Timestamp) {
        self.env = env
        self.startedAt = startedAt
    }

    public func health(version: String, faceioConfigured: Bool) async -> JSON {
        let now = env.now()
        var database: JSON
        var pending: Int64 = 0
        var failed: Int64 = 0
        var unauthorized: Int64 = 0
        var held: Int64 = 0
        var ok = true
        do {
            let counts = try await env.database.read { conn in try conn.deletionCounts() }
            pending = counts.pending
            failed = counts.failed
            (unauthorized, held) = try await env.database.read { conn in
                (try conn.countUnauthorizedEnrollments(), try conn.countHeldEnrollments())
            }
            database = [
                "ok": true, "schemaVersion": .int(env.database.schemaVersion),
                // Group commit at work: writes per transaction = committedWrites / committedGroups.
                "committedWrites": .int(Int(env.database.committedWrites)), "committedGroups": .int(Int(env.database.committedGroups)),
                "queuedWrites": .int(env.database.queuedWrites), "queuedReads": .int(env.database.queuedReads),
            ]
        } catch {
            ok = false
            database = ["ok": false, "error": .string(String(describing: error))]
        }
        let degraded = !ok || failed > 0 || unauthorized > 0 || (pending > 0 && !faceioConfigured)
        var faceio: JSONObject = JSONObject([
            ("configured", .bool(faceioConfigured)), ("pendingDeletions", .int(pending)), ("failedDeletions", .int(failed)),
            ("unauthorizedEnrollments", .int(unauthorized)),
            // Reported by a webhook, not claimed by enroll.complete yet: not judged (and not degraded).
            ("heldEnrollments", .int(held)),
        ])
        if !faceioConfigured { faceio["note"] = "no FACEIO API key configured: deletions wait in the outbox" }
        return [
            "status": degraded ? "degraded" : "ok",
            "version": .string(version),
            "uptimeSeconds": .int(max(0, now.secondsSinceEpoch - startedAt.secondsSinceEpoch)),
            "policyVersion": .string(env.policy.current.version),
            "database": database,
            "faceio": .object(faceio),
        ]
    }
}

