import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// Shared pieces of the lifecycle integration tests: policy texts, a scoped live server, and the
/// consent → authorize → complete path every Facial ID test starts from.
enum Lifecycle {
    static let domain = "shop.example"
    static let country = "DE"

    /// A policy file's text. Every argument is a JSON fragment (or nil to leave the key out); the
    /// defaults are the demo policy's (domains shop.example, *.shop.example, localhost; all
    /// countries but KP).
    static func policy(
        purposes: String = #"["authentication"]"#,
        domains: String = #"["shop.example", "*.shop.example", "localhost"]"#,
        countries: String = #"{"deny": ["KP"]}"#,
        consent: String? = nil,
        enrollment: String? = nil,
        minors: String? = nil,
        retention: String? = nil,
        sweep: String? = nil,
        extra: String? = nil
    ) -> String {
        var parts = [
            #""version": 1"#,
            #""purposes": \#(purposes)"#,
            #""domains": \#(domains)"#,
            #""countries": \#(countries)"#,
        ]
        if let consent { parts.append(#""consent": \#(consent)"#) }
        if let enrollment { parts.append(#""enrollment": \#(enrollment)"#) }
        if let minors { parts.append(#""minors": \#(minors)"#) }
        if let retention { parts.append(#""retention": \#(retention)"#) }
        if let sweep { parts.append(#""sweep": \#(sweep)"#) }
        if let extra { parts.append(extra) }
        return "{\n  " + parts.joined(separator: ",\n  ") + "\n}\n"
    }

    /// The demo policy (examples/policy/demo-policy.json) spelled out.
    static let demoPolicy = policy(
        consent: #"{"affirmativeMethods": ["click", "checkbox", "signature"], "maxAgeBeforeEnrollment": "PT15M"}"#,
        enrollment: #"{"ticketTTL": "PT10M", "allowReenrollment": false}"#,
        minors: #"{"defaultAgeOfConsent": 16, "guardianConsent": "required"}"#,
        retention: #"{"maxSinceEnrollment": "P3Y", "maxSinceLastInteraction": "P1Y", "deleteAfterRevocation": "PT0S"}"#,
        sweep: #"{"interval": "PT1H"}"#)

    /// Params of a `consent.record` an adult in Germany gives by ticking a box on shop.example.
    static func consentParams(
        subject: String, purposes: [String] = ["authentication"], collectionMethod: String = "checkbox",
        domain: String = domain, country: String = country, region: String? = nil, age: Int64? = 30,
        locale: String? = "de-DE", idempotencyKey: String? = nil, noticeVersion: String = "notice-2026-11",
        guardian: JSON? = nil
    ) -> JSON {
        var o = JSONObject([
            ("subject", .string(subject)), ("purposes", .strings(purposes)), ("noticeVersion", .string(noticeVersion)),
            ("collectionMethod", .string(collectionMethod)), ("domain", .string(domain)), ("country", .string(country)),
        ])
        if let region { o["region"] = .string(region) }
        if let age { o["age"] = .int(age) }
        if let locale { o["locale"] = .string(locale) }
        if let idempotencyKey { o["idempotencyKey"] = .string(idempotencyKey) }
        if let guardian { o["guardian"] = guardian }
        return .object(o)
    }

    static func authorizeParams(
        subject: String, domain: String = domain, country: String = country, region: String? = nil,
        trigger: String = "user_action"
    ) -> JSON {
        var o = JSONObject([
            ("subject", .string(subject)), ("domain", .string(domain)), ("country", .string(country)), ("trigger", .string(trigger)),
        ])
        if let region { o["region"] = .string(region) }
        return .object(o)
    }

    /// Records consent and returns the `consent.record` result.
    @discardableResult
    static func recordConsent(_ client: RPCTestClient, subject: String, purposes: [String] = ["authentication"]) async throws -> JSON {
        try await client.call("consent.record", consentParams(subject: subject, purposes: purposes))
    }

    /// An allowed `enroll.authorize`; fails the test (throws) when the decision is a denial.
    static func authorize(_ client: RPCTestClient, subject: String) async throws -> (decision: JSON, ticket: String) {
        let decision = try await client.call("enroll.authorize", authorizeParams(subject: subject))
        guard decision["allow"]?.boolValue == true, let ticket = decision["ticket"]?.stringValue else {
            throw TestSupportError("enroll.authorize did not allow: \(decision.encodedString())")
        }
        return (decision, ticket)
    }

    /// Consent → authorize → complete. Returns the `enroll.complete` result.
    @discardableResult
    static func enroll(
        _ client: RPCTestClient, subject: String, facialId: String, purposes: [String] = ["authentication"]
    ) async throws -> JSON {
        try await recordConsent(client, subject: subject, purposes: purposes)
        let (_, ticket) = try await authorize(client, subject: subject)
        return try await client.call("enroll.complete", ["ticket": .string(ticket), "facialId": .string(facialId)])
    }

    /// The failed reason codes of a decision.
    static func failedCodes(_ decision: JSON?) -> [String] {
        (decision?["reasons"]?.arrayValue ?? []).filter { $0["passed"]?.boolValue == false }.compactMap { $0["code"]?.stringValue }
    }

    static func codes(_ decision: JSON?) -> [String] {
        (decision?["reasons"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
    }

    /// Parses an RFC 3339 UTC time of the API (`2026-11-27T04:37:46Z`).
    static func date(_ json: JSON?) -> Date? {
        guard let text = json?.stringValue else { return nil }
        return ISO8601DateFormatter().date(from: text)
    }

    /// The `entries` of `audit.query`.
    static func auditEntries(_ client: RPCTestClient, subject: String? = nil, limit: Int64 = 10_000) async throws -> [JSON] {
        var params = JSONObject([("limit", .int(limit))])
        if let subject { params["subject"] = .string(subject) }
        return try await client.call("audit.query", .object(params))["entries"]?.arrayValue ?? []
    }

    /// Runs `sqlite3 DB SQL` (the CLI) and returns its stdout; throws on a non-zero exit.
    @discardableResult
    static func sqlite(_ database: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", database, sql]
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw TestSupportError("sqlite3 \(sql) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Which of `values` still appear, byte for byte, in the database file or its `-wal` (free
    /// space included, which `.dump` does not show), as "value in file". The file must exist.
    static func valuesInFileBytes(_ values: [String], database: String) -> [String] {
        var found: [String] = []
        for path in [database, database + "-wal"] {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                if path == database { found.append("(cannot read \(path))") }
                continue
            }
            for value in values where bytes.range(of: Data(value.utf8)) != nil {
                found.append("\(value) in \(path)")
            }
        }
        return found
    }
}

extension Lifecycle {
    /// Starts a server with `policy`, connects one client, runs `body`, and always stops the server
    /// and removes its directory. A thrown error carries the tail of the server log.
    static func withServer<T>(
        policy: String? = Lifecycle.demoPolicy, arguments: [String] = [],
        _ body: (LiveServer, RPCTestClient) async throws -> T
    ) async throws -> T {
        let server = try await LiveServer.started(policy: policy, arguments: arguments)
        let client: RPCTestClient
        do {
            client = try await server.connect()
        } catch {
            await server.cleanUp()
            throw error
        }
        do {
            let result = try await body(server, client)
            await client.close()
            await server.cleanUp()
            return result
        } catch {
            let log = String(server.log.suffix(3000))
            await client.close()
            await server.cleanUp()
            throw TestSupportError("\(error)\n--- server log (tail) ---\n\(log)")
        }
    }

    /// Runs `body`, expects it to fail with the domain error `reason`, and returns the error.
    @discardableResult
    static func expectError(
        _ reason: String, code: Int64? = nil, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> JSON
    ) async -> RemoteError? {
        do {
            let result = try await body()
            Issue.record("expected error \(reason), got result \(result.encodedString())", sourceLocation: sourceLocation)
            return nil
        } catch let e as RemoteError {
            #expect(e.reason == reason, "error: \(e)", sourceLocation: sourceLocation)
            if let code { #expect(e.code == code, "error: \(e)", sourceLocation: sourceLocation) }
            return e
        } catch {
            Issue.record("expected error \(reason), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}
