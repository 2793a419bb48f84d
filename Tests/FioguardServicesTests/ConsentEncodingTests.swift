import FioguardJSON
import FioguardPolicy
@testable import FioguardServices
import Testing

/// `consent.record`'s templates write the same bytes as their shapes filled with the same values
/// (the bytes that receipts, the history, personal data and the audit trail have always held).
@Suite("Consent encoding")
struct ConsentEncodingTests {
    static let requests: [ConsentRequest] = [
        ConsentRequest(
            subject: "alice", purposes: ["authentication"], noticeVersion: "2026-11", collectionMethod: "checkbox",
            domain: "shop.example", country: "DE", age: 30),
        ConsentRequest(
            subject: "bob \"the, builder\" \\ [x]", purposes: ["authentication", "a,b"], noticeVersion: "v{1}",
            collectionMethod: "signature", domain: "x.example", country: "US", region: "IL", locale: "en-US", birthDate: "2012-05-01",
            guardian: GuardianFacts(relationship: "parent", verificationMethod: "card, last 4", reference: "ref \"7\"")),
        ConsentRequest(
            subject: "ünïcødé 名前", purposes: [], noticeVersion: "n", collectionMethod: "m", domain: "d.example", country: "FR",
            guardian: GuardianFacts(relationship: "guardian", verificationMethod: "id", reference: nil)),
    ]

    static func decision(_ id: String) -> Decision {
        PolicyEngine.decideConsent(
            ConsentFacts(
                purposes: ["authentication"], collectionMethod: "checkbox", noticeVersion: "n", domain: "shop.example",
                jurisdiction: Jurisdiction(country: "DE", region: nil), age: 30, birthDate: nil, guardian: nil),
            policy: Policy.builtInDefault, now: Timestamp(secondsSinceEpoch: 1_800_000_000), decisionId: id)
    }

    static func values(_ r: ConsentRequest, _ i: Int, expires: Timestamp?, deletesWithin: ISODuration) -> [JSON] {
        ConsentService.grantValues(
            r, consentID: "cns_\(i)", now: now, expiresAt: expires, decision: decision("dec_\(i)"),
            caller: Caller(uid: UInt32(i), pid: Int32(100 + i)), deletesWithin: deletesWithin)
    }

    static let now = Timestamp(secondsSinceEpoch: 1_800_000_000)

