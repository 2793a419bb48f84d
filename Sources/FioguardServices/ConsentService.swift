public import FioguardJSON
public import FioguardPolicy
import FioguardStore
import Synchronization

/// What `consent.record` asks for, already type-checked by the Methods layer.
public struct ConsentRequest: Sendable {
    public var subject: String
    public var purposes: [String]
    public var noticeVersion: String
    public var collectionMethod: String
    public var domain: String
    public var country: String
    public var region: String?
    public var locale: String?
    public var age: Int?
    public var birthDate: String?
    public var guardian: GuardianFacts?
    public var idempotencyKey: String?

    public init(
        subject: String, purposes: [String], noticeVersion: String, collectionMethod: String, domain: String,
        country: String, region: String? = nil, locale: String? = nil, age: Int? = nil, birthDate: String? = nil,
        guardian: GuardianFacts? = nil, idempotencyKey: String? = nil
    ) {
        self.subject = subject
        self.purposes = purposes
        self.noticeVersion = noticeVersion
        self.collectionMethod = collectionMethod
        self.domain = domain
        self.country = country
        self.region = region
        self.locale = locale
        self.age = age
        self.birthDate = birthDate
        self.guardian = guardian
        self.idempotencyKey = idempotencyKey
    }

    /// The params that define "the same request" for idempotency (everything but the key).
    var canonical: JSON {
        var g: JSON = .null
        if let guardian {
            g = ["relationship": .string(guardian.relationship), "verificationMethod": .string(guardian.verificationMethod), "reference": .string(guardian.reference)]
        }
        return [
            "subject": .string(subject), "purposes": .strings(purposes), "noticeVersion": .string(noticeVersion),
            "collectionMethod": .string(collectionMethod), "domain": .string(domain), "country": .string(country),
            "region": .string(region), "locale": .string(locale), "age": age.map(JSON.int) ?? .null,
            "birthDate": .string(birthDate), "guardian": g,
        ]
    }
}

/// The answer to `consent.record`.
public struct ConsentRecorded: Sendable {
    public let consentID: String
    public let subject: String
    public let purposes: [String]
    public let recordedAt: Timestamp
    public let expiresAt: Timestamp?
    public let receipt: JSON
    /// `json`, when `record` encoded it with the rest of the grant.
    private let encoded: EncodedJSON?

    init(
        consentID: String, subject: String, purposes: [String], recordedAt: Timestamp, expiresAt: Timestamp?, receipt: JSON,
        encoded: EncodedJSON? = nil
    ) {
        self.consentID = consentID
        self.subject = subject
        self.purposes = purposes
        self.recordedAt = recordedAt
        self.expiresAt = expiresAt
        self.receipt = receipt
        self.encoded = encoded
    }

    public var json: JSON {
        .encoded(encoded ?? Self.template.filled(Self.values(self)))
    }

    /// `json`'s shape; `v` holds its values in the order they appear.
    static func shape(_ v: [JSON]) -> JSON {
        ["consentId": v[0], "subject": v[1], "purposes": v[2], "recordedAt": v[3], "expiresAt": v[4], "receipt": v[5]]
    }

    static func values(_ r: ConsentRecorded) -> [JSON] {
        [.string(r.consentID), .string(r.subject), .strings(r.purposes), .string(r.recordedAt.rfc3339), .string(r.expiresAt?.rfc3339), r.receipt]
    }

    static let template = JSONTemplate(shape(JSONTemplate.holes(count: 6)))
}

/// Consent: record (append-only history + projection of what is active), revoke, status.
public struct ConsentService: Sendable {
    let env: ServiceEnvironment

    public init(_ env: ServiceEnvironment) { self.env = env }

