import FioguardTesting
import FioguardTransport
import Foundation
import Testing

/// `--event-loops`: the daemon runs that many NIO event loop threads and says so at start.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct EventLoopCountLiveTests {
    /// The daemon's NIO event loop threads, counted by their names in `/proc`.
    private static func eventLoopThreads(_ server: LiveServer) throws -> Int {
        let pid = try #require(server.pid)
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        return tasks.filter { task in
            let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8)) ?? ""
            return name.hasPrefix("NIO-SGLTN-")
        }.count
    }

    // One is this machine's default on 2 or 3 cores; the other count differs from it anywhere.
    @Test(arguments: [1, EventLoopCount.defaultCount() + 2])
    func theFlagSetsTheNumberOfEventLoops(_ loops: Int) async throws {
        let server = try await LiveServer.started(arguments: ["--event-loops", "\(loops)"])
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        #expect(try Self.eventLoopThreads(server) == loops)
        #expect(server.log.contains("eventLoops=\(loops)"), "\(server.log)")
        await Spine.stop(server)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil))
    func byDefaultHalfTheCores() async throws {
        let server = try await LiveServer.started()
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        let expected = EventLoopCount.defaultCount()
        #expect(try Self.eventLoopThreads(server) == expected)
        #expect(server.log.contains("eventLoops=\(expected)"), "\(server.log)")
        await Spine.stop(server)
    }

    @Test func withoutTheFlagNIOsVariableDecides() async throws {
        let loops = EventLoopCount.defaultCount() + 1
        let server = try await LiveServer.started(environment: ["NIO_SINGLETON_GROUP_LOOP_COUNT": "\(loops)"])
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        #expect(try Self.eventLoopThreads(server) == loops)
        #expect(server.log.contains("eventLoops=\(loops)"), "\(server.log)")
        await Spine.stop(server)
    }

    @Test func anOutOfRangeCountIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for bad in ["0", "-1", "1025", "two"] {
            let (status, output) = try await LiveServer.run(
                ["serve", "--socket", dir.file("fg.sock"), "--database", dir.file("db.sqlite"), "--event-loops", bad], timeout: .seconds(20))
            #expect(status != 0, "--event-loops \(bad) accepted:\n\(output)")
            #expect(output.contains("--event-loops"), "\(output)")
        }
    }
}
