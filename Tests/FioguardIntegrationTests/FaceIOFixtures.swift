import FioguardJSON
import FioguardTesting
import Foundation
import Synchronization
import Testing

/// Shared pieces of the FACEIO tests (outbox and webhooks): a live server wired to a `FakeFaceIO`,
/// a client that keeps every answer (to grep for secrets), the consent → authorize → complete path,
/// bounded polling and webhook bodies.
enum FIO {
    /// A distinctive API key: alphanumerics and dashes, so it reads the same raw, percent-encoded
    /// and JSON-escaped, and a grep for it cannot miss.
    static let apiKey = "fk-Z9q7Lw3Xv2Rt8Ys1Kb6Mn4Pd0Hj5"
    /// The key's distinctive middle part: a key cut short or wrapped still contains it.
    static let apiKeyCore = "Lw3Xv2Rt8Ys1Kb6"
    static let webhookToken = "whk-Q4r8T1y6U3i9O2p5A7s0"

    static let domain = "shop.example"
    static let country = "DE"

    /// examples/policy/demo-policy.json, with an optional `enrollment.deleteUnauthorized` and
    /// `enrollment.ticketTTL`.
    static func policy(deleteUnauthorized: Bool? = nil, ticketTTL: String = "PT10M") -> String {
        let extra = deleteUnauthorized.map { #", "deleteUnauthorized": \#($0)"# } ?? ""
        return """
            {
              "version": 1,
              "purposes": ["authentication"],
              "domains": ["shop.example", "*.shop.example", "localhost"],
              "countries": { "deny": ["KP"] },
              "consent": {
                "affirmativeMethods": ["click", "checkbox", "signature"],
                "maxAgeBeforeEnrollment": "PT15M"
              },
              "enrollment": { "ticketTTL": "\(ticketTTL)", "allowReenrollment": false\(extra) },
              "minors": { "defaultAgeOfConsent": 16, "guardianConsent": "required" },
              "retention": {
                "maxSinceEnrollment": "P3Y",
                "maxSinceLastInteraction": "P1Y",
                "deleteAfterRevocation": "PT0S"
              },
              "sweep": { "interval": "PT1H" }
            }

            """
    }

    /// How the server gets the API key.
    enum KeySource: Sendable {
        case none
        case file(String)
        case environment(String)
    }

    /// How the server gets the webhook token.
    enum TokenSource: Sendable {
        case none
        case file(String)
        case environment(String)
    }

    /// Fast retries for tests: jitter over at most 0.5 s, so (whole-second schedule) about one
    /// attempt per second while FACEIO misbehaves.
    static let fastRetryArguments = ["--faceio-retry-base", "0.25", "--faceio-retry-cap", "0.5"]

    /// A server (not yet started) pointed at `fake`, with the key and token as asked.
    static func makeServer(
        fake: FakeFaceIO?, key: KeySource, token: TokenSource = .none, policy: String = FIO.policy(), arguments: [String] = []
    ) throws -> LiveServer {
        var args = fastRetryArguments + arguments
        if let fake { args += ["--faceio-url", fake.baseURL] }
        let server = try LiveServer(policy: policy, arguments: args)
        switch key {
        case .none: break
        case .file(let k):
            try server.directory.write("faceio.key", k + "\n")
            server.arguments += ["--faceio-key-file", server.directory.file("faceio.key")]
        case .environment(let k):
            server.environment["FIOGUARD_FACEIO_API_KEY"] = k
        }
        switch token {
        case .none:
            server.environment["FIOGUARD_FACEIO_WEBHOOK_TOKEN"] = ""
        case .file(let t):
            try server.directory.write("webhook.token", t + "\n")
            server.arguments += ["--faceio-webhook-token-file", server.directory.file("webhook.token")]
            server.environment["FIOGUARD_FACEIO_WEBHOOK_TOKEN"] = ""
        case .environment(let t):
            server.environment["FIOGUARD_FACEIO_WEBHOOK_TOKEN"] = t
        }
        return server
    }

    /// A started server + fake + recording client; runs `body` and always stops all three and
    /// removes the server's directory. A thrown error carries the tail of the server log and the
    /// fake's calls.
    static func withServer<T>(
        key: KeySource = .file(FIO.apiKey), fakeKey: String = FIO.apiKey, token: TokenSource = .none,
        policy: String = FIO.policy(), arguments: [String] = [], fakeMode: FakeFaceIO.Mode = .ok,
        _ body: (LiveServer, FakeFaceIO, Client) async throws -> T
    ) async throws -> T {
        let fake = try await FakeFaceIO.start(expectedKey: fakeKey)
        fake.mode = fakeMode
        let server: LiveServer
        do {
            server = try makeServer(fake: fake, key: key, token: token, policy: policy, arguments: arguments)
        } catch {
            await fake.stop()
            throw error
        }
        var client: Client?
        do {
            try await server.start()
            let c = try await Client.connect(server)
            client = c
            let result = try await body(server, fake, c)
            await c.close()
            await server.cleanUp()
            await fake.stop()
            return result
        } catch {
            let log = String(server.log.suffix(4000))
            let calls = fake.calls.suffix(20).map { "\($0.path) fid=\($0.fid ?? "-")" }.joined(separator: ", ")
            await client?.close()
            await server.cleanUp()
            await fake.stop()
            throw TestSupportError("\(error)\n--- fake calls (last 20) ---\n\(calls)\n--- server log (tail) ---\n\(log)")
        }
    }

    // MARK: the recording client

    /// A JSON-RPC error answer.
    struct CallError: Error, CustomStringConvertible {
        let error: JSON
        var code: Int64? { error["code"]?.intValue }
        var reason: String? { error["data"]?["reason"]?.stringValue }
        var message: String? { error["message"]?.stringValue }
        var description: String { error.encodedString() }
    }

    /// Wraps `RPCTestClient` with a bounded wait per call and keeps every answer's text, across
    /// reconnections (after a server restart).
    final class Client: Sendable {
        private let inner: Mutex<RPCTestClient>
        private let answers = Mutex<[String]>([])

        private init(inner: RPCTestClient) {
            self.inner = Mutex(inner)
        }

        static func connect(_ server: LiveServer) async throws -> Client {
            Client(inner: try await server.connect())
        }

        /// Drops the current connection and connects to `server` again (after a restart).
        func reconnect(_ server: LiveServer) async throws {
            let fresh = try await server.connect()
            let old = inner.withLock { c -> RPCTestClient in
                defer { c = fresh }
                return c
            }
            await old.close()
        }

        /// Every answer received so far, as JSON text.
        var transcript: [String] { answers.withLock { $0 } }

        /// The `result`, or throws `CallError`.
        @discardableResult
        func call(_ method: String, _ params: JSON? = nil) async throws -> JSON {
            let c = inner.withLock { $0 }
            let answer = try await c.request(method, params, timeout: .seconds(15))
            answers.withLock { $0.append(answer.encodedString()) }
            if let e = answer["error"] { throw CallError(error: e) }
            return answer["result"] ?? .null
        }

        /// Expects the call to fail; returns the error (nil, with an issue recorded, otherwise).
        func failure(
            _ method: String, _ params: JSON? = nil, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> CallError? {
            do {
                let r = try await call(method, params)
                Issue.record("\(method): expected an error, got \(r.encodedString())", sourceLocation: sourceLocation)
                return nil
            } catch let e as CallError {
                return e
            }
        }

        func close() async { await inner.withLock { $0 }.close() }
    }

    // MARK: subjects and Facial IDs

    static func consentParams(subject: String) -> JSON {
        [
            "subject": .string(subject), "purposes": ["authentication"], "noticeVersion": "1", "collectionMethod": "checkbox",
            "domain": .string(domain), "country": .string(country), "age": 30,
        ]
    }

    /// Records consent and returns an allowed `enroll.authorize`'s ticket.
    static func authorize(_ client: Client, subject: String) async throws -> String {
        try await client.call("consent.record", consentParams(subject: subject))
        let decision = try await client.call(
            "enroll.authorize",
            ["subject": .string(subject), "domain": .string(domain), "country": .string(country), "trigger": "user_action"])
        guard decision["allow"]?.boolValue == true, let ticket = decision["ticket"]?.stringValue else {
            throw TestSupportError("enroll.authorize did not allow: \(decision.encodedString())")
        }
        return ticket
    }

    /// Consent → authorize → complete: `subject` owns the active Facial ID `facialId`.
    static func enroll(_ client: Client, subject: String, facialId: String) async throws {
        let ticket = try await authorize(client, subject: subject)
        try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": .string(facialId)])
    }

    /// `facialId.delete {subject, confirm: true}`: the deletions it reports.
    @discardableResult
    static func delete(_ client: Client, subject: String) async throws -> [JSON] {
        try await client.call("facialId.delete", ["subject": .string(subject), "confirm": true])["deletions"]?.arrayValue ?? []
    }

    /// The subject's first Facial ID as `facialId.show` reports it.
    static func facialID(_ client: Client, subject: String) async throws -> JSON {
        let shown = try await client.call("facialId.show", ["subject": .string(subject)])
        guard let first = shown["facialIds"]?.arrayValue?.first else {
            throw TestSupportError("facialId.show lists no Facial ID: \(shown.encodedString())")
        }
        return first
    }

    /// Polls `facialId.show` until the deletion's status is `status`; returns that Facial ID entry.
    static func waitForDeletion(
        _ client: Client, subject: String, status: String, timeout: Duration = .seconds(20)
    ) async throws -> JSON {
        let found = try await eventually(timeout: timeout) { () -> JSON? in
            let f = try await facialID(client, subject: subject)
            // Not `? f : nil`: JSON is ExpressibleByNilLiteral, so that nil would be JSON.null.
            guard f["deletion"]?["status"]?.stringValue == status else { return Optional<JSON>.none }
            return f
        }
        guard let found else {
            let last = try await facialID(client, subject: subject)
            throw TestSupportError("deletion of \(subject) not \(status) within \(timeout): \(last.encodedString())")
        }
        return found
    }

    static func health(_ client: Client) async throws -> JSON {
        try await client.call("system.health")
    }

    /// `deletion.list` (admin) entries, optionally of one status.
    static func deletions(_ client: Client, status: String? = nil) async throws -> [JSON] {
        var params = JSONObject([("limit", .int(1000))])
        if let status { params["status"] = .string(status) }
        return try await client.call("deletion.list", .object(params))["deletions"]?.arrayValue ?? []
    }

    static func auditActions(_ client: Client, subject: String? = nil) async throws -> [String] {
        try await auditEntries(client, subject: subject).compactMap { $0["action"]?.stringValue }
    }

    static func auditEntries(_ client: Client, subject: String? = nil) async throws -> [JSON] {
        var params = JSONObject([("limit", .int(10_000))])
        if let subject { params["subject"] = .string(subject) }
        return try await client.call("audit.query", .object(params))["entries"]?.arrayValue ?? []
    }

    // MARK: waiting

    /// Polls until `condition` holds; throws with `what` after `timeout`.
    static func waitUntil(
        _ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
    ) async throws {
        let ok = try await eventually(timeout: timeout) { try await condition() ? true : nil }
        guard ok == true else { throw TestSupportError("timed out after \(timeout) waiting for: \(what)") }
    }

    // MARK: webhooks

    /// A FACEIO webhook body (raw JSON text). `timestamp` makes otherwise equal bodies differ.
    static func webhookBody(event: String, facialId: String, ticket: String? = nil, timestamp: Int = 1_790_000_000) -> String {
        var o = JSONObject([
            ("eventName", .string(event)), ("facialId", .string(facialId)), ("appId", "fioa1b2c"), ("clientIp", "203.0.113.7"),
            ("details", ["timestamp": .int(timestamp), "gender": "unknown"]),
        ])
        if let ticket { o["payload"] = ["ticket": .string(ticket)] }
        return JSON.object(o).encodedString()
    }

    /// `webhook.ingest` params with FACEIO's header (`WWW-Authenticate: Bearer <token>`).
    static func ingestParams(body: String, headers: [(String, String)]? = nil) -> JSON {
        let h = headers ?? [("WWW-Authenticate", "Bearer \(webhookToken)"), ("Content-Type", "application/json")]
        return ["headers": .object(JSONObject(h.map { ($0.0, JSON.string($0.1)) })), "body": .string(body)]
    }

    /// Ingests `body` with the right token and returns the result.
    @discardableResult
    static func ingest(_ client: Client, _ body: String) async throws -> JSON {
        try await client.call("webhook.ingest", ingestParams(body: body))
    }

    /// The secret's occurrences (raw and percent-encoded) in `text`, as short excerpts.
    static func leaks(of secret: String, core: String? = nil, in text: String) -> [String] {
        var needles = [secret]
        if let core { needles.append(core) }
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != secret { needles.append(encoded) }
        var out: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if needles.contains(where: { line.contains($0) }) { out.append(String(line.prefix(300))) }
        }
        return out
    }
}
