/// Socket-level settings. Every field has a default; the CLI only fills it (STYLE.md §5).
public struct TransportConfiguration: Sendable {
    public var socketPath: String
    /// File mode of the socket (default 0660: owner and group may connect).
    public var socketMode: UInt32 = 0o660
    /// Longest accepted line in bytes (default 1 MiB).
    public var maxFrameLength: Int = 1 << 20
    /// Request bytes held across all connections (partial lines and lines not yet handled)
    /// before connections holding more than 64 KiB each stop being read (`InboundBudget`).
    public var maxBufferedBytes: Int = 64 << 20
    /// A connection with no traffic either way for this long is closed.
    public var idleTimeoutSeconds: Int64 = 300
    /// Connections beyond this are told `UNAVAILABLE` and closed.
    public var maxConnections: Int = 1024
    /// When non-empty, only these uids may connect; others are told `FORBIDDEN` and closed.
    public var allowedUIDs: Set<UInt32> = []

    public init(socketPath: String) {
        self.socketPath = socketPath
    }
}
