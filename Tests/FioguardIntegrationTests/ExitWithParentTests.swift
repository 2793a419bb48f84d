import FioguardTesting
import Foundation
import Testing

/// `FIOGUARD_EXIT_WITH_PARENT=1`: a daemon whose starter dies (a crashed test run) stops itself,
/// gracefully, instead of serving forever.
@Suite("Exit with parent")
struct ExitWithParentTests {
    /// Gone, or a zombie nobody reaps yet: either way no longer serving.
    static func hasExited(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }

    /// The daemon accepts connections on `path`.
    static func isServing(_ path: String) -> Bool {
        guard let socket = try? RawUnixSocket(connectingTo: path) else { return false }
        socket.closeNow()
        return true
    }

    /// Starts the daemon from a shell that then becomes `sleep` (same pid), and returns both pids.
    static func startUnderShell(_ dir: TemporaryDirectory, exitWithParent: Bool) throws -> (shell: Process, daemon: Int32) {
        let sh = Process()
        sh.executableURL = URL(fileURLWithPath: "/bin/sh")
        sh.arguments = [
            "-c", #""$0" serve --socket "$1" --database "$2" 2>>"$3" & echo $!; exec sleep 120"#,
            LiveServer.binaryPath, dir.file("fg.sock"), dir.file("db/fioguard.sqlite"), dir.file("server.log"),
        ]
        var env = ProcessInfo.processInfo.environment
        env["FIOGUARD_EXIT_WITH_PARENT"] = exitWithParent ? "1" : nil
        env["FIOGUARD_FACEIO_API_KEY"] = nil
        sh.environment = env
        let out = Pipe()
        sh.standardOutput = out
        try sh.run()
        var line: [UInt8] = []
        while true {
            let byte = try out.fileHandleForReading.read(upToCount: 1) ?? Data()
            guard let b = byte.first else { break }
            if b == UInt8(ascii: "\n") { break }
            line.append(b)
        }
        guard let pid = Int32(String(decoding: line, as: UTF8.self)) else { throw TestSupportError("no daemon pid from the shell") }
        return (sh, pid)
    }

    /// Starts a daemon under a shell, waits until it serves, kills the shell, then runs `check`
    /// with the daemon's directory and pid; the daemon is killed afterwards in any case.
    static func orphanDaemon(
        exitWithParent: Bool, _ check: (TemporaryDirectory, Int32) async throws -> Void
    ) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (shell, daemon) = try startUnderShell(dir, exitWithParent: exitWithParent)
        defer { kill(daemon, SIGKILL) }
        let live = try await eventually { isServing(dir.file("fg.sock")) ? true : nil }
        #expect(live == true)
        kill(shell.processIdentifier, SIGKILL)
        try await check(dir, daemon)
    }

    @Test func theDaemonStopsGracefullyWhenItsStarterDies() async throws {
        try await Self.orphanDaemon(exitWithParent: true) { dir, daemon in
            let exited = try await eventually(timeout: .seconds(15)) { Self.hasExited(daemon) ? true : nil }
            #expect(exited == true)
            // Gracefully: the socket file is removed on the way out.
            #expect(!FileManager.default.fileExists(atPath: dir.file("fg.sock")))
            let log = (try? String(contentsOfFile: dir.file("server.log"), encoding: .utf8)) ?? ""
            #expect(log.contains("the process that started fioguard has exited"))
        }
    }

    @Test func withoutTheVariableTheDaemonOutlivesItsStarter() async throws {
        try await Self.orphanDaemon(exitWithParent: false) { dir, daemon in
            try await Task.sleep(for: .seconds(1))
            #expect(!Self.hasExited(daemon))
            #expect(Self.isServing(dir.file("fg.sock")))
        }
    }
}
