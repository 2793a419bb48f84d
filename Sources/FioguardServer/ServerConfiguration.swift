public import FioguardTransport
public import Logging

/// Everything `fioguard serve` can be told. Every field has a default; the CLI only fills it.
public struct ServerConfiguration: Sendable {
    public var transport: TransportConfiguration
    public var databasePath: String
    /// nil: the built-in strict default policy.
    public var policyPath: String?
    /// FACEIO REST base URL (tests point it at a loopback fake).
    public var faceioURL: String = "https://api.faceio.net/"
    /// The FACEIO API key; never logged. nil: deletions wait in the outbox.
    public var faceioAPIKey: String?
    /// Retry backoff for FACEIO calls (full jitter over base·2^attempt, capped), seconds.
    public var faceioRetryBaseSeconds: Double = 1
    public var faceioRetryCapSeconds: Double = 300
    /// FACEIO calls in flight at once, and started per second at most.
    public var faceioMaxConcurrentCalls: Int = 4
    /// Seconds a FACEIO call may take before it counts as failed (and is retried).
    public var faceioRequestTimeoutSeconds: Int64 = 15
    public var faceioCallsPerSecond: Double = 10
    /// The token FACEIO sends with webhooks; nil: `webhook.ingest` refuses every call.
    public var faceioWebhookToken: String?
    public var logLevel: Logger.Level = .info
    /// When set, admin methods (sweep, audit, reload) answer FORBIDDEN to other uids.
    public var adminUIDs: Set<UInt32>?
    /// Database reader connections.
    public var readerCount: Int = 2
    /// Stop, as on SIGTERM, once this process (the daemon's parent when it started) has exited
    /// (`FIOGUARD_EXIT_WITH_PARENT=1`): a test suite that dies without stopping its servers
    /// leaves none behind. `nil`: never.
    public var exitWithParent: Int32?

    public init(socketPath: String = DefaultPaths.socket, databasePath: String = DefaultPaths.database) {
        transport = TransportConfiguration(socketPath: socketPath)
        self.databasePath = databasePath
    }
}
