public import FioguardJSON
public import FioguardPolicy
import FioguardStore

/// Retention (duties D19, D20): finds Facial IDs past their `retainUntil` and consents past their
/// expiry; a dry run lists them, a real run queues the deletions (tombstone + outbox job + audit).
public struct RetentionService: Sendable {
    let env: ServiceEnvironment
    /// Rows changed per write transaction, so a big sweep never holds the writer for long.
    let chunkSize = 500
    /// How long a ticket is kept after it expired. Until it is purged, an `enroll.complete` that
    /// comes late still finds it and has its Facial ID deleted (a ticket fioguard does not know
    /// is only refused); after that, a ticket links nothing anyone needs.
    public static let ticketKeepSeconds: Int64 = 7 * 86_400

    public init(_ env: ServiceEnvironment) { self.env = env }

    public struct Report: Sendable {
        public var sweptAt: Timestamp
        public var examined: Int64
        public var expired: [(facialID: String?, rule: String, dueAt: Timestamp)]
        public var deletionsQueued: Int
        public var consentsExpired: Int
        /// Tickets expired more than `ticketKeepSeconds` ago: deleted (a dry run: would be).
        public var ticketsPurged: Int64
        public var dryRun: Bool

        public var json: JSON {
            [
                "sweptAt": .string(sweptAt.rfc3339), "dryRun": .bool(dryRun), "examined": .int(examined),
                // Encoded entry by entry: a sweep may list 100,000 Facial IDs, and a tree of them
                // (then its jansson copy) would cost far more memory than the text.
                "expired": .encoded(EncodedJSON(arrayOf: expired) { ["facialId": .string($0.facialID), "rule": .string($0.rule), "dueAt": .string($0.dueAt.rfc3339)] }),
                "deletionsQueued": .int(deletionsQueued), "consentsExpired": .int(consentsExpired),
                "ticketsPurged": .int(ticketsPurged),
            ]
        }
    }

