import CSQLite
import FioguardJSON
import FioguardTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// MARK: - shared by the spine's integration tests

/// Helpers for the transport, protocol, hygiene, OpenRPC and shutdown suites. Every wait is bounded.
enum Spine {
    /// Longest wait for one response line.
    static let lineTimeout: Duration = .seconds(20)

    /// A request line (no newline).
    static func line(_ method: String, params: JSON? = nil, id: JSON? = 1) -> String {
        var o = JSONObject([("jsonrpc", "2.0"), ("method", .string(method))])
        if let params { o["params"] = params }
        if let id { o["id"] = id }
        return JSON.object(o).encodedString()
    }

    static func pingLine(id: Int) -> String {
        #"{"jsonrpc":"2.0","method":"system.ping","id":\#(id)}"#
    }

    /// Reads one response, failing the test (not hanging) when none comes.
    static func read(_ client: RPCTestClient) async throws -> JSON {
        guard let r = try await client.readResponse(timeout: lineTimeout) else {
            throw TestSupportError("connection closed where a response was expected")
        }
        return r
    }

    /// Sends one raw line and reads one response.
    static func exchange(_ client: RPCTestClient, _ text: String) async throws -> JSON {
        try await client.send(line: text)
        return try await read(client)
    }

    static func exchange(_ client: RPCTestClient, raw bytes: [UInt8]) async throws -> JSON {
        try await client.send(raw: bytes + [10])
        return try await read(client)
    }

    /// The server answers `system.ping` with `{"pong": true}` on this connection.
    static func expectPing(_ client: RPCTestClient, id: JSON = "ping", sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let r = try await client.request("system.ping", id: id, timeout: lineTimeout)
        #expect(r["result"] == ["pong": true], "\(r)", sourceLocation: sourceLocation)
        #expect(r["id"] == id, "\(r)", sourceLocation: sourceLocation)
    }

    /// The server is alive and well: a fresh connection gets pong and an ok-ish health report.
    static func expectHealthy(_ server: LiveServer, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(server.isRunning, "server process died:\n\(server.log.suffix(3000))", sourceLocation: sourceLocation)
        let c = try await server.connect()
        defer { Task { await c.close() } }
        try await expectPing(c, sourceLocation: sourceLocation)
        let health = try await c.call("system.health", timeout: lineTimeout)
        #expect(health["database"]?["ok"] == true, "\(health)", sourceLocation: sourceLocation)
    }

    /// Checks the shape of an error response; returns the error object.
    @discardableResult
    static func expectError(
        _ response: JSON?, code: Int64, reason: String, id: JSON? = .null, sourceLocation: SourceLocation = #_sourceLocation
    ) -> JSON? {
        guard let response else {
            Issue.record("expected an error response, got none", sourceLocation: sourceLocation)
            return nil
        }
        #expect(response["jsonrpc"] == "2.0", "\(response)", sourceLocation: sourceLocation)
        #expect(response["result"] == nil, "\(response)", sourceLocation: sourceLocation)
        if let id { #expect(response["id"] == id, "id in \(response)", sourceLocation: sourceLocation) }
        #expect(response["error"]?["code"] == .int(code), "\(response)", sourceLocation: sourceLocation)
        #expect(response["error"]?["data"]?["reason"] == .string(reason), "\(response)", sourceLocation: sourceLocation)
        #expect(response["error"]?["message"]?.stringValue != nil, "\(response)", sourceLocation: sourceLocation)
        return response["error"]
    }

    /// SIGTERM: the server must exit 0 and leave no socket file behind; then its directory goes.
    static func stop(_ server: LiveServer, sourceLocation: SourceLocation = #_sourceLocation) async {
        let status = await server.terminate(timeout: .seconds(20))
        #expect(status == 0, "exit status \(status); log:\n\(server.log.suffix(3000))", sourceLocation: sourceLocation)
        #expect(!exists(server.socketPath), "socket file left behind at \(server.socketPath)", sourceLocation: sourceLocation)
        await server.cleanUp()
    }

    /// lstat: true for any kind of file, including a dangling socket.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func mode(_ path: String) -> UInt32? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return UInt32(st.st_mode)
    }

