import CSQLite

/// An error from the store: an SQLite result code with `sqlite3_errmsg`, or one of the store's own
/// conditions (closed, schema newer than this build, invalid configuration) under a fitting SQLite code.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// The primary SQLite result code (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, …).
    public let code: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, …); equal to `code` when there is none.
    public let extendedCode: Int32
    public let message: String
    private let origin: Origin

    enum Origin: Sendable {
        case sqlite, closed, schemaTooNew, inUse
    }

    public init(code: Int32, message: String) {
        self.init(code: code, message: message, origin: .sqlite)
    }

    init(code: Int32, message: String, origin: Origin) {
        self.code = code & 0xff
        self.extendedCode = code
        self.message = message
        self.origin = origin
    }

    /// Thrown by every call made after `Database.close()`.
    public static let closed = StoreError(code: SQLITE_MISUSE, message: "the database is closed", origin: .closed)

    /// A request the store completed without running it (a bug in the store, never expected).
    @usableFromInline
    static let notRun = StoreError(code: SQLITE_INTERNAL, message: "request completed without running")

    /// SQLite rolled the group's transaction back by itself (SQLITE_FULL, SQLITE_IOERR, …) and a
    /// closure went on: nothing may then be written outside the transaction.
    static let transactionLost = StoreError(
        code: SQLITE_ABORT, message: "SQLite rolled the transaction back by itself (after an error a closure caught)")

    /// After an I/O error on the database file while checkpointing, every checkpoint, write and
    /// read is refused until the store is opened again (`CheckpointTrigger.stopCheckpoints`).
    static let checkpointsStopped = StoreError(
        code: SQLITE_IOERR,
        message: "the database file could not be written out while checkpointing: the store refuses every call until it is opened again (restart fioguard)")

    static func misuse(_ message: String) -> StoreError {
        StoreError(code: SQLITE_MISUSE, message: message)
    }

    /// Another process has the database open as its store (see `OwnerLock`).
    static func inUse(_ message: String) -> StoreError {
        StoreError(code: SQLITE_BUSY, message: message, origin: .inUse)
    }

    /// UNIQUE, PRIMARY KEY, FOREIGN KEY, CHECK or NOT NULL failed.
    public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }
    /// Another connection (or process) held a lock longer than the busy timeout.
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    /// The database was closed before the call.
    public var isClosed: Bool { origin == .closed }
    /// The database file was migrated by a newer build; this one refuses to open it.
    public var isSchemaTooNew: Bool { origin == .schemaTooNew }
    /// Another process (a second daemon) has the database open as its store.
    public var isInUse: Bool { origin == .inUse }

    public var description: String {
        if origin == .inUse { return message }
        return "SQLite error \(extendedCode) (\(String(cString: sqlite3_errstr(extendedCode)))): \(message)"
    }
}
