public import FioguardJSON
public import FioguardPolicy
import FioguardStore

/// Activating a policy (start-up, SIGHUP, `policy.reload`) and disclosing it.
public struct PolicyService: Sendable {
    let env: ServiceEnvironment

    public init(_ env: ServiceEnvironment) { self.env = env }

    /// Loads a policy with `load` (which validates it, or throws to keep the old one), audits the
    /// change, swaps it in, and recomputes every active Facial ID's retention date under it.
    /// Nothing changes when the version is the one in force.
    ///
    /// One activation at a time, loading included: two reloads close together (SIGHUP and
    /// `policy.reload`) take effect in the order they read the file, so the last file read is the
    /// policy in force, and one recompute's chunks never overwrite the other's dates.
    @discardableResult
    public func activate(
        loading load: () throws -> Policy, source: String, caller: Caller
    ) async throws -> (policy: Policy, activated: Bool) {
        try await env.policy.activations.run {
            let policy = try load()
            return (policy, try await activate(policy, source: source, caller: caller))
        }
    }

    private func activate(_ policy: Policy, source: String, caller: Caller) async throws -> Bool {
        let old = env.policy.current
        guard old.version != policy.version else {
            // The policy in force again: finish a recompute an earlier activation left undone
            // (databases from before the marker: their dates follow `policy_version`, as at start).
            let applied = try await env.database.read { conn in
                try conn.meta("retention_policy_version") ?? conn.meta("policy_version")
            }
            if applied != Array(policy.version.utf8) {
                let count = try await recomputeAfterActivation(policy)
                env.logger.notice("retention dates recomputed: an earlier activation of this policy did not finish", metadata: [
                    "policyVersion": "\(policy.version)", "retentionRecomputed": "\(count)",
                ])
            }
            return false
        }
        let now = env.now()
        // Recorded, then swapped in: no policy decides anything before its activation is in the
        // audit trail. If the write fails (a full disk, a store stopped after a disk error), the
        // old policy stays in force. Requests that read the policy between the commit and the
        // swap still run under the old one, as requests already under way do.
        do {
            try await env.database.write { conn in
                try Self.keepRetentionMarker(conn)
                try conn.setMeta("policy_version", Array(policy.version.utf8))
                try AuditTrail.append(
                    conn, at: now.secondsSinceEpoch, action: "policy.activated", subjectRef: nil, caller: caller,
                    details: ["policyVersion": .string(policy.version), "previousVersion": .string(old.version), "source": .string(source)])
            }
        } catch {
            throw PolicyActivationError.notRecorded(inForce: old.version, underlying: error)
        }
        env.policy.replace(with: policy)
        let count = try await recomputeAfterActivation(policy)
        env.logger.info("policy activated", metadata: ["policyVersion": "\(policy.version)", "retentionRecomputed": "\(count)"])
        return true
    }

    /// `recompute` for a policy already in force and recorded.
    private func recomputeAfterActivation(_ policy: Policy) async throws -> Int {
        do {
            return try await recompute(policy)
        } catch {
            throw PolicyActivationError.recomputeIncomplete(inForce: policy.version, underlying: error)
        }
    }

    /// Records the policy in force at start-up, and finishes the retention dates under it unless
    /// they were computed under this version already. A recompute is written in chunks, after the
    /// activation: `retention_policy_version` is set only once all of it is on disk, so a crash
    /// (or a failed write) part-way is completed at the next start instead of leaving the rest of
    /// the Facial IDs on the old dates for good.
    public func recordStartup(source: String) async throws {
        let policy = env.policy.current
        let now = env.now()
        let (previous, applied) = try await env.database.read { conn in
            let text = { (key: String) in try conn.meta(key).map { String(decoding: $0, as: UTF8.self) } }
            // Databases from before the marker: their dates were computed under policy_version.
            let previous = try text("policy_version")
            return (previous, try text("retention_policy_version") ?? previous)
        }
        if previous != policy.version {
            try await env.database.write { conn in
                try Self.keepRetentionMarker(conn)
                try conn.setMeta("policy_version", Array(policy.version.utf8))
                try AuditTrail.append(
                    conn, at: now.secondsSinceEpoch, action: "policy.activated", subjectRef: nil, caller: .system,
                    details: ["policyVersion": .string(policy.version), "previousVersion": .string(previous), "source": .string(source)])
            }
        }
        if applied != policy.version {
            let count = try await recompute(policy)
            if previous == policy.version {
                env.logger.notice("retention dates recomputed: an earlier activation of this policy did not finish", metadata: [
                    "policyVersion": "\(policy.version)", "retentionRecomputed": "\(count)",
                ])
            }
        }
    }

    /// Before `policy_version` moves on, a database from before `retention_policy_version` gets
    /// the marker: its dates follow the version recorded so far. Without it, a recompute that
    /// failed after the activation would look finished (the fallback reads `policy_version`).
    private static func keepRetentionMarker(_ conn: Connection) throws {
        if try conn.meta("retention_policy_version") == nil, let current = try conn.meta("policy_version") {
            try conn.setMeta("retention_policy_version", current)
        }
    }

    /// Every active Facial ID's retention date under `policy`, then the marker that says so.
    private func recompute(_ policy: Policy) async throws -> Int {
        let count = try await RetentionService(env).recompute(policy: policy)
        try await env.database.write { conn in try conn.setMeta("retention_policy_version", Array(policy.version.utf8)) }
        return count
    }

    public func disclosure(country: String?, region: String?, locale: String?) -> JSON {
        let j = country.map { Jurisdiction(country: $0, region: region) }
        return PolicyEngine.disclosure(jurisdiction: j, locale: locale, policy: env.policy.current, at: env.now())
    }
}

/// Why an activation that loaded its policy did not finish (the store's error is `underlying`).
public enum PolicyActivationError: Error, CustomStringConvertible {
    /// Its activation could not be recorded: the policy `inForce` (the previous one) stays.
    case notRecorded(inForce: String, underlying: any Error)
    /// Activated and recorded (`inForce`), but not every retention date is recomputed under it
    /// yet: a reload of the same policy, or the next start, finishes them.
    case recomputeIncomplete(inForce: String, underlying: any Error)

    public var description: String {
        switch self {
        case .notRecorded(let v, let e): "activation not recorded, \(v) stays in force: \(e)"
        case .recomputeIncomplete(let v, let e): "\(v) in force, retention dates not all recomputed: \(e)"
        }
    }
}
