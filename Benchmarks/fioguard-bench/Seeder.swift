import Foundation
import FioguardPolicy
import FioguardStore
import Logging

/// Fills a fresh database straight through the store (not the socket) so the read and sweep
/// workloads start from 100,000 / 1,000,000 enrolled Facial IDs in seconds, not minutes.
/// Rows have the shape the lifecycle writes: subject, active consent, Facial ID. The database
/// also records that its retention dates were computed under the bench's policy, as a daemon that
/// ran it would have: otherwise the daemon's start recomputes every date under that policy, which
/// moves the sweep's expired Facial IDs three years ahead and leaves it nothing to sweep.
enum Seeder {
    /// Rows `i < expired` get their `retainUntil` set once all rows are in, to `expiresIn` seconds
    /// after the seeding ended (it takes a while for 1,000,000 rows); returns that time.
    @discardableResult
    static func seed(path: String, subjects: Int, facialIDs: Int, expired: Int, expiresIn: Int64, now: Int64) async throws -> Int64 {
        let db = try Database(
            configuration: DatabaseConfiguration(path: path), migrations: Schema.migrations, logger: Logger(label: "bench.seed"))
        let batch = 20_000
        var start = 0
        while start < facialIDs {
            let end = min(start + batch, facialIDs)
            let range = start..<end
            try await db.write { conn in
                for i in range {
                    let subject = "bench-\(i)"
                    try conn.run(
                        "INSERT INTO subjects (subject, pseudonym, created_at) VALUES (?, ?, ?)",
                        [.text(subject), .text("sub_bench\(i)"), .int(now - 86_400)])
                    let sid = conn.lastInsertRowID
                    if i < subjects {
                        try conn.run(
                            "INSERT INTO consent_events (subject_id, consent_id, kind, purposes, at, details) VALUES (?, ?, 'granted', '[\"authentication\"]', ?, ?)",
                            [.int(sid), .text("cns_bench\(i)"), .int(now - 86_400),
                             .text(#"{"noticeVersion":"1","collectionMethod":"checkbox","domain":"shop.example","country":"DE","region":null}"#)])
                        try conn.run(
                            "INSERT INTO consent_state (subject_id, purpose, consent_id, granted_at) VALUES (?, 'authentication', ?, ?)",
                            [.int(sid), .text("cns_bench\(i)"), .int(now - 86_400)])
                    }
                    let retainUntil = i < expired ? Self.expiringMarker : now + 365 * 86_400
                    try conn.run(
                        """
                        INSERT INTO facial_ids (facial_id, fid_hash, subject_id, status, enrolled_at, retain_until, retain_rule, country)
                        VALUES (?, ?, ?, 'active', ?, ?, 'retention.maxSinceEnrollment', 'DE')
                        """,
                        [.text("fid-bench-\(i)"), .text("h\(i)"), .int(sid), .int(now - 86_400), .int(retainUntil)])
                }
            }
            start = end
        }
        let expiresAt = Int64(Date().timeIntervalSince1970) + expiresIn
        if expired > 0 {
            try await db.write { conn in
                try conn.run(
                    "UPDATE facial_ids SET retain_until = ? WHERE status = 'active' AND retain_until = ?",
                    [.int(expiresAt), .int(Self.expiringMarker)])
            }
        }
        let version = Array(try Policy.load(bytes: Array(BenchServer.policy.utf8)).version.utf8)
        try await db.write { conn in
            try conn.setMeta("policy_version", version)
            try conn.setMeta("retention_policy_version", version)
        }
        await db.close()
        return expiresAt
    }

    private static let expiringMarker: Int64 = 1
}
