@testable import FioguardFaceIO
import FioguardTesting
import Logging
import Testing

/// The FACEIO adapter on its own: how answers are classified, how parameters are encoded, how
/// errors are scrubbed of the key, the backoff bounds, and a request timeout against the fake
/// (which the CLI cannot shorten; see FaceIOOutboxTests.slowBeyondTimeout).
@Suite("FaceIO client")
struct FaceIOClientTests {
    static func classify(_ status: Int, _ body: String) -> DeletionOutcome {
        FaceIOClient.classify(httpStatus: status, body: Array(body.utf8))
    }

    static func isRetryable(_ o: DeletionOutcome) -> Bool {
        if case .retryable = o { return true }
        return false
    }

    static func isPermanent(_ o: DeletionOutcome) -> Bool {
        if case .permanent = o { return true }
        return false
    }

    @Test("success only when HTTP is 2xx and the body's status is 200")
    func success() {
        #expect(Self.classify(200, #"{"status":200}"#) == .deleted)
        #expect(Self.classify(204, #"{"status":200,"error":null}"#) == .deleted)
        #expect(Self.classify(200, #"{"status":"200"}"#) != .deleted, "a string status is not 200")
        #expect(Self.classify(200, #"{"ok":true}"#) != .deleted)
        #expect(Self.classify(500, #"{"status":200}"#) != .deleted)
        #expect(Self.classify(302, #"{"status":200}"#) != .deleted)
    }

