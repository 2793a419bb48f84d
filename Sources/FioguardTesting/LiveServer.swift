import FioguardTransport
import Foundation

/// The real `fioguard` binary serving on a temporary socket with a temporary database: what the
/// integration tests talk to (STYLE.md §9). Its stderr goes to `logPath` so tests can read it.
public final class LiveServer: @unchecked Sendable {
    // @unchecked: `process` is only replaced by start/restart, which tests call sequentially.
    public let directory: TemporaryDirectory
    public let socketPath: String
    public let databasePath: String
    public let logPath: String
    public var arguments: [String]
    public var environment: [String: String]
    private(set) var process: Process?

    public var pid: Int32? { process?.processIdentifier }

    /// The built `fioguard` executable: `$FIOGUARD_BINARY`, else beside the test bundle.
    public static var binaryPath: String {
        if let p = ProcessInfo.processInfo.environment["FIOGUARD_BINARY"] { return p }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The bundle may be a directory (….xctest/Contents/MacOS) on some platforms.
        while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("fioguard").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("fioguard").path
    }

    /// Starts a server; `policy` is the policy file's JSON text (nil: built-in default).
    public convenience init(policy: String? = nil, arguments: [String] = [], environment: [String: String] = [:]) throws {
        try self.init(policy: policy, arguments: arguments, environment: environment, socketName: "fg.sock")
    }

    /// Like `init(policy:arguments:environment:)`, with the socket at `socketName` relative to the
    /// server's temporary directory (it may name directories that do not exist yet: `a/b/fg.sock`).
    public init(policy: String?, arguments: [String], environment: [String: String], socketName: String) throws {
        directory = try TemporaryDirectory()
        socketPath = directory.file(socketName)
        databasePath = directory.file("db/fioguard.sqlite")
        logPath = directory.file("server.log")
        self.arguments = arguments
        self.environment = environment
        if let policy {
            try directory.write("policy.json", policy)
            self.arguments += ["--policy", directory.file("policy.json")]
        }
    }

    public var policyPath: String { directory.file("policy.json") }

    /// Launches the process and waits until the socket accepts connections.
    public func start(timeout: Duration = .seconds(30)) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binaryPath)
        p.arguments = ["serve", "--socket", socketPath, "--database", databasePath, "--log-level", "debug"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["FIOGUARD_FACEIO_API_KEY"] = nil
        // A test process that crashes cannot stop its servers; they stop themselves.
        env["FIOGUARD_EXIT_WITH_PARENT"] = "1"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        p.standardError = log
        p.standardOutput = log
        try p.run()
        process = p
        let deadline = ContinuousClock.now + timeout
        while !SocketPath.isLive(socketPath) {
            guard p.isRunning else {
                throw TestSupportError("fioguard exited with \(p.terminationStatus) before listening:\n\(directory.read("server.log"))")
            }
            guard ContinuousClock.now < deadline else { throw TestSupportError("fioguard did not listen within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public static func started(policy: String? = nil, arguments: [String] = [], environment: [String: String] = [:]) async throws -> LiveServer {
        let s = try LiveServer(policy: policy, arguments: arguments, environment: environment)
        try await s.start()
        return s
    }

    public static func started(
        policy: String? = nil, arguments: [String] = [], environment: [String: String] = [:], socketName: String
    ) async throws -> LiveServer {
        let s = try LiveServer(policy: policy, arguments: arguments, environment: environment, socketName: socketName)
        try await s.start()
        return s
    }

    /// Whether the server process is still running.
    public var isRunning: Bool { process?.isRunning ?? false }

    /// The exit status once the process has ended (without signalling it), or nil when it is still
    /// running after `timeout`.
    public func exitStatus(within timeout: Duration) async -> Int32? {
        guard let p = process else { return nil }
        let deadline = ContinuousClock.now + timeout
        while p.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return p.terminationStatus
    }

    /// Runs the `fioguard` binary with `arguments` to its end (SIGKILL after `timeout`) and returns
    /// its exit status and combined output. For commands that are expected to exit by themselves.
    public static func run(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> (status: Int32, output: String) {
        let dir = try TemporaryDirectory(prefix: "fgrun")
        defer { dir.remove() }
        let outPath = dir.file("out.log")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        defer { try? out.close() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binaryPath)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["FIOGUARD_FACEIO_API_KEY"] = nil
        p.environment = env
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let deadline = ContinuousClock.now + timeout
        var killed = false
        while p.isRunning {
            if ContinuousClock.now > deadline, !killed {
                kill(p.processIdentifier, SIGKILL)
                killed = true
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let text = dir.read("out.log")
        return (p.terminationStatus, killed ? text + "\n[killed after \(timeout)]" : text)
    }

    public func signal(_ sig: Int32) {
        if let p = process, p.isRunning { kill(p.processIdentifier, sig) }
    }

    /// SIGTERM, then waits for the exit status (SIGKILL after `timeout`).
    @discardableResult
    public func terminate(timeout: Duration = .seconds(30)) async -> Int32 {
        guard let p = process else { return 0 }
        if p.isRunning { kill(p.processIdentifier, SIGTERM) }
        return await waitForExit(p, timeout: timeout)
    }

    /// SIGKILL: a crash, as far as the server can tell.
    public func crash() async {
        guard let p = process else { return }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        _ = await waitForExit(p, timeout: .seconds(30))
    }

    private func waitForExit(_ p: Process, timeout: Duration) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while p.isRunning {
            if ContinuousClock.now > deadline {
                kill(p.processIdentifier, SIGKILL)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return p.terminationStatus
    }

    /// The server's log so far.
    public var log: String { directory.read("server.log") }

    public func connect() async throws -> RPCTestClient {
        try await RPCTestClient.connect(socketPath)
    }

    /// Stops the server if still running and removes its directory.
    public func cleanUp() async {
        await terminate()
        directory.remove()
    }
}