    public func record(_ request: ConsentRequest, caller: Caller) async throws -> ConsentRecorded {
        let now = env.now()
        let policy = env.policy.current
        let jurisdiction = Jurisdiction(country: request.country, region: request.region)
        var birthDate: CivilDate?
        if let text = request.birthDate {
            guard let d = CivilDate(iso: text) else { throw ServiceError.invalid("params.birthDate", "expected a date YYYY-MM-DD") }
            guard d.age(at: now) >= 0 else { throw ServiceError.invalid("params.birthDate", "is in the future") }
            // The bound `age` has (0–150): a birth date such as 0000-01-01 is a careless default.
            guard d.age(at: now) <= 150 else { throw ServiceError.invalid("params.birthDate", "is more than 150 years ago") }
            birthDate = d
        }
        let facts = ConsentFacts(
            purposes: request.purposes, collectionMethod: request.collectionMethod, noticeVersion: request.noticeVersion,
            domain: request.domain, jurisdiction: jurisdiction, age: request.age, birthDate: birthDate, guardian: request.guardian)
        let decision = PolicyEngine.decideConsent(facts, policy: policy, now: now, decisionId: Identifiers.decision())
        // Only a request with a key is ever compared with an earlier one.
        let requestHash = request.idempotencyKey == nil ? "" : Hex.sha256(request.canonical.encodedString())
        let subjectRef = env.pseudonymizer.subject(request.subject)
        let idempotencyKey = request.idempotencyKey.map { env.pseudonymizer.lookupHash("idempotency", $0) }
        let expiresAt = PolicyEngine.consentExpiry(recordedAt: now, jurisdiction: jurisdiction, policy: policy)

        // Everything that needs no database is prepared here, so the single writer thread only
        // runs SQL (encoding a receipt costs more than inserting its rows).
        let at = now.secondsSinceEpoch
        let consentID = Identifiers.consent()
        // Each piece of JSON is a template filled with this record's values, all encoded at once
        // (see ConsentService+Encoding.swift). The receipt is stored in consent_personal and sent
        // in the answer as the same bytes. A denial needs none of it.
        let deniedDetails = decision.allow ? "" : JSON.object(JSONObject([
            ("decisionId", .string(decision.decisionId)), ("policyVersion", .string(decision.policyVersion)),
            ("failed", .strings(decision.reasons.filter { !$0.passed }.map(\.code))),
        ])).encodedString()
        let grant = !decision.allow ? nil : Self.encodeGrant(Self.grantValues(
            request, consentID: consentID, now: now, expiresAt: expiresAt, decision: decision, caller: caller,
            deletesWithin: PolicyEngine.revocationDelay(jurisdiction: jurisdiction, policy: policy)))
        let recorded = grant.map {
            ConsentRecorded(
                consentID: consentID, subject: request.subject, purposes: request.purposes, recordedAt: now, expiresAt: expiresAt,
                receipt: .encoded($0.receipt), encoded: $0.answer)
        }

        enum Outcome: Sendable { case recorded(ConsentRecorded), denied }
        let outcome = try await env.database.write { conn -> Outcome in
            if let key = idempotencyKey, let entry = try conn.idempotencyEntry(key: key) {
                guard entry.requestHash == requestHash else {
                    throw ServiceError.conflict("idempotencyKey was already used with different params")
                }
                return .recorded(try Self.load(conn, consentID: entry.consentID, subject: request.subject))
            }
            guard let grant, let recorded else {
                try AuditTrail.append(
                    conn, at: at, action: "consent.denied", subjectRef: subjectRef, caller: caller, encodedDetails: deniedDetails)
                return .denied
            }
            let subjectID = try conn.upsertSubject(request.subject, pseudonym: subjectRef, now: at)
            let grantEvent = try conn.appendConsentEvent(
                subjectID: subjectID, consentID: consentID, kind: "granted", purposes: grant.purposes, at: at, details: grant.details)
            try conn.setPersonalConsentData(grantEvent: grantEvent, data: grant.personal)
            for purpose in request.purposes {
                try conn.setActiveConsent(
                    subjectID: subjectID, purpose: purpose, consentID: consentID, grantedAt: at, expiresAt: expiresAt?.secondsSinceEpoch)
            }
            if let key = idempotencyKey {
                try conn.setIdempotencyEntry(key: key, subjectID: subjectID, requestHash: requestHash, consentID: consentID)
            }
            try AuditTrail.append(
                conn, at: at, action: "consent.recorded", subjectRef: subjectRef, subjectID: subjectID, caller: caller,
                encodedDetails: grant.audit)
            return .recorded(recorded)
        }
        switch outcome {
        case .recorded(let r): return r
        case .denied: throw ServiceError(.policyDenied, "consent refused by policy", decision: decision)
        }
    }

