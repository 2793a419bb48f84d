import FioguardJSON
import FioguardTesting
import Foundation
import Synchronization
import Testing

/// Several connections working the same few subjects at once, in a seeded random order: consent,
/// enrollment, touches, deletions, revocations and erasures racing each other. Whatever order
/// the server ran them in, every answer is a result or a documented domain error, and the end
/// state keeps the rules: no active Facial ID without active consent to authentication, every
/// Facial ID that was enrolled is still active or deleted at FACEIO, the audit chain verifies, and
/// the debug log names no subject and no Facial ID.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RacingCallersTests {
    /// xorshift64*: the same sequence on every run, so a failure can be replayed.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64  // never 0
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    static let subjects = (0..<4).map { "race-\($0)" }
    static let workers = 6
    static let stepsPerWorker = 60
    /// What a race may legitimately produce: the subject is not there (yet, or any more), a ticket
    /// was voided or used, a second Facial ID where the policy allows one, consent missing.
    static let expectedReasons: Set<String> = ["NOT_FOUND", "TICKET_INVALID", "CONFLICT", "POLICY_DENIED"]

    final class Findings: Sendable {
        let problems = Mutex<[String]>([])
        let enrolled = Mutex<[String: String]>([:])  // Facial ID → subject, for each completion that succeeded
        func problem(_ text: String) { problems.withLock { $0.append(text) } }
    }

    /// One call; an error outside `expectedReasons` is a finding.
    static func call(
        _ c: RPCTestClient, _ method: String, _ params: JSON, id: Int64, findings: Findings
    ) async throws -> JSON? {
        let answer = try await c.request(method, params, id: .int(id), timeout: .seconds(30))
        if answer["id"] != .int(id) { findings.problem("\(method): answer for another id: \(answer.encodedString())") }
        guard let error = answer["error"] else { return answer["result"] }
        let reason = error["data"]?["reason"]?.stringValue ?? "-"
        if !expectedReasons.contains(reason) {
            findings.problem("\(method) \(params.encodedString()) -> \(error.encodedString())")
        }
        return nil
    }

    static func work(worker: Int, client c: RPCTestClient, findings: Findings) async throws {
        var rng = Seeded(state: UInt64(worker) &* 7919 &+ 1)
        var id: Int64 = 0
        func next() -> Int64 { id += 1; return id }
        for step in 0..<stepsPerWorker {
            let subject = subjects.randomElement(using: &rng)!
            let s = JSON.string(subject)
            switch Int.random(in: 0..<20, using: &rng) {
            case 0..<5:
                _ = try await call(c, "consent.record", FIO.consentParams(subject: subject), id: next(), findings: findings)
            case 5..<10:
                let authorize: JSON = [
                    "subject": s, "domain": .string(FIO.domain), "country": .string(FIO.country), "trigger": "user_action",
                ]
                guard let decision = try await call(c, "enroll.authorize", authorize, id: next(), findings: findings),
                      let ticket = decision["ticket"]
                else { continue }
                let fid = "fid-\(subject)-w\(worker)-\(step)"
                if try await call(c, "enroll.complete", ["ticket": ticket, "facialId": .string(fid)], id: next(), findings: findings) != nil {
                    findings.enrolled.withLock { $0[fid] = subject }
                }
            case 10..<12:
                _ = try await call(c, "facialId.show", ["subject": s], id: next(), findings: findings)
            case 12..<14:
                _ = try await call(c, "facialId.touch", ["subject": s], id: next(), findings: findings)
            case 14..<16:
                _ = try await call(c, "facialId.delete", ["subject": s, "confirm": true], id: next(), findings: findings)
            case 16..<19:
                _ = try await call(c, "consent.revoke", ["subject": s], id: next(), findings: findings)
            default:
                _ = try await call(c, "subject.erase", ["subject": s, "confirm": true], id: next(), findings: findings)
            }
        }
    }

    @Test func racingCallersLeaveAConsistentState() async throws {
        try await FIO.withServer { server, fake, client in
            let findings = Findings()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<Self.workers {
                    group.addTask {
                        let c = try await server.connect()
                        do {
                            try await Self.work(worker: w, client: c, findings: findings)
                        } catch {
                            await c.close()
                            throw error
                        }
                        await c.close()
                    }
                }
                try await group.waitForAll()
            }
            let problems = findings.problems.withLock { $0 }
            #expect(problems.isEmpty, "\(problems.count) unexpected answers, first: \(problems.prefix(5))")
            let enrolled = findings.enrolled.withLock { $0 }
            #expect(enrolled.count >= 5, "the run enrolled \(enrolled.count) Facial IDs: too few to prove anything")

            // Every deletion the run queued reaches FACEIO.
            try await FIO.waitUntil("no deletion pending") {
                try await FIO.deletions(client, status: "pending").isEmpty
            }
            #expect(try await FIO.deletions(client, status: "failed").isEmpty)

            var active: [String: String] = [:]  // Facial ID → subject
            for subject in Self.subjects {
                let shown: JSON
                do {
                    shown = try await client.call("facialId.show", ["subject": .string(subject)])
                } catch let e as FIO.CallError where e.reason == "NOT_FOUND" {
                    continue  // erased last, or never recorded
                }
                let ids = (shown["facialIds"]?.arrayValue ?? []).filter { $0["status"] == "active" }
                    .compactMap { $0["facialId"]?.stringValue }
                for fid in ids { active[fid] = subject }
                guard !ids.isEmpty else { continue }
                let status = try await client.call("consent.status", ["subject": .string(subject)])
                let purposes = (status["active"]?.arrayValue ?? []).flatMap { $0["purposes"]?.arrayValue ?? [] }
                #expect(purposes.contains("authentication"), "\(subject) has active Facial IDs \(ids) without consent: \(status.encodedString())")
            }
            for (fid, subject) in active {
                #expect(enrolled[fid] == subject, "\(fid) is active for \(subject) but was not enrolled for it")
            }
            for (fid, subject) in enrolled where active[fid] == nil {
                #expect(fake.successCount(fid) >= 1, "\(fid) of \(subject) is neither active nor deleted at FACEIO")
            }
            let audit = try await client.call("audit.verify")
            #expect(audit["ok"] == true, "\(audit.encodedString())")
            // The daemon logged all of that (at debug level) without a subject or a Facial ID, raw.
            let log = server.log
            #expect(log.contains("call ok"), "the log is the one written at debug level")
            for subject in Self.subjects {
                let found = log.components(separatedBy: "\n").filter { $0.contains(subject) }
                #expect(found.isEmpty, "\(subject), or a Facial ID made for it, in the log: \(found.prefix(3))")
            }
        }
    }
}
