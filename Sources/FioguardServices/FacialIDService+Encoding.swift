import FioguardJSON
import FioguardPolicy
import FioguardStore

/// `facialId.show`'s answer, as templates (like `consent.record`'s, see
/// ConsentService+Encoding.swift): the shapes are encoded once with holes, and each answer encodes
/// its values in one jansson array, cut apart and spliced into them. Encoding the answer as a tree
/// cost its keys, objects and hash tables on every call: about 550 instructions per member and
/// 1,400 per object. Each `…Shape` function lays out the values in the order it is given them, so
/// the answer has the same bytes as the shapes filled with the values (`FacialIDEncodingTests`).
extension FacialIDService {
    static func showShape(_ v: [JSON]) -> JSON {
        ["subject": v[0], "facialIds": v[1], "consent": v[2], "rights": v[3]]
    }

    static let showTemplate = JSONTemplate(showShape(JSONTemplate.holes(count: 4)))

    /// One Facial ID; `v[6]` is its deletion (`deletionShape`) or null.
    static func facialIDShape(_ v: [JSON]) -> JSON {
        [
            "facialId": v[0], "status": v[1], "enrolledAt": v[2], "lastAuthenticatedAt": v[3], "retainUntil": v[4],
            "retentionRule": v[5], "deletion": v[6],
        ]
    }

    static func facialIDValues(_ f: FacialIDRow) -> [JSON] {
        let status = f.status == "deleting" && Deletion(f).status == "deleted" ? "deleted" : f.status
        return [
            .string(f.facialID), .string(status), .string(Timestamp(secondsSinceEpoch: f.enrolledAt).rfc3339),
            .string(f.lastAuthenticatedAt.map { Timestamp(secondsSinceEpoch: $0).rfc3339 }),
            f.status == "active" ? .string(Timestamp(secondsSinceEpoch: f.retainUntil).rfc3339) : .null, .string(f.retainRule),
        ]
    }

    static let facialIDTemplate = JSONTemplate(facialIDShape(JSONTemplate.holes(count: 7)))

    static func deletionShape(_ v: [JSON]) -> JSON {
        ["status": v[0], "reason": v[1], "requestedAt": v[2], "completedAt": v[3], "attempts": v[4], "lastError": v[5]]
    }

    static func deletionValues(_ f: FacialIDRow, _ d: DeletionJobRow) -> [JSON] {
        [
            .string(Deletion(f).status), .string(d.reason), .string(Timestamp(secondsSinceEpoch: d.requestedAt).rfc3339),
            .string(d.completedAt.map { Timestamp(secondsSinceEpoch: $0).rfc3339 }), .int(d.attempts), .string(d.lastError),
        ]
    }

    static let deletionTemplate = JSONTemplate(deletionShape(JSONTemplate.holes(count: 6)))

    /// The consent in force: the first active purpose's consent, and every active purpose.
    static func consentShape(_ v: [JSON]) -> JSON {
        ["consentId": v[0], "purposes": v[1], "recordedAt": v[2], "expiresAt": v[3]]
    }

    static func consentValues(_ active: [ConsentStateRow]) -> [JSON]? {
        guard let first = active.first else { return nil }
        let expires = first.expiresAt
        return [
            .string(first.consentID), .strings(active.map(\.purpose)), .string(Timestamp(secondsSinceEpoch: first.grantedAt).rfc3339),
            .string(expires.map { Timestamp(secondsSinceEpoch: $0).rfc3339 }),
        ]
    }

    static let consentTemplate = JSONTemplate(consentShape(JSONTemplate.holes(count: 4)))

    /// `null` as jansson writes it, for a missing deletion or consent.
    static let null = JSON.null.encoded()

    /// The answer to `facialId.show`, from one encoding of all its values.
    static func showAnswer(subject: String, ids: [FacialIDRow], active: [ConsentStateRow], rights: JSON) -> EncodedJSON {
        let consent = consentValues(active)
        var values: [JSON] = [.string(subject), rights]
        values.reserveCapacity(2 + ids.count * 12 + 4)
        for f in ids {
            values += facialIDValues(f)
            if let d = f.deletion { values += deletionValues(f, d) }
        }
        if let consent { values += consent }
        let pieces = JSON.encodedEach(values)
        var next = 2
        func take(_ count: Int) -> [ArraySlice<UInt8>] {
            defer { next += count }
            return Array(pieces[next..<next + count])
        }
        var facialIDs: [[UInt8]] = []
        facialIDs.reserveCapacity(ids.count)
        for f in ids {
            var own = take(6)
            own.append(f.deletion == nil ? null[...] : deletionTemplate.filled(encoded: take(6)).bytes[...])
            facialIDs.append(facialIDTemplate.filled(encoded: own).bytes)
        }
        let consentBytes = consent == nil ? null : consentTemplate.filled(encoded: take(4)).bytes
        return showTemplate.filled(encoded: [
            pieces[0], EncodedJSON(arrayOfEncoded: facialIDs).bytes[...], consentBytes[...], pieces[1],
        ])
    }
}
