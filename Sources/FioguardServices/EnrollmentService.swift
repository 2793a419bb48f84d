public import FioguardJSON
import FioguardPolicy
import FioguardStore

/// Enrollment: authorize (a policy decision and, when allowed, a single-use ticket) and complete
/// (ticket + Facial ID → an enrolled, retention-scheduled Facial ID).
public struct EnrollmentService: Sendable {
    let env: ServiceEnvironment

    public init(_ env: ServiceEnvironment) { self.env = env }

    public struct AuthorizeRequest: Sendable {
        public var subject: String
        public var domain: String
        public var country: String
        public var region: String?
        public var trigger: String

        public init(subject: String, domain: String, country: String, region: String?, trigger: String) {
            self.subject = subject
            self.domain = domain
            self.country = country
            self.region = region
            self.trigger = trigger
        }
    }

    /// A decision, plus ticket and `fioOptions` when allowed. A denial is a result, not an error.
    public func authorize(_ r: AuthorizeRequest, caller: Caller) async throws -> JSON {
        let now = env.now()
        let policy = env.policy.current
        let subjectRef = env.pseudonymizer.subject(r.subject)
        let jurisdiction = Jurisdiction(country: r.country, region: r.region)
        let decisionID = Identifiers.decision()
        return try await env.database.write { conn in
            let subjectID = try conn.subjectID(named: r.subject)
            var consent: ActiveConsent?
            var enrolled = 0
            var locale: String?
            if let subjectID {
                consent = try ConsentService.activeAuthenticationConsent(conn, subjectID: subjectID)
                enrolled = try conn.facialIDs(subjectID: subjectID).filter { $0.status == "active" }.count
                if let c = try conn.activeConsents(subjectID: subjectID).first(where: { $0.purpose == "authentication" }) {
                    locale = try conn.personalConsentData(consentID: c.consentID).flatMap { try? JSON.parse($0) }?["locale"]?.stringValue
                }
            }
            let facts = EnrollmentFacts(
                domain: r.domain, jurisdiction: jurisdiction, trigger: r.trigger, consent: consent, activeFacialIdCount: enrolled)
            let decision = PolicyEngine.decideEnrollment(facts, policy: policy, now: now, decisionId: decisionID)
            guard case .object(var result) = decision.json else { return decision.json }
            if decision.allow, let subjectID {
                let ticket = Identifiers.ticket()
                let expires = now.adding(policy.ticketTTL)
                try conn.insertTicket(
                    hash: Hex.sha256(ticket), subjectID: subjectID, decisionID: decisionID, country: r.country, region: r.region,
                    issuedAt: now.secondsSinceEpoch, expiresAt: expires.secondsSinceEpoch)
                result["ticket"] = .string(ticket)
                result["ticketExpiresAt"] = .string(expires.rfc3339)
                var options: JSONObject = JSONObject([("userConsent", .bool(true)), ("payload", ["ticket": .string(ticket)])])
                if let locale { options["locale"] = .string(locale) }
                result["fioOptions"] = .object(options)
            } else if decision.allow {
                // Cannot happen (an allow needs an active consent, hence a subject); refuse rather than mint an orphan ticket.
                throw ServiceError(.unavailable, "no subject to bind the ticket to")
            }
            try AuditTrail.append(
                conn, at: now.secondsSinceEpoch, action: decision.allow ? "enroll.authorized" : "enroll.denied", subjectRef: subjectRef,
                subjectID: subjectID, caller: caller,
                details: ["decisionId": .string(decisionID), "policyVersion": .string(decision.policyVersion), "allow": .bool(decision.allow),
                          "failed": .strings(decision.reasons.filter { !$0.passed }.map(\.code)),
                          // The trigger as one of API.md's two values: free text outlives an erasure here.
                          "trigger": .string(["user_action", "automatic"].contains(r.trigger) ? r.trigger : "other")])
            return .object(result)
        }
    }

