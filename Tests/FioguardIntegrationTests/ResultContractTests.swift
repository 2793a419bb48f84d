import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// Every method's result against the result schema the published contract gives it
/// (`rpc.discover`, i.e. proto-docs/openrpc.json), over a whole lifecycle against a fake FACEIO:
/// the types, required members, enums, formats and closed objects the document promises are what
/// a client gets, in each state a result can show (allowed and denied decisions, a Facial ID
/// active and deleted, a dry and a real sweep).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ResultContractTests {
    /// The JSON Schema keywords the document uses: `type` (a name or a list), `enum`, `const`,
    /// `format` (`date-time`, `date`), `properties`, `required`, `additionalProperties` (a boolean
    /// or a schema) and `items`. A `$ref` (only `rpc.discover`'s, to the OpenRPC meta-schema) is
    /// not followed. Returns each mismatch with its path.
    static func mismatches(_ value: JSON, _ schema: JSON, at path: String = "result") -> [String] {
        guard schema["$ref"] == nil else { return [] }
        var out: [String] = []
        let kind: String
        switch value {
        case .null: kind = "null"
        case .bool: kind = "boolean"
        case .int: kind = "integer"
        case .double: kind = "number"
        case .string: kind = "string"
        case .array: kind = "array"
        case .object: kind = "object"
        case .encoded(let e): return mismatches(e.value, schema, at: path)
        }
        if let type = schema["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue ?? "?"]
            let ok = allowed.contains(kind) || (kind == "integer" && allowed.contains("number"))
            if !ok { return ["\(path): \(kind), documented as \(allowed.joined(separator: " or "))"] }
        }
        if let choices = schema["enum"]?.arrayValue, !choices.contains(value) {
            out.append("\(path): \(value.encodedString()) is not one of \(JSON.array(choices).encodedString())")
        }
        if let constant = schema["const"], constant != value {
            out.append("\(path): \(value.encodedString()), documented as always \(constant.encodedString())")
        }
        if case .string(let s) = value, let format = schema["format"]?.stringValue {
            let pattern = switch format {
            case "date-time": #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"#
            case "date": #"^\d{4}-\d{2}-\d{2}$"#
            default: ".*"
            }
            if s.range(of: pattern, options: .regularExpression) == nil {
                out.append("\(path): \"\(s)\" is not a \(format)")
            }
        }
        if case .object(let o) = value {
            let properties = schema["properties"]?.objectValue ?? JSONObject()
            for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where o[key] == nil {
                out.append("\(path).\(key): required, missing")
            }
            for member in o {
                if let p = properties[member.key] {
                    out += mismatches(member.value, p, at: "\(path).\(member.key)")
                } else if schema["additionalProperties"] == false {
                    out.append("\(path).\(member.key): not documented, and the object is closed")
                } else if let extra = schema["additionalProperties"], extra.objectValue != nil {
                    out += mismatches(member.value, extra, at: "\(path).\(member.key)")
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (i, item) in items.enumerated() { out += mismatches(item, itemSchema, at: "\(path)[\(i)]") }
        }
        return out
    }

    @Test func theCheckerFindsWhatItLooksFor() throws {
        let schema = try JSON.parse(#"""
            {"type": "object", "required": ["a", "when"], "additionalProperties": false, "properties": {
              "a": {"type": ["string", "null"], "enum": ["x", null]}, "n": {"type": "number"},
              "when": {"type": "string", "format": "date-time"},
              "list": {"type": "array", "items": {"type": "integer"}}}}
            """#)
        #expect(Self.mismatches(["a": "x", "when": "2026-11-27T04:37:46Z", "n": 3, "list": [1, 2]], schema).isEmpty)
        #expect(Self.mismatches(["a": .null, "when": "2026-11-27T04:37:46.5Z"], schema).isEmpty)
        #expect(Self.mismatches(["a": "y", "when": "2026-11-27"], schema) == [
            #"result.a: "y" is not one of ["x",null]"#, #"result.when: "2026-11-27" is not a date-time"#,
        ])
        #expect(Self.mismatches(["when": "2026-11-27T04:37:46Z", "b": 1, "list": [1, "2"]], schema) == [
            "result.a: required, missing", "result.b: not documented, and the object is closed",
            "result.list[1]: string, documented as integer",
        ])
        #expect(Self.mismatches([1], schema) == ["result: array, documented as object"])
    }

    @Test func everyResultIsWhatTheContractSays() async throws {
        try await FIO.withServer(token: .file(FIO.webhookToken)) { server, fake, c in
            let contract = try await c.call("rpc.discover")
            var schemas: [String: JSON] = [:]
            for m in contract["methods"]?.arrayValue ?? [] {
                if let name = m["name"]?.stringValue, let schema = m["result"]?["schema"] { schemas[name] = schema }
            }
            var checked: Set<String> = []
            func call(_ method: String, _ params: JSON? = nil) async throws -> JSON {
                let result = try await c.call(method, params)
                guard let schema = schemas[method] else {
                    Issue.record("\(method) has no result schema in the contract")
                    return result
                }
                let problems = Self.mismatches(result, schema)
                #expect(problems.isEmpty, "\(method): \(problems.joined(separator: "; "))\n\(result.encodedString().prefix(2000))")
                checked.insert(method)
                return result
            }
            let subject = "rc-1"
            let s = JSON.string(subject)
            let authorize: JSON = ["subject": s, "domain": .string(FIO.domain), "country": .string(FIO.country), "trigger": "user_action"]

            _ = try await call("system.ping")
            _ = try await call("system.health")
            _ = try await call("rpc.discover")
            _ = try await call("policy.disclosure", ["country": "DE", "locale": "de-DE"])
            _ = try await call("policy.disclosure")
            // A denial first (no consent yet), then the whole way to an active Facial ID.
            let denied = try await call("enroll.authorize", authorize)
            #expect(denied["allow"] == false)
            _ = try await call("consent.record", FIO.consentParams(subject: subject))
            _ = try await call("consent.status", ["subject": s])
            let allowed = try await call("enroll.authorize", authorize)
            let ticket = try #require(allowed["ticket"])
            _ = try await call("enroll.complete", ["ticket": ticket, "facialId": "fid-rc-1"])
            _ = try await call("facialId.show", ["subject": s])
            _ = try await call("facialId.touch", ["subject": s])
            _ = try await call("webhook.ingest", FIO.ingestParams(body: FIO.webhookBody(event: "auth", facialId: "fid-rc-1")))
            // Deleted at FACEIO: the Facial ID with a finished deletion.
            _ = try await call("facialId.delete", ["subject": s, "confirm": true, "reason": "user asked"])
            _ = try await FIO.waitForDeletion(c, subject: subject, status: "deleted")
            _ = try await call("facialId.show", ["subject": s])
            _ = try await call("deletion.list", ["limit": 10])
            _ = try await call("consent.revoke", ["subject": s, "reason": "moved away"])
            _ = try await call("consent.status", ["subject": s])
            _ = try await call("retention.sweep", ["dryRun": true])
            _ = try await call("retention.sweep")
            _ = try await call("audit.query", ["limit": 50])
            _ = try await call("audit.query", ["subject": s])
            _ = try await call("audit.verify")
            _ = try await call("policy.reload")
            _ = try await call("subject.erase", ["subject": s, "confirm": true])

            #expect(checked == Set(schemas.keys), "results not checked: \(Set(schemas.keys).subtracting(checked).sorted())")
            #expect(fake.calls.contains { $0.fid == "fid-rc-1" }, "the deletion reached FACEIO")
            _ = server
        }
    }
}