    /// Rebuilds the result of an earlier `consent.record` (idempotent replay).
    static func load(_ conn: Connection, consentID: String, subject: String) throws -> ConsentRecorded {
        guard let grant = try conn.grantEvent(consentID: consentID),
              let personal = try conn.personalConsentData(consentID: consentID).flatMap({ try? JSON.parse($0) })
        else { throw ServiceError.conflict("idempotencyKey refers to a consent that no longer exists") }
        let details = (try? JSON.parse(grant.details)) ?? .null
        let purposes = ((try? JSON.parse(grant.purposes))?.arrayValue ?? []).compactMap(\.stringValue)
        return ConsentRecorded(
            consentID: consentID, subject: subject, purposes: purposes, recordedAt: Timestamp(secondsSinceEpoch: grant.at),
            expiresAt: details["expiresAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)), receipt: personal["receipt"] ?? .null)
    }

    /// How to withdraw, and by when withdrawing deletes the Facial IDs: one encoding per deadline
    /// (the policy's `retention.deleteAfterRevocation` or a profile's cap, so only a few).
    static func withdrawal(deletesWithin delay: ISODuration) -> JSON {
        if let known = withdrawals.withLock({ $0[delay] }) { return known }
        let when = delay == .zero ? "at once" : "within \(delay.plainText)"
        let encoded = JSON.encoded(EncodedJSON([
            "method": "consent.revoke",
            "effect": .string("revoking 'authentication' deletes every Facial ID of the subject at FACEIO \(when)"),
            "deleteFacialId": "facialId.delete",
            "eraseAccount": "subject.erase",
        ]))
        withdrawals.withLock { $0[delay] = encoded }
        return encoded
    }

    private static let withdrawals = Mutex<[ISODuration: JSON]>([:])

    // MARK: revoke

    /// The answer to `consent.revoke`.
    public struct Revoked: Sendable {
        public var revokedAt: Timestamp
        public var revoked: [String]
        public var deletions: [Deletion]

        public var json: JSON {
            ["revokedAt": .string(revokedAt.rfc3339), "revoked": .strings(revoked), "deletions": .array(deletions.map(\.json))]
        }
    }

    public func revoke(subject: String, purposes: [String]?, reason: String?, caller: Caller) async throws -> Revoked {
        let now = env.now()
        let policy = env.policy.current
        let subjectRef = env.pseudonymizer.subject(subject)
        return try await env.database.write { conn in
            guard let subjectID = try conn.subjectID(named: subject) else { throw ServiceError.notFound("unknown subject") }
            let active = try conn.activeConsents(subjectID: subjectID)
            let wanted = Set(purposes ?? active.map(\.purpose))
            let revoking = active.filter { wanted.contains($0.purpose) }
            try Self.revoke(
                conn, subjectID: subjectID, rows: revoking, kind: "revoked", reason: "revoked by the subject", callerReason: reason, now: now)
            let revokedPurposes = revoking.map(\.purpose)
            var deletions: [Deletion] = []
            if revokedPurposes.contains("authentication") {
                try conn.voidTickets(subjectID: subjectID, now: now.secondsSinceEpoch)
                try EnrollmentService.abandonHeldEnrollments(
                    conn, env: env, subjectID: subjectID, reason: "consent_revoked", policy: policy, now: now, caller: caller)
                deletions = try FacialIDService.tombstoneAll(
                    conn, subjectID: subjectID, reason: "consent_revoked", now: now,
                    notBefore: { FacialIDService.revocationDeadline($0, revokedAt: now, policy: policy) })
            }
            try AuditTrail.append(
                conn, at: now.secondsSinceEpoch, action: "consent.revoked", subjectRef: subjectRef, subjectID: subjectID, caller: caller,
                details: ["purposes": .strings(revokedPurposes), "deletionsQueued": .int(deletions.count)])
            return Revoked(revokedAt: now, revoked: revokedPurposes, deletions: deletions)
        }
    }

    /// Ends the given active purposes: one history event per consent, projection rows removed.
    /// `reason` is fioguard's own words, kept in the append-only history. `callerReason`, the
    /// caller's free text, may name a person ("Max phoned us"): it is kept with the consent's
    /// personal data, which erasure removes, and the history only notes that one was given.
    static func revoke(
        _ conn: Connection, subjectID: Int64, rows: [ConsentStateRow], kind: String, reason: String, callerReason: String? = nil,
        now: Timestamp
    ) throws {
        var byConsent: [String: [String]] = [:]
        var order: [String] = []
        for r in rows {
            if byConsent[r.consentID] == nil { order.append(r.consentID) }
            byConsent[r.consentID, default: []].append(r.purpose)
            try conn.removeActiveConsent(subjectID: subjectID, purpose: r.purpose)
        }
        for id in order {
            var details = JSONObject([("reason", .string(String(reason.prefix(256))))])
            if let callerReason {
                details["reasonGiven"] = true
                if let text = try conn.personalConsentData(consentID: id), case .object(var personal)? = try? JSON.parse(text) {
                    var reasons = personal["revocationReasons"]?.objectValue ?? JSONObject()
                    reasons[Self.revocationKey(at: now.secondsSinceEpoch, purposes: byConsent[id]!)] = .string(String(callerReason.prefix(256)))
                    personal["revocationReasons"] = .object(reasons)
                    try conn.updatePersonalConsentData(consentID: id, data: JSON.object(personal).encodedString())
                }
            }
            try conn.appendConsentEvent(
                subjectID: subjectID, consentID: id, kind: kind, purposes: JSON.strings(byConsent[id]!).encodedString(),
                at: now.secondsSinceEpoch, details: JSON.object(details).encodedString())
        }
    }

    /// Which revocation event a reason kept with the personal data belongs to: the time and the
    /// purposes (two revocations of one consent in the same second end different purposes).
    static func revocationKey(at: Int64, purposes: [String]) -> String {
        "\(at) " + purposes.joined(separator: ",")
    }

    // MARK: status

    public func status(subject: String) async throws -> JSON {
        try await env.database.read { conn in
            guard let subjectID = try conn.subjectID(named: subject) else { throw ServiceError.notFound("unknown subject") }
            let active = try conn.activeConsents(subjectID: subjectID)
            let events = try conn.consentEvents(subjectID: subjectID)
            var grants: [String: ConsentEventRow] = [:]
            for e in events where e.kind == "granted" { grants[e.consentID] = e }
            var activeByConsent: [(String, [String], ConsentStateRow)] = []
            for a in active {
                if let i = activeByConsent.firstIndex(where: { $0.0 == a.consentID }) {
                    activeByConsent[i].1.append(a.purpose)
                } else {
                    activeByConsent.append((a.consentID, [a.purpose], a))
                }
            }
            let activeJSON: [JSON] = activeByConsent.map { id, purposes, state in
                let details = grants[id].flatMap { try? JSON.parse($0.details) } ?? .null
                return [
                    "consentId": .string(id), "purposes": .strings(purposes),
                    "recordedAt": .string(Timestamp(secondsSinceEpoch: state.grantedAt).rfc3339),
                    "expiresAt": .string(state.expiresAt.map { Timestamp(secondsSinceEpoch: $0).rfc3339 }),
                    "noticeVersion": details["noticeVersion"] ?? .null, "collectionMethod": details["collectionMethod"] ?? .null,
                    "domain": details["domain"] ?? .null, "country": details["country"] ?? .null, "region": details["region"] ?? .null,
                ]
            }
            let history: [JSON] = try events.map { e in
                var details = (try? JSON.parse(e.details)) ?? .null
                // A grant's personal evidence (until erased) is shown with it.
                if e.kind == "granted", case .object(var d) = details,
                   let personal = try conn.personalConsentData(consentID: e.consentID).flatMap({ try? JSON.parse($0) }) {
                    for key in ["locale", "age", "birthDate"] { d[key] = personal[key] ?? .null }
                    d["guardianEvidence"] = personal["guardian"] ?? .null
                    details = .object(d)
                }
                // A revocation's reason in the caller's words (until erased) is shown with it.
                if e.kind == "revoked", case .object(var d) = details, d["reasonGiven"] == true,
                   let personal = try conn.personalConsentData(consentID: e.consentID).flatMap({ try? JSON.parse($0) }),
                   let purposes = (try? JSON.parse(e.purposes))?.arrayValue?.compactMap(\.stringValue),
                   let given = personal["revocationReasons"]?[Self.revocationKey(at: e.at, purposes: purposes)] {
                    d["reason"] = given
                    details = .object(d)
                }
                return [
                    "event": .string(e.kind), "consentId": .string(e.consentID),
                    "purposes": (try? JSON.parse(e.purposes)) ?? .array([]),
                    "at": .string(Timestamp(secondsSinceEpoch: e.at).rfc3339),
                    "details": details,
                ]
            }
            return ["subject": .string(subject), "active": .array(activeJSON), "history": .array(history)]
        }
    }

    /// The subject's consent covering `authentication`, as the policy engine wants it.
    static func activeAuthenticationConsent(_ conn: Connection, subjectID: Int64) throws -> ActiveConsent? {
        let active = try conn.activeConsents(subjectID: subjectID)
        guard let auth = active.first(where: { $0.purpose == "authentication" }),
              let grant = try conn.grantEvent(consentID: auth.consentID)
        else { return nil }
        let details = (try? JSON.parse(grant.details)) ?? .null
        let personal = try conn.personalConsentData(consentID: auth.consentID).flatMap { try? JSON.parse($0) } ?? .null
        return ActiveConsent(
            purposes: active.filter { $0.consentID == auth.consentID }.map(\.purpose),
            collectionMethod: details["collectionMethod"]?.stringValue ?? "",
            recordedAt: Timestamp(secondsSinceEpoch: auth.grantedAt),
            jurisdiction: Jurisdiction(country: details["country"]?.stringValue ?? "", region: details["region"]?.stringValue),
            age: personal["age"]?.intValue.map(Int.init),
            birthDate: personal["birthDate"]?.stringValue.flatMap(CivilDate.init(iso:)),
            hasGuardianConsent: personal["guardian"].map { !$0.isNull } ?? false)
    }
}