    /// The answer to `enroll.complete`.
    ///
    /// A ticket fioguard issued that can no longer be used (voided by a revocation or an erasure
    /// meanwhile, or expired), or a second enrollment the policy does not allow, is refused. But
    /// FACEIO already holds the face template `fio.enroll()` made under that authorization: it is
    /// recorded for the ticket's subject and its deletion is queued at once (D6, D18), then the
    /// refusal is returned. One Facial ID per ticket at most: a ticket that already has one (it
    /// was used, or a refused Facial ID was recorded under it) is only refused, as is a ticket
    /// fioguard never issued (nothing ties the Facial ID to a subject).
    public func complete(ticket: String, facialID: String, caller: Caller) async throws -> JSON {
        let now = env.now()
        let policy = env.policy.current
        let ticketHash = Hex.sha256(ticket)
        let fidHash = env.pseudonymizer.lookupHash("facialId", facialID)
        enum Outcome: Sendable { case enrolled(JSON), refused(ServiceError) }
        let outcome = try await env.database.write { conn -> Outcome in
            guard let t = try conn.ticket(hash: ticketHash) else { throw ServiceError.ticketInvalid("unknown ticket") }
            // A retry of a completion that succeeded (its answer was lost): the Facial ID stays.
            if t.consumedBy == fidHash { throw ServiceError.ticketInvalid("ticket already used or voided") }
            if let existing = try conn.facialID(hash: fidHash) {
                if existing.subjectID != t.subjectID { throw ServiceError.conflict("facialId is bound to another subject") }
                // A retry of a refused completion finds the Facial ID it recorded, being deleted.
                guard existing.status == "active" else { throw ServiceError.ticketInvalid("ticket already used or voided") }
                throw ServiceError.conflict("facialId is already enrolled for this subject")
            }
            if t.consumedBy != nil { throw ServiceError.ticketInvalid("ticket already used or voided") }
            guard let subject = try conn.subject(id: t.subjectID) else { throw ServiceError.ticketInvalid("unknown ticket") }
            var refusal: ServiceError?
            if t.consumedAt != nil {
                refusal = .ticketInvalid("ticket already used or voided")
            } else if t.expiresAt <= now.secondsSinceEpoch {
                refusal = .ticketInvalid("ticket expired")
            } else if subject.subject == nil {
                refusal = .ticketInvalid("ticket's subject was erased")
            } else if !policy.allowReenrollment, try conn.facialIDs(subjectID: t.subjectID).contains(where: { $0.status == "active" }) {
                refusal = .conflict("the subject already has an active Facial ID and the policy does not allow re-enrollment")
            }
            if let refusal {
                let facialRef = env.pseudonymizer.facialID(facialID)
                guard try Self.recordForDeletion(
                    conn, env: env, ticketHash: ticketHash, ticket: t, subject: subject, facialID: facialID, fidHash: fidHash,
                    reason: "enrollment_refused", policy: policy, now: now, caller: caller)
                else { throw refusal }
                try AuditTrail.append(
                    conn, at: now.secondsSinceEpoch, action: "enroll.refused", subjectRef: subject.pseudonym, subjectID: subject.id, caller: caller,
                    details: ["facialRef": .string(facialRef), "decisionId": .string(t.decisionID),
                              "reason": .string(refusal.message), "deletionQueued": .bool(true)])
                return .refused(refusal)
            }
            let jurisdiction = Jurisdiction(country: t.country, region: t.region)
            let deadline = PolicyEngine.retention(enrolledAt: now, lastInteractionAt: nil, jurisdiction: jurisdiction, policy: policy)
            _ = try conn.insertFacialID(
                facialID: facialID, hash: fidHash, subjectID: t.subjectID, enrolledAt: now.secondsSinceEpoch,
                retainUntil: deadline.retainUntil.secondsSinceEpoch, retainRule: deadline.rule, country: t.country, region: t.region)
            // A webhook may have reported this enrollment first, without a ticket to tie it here.
            try Self.resolveWebhookRecord(conn, env: env, fidHash: fidHash, facialID: facialID, subject: subject, now: now, caller: caller)
            guard try conn.consumeTicket(hash: ticketHash, now: now.secondsSinceEpoch, facialHash: fidHash) else {
                throw ServiceError.ticketInvalid("ticket already used or voided")
            }
            try AuditTrail.append(
                conn, at: now.secondsSinceEpoch, action: "enroll.completed", subjectRef: subject.pseudonym, subjectID: subject.id, caller: caller,
                details: ["facialRef": .string(env.pseudonymizer.facialID(facialID)), "decisionId": .string(t.decisionID),
                          "retainUntil": .string(deadline.retainUntil.rfc3339), "retentionRule": .string(deadline.rule)])
            return .enrolled([
                "subject": .string(subject.subject ?? ""), "facialId": .string(facialID), "enrolledAt": .string(now.rfc3339),
                "retainUntil": .string(deadline.retainUntil.rfc3339), "retentionRule": .string(deadline.rule),
            ])
        }
        switch outcome {
        case .enrolled(let answer): return answer
        case .refused(let error): throw error
        }
    }

