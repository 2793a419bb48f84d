import FioguardJSON
import FioguardTesting
import Foundation
import Testing

/// Every method's params against the published contract, as `rpc.discover` serves it
/// (proto-docs/openrpc.json): one field at a time is spoiled in an otherwise valid call. A value
/// the field's schema forbids, a missing required field and an unknown one are each a `-32602`
/// whose `data.field` names the field; hostile values of any kind get a well-formed answer with
/// the request's id, never an internal error; and afterwards the server, its audit chain
/// included, is healthy. New methods and params are covered as soon as the contract lists them
/// (a method needs a valid sample below).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ParamContractTests {
    /// A valid call of each method, which one spoiled field at a time turns invalid.
    static let samples: [String: JSON] = [
        "consent.record": [
            "subject": "pc-1", "purposes": ["authentication"], "noticeVersion": "v1", "collectionMethod": "click",
            "domain": "example.com", "country": "DE",
        ],
        "consent.revoke": ["subject": "pc-1"],
        "consent.status": ["subject": "pc-1"],
        "enroll.authorize": ["subject": "pc-1", "domain": "example.com", "country": "DE", "trigger": "user_action"],
        "enroll.complete": ["ticket": "tkt-unknown", "facialId": "fid-pc-1"],
        "facialId.show": ["subject": "pc-1"],
        "facialId.touch": ["subject": "pc-1"],
        "facialId.delete": ["subject": "pc-1", "confirm": true],
        "subject.erase": ["subject": "pc-2", "confirm": true],
        "retention.sweep": ["dryRun": true],
        "audit.verify": [:],
        "audit.query": ["limit": 5],
        "policy.disclosure": ["country": "DE"],
        "policy.reload": [:],
        "deletion.list": ["limit": 5],
        "webhook.ingest": ["headers": ["authorization": "Bearer not-the-token"], "body": "{}"],
        "system.health": [:],
        "system.ping": [:],
        "rpc.discover": [:],
    ]

    /// Values that break `schema`, each with what breaks it; `field` is where the error must point
    /// (a value inside an array or object is named by its own path).
    static func violations(of schema: JSON, name: String) -> [(value: JSON, why: String, field: String)] {
        let at = "params.\(name)"
        var out: [(JSON, String, String)] = []
        if schema["const"] == true {
            // `false` is CONFIRMATION_REQUIRED (checked on its own); any other type is invalid.
            return [("true", "a string for a boolean", at), (1, "a number for a boolean", at), ([], "an array", at)]
        }
        let others: [(JSON, String)] = [
            (.string("x"), "string"), (.int(7), "integer"), (.double(1.5), "number"), (.bool(true), "boolean"),
            (.array([]), "array"), (.object(JSONObject()), "object"),
        ]
        // A schema without one type names no wrong type (none does so far, `const` aside).
        let type = schema["type"]?.stringValue ?? ""
        for (value, kind) in others where !type.isEmpty && kind != type && !(type == "number" && kind == "integer") {
            out.append((value, "a value of type \(kind) where \(type) is documented", at))
        }
        switch type {
        case "string":
            out.append(("a\u{0}b", "U+0000", at))
            if let min = schema["minLength"]?.intValue, min > 0 { out.append((.string(""), "shorter than \(min)", at)) }
            if let max = schema["maxLength"]?.intValue {
                out.append((.string(String(repeating: "a", count: Int(max) + 1)), "longer than \(max)", at))
            }
            switch schema["pattern"]?.stringValue {
            case "^[A-Z]{2}$"?: out += [("de", "lower case", at), ("DEU", "three letters", at)]
            case "^[A-Z]{2}-[A-Z0-9]{1,3}$"?: out += [("DE", "no subdivision", at), ("DE-BERLIN", "too long", at)]
            case "^[!-~]+$"?: out += [("fid 1", "a space", at), ("fid-\u{E9}", "not ASCII", at)]
            case nil: break
            case let p?: Issue.record("no violations written for the pattern \(p) of \(at)")
            }
            if schema["enum"] != nil { out.append(("no-such-value", "not in the enum", at)) }
            switch schema["format"]?.stringValue {
            case "date"?: out += [("2026-13-01", "month 13", at), ("27.11.2026", "not ISO 8601", at), ("9999-01-01", "in the future", at)]
            case "date-time"?: out += [("2026-11-27", "a date without time", at), ("2026-11-27T25:00:00Z", "hour 25", at)]
            default: break
            }
            if schema["description"]?.stringValue?.contains("no control characters") == true {
                out += [("a\u{1}b", "a control character", at), ("a\nb", "a newline", at), ("a\u{7F}b", "DEL", at)]
            }
        case "integer":
            if let min = schema["minimum"]?.intValue { out.append((.int(min - 1), "below \(min)", at)) }
            if let max = schema["maximum"]?.intValue { out.append((.int(max + 1), "above \(max)", at)) }
            out += [(.int(Int64.min), "Int64.min", at), (.double(1e300), "1e300", at)]
        case "array":
            if let items = schema["items"] {
                for (value, why, field) in violations(of: items, name: "\(name)[0]") {
                    out.append((.array([value]), "an element that is \(why)", field))
                }
            }
        case "object":
            if let properties = schema["properties"]?.objectValue {
                let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
                var valid = JSONObject()
                for member in properties where required.contains(member.key) { valid[member.key] = "ok" }
                for member in properties {
                    for (value, why, field) in violations(of: member.value, name: "\(name).\(member.key)") {
                        var o = valid
                        o[member.key] = value
                        out.append((.object(o), "a member that is \(why)", field))
                    }
                }
                for key in required {
                    var o = valid
                    o[key] = nil
                    out.append((.object(o), "without its required \(key)", "\(at).\(key)"))
                }
                var extra = valid
                extra["zzUnknown"] = 1
                out.append((.object(extra), "an unknown member", "\(at).zzUnknown"))
            }
            if let values = schema["additionalProperties"], values.objectValue != nil {
                for (value, why, field) in violations(of: values, name: "\(name).x-any") {
                    out.append((.object(JSONObject([("x-any", value)])), "a member that is \(why)", field))
                }
            }
        default:
            break
        }
        return out
    }

    /// Hostile values for any field: whatever they meet, the answer is well formed.
    static let hostile: [JSON] = {
        // As deep as a request may nest (64 levels, the request and its params included); deeper
        // is a parse error, answered with `id: null` (JSONRPCProtocolTests).
        var deep: JSON = []
        for _ in 0..<59 { deep = [deep] }
        return [
            .null, .string("\u{0}"), .string(String(repeating: "\u{1F642}", count: 300)), .string(String(repeating: "x", count: 200_000)),
            .string("\u{202E}\u{FEFF}"), .string("'; DROP TABLE subjects; --"), .string("%s%n%x"), .int(Int64.min),
            .int(Int64.max), .double(-0.0), .double(1e308), deep, ["a": ["b": ["c": [1, 2, 3]]]],
        ]
    }()

    private struct Exchange {
        let client: RPCTestClient
        var nextID: Int64 = 1

        /// Sends one call and reads its answer, which must be well formed whatever was sent.
        mutating func call(
            _ method: String, _ params: JSONObject, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> JSON {
            let id = JSON.int(nextID)
            nextID += 1
            try await client.send(line: Spine.line(method, params: .object(params), id: id))
            let r = try await Spine.read(client)
            let what = "\(method) \(JSON.object(params).encodedString().prefix(300)) -> \(r.encodedString().prefix(600))"
            #expect(r["jsonrpc"] == "2.0", "\(what)", sourceLocation: sourceLocation)
            #expect(r["id"] == id, "the answer carries the request's id: \(what)", sourceLocation: sourceLocation)
            #expect((r["result"] == nil) != (r["error"] == nil), "a result or an error: \(what)", sourceLocation: sourceLocation)
            if let error = r["error"] {
                #expect(error["code"]?.intValue != -32603, "never an internal error: \(what)", sourceLocation: sourceLocation)
                #expect(error["data"]?["reason"]?.stringValue?.isEmpty == false, "\(what)", sourceLocation: sourceLocation)
                #expect(error["message"]?.stringValue?.isEmpty == false, "\(what)", sourceLocation: sourceLocation)
                if error["code"] == -32602, let field = error["data"]?["field"]?.stringValue {
                    #expect(error["message"]?.stringValue?.contains(field) == true, "the message names the field: \(what)",
                            sourceLocation: sourceLocation)
                }
            }
            return r
        }

        /// Sends one call that must be refused as invalid params naming `field`.
        mutating func expectInvalid(
            _ method: String, _ params: JSONObject, field: String, why: String, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let r = try await call(method, params, sourceLocation: sourceLocation)
            let what = "\(method) with \(why) -> \(r.encodedString().prefix(600))"
            #expect(r["error"]?["code"] == -32602, "\(what)", sourceLocation: sourceLocation)
            #expect(r["error"]?["data"]?["reason"] == "INVALID_PARAMS", "\(what)", sourceLocation: sourceLocation)
            #expect(r["error"]?["data"]?["field"]?.stringValue == field, "names \(field): \(what)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyParamTheContractForbidsIsRefusedByNameAndNothingBreaksTheServer() async throws {
        // The built-in strict policy; the server is stopped and removed however the test ends.
        try await Lifecycle.withServer(policy: nil) { server, client in
            var x = Exchange(client: client)
            let contract = try await client.call("rpc.discover", timeout: Spine.lineTimeout)
            let methods = try #require(contract["methods"]?.arrayValue)
            #expect(methods.count == Self.samples.count, "a sample per method, and no sample for a method that is gone")
            var refused = 0
            for method in methods {
                let name = try #require(method["name"]?.stringValue)
                guard let sample = Self.samples[name]?.objectValue else {
                    Issue.record("no valid sample for \(name): add one to ParamContractTests.samples")
                    continue
                }
                // The sample itself is well formed: whatever it meets, not an invalid-params error.
                let plain = try await x.call(name, sample)
                #expect(plain["error"]?["code"] != -32602, "the sample for \(name) is valid: \(plain)")

                for param in method["params"]?.arrayValue ?? [] {
                    let p = try #require(param["name"]?.stringValue)
                    let schema = try #require(param["schema"])
                    let required = param["required"] == true
                    for (value, why, field) in Self.violations(of: schema, name: p) {
                        var params = sample
                        params[p] = value
                        try await x.expectInvalid(name, params, field: field, why: "\(p) \(why)")
                        refused += 1
                    }
                    if schema["const"] == true {
                        // "must be true, else CONFIRMATION_REQUIRED" (API.md): false, null or missing.
                        for value in [JSON.bool(false), .null, nil] {
                            var params = sample
                            params[p] = value
                            let r = try await x.call(name, params)
                            #expect(r["error"]?["data"]?["reason"] == "CONFIRMATION_REQUIRED", "\(name) with \(p) \(String(describing: value)) -> \(r)")
                        }
                    } else if required {
                        var params = sample
                        params[p] = nil
                        try await x.expectInvalid(name, params, field: "params.\(p)", why: "\(p) missing")
                        params[p] = .null
                        try await x.expectInvalid(name, params, field: "params.\(p)", why: "\(p) null")
                        refused += 2
                    }
                    for value in Self.hostile {
                        var params = sample
                        params[p] = value
                        _ = try await x.call(name, params)
                    }
                }
                var extra = sample
                extra["zzUnknown"] = "1"
                try await x.expectInvalid(name, extra, field: "params.zzUnknown", why: "an unknown param")
                refused += 1
            }
            #expect(refused > 300, "the contract's schemas gave \(refused) invalid calls")

            let audit = try await client.call("audit.verify", timeout: Spine.lineTimeout)
            #expect(audit["ok"] == true, "\(audit)")
            try await Spine.expectHealthy(server)
            await Spine.stop(server)
        }
    }
}