    public func sweep(dryRun: Bool, limit: Int, caller: Caller) async throws -> Report {
        let now = env.now()
        let policy = env.policy.current
        let ticketCutoff = now.secondsSinceEpoch - Self.ticketKeepSeconds
        let (examined, expired, consents, oldTickets) = try await env.database.read { conn in
            (try conn.countActiveFacialIDs(), try conn.expiredFacialIDs(at: now.secondsSinceEpoch, limit: limit),
             try conn.expiredConsents(at: now.secondsSinceEpoch, limit: limit),
             dryRun ? try conn.countTickets(expiredBefore: ticketCutoff) : 0)
        }
        var report = Report(
            sweptAt: now, examined: examined,
            expired: expired.map { ($0.facialID, $0.retainRule, Timestamp(secondsSinceEpoch: $0.retainUntil)) },
            deletionsQueued: 0, consentsExpired: dryRun ? consents.count : 0, ticketsPurged: oldTickets, dryRun: dryRun)
        guard !dryRun else { return report }

        var start = 0
        var passedOver: Set<Int64> = []
        while start < expired.count {
            let chunk = Array(expired[start..<min(start + chunkSize, expired.count)])
            start += chunkSize
            let (queued, passed) = try await env.database.write { conn -> (Int, [Int64]) in
                var queued = 0
                var passed: [Int64] = []
                for row in chunk {
                    // Still expired: an authentication since the scan may have pushed the date back.
                    guard try conn.tombstoneFacialID(
                        row: row.id, reason: "retention_expired", now: now.secondsSinceEpoch, notBefore: now.secondsSinceEpoch,
                        dueBy: now.secondsSinceEpoch)
                    else {
                        passed.append(row.id)
                        continue
                    }
                    queued += 1
                    try AuditTrail.append(
                        conn, at: now.secondsSinceEpoch, action: "retention.expired", subjectRef: try conn.subject(id: row.subjectID)?.pseudonym,
                        subjectID: row.subjectID, caller: caller,
                        details: ["facialRef": .string(row.facialID.map(env.pseudonymizer.facialID)), "rule": .string(row.retainRule),
                                  "dueAt": .string(Timestamp(secondsSinceEpoch: row.retainUntil).rfc3339)])
                }
                return (queued, passed)
            }
            report.deletionsQueued += queued
            passedOver.formUnion(passed)
        }
        // The report lists what this sweep deleted, not rows another request changed meanwhile.
        if !passedOver.isEmpty {
            report.expired = expired.filter { !passedOver.contains($0.id) }
                .map { ($0.facialID, $0.retainRule, Timestamp(secondsSinceEpoch: $0.retainUntil)) }
        }
        let bySubject = Dictionary(grouping: consents, by: \.subjectID)
        for (subjectID, rows) in bySubject {
            let (expiredCount, queued) = try await env.database.write { conn -> (Int, Int) in
                // Re-read: the consent may have been revoked or renewed since the scan.
                let current = try conn.activeConsents(subjectID: subjectID).filter { s in
                    rows.contains { $0.purpose == s.purpose && $0.consentID == s.consentID } && (s.expiresAt ?? Int64.max) <= now.secondsSinceEpoch
                }
                guard !current.isEmpty else { return (0, 0) }
                try ConsentService.revoke(conn, subjectID: subjectID, rows: current, kind: "expired", reason: "consent expired", now: now)
                var queued = 0
                if current.contains(where: { $0.purpose == "authentication" }) {
                    try conn.voidTickets(subjectID: subjectID, now: now.secondsSinceEpoch)
                    try EnrollmentService.abandonHeldEnrollments(
                        conn, env: env, subjectID: subjectID, reason: "consent_expired", policy: policy, now: now, caller: caller)
                    let before = try conn.facialIDs(subjectID: subjectID).filter { $0.status == "active" }.count
                    _ = try FacialIDService.tombstoneAll(
                        conn, subjectID: subjectID, reason: "consent_expired", now: now,
                        notBefore: { FacialIDService.revocationDeadline($0, revokedAt: now, policy: policy) })
                    queued = before
                }
                try AuditTrail.append(
                    conn, at: now.secondsSinceEpoch, action: "consent.expired", subjectRef: try conn.subject(id: subjectID)?.pseudonym,
                    subjectID: subjectID, caller: caller, details: ["purposes": .strings(current.map(\.purpose)), "deletionsQueued": .int(queued)])
                return (current.count, queued)
            }
            report.consentsExpired += expiredCount
            report.deletionsQueued += queued
        }
        while true {
            let purged = try await env.database.write { conn in try conn.purgeTickets(expiredBefore: ticketCutoff, limit: 5000) }
            report.ticketsPurged += Int64(purged)
            if purged < 5000 { break }
        }
        if report.deletionsQueued > 0 || report.consentsExpired > 0 || report.ticketsPurged > 0 {
            env.logger.info(
                "retention sweep",
                metadata: ["deletionsQueued": "\(report.deletionsQueued)", "consentsExpired": "\(report.consentsExpired)",
                           "ticketsPurged": "\(report.ticketsPurged)"])
        }
        return report
    }

    /// Recomputes `retainUntil` of every active Facial ID under `policy` (after a reload).
    public func recompute(policy: Policy) async throws -> Int {
        struct Change: Sendable { var row: Int64; var until: Int64; var rule: String; var lastAuth: Int64? }
        let changes = try await env.database.read { conn -> [Change] in
            var out: [Change] = []
            try conn.forEachActiveFacialID { row, enrolledAt, lastAuth, country, region in
                let d = PolicyEngine.retention(
                    enrolledAt: Timestamp(secondsSinceEpoch: enrolledAt), lastInteractionAt: lastAuth.map(Timestamp.init(secondsSinceEpoch:)),
                    jurisdiction: Jurisdiction(country: country, region: region), policy: policy)
                out.append(Change(row: row, until: d.retainUntil.secondsSinceEpoch, rule: d.rule, lastAuth: lastAuth))
            }
            return out
        }
        var start = 0
        while start < changes.count {
            let chunk = Array(changes[start..<min(start + 5000, changes.count)])
            start += 5000
            try await env.database.write { conn in
                // A row authenticated since the read keeps the date its touch computed.
                for c in chunk { try conn.setRetention(row: c.row, retainUntil: c.until, retainRule: c.rule, lastAuthenticatedAt: c.lastAuth) }
            }
        }
        return changes.count
    }
}
