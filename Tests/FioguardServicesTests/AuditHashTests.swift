@testable import FioguardServices
import Testing

@Suite("Audit entry hash")
struct AuditHashTests {
    /// Expected values from Python's `hashlib` over "<UTF-8 length>:<field>" for each field in
    /// order, not from swift-crypto: chains already stored must keep verifying.
    @Test func knownAnswers() {
        #expect(
            AuditTrail.entryHash(
                seq: 1, at: 1_790_000_000, action: "consent.recorded", subjectRef: "ps_abc", caller: "uid=1000 pid=42",
                details: #"{"consentId":"c1","note":"é"}"#, prev: AuditTrail.genesis)
                == "6f8fd80f19a8f8c9a861a90258ab60124bded1e997e5bfe78bd326f39b0dc8e0")
        #expect(
            AuditTrail.entryHash(
                seq: 12, at: 1_790_000_001, action: "retention.swept", subjectRef: nil, caller: "fioguard", details: "{}",
                prev: String(repeating: "ab", count: 32))
                == "a58c65b7806a96fac9551ca2501f5d2b46d610fdcb71dfd3ad613ef47941fd90")
    }

    /// The length prefix keeps fields apart: moving a character across a boundary changes the hash.
    @Test func fieldsCannotBleed() {
        let a = AuditTrail.entryHash(seq: 1, at: 2, action: "ab", subjectRef: "c", caller: "x", details: "{}", prev: AuditTrail.genesis)
        let b = AuditTrail.entryHash(seq: 1, at: 2, action: "a", subjectRef: "bc", caller: "x", details: "{}", prev: AuditTrail.genesis)
        #expect(a != b)
    }
}
