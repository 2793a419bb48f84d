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
            // The policy in force again: finish a recompute an earlier activation left undone.
            if try await env.database.read(Self.datesVersion) != policy.version {
                logFinishedRecompute(policy, count: try await recomputeAfterActivation(policy))
            }
            return false
        }
        // Recorded, then swapped in: no policy decides anything before its activation is in the
        // audit trail. If the write fails (a full disk, a store stopped after a disk error), the
        // old policy stays in force. Requests that read the policy between the commit and the
        // swap still run under the old one, as requests already under way do.
        do {
            try await recordActivation(of: policy, previous: old.version, source: source, caller: caller)
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
        let (previous, applied) = try await env.database.read { conn in
            (try conn.meta("policy_version").map { String(decoding: $0, as: UTF8.self) }, try Self.datesVersion(conn))
        }
        if previous != policy.version {
            try await recordActivation(of: policy, previous: previous, source: source, caller: .system)
        }
        if applied != policy.version {
            let count = try await recompute(policy)
            if previous == policy.version { logFinishedRecompute(policy, count: count) }
        }
    }

    /// Writes an activation: `policy_version` and the `policy.activated` audit entry. A database
    /// from before `retention_policy_version` first gets the marker (its dates follow the version
    /// recorded so far): without it, a recompute that failed after this activation would look
    /// finished, `datesVersion` falling back to the new `policy_version`.
    private func recordActivation(of policy: Policy, previous: String?, source: String, caller: Caller) async throws {
        let now = env.now()
        try await env.database.write { conn in
            if try conn.meta("retention_policy_version") == nil, let current = try conn.meta("policy_version") {
                try conn.setMeta("retention_policy_version", current)
            }
            try conn.setMeta("policy_version", Array(policy.version.utf8))
            try AuditTrail.append(
                conn, at: now.secondsSinceEpoch, action: "policy.activated", subjectRef: nil, caller: caller,
                details: ["policyVersion": .string(policy.version), "previousVersion": .string(previous), "source": .string(source)])
        }
    }

    /// The policy version the retention dates were computed under. Databases from before the
    /// marker computed them under `policy_version`.
    private static func datesVersion(_ conn: Connection) throws -> String? {
        try (conn.meta("retention_policy_version") ?? conn.meta("policy_version")).map { String(decoding: $0, as: UTF8.self) }
    }

    private func logFinishedRecompute(_ policy: Policy, count: Int) {
        env.logger.notice("retention dates recomputed: an earlier activation of this policy did not finish", metadata: [
            "policyVersion": "\(policy.version)", "retentionRecomputed": "\(count)",
        ])
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
