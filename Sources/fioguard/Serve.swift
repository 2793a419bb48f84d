import ArgumentParser
import FioguardServer
import FioguardTransport
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `fioguard serve`: run the daemon.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve JSON-RPC 2.0 on a Unix domain socket.")

    @Option(help: "Unix socket path; the default is $FIOGUARD_SOCKET, else one for root or for this user.")
    var socket: String = DefaultPaths.socket

    @Option(help: "SQLite database file; the default is $FIOGUARD_DATABASE, else one for root or for this user.")
    var database: String = DefaultPaths.database

    @Option(help: "Policy file (JSON, see proto-docs/policy.md); default: the built-in strict policy.")
    var policy: String?

    @Option(name: .customLong("faceio-url"), help: "FACEIO REST base URL.")
    var faceioURL: String = "https://api.faceio.net/"

    @Option(name: .customLong("faceio-key-file"), help: "File holding the FACEIO API key (or set FIOGUARD_FACEIO_API_KEY).")
    var faceioKeyFile: String?

    @Option(
        name: .customLong("faceio-webhook-token-file"),
        help: "File holding the FACEIO webhook token (or set FIOGUARD_FACEIO_WEBHOOK_TOKEN).")
    var faceioWebhookTokenFile: String?

    @Option(name: .customLong("faceio-retry-base"), help: "Seconds: retry backoff base for FACEIO calls (full jitter).")
    var faceioRetryBase: Double = 1

    @Option(name: .customLong("faceio-retry-cap"), help: "Seconds: longest wait between FACEIO retries.")
    var faceioRetryCap: Double = 300

    @Option(name: .customLong("faceio-request-timeout"), help: "Seconds a FACEIO call may take before it is retried.")
    var faceioRequestTimeout: Int64 = 15

    @Option(name: .customLong("faceio-max-concurrent"), help: "FACEIO calls in flight at once.")
    var faceioMaxConcurrent: Int = 4

    @Option(name: .customLong("faceio-rate"), help: "FACEIO calls started per second at most.")
    var faceioRate: Double = 10

    @Option(name: .customLong("socket-mode"), help: "Socket file mode, octal.")
    var socketMode: String = "0660"

    @Option(name: .customLong("allow-uid"), help: "Only this uid may connect (repeatable).")
    var allowUID: [UInt32] = []

    @Option(
        name: .customLong("admin-uid"),
        help: "Only this uid may call admin methods: sweep, audit, reload, deletion.list (repeatable; without it, any allowed peer may).")
    var adminUID: [UInt32] = []

    @Option(name: .customLong("max-frame-bytes"), help: "Longest accepted request line in bytes.")
    var maxFrameBytes: Int = 1 << 20

    @Option(
        name: .customLong("max-buffered-bytes"),
        help: "Request bytes held across all connections before those holding over 64 KiB each wait.")
    var maxBufferedBytes: Int = 64 << 20

    @Option(name: .customLong("max-connections"), help: "Concurrent connections allowed.")
    var maxConnections: Int = 1024

    @Option(name: .customLong("idle-timeout"), help: "Seconds before an idle connection is closed.")
    var idleTimeout: Int64 = 300

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(
        name: .customLong("event-loops"),
        help: "Threads for socket I/O; default: half the cores, at least 1 (or $NIO_SINGLETON_GROUP_LOOP_COUNT).")
    var eventLoops: Int?

    func validate() throws {
        guard UInt32(socketMode, radix: 8).map({ $0 <= 0o777 }) == true else {
            throw ValidationError("--socket-mode: expected an octal mode such as 0660")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \(logLevel)") }
        guard maxFrameBytes >= 1024 else { throw ValidationError("--max-frame-bytes: at least 1024") }
        guard maxBufferedBytes >= maxFrameBytes + 2 else {
            throw ValidationError("--max-buffered-bytes: at least --max-frame-bytes + 2 (one line and its \\r\\n)")
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections: at least 1") }
        guard faceioRetryBase > 0, faceioRetryCap >= faceioRetryBase else {
            throw ValidationError("--faceio-retry-base must be > 0 and --faceio-retry-cap at least as large")
        }
        guard faceioRequestTimeout >= 1 else { throw ValidationError("--faceio-request-timeout: at least 1 second") }
        guard faceioMaxConcurrent >= 1, faceioRate > 0 else { throw ValidationError("--faceio-max-concurrent ≥ 1 and --faceio-rate > 0") }
        guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout: at least 1 second") }
        if let eventLoops, !(1...1024).contains(eventLoops) { throw ValidationError("--event-loops: from 1 to 1024") }
        // Checked here, while parsing, so an unreadable or empty file is a usage error of
        // `fioguard serve`; `run()` reads them again.
        _ = try secret(file: faceioKeyFile, flag: "--faceio-key-file", environment: "FIOGUARD_FACEIO_API_KEY")
        _ = try secret(file: faceioWebhookTokenFile, flag: "--faceio-webhook-token-file", environment: "FIOGUARD_FACEIO_WEBHOOK_TOKEN")
    }

    func run() async throws {
        // First thing: a starter that dies while the daemon opens its database is noticed too.
        let parentAtStart = getppid()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "fioguard")
        // Before anything uses NIO's shared event loop group.
        let loops = EventLoopCount.configure(
            requested: eventLoops, environmentValue: getenv(EventLoopCount.environmentVariable).map { String(cString: $0) })
        logger.info("socket I/O", metadata: ["eventLoops": "\(loops)"])

        var config = ServerConfiguration(socketPath: socket, databasePath: database)
        config.policyPath = policy
        config.faceioURL = faceioURL
        config.faceioAPIKey = try secret(file: faceioKeyFile, flag: "--faceio-key-file", environment: "FIOGUARD_FACEIO_API_KEY")
        config.faceioWebhookToken = try secret(
            file: faceioWebhookTokenFile, flag: "--faceio-webhook-token-file", environment: "FIOGUARD_FACEIO_WEBHOOK_TOKEN")
        config.faceioRetryBaseSeconds = faceioRetryBase
        config.faceioRetryCapSeconds = faceioRetryCap
        config.faceioMaxConcurrentCalls = faceioMaxConcurrent
        config.faceioRequestTimeoutSeconds = faceioRequestTimeout
        config.faceioCallsPerSecond = faceioRate
        config.logLevel = level
        config.transport.socketMode = UInt32(socketMode, radix: 8) ?? 0o660
        config.transport.allowedUIDs = Set(allowUID)
        config.transport.maxFrameLength = maxFrameBytes
        config.transport.maxBufferedBytes = maxBufferedBytes
        config.transport.maxConnections = maxConnections
        config.transport.idleTimeoutSeconds = idleTimeout
        config.adminUIDs = adminUID.isEmpty ? nil : Set(adminUID)
        if getenv("FIOGUARD_EXIT_WITH_PARENT").map({ String(cString: $0) == "1" }) == true {
            config.exitWithParent = parentAtStart
        }

        do {
            try await Application(configuration: config, logger: logger).run()
        } catch {
            logger.critical("cannot serve", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }

    /// A secret from its file (first line, trimmed) or the environment. Never logged.
    private func secret(file: String?, flag: String, environment: String) throws -> String? {
        if let path = file {
            let text: String
            do { text = try SecretFile.read(path) } catch { throw ValidationError("\(flag): \(error)") }
            guard !text.isEmpty else { throw ValidationError("\(flag): \(path) is empty") }
            return text
        }
        if let p = getenv(environment) {
            let s = String(cString: p).trimmingWhitespace
            return s.isEmpty ? nil : s
        }
        return nil
    }
}

/// Reads a small secret file: first line, surrounding whitespace removed.
enum SecretFile {
    static func read(_ path: String) throws -> String {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path, limit: 64 << 10, limitName: "64 KiB, too large for a secret")
        } catch {
            throw ValidationError(error.description)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").trimmingWhitespace
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
