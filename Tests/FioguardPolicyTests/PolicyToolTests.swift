import FioguardJSON
import FioguardPolicy
import Testing

@Suite("policy check / explain")
struct PolicyToolTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let policy = bytes(Fixture.basePolicyJSON)

    @Test func checkValid() {
        let r = PolicyTool.check(policyBytes: Self.policy)
        #expect(r.exitCode == 0)
        #expect(r.output.contains(Fixture.policy().version))
    }

    @Test(arguments: [
        (#"{"version":1,"domian":[]}"#, "policy.domian: unknown key"),
        (#"{"version":1,"countries":{"allow":["DE","de"]}}"#, "policy.countries.allow[1]: not an ISO 3166-1 alpha-2 code"),
        ("not json", "policy: not valid JSON"),
        ("", "policy: not valid JSON"),
    ])
    func checkInvalid(text: String, line: String) {
        let r = PolicyTool.check(policyBytes: Self.bytes(text))
        #expect(r.exitCode == 1)
        #expect(r.output.contains(line), "\(r.output)")
    }

    @Test func checkListsAllProblems() {
        let r = PolicyTool.check(policyBytes: Self.bytes(#"{"version":3,"domains":["bücher.example"],"sweep":{"interval":"1h"}}"#))
        #expect(r.exitCode == 1)
        #expect(r.output.split(separator: "\n").count == 3)
    }

    static let consentAllow =
        #"{"kind":"consent","now":"2026-11-27T04:37:46Z","subject":"u1","purposes":["authentication"],"collectionMethod":"click","noticeVersion":"v3","domain":"shop.example","country":"DE","age":30,"locale":"de"}"#
    static let enrollAllow =
        #"{"kind":"enrollment","now":"2026-11-27T04:37:46Z","decisionId":"x-1","domain":"shop.example","country":"US","region":"US-IL","trigger":"user_action","consent":{"purposes":["authentication"],"collectionMethod":"signature","recordedAt":"2026-11-27T04:30:00Z","birthDate":"1990-01-01"}}"#

    @Test(arguments: [
        (consentAllow, Int32(0)),
        (enrollAllow, 0),
        (#"{"kind":"consent","now":"2026-11-27T04:37:46Z","purposes":["authentication"],"collectionMethod":"click","noticeVersion":"v3","domain":"shop.example","country":"DE","age":15}"#, 3),
        (#"{"kind":"consent","now":"2026-11-27T04:37:46Z","purposes":["authentication"],"collectionMethod":"click","noticeVersion":"v3","domain":"shop.example","country":"DE","age":15,"guardian":{"relationship":"parent","verificationMethod":"eid"}}"#, 0),
        (#"{"kind":"consent","now":"2026-11-27T04:37:46Z","purposes":[],"collectionMethod":"click","noticeVersion":"v3","domain":"shop.example","country":"DE"}"#, 3),
        (#"{"kind":"enrollment","now":"2026-11-27T04:37:46Z","domain":"shop.example","country":"DE","trigger":"automatic","consent":null}"#, 3),
        (#"{"kind":"enrollment","now":"2026-11-27T04:37:46Z","domain":"shop.example","country":"DE","trigger":"user_action","activeFacialIdCount":1,"consent":{"purposes":["authentication"],"collectionMethod":"click","recordedAt":"2026-11-27T04:30:00Z"}}"#, 3),
        // bad facts
        ("{", 2),
        (#"[]"#, 2),
        (#"{"now":"2026-11-27T04:37:46Z"}"#, 2),
        (#"{"kind":"refund","now":"2026-11-27T04:37:46Z"}"#, 2),
        (#"{"kind":"consent","now":"yesterday","purposes":[],"collectionMethod":"click","noticeVersion":"v","domain":"a","country":"DE"}"#, 2),
        (#"{"kind":"consent","now":"2026-11-27T04:37:46Z","collectionMethod":"click","noticeVersion":"v","domain":"a","country":"DE"}"#, 2),
        (#"{"kind":"consent","now":"2026-11-27T04:37:46Z","purposes":[],"collectionMethod":"click","noticeVersion":"v","domain":"a","country":"DE","colour":1}"#, 2),
        (#"{"kind":"consent","now":"2026-11-27T04:37:46Z","purposes":[],"collectionMethod":"click","noticeVersion":"v","domain":"a","country":"DE","birthDate":"2010-02-30"}"#, 2),
        (#"{"kind":"enrollment","now":"2026-11-27T04:37:46Z","domain":"a","country":"DE","trigger":"user_action","consent":{"purposes":[],"collectionMethod":"click","recordedAt":"soon"}}"#, 2),
    ] as [(String, Int32)])
    func explainExitCodes(facts: String, exit: Int32) {
        let r = PolicyTool.explain(policyBytes: Self.policy, factsBytes: Self.bytes(facts))
        #expect(r.exitCode == exit, "\(r.output)")
    }

    @Test func explainPrintsTheDecision() throws {
        let r = PolicyTool.explain(policyBytes: Self.policy, factsBytes: Self.bytes(Self.enrollAllow))
        #expect(r.exitCode == 0)
        let j = try JSON.parse(r.output.trimmingCharacters(in: "\n"))
        #expect(j["allow"] == true)
        #expect(j["decisionId"] == "x-1")
        #expect(j["policyVersion"] == .string(Fixture.policy().version))
        #expect(j["reasons"]?.arrayValue?.contains { $0["code"] == "COLLECTION_METHOD_AFFIRMATIVE" && $0["profile"] == "US-IL" } == true)
    }

    @Test func explainNamesTheBadFactsField() {
        let r = PolicyTool.explain(
            policyBytes: Self.policy,
            factsBytes: Self.bytes(#"{"kind":"consent","now":"2026-11-27T04:37:46Z","purposes":["authentication"],"collectionMethod":"click","noticeVersion":"v","domain":"a","country":"DE","guardian":{"relationship":1}}"#))
        #expect(r.exitCode == 2)
        #expect(r.output.hasPrefix("facts.guardian.relationship:"), "\(r.output)")
    }

    @Test func explainBadPolicy() {
        let r = PolicyTool.explain(policyBytes: Self.bytes(#"{"version":1,"retention":{"maxSinceEnrollment":"3y"}}"#), factsBytes: Self.bytes(Self.consentAllow))
        #expect(r.exitCode == 1)
        #expect(r.output.contains("policy.retention.maxSinceEnrollment"))
        // A bad policy is reported even when the facts are bad too.
        #expect(PolicyTool.explain(policyBytes: Self.bytes("{"), factsBytes: Self.bytes("{")).exitCode == 1)
    }

    @Test func explainWithBuiltInDefault() {
        let r = PolicyTool.explain(policyBytes: nil, factsBytes: Self.bytes(Self.consentAllow))
        #expect(r.exitCode == 3)
        #expect(r.output.contains("DOMAIN_NOT_ALLOWED"))
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = self
        while s.last == set { s.removeLast() }
        return s
    }
}
