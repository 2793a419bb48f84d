import FioguardTransport
import Foundation

/// A `fioguard serve` process on a temporary socket and database, started for one workload.
final class BenchServer {
    let directory: String
    let socketPath: String
    let databasePath: String
    let process: Process

    static func binary() -> String {
        if let p = ProcessInfo.processInfo.environment["FIOGUARD_BINARY"] { return p }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fioguard").path
    }

    /// Creates the directory and policy; `prepare` may seed the database before the server opens it.
    init(prepare: (String) async throws -> Void) async throws {
        var template = Array("/tmp/fg-bench-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw BenchError("mkdtemp failed") }
        directory = String(cString: p)
        socketPath = directory + "/fg.sock"
        databasePath = directory + "/fioguard.sqlite"
        try Self.policy.write(toFile: directory + "/policy.json", atomically: true, encoding: .utf8)
        try await prepare(databasePath)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary())
        process.arguments = [
            "serve", "--socket", socketPath, "--database", databasePath, "--policy", directory + "/policy.json",
            "--log-level", "warning", "--max-connections", "4096",
        ]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        // A bench that is interrupted leaves no server behind.
        process.environment = ProcessInfo.processInfo.environment.merging(["FIOGUARD_EXIT_WITH_PARENT": "1"]) { $1 }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !SocketPath.isLive(socketPath) {
            guard process.isRunning, Date() < deadline else { throw BenchError("fioguard did not start") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Peak resident set size so far (VmHWM), in bytes.
    var peakRSS: Int {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }

    /// CPU time the server has used so far (user + system, all threads), in seconds; nil if
    /// `/proc` cannot tell.
    var cpuSeconds: Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ": state is field 3, utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]), ticksPerSecond > 0 else { return nil }
        return (user + system) / ticksPerSecond
    }

    /// CPU time per role of the server's threads so far (user and system, in seconds), from
    /// `/proc/PID/task`: the store names its threads (`fg-writer`, `fg-checkpointer`,
    /// `fg-reader-N`), SwiftNIO its event loops (`NIO-…`); the rest is Swift's pool (and idle
    /// helpers). Empty if `/proc` cannot tell. A thread that exits between two readings takes its
    /// time with it (Swift's pool may retire idle threads), so the roles can add up to less than
    /// `cpuSeconds`, which the process keeps for its exited threads too.
    var cpuSecondsByRole: [String: (user: Double, system: Double)] {
        let base = "/proc/\(process.processIdentifier)/task"
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticksPerSecond > 0, let tasks = try? FileManager.default.contentsOfDirectory(atPath: base) else { return [:] }
        var out: [String: (user: Double, system: Double)] = [:]
        for task in tasks {
            guard let stat = try? String(contentsOfFile: "\(base)/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let name = String(stat[stat.index(after: open)..<close])
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            let role =
                name.hasPrefix("fg-writer") ? "writer"
                : name.hasPrefix("fg-checkpointer") ? "checkpointer"
                : name.hasPrefix("fg-reader") ? "readers"
                : name.hasPrefix("NIO-") ? "event loop"
                : "pool"
            let sum = out[role] ?? (0, 0)
            out[role] = (sum.user + user / ticksPerSecond, sum.system + system / ticksPerSecond)
        }
        return out
    }

    /// Bytes the server has caused to be written to storage so far (`write_bytes` in
    /// `/proc/PID/io`: the WAL, checkpoints into the database file); nil if `/proc` cannot tell.
    var diskBytesWritten: Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/io", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return line.split(separator: " ").last.flatMap { Int64($0) }
        }
        return nil
    }

    /// Bytes written so far to the block device that holds the database, whoever wrote them
    /// (sectors written, the seventh field of `/sys/dev/block/MAJOR:MINOR/stat`, in 512-byte
    /// units); nil where the file is on no block device (tmpfs) or sysfs cannot tell. Unlike
    /// `write_bytes`, which counts pages as they are dirtied (likely a whole large folio when part
    /// of it is), this is what reached the device.
    var deviceBytesWritten: Int64? {
        var info = stat()
        guard stat(databasePath, &info) == 0 else { return nil }
        let dev = UInt64(info.st_dev)
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))
        let minor = (dev & 0xff) | ((dev >> 12) & ~UInt64(0xff))
        guard major != 0,
            let text = try? String(contentsOfFile: "/sys/dev/block/\(major):\(minor)/stat", encoding: .utf8)
        else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 6, let sectors = Int64(fields[6]) else { return nil }
        return sectors * 512
    }

    func stop() async {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Permissive for the bench's domain; sweeping only on request (interval P1D).
    static let policy = """
        {"version":1,"purposes":["authentication"],"domains":["shop.example"],
         "consent":{"maxAgeBeforeEnrollment":"P1D"},"enrollment":{"ticketTTL":"PT10M"},
         "retention":{"maxSinceEnrollment":"P3Y","maxSinceLastInteraction":"P3Y"},"sweep":{"interval":"P1D"}}
        """
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
