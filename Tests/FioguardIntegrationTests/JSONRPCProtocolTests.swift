import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// JSON-RPC 2.0 as a client sees it over the real socket: results, ids, notifications, batches and
/// every error case, each with `error.data.reason`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct JSONRPCProtocolTests {
    /// One server and one connection per test; the connection must still work at the end.
    private func withConnection(
        policy: String? = nil, arguments: [String] = [], environment: [String: String] = [:],
        _ body: (LiveServer, RPCTestClient) async throws -> Void
    ) async throws {
        let server = try await LiveServer.started(policy: policy, arguments: arguments, environment: environment)
        let c: RPCTestClient
        do {
            c = try await server.connect()
        } catch {
            await server.cleanUp()
            throw error
        }
        do {
            try await body(server, c)
            try await Spine.expectPing(c, id: "final")
        } catch {
            await c.close()
            await server.cleanUp()
            throw error
        }
        await c.close()
        await Spine.stop(server)
    }

    @Test func pingAndHealth() async throws {
        try await withConnection { _, c in
            #expect(try await c.call("system.ping", timeout: Spine.lineTimeout) == ["pong": true])
            #expect(try await c.call("system.ping", [:], timeout: Spine.lineTimeout) == ["pong": true])
            let h = try await c.call("system.health", timeout: Spine.lineTimeout)
            #expect(["ok", "degraded"].contains(h["status"]?.stringValue ?? ""), "\(h)")
            #expect(h["version"]?.stringValue?.isEmpty == false)
            #expect((h["uptimeSeconds"]?.intValue ?? -1) >= 0)
            #expect(h["database"] != nil && h["database"] != .null)
            let f = h["faceio"]
            #expect(f?["configured"] == false)
            #expect(f?["pendingDeletions"]?.intValue == 0)
            #expect(f?["failedDeletions"]?.intValue == 0)
        }
    }

    @Test func healthSaysWhenFaceIOIsConfigured() async throws {
        try await withConnection(environment: ["FIOGUARD_FACEIO_API_KEY": "test-key-not-real"]) { server, c in
            let h = try await c.call("system.health", timeout: Spine.lineTimeout)
            #expect(h["faceio"]?["configured"] == true, "\(h)")
            #expect(!h.encodedString().contains("test-key-not-real"))
            #expect(!server.log.contains("test-key-not-real"))
        }
    }

    @Test func idsAreEchoedExactly() async throws {
        try await withConnection { _, c in
            for id: JSON in [
                "abc", "", "ünï-😀 \"quoted\"", 0, -1, 42, .int(Int64.max), .int(Int64.min), 9_007_199_254_740_993, 1.5, -0.25, .null,
            ] {
                try await c.send(line: Spine.line("system.ping", id: id))
                let raw = try #require(try await c.readLine(timeout: Spine.lineTimeout))
                let r = try JSON.parse(raw)
                #expect(r["id"] == id, "\(r)")
                #expect(r["result"] == ["pong": true])
                let text = String(decoding: raw, as: UTF8.self)
                #expect(text.hasSuffix(#""id":\#(id.encodedString())}"#), "\(text)")
            }
            // Ids of errors too.
            let e = try await c.request("no.such.method", id: "err-7", timeout: Spine.lineTimeout)
            Spine.expectError(e, code: -32601, reason: "METHOD_NOT_FOUND", id: "err-7")
        }
    }

    @Test func responsesHaveExactlyTheSpecifiedMembers() async throws {
        try await withConnection { _, c in
            let ok = try await c.request("system.ping", id: 1, timeout: Spine.lineTimeout)
            #expect(ok.objectValue?.keys.sorted() == ["id", "jsonrpc", "result"])
            let bad = try await c.request("no.such", id: 2, timeout: Spine.lineTimeout)
            #expect(bad.objectValue?.keys.sorted() == ["error", "id", "jsonrpc"])
            let errorKeys = Set(bad["error"]?.objectValue?.keys ?? [])
            #expect(errorKeys.isSubset(of: ["code", "message", "data"]))
        }
    }

    @Test func parseErrors() async throws {
        try await withConnection { _, c in
            let cases: [(String, [UInt8])] = [
                ("garbage", Array("hello".utf8)),
                ("truncated", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":1"#.utf8)),
                ("trailing data", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":1} x"#.utf8)),
                ("two values", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":1}{}"#.utf8)),
                ("single quotes", Array("{'jsonrpc':'2.0'}".utf8)),
                ("invalid UTF-8", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)),
                ("NUL escape in a key", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":1,"a\u0000":1}"#.utf8)),
                ("raw NUL", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":"a"#.utf8) + [0] + Array(#""}"#.utf8)),
                ("duplicate key", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":1,"id":2}"#.utf8)),
                ("duplicate method", Array(#"{"jsonrpc":"2.0","method":"system.ping","method":"system.health","id":1}"#.utf8)),
                ("duplicate nested key", Array(#"{"jsonrpc":"2.0","method":"system.ping","params":{"a":1,"a":1},"id":1}"#.utf8)),
                ("lone surrogate", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":"\uD800"}"#.utf8)),
                ("integer overflow", Array(#"{"jsonrpc":"2.0","method":"system.ping","id":99999999999999999999}"#.utf8)),
            ]
            for (name, bytes) in cases {
                let r = try await Spine.exchange(c, raw: bytes)
                #expect(r["error"]?["code"] == -32700, "\(name): \(r)")
                Spine.expectError(r, code: -32700, reason: "PARSE_ERROR", id: .null)
            }
        }
    }

    /// `\u0000` in a string is valid JSON (unlike a raw NUL byte): the request keeps its id, and
    /// a param holding it is refused by name.
    @Test func anEscapedNULKeepsTheRequestsIdAndIsRefusedByField() async throws {
        try await withConnection { _, c in
            let ping = try await Spine.exchange(c, #"{"jsonrpc":"2.0","method":"system.ping","id":"a\u0000b"}"#)
            #expect(ping["result"] == ["pong": true], "\(ping)")
            #expect(ping["id"] == .string("a\u{0}b"), "\(ping)")
            let show = try await Spine.exchange(c, #"{"jsonrpc":"2.0","method":"facialId.show","params":{"subject":"s\u0000"},"id":2}"#)
            #expect(Spine.expectError(show, code: -32602, reason: "INVALID_PARAMS", id: 2)?["data"]?["field"] == "params.subject")
            let reason = try await Spine.exchange(
                c, #"{"jsonrpc":"2.0","method":"consent.revoke","params":{"subject":"s-1","reason":"moved\u0000"},"id":3}"#)
            let e = Spine.expectError(reason, code: -32602, reason: "INVALID_PARAMS", id: 3)
            #expect(e?["data"]?["field"] == "params.reason")
            #expect(e?["message"] == "Invalid params: params.reason: must not contain U+0000", "\(reason)")
            let method = try await Spine.exchange(c, #"{"jsonrpc":"2.0","method":"system.ping\u0000","id":4}"#)
            Spine.expectError(method, code: -32601, reason: "METHOD_NOT_FOUND", id: 4)
        }
    }

    @Test func invalidRequests() async throws {
        try await withConnection { _, c in
            let cases: [(String, String)] = [
                ("missing jsonrpc", #"{"method":"system.ping","id":1}"#),
                ("jsonrpc 1.0", #"{"jsonrpc":"1.0","method":"system.ping","id":1}"#),
                ("jsonrpc number", #"{"jsonrpc":2.0,"method":"system.ping","id":1}"#),
                ("jsonrpc 2", #"{"jsonrpc":"2","method":"system.ping","id":1}"#),
                ("missing method", #"{"jsonrpc":"2.0","id":1}"#),
                ("numeric method", #"{"jsonrpc":"2.0","method":1,"id":1}"#),
                ("null method", #"{"jsonrpc":"2.0","method":null,"id":1}"#),
                ("object method", #"{"jsonrpc":"2.0","method":{"name":"system.ping"},"id":1}"#),
                ("string params", #"{"jsonrpc":"2.0","method":"system.ping","params":"x","id":1}"#),
                ("number params", #"{"jsonrpc":"2.0","method":"system.ping","params":3,"id":1}"#),
                ("boolean params", #"{"jsonrpc":"2.0","method":"system.ping","params":false,"id":1}"#),
                ("null params", #"{"jsonrpc":"2.0","method":"system.ping","params":null,"id":1}"#),
                ("unknown member", #"{"jsonrpc":"2.0","method":"system.ping","id":1,"foo":"bar"}"#),
                ("result member", #"{"jsonrpc":"2.0","method":"system.ping","id":1,"result":true}"#),
                ("scalar message", "42"),
                ("string message", #""system.ping""#),
                ("null message", "null"),
                ("nesting 65 deep", Spine.nested(65)),
                ("params nested too deep", Spine.line("system.ping", params: ["x": "X"]).replacingOccurrences(of: #""X""#, with: Spine.nested(63))),
            ]
            for (name, text) in cases {
                let r = try await Spine.exchange(c, text)
                #expect(r["error"]?["code"] == -32600, "\(name): \(r)")
                let id = r["id"] ?? .null
                #expect(id == 1 || id == .null, "\(name): \(r)")
                Spine.expectError(r, code: -32600, reason: "INVALID_REQUEST", id: id)
            }
            // 64 levels are still fine (the limit is "deeper than 64").
            let ok = try await Spine.exchange(c, Spine.line("system.ping", params: ["x": "X"]).replacingOccurrences(of: #""X""#, with: Spine.nested(62)))
            Spine.expectError(ok, code: -32602, reason: "INVALID_PARAMS", id: 1)
        }
    }

    @Test(arguments: [#"{"a":1}"#, "[1]", "[]", "true", "false"])
    func badIdTypesAreInvalidRequestsAnsweredWithNullId(_ id: String) async throws {
        try await withConnection { _, c in
            let r = try await Spine.exchange(c, #"{"jsonrpc":"2.0","method":"system.ping","id":\#(id)}"#)
            Spine.expectError(r, code: -32600, reason: "INVALID_REQUEST", id: .null)
        }
    }

    @Test func unknownMethods() async throws {
        try await withConnection { _, c in
            for name in ["no.such.method", "", "SYSTEM.PING", "system.ping ", "rpc.nope", String(repeating: "m", count: 5000)] {
                let r = try await c.request(name, id: 3, timeout: Spine.lineTimeout)
                let e = Spine.expectError(r, code: -32601, reason: "METHOD_NOT_FOUND", id: 3)
                #expect((e?["message"]?.stringValue?.count ?? 0) < 1000, "the message must not echo a huge name")
            }
        }
    }

    @Test func invalidParams() async throws {
        try await withConnection { _, c in
            // Positional params.
            let positional = try await c.request("system.ping", [1, 2], id: 1, timeout: Spine.lineTimeout)
            #expect(Spine.expectError(positional, code: -32602, reason: "INVALID_PARAMS", id: 1)?["data"]?["field"] == "params")
            let emptyPositional = try await c.request("system.ping", [], id: 1, timeout: Spine.lineTimeout)
            #expect(Spine.expectError(emptyPositional, code: -32602, reason: "INVALID_PARAMS", id: 1)?["data"]?["field"] == "params")

            // Wrong type deep inside: the whole path is named.
            let guardian = try await c.request(
                "consent.record", ["country": "DE", "guardian": ["relationship": 5, "verificationMethod": "id-card"]], id: 2,
                timeout: Spine.lineTimeout)
            let g = Spine.expectError(guardian, code: -32602, reason: "INVALID_PARAMS", id: 2)
            #expect(g?["data"]?["field"] == "params.guardian.relationship")
            #expect(g?["message"]?.stringValue?.contains("params.guardian.relationship") == true, "\(String(describing: g))")

            // Unknown fields, at the top and nested.
            let unknown = try await c.request("system.ping", ["pong": true], id: 3, timeout: Spine.lineTimeout)
            #expect(Spine.expectError(unknown, code: -32602, reason: "INVALID_PARAMS", id: 3)?["data"]?["field"] == "params.pong")
            let nestedUnknown = try await c.request(
                "consent.record", ["country": "DE", "guardian": ["relationship": "parent", "verificationMethod": "id-card", "x": 1]], id: 4,
                timeout: Spine.lineTimeout)
            #expect(
                Spine.expectError(nestedUnknown, code: -32602, reason: "INVALID_PARAMS", id: 4)?["data"]?["field"] == "params.guardian.x")

            // Wrong types and missing required fields.
            let wrongType = try await c.request("facialId.show", ["subject": 12], id: 5, timeout: Spine.lineTimeout)
            #expect(Spine.expectError(wrongType, code: -32602, reason: "INVALID_PARAMS", id: 5)?["data"]?["field"] == "params.subject")
            let missing = try await c.request("facialId.show", [:], id: 6, timeout: Spine.lineTimeout)
            #expect(Spine.expectError(missing, code: -32602, reason: "INVALID_PARAMS", id: 6)?["data"]?["field"] == "params.subject")
            let confirm = try await c.request("facialId.delete", ["subject": "s-1", "confirm": "yes"], id: 7, timeout: Spine.lineTimeout)
            #expect(Spine.expectError(confirm, code: -32602, reason: "INVALID_PARAMS", id: 7)?["data"]?["field"] == "params.confirm")
            let badArray = try await c.request("consent.revoke", ["subject": "s-1", "purposes": ["authentication", 3]], id: 8, timeout: Spine.lineTimeout)
            #expect(Spine.expectError(badArray, code: -32602, reason: "INVALID_PARAMS", id: 8)?["data"]?["field"] == "params.purposes[1]")
        }
    }

    @Test func domainErrorsCarryTheirReasonAndFixedCode() async throws {
        let me = getuid()
        let admin: UInt32 = me == 4242 ? 4343 : 4242
        try await withConnection(arguments: ["--admin-uid", "\(admin)"]) { server, c in
            let confirm = try await c.request("facialId.delete", ["subject": "s-1", "confirm": false], id: 1, timeout: Spine.lineTimeout)
            Spine.expectError(confirm, code: -32005, reason: "CONFIRMATION_REQUIRED", id: 1)
            let erase = try await c.request("subject.erase", ["subject": "s-1"], id: 2, timeout: Spine.lineTimeout)
            Spine.expectError(erase, code: -32005, reason: "CONFIRMATION_REQUIRED", id: 2)
            let ticket = try await c.request("enroll.complete", ["ticket": "no-such-ticket", "facialId": "fid-1"], id: 3, timeout: Spine.lineTimeout)
            Spine.expectError(ticket, code: -32004, reason: "TICKET_INVALID", id: 3)
            let notFound = try await c.request("facialId.show", ["subject": "nobody-here"], id: 4, timeout: Spine.lineTimeout)
            Spine.expectError(notFound, code: -32002, reason: "NOT_FOUND", id: 4)
            // Admin methods for a uid that is not an admin.
            for (i, m) in ["retention.sweep", "audit.verify", "audit.query", "policy.reload"].enumerated() {
                let r = try await c.request(m, id: .int(Int64(10 + i)), timeout: Spine.lineTimeout)
                Spine.expectError(r, code: -32006, reason: "FORBIDDEN", id: .int(Int64(10 + i)))
            }
            // Ordinary methods are still open.
            #expect(try await c.call("system.health", timeout: Spine.lineTimeout)["status"] != nil)
            _ = server
        }
    }

    @Test func policyInvalidOnReloadOfABrokenFile() async throws {
        let policy = try String(contentsOfFile: Self.demoPolicyPath, encoding: .utf8)
        try await withConnection(policy: policy) { server, c in
            let before = try await c.call("policy.reload", timeout: Spine.lineTimeout)["policyVersion"]
            try "{ not json".write(toFile: server.policyPath, atomically: true, encoding: .utf8)
            let r = try await c.request("policy.reload", id: 1, timeout: Spine.lineTimeout)
            Spine.expectError(r, code: -32009, reason: "POLICY_INVALID", id: 1)
            // The old policy stays in force.
            let health = try await c.call("system.health", timeout: Spine.lineTimeout)
            #expect(health["policyVersion"] == before)
        }
    }

    static var demoPolicyPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/policy/demo-policy.json").path
    }

    @Test func notificationsAreNeverAnswered() async throws {
        try await withConnection { _, c in
            let notifications = [
                Spine.line("system.ping", id: nil),  // succeeds
                Spine.line("system.health", id: nil),
                Spine.line("no.such.method", id: nil),  // fails: unknown method
                Spine.line("system.ping", params: ["x": 1], id: nil),  // fails: unknown field
                Spine.line("system.ping", params: [1], id: nil),  // fails: positional params
                Spine.line("facialId.delete", params: ["subject": "s", "confirm": false], id: nil),  // fails: domain error
                Spine.line("facialId.show", params: ["subject": "nobody"], id: nil),
            ]
            try await c.send(raw: Array(notifications.map { $0 + "\n" }.joined().utf8))
            // The first line to come back must be the answer to this request.
            let r = try await c.request("system.ping", id: "after-notifications", timeout: Spine.lineTimeout)
            #expect(r["id"] == "after-notifications", "a notification was answered: \(r)")
            #expect(r["result"] == ["pong": true])
        }
    }

    @Test func batches() async throws {
        try await withConnection { _, c in
            let batch = "[" + [
                Spine.line("system.ping", id: 1),
                Spine.line("system.ping", id: nil),
                Spine.line("no.such", id: "two"),
                Spine.line("system.ping", params: [1], id: 3),
                #"{"jsonrpc":"2.0","method":"system.ping","id":{"bad":1}}"#,
                "17",
                Spine.line("system.health", id: 4),
            ].joined(separator: ",") + "]"
            let r = try await Spine.exchange(c, batch)
            let items = try #require(r.arrayValue, "a batch is answered with an array: \(r)")
            try #require(items.count == 6, "\(r)")
            #expect(items[0]["id"] == 1)
            #expect(items[0]["result"] == ["pong": true])
            Spine.expectError(items[1], code: -32601, reason: "METHOD_NOT_FOUND", id: "two")
            Spine.expectError(items[2], code: -32602, reason: "INVALID_PARAMS", id: 3)
            Spine.expectError(items[3], code: -32600, reason: "INVALID_REQUEST", id: .null)
            Spine.expectError(items[4], code: -32600, reason: "INVALID_REQUEST", id: .null)
            #expect(items[5]["id"] == 4)
            #expect(items[5]["result"]?["status"] != nil)
        }
    }

    @Test func allNotificationBatchIsAnsweredWithNothing() async throws {
        try await withConnection { _, c in
            let batch = "[" + [Spine.line("system.ping", id: nil), Spine.line("no.such", id: nil), Spine.line("system.health", id: nil)]
                .joined(separator: ",") + "]"
            try await c.send(line: batch)
            let r = try await c.request("system.ping", id: "after-batch", timeout: Spine.lineTimeout)
            #expect(r["id"] == "after-batch", "the all-notification batch was answered: \(r)")
        }
    }

    @Test func emptyBatchIsOneInvalidRequest() async throws {
        try await withConnection { _, c in
            let r = try await Spine.exchange(c, "[]")
            #expect(r.arrayValue == nil, "must be a single error object, not an array: \(r)")
            Spine.expectError(r, code: -32600, reason: "INVALID_REQUEST", id: .null)
        }
    }

    @Test func batchOfScalarsGetsOneErrorPerElement() async throws {
        try await withConnection { _, c in
            let r = try await Spine.exchange(c, "[1,2,3]")
            let items = try #require(r.arrayValue)
            #expect(items.count == 3)
            for item in items { Spine.expectError(item, code: -32600, reason: "INVALID_REQUEST", id: .null) }
        }
    }

    @Test func batchElementsAreAuthorizedOneByOne() async throws {
        let me = getuid()
        let admin: UInt32 = me == 4242 ? 4343 : 4242
        try await withConnection(arguments: ["--admin-uid", "\(admin)"]) { _, c in
            let batch = "[" + [Spine.line("audit.verify", id: 1), Spine.line("system.ping", id: 2)].joined(separator: ",") + "]"
            let items = try #require(try await Spine.exchange(c, batch).arrayValue)
            try #require(items.count == 2)
            Spine.expectError(items[0], code: -32006, reason: "FORBIDDEN", id: 1)
            #expect(items[1]["result"] == ["pong": true])
        }
    }

    /// JSON-RPC 2.0 §6: `{"foo": "boo"}` and `{"jsonrpc": "2.0", "method": 1, "params": "bar"}` are
    /// not Request objects, so not notifications either: each is answered with -32600 and id null.
    @Test func invalidRequestObjectsWithoutIdAreAnswered() async throws {
        try await withConnection { _, c in
            for text in [#"{"foo":"boo"}"#, #"{"jsonrpc":"2.0","method":1,"params":"bar"}"#, "{}"] {
                try await c.send(line: text)
                try await c.send(line: Spine.pingLine(id: 99))
                let first = try await Spine.read(c)
                if first["id"] == 99 {
                    Issue.record("\(text) was not answered")
                } else {
                    Spine.expectError(first, code: -32600, reason: "INVALID_REQUEST", id: .null)
                    #expect(try await Spine.read(c)["id"] == 99)
                }
            }
        }
    }

    @Test func everyErrorCarriesAReason() async throws {
        try await withConnection { _, c in
            let lines = [
                "{", "[]", "[1]", #"{"jsonrpc":"2.0","id":1}"#, Spine.line("nope"), Spine.line("system.ping", params: [1]),
                Spine.line("system.ping", params: ["a": 1]), Spine.line("facialId.delete", params: ["subject": "s", "confirm": false]),
            ]
            for text in lines {
                let r = try await Spine.exchange(c, text)
                let errors = r.arrayValue ?? [r]
                for e in errors {
                    #expect(e["error"]?["data"]?["reason"]?.stringValue?.isEmpty == false, "\(text) -> \(r)")
                    #expect(e["error"]?["code"]?.intValue != nil, "\(text) -> \(r)")
                }
            }
        }
    }
}