    @Test func templatesWriteWhatTheirShapesWould() throws {
        typealias V = ConsentService.GrantValue
        for (i, r) in Self.requests.enumerated() {
            let expires: Timestamp? = i == 1 ? nil : Self.now.adding(try #require(ISODuration(iso8601: "P1Y")))
            let values = Self.values(r, i, expires: expires, deletesWithin: i == 0 ? .zero : try #require(ISODuration(iso8601: "P30D")))
            func pick(_ slots: [V]) -> [JSON] { slots.map { values[$0.rawValue] } }
            let grant = ConsentService.encodeGrant(values)

            #expect(grant.receipt.bytes == ConsentService.receiptShape(pick(ConsentService.receiptSlots)).encoded())
            #expect(grant.receipt.value["jurisdiction"]?["country"]?.stringValue == r.country)
            #expect(grant.details == ConsentService.grantDetailsShape(pick(ConsentService.grantDetailsSlots)).encodedString())
            let personal = [JSON.encoded(grant.receipt)] + pick(ConsentService.personalSlots) + (r.guardian != nil ? pick([.guardian]) : [])
            #expect(grant.personal == ConsentService.personalShape(personal).encodedString())
            #expect((try JSON.parse(grant.personal)["guardian"] != nil) == (r.guardian != nil))
            #expect(grant.audit == ConsentService.grantAuditShape(pick(ConsentService.grantAuditSlots)).encodedString())
            #expect(grant.purposes == JSON.strings(r.purposes).encodedString())

            // The answer encoded with the grant, and the one encoded from its fields (an
            // idempotent replay's), write the same bytes.
            let shape = ConsentRecorded.shape(pick(ConsentService.answerSlots) + [.encoded(grant.receipt)]).encoded()
            #expect(grant.answer.bytes == shape)
            for answerReceipt in [JSON.encoded(grant.receipt), grant.receipt.value] {
                let recorded = ConsentRecorded(
                    consentID: "cns_\(i)", subject: r.subject, purposes: r.purposes, recordedAt: Self.now, expiresAt: expires,
                    receipt: answerReceipt)
                #expect(recorded.json.encoded() == shape)
                #expect(recorded.json["receipt"] == grant.receipt.value)
            }
        }
    }

    /// Each key holds its own value: a request whose every field is set and differs from the
    /// others, so that two values swapped between slots cannot go unnoticed.
    @Test func everyKeyHoldsItsValue() throws {
        let r = ConsentRequest(
            subject: "S-subject", purposes: ["P1", "P2"], noticeVersion: "N-notice", collectionMethod: "signature", domain: "D.example",
            country: "US", region: "US-IL", locale: "L-locale", age: 30, birthDate: "1996-01-02",
            guardian: GuardianFacts(relationship: "G-rel", verificationMethod: "G-method", reference: "G-ref"))
        let now = Self.now
        let expires = Timestamp(secondsSinceEpoch: 1_900_000_000)
        let decision = Self.decision("dec_x")
        let caller = Caller(uid: 7, pid: 8)
        let values = ConsentService.grantValues(
            r, consentID: "cns_x", now: now, expiresAt: expires, decision: decision, caller: caller,
            deletesWithin: try #require(ISODuration(iso8601: "P30D")))
        let grant = ConsentService.encodeGrant(values)
        let purposes = JSON.strings(r.purposes)
        let guardian: JSON = ["relationship": "G-rel", "verificationMethod": "G-method", "reference": "G-ref"]
        func check(_ text: String, _ expected: [String: JSON], _ what: String) throws {
            let object = try #require(try JSON.parse(text).objectValue, "\(what)")
            for (key, value) in expected { #expect(object[key] == value, "\(what).\(key)") }
        }
        let receipt = grant.receipt.value
        try check(grant.receipt.text, [
            "receiptId": "cns_x", "subject": "S-subject", "purposes": purposes, "noticeVersion": "N-notice",
            "collectionMethod": "signature", "domain": "D.example", "recordedAt": .string(now.rfc3339),
            "expiresAt": .string(expires.rfc3339), "jurisdiction": ["country": "US", "region": "US-IL"], "guardian": guardian,
            "policyVersion": .string(decision.policyVersion), "decisionId": "dec_x", "recordedBy": .string(caller.description),
        ], "receipt")
        #expect(receipt["withdrawal"]?["method"] == "consent.revoke")
        try check(grant.details, [
            "noticeVersion": "N-notice", "collectionMethod": "signature", "domain": "D.example", "country": "US", "region": "US-IL",
            "ageEvidence": "age", "guardian": true, "expiresAt": .string(expires.rfc3339),
            "policyVersion": .string(decision.policyVersion), "decisionId": "dec_x", "caller": .string(caller.description),
        ], "details")
        try check(grant.personal, ["receipt": receipt, "locale": "L-locale", "age": 30, "birthDate": "1996-01-02", "guardian": guardian], "personal")
        try check(grant.audit, ["consentId": "cns_x", "purposes": purposes, "decisionId": "dec_x", "policyVersion": .string(decision.policyVersion)], "audit")
        try check(grant.answer.text, [
            "consentId": "cns_x", "subject": "S-subject", "purposes": purposes, "recordedAt": .string(now.rfc3339),
            "expiresAt": .string(expires.rfc3339), "receipt": receipt,
        ], "answer")
        #expect(try JSON.parse(grant.purposes) == purposes)
    }

    /// The bytes the daemon wrote before the templates (taken from a database and an answer of
    /// `e74a009`, with this test's values): the shapes keep every key in its place.
    @Test func theBytesAreThoseOfTheEncodingBeforeTemplates() throws {
        let now = Self.now
        let r = Self.requests[0]
        let pv = Self.decision("dec_0").policyVersion
        let grant = ConsentService.encodeGrant(Self.values(r, 0, expires: nil, deletesWithin: .zero))
        let receiptText = #"{"receiptVersion":"fioguard-consent-receipt/1","receiptId":"cns_0","subject":"alice","purposes":["authentication"],"dataCategory":"biometric: facial template held by FACEIO, referenced by a Facial ID","noticeVersion":"2026-11","collectionMethod":"checkbox","domain":"shop.example","recordedAt":"\#(now.rfc3339)","expiresAt":null,"jurisdiction":{"country":"DE","region":null},"guardian":null,"policyVersion":"\#(pv)","decisionId":"dec_0","recordedBy":"uid=0 pid=100","withdrawal":{"method":"consent.revoke","effect":"revoking 'authentication' deletes every Facial ID of the subject at FACEIO at once","deleteFacialId":"facialId.delete","eraseAccount":"subject.erase"}}"#
        #expect(grant.receipt.text == receiptText)
        #expect(
            grant.details
                == #"{"noticeVersion":"2026-11","collectionMethod":"checkbox","domain":"shop.example","country":"DE","region":null,"ageEvidence":"age","guardian":false,"expiresAt":null,"policyVersion":"\#(pv)","decisionId":"dec_0","caller":"uid=0 pid=100"}"#)
        #expect(grant.personal == #"{"receipt":\#(receiptText),"locale":null,"age":30,"birthDate":null}"#)
        #expect(grant.audit == #"{"consentId":"cns_0","purposes":["authentication"],"decisionId":"dec_0","policyVersion":"\#(pv)"}"#)
        #expect(grant.purposes == #"["authentication"]"#)
        let answer = #"{"consentId":"cns_0","subject":"alice","purposes":["authentication"],"recordedAt":"\#(now.rfc3339)","expiresAt":null,"receipt":\#(receiptText)}"#
        #expect(grant.answer.text == answer)
        let recorded = ConsentRecorded(
            consentID: "cns_0", subject: "alice", purposes: r.purposes, recordedAt: now, expiresAt: nil, receipt: .encoded(grant.receipt))
        #expect(String(decoding: recorded.json.encoded(), as: UTF8.self) == answer)
    }
}
