import Crypto
public import FioguardJSON
import FioguardPolicy
import FioguardStore

/// FACEIO webhooks, forwarded by the backend (`webhook.ingest`): verify the token in constant
/// time, deduplicate (FACEIO documents no delivery guarantee), then reconcile:
/// - `deletion`: confirms a pending deletion, or records one made outside the sidecar;
/// - `auth`: counts as a last interaction;
/// - `enroll`: an enrollment no ticket covers is flagged (audit + health) and, when the policy
///   says so (`enrollment.deleteUnauthorized`), queued for deletion.
public struct WebhookService: Sendable {
    let env: ServiceEnvironment
    let token: String?

    public init(_ env: ServiceEnvironment, token: String?) {
        self.env = env
        self.token = token
    }

    public struct Outcome: Sendable {
        public var event: String
        public var action: String
        public var json: JSON { ["accepted": true, "event": .string(event), "action": .string(action)] }
    }

    /// Looks for the token in `WWW-Authenticate` (FACEIO's header) or `Authorization`, with or
    /// without a `Bearer` scheme; header names and the scheme are case-insensitive. As in HTTP's
    /// credentials (`auth-scheme 1*SP token68`) any number of spaces may follow the scheme (tabs
    /// too, a little beyond the grammar), and blanks around the value are not part of it.
    public func authenticate(headers: [(String, String)]) throws {
        guard let token, !token.isEmpty else {
            throw ServiceError(.forbidden, "no webhook token is configured (--faceio-webhook-token-file); refusing unauthenticated webhooks")
        }
        let presented = headers.first { ["www-authenticate", "authorization"].contains($0.0.lowercased()) }.map { h -> String in
            let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
            var v = Substring(h.1).drop(while: blank)
            if let end = v.firstIndex(where: blank), v[..<end].lowercased() == "bearer" { v = v[end...].drop(while: blank) }
            while let last = v.last, blank(last) { v.removeLast() }
            return String(v)
        }
        guard let presented, Self.constantTimeEqual(presented, token) else {
            throw ServiceError(.forbidden, "webhook token missing or wrong")
        }
    }

