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

    @Test func templatesWriteWhatTheirShapesWould() throws {
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        for (i, r) in Self.requests.enumerated() {
            let decision = Self.decision("dec_\(i)")
            let expires: Timestamp? = i == 1 ? nil : now.adding(try #require(ISODuration(iso8601: "P1Y")))
            let caller = Caller(uid: UInt32(i), pid: Int32(100 + i))
            let receiptValues = ConsentService.receiptValues(
                r, consentID: "cns_\(i)", now: now, expiresAt: expires, decision: decision, caller: caller,
                deletesWithin: i == 0 ? .zero : try #require(ISODuration(iso8601: "P30D")))
            let receipt = ConsentService.receiptTemplate.filled(receiptValues)
            #expect(receipt.bytes == ConsentService.receiptShape(receiptValues).encoded())
            #expect(receipt.value["jurisdiction"]?["country"]?.stringValue == r.country)

            let details = ConsentService.grantDetailsValues(r, expiresAt: expires, decision: decision, caller: caller)
            #expect(ConsentService.grantDetailsTemplate.filled(details).bytes == ConsentService.grantDetailsShape(details).encoded())

            let personal = ConsentService.personalValues(r, receipt: .encoded(receipt))
            let filled = ConsentService.personalTemplate(guardian: r.guardian != nil).filled(personal)
            #expect(filled.bytes == ConsentService.personalShape(personal).encoded())
            #expect((filled.value["guardian"] != nil) == (r.guardian != nil))

            let audit = ConsentService.grantAuditValues(consentID: "cns_\(i)", purposes: r.purposes, decision: decision)
            #expect(ConsentService.grantAuditTemplate.filled(audit).bytes == ConsentService.grantAuditShape(audit).encoded())

            for answerReceipt in [JSON.encoded(receipt), receipt.value] {
                let recorded = ConsentRecorded(
                    consentID: "cns_\(i)", subject: r.subject, purposes: r.purposes, recordedAt: now, expiresAt: expires,
                    receipt: answerReceipt)
                #expect(recorded.json.encoded() == ConsentRecorded.shape(ConsentRecorded.values(recorded)).encoded())
                #expect(recorded.json["receipt"] == receipt.value)
            }
        }
    }

    /// The bytes the daemon wrote before the templates (taken from a database and an answer of
    /// `e74a009`, with this test's values): the shapes keep every key in its place.
    @Test func theBytesAreThoseOfTheEncodingBeforeTemplates() throws {
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let r = Self.requests[0]
        let decision = Self.decision("dec_0")
        let caller = Caller(uid: 0, pid: 100)
        let pv = decision.policyVersion
        let receipt = ConsentService.receiptTemplate.filled(
            ConsentService.receiptValues(r, consentID: "cns_0", now: now, expiresAt: nil, decision: decision, caller: caller, deletesWithin: .zero))
        let receiptText = #"{"receiptVersion":"fioguard-consent-receipt/1","receiptId":"cns_0","subject":"alice","purposes":["authentication"],"dataCategory":"biometric: facial template held by FACEIO, referenced by a Facial ID","noticeVersion":"2026-11","collectionMethod":"checkbox","domain":"shop.example","recordedAt":"\#(now.rfc3339)","expiresAt":null,"jurisdiction":{"country":"DE","region":null},"guardian":null,"policyVersion":"\#(pv)","decisionId":"dec_0","recordedBy":"uid=0 pid=100","withdrawal":{"method":"consent.revoke","effect":"revoking 'authentication' deletes every Facial ID of the subject at FACEIO at once","deleteFacialId":"facialId.delete","eraseAccount":"subject.erase"}}"#
        #expect(receipt.text == receiptText)
        #expect(
            ConsentService.grantDetailsTemplate.filled(ConsentService.grantDetailsValues(r, expiresAt: nil, decision: decision, caller: caller)).text
                == #"{"noticeVersion":"2026-11","collectionMethod":"checkbox","domain":"shop.example","country":"DE","region":null,"ageEvidence":"age","guardian":false,"expiresAt":null,"policyVersion":"\#(pv)","decisionId":"dec_0","caller":"uid=0 pid=100"}"#)
        #expect(
            ConsentService.personalTemplate(guardian: false).filled(ConsentService.personalValues(r, receipt: .encoded(receipt))).text
                == #"{"receipt":\#(receiptText),"locale":null,"age":30,"birthDate":null}"#)
        #expect(
            ConsentService.grantAuditTemplate.filled(ConsentService.grantAuditValues(consentID: "cns_0", purposes: r.purposes, decision: decision)).text
                == #"{"consentId":"cns_0","purposes":["authentication"],"decisionId":"dec_0","policyVersion":"\#(pv)"}"#)
        let recorded = ConsentRecorded(
            consentID: "cns_0", subject: "alice", purposes: r.purposes, recordedAt: now, expiresAt: nil, receipt: .encoded(receipt))
        #expect(
            String(decoding: recorded.json.encoded(), as: UTF8.self)
                == #"{"consentId":"cns_0","subject":"alice","purposes":["authentication"],"recordedAt":"\#(now.rfc3339)","expiresAt":null,"receipt":\#(receiptText)}"#)
    }
}
