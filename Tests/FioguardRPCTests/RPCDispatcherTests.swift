import FioguardJSON
import FioguardRPC
import FioguardTesting
import Testing

/// Checks the shape every error response must have and returns its error object.
@discardableResult
func expectError(
    _ response: JSON?, code: Int, reason: String, id: JSON = .null, sourceLocation: SourceLocation = #_sourceLocation
) -> JSON? {
    guard let response else {
        Issue.record("expected an error response, got none", sourceLocation: sourceLocation)
        return nil
    }
    #expect(response["jsonrpc"] == "2.0", sourceLocation: sourceLocation)
    #expect(response["result"] == nil, "error response carries a result: \(response)", sourceLocation: sourceLocation)
    #expect(response["id"] == id, "id in \(response)", sourceLocation: sourceLocation)
    #expect(response.objectValue?.keys.sorted() == ["error", "id", "jsonrpc"], "\(response)", sourceLocation: sourceLocation)
    let error = response["error"]
    #expect(error?["code"] == .int(Int64(code)), "\(response)", sourceLocation: sourceLocation)
    #expect(error?["data"]?["reason"] == .string(reason), "\(response)", sourceLocation: sourceLocation)
    #expect(error?["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
    return error
}

func expectResult(_ response: JSON?, id: JSON = 1, sourceLocation: SourceLocation = #_sourceLocation) -> JSON? {
    guard let response else {
        Issue.record("expected a result response, got none", sourceLocation: sourceLocation)
        return nil
    }
    #expect(response["jsonrpc"] == "2.0", sourceLocation: sourceLocation)
    #expect(response["error"] == nil, "\(response)", sourceLocation: sourceLocation)
    #expect(response["id"] == id, "id in \(response)", sourceLocation: sourceLocation)
    #expect(response.objectValue?.keys.sorted() == ["id", "jsonrpc", "result"], "\(response)", sourceLocation: sourceLocation)
    return response["result"]
}

@Suite struct RPCDispatcherRequestTests {
    @Test func answersARequestWithItsResult() async {
        let h = Harness()
        let r = await h.send(request("echo", params: ["tag": "a"]))
        #expect(expectResult(r) == ["tag": "a"])
    }

    @Test func absentParamsReachTheHandlerAsNil() async {
        let h = Harness()
        #expect(expectResult(await h.send(request("echo"))) == .null)
    }

    @Test(arguments: [
        JSON.string("abc"), .string(""), .string("ünï-😀"), .int(0), .int(-7), .int(Int64.max), .int(Int64.min),
        .int(9_007_199_254_740_993), .double(1.5), .double(-0.25), .null,
    ])
    func echoesTheIdExactly(_ id: JSON) async throws {
        let h = Harness()
        let line = try #require(await h.send(request("echo", id: id)))
        #expect(line["id"] == id)
        _ = expectResult(line, id: id)
        // Byte-exact, too: the id comes back spelled as it was sent.
        let text = line.encodedString()
        #expect(text.hasSuffix("\"id\":\(id.encodedString())}"), "\(text)")
    }

    @Test func echoesTheIdOfErrors() async {
        let h = Harness()
        expectError(await h.send(request("nope", id: "x-1")), code: -32601, reason: "METHOD_NOT_FOUND", id: "x-1")
        expectError(await h.send(request("typed", params: [:], id: 99)), code: -32602, reason: "INVALID_PARAMS", id: 99)
        expectError(await h.send(request("fail.internal", id: .null)), code: -32603, reason: "INTERNAL", id: .null)
        expectError(await h.send(request("fail.domain", params: ["reason": "NOT_FOUND"], id: -3)), code: -32002, reason: "NOT_FOUND", id: -3)
    }

    @Test func passesThePeerToTheHandler() async {
        let h = Harness()
        let r = expectResult(await h.send(request("peer"), uid: 33))
        #expect(r?["uid"] == 33)
        #expect(r?["pid"] == 4242)
        #expect(r?["connection"] == 7)
        #expect(r?["method"] == "peer")
    }
}

