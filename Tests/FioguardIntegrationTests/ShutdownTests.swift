import FioguardJSON
import FioguardTesting
import FioguardTransport
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM/SIGINT: stop accepting, answer what is in flight, exit 0, leave no socket behind.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ShutdownTests {
    @Test func sigtermWithIdleConnectionsExitsZero() async throws {
        let server = try await LiveServer.started()
        var clients: [RPCTestClient] = []
        for _ in 0..<4 {
            let c = try await server.connect()
            try await Spine.expectPing(c)
            clients.append(c)
        }
        await Spine.stop(server)
        // Idle connections were closed, not left hanging.
        for c in clients {
            #expect(try await c.readResponse(timeout: .seconds(5)) == nil)
        }
    }

    @Test func sigintExitsZero() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        try await Spine.expectPing(c)
        server.signal(SIGINT)
        #expect(await server.exitStatus(within: .seconds(20)) == 0, "\(server.log.suffix(2000))")
        #expect(!Spine.exists(server.socketPath))
        #expect(try await c.readResponse(timeout: .seconds(5)) == nil)
        await server.cleanUp()
    }

    @Test func theDatabaseIsClosedOnTheWayOut() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        let status = await server.terminate(timeout: .seconds(20))
        #expect(status == 0)
        let log = server.log
        #expect(log.contains("database closed"), "\(log.suffix(2000))")
        #expect(!log.contains("critical"), "\(log.suffix(2000))")
        await server.cleanUp()
    }

    /// A batch that is being executed when SIGTERM arrives is answered completely.
    @Test func anInFlightBatchIsAnsweredCompletely() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        try await Spine.expectPing(c)
        let n = 1000
        let batch = "[" + (1...n).map { Spine.line("system.health", id: .int(Int64($0))) }.joined(separator: ",") + "]"
        try await c.send(line: batch)
        // Wait until the server is executing it (debug log: one "call ok" per element).
        let deadline = ContinuousClock.now + .seconds(20)
        while !server.log.contains("rpc.method=system.health"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        server.signal(SIGTERM)
        let r = try await c.readResponse(timeout: .seconds(30))
        let items = r?.arrayValue ?? []
        #expect(items.count == n, "in-flight batch got \(items.count) of \(n) answers")
        #expect(items.allSatisfy { $0["result"]?["status"] != nil })
        #expect(try await c.readResponse(timeout: .seconds(10)) == nil, "connection must close after the drain")
        #expect(await server.exitStatus(within: .seconds(20)) == 0)
        #expect(!Spine.exists(server.socketPath))
        await server.cleanUp()
    }

    /// Many connections pipelining when SIGTERM arrives: every answer that comes is whole, in order,
    /// and for a request that was sent; the server exits 0 and removes its socket.
    @Test func sigtermDuringLoad() async throws {
        let server = try await LiveServer.started()
        var clients: [RPCTestClient] = []
        for _ in 0..<8 { clients.append(try await server.connect()) }
        let connected = clients
        let load = Task {
            try await withThrowingTaskGroup(of: (answered: Int, problems: [String]).self) { group in
                for (k, c) in connected.enumerated() {
                    group.addTask {
                        var problems: [String] = []
                        var answered = 0
                        var nextID = 1
                        outer: while nextID < 100_000 {
                            // A burst of 50 pipelined requests, then read their answers.
                            var burst = ""
                            let first = nextID
                            for _ in 0..<50 {
                                burst += Spine.line(nextID % 10 == 0 ? "system.health" : "system.ping", id: .int(Int64(nextID))) + "\n"
                                nextID += 1
                            }
                            do { try await c.send(raw: Array(burst.utf8)) } catch { break outer }
                            for expected in first..<nextID {
                                let line: [UInt8]?
                                do {
                                    line = try await c.readLine(timeout: .seconds(20))
                                } catch let e as IOError where e.errnoCode == ECONNRESET {
                                    // Requests the server had not read yet when it stopped reading
                                    // were dropped with the connection: a reset instead of EOF,
                                    // after every answer that was sent (checked line by line).
                                    break outer
                                } catch {
                                    problems.append("conn \(k): \(error)")
                                    break outer
                                }
                                guard let line else { break outer }  // closed by the shutdown
                                guard let r = try? JSON.parse(line) else {
                                    problems.append("conn \(k): torn line \(String(decoding: line.prefix(200), as: UTF8.self))")
                                    break outer
                                }
                                if r["id"] != .int(Int64(expected)) || r["result"] == nil {
                                    problems.append("conn \(k) expected \(expected): \(r)")
                                    break outer
                                }
                                answered += 1
                            }
                        }
                        return (answered, problems)
                    }
                }
                var total = 0
                var problems: [String] = []
                for try await r in group {
                    total += r.answered
                    problems += r.problems
                }
                return (total, problems)
            }
        }
        // Let the load run, then pull the plug.
        try await Task.sleep(for: .milliseconds(400))
        let status = await server.terminate(timeout: .seconds(30))
        let (answered, problems) = try await withTimeout(.seconds(60), "load clients") { try await load.value }
        #expect(status == 0, "exit status \(status):\n\(server.log.suffix(2000))")
        #expect(answered > 0, "no request was answered before the shutdown")
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(!Spine.exists(server.socketPath))
        for c in clients { await c.close() }
        await server.cleanUp()
    }
}

