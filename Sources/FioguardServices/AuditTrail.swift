import Crypto
public import FioguardJSON
import FioguardPolicy
public import FioguardStore

/// The hash-chained audit log. Entries are appended inside the transaction of the change they
/// record; each entry's hash covers the previous entry's hash, so an edited or removed row breaks
/// the chain at a point `verify` can name. Entries never hold a raw subject or Facial ID.
public enum AuditTrail {
    static let genesis = String(repeating: "0", count: 64)
    static let headKey = "audit_head"

    /// Appends one entry using the caller's (writer) connection.
    ///
    /// `subjectID`: the row in `subjects` whose pseudonym is `subjectRef`, when the caller has it
    /// at hand. It only decides how `audit.query` finds the entry (see schema v6), so nil is never
    /// wrong, only slower to write: the entry is then indexed by its random-looking pseudonym.
    static func append(
        _ conn: Connection, at: Int64, action: String, subjectRef: String?, subjectID: Int64? = nil, caller: Caller, details: JSON
    ) throws {
        try append(
            conn, at: at, action: action, subjectRef: subjectRef, subjectID: subjectID, caller: caller,
            encodedDetails: details.encodedString())
    }

    /// `append` with the details already encoded: callers encode them before their write closure,
    /// so the single writer thread spends its time on SQL only.
    static func append(
        _ conn: Connection, at: Int64, action: String, subjectRef: String?, subjectID: Int64? = nil, caller: Caller,
        encodedDetails text: String
    ) throws {
        // Chain to the recorded head, not to whatever row is last in the table: if rows were
        // removed from the tail, the next entry must not paper over the gap (verify names it).
        let head = try recordedHead(conn.stagedMeta(headKey)) ?? conn.auditHead()
        let seq = (head?.seq ?? 0) + 1
        let prev = head?.hash ?? genesis
        let callerText = caller.description
        let hash = entryHash(seq: seq, at: at, action: action, subjectRef: subjectRef, caller: callerText, details: text, prev: prev)
        try conn.appendAudit(
            AuditRow(
                seq: seq, at: at, action: action, subjectRef: subjectRef, caller: callerText, details: text, prevHash: prev, hash: hash,
                subjectID: subjectRef == nil ? nil : subjectID))
        // Staged: a group of writes stores only its last head, once (see `StagedMeta`).
        try conn.setStagedMeta(headKey, Array("\(seq):\(hash)".utf8))
    }

    /// The head written with the newest entry (`meta.audit_head` = "seq:hash"), from its bytes.
    static func recordedHead(_ bytes: [UInt8]?) -> (seq: Int64, hash: String)? {
        guard let bytes else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let seq = Int64(parts[0]) else { return nil }
        return (seq, String(parts[1]))
    }

    /// SHA-256 over length-prefixed fields ("<UTF-8 length>:<field>", one after another), so no
    /// field can bleed into the next. The fields are laid out in one buffer and hashed at once: it
    /// runs on the single writer thread, and one `update` per piece cost more than the hashing.
    static func entryHash(seq: Int64, at: Int64, action: String, subjectRef: String?, caller: String, details: String, prev: String) -> String {
        let seqText = String(seq), atText = String(at), subjectText = subjectRef ?? "-"
        var buffer: [UInt8] = []
        buffer.reserveCapacity(
            7 * 8 + prev.utf8.count + seqText.utf8.count + atText.utf8.count + action.utf8.count + subjectText.utf8.count
                + caller.utf8.count + details.utf8.count)
        for field in [prev, seqText, atText, action, subjectText, caller, details] {
            buffer.append(contentsOf: String(field.utf8.count).utf8)
            buffer.append(UInt8(ascii: ":"))
            buffer.append(contentsOf: field.utf8)
        }
        return Hex.encode(SHA256.hash(data: buffer))
    }

    /// The outcome of `audit.verify`.
    public struct Verification: Sendable {
        public var ok: Bool
        public var entries: Int64
        public var headHash: String?
        public var firstBadEntry: Int64?
        public var problem: String?

        public var json: JSON {
            var o: JSONObject = JSONObject([("ok", .bool(ok)), ("entries", .int(entries)), ("headHash", .string(headHash))])
            o["firstBadEntry"] = firstBadEntry.map(JSON.int) ?? .null
            o["problem"] = .string(problem)
            return .object(o)
        }
    }

    /// Recomputes the whole chain on a read connection.
    public static func verify(_ database: Database) async throws -> Verification {
        try await database.read { conn in
            var expectedSeq: Int64 = 1
            var prev = genesis
            var bad: (Int64, String)?
            var count: Int64 = 0
            try conn.forEachAudit { row in
                count += 1
                guard bad == nil else { return }
                if row.seq != expectedSeq {
                    bad = (expectedSeq, "entry missing")
                } else if row.prevHash != prev {
                    bad = (row.seq, "does not chain to the previous entry")
                } else if entryHash(
                    seq: row.seq, at: row.at, action: row.action, subjectRef: row.subjectRef, caller: row.caller,
                    details: row.details, prev: row.prevHash) != row.hash
                {
                    bad = (row.seq, "content does not match its hash")
                }
                prev = row.hash
                expectedSeq = row.seq + 1
            }
            if bad == nil, let head = try recordedHead(conn.meta(headKey)) {
                if head.seq >= expectedSeq {
                    bad = (expectedSeq, "entry missing")
                } else if head.seq == expectedSeq - 1 && head.hash != prev {
                    bad = (head.seq, "content does not match the recorded head")
                }
            }
            // The link to a subject row is outside the hash: one pointing elsewhere would hide the
            // entry from `audit.query` for its subject.
            if bad == nil, let seq = try conn.firstMislinkedAuditEntry() {
                bad = (seq, "linked to a subject other than its subjectRef")
            }
            return Verification(
                ok: bad == nil, entries: count, headHash: count > 0 ? prev : nil, firstBadEntry: bad?.0, problem: bad?.1)
        }
    }

    /// Entries for `audit.query`, oldest first.
    /// `subject`: the subject's value and its pseudonym.
    public static func query(_ database: Database, subject: (value: String, pseudonym: String)?, since: Int64?, limit: Int) async throws -> JSON {
        let rows = try await database.read { conn in try conn.auditEntries(subject: subject, since: since, limit: limit) }
        return .array(
            rows.map { r in
                let details = (try? JSON.parse(r.details)) ?? .string(r.details)
                return [
                    "seq": .int(r.seq), "at": .string(Timestamp(secondsSinceEpoch: r.at).rfc3339), "action": .string(r.action),
                    "subjectRef": .string(r.subjectRef), "caller": .string(r.caller), "details": details, "hash": .string(r.hash),
                ]
            })
    }
}
