public import FioguardJSON
import FioguardPolicy
public import FioguardStore

/// The lifecycle side of the deletion outbox: which jobs are due, and what each FACEIO answer does
/// to the job, the Facial ID and the audit trail. The FACEIO worker calls this; it holds no SQL.
public struct DeletionLedger: Sendable {
    let env: ServiceEnvironment

    public init(_ env: ServiceEnvironment) { self.env = env }

    public func due(limit: Int) async throws -> [DeletionJobRow] {
        let now = env.now().secondsSinceEpoch
        return try await env.database.read { conn in try conn.dueDeletionJobs(at: now, limit: limit) }
    }

    /// FACEIO confirmed. Recorded once: a job no longer pending is left alone.
    public func completed(_ job: DeletionJobRow) async throws {
        let now = env.now().secondsSinceEpoch
        let ref = job.facialID.map(env.pseudonymizer.facialID)
        try await env.database.write { conn in
            guard try conn.completeDeletionJob(id: job.id, now: now) else { return }
            let subject = try conn.facialIDSubject(facialRow: job.facialRow)
            try AuditTrail.append(
                conn, at: now, action: "deletion.completed", subjectRef: subject?.pseudonym, subjectID: subject?.id, caller: .system,
                details: ["facialRef": .string(ref), "attempts": .int(job.attempts + 1), "reason": .string(job.reason)])
        }
    }

    /// A retryable failure: try again after `delaySeconds`.
    public func retry(_ job: DeletionJobRow, afterSeconds delay: Int64, error: String) async throws {
        let now = env.now().secondsSinceEpoch
        try await env.database.write { conn in
            try conn.rescheduleDeletionJob(id: job.id, attempts: job.attempts + 1, nextAttemptAt: now + delay, error: error)
        }
    }

    /// A permanent failure: stop retrying, report it (health, `facialId.show`, `deletion.list`, audit).
    public func failed(_ job: DeletionJobRow, error: String) async throws {
        let now = env.now().secondsSinceEpoch
        let ref = job.facialID.map(env.pseudonymizer.facialID)
        try await env.database.write { conn in
            guard try conn.failDeletionJob(id: job.id, attempts: job.attempts + 1, now: now, error: error) else { return }
            let subject = try conn.facialIDSubject(facialRow: job.facialRow)
            try AuditTrail.append(
                conn, at: now, action: "deletion.failed", subjectRef: subject?.pseudonym, subjectID: subject?.id, caller: .system,
                details: ["facialRef": .string(ref), "attempts": .int(job.attempts + 1), "error": .string(error)])
        }
    }

    /// Makes every failed job due again, once, when the outbox starts with an API key: a
    /// permanent failure is often the key (refused, revoked), and fixing it means a restart. A job
    /// that fails again is reported again. Returns how many it made due.
    public func requeueFailed() async throws -> Int {
        var total = 0
        while true {
            let now = env.now().secondsSinceEpoch
            let count = try await env.database.write { conn -> Int in
                let jobs = try conn.deletionJobs(status: "failed", limit: 500)
                for job in jobs where try conn.requeueFailedDeletionJob(id: job.id, now: now) {
                    let subject = try conn.facialIDSubject(facialRow: job.facialRow)
                    try AuditTrail.append(
                        conn, at: now, action: "deletion.retried", subjectRef: subject?.pseudonym, subjectID: subject?.id, caller: .system,
                        details: ["facialRef": .string(job.facialID.map(env.pseudonymizer.facialID)), "attempts": .int(job.attempts),
                                  "why": "start-up"])
                }
                return jobs.count
            }
            total += count
            if count < 500 { return total }
        }
    }

    /// `deletion.list`: jobs by status, newest first.
    public func list(status: String?, limit: Int) async throws -> JSON {
        let rows = try await env.database.read { conn in try conn.deletionJobs(status: status, limit: limit) }
        let counts = try await env.database.read { conn in try conn.deletionCounts() }
        return [
            "counts": ["pending": .int(counts.pending), "failed": .int(counts.failed), "done": .int(counts.done)],
            "deletions": .array(rows.map { r in
                [
                    "jobId": .int(r.id), "facialId": .string(r.facialID), "status": .string(r.status == "done" ? "deleted" : r.status),
                    "reason": .string(r.reason), "requestedAt": .string(Timestamp(secondsSinceEpoch: r.requestedAt).rfc3339),
                    "nextAttemptAt": r.status == "pending" ? .string(Timestamp(secondsSinceEpoch: r.nextAttemptAt).rfc3339) : .null,
                    "completedAt": .string(r.completedAt.map { Timestamp(secondsSinceEpoch: $0).rfc3339 }),
                    "attempts": .int(r.attempts), "lastError": .string(r.lastError),
                ]
            }),
        ]
    }
}