    @Test("5xx, 429, 408 and unreadable or status-less 2xx bodies are retryable", arguments: [
        (500, #"{"status":500,"error":"Internal"}"#), (502, ""), (503, "<html>"), (599, "{}"), (429, #"{"status":429}"#),
        (408, ""), (200, "<html><body>502</body></html>"), (200, ""), (200, "[1,2]"), (200, #"{"error":"x"}"#),
        (200, #"{"status":503,"error":"busy"}"#), (200, #"{"status":429,"error":"slow down"}"#),
    ])
    func retryable(status: Int, body: String) {
        #expect(Self.isRetryable(Self.classify(status, body)), "HTTP \(status) \(body)")
    }

    @Test("bad key, bad Facial ID and other refusals are permanent", arguments: [
        (401, #"{"status":401,"error":"Invalid API key"}"#), (403, ""), (400, #"{"status":400,"error":"Invalid Facial ID"}"#),
        (404, #"{"status":404}"#), (200, #"{"status":401,"error":"Invalid API key"}"#),
        (200, #"{"status":400,"error":"Invalid Facial ID"}"#), (200, #"{"status":404,"error":"Unknown Facial ID"}"#),
    ])
    func permanent(status: Int, body: String) {
        #expect(Self.isPermanent(Self.classify(status, body)), "HTTP \(status) \(body)")
    }

    @Test("messages keep FACEIO's error text, bounded")
    func messages() {
        guard case .permanent(let m) = Self.classify(200, #"{"status":401,"error":"Invalid API key"}"#) else {
            Issue.record("not permanent")
            return
        }
        #expect(m.contains("401") && m.contains("Invalid API key"), "\(m)")
        let long = String(repeating: "x", count: 5000)
        guard case .retryable(let r) = Self.classify(500, #"{"status":500,"error":"\#(long)"}"#) else {
            Issue.record("not retryable")
            return
        }
        // Cut here far past what `scrub` keeps (300), so a key split by the cut never shows.
        #expect(r.count < 4200, "\(r.count)")
    }

    @Test("percent-encoding passes RFC 3986 unreserved characters and encodes every other byte")
    func percentEncoding() {
        #expect(FaceIOClient.percentEncode("AZaz09-._~") == "AZaz09-._~")
        #expect(FaceIOClient.percentEncode("a b+c&d=e?f#g/h%i") == "a%20b%2Bc%26d%3De%3Ff%23g%2Fh%25i")
        #expect(FaceIOClient.percentEncode("é") == "%C3%A9")
        #expect(FaceIOClient.percentEncode("") == "")
        #expect(FaceIOClient.percentEncode("\u{0}\n") == "%00%0A")
    }

    @Test("scrub removes the key and the Facial ID, raw and percent-encoded")
    func scrubbing() {
        var config = FaceIOConfiguration()
        config.apiKey = "k+y/1"
        let client = FaceIOClient(configuration: config, logger: Logger(label: "test"))
        defer { Task { await client.shutdown() } }
        let m = client.scrub(
            "GET /deletefacialid?key=k%2By%2F1&fid=f%20id%2F7 failed; key k+y/1, Facial ID f id/7", key: "k+y/1", facialID: "f id/7")
        #expect(!m.contains("k+y/1") && !m.contains("k%2By%2F1"), "\(m)")
        #expect(!m.contains("f id/7") && !m.contains("f%20id%2F7"), "\(m)")
        #expect(m == "GET /deletefacialid?key=<redacted>&fid=<facial id> failed; key <redacted>, Facial ID <facial id>")
    }

    /// A key quoted where the old 200-character cut split it kept its first part; a key quoted in
    /// part, or percent-encoded in lower case, was not found at all.
    @Test("scrub removes a key quoted across the cut, in part, or encoded in lower case")
    func scrubbingPartsOfTheKey() {
        var config = FaceIOConfiguration()
        let key = "sk_live_SECRET1234567890/abcdef"
        config.apiKey = key
        let client = FaceIOClient(configuration: config, logger: Logger(label: "test"))
        defer { Task { await client.shutdown() } }
        let fid = "fid-0123456789abcdef"
        let straddling = String(repeating: "k", count: 176) + key + fid
        guard case .permanent(let raw) = FaceIOClient.classify(
            httpStatus: 400, body: Array(#"{"status":400,"error":"\#(straddling)"}"#.utf8))
        else { Issue.record("HTTP 400 is permanent"); return }
        for message in [
            raw, "bad key sk_live_SECRET12", "key=sk_live_SECRET1234567890%2fabcdef", "fid \(fid.prefix(12)) unknown",
        ] {
            let m = client.scrub(message, key: key, facialID: fid)
            for part in [key.prefix(8), key.dropFirst(8).prefix(8), key.suffix(8)] {
                #expect(!m.contains(part), "\(m)")
            }
            #expect(!m.contains(fid.prefix(8)) && !m.contains("0123456789"), "\(m)")
            #expect(m.count <= 300)
        }
        #expect(client.scrub("bad key sk_live_SECRET12", key: key, facialID: fid) == "bad key <redacted>")
        // A secret shorter than 8 bytes goes wherever it appears whole (more than needed, never less).
        #expect(client.scrub("keep k here", key: "k", facialID: "") == "<redacted>eep <redacted> here")
        #expect(client.scrub("a quite ordinary message", key: key, facialID: fid) == "a quite ordinary message")
    }

    @Test("full jitter stays within [0, min(cap, base·2^attempt)]")
    func backoffBounds() {
        for attempt in [0, 1, 2, 5, 10, 40, 200] {
            for _ in 0..<50 {
                let d = Backoff.fullJitter(attempt: attempt, base: 1, cap: 300)
                let ceiling = min(300, Double(1 << min(attempt, 30)))
                #expect(d >= 0 && d <= ceiling, "attempt \(attempt): \(d)")
            }
        }
        let spread = Set((0..<100).map { _ in Backoff.fullJitter(attempt: 8, base: 1, cap: 300) })
        #expect(spread.count > 50, "jittered, not fixed")
    }

    @Test("against the fake: ok, bad key, down, and an answer slower than the request timeout")
    func againstFake() async throws {
        let fake = try await FakeFaceIO.start(expectedKey: "fk-unit-key")
        var config = FaceIOConfiguration()
        config.baseURL = fake.baseURL
        config.apiKey = "fk-unit-key"
        // Long enough that a call on a loaded machine (parallel tests, a sanitizer build) is not
        // cut off; the slow mode below answers well after it.
        config.requestTimeoutSeconds = 3
        let client = FaceIOClient(configuration: config, logger: Logger(label: "test"))
        #expect(await client.deleteFacialID("fid-1") == .deleted)
        #expect(fake.calls.last?.key == "fk-unit-key")
        #expect(fake.calls.last?.fid == "fid-1")
        fake.mode = .badKey
        #expect(Self.isPermanent(await client.deleteFacialID("fid-2")))
        fake.mode = .down
        #expect(Self.isRetryable(await client.deleteFacialID("fid-3")))
        fake.mode = .slow(milliseconds: 8000)
        let started = ContinuousClock.now
        let outcome = await client.deleteFacialID("fid-4")
        #expect(Self.isRetryable(outcome), "\(outcome)")
        #expect(ContinuousClock.now - started < .milliseconds(7000), "gave up at the timeout")
        if case .retryable(let m) = outcome { #expect(!m.contains("fk-unit-key")) }
        fake.mode = .garbage
        #expect(Self.isRetryable(await client.deleteFacialID("fid-5")))
        var unconfigured = config
        unconfigured.apiKey = nil
        let noKey = FaceIOClient(configuration: unconfigured, logger: Logger(label: "test"))
        #expect(Self.isRetryable(await noKey.deleteFacialID("fid-6")))
        await noKey.shutdown()
        await client.shutdown()
        await fake.stop()
    }
}