@Suite struct RPCDispatcherErrorTests {
    @Test func unparsableLineIsAParseErrorWithNullId() async {
        let h = Harness()
        expectError(await h.send("{"), code: -32700, reason: "PARSE_ERROR")
        expectError(await h.send(#"{"jsonrpc":"2.0","method":"echo","id":1"#), code: -32700, reason: "PARSE_ERROR")
        expectError(await h.send("not json"), code: -32700, reason: "PARSE_ERROR")
    }

    @Test func invalidUTF8IsAParseError() async {
        let h = Harness()
        let bytes = Array(#"{"jsonrpc":"2.0","method":"echo","params":{"s":""#.utf8) + [0xC3, 0x28] + Array(#""},"id":1}"#.utf8)
        expectError(await h.send(bytes), code: -32700, reason: "PARSE_ERROR")
        #expect(h.recorder.all.isEmpty)
    }

    /// `\u0000` is valid JSON: the request keeps its id, and a param read through `ObjectReader`
    /// is refused by name. A raw NUL byte is not JSON.
    @Test func nulInAStringIsRefusedByItsFieldNotAsAParseError() async {
        let h = Harness()
        let echoed = await h.send(#"{"jsonrpc":"2.0","method":"echo","params":{"s":"a\u0000b"},"id":"x\u0000"}"#)
        #expect(echoed?["result"]?["s"] == .string("a\u{0}b"), "\(String(describing: echoed))")
        #expect(echoed?["id"] == .string("x\u{0}"))
        let typed = expectError(
            await h.send(#"{"jsonrpc":"2.0","method":"typed","params":{"guardian":{"relationship":"\u0000"}},"id":2}"#),
            code: -32602, reason: "INVALID_PARAMS", id: 2)
        #expect(typed?["data"]?["field"] == "params.guardian.relationship")
        let raw = Array(#"{"jsonrpc":"2.0","method":"echo","params":{"s":"a"#.utf8) + [0] + Array(#"b"},"id":3}"#.utf8)
        expectError(await h.send(raw), code: -32700, reason: "PARSE_ERROR")
        #expect(h.recorder.all == ["echo:-"])
    }

    @Test func duplicateKeysAreAParseError() async {
        let h = Harness()
        expectError(await h.send(#"{"jsonrpc":"2.0","method":"echo","method":"typed","id":1}"#), code: -32700, reason: "PARSE_ERROR")
        expectError(await h.send(#"{"jsonrpc":"2.0","method":"echo","params":{"a":1,"a":2},"id":1}"#), code: -32700, reason: "PARSE_ERROR")
        expectError(await h.send(#"{"jsonrpc":"2.0","method":"echo","id":1,"id":2}"#), code: -32700, reason: "PARSE_ERROR")
        #expect(h.recorder.all.isEmpty)
    }

    @Test(arguments: [
        #"{"method":"echo","id":1}"#,  // no jsonrpc
        #"{"jsonrpc":"1.0","method":"echo","id":1}"#,
        #"{"jsonrpc":2.0,"method":"echo","id":1}"#,
        #"{"jsonrpc":"2.0 ","method":"echo","id":1}"#,
        #"{"jsonrpc":null,"method":"echo","id":1}"#,
        #"{"jsonrpc":"2.0","id":1}"#,  // no method
        #"{"jsonrpc":"2.0","method":5,"id":1}"#,
        #"{"jsonrpc":"2.0","method":null,"id":1}"#,
        #"{"jsonrpc":"2.0","method":["echo"],"id":1}"#,
        #"{"jsonrpc":"2.0","method":"echo","params":"x","id":1}"#,  // scalar params
        #"{"jsonrpc":"2.0","method":"echo","params":5,"id":1}"#,
        #"{"jsonrpc":"2.0","method":"echo","params":true,"id":1}"#,
        #"{"jsonrpc":"2.0","method":"echo","params":null,"id":1}"#,
        #"{"jsonrpc":"2.0","method":"echo","id":1,"extra":true}"#,  // unknown top-level member
        #"{"jsonrpc":"2.0","method":"echo","id":1,"result":1}"#,
    ])
    func invalidRequestsAreRejected(_ line: String) async throws {
        let h = Harness()
        let r = try #require(await h.send(line))
        // The id was readable in all of these: it may be echoed, or null.
        let id = r["id"] ?? .null
        #expect(id == 1 || id == .null, "\(r)")
        expectError(r, code: -32600, reason: "INVALID_REQUEST", id: id)
        #expect(h.recorder.all.isEmpty)
    }

    @Test(arguments: [#"{"a":1}"#, "[1]", "[[]]", "true", "false"])
    func badIdTypesAreInvalidRequestsWithNullId(_ badID: String) async {
        let h = Harness()
        expectError(await h.send(#"{"jsonrpc":"2.0","method":"echo","id":\#(badID)}"#), code: -32600, reason: "INVALID_REQUEST")
        #expect(h.recorder.all.isEmpty)
    }

    @Test(arguments: ["1", "\"str\"", "null", "true", "1.5"])
    func nonObjectMessagesAreInvalidRequests(_ line: String) async {
        let h = Harness()
        expectError(await h.send(line), code: -32600, reason: "INVALID_REQUEST")
        // The same inside a batch: one error per element.
        let items = await h.send("[\(line)]")?.arrayValue ?? []
        #expect(items.count == 1)
        expectError(items.first, code: -32600, reason: "INVALID_REQUEST")
    }

    @Test func positionalParamsAreInvalidParamsNamingParams() async {
        let h = Harness()
        let e = expectError(await h.send(request("echo", params: [1, 2])), code: -32602, reason: "INVALID_PARAMS", id: 1)
        #expect(e?["data"]?["field"] == "params")
        #expect(h.recorder.all.isEmpty)
    }

    @Test func unknownMethodIsMethodNotFound() async {
        let h = Harness()
        let e = expectError(await h.send(request("no.such.method")), code: -32601, reason: "METHOD_NOT_FOUND", id: 1)
        #expect(e?["data"]?["method"] == "no.such.method")
    }

    @Test func methodNamesAreCaseSensitive() async {
        let h = Harness()
        expectError(await h.send(request("ECHO")), code: -32601, reason: "METHOD_NOT_FOUND", id: 1)
    }

    @Test func invalidParamsNameTheFieldPath() async {
        let h = Harness()
        let wrongType = expectError(
            await h.send(request("typed", params: ["guardian": ["relationship": 5]])), code: -32602, reason: "INVALID_PARAMS", id: 1)
        #expect(wrongType?["data"]?["field"] == "params.guardian.relationship")
        #expect(wrongType?["message"]?.stringValue?.contains("params.guardian.relationship: expected string, got number") == true)

        let missing = expectError(await h.send(request("typed", params: [:])), code: -32602, reason: "INVALID_PARAMS", id: 1)
        #expect(missing?["data"]?["field"] == "params.guardian")

        let unknown = expectError(
            await h.send(request("typed", params: ["guardian": ["relationship": "parent"], "confrim": true])),
            code: -32602, reason: "INVALID_PARAMS", id: 1)
        #expect(unknown?["data"]?["field"] == "params.confrim")

        let nestedUnknown = expectError(
            await h.send(request("typed", params: ["guardian": ["relationship": "parent", "x": 1]])),
            code: -32602, reason: "INVALID_PARAMS", id: 1)
        #expect(nestedUnknown?["data"]?["field"] == "params.guardian.x")

        #expect(expectResult(await h.send(request("typed", params: ["guardian": ["relationship": "parent"]]))) == ["relationship": "parent"])
    }

    @Test func internalErrorsDoNotLeakDetails() async {
        let h = Harness()
        let e = expectError(await h.send(request("fail.internal")), code: -32603, reason: "INTERNAL", id: 1)
        let text = e?.encodedString() ?? ""
        #expect(!text.contains("secret-subject-123"))
        #expect(!text.contains("exploded"))
    }

    /// The fixed reason → code table of the issue; a change to any code must fail here.
    static let fixedCodes: [(String, Int)] = [
        ("POLICY_DENIED", -32001), ("NOT_FOUND", -32002), ("CONFLICT", -32003), ("TICKET_INVALID", -32004),
        ("CONFIRMATION_REQUIRED", -32005), ("FORBIDDEN", -32006), ("UNAVAILABLE", -32007), ("RATE_LIMITED", -32008),
        ("POLICY_INVALID", -32009),
    ]

    @Test func domainReasonsHaveTheirFixedCodes() {
        #expect(ErrorReason.all.map(\.name) == Self.fixedCodes.map(\.0))
        #expect(ErrorReason.all.map(\.code) == Self.fixedCodes.map(\.1))
        #expect(Set(ErrorReason.all.map(\.code)).count == ErrorReason.all.count)
        for r in ErrorReason.all {
            #expect((-32099)...(-32000) ~= r.code, "\(r) outside the server error range")
        }
    }

    @Test(arguments: RPCDispatcherErrorTests.fixedCodes.map(\.0))
    func domainErrorsCarryReasonAndCode(_ reason: String) async throws {
        let h = Harness()
        let code = try #require(Self.fixedCodes.first { $0.0 == reason }?.1)
        let e = expectError(await h.send(request("fail.domain", params: ["reason": .string(reason)], id: "d")), code: code, reason: reason, id: "d")
        #expect(e?["data"]?["extra"] == "x")
        #expect(e?["message"] == "domain failure")
    }

    @Test func standardErrorsCarryTheirReasons() {
        #expect(RPCError.parseError("x").code == -32700)
        #expect(RPCError.parseError("x").reason == "PARSE_ERROR")
        #expect(RPCError.invalidRequest("x").code == -32600)
        #expect(RPCError.invalidRequest("x").reason == "INVALID_REQUEST")
        #expect(RPCError.methodNotFound("m").code == -32601)
        #expect(RPCError.methodNotFound("m").reason == "METHOD_NOT_FOUND")
        #expect(RPCError.invalidParams(field: "params.a", "bad").code == -32602)
        #expect(RPCError.invalidParams(field: "params.a", "bad").reason == "INVALID_PARAMS")
        #expect(RPCError.invalidParams(field: "params.a", "bad").data?["field"] == "params.a")
        #expect(RPCError.internalError().code == -32603)
        #expect(RPCError.internalError().reason == "INTERNAL")
    }

    @Test func nestingDeeperThanTheLimitIsAnInvalidRequest() async {
        let h = Harness()
        // params at depth 1, so 63 more levels inside it reach the limit of 64.
        func deep(_ n: Int) -> String {
            #"{"jsonrpc":"2.0","method":"echo","params":{"a":"# + String(repeating: "[", count: n) + String(repeating: "]", count: n) + #"},"id":1}"#
        }
        _ = expectResult(await h.send(deep(62)))
        expectError(await h.send(deep(64)), code: -32600, reason: "INVALID_REQUEST")
        expectError(await h.send(String(repeating: "[", count: 100_000)), code: -32600, reason: "INVALID_REQUEST")
        expectError(await h.send(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)), code: -32600, reason: "INVALID_REQUEST")
    }

    @Test func theDepthLimitIsConfigurable() async {
        let h = Harness { $0.maxDepth = 2 }
        _ = expectResult(await h.send(request("echo", params: ["a": 1])))
        expectError(await h.send(request("echo", params: ["a": [1]])), code: -32600, reason: "INVALID_REQUEST")
    }

    @Test func oversizeResponseIsAnInvalidRequest() {
        let r = RPCDispatcher.oversizeResponse(limit: 1 << 20)
        expectError(r, code: -32600, reason: "INVALID_REQUEST")
        #expect(r["error"]?["message"]?.stringValue?.contains("1048576") == true)
    }
}

@Suite struct RPCDispatcherNotificationTests {
    @Test func notificationsRunButAreNeverAnswered() async {
        let h = Harness()
        #expect(await h.send(request("echo", params: ["tag": "n"], id: nil)) == nil)
        #expect(h.recorder.all == ["echo:n"])
    }

    @Test func failingNotificationsAreNotAnswered() async {
        let h = Harness()
        #expect(await h.send(request("no.such.method", id: nil)) == nil)
        #expect(await h.send(request("typed", params: [:], id: nil)) == nil)
        #expect(await h.send(request("echo", params: [1, 2], id: nil)) == nil)
        #expect(await h.send(request("fail.internal", id: nil)) == nil)
        #expect(await h.send(request("fail.domain", params: ["reason": "NOT_FOUND"], id: nil)) == nil)
        #expect(h.recorder.all.contains("fail.internal"))
        #expect(h.recorder.all.contains("fail.domain"))
    }

    @Test func nullIdIsARequestNotANotification() async {
        let h = Harness()
        _ = expectResult(await h.send(request("echo", id: .null)), id: .null)
    }

    /// JSON-RPC 2.0 §6 example: `{"foo": "boo"}` and `{"jsonrpc": "2.0", "method": 1, "params": "bar"}`
    /// are not Request objects (so not notifications either): each is answered with -32600, id null.
    @Test(arguments: [#"{"foo":"boo"}"#, #"{"jsonrpc":"2.0","method":1,"params":"bar"}"#, #"{"method":"echo"}"#, "{}"])
    func invalidRequestObjectsWithoutIdAreStillAnswered(_ line: String) async {
        let h = Harness()
        expectError(await h.send(line), code: -32600, reason: "INVALID_REQUEST")
        expectError(await h.send("[\(line)]")?.arrayValue?.first, code: -32600, reason: "INVALID_REQUEST")
    }
}

@Suite struct RPCDispatcherBatchTests {
    @Test func batchAnswersEachRequestInOrderAndSkipsNotifications() async throws {
        let h = Harness()
        let batch: JSON = [
            request("echo", params: ["tag": "1"], id: 1),
            request("echo", params: ["tag": "n"], id: nil),
            request("no.such.method", id: "two"),
            request("typed", params: ["guardian": [:]], id: 3),
            request("fail.domain", params: ["reason": "CONFLICT"], id: 4),
            request("echo", params: ["tag": "5"], id: 5),
        ]
        let r = try #require(await h.send(batch)?.arrayValue)
        #expect(r.map { $0["id"] } == [1, "two", 3, 4, 5], "\(r)")
        try #require(r.count == 5)
        #expect(expectResult(r[0], id: 1) == ["tag": "1"])
        expectError(r[1], code: -32601, reason: "METHOD_NOT_FOUND", id: "two")
        #expect(expectError(r[2], code: -32602, reason: "INVALID_PARAMS", id: 3)?["data"]?["field"] == "params.guardian.relationship")
        expectError(r[3], code: -32003, reason: "CONFLICT", id: 4)
        _ = expectResult(r[4], id: 5)
        // Executed in order, notifications included.
        #expect(h.recorder.all == ["echo:1", "echo:n", "fail.domain", "echo:5"])
    }

    @Test func allNotificationBatchIsAnsweredWithNothing() async {
        let h = Harness()
        let batch: JSON = [request("echo", params: ["tag": "a"], id: nil), request("no.such", id: nil), request("echo", params: ["tag": "b"], id: nil)]
        #expect(await h.send(batch) == nil)
        #expect(h.recorder.all == ["echo:a", "echo:b"])
    }

    @Test func emptyBatchIsOneInvalidRequestNotAnArray() async throws {
        let h = Harness()
        let r = try #require(await h.send("[]"))
        #expect(r.arrayValue == nil)
        expectError(r, code: -32600, reason: "INVALID_REQUEST")
        expectError(await h.send(" [ ] "), code: -32600, reason: "INVALID_REQUEST")
    }

    @Test func batchOfNonObjectsGetsOneErrorEach() async throws {
        let h = Harness()
        let r = try #require(await h.send("[1,2,3]")?.arrayValue)
        #expect(r.count == 3)
        for e in r { expectError(e, code: -32600, reason: "INVALID_REQUEST") }
    }

    @Test func invalidElementsDoNotSpoilTheOthers() async throws {
        let h = Harness()
        let line = #"[{"jsonrpc":"2.0","method":"echo","id":1},{"jsonrpc":"1.0","method":"echo","id":2},{"jsonrpc":"2.0","method":"echo","id":{"x":1}},"x",{"jsonrpc":"2.0","method":"echo","id":5}]"#
        let r = try #require(await h.send(line)?.arrayValue)
        #expect(r.count == 5)
        _ = expectResult(r[0], id: 1)
        #expect(r[1]["error"]?["code"] == -32600)
        expectError(r[2], code: -32600, reason: "INVALID_REQUEST")
        expectError(r[3], code: -32600, reason: "INVALID_REQUEST")
        _ = expectResult(r[4], id: 5)
    }

    @Test func batchInsideABatchIsAnInvalidElement() async throws {
        let h = Harness()
        let r = try #require(await h.send(#"[[{"jsonrpc":"2.0","method":"echo","id":1}]]"#)?.arrayValue)
        #expect(r.count == 1)
        expectError(r.first, code: -32600, reason: "INVALID_REQUEST")
        #expect(h.recorder.all.isEmpty)
    }

    @Test func parseErrorInABatchIsOneParseError() async throws {
        let h = Harness()
        let r = try #require(await h.send(#"[{"jsonrpc":"2.0","method":"echo","id":1},{"jsonrpc":"2.0","method""#))
        expectError(r, code: -32700, reason: "PARSE_ERROR")
        #expect(h.recorder.all.isEmpty)
    }

    @Test func batchSizeIsBounded() async {
        let h = Harness { $0.maxBatchSize = 3 }
        let ok = await h.send(JSON.array((1...3).map { request("echo", id: .int($0)) }))
        #expect(ok?.arrayValue?.count == 3)
        expectError(await h.send(JSON.array((1...4).map { request("echo", id: .int($0)) })), code: -32600, reason: "INVALID_REQUEST")
    }

    @Test func batchAnswersAreBoundedAndCallsPastTheBoundAreNotExecuted() async throws {
        let log = LogRecords()
        let h = Harness(logger: log.logger()) { $0.maxBatchAnswerBytes = 200 }
        let big = String(repeating: "x", count: 300)
        let batch: JSON = [
            request("echo", params: ["tag": "small"], id: 1),
            request("echo", params: ["tag": .string(big)], id: 2),  // its answer passes 200 bytes
            request("echo", params: ["tag": "late"], id: 3),
            request("echo", params: ["tag": "note"], id: nil),  // a notification: not executed either
            ["jsonrpc": "2.0", "id": 5],  // malformed: its usual error
            request("fail.internal", id: "six"),
        ]
        let r = try #require(await h.send(batch)?.arrayValue)
        #expect(r.count == 5)
        _ = expectResult(r[0], id: 1)
        _ = expectResult(r[1], id: 2)
        let refused = expectError(r[2], code: -32008, reason: "RATE_LIMITED", id: 3)
        #expect(refused?["data"]?["notExecuted"] == true)
        expectError(r[3], code: -32600, reason: "INVALID_REQUEST", id: 5)
        expectError(r[4], code: -32008, reason: "RATE_LIMITED", id: "six")
        #expect(h.recorder.all == ["echo:small", "echo:\(big)"])
        // The dropped notification is logged, since it gets no answer.
        let dropped = log.all.filter { $0.level == .warning && $0.message.contains("notification") }
        #expect(dropped.count == 1, "\(log.all)")
        #expect(dropped.first?.metadata["rpc.method"] == "echo")

        // Under the bound, every call runs.
        let roomy = Harness()
        let all = try #require(await roomy.send(batch)?.arrayValue)
        #expect(all.count == 5)
        expectError(all[4], code: -32603, reason: "INTERNAL", id: "six")
        #expect(roomy.recorder.all == ["echo:small", "echo:\(big)", "echo:late", "echo:note", "fail.internal"])
    }

    @Test func adminChecksApplyToEachBatchElement() async throws {
        let h = Harness { $0.adminUIDs = [0] }
        let r = try #require(await h.send(JSON.array([request("admin.only", id: 1), request("echo", id: 2)]), uid: 1000)?.arrayValue)
        expectError(r[0], code: -32006, reason: "FORBIDDEN", id: 1)
        _ = expectResult(r[1], id: 2)
        #expect(!h.recorder.all.contains("admin.only"))
    }
}

@Suite struct RPCDispatcherAdminTests {
    @Test func adminMethodsAreOpenWhenNoAdminsAreConfigured() async {
        let h = Harness()
        #expect(expectResult(await h.send(request("admin.only"), uid: 1000)) == ["ok": true])
        #expect(expectResult(await h.send(request("admin.only"), uid: nil)) == ["ok": true])
    }

    @Test func adminMethodsAreForbiddenToOtherUIDs() async {
        let h = Harness { $0.adminUIDs = [0, 33] }
        let e = expectError(await h.send(request("admin.only"), uid: 1000), code: -32006, reason: "FORBIDDEN", id: 1)
        #expect(e?["message"]?.stringValue?.contains("admin.only") == true)
        expectError(await h.send(request("admin.only"), uid: nil), code: -32006, reason: "FORBIDDEN", id: 1)
        #expect(h.recorder.all.isEmpty)
        #expect(expectResult(await h.send(request("admin.only"), uid: 33)) == ["ok": true])
        #expect(expectResult(await h.send(request("admin.only"), uid: 0)) == ["ok": true])
    }

    @Test func ordinaryMethodsAreOpenToEveryone() async {
        let h = Harness { $0.adminUIDs = [0] }
        _ = expectResult(await h.send(request("echo"), uid: 1000))
    }

    @Test func forbiddenAdminNotificationIsNotAnsweredNorRun() async {
        let h = Harness { $0.adminUIDs = [0] }
        #expect(await h.send(request("admin.only", id: nil), uid: 1000) == nil)
        #expect(h.recorder.all.isEmpty)
    }
}

@Suite struct MethodTableTests {
    @Test func namesAreSortedAndLookupIsExact() {
        let t = makeTable(Recorder())
        #expect(t.names == ["admin.only", "echo", "fail.domain", "fail.internal", "peer", "typed"])
        #expect(t["echo"]?.name == "echo")
        #expect(t["admin.only"]?.requiresAdmin == true)
        #expect(t["echo"]?.requiresAdmin == false)
        #expect(t["nope"] == nil)
    }
}
