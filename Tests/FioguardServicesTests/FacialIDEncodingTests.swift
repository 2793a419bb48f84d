@testable import FioguardServices
import FioguardJSON
import FioguardPolicy
@testable import FioguardStore
import Testing

/// `facialId.show`'s templates write the same bytes as its shapes filled with the same values,
/// which are the answer's keys in the order the answer has always had them.
@Suite("facialId.show encoding")
struct FacialIDEncodingTests {
    static func row(
        _ id: Int64, _ facialID: String?, status: String, lastAuth: Int64? = nil, deletion: DeletionJobRow? = nil
    ) -> FacialIDRow {
        FacialIDRow(
            id: id, facialID: facialID, subjectID: 1, status: status, enrolledAt: 1_790_000_000 + id, lastAuthenticatedAt: lastAuth,
            retainUntil: 1_890_000_000, retainRule: "retention.maxSinceEnrollment", country: "US", region: "US-IL",
            deletedAt: nil, deletion: deletion)
    }

    static func job(_ row: Int64, status: String, completed: Int64? = nil, error: String? = nil) -> DeletionJobRow {
        DeletionJobRow(
            id: row, facialRow: row, facialID: "fid-\(row)", status: status, reason: "user_request", requestedAt: 1_795_000_000,
            nextAttemptAt: 1_795_000_000, attempts: 2, lastError: error, completedAt: completed)
    }

    static let rows: [[FacialIDRow]] = [
        [],
        [row(1, "fid \"one\", [x]", status: "active")],
        [
            row(1, "fid-1", status: "active", lastAuth: 1_791_000_000),
            row(2, "fid-2", status: "deleting", deletion: job(2, status: "pending", error: "FACEIO said: \"no\"\n")),
            row(3, nil, status: "deleted", deletion: job(3, status: "done", completed: 1_796_000_000)),
            row(4, "fid-4", status: "deleting", deletion: job(4, status: "done", completed: 1_796_000_000)),
            row(5, "fid-5", status: "deleting", deletion: job(5, status: "failed", error: "refused")),
        ],
    ]

    static let consents: [[ConsentStateRow]] = [
        [],
        [ConsentStateRow(purpose: "authentication", consentID: "cns_1", grantedAt: 1_790_000_000, expiresAt: nil)],
        [
            ConsentStateRow(purpose: "authentication", consentID: "cns_1", grantedAt: 1_790_000_000, expiresAt: 1_890_000_000),
            ConsentStateRow(purpose: "a,b \"c\"", consentID: "cns_1", grantedAt: 1_790_000_000, expiresAt: 1_890_000_000),
        ],
    ]

    @Test func theAnswerIsItsShapesFilled() throws {
        let rights = JSON.encoded(EncodedJSON(["revokeConsent": ["method": "consent.revoke"], "n": 1]))
        for ids in Self.rows {
            for active in Self.consents {
                for subject in ["alice", "ünï \"q\" \\ , [x]"] {
                    let answer = FacialIDService.showAnswer(subject: subject, ids: ids, active: active, rights: rights)
                    let facialIDs: [JSON] = ids.map { f in
                        FacialIDService.facialIDShape(
                            FacialIDService.facialIDValues(f)
                                + [f.deletion.map { FacialIDService.deletionShape(FacialIDService.deletionValues(f, $0)) } ?? .null])
                    }
                    let consent = FacialIDService.consentValues(active).map(FacialIDService.consentShape) ?? .null
                    let tree = FacialIDService.showShape([.string(subject), .array(facialIDs), consent, rights])
                    #expect(answer.bytes == tree.encoded(), "\(ids.count) ids, \(active.count) consents")
                    #expect(answer.value["facialIds"]?.arrayValue?.count == ids.count)
                }
            }
        }
    }

    /// The bytes of the answer as it was before the templates: `ea1e2bf`, which built and encoded
    /// a tree, answered byte for byte the same over the socket (subjects with and without a
    /// deletion and a consent).
    @Test func theBytesAreThoseOfTheEncodingBeforeTemplates() throws {
        let answer = FacialIDService.showAnswer(
            subject: "alice", ids: [Self.rows[2][0], Self.rows[2][1]], active: Self.consents[2], rights: .encoded(EncodedJSON(["r": 1])))
        #expect(answer.text == #"{"subject":"alice","facialIds":[{"facialId":"fid-1","status":"active","enrolledAt":"2026-09-21T14:13:21Z","lastAuthenticatedAt":"2026-10-03T04:00:00Z","retainUntil":"2029-11-22T00:00:00Z","retentionRule":"retention.maxSinceEnrollment","deletion":null},{"facialId":"fid-2","status":"deleting","enrolledAt":"2026-09-21T14:13:22Z","lastAuthenticatedAt":null,"retainUntil":null,"retentionRule":"retention.maxSinceEnrollment","deletion":{"status":"pending","reason":"user_request","requestedAt":"2026-11-18T11:06:40Z","completedAt":null,"attempts":2,"lastError":"FACEIO said: \"no\"\n"}}],"consent":{"consentId":"cns_1","purposes":["authentication","a,b \"c\""],"recordedAt":"2026-09-21T14:13:20Z","expiresAt":"2029-11-22T00:00:00Z"},"rights":{"r":1}}"#)
    }
}
