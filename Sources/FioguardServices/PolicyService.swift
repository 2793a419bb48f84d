public import FioguardJSON
public import FioguardPolicy

/// Activating a policy (start-up, SIGHUP, `policy.reload`) and disclosing it.
public struct PolicyService: Sendable {
    let env: ServiceEnvironment

    public init(_ env: ServiceEnvironment) { self.env = env }

    /// Swaps in an already validated policy, audits the change, and recomputes every active
    /// Facial ID's retention date under it. A no-op when the version is unchanged.
    @discardableResult
    public func activate(_ policy: Policy, source: String, caller: Caller) async throws -> Bool {
        let old = env.policy.current
        guard old.version != policy.version else { return false }
        env.policy.replace(with: policy)
        let now = env.now()
        try await env.database.write { conn in
            try conn.setMeta("policy_version", Array(policy.version.utf8))
            try AuditTrail.append(
                conn, at: now.secondsSinceEpoch, action: "policy.activated", subjectRef: nil, caller: caller,
                details: ["policyVersion": .string(policy.version), "previousVersion": .string(old.version), "source": .string(source)])
        }
        let count = try await RetentionService(env).recompute(policy: policy)
        env.logger.info("policy activated", metadata: ["policyVersion": "\(policy.version)", "retentionRecomputed": "\(count)"])
        return true
    }

    /// Records the policy in force at start-up (no recompute needed when unchanged since last run).
    public func recordStartup(source: String) async throws {
        let policy = env.policy.current
        let now = env.now()
        let previous = try await env.database.read { conn in try conn.meta("policy_version").map { String(decoding: $0, as: UTF8.self) } }
        guard previous != policy.version else { return }
        try await env.database.write { conn in
            try conn.setMeta("policy_version", Array(policy.version.utf8))
            try AuditTrail.append(
                conn, at: now.secondsSinceEpoch, action: "policy.activated", subjectRef: nil, caller: .system,
                details: ["policyVersion": .string(policy.version), "previousVersion": .string(previous), "source": .string(source)])
        }
        if previous != nil { _ = try await RetentionService(env).recompute(policy: policy) }
    }

    public func disclosure(country: String?, region: String?, locale: String?) -> JSON {
        let j = country.map { Jurisdiction(country: $0, region: region) }
        return PolicyEngine.disclosure(jurisdiction: j, locale: locale, policy: env.policy.current, at: env.now())
    }
}