    /// A connection the server admitted (it answers a ping). Retries while a connection refused by
    /// the cap (a start-up probe may still count) is closed again.
    static func admittedClient(_ server: LiveServer, attempts: Int = 50) async throws -> RPCTestClient {
        for _ in 0..<attempts {
            let c = try await server.connect()
            let r = try await c.request("system.ping", id: "admit", timeout: lineTimeout)
            if r["result"] == ["pong": true] { return c }
            await c.close()
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("no connection was admitted")
    }

    /// `n` nested arrays around `1`.
    static func nested(_ n: Int) -> String {
        String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n)
    }
}

// MARK: - transport

/// Framing, limits, pipelining, concurrency, backpressure, idle timeout, connection cap, SO_PEERCRED.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TransportTests {
    @Test func crlfAndBlankLinesAreAccepted() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        let text = "\n\r\n   \n\t\n" + Spine.pingLine(id: 1) + "\r\n\r\n\n" + Spine.pingLine(id: 2) + "\n \r\n" + Spine.pingLine(id: 3) + "\n"
        try await c.send(raw: Array(text.utf8))
        for id: JSON in [1, 2, 3] {
            let r = try await Spine.read(c)
            #expect(r["id"] == id, "blank lines must not be answered: \(r)")
            #expect(r["result"] == ["pong": true])
        }
        await c.close()
        await Spine.stop(server)
    }

    @Test func aRequestSplitAcrossManyWritesIsOneRequest() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        let bytes = Array((Spine.pingLine(id: 7) + "\r\n").utf8)
        for chunk in stride(from: 0, to: bytes.count, by: 5) {
            try await c.send(raw: Array(bytes[chunk..<min(chunk + 5, bytes.count)]))
            try await Task.sleep(for: .milliseconds(2))
        }
        let r = try await Spine.read(c)
        #expect(r["id"] == 7)
        #expect(r["result"] == ["pong": true])
        await c.close()
        await Spine.stop(server)
    }

    @Test func fiveThousandPipelinedRequestsAreAnsweredInOrder() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        let n = 5000
        var payload: [UInt8] = []
        payload.reserveCapacity(n * 50)
        for i in 1...n { payload += Array((Spine.pingLine(id: i) + "\n").utf8) }
        try await c.send(raw: payload)  // in one go
        let mismatches = try await withTimeout(.seconds(60), "reading \(n) responses") {
            var bad: [String] = []
            for i in 1...n {
                guard let r = try await c.readResponse(timeout: Spine.lineTimeout) else {
                    bad.append("EOF after \(i - 1) responses")
                    break
                }
                if r["id"] != .int(Int64(i)) || r["result"] != ["pong": true] { bad.append("#\(i): \(r)") }
                if bad.count > 5 { break }
            }
            return bad
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(server)
    }

    @Test func sixtyFourConcurrentConnections() async throws {
        let server = try await LiveServer.started()
        var clients: [RPCTestClient] = []
        for _ in 0..<64 { clients.append(try await server.connect()) }
        let connected = clients
        let failures = try await withTimeout(.seconds(60), "64 connections") {
            try await withThrowingTaskGroup(of: [String].self) { group in
                for (k, c) in connected.enumerated() {
                    group.addTask {
                        var bad: [String] = []
                        // Pipelined, interleaved with the other 63 connections.
                        var burst = ""
                        for i in 0..<20 { burst += Spine.line("system.ping", id: .string("c\(k)-\(i)")) + "\n" }
                        try await c.send(raw: Array(burst.utf8))
                        for i in 0..<20 {
                            let r = try await Spine.read(c)
                            if r["id"] != .string("c\(k)-\(i)") || r["result"] != ["pong": true] { bad.append("conn \(k) #\(i): \(r)") }
                        }
                        let health = try await c.call("system.health", timeout: Spine.lineTimeout)
                        if health["status"]?.stringValue == nil { bad.append("conn \(k) health: \(health)") }
                        return bad
                    }
                }
                var all: [String] = []
                for try await bad in group { all += bad }
                return all
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        for c in clients { await c.close() }
        try await Spine.expectHealthy(server)
        await Spine.stop(server)
    }

    @Test func anEightMebibyteLineIsRejectedAndTheConnectionSurvives() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        // A syntactically plausible request whose params carry 8 MiB of padding.
        let head = Array(#"{"jsonrpc":"2.0","method":"system.ping","id":1,"params":{"pad":""#.utf8)
        let tail = Array(#""}}"#.utf8) + [10]
        let line = head + [UInt8](repeating: UInt8(ascii: "x"), count: 8 << 20) + tail
        try await c.send(raw: line)
        let e = Spine.expectError(try await Spine.read(c), code: -32600, reason: "INVALID_REQUEST")
        #expect(e?["message"]?.stringValue?.contains("1048576") == true, "\(String(describing: e))")
        // The rest of the connection is untouched: the next line is a normal request.
        try await Spine.expectPing(c)
        // Again, written in 64 KiB pieces, with a request right behind it in the same write.
        var second = [UInt8](repeating: UInt8(ascii: "y"), count: 8 << 20) + [10] + Array((Spine.pingLine(id: 2) + "\n").utf8)
        while !second.isEmpty {
            let n = min(65536, second.count)
            try await c.send(raw: Array(second[0..<n]))
            second.removeFirst(n)
        }
        Spine.expectError(try await Spine.read(c), code: -32600, reason: "INVALID_REQUEST")
        let after = try await Spine.read(c)
        #expect(after["id"] == 2)
        #expect(after["result"] == ["pong": true])
        await c.close()
        try await Spine.expectHealthy(server)
        await Spine.stop(server)
    }

    @Test func theFrameLimitIsConfigurable() async throws {
        let limit = 2048
        let server = try await LiveServer.started(arguments: ["--max-frame-bytes", "\(limit)"])
        let c = try await server.connect()
        func padded(_ total: Int) -> String {
            let head = #"{"jsonrpc":"2.0","method":"system.ping","id":1,"params":{"pad":""#
            let tail = #""}}"#
            return head + String(repeating: "p", count: total - head.utf8.count - tail.utf8.count) + tail
        }
        // Exactly at the limit: parsed (and rejected for its unknown field, not for its size).
        let atLimit = try await Spine.exchange(c, padded(limit))
        let e = Spine.expectError(atLimit, code: -32602, reason: "INVALID_PARAMS", id: 1)
        #expect(e?["data"]?["field"] == "params.pad")
        // One byte more: too big.
        let over = try await Spine.exchange(c, padded(limit + 1))
        let big = Spine.expectError(over, code: -32600, reason: "INVALID_REQUEST")
        #expect(big?["message"]?.stringValue?.contains("\(limit)") == true)
        // A `\r` before the `\n` is dropped, and does not count.
        let crlf = try await Spine.exchange(c, raw: Array((padded(limit) + "\r").utf8))
        #expect(Spine.expectError(crlf, code: -32602, reason: "INVALID_PARAMS", id: 1)?["data"]?["field"] == "params.pad")
        let crlfOver = try await Spine.exchange(c, raw: Array((padded(limit + 1) + "\r").utf8))
        Spine.expectError(crlfOver, code: -32600, reason: "INVALID_REQUEST")
        // Sent in two parts, the first ending at the limit's `\r`: the decoder cannot yet tell.
        try await c.send(raw: Array((padded(limit) + "\r").utf8))
        try await Task.sleep(for: .milliseconds(100))
        let split = try await Spine.exchange(c, raw: [])
        #expect(Spine.expectError(split, code: -32602, reason: "INVALID_PARAMS", id: 1)?["data"]?["field"] == "params.pad")
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(server)
    }

    @Test func invalidUTF8OnTheWireIsAParseErrorAndTheConnectionSurvives() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        let prefix = Array(#"{"jsonrpc":"2.0","method":"system.ping","id":1,"params":{"s":""#.utf8)
        let suffix = Array(#""}}"#.utf8)
        for bad: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3]] {
            Spine.expectError(try await Spine.exchange(c, raw: prefix + bad + suffix), code: -32700, reason: "PARSE_ERROR")
        }
        // Pure binary noise.
        Spine.expectError(try await Spine.exchange(c, raw: [0xFE, 0xFF, 0x00, 0x01, 0x80, 0x81]), code: -32700, reason: "PARSE_ERROR")
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(server)
    }

    @Test func hundredThousandLevelsOfNestingAreAnErrorAndTheServerStaysHealthy() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        Spine.expectError(try await Spine.exchange(c, String(repeating: "[", count: 100_000)), code: -32600, reason: "INVALID_REQUEST")
        Spine.expectError(try await Spine.exchange(c, Spine.nested(100_000)), code: -32600, reason: "INVALID_REQUEST")
        let objects = String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000)
        Spine.expectError(try await Spine.exchange(c, objects), code: -32600, reason: "INVALID_REQUEST")
        let inParams = Spine.line("system.ping", params: ["deep": .string("x")]).replacingOccurrences(of: #""x""#, with: Spine.nested(100_000))
        Spine.expectError(try await Spine.exchange(c, inParams), code: -32600, reason: "INVALID_REQUEST")
        try await Spine.expectPing(c)
        await c.close()
        try await Spine.expectHealthy(server)
        await Spine.stop(server)
    }

    @Test func aClientThatDisconnectsMidLineLeavesTheServerHealthy() async throws {
        let server = try await LiveServer.started()
        // Half a request, then gone.
        let a = try RawUnixSocket(connectingTo: server.socketPath)
        try await a.writeAll(#"{"jsonrpc":"2.0","method":"system.pi"#)
        a.closeNow()
        // A complete request and half of the next one, then gone without reading.
        let b = try RawUnixSocket(connectingTo: server.socketPath)
        try await b.writeAll(Spine.pingLine(id: 1) + "\n" + #"{"jsonrpc":"2.0","#)
        try await Task.sleep(for: .milliseconds(50))
        b.closeNow()
        // Half of an oversized line, then gone.
        let d = try RawUnixSocket(connectingTo: server.socketPath)
        try await d.writeAll([UInt8](repeating: UInt8(ascii: "["), count: 3 << 20))
        d.closeNow()
        // Many requests whose answers are never read, then gone.
        let e = try RawUnixSocket(connectingTo: server.socketPath)
        var many = ""
        for i in 0..<2000 { many += Spine.line("system.health", id: .int(Int64(i))) + "\n" }
        _ = try e.writeSome(ArraySlice(Array(many.utf8)))
        e.closeNow()
        try await Task.sleep(for: .milliseconds(200))
        try await Spine.expectHealthy(server)
        await Spine.stop(server)
    }

    @Test func requestsFollowedByAHalfCloseAreStillAnswered() async throws {
        // `printf '...' | socat - UNIX-CONNECT:...` sends its lines, then shuts down its write side
        // and waits for the answers.
        let server = try await LiveServer.started()
        let s = try RawUnixSocket(connectingTo: server.socketPath)
        try await s.writeAll(Spine.pingLine(id: 1) + "\n" + Spine.line("system.health", id: 2) + "\n" + Spine.pingLine(id: 3) + "\n")
        s.shutdownWrite()
        let bytes = try await s.readToEnd(timeout: .seconds(10))
        let lines = bytes.split(separator: 10).map { try? JSON.parse(Array($0)) }
        #expect(lines.count == 3, "got \(lines.count) lines: \(String(decoding: bytes, as: UTF8.self))")
        #expect(lines.map { $0?["id"] } == [1, 2, 3])
        try await Spine.expectHealthy(server)
        await Spine.stop(server)
    }

    @Test func anUnterminatedLastLineIsAnsweredWhenTheClientEndsItsInput() async throws {
        // `printf '%s' "$request" | socat - UNIX-CONNECT:...` sends no `\n` at all.
        let server = try await LiveServer.started()
        let s = try RawUnixSocket(connectingTo: server.socketPath)
        try await s.writeAll(Spine.pingLine(id: 1) + "\n" + Spine.pingLine(id: 2))
        s.shutdownWrite()
        let bytes = try await s.readToEnd(timeout: .seconds(10))
        let lines = bytes.split(separator: 10).map { try? JSON.parse(Array($0)) }
        #expect(lines.map { $0?["id"] } == [1, 2], "got \(String(decoding: bytes, as: UTF8.self))")
        #expect(bytes.last == 10, "every answer ends in `\\n`")
        // A last line cut short (its writer died mid-message) is not valid JSON: a parse error.
        let cut = try RawUnixSocket(connectingTo: server.socketPath)
        try await cut.writeAll(#"{"jsonrpc":"2.0","id":3,"method":"system.pi"#)
        cut.shutdownWrite()
        let answer = try JSON.parse(Array(try await cut.readToEnd(timeout: .seconds(10)).dropLast()))
        #expect(answer["error"]?["code"] == -32700)
        #expect(answer["id"] == .null)
        try await Spine.expectHealthy(server)
        await Spine.stop(server)
    }

    @Test func aClientThatDoesNotReadIsThrottledNotBuffered() async throws {
        let server = try await LiveServer.started()
        let s = try RawUnixSocket(connectingTo: server.socketPath)
        // Write pings without reading a single answer. With backpressure the server stops reading
        // once its answers back up, so our writes stall long before `cap`.
        let cap = 4 << 20
        var sent = 0
        var unsent: ArraySlice<UInt8> = []
        var nextID = 1
        var lastProgress = ContinuousClock.now
        let started = ContinuousClock.now
        while sent < cap {
            if unsent.isEmpty {
                var chunk = ""
                for _ in 0..<500 {
                    chunk += Spine.pingLine(id: nextID) + "\n"
                    nextID += 1
                }
                unsent = ArraySlice(Array(chunk.utf8))
            }
            let n = try s.writeSome(unsent)
            if n > 0 {
                sent += n
                unsent = unsent.dropFirst(n)
                lastProgress = .now
            } else {
                if ContinuousClock.now - lastProgress > .milliseconds(750) { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            if ContinuousClock.now - started > .seconds(30) { break }
        }
        #expect(sent < cap, "the server kept reading \(sent) bytes from a client that never read an answer")

        // Meanwhile other clients are served.
        try await Spine.expectHealthy(server)

        // Finish the last partial request (its first line, whose start may be written already) while
        // draining: every request written gets its answer, in order.
        var tail: ArraySlice<UInt8> = []
        var completeRequests = nextID - 1
        if !unsent.isEmpty {
            let cut = unsent.firstIndex(of: 10)!
            tail = unsent[..<(cut + 1)]
            completeRequests = nextID - 1 - unsent.filter { $0 == 10 }.count + 1
        }
        var expected = 1
        var bad: [String] = []
        var buffer: [UInt8] = []
        let drainDeadline = ContinuousClock.now + .seconds(60)
        drain: while expected <= completeRequests {
            if !tail.isEmpty { tail = tail.dropFirst(try s.writeSome(tail)) }
            guard let chunk = try s.readAvailable() else {
                bad.append("EOF at \(expected)")
                break
            }
            if chunk.isEmpty {
                guard ContinuousClock.now < drainDeadline else {
                    bad.append("drain timed out at \(expected) of \(completeRequests)")
                    break
                }
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            buffer += chunk
            var start = buffer.startIndex
            while let nl = buffer[start...].firstIndex(of: 10) {
                let r = try JSON.parse(Array(buffer[start..<nl]))
                if r["id"] != .int(Int64(expected)) || r["result"] != ["pong": true] {
                    bad.append("#\(expected): \(r)")
                    if bad.count > 5 { break drain }
                }
                expected += 1
                start = nl + 1
            }
            buffer.removeSubrange(..<start)
        }
        #expect(bad.isEmpty, "\(bad)")
        s.closeNow()
        await Spine.stop(server)
    }

    /// The request bytes held across connections are bounded (`--max-buffered-bytes`): here one
    /// line's worth, so while one connection gathers a large line, a second one sending a large
    /// line is not read past its own 64 KiB allowance, small requests still flow, and the second
    /// goes on once the first line is handled. The lines are far larger than the kernel's socket
    /// buffers (about 200 KB), so a write that completes was read by the server.
    @Test func largeLinesWaitForTheSharedBudgetAndSmallOnesDoNot() async throws {
        let frame = 1 << 20
        let server = try await LiveServer.started(arguments: [
            "--max-frame-bytes", "\(frame)", "--max-buffered-bytes", "\(frame + 2)",
        ])
        func padded(id: Int, total: Int) -> [UInt8] {
            let head = #"{"jsonrpc":"2.0","method":"system.ping","id":\#(id),"params":{"pad":""#
            let tail = #""}}"#
            return Array((head + String(repeating: "p", count: total - head.utf8.count - tail.utf8.count) + tail).utf8)
        }
        let size = 900_000
        // A: all but the last byte of its line. That write completes only if the server reads it.
        let a = try RawUnixSocket(connectingTo: server.socketPath)
        let lineA = padded(id: 1, total: size)
        try await a.writeAll(Array(lineA.dropLast()), timeout: .seconds(20))

        // B: a whole line. Its write stalls: the server holds back reading it.
        let b = try RawUnixSocket(connectingTo: server.socketPath)
        var unsentB = ArraySlice(padded(id: 2, total: size) + [10])
        var lastProgress = ContinuousClock.now
        while !unsentB.isEmpty, ContinuousClock.now - lastProgress < .milliseconds(1500) {
            let n = try b.writeSome(unsentB)
            if n > 0 {
                unsentB = unsentB.dropFirst(n)
                lastProgress = .now
            } else {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        #expect(!unsentB.isEmpty, "the server read a second large line while the first one held the budget")
        #expect(try b.readAvailable() == [], "B was answered")

        // Small requests are not held back.
        try await Spine.expectHealthy(server)

        // A completes its line and is answered; then B is read, and answered.
        try await a.writeAll([lineA.last!, 10])
        let answerA = try await a.readLine(timeout: Spine.lineTimeout).map { try JSON.parse($0) }
        #expect(Spine.expectError(answerA, code: -32602, reason: "INVALID_PARAMS", id: 1)?["data"]?["field"] == "params.pad")
        try await b.writeAll(Array(unsentB), timeout: .seconds(20))
        let answerB = try await b.readLine(timeout: Spine.lineTimeout).map { try JSON.parse($0) }
        #expect(Spine.expectError(answerB, code: -32602, reason: "INVALID_PARAMS", id: 2)?["data"]?["field"] == "params.pad")
        a.closeNow()
        b.closeNow()
        await Spine.stop(server)
    }

    @Test func idleConnectionsAreClosedAfterTheIdleTimeout() async throws {
        let server = try await LiveServer.started(arguments: ["--idle-timeout", "1"])
        let idle = try await server.connect()
        let busy = try await server.connect()
        try await Spine.expectPing(idle)
        // `busy` keeps talking every 300 ms for 2 s: never idle for a whole second.
        let start = ContinuousClock.now
        var i = 0
        while ContinuousClock.now - start < .seconds(2) {
            try await Spine.expectPing(busy, id: .int(Int64(i)))
            i += 1
            try await Task.sleep(for: .milliseconds(300))
        }
        // `idle` has been closed by now.
        let eof = try await idle.readResponse(timeout: .seconds(5))
        #expect(eof == nil, "idle connection still open: \(String(describing: eof))")
        try await Spine.expectPing(busy, id: "still-open")
        await busy.close()
        await Spine.stop(server)
    }

    /// The idle timeout is for connections on which nothing happens: one whose request runs longer
    /// (a batch of 1,000 durable writes, held up here for 2.5 s) keeps its connection and gets its
    /// answer. Before, the connection was closed a timeout after the batch was read: the writes
    /// were made and the answer lost.
    ///
    /// The test holds SQLite's write lock on the daemon's database from its own connection, so the
    /// daemon's writer waits (its busy timeout is 5 s) and the batch outlasts the 1 s timeout
    /// whatever the disk's speed.
    @Test func aRequestLongerThanTheIdleTimeoutIsAnswered() async throws {
        try await Lifecycle.withServer(arguments: ["--idle-timeout", "1"]) { server, client in
            let calls = (0..<1000).map { i -> JSON in
                [
                    "jsonrpc": "2.0", "id": .int(Int64(i)), "method": "consent.record",
                    "params": Lifecycle.consentParams(subject: "idle-\(i)"),
                ]
            }
            // No write can commit while the lock is held, and an answer goes out only after its
            // write committed: the batch is in flight for the whole 2.5 s.
            let holder = try WriteLockHolder(database: server.databasePath)
            try await client.send(line: JSON.array(calls).encodedString())
            try await Task.sleep(for: .milliseconds(2500))
            holder.release()
            let answer = try await client.readResponse(timeout: .seconds(120))
            let results = answer?.arrayValue ?? []
            #expect(results.count == 1000, "\(String(describing: answer?.encodedString().prefix(300)))")
            #expect(results.allSatisfy { $0["result"]?["consentId"]?.stringValue != nil })
        }
    }

    @Test func connectionsBeyondTheCapGetOneUnavailableLineAndAreClosed() async throws {
        let server = try await LiveServer.started(arguments: ["--max-connections", "2"])
        let a = try await Spine.admittedClient(server)
        let b = try await Spine.admittedClient(server)
        let extra = try await server.connect()
        let refusal = try await extra.readResponse(timeout: Spine.lineTimeout)
        let e = Spine.expectError(refusal, code: -32007, reason: "UNAVAILABLE")
        #expect(e != nil)
        let end = try await extra.readResponse(timeout: .seconds(5))
        #expect(end == nil, "the refused connection must be closed after one line: \(String(describing: end))")
        // The admitted ones are unaffected.
        try await Spine.expectPing(a)
        try await Spine.expectPing(b)
        // A slot frees up when one leaves.
        await a.close()
        let c = try await Spine.admittedClient(server)
        try await Spine.expectPing(c)
        await b.close()
        await c.close()
        await Spine.stop(server)
    }

    @Test func aUIDNotOnTheAllowListGetsOneForbiddenLineAndIsClosed() async throws {
        let me = getuid()
        let other: UInt32 = me == 4242 ? 4343 : 4242
        let server = try await LiveServer.started(arguments: ["--allow-uid", "\(other)"])
        let c = try await server.connect()
        Spine.expectError(try await c.readResponse(timeout: Spine.lineTimeout), code: -32006, reason: "FORBIDDEN")
        let end = try await c.readResponse(timeout: .seconds(5))
        #expect(end == nil, "the refused connection must be closed: \(String(describing: end))")
        // A client that speaks first gets the same single line and nothing else. (Its write may
        // race with the server's close; a raw socket still reads what was sent before the reset.)
        let d = try RawUnixSocket(connectingTo: server.socketPath)
        _ = try? d.writeSome(ArraySlice(Array((Spine.pingLine(id: 1) + "\n").utf8)))
        let bytes = try await d.readToEnd(timeout: .seconds(10))
        let lines = bytes.split(separator: 10)
        #expect(lines.count == 1, "\(String(decoding: bytes, as: UTF8.self))")
        Spine.expectError(lines.first.flatMap { try? JSON.parse(Array($0)) }, code: -32006, reason: "FORBIDDEN")
        await Spine.stop(server)
    }

    @Test func theAllowListIsRepeatableAndAdmitsListedUIDs() async throws {
        let me = getuid()
        let other: UInt32 = me == 4242 ? 4343 : 4242
        let server = try await LiveServer.started(arguments: ["--allow-uid", "\(other)", "--allow-uid", "\(me)"])
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        await Spine.stop(server)
    }

    @Test func peerCredentialsReachTheAuditTrail() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        // An audited call (a denied enrollment is recorded with its caller).
        _ = try await c.call(
            "enroll.authorize", ["subject": "peer-test", "domain": "shop.example", "country": "DE", "trigger": "user_action"],
            timeout: Spine.lineTimeout)
        let entries = try await c.call("audit.query", ["limit": 50], timeout: Spine.lineTimeout)["entries"]?.arrayValue ?? []
        let callers = entries.compactMap { $0["caller"]?.stringValue }
        // This process is the peer: SO_PEERCRED gives our own uid and pid.
        #expect(callers.contains("uid=\(getuid()) pid=\(getpid())"), "callers: \(callers)")
        await c.close()
        await Spine.stop(server)
    }

    /// Everything at once on one server; afterwards it still answers, and exits 0 without a trace.
    @Test func afterAllAbuseTheServerAnswersAndExitsCleanly() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        var payload: [UInt8] = []
        for i in 1...1000 { payload += Array((Spine.pingLine(id: i) + "\n").utf8) }
        payload += [UInt8](repeating: UInt8(ascii: "x"), count: 8 << 20) + [10]
        payload += Array(#"{"s":""#.utf8) + [0xFF] + Array(#""}"#.utf8) + [10]
        payload += Array(String(repeating: "[", count: 100_000).utf8) + [10]
        payload += Array(#"{"a":1,"a":2}"#.utf8) + [10]
        payload += Array("[]\n".utf8)
        try await c.send(raw: payload)
        for i in 1...1000 {
            let r = try await Spine.read(c)
            if r["id"] != .int(Int64(i)) {
                Issue.record("#\(i): \(r)")
                break
            }
        }
        Spine.expectError(try await Spine.read(c), code: -32600, reason: "INVALID_REQUEST")
        Spine.expectError(try await Spine.read(c), code: -32700, reason: "PARSE_ERROR")
        Spine.expectError(try await Spine.read(c), code: -32600, reason: "INVALID_REQUEST")
        Spine.expectError(try await Spine.read(c), code: -32700, reason: "PARSE_ERROR")
        Spine.expectError(try await Spine.read(c), code: -32600, reason: "INVALID_REQUEST")
        let dropped = try RawUnixSocket(connectingTo: server.socketPath)
        try await dropped.writeAll(#"{"jsonrpc":"2.0","#)
        dropped.closeNow()
        try await Spine.expectPing(c)
        await c.close()
        try await Spine.expectHealthy(server)
        await Spine.stop(server)
    }
}

/// Holds SQLite's write lock on a database from the test's own connection (`BEGIN IMMEDIATE`)
/// until `release()`, so that a daemon's writes on it wait.
final class WriteLockHolder {
    private var db: OpaquePointer?

    init(database path: String) throws {
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw TestSupportError("cannot open \(path): \(message)")
        }
        sqlite3_busy_timeout(db, 5000)
        guard sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(db))
            sqlite3_close(db)
            throw TestSupportError("cannot take the write lock on \(path): \(message)")
        }
    }

    func release() {
        guard let db else { return }
        sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
        sqlite3_close(db)
        self.db = nil
    }

    deinit { release() }
}
