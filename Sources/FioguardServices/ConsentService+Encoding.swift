import FioguardJSON
import FioguardPolicy

/// The JSON `consent.record` stores and answers, as templates: each shape is encoded by jansson
/// once, with holes. Each record encodes its values once, in one jansson array (see
/// `JSON.encodedEach`), and every template takes its pieces from there: most values appear in
/// two or three of them (the consent id, purposes, decision and policy version, dates, caller).
/// Encoding whole objects spent most of its time on their keys and their hash tables: about 70
/// instructions per byte of every string, each key included, and more per object. Each `…Shape`
/// function lays out the values in the order it is given them, so a filled template has the
/// same bytes as the shape filled with the values (`ConsentEncodingTests`).
extension ConsentService {
    /// The values of one grant, each encoded once for all the templates.
    enum GrantValue: Int, CaseIterable {
        case consentID, subject, purposes, noticeVersion, collectionMethod, domain, recordedAt, expiresAt, country, region
        case guardian, policyVersion, decisionID, caller, withdrawal, locale, age, birthDate, ageEvidence, guardianGiven
    }

    /// A grant's values, indexed by `GrantValue`.
    static func grantValues(
        _ r: ConsentRequest, consentID: String, now: Timestamp, expiresAt: Timestamp?, decision: Decision, caller: Caller,
        deletesWithin: ISODuration
    ) -> [JSON] {
        let values: [JSON] = [
            .string(consentID), .string(r.subject), .strings(r.purposes), .string(r.noticeVersion), .string(r.collectionMethod),
            .string(r.domain), .string(now.rfc3339), .string(expiresAt?.rfc3339), .string(r.country), .string(r.region),
            guardianJSON(r.guardian), .string(decision.policyVersion), .string(decision.decisionId), .string(caller.description),
            withdrawal(deletesWithin: deletesWithin), .string(r.locale), r.age.map(JSON.int) ?? .null, .string(r.birthDate),
            .string(r.age != nil ? "age" : r.birthDate != nil ? "birthDate" : "none"), .bool(r.guardian != nil),
        ]
        assert(values.count == GrantValue.allCases.count)
        return values
    }

    /// Everything `consent.record` writes and answers for one grant.
    struct GrantEncoding {
        /// The consent receipt: in the personal data and in the answer, the same bytes.
        var receipt: EncodedJSON
        /// `consent_events.details`.
        var details: String
        /// `consent_personal.data`.
        var personal: String
        /// The audit entry's details.
        var audit: String
        /// `consent_events.purposes`.
        var purposes: String
        /// The answer (`ConsentRecorded.json`).
        var answer: EncodedJSON
    }

    /// One jansson encoding of `values` (from `grantValues`), cut and spliced into every template.
    static func encodeGrant(_ values: [JSON]) -> GrantEncoding {
        let pieces = JSON.encodedEach(values)
        func fill(_ template: JSONTemplate, _ slots: [GrantValue]) -> EncodedJSON {
            template.filled(encoded: slots.map { pieces[$0.rawValue] })
        }
        let receipt = fill(receiptTemplate, receiptSlots)
        let guardian = values[GrantValue.guardianGiven.rawValue] == .bool(true)
        var personal = personalSlots.map { pieces[$0.rawValue] }
        personal.insert(receipt.bytes[...], at: 0)
        if guardian { personal.append(pieces[GrantValue.guardian.rawValue]) }
        var answer = answerSlots.map { pieces[$0.rawValue] }
        answer.append(receipt.bytes[...])
        return GrantEncoding(
            receipt: receipt, details: fill(grantDetailsTemplate, grantDetailsSlots).text,
            personal: personalTemplate(guardian: guardian).filled(encoded: personal).text,
            audit: fill(grantAuditTemplate, grantAuditSlots).text,
            purposes: String(decoding: pieces[GrantValue.purposes.rawValue], as: UTF8.self),
            answer: ConsentRecorded.template.filled(encoded: answer))
    }

