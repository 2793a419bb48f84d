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
    /// without a `Bearer ` prefix; header names are case-insensitive.
    public func authenticate(headers: [(String, String)]) throws {
        guard let token, !token.isEmpty else {
            throw ServiceError(.forbidden, "no webhook token is configured (--faceio-webhook-token-file); refusing unauthenticated webhooks")
        }
        let presented = headers.first { ["www-authenticate", "authorization"].contains($0.0.lowercased()) }.map { h -> String in
            var v = Substring(h.1)
            while v.first == " " { v.removeFirst() }
            if v.lowercased().hasPrefix("bearer ") { v = v.dropFirst(7) }
            while v.last == " " { v.removeLast() }
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
                if let row, row.status == "active" {
                    let d = PolicyEngine.retention(
                        enrolledAt: Timestamp(secondsSinceEpoch: row.enrolledAt), lastInteractionAt: now,
                        jurisdiction: Jurisdiction(country: row.country, region: row.region), policy: policy)
                    try conn.touchFacialID(row: row.id, at: ts, retainUntil: d.retainUntil.secondsSinceEpoch, retainRule: d.rule)
                    action = "recorded last interaction"
                } else {
                    action = "ignored: no active Facial ID"
                }
            case "enroll":
                if row != nil {
                    action = "known enrollment"
                } else if let t = payloadTicket, let ticket = try conn.ticket(hash: Hex.sha256(t)),
                    ticket.consumedBy == fidHash || (ticket.consumedAt == nil && ticket.expiresAt > ts)
                {
                    // An open ticket (enroll.complete not called yet) or the one this very Facial ID consumed.
                    action = "covered by an enrollment ticket"
                } else {
                    var facialRow: Int64?
                    if policy.deleteUnauthorizedEnrollments {
                        let owner = try conn.unownedSubject(now: ts)
                        let id = try conn.insertFacialID(
                            facialID: facialID, hash: fidHash, subjectID: owner, enrolledAt: ts, retainUntil: ts,
                            retainRule: "enrollment.deleteUnauthorized", country: "ZZ", region: nil)
                        _ = try conn.tombstoneFacialID(row: id, reason: "unauthorized_enrollment", now: ts, notBefore: ts)
                        facialRow = id
                        action = "flagged unauthorized enrollment; deletion queued"
                    } else {
                        action = "flagged unauthorized enrollment"
                    }
                    try conn.recordUnauthorizedEnrollment(fidHash: fidHash, facialRow: facialRow, now: ts, action: action)
                    try AuditTrail.append(
                        conn, at: ts, action: "enrollment.unauthorized", subjectRef: nil, caller: .system,
                        details: ["facialRef": .string(facialRef), "action": .string(action)])
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
}
