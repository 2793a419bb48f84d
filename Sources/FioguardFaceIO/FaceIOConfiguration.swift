/// How fioguard talks to FACEIO's REST API. Every field has a default.
public struct FaceIOConfiguration: Sendable {
    /// `https://api.faceio.net/` in production; tests point it at a loopback fake.
    public var baseURL: String = "https://api.faceio.net/"
    /// The application's private API key. nil: deletions wait in the outbox.
    public var apiKey: String?
    public var connectTimeoutSeconds: Int64 = 5
    public var requestTimeoutSeconds: Int64 = 15
    /// Larger answers are treated as garbage (FACEIO's are a few hundred bytes).
    public var maxResponseBytes: Int = 64 * 1024
    /// Calls in flight at once.
    public var maxConcurrentCalls: Int = 4
    /// Calls started per second at most (token bucket, burst = this many).
    public var callsPerSecond: Double = 10
    /// Backoff for retryable failures: full jitter over base·2^attempt, capped.
    public var backoffBaseSeconds: Double = 1
    public var backoffCapSeconds: Double = 300
    /// How often the worker looks for due jobs when idle.
    public var pollIntervalMilliseconds: Int64 = 200

    public init() {}

    public var isConfigured: Bool { apiKey != nil }
}
