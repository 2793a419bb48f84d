public import Logging
import Synchronization

/// Log lines a test can read back: give a `Logger` a `RecordingLogHandler` over one of these.
public final class LogRecords: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
        /// When it was logged.
        public var at: ContinuousClock.Instant = .now
    }

    private let records = Mutex<[Record]>([])

    public init() {}

    func append(_ r: Record) { records.withLock { $0.append(r) } }

    public var all: [Record] { records.withLock { $0 } }

    /// A logger that records into this, at every level.
    public func logger(label: String = "test") -> Logger {
        Logger(label: label) { _ in RecordingLogHandler(self) }
    }
}

/// Appends every line it is given to a `LogRecords`, metadata rendered as text.
public struct RecordingLogHandler: LogHandler {
    let records: LogRecords
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]

    public init(_ records: LogRecords) { self.records = records }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        records.append(.init(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
    }
}