/// The transport's drain, in process: a connection whose request is being handled when shutdown
/// begins gets its answer before it is closed.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TransportDrainTests {
    /// Holds every request until `open()` is called, and says when one has arrived.
    final class GatedHandler: FrameHandler {
        private let arrivals = Mutex(0)
        private let gate = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        var arrived: Int { arrivals.withLock { $0 } }

        func open() {
            let waiters = gate.withLock { g -> [CheckedContinuation<Void, Never>] in
                g.open = true
                defer { g.waiters = [] }
                return g.waiters
            }
            for w in waiters { w.resume() }
        }

        func handle(_ frame: Frame, connection: ConnectionInfo) async -> [UInt8]? {
            arrivals.withLock { $0 += 1 }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = gate.withLock { g -> Bool in
                    if g.open { return true }
                    g.waiters.append(c)
                    return false
                }
                if resumeNow { c.resume() }
            }
            guard case .line(let buffer) = frame else { return Array("oversized".utf8) }
            return Array("answer:".utf8) + Array(buffer.readableBytesView)
        }

        func refusal(_ reason: ConnectionRefusal) -> [UInt8] { Array("refused".utf8) }
    }

    /// A transport server on `dir/t.sock` that hands every line to `handler`; returns once it listens.
    static func startServer(
        in dir: TemporaryDirectory, handler: GatedHandler
    ) async -> (UnixSocketServer, Task<Void, any Error>) {
        let server = UnixSocketServer(
            configuration: TransportConfiguration(socketPath: dir.file("t.sock")), handler: handler,
            logger: Logger(label: "drain") { _ in SwiftLogNoOpLogHandler() })
        let running = Task { try await server.run() }
        var ready = server.ready.makeAsyncIterator()
        _ = await ready.next()
        return (server, running)
    }

    /// Waits, 10 s at most, until `handler` holds a first request.
    static func firstArrival(_ handler: GatedHandler, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while handler.arrived == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        try #require(handler.arrived == 1, sourceLocation: sourceLocation)
    }

    /// A line still being written when shutdown begins is not executed: the server cannot know
    /// it was finished. (When the client itself ends its input, such a last line is answered.)
    @Test func aPartialLineIsDroppedAtShutdown() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let handler = GatedHandler()
        let (server, running) = await Self.startServer(in: dir, handler: handler)

        let client = try RawUnixSocket(connectingTo: dir.file("t.sock"))
        try await client.writeAll("first\nsecond-not-yet-ended")
        try await Self.firstArrival(handler)
        try await Task.sleep(for: .milliseconds(100))
        server.beginShutdown()
        try await Task.sleep(for: .milliseconds(100))
        handler.open()

        let answer = try await client.readToEnd(timeout: .seconds(10))
        #expect(String(decoding: answer, as: UTF8.self) == "answer:first\n")
        #expect(handler.arrived == 1)
        try await withTimeout(.seconds(10), "server.run() after shutdown") { try await running.value }
    }

    @Test(arguments: [16, 512 * 1024])
    func aBusyConnectionIsAnsweredBeforeItIsClosed(payloadSize: Int) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let handler = GatedHandler()
        let (server, running) = await Self.startServer(in: dir, handler: handler)

        let busy = try RawUnixSocket(connectingTo: dir.file("t.sock"))
        let idle = try RawUnixSocket(connectingTo: dir.file("t.sock"))
        let payload = String(repeating: "p", count: payloadSize)
        try await busy.writeAll(payload + "\n")
        try await Self.firstArrival(handler)

        try await Task.sleep(for: .milliseconds(100))
        server.beginShutdown()
        try await Task.sleep(for: .milliseconds(100))
        handler.open()

        let answer = try await busy.readToEnd(timeout: .seconds(10))
        #expect(answer.count == "answer:".utf8.count + payloadSize + 1, "got \(answer.count) bytes")
        // An idle connection is closed without an answer; if the server had not yet taken it in
        // when shutdown began (a race under load), it is told it was refused — never anything else.
        let idleBytes = try await idle.readToEnd(timeout: .seconds(10))
        #expect(idleBytes.isEmpty || idleBytes == Array("refused\n".utf8), "idle connection got \(idleBytes.count) bytes")
        try await withTimeout(.seconds(10), "server.run() after shutdown") { try await running.value }
        #expect(!Spine.exists(dir.file("t.sock")))
    }
}