    /// Compares digests so the time taken depends on neither value's content nor length.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let da = Array(SHA256.hash(data: Array(a.utf8)))
        let db = Array(SHA256.hash(data: Array(b.utf8)))
        var diff: UInt8 = 0
        for i in 0..<da.count { diff |= da[i] ^ db[i] }
        return diff == 0
    }

    public func ingest(headers: [(String, String)], body: String) async throws -> Outcome {
        try authenticate(headers: headers)
        let json: JSON
        do {
            json = try JSON.parse(body)
        } catch {
            throw ServiceError.invalid("params.body", "not a JSON webhook body: \(error.message)")
        }
        guard json.objectValue != nil else { throw ServiceError.invalid("params.body", "expected a JSON object") }
        guard let eventName = json["eventName"]?.stringValue, !eventName.isEmpty else {
            throw ServiceError.invalid("params.body.eventName", "is required (a string)")
        }
        guard let facialID = json["facialId"]?.stringValue, (1...128).contains(facialID.utf8.count),
              facialID.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e })
        else { throw ServiceError.invalid("params.body.facialId", "is required (1–128 printable ASCII)") }
        let event = eventName.lowercased()
        let now = env.now()
        let bodyHash = Hex.sha256(body)
        let fidHash = env.pseudonymizer.lookupHash("facialId", facialID)
        let facialRef = env.pseudonymizer.facialID(facialID)
        let payloadTicket = json["payload"]?["ticket"]?.stringValue
        let ts = now.secondsSinceEpoch

        return try await env.database.write { conn in
            // Read inside the write, as facialId.touch does (a reload recomputes rows as they are).
            let policy = env.policy.current
            if let earlier = try conn.webhookAction(bodyHash: bodyHash) {
                return Outcome(event: event, action: "duplicate (\(earlier))")
            }
            let row = try conn.facialID(hash: fidHash)
            let subjectRef = try row.flatMap { try conn.subject(id: $0.subjectID)?.pseudonym }
            var action: String
            switch event {
            case "deletion":
                switch (row?.status, row?.deletion?.status) {
                case (nil, _):
                    action = "ignored: unknown Facial ID"
                case ("active"?, _):
                    try conn.recordExternalDeletion(facialRow: row!.id, now: ts)
                    action = "recorded deletion made outside fioguard"
                case (_, "pending"?), (_, "failed"?):
                    try conn.recordExternalDeletion(facialRow: row!.id, now: ts)
                    action = "confirmed pending deletion"
                default:
                    action = "already deleted"
                }
            case "auth":
                // Not past its deadline: a login then does not bring it back (see `touch`).
                if let row, row.status == "active", row.retainUntil > ts {
                    let d = PolicyEngine.retention(
                        enrolledAt: Timestamp(secondsSinceEpoch: row.enrolledAt), lastInteractionAt: now,
                        jurisdiction: Jurisdiction(country: row.country, region: row.region), policy: policy)
                    try conn.touchFacialID(row: row.id, at: ts, retainUntil: d.retainUntil.secondsSinceEpoch, retainRule: d.rule)
                    action = "recorded last interaction"
                } else if row?.status == "active" {
                    action = "ignored: retention period ended, deletion due"
                } else {
                    action = "ignored: no active Facial ID"
                }
            case "enroll":
                if row != nil {
                    action = "known enrollment"
                } else if let earlier = try conn.unauthorizedEnrollment(fidHash: fidHash) {
                    // Another delivery (another body) of an enrollment already held or flagged:
                    // it stays as it is, and is neither flagged nor audited twice; unless it was
                    // flagged and kept, and the policy now deletes unauthorized enrollments.
                    if earlier.decideAfter == nil, earlier.facialRow == nil, policy.deleteUnauthorizedEnrollments {
                        let row = try queueUnauthorizedDeletion(conn, facialID: facialID, fidHash: fidHash, at: ts)
                        action = "flagged unauthorized enrollment; deletion queued"
                        try conn.markEnrollmentFlagged(fidHash: fidHash, facialRow: row, action: action)
                        try AuditTrail.append(
                            conn, at: ts, action: "enrollment.unauthorized", subjectRef: nil, caller: .system,
                            details: ["facialRef": .string(facialRef), "action": .string(action), "redelivered": true])
                    } else {
                        action = earlier.decideAfter != nil ? earlier.action : "already flagged: \(earlier.action)"
                    }
                } else {
                    let ticketHash = payloadTicket.map(Hex.sha256)
                    let ticket = try ticketHash.flatMap { try conn.ticket(hash: $0) }
                    if let ticket, ticket.consumedBy == fidHash {
                        action = "covered by an enrollment ticket"
                    } else if let ticket, let ticketHash, ticket.consumedBy == nil, ticket.consumedAt == nil,
                        ticket.expiresAt > ts - Self.holdGraceSeconds
                    {
                        // An open ticket (or one just expired: a completion that came in time may
                        // still wait for the writer): enroll.complete is still to come. Should it
                        // never come, the Facial ID is deleted once the ticket expired
                        // (decideHeldEnrollments).
                        action = "covered by an enrollment ticket"
                        _ = try conn.holdEnrollment(
                            fidHash: fidHash, facialID: facialID, ticketHash: ticketHash, now: ts, decideAfter: ticket.expiresAt,
                            action: action)
                    } else if let ticket, let ticketHash, ticket.consumedBy == nil,
                        try EnrollmentService.abandon(
                            conn, env: env, ticketHash: ticketHash, ticket: ticket, facialID: facialID, fidHash: fidHash,
                            reason: "enrollment_not_completed", why: "its ticket expired or was voided before enroll.complete", policy: policy,
                            now: now, caller: .system)
                    {
                        // Made under a ticket fioguard issued that can no longer be completed: the
                        // subject's, and deleted, like a refused completion.
                        action = "enrolled under an expired or voided ticket; deletion queued"
                    } else if payloadTicket == nil, let until = try conn.lastOpenTicketExpiry(at: ts - Self.holdGraceSeconds) {
                        // No payload (lower FACEIO plans send none): this may be an enrollment whose
                        // enroll.complete has not arrived yet. It can arrive until the last open
                        // ticket expires (and a little after, see holdGraceSeconds); flagging it
                        // now would delete a legitimate enrollment.
                        action = "held until \(Timestamp(secondsSinceEpoch: until).rfc3339): no ticket in the payload; flagged unless enroll.complete claims it"
                        if try conn.holdEnrollment(fidHash: fidHash, facialID: facialID, ticketHash: nil, now: ts, decideAfter: until, action: action) {
                            try AuditTrail.append(
                                conn, at: ts, action: "enrollment.held", subjectRef: nil, caller: .system,
                                details: ["facialRef": .string(facialRef), "decideAfter": .string(Timestamp(secondsSinceEpoch: until).rfc3339)])
                        }
                    } else {
                        action = try flagUnauthorized(conn, facialID: facialID, fidHash: fidHash, facialRef: facialRef, policy: policy, at: ts)
                    }
                }
            default:
                action = "ignored: unknown event"
            }
            _ = try conn.rememberWebhook(bodyHash: bodyHash, event: event, now: ts, action: action)
            if action != "ignored: unknown event" && event != "enroll" {
                try AuditTrail.append(
                    conn, at: ts, action: "webhook.\(event)", subjectRef: subjectRef, caller: .system,
                    details: ["facialRef": .string(facialRef), "action": .string(action)])
            }
            return Outcome(event: event, action: action)
        }
    }

    /// Flags an enrollment no ticket covers (audit, health) and, under the policy's
    /// `enrollment.deleteUnauthorized`, records it for the placeholder owner and queues its
    /// deletion at once. Returns the action taken.
    func flagUnauthorized(
        _ conn: Connection, facialID: String, fidHash: String, facialRef: String, policy: Policy, at ts: Int64, heldSince: Int64? = nil
    ) throws -> String {
        var facialRow: Int64?
        let action: String
        if policy.deleteUnauthorizedEnrollments {
            facialRow = try queueUnauthorizedDeletion(conn, facialID: facialID, fidHash: fidHash, at: ts)
            action = "flagged unauthorized enrollment; deletion queued"
        } else {
            action = "flagged unauthorized enrollment"
        }
        if heldSince != nil {
            try conn.markEnrollmentFlagged(fidHash: fidHash, facialRow: facialRow, action: action)
        } else {
            try conn.recordUnauthorizedEnrollment(fidHash: fidHash, facialRow: facialRow, now: ts, action: action)
        }
        var details: [(String, JSON)] = [("facialRef", .string(facialRef)), ("action", .string(action))]
        if let heldSince { details.append(("heldSince", .string(Timestamp(secondsSinceEpoch: heldSince).rfc3339))) }
        try AuditTrail.append(
            conn, at: ts, action: "enrollment.unauthorized", subjectRef: nil, caller: .system, details: .object(JSONObject(details)))
        return action
    }

    /// Records an unauthorized enrollment's Facial ID for the placeholder owner and queues its
    /// deletion at once. Returns its row.
    func queueUnauthorizedDeletion(_ conn: Connection, facialID: String, fidHash: String, at ts: Int64) throws -> Int64 {
        let owner = try conn.unownedSubject(now: ts)
        let id = try conn.insertFacialID(
            facialID: facialID, hash: fidHash, subjectID: owner, enrolledAt: ts, retainUntil: ts,
            retainRule: "enrollment.deleteUnauthorized", country: "ZZ", region: nil)
        _ = try conn.tombstoneFacialID(row: id, reason: "unauthorized_enrollment", now: ts, notBefore: ts)
        return id
    }

    /// How long after its ticket expired an enrollment a webhook reported is decided: an
    /// `enroll.complete` that arrived in time (its time is taken before it waits for the writer)
    /// may still be queued.
    public static let holdGraceSeconds: Int64 = 5

    /// Decides the enrollments held for want of a ticket once `enroll.complete` can no longer
    /// claim them (their tickets expired): one its payload's ticket vouched for but that was never
    /// completed is recorded for the ticket's subject and deleted (FACEIO holds a face template
    /// the site has no record of, D4, D19); one no ticket covers is flagged as unauthorized.
    /// Returns how many it decided; the caller repeats while a round is full.
    public func decideHeldEnrollments(limit: Int = 200) async throws -> Int {
        let now = env.now()
        let ts = now.secondsSinceEpoch
        return try await env.database.write { conn in
            let policy = env.policy.current
            let due = try conn.dueHeldEnrollments(decidedBy: ts - Self.holdGraceSeconds, limit: limit)
            for held in due {
                // Claimed meanwhile (enroll.complete releases holds; this is a second safeguard).
                if try conn.facialID(hash: held.fidHash) != nil {
                    try conn.resolveUnauthorizedEnrollment(fidHash: held.fidHash)
                    continue
                }
                if let ticketHash = held.ticketHash, let ticket = try conn.ticket(hash: ticketHash), ticket.consumedBy == nil,
                    try EnrollmentService.abandon(
                        conn, env: env, ticketHash: ticketHash, ticket: ticket, facialID: held.facialID, fidHash: held.fidHash,
                        reason: "enrollment_not_completed", why: "enroll.complete did not come before its ticket expired", policy: policy,
                        now: now, caller: .system)
                {
                    continue
                }
                _ = try flagUnauthorized(
                    conn, facialID: held.facialID, fidHash: held.fidHash, facialRef: env.pseudonymizer.facialID(held.facialID),
                    policy: policy, at: ts, heldSince: held.receivedAt)
            }
            return due.count
        }
    }
}