    /// Records a Facial ID that FACEIO made under `ticket` but that will not be enrolled (a refused
    /// completion, or one that never came) for the ticket's subject, as `deleting` with its deletion
    /// due at once. False, recording nothing, when the ticket already has a Facial ID: one per
    /// ticket, so a replayed ticket cannot have any number of Facial IDs recorded and deleted.
    static func recordForDeletion(
        _ conn: Connection, env: ServiceEnvironment, ticketHash: String, ticket t: TicketRow, subject: SubjectRow, facialID: String,
        fidHash: String, reason: String, policy: Policy, now: Timestamp, caller: Caller
    ) throws -> Bool {
        guard try conn.claimTicket(hash: ticketHash, now: now.secondsSinceEpoch, facialHash: fidHash) else { return false }
        let jurisdiction = Jurisdiction(country: t.country, region: t.region)
        let deadline = PolicyEngine.retention(enrolledAt: now, lastInteractionAt: nil, jurisdiction: jurisdiction, policy: policy)
        let row = try conn.insertFacialID(
            facialID: facialID, hash: fidHash, subjectID: t.subjectID, enrolledAt: now.secondsSinceEpoch,
            retainUntil: deadline.retainUntil.secondsSinceEpoch, retainRule: deadline.rule, country: t.country, region: t.region)
        try resolveWebhookRecord(conn, env: env, fidHash: fidHash, facialID: facialID, subject: subject, now: now, caller: caller)
        _ = try conn.tombstoneFacialID(row: row, reason: reason, now: now.secondsSinceEpoch, notBefore: now.secondsSinceEpoch)
        // An erased subject keeps no raw Facial ID; the outbox job has its own copy.
        if subject.subject == nil { try conn.eraseFacialIDValues(subjectID: t.subjectID) }
        return true
    }

    /// A Facial ID now recorded for `subject`: a webhook's hold on it is over, and a flag (it was
    /// reported as unauthorized while no ticket was open) is lifted, with an audit entry.
    static func resolveWebhookRecord(
        _ conn: Connection, env: ServiceEnvironment, fidHash: String, facialID: String, subject: SubjectRow, now: Timestamp, caller: Caller
    ) throws {
        guard try conn.resolveUnauthorizedEnrollment(fidHash: fidHash) else { return }
        try AuditTrail.append(
            conn, at: now.secondsSinceEpoch, action: "enrollment.flagCleared", subjectRef: subject.pseudonym, subjectID: subject.id, caller: caller,
            details: ["facialRef": .string(env.pseudonymizer.facialID(facialID))])
    }

    /// Records a Facial ID made under `ticket`, which can no longer be completed, for the ticket's
    /// subject and queues its deletion (`recordForDeletion`), with an `enroll.abandoned` audit
    /// entry. False when the ticket already has a Facial ID.
    static func abandon(
        _ conn: Connection, env: ServiceEnvironment, ticketHash: String, ticket: TicketRow, facialID: String, fidHash: String,
        reason: String, why: String, policy: Policy, now: Timestamp, caller: Caller
    ) throws -> Bool {
        guard let subject = try conn.subject(id: ticket.subjectID),
            try recordForDeletion(
                conn, env: env, ticketHash: ticketHash, ticket: ticket, subject: subject, facialID: facialID, fidHash: fidHash,
                reason: reason, policy: policy, now: now, caller: caller)
        else { return false }
        try AuditTrail.append(
            conn, at: now.secondsSinceEpoch, action: "enroll.abandoned", subjectRef: subject.pseudonym, subjectID: subject.id, caller: caller,
            details: ["facialRef": .string(env.pseudonymizer.facialID(facialID)), "decisionId": .string(ticket.decisionID),
                      "why": .string(why), "deletionQueued": .bool(true)])
        return true
    }

    /// The subject's tickets were just voided (consent revoked, account erased): enrollments
    /// held on them will not be completed, so their deletions are queued now rather than when the
    /// tickets would have expired. Call before listing the subject's deletions.
    static func abandonHeldEnrollments(
        _ conn: Connection, env: ServiceEnvironment, subjectID: Int64, reason: String, policy: Policy, now: Timestamp, caller: Caller
    ) throws {
        for held in try conn.heldEnrollments(ticketsOfSubject: subjectID) {
            guard let ticketHash = held.ticketHash, let ticket = try conn.ticket(hash: ticketHash), ticket.consumedBy == nil else { continue }
            _ = try abandon(
                conn, env: env, ticketHash: ticketHash, ticket: ticket, facialID: held.facialID, fidHash: held.fidHash, reason: reason,
                why: "its ticket was voided (\(reason))", policy: policy, now: now, caller: caller)
        }
    }
}
