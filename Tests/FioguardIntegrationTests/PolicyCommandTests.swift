import FioguardJSON
import FioguardTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `fioguard policy check` and `fioguard policy explain`, run as the binary users run.
@Suite struct PolicyCommandTests {
    @Test func checkAcceptsAValidFileAndNamesTheBadFieldOfAnInvalidOne() async throws {
        let dir = try TemporaryDirectory(prefix: "fgpol")
        defer { dir.remove() }
        try dir.write("good.json", #"{"version":1,"domains":["shop.example"]}"#)
        try dir.write("bad.json", #"{"version":1,"domains":["shop.example"],"retention":{"maxSinceEnrolment":"P3Y"}}"#)
        let good = try await LiveServer.run(["policy", "check", dir.file("good.json")])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("sha256:"))
        let bad = try await LiveServer.run(["policy", "check", dir.file("bad.json")])
        #expect(bad.status == 1, "\(bad.output)")
        #expect(bad.output.contains("policy.retention.maxSinceEnrolment"), "\(bad.output)")
        let missing = try await LiveServer.run(["policy", "check", dir.file("nope.json")])
        #expect(missing.status != 0)
        // A FIFO would block the open until someone writes (a reload, and the daemon's shutdown,
        // hung on one); a directory is no policy either.
        #expect(mkfifo(dir.file("fifo.json"), 0o600) == 0)
        for path in [dir.file("fifo.json"), dir.path] {
            let r = try await LiveServer.run(["policy", "check", path], timeout: .seconds(10))
            #expect(r.status == 1, "\(r.output)")
            #expect(r.output.contains("not a regular file"), "\(r.output)")
        }
    }

    @Test func explainPrintsTheDecisionWithDistinctExitCodes() async throws {
        let dir = try TemporaryDirectory(prefix: "fgpol")
        defer { dir.remove() }
        try dir.write("policy.json", #"{"version":1,"domains":["shop.example"]}"#)
        let consent = #""consent":{"purposes":["authentication"],"collectionMethod":"checkbox","recordedAt":"2026-11-27T10:00:00Z","country":"DE","age":30}"#
        try dir.write(
            "allow.json",
            #"{"kind":"enrollment","now":"2026-11-27T10:05:00Z","domain":"shop.example","country":"DE","trigger":"user_action","activeFacialIdCount":0,\#(consent)}"#)
        try dir.write(
            "deny.json",
            #"{"kind":"enrollment","now":"2026-11-27T10:05:00Z","domain":"shop.example","country":"DE","trigger":"automatic","activeFacialIdCount":0,\#(consent)}"#)
        try dir.write("garbage.json", "{not json")
        let allow = try await LiveServer.run(["policy", "explain", dir.file("policy.json"), "--input", dir.file("allow.json")])
        let deny = try await LiveServer.run(["policy", "explain", dir.file("policy.json"), "--input", dir.file("deny.json")])
        let garbage = try await LiveServer.run(["policy", "explain", dir.file("policy.json"), "--input", dir.file("garbage.json")])
        #expect(allow.status == 0, "\(allow.output)")
        #expect(deny.status == 3, "\(deny.output)")
        #expect(deny.output.contains("TRIGGER_NOT_USER_ACTION"), "\(deny.output)")
        #expect(garbage.status == 2, "\(garbage.output)")
        // A file that cannot be read is bad input of its own kind: policy 1, facts 2.
        let noPolicy = try await LiveServer.run(["policy", "explain", dir.file("nope.json"), "--input", dir.file("allow.json")])
        #expect(noPolicy.status == 1, "\(noPolicy.output)")
        let noFacts = try await LiveServer.run(["policy", "explain", dir.file("policy.json"), "--input", dir.file("nope.json")])
        #expect(noFacts.status == 2, "\(noFacts.output)")
    }

    /// A secret file that cannot be used is a usage error of `serve` naming the flag, found
    /// before anything starts.
    @Test(arguments: ["--faceio-key-file", "--faceio-webhook-token-file"])
    func anUnreadableOrEmptySecretFileIsAUsageErrorNamingTheFlag(flag: String) async throws {
        let dir = try TemporaryDirectory(prefix: "fgsecret")
        defer { dir.remove() }
        try dir.write("empty", "\n")
        try dir.write("huge", String(repeating: "k", count: 70_000) + "\n")
        #expect(mkfifo(dir.file("fifo"), 0o600) == 0)
        let base = ["serve", "--socket", dir.file("s.sock"), "--database", dir.file("db.sqlite")]
        for (file, why) in [
            (dir.file("missing"), "cannot open"), (dir.file("empty"), "is empty"), (dir.file("fifo"), "not a regular file"),
            (dir.file("huge"), "larger than 64 KiB"),
        ] {
            let r = try await LiveServer.run(base + [flag, file])
            #expect(r.status == 64, "\(r.output)")
            #expect(r.output.contains("\(flag): "), "\(r.output)")
            #expect(r.output.contains(why), "\(r.output)")
            #expect(r.output.contains("Usage: fioguard serve"), "\(r.output)")
        }
    }
}
