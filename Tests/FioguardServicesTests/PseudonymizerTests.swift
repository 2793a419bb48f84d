import FioguardServices
import Testing

@Suite("Pseudonymizer")
struct PseudonymizerTests {
    /// Expected values from Python's `hmac` (key = bytes 0…31), not from swift-crypto.
    static let key: [UInt8] = Array(0..<32)

    @Test func knownAnswers() {
        let p = Pseudonymizer(key: Self.key)
        #expect(p.subject("alice") == "sub_ac691129d2aa595d824fecce")
        #expect(p.facialID("fid-123") == "fid_ab3abf4684fda8ab20e0e41f")
        #expect(p.lookupHash("idempotency", "key-1") == "c8e3de382021bdbddfaec6a09fd72722617a6a92980bf9c3ff96d1c0a44229a2")
    }

    /// Each hash starts from a copy of one keyed state: earlier calls, and calls on other threads
    /// at the same time, must not leak into it.
    @Test func callsDoNotShareState() async {
        let p = Pseudonymizer(key: Self.key)
        #expect(p.subject("alice") == p.subject("alice"))
        #expect(p.subject("alice") != p.subject("alicf"))
        let expected = (0..<200).map { p.subject("user-\($0)") }
        let results = await withTaskGroup(of: (Int, String).self) { group in
            for round in 0..<4 {
                for i in 0..<200 {
                    let j = (i + round * 7) % 200
                    group.addTask { (j, p.subject("user-\(j)")) }
                }
            }
            var out: [(Int, String)] = []
            for await r in group { out.append(r) }
            return out
        }
        #expect(results.count == 800)
        #expect(results.allSatisfy { j, s in s == expected[j] })
        #expect(Set(expected).count == 200)
        #expect(Pseudonymizer(key: Array(repeating: 1, count: 32)).subject("alice") != p.subject("alice"))
    }

    @Test func neverPrintsTheKey() {
        let p = Pseudonymizer(key: Self.key)
        #expect(String(describing: p) == "Pseudonymizer(key: <redacted>)")
        #expect(String(reflecting: p) == "Pseudonymizer(key: <redacted>)")
    }
}
