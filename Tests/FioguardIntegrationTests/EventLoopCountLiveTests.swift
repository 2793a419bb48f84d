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

    /// Starts a daemon, checks it answers, then that it runs `loops` event loops and logged so.
    private static func expectEventLoops(
        _ loops: Int, arguments: [String] = [], environment: [String: String] = [:]
    ) async throws {
        let server = try await LiveServer.started(arguments: arguments, environment: environment)
        let c = try await server.connect()
        try await Spine.expectPing(c)
        await c.close()
        #expect(try eventLoopThreads(server) == loops)
        #expect(server.log.contains("eventLoops=\(loops)"), "\(server.log)")
        await Spine.stop(server)
    }

    // One is this machine's default on 2 or 3 cores; the other count differs from it anywhere.
    @Test(arguments: [1, EventLoopCount.defaultCount() + 2])
    func theFlagSetsTheNumberOfEventLoops(_ loops: Int) async throws {
        try await Self.expectEventLoops(loops, arguments: ["--event-loops", "\(loops)"])
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil))
    func byDefaultHalfTheCores() async throws {
        try await Self.expectEventLoops(EventLoopCount.defaultCount())
    }

    @Test func withoutTheFlagNIOsVariableDecides() async throws {
        let loops = EventLoopCount.defaultCount() + 1
        try await Self.expectEventLoops(loops, environment: ["NIO_SINGLETON_GROUP_LOOP_COUNT": "\(loops)"])
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