    /// A consent receipt: who, what, which notice, how, where, when, jurisdiction, how to withdraw.
    static func receiptShape(_ v: [JSON]) -> JSON {
        [
            "receiptVersion": receiptVersion,
            "receiptId": v[0],
            "subject": v[1],
            "purposes": v[2],
            "dataCategory": dataCategory,
            "noticeVersion": v[3],
            "collectionMethod": v[4],
            "domain": v[5],
            "recordedAt": v[6],
            "expiresAt": v[7],
            "jurisdiction": ["country": v[8], "region": v[9]],
            "guardian": v[10],
            "policyVersion": v[11],
            "decisionId": v[12],
            "recordedBy": v[13],
            "withdrawal": v[14],
        ]
    }

    static let receiptSlots: [GrantValue] = [
        .consentID, .subject, .purposes, .noticeVersion, .collectionMethod, .domain, .recordedAt, .expiresAt, .country, .region,
        .guardian, .policyVersion, .decisionID, .caller, .withdrawal,
    ]
    static let receiptTemplate = JSONTemplate(receiptShape(JSONTemplate.holes(count: 15)))

    // The receipt's constant parts: their bytes are part of every receipt ever issued.
    static let receiptVersion: JSON = "fioguard-consent-receipt/1"
    static let dataCategory: JSON = "biometric: facial template held by FACEIO, referenced by a Facial ID"

    /// The grant's entry in the append-only history (`consent_events.details`). Which evidence
    /// was given, not its value: values (age, birth date, locale, the guardian's details) are
    /// personal, kept in consent_personal and erased with the subject.
    static func grantDetailsShape(_ v: [JSON]) -> JSON {
        [
            "noticeVersion": v[0], "collectionMethod": v[1], "domain": v[2], "country": v[3], "region": v[4],
            "ageEvidence": v[5], "guardian": v[6], "expiresAt": v[7], "policyVersion": v[8], "decisionId": v[9],
            "caller": v[10],
        ]
    }

    static let grantDetailsSlots: [GrantValue] = [
        .noticeVersion, .collectionMethod, .domain, .country, .region, .ageEvidence, .guardianGiven, .expiresAt, .policyVersion,
        .decisionID, .caller,
    ]
    static let grantDetailsTemplate = JSONTemplate(grantDetailsShape(JSONTemplate.holes(count: 11)))

    /// The grant's personal part (`consent_personal.data`): the receipt, locale, age, birth date
    /// and, when one was given, the guardian's details.
    static func personalShape(_ v: [JSON]) -> JSON {
        var o = JSONObject([("receipt", v[0]), ("locale", v[1]), ("age", v[2]), ("birthDate", v[3])])
        if v.count > 4 { o["guardian"] = v[4] }
        return .object(o)
    }

    /// After the receipt; then the guardian, when one was given.
    static let personalSlots: [GrantValue] = [.locale, .age, .birthDate]
    static func personalTemplate(guardian: Bool) -> JSONTemplate { guardian ? personalWithGuardian : personalWithoutGuardian }
    private static let personalWithoutGuardian = JSONTemplate(personalShape(JSONTemplate.holes(count: 4)))
    private static let personalWithGuardian = JSONTemplate(personalShape(JSONTemplate.holes(count: 5)))

    /// The grant's audit entry details.
    static func grantAuditShape(_ v: [JSON]) -> JSON {
        ["consentId": v[0], "purposes": v[1], "decisionId": v[2], "policyVersion": v[3]]
    }

    static let grantAuditSlots: [GrantValue] = [.consentID, .purposes, .decisionID, .policyVersion]
    static let grantAuditTemplate = JSONTemplate(grantAuditShape(JSONTemplate.holes(count: 4)))

    /// The answer's values before the receipt (see `ConsentRecorded.shape`).
    static let answerSlots: [GrantValue] = [.consentID, .subject, .purposes, .recordedAt, .expiresAt]

    static func guardianJSON(_ g: GuardianFacts?) -> JSON {
        guard let g else { return .null }
        return ["relationship": .string(g.relationship), "verificationMethod": .string(g.verificationMethod), "reference": .string(g.reference)]
    }
}
