import CSQLite

/// One `sqlite3*` handle. Not `Sendable`: it lives on one store thread and callers only see it as
/// the argument of a `Database.read`/`write` closure, which must not let it escape.
///
/// Transactions belong to the store: BEGIN/COMMIT/ROLLBACK, SAVEPOINT/RELEASE/ROLLBACK TO are
/// refused inside closures, so a closure can never commit or abandon its group's transaction, nor
/// leave a savepoint open for the next closure of its group to roll back into.
public final class Connection {
    let handle: OpaquePointer
    private let cache: StatementCache
    /// Read by the authorizer callback: non-zero while caller code (a closure or a migration) runs.
    private let callerCodeFlag: UnsafeMutablePointer<Int32>
    private var controlStatements: [ControlStatement: OpaquePointer] = [:]
    private var isOpen = true
    let isReadOnly: Bool
    /// Whether `control(.commit)` gathers the commit's WAL writes (`WALGathering`): a writable
    /// connection opened with the VFS.
    let gathersWALAtCommit: Bool
    /// Counts what may change the database: each `execute`, each statement SQLite does not call
    /// read-only (`sqlite3_stmt_readonly`) and each `setStagedMeta`. A closure that threw while
    /// this stayed the same changed nothing, so the writer has nothing of it to undo (unless SQLite
    /// rolled the whole transaction back, which `GroupCommitter` checks apart).
    private(set) var writeAttempts: UInt64 = 0
    /// See `StagedMeta`.
    var staged = StagedMeta()

    /// Statements the store itself runs; prepared once, outside the statement cache.
    enum ControlStatement: String {
        case begin = "BEGIN"
        case beginImmediate = "BEGIN IMMEDIATE"
        case commit = "COMMIT"
        case rollback = "ROLLBACK"
        case savepoint = "SAVEPOINT fioguard_write"
        case release = "RELEASE fioguard_write"
        case rollbackToSavepoint = "ROLLBACK TO fioguard_write"
    }

    /// SQLite counts every allocation under a process-wide mutex unless told not to. fioguard never
    /// asks for the counts (`sqlite3_memory_used`, heap limits), and each write closure makes
    /// dozens of allocations (a statement journal keeps 1 KiB chunks), so the counting is
    /// switched off, once, before the process's first connection opens. SQLite accepts this only
    /// before it initializes; if something else in the process initialized it first, the
    /// default stays, which is only slower.
    private static let allocationCountingOff: Bool = fg_sqlite3_config_memstatus(0) == SQLITE_OK

    /// Opens and configures a connection: extended result codes, busy timeout, `synchronous=FULL`,
    /// `foreign_keys=ON`. Journal mode is the writer's job (it persists in the file).
    init(path: String, readOnly: Bool, configuration: DatabaseConfiguration) throws(StoreError) {
        _ = Self.allocationCountingOff
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX  // each connection is used by one thread at a time
        let rc = sqlite3_open_v2(path, &db, flags, configuration.gatherWALWrites ? WALGathering.vfsName : nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError(code: rc, message: "cannot open \(path): \(message)")
        }
        handle = db
        isReadOnly = readOnly
        gathersWALAtCommit = !readOnly && configuration.gatherWALWrites && WALGathering.vfsName != nil
        cache = StatementCache(capacity: configuration.statementCacheSize)
        callerCodeFlag = .allocate(capacity: 1)
        callerCodeFlag.initialize(to: 0)
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, configuration.busyTimeoutMilliseconds)
        sqlite3_set_authorizer(db, { context, action, _, _, _, _ in
            guard let context, context.assumingMemoryBound(to: Int32.self).pointee != 0 else { return SQLITE_OK }
            // Savepoints too: the writer runs a group's closures without one of its own between
            // them (see `GroupCommitter`), so a savepoint a closure left open would span the next.
            if action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT { return SQLITE_DENY }
            return SQLITE_OK
        }, callerCodeFlag)
        do {
            // temp_store = MEMORY keeps statement journals in memory: SQLite's own, for a
            // statement that may fail halfway inside a transaction, and the writer's savepoint
            // per closure when it replays a group. On disk they cost a pwrite per page journaled.
            // secure_delete = ON zeroes what a delete or update frees inside a page, so an erased
            // value does not linger in the file's free space. Some builds (Debian's) default to
            // it; others do not, and erasure must not depend on how SQLite was compiled.
            try execute(
                "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA secure_delete = ON; PRAGMA cache_size = -\(max(256, configuration.pageCacheKiB));")
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        cache.finalizeAll()
        for statement in controlStatements.values { sqlite3_finalize(statement) }
        controlStatements.removeAll()
        sqlite3_close_v2(handle)
        callerCodeFlag.deinitialize(count: 1)
        callerCodeFlag.deallocate()
    }

    // MARK: - Public API

    /// Runs one or more statements without parameters (`sqlite3_exec`); rows are discarded.
    public func execute(_ sql: String) throws(StoreError) {
        try checkTransaction()
        noteWriteAttempt()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard rc == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw refinedError(code: rc, message: message)
        }
    }

    /// Runs one statement to completion and returns `sqlite3_changes()`.
    @discardableResult
    public func run(_ sql: String, _ params: [SQLValue] = []) throws(StoreError) -> Int {
        let lease = try acquire(sql, params)
        defer { release(lease) }
        while true {
            let rc = sqlite3_step(lease.statement)
            if rc == SQLITE_DONE { return Int(sqlite3_changes64(handle)) }
            if rc != SQLITE_ROW { throw lastError(rc) }
        }
    }

    /// Runs one statement and returns all its rows.
    public func query(_ sql: String, _ params: [SQLValue] = []) throws(StoreError) -> [Row] {
        let lease = try acquire(sql, params)
        defer { release(lease) }
        let columns = sqlite3_column_count(lease.statement)
        var rows: [Row] = []
        while true {
            let rc = sqlite3_step(lease.statement)
            if rc == SQLITE_ROW {
                rows.append(readRow(lease.statement, columns))
            } else if rc == SQLITE_DONE {
                return rows
            } else {
                throw lastError(rc)
            }
        }
    }

    /// Runs one statement and returns its first row, if any.
    public func queryOne(_ sql: String, _ params: [SQLValue] = []) throws(StoreError) -> Row? {
        let lease = try acquire(sql, params)
        defer { release(lease) }
        let rc = sqlite3_step(lease.statement)
        if rc == SQLITE_ROW { return readRow(lease.statement, sqlite3_column_count(lease.statement)) }
        if rc == SQLITE_DONE { return nil }
        throw lastError(rc)
    }

    /// Streams the rows of one statement to `body` without collecting them; a throw from `body`
    /// stops the scan and is rethrown.
    public func forEach(_ sql: String, _ params: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        let lease = try acquire(sql, params)
        defer { release(lease) }
        let columns = sqlite3_column_count(lease.statement)
        while true {
            let rc = sqlite3_step(lease.statement)
            if rc == SQLITE_ROW {
                try body(readRow(lease.statement, columns))
            } else if rc == SQLITE_DONE {
                return
            } else {
                throw lastError(rc)
            }
        }
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Prepared statements reused from this connection's cache.
    public var statementCacheHits: Int { cache.hits }
    /// Statements that had to be prepared (not cached, or in use by an outer `forEach`).
    public var statementCacheMisses: Int { cache.misses }
    /// Prepared statements currently held by the cache.
    public var cachedStatementCount: Int { cache.count }

    // MARK: - Store internals

    func noteWriteAttempt() { writeAttempts &+= 1 }

    /// Caller code on the writer runs inside the store's transaction. Should SQLite have rolled it
    /// back by itself (SQLITE_FULL, SQLITE_IOERR, … after an error the closure caught), a further
    /// statement would run, and commit, on its own: refused instead.
    private func checkTransaction() throws(StoreError) {
        if callerCodeFlag.pointee != 0 && !isReadOnly && sqlite3_get_autocommit(handle) != 0 { throw .transactionLost }
    }

    /// Whether caller code is running: transaction control is refused while it is.
    var runsCallerCode: Bool {
        get { callerCodeFlag.pointee != 0 }
        set { callerCodeFlag.pointee = newValue ? 1 : 0 }
    }

    /// True outside any transaction. SQLite may roll a transaction back by itself (SQLITE_FULL,
    /// SQLITE_IOERR, SQLITE_NOMEM, …), which this reveals.
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    func control(_ statement: ControlStatement) throws(StoreError) {
        let prepared: OpaquePointer
        if let existing = controlStatements[statement] {
            prepared = existing
        } else {
            var created: OpaquePointer?
            let rc = sqlite3_prepare_v3(
                handle, statement.rawValue, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &created, nil)
            guard rc == SQLITE_OK, let created else { throw lastError(rc) }
            controlStatements[statement] = created
            prepared = created
        }
        let gathers = statement == .commit && gathersWALAtCommit && WALGathering.begin(self)
        let rc = sqlite3_step(prepared)
        var error = rc == SQLITE_DONE ? nil : lastError(rc)
        sqlite3_reset(prepared)
        if gathers, let failed = WALGathering.end(self, committed: error == nil), error == nil { error = failed }
        if let error { throw error }
    }

    // MARK: - Statements

    private struct Lease {
        let statement: OpaquePointer
        let entry: StatementCache.Entry?
    }

    private func acquire(_ sql: String, _ params: [SQLValue]) throws(StoreError) -> Lease {
        try checkTransaction()
        let lease: Lease
        if let entry = cache.checkOut(sql) {
            lease = Lease(statement: entry.statement, entry: entry)
        } else {
            let keep = cache.wants(sql)
            let statement = try prepare(sql, persistent: keep)
            lease = Lease(statement: statement, entry: keep ? cache.insert(sql, statement) : nil)
        }
        do {
            try bind(params, to: lease.statement)
        } catch {
            release(lease)
            throw error
        }
        if sqlite3_stmt_readonly(lease.statement) == 0 { noteWriteAttempt() }
        return lease
    }

    private func release(_ lease: Lease) {
        sqlite3_reset(lease.statement)
        sqlite3_clear_bindings(lease.statement)
        if let entry = lease.entry {
            entry.inUse = false
        } else {
            sqlite3_finalize(lease.statement)
        }
    }

    private func prepare(_ sql: String, persistent: Bool) throws(StoreError) -> OpaquePointer {
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let result: Result<OpaquePointer, StoreError> = sql.withCString { text in
            let rc = sqlite3_prepare_v3(handle, text, -1, flags, &statement, &tail)
            guard rc == SQLITE_OK else {
                return .failure(refinedError(code: rc, message: String(cString: sqlite3_errmsg(handle))))
            }
            guard let statement else {
                return .failure(.misuse("no SQL statement in \"\(sql)\""))
            }
            if let tail, !Self.isBlank(tail) {
                sqlite3_finalize(statement)
                return .failure(.misuse("more than one statement in \"\(sql)\"; use execute(_:) for scripts"))
            }
            return .success(statement)
        }
        return try result.get()
    }

    private static func isBlank(_ text: UnsafePointer<CChar>) -> Bool {
        var p = text
        while p.pointee != 0 {
            switch UInt8(bitPattern: p.pointee) {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ";"):
                p += 1
            default:
                return false
            }
        }
        return true
    }

    private func bind(_ params: [SQLValue], to statement: OpaquePointer) throws(StoreError) {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == params.count else {
            throw StoreError(
                code: SQLITE_RANGE, message: "statement takes \(expected) parameters, \(params.count) given")
        }
        for (offset, value) in params.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .int(let v):
                rc = sqlite3_bind_int64(statement, index, v)
            case .double(let v):
                rc = sqlite3_bind_double(statement, index, v)
            case .text(var v):
                rc = v.withUTF8 { bytes -> Int32 in
                    guard bytes.count > 0 else { return fg_sqlite3_bind_text(statement, index, "", 0) }
                    guard bytes.count <= Int(Int32.max) else { return SQLITE_TOOBIG }
                    return bytes.withMemoryRebound(to: CChar.self) {
                        fg_sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count))
                    }
                }
            case .blob(let v):
                if v.isEmpty {
                    rc = sqlite3_bind_zeroblob(statement, index, 0)
                } else if v.count > Int(Int32.max) {
                    rc = SQLITE_TOOBIG
                } else {
                    rc = v.withUnsafeBytes { fg_sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count)) }
                }
            }
            guard rc == SQLITE_OK else { throw lastError(rc) }
        }
    }

    private func readRow(_ statement: OpaquePointer, _ columns: Int32) -> Row {
        var values: [SQLValue] = []
        values.reserveCapacity(Int(columns))
        for column in 0..<columns {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER:
                values.append(.int(sqlite3_column_int64(statement, column)))
            case SQLITE_FLOAT:
                values.append(.double(sqlite3_column_double(statement, column)))
            case SQLITE3_TEXT:
                let text = sqlite3_column_text(statement, column)
                let count = Int(sqlite3_column_bytes(statement, column))
                values.append(.text(text.map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? ""))
            case SQLITE_BLOB:
                let bytes = sqlite3_column_blob(statement, column)
                let count = Int(sqlite3_column_bytes(statement, column))
                values.append(.blob(bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []))
            default:
                values.append(.null)
            }
        }
        return Row(values)
    }

    // MARK: - Errors

    private func lastError(_ rc: Int32) -> StoreError {
        refinedError(code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    private func refinedError(code: Int32, message: String) -> StoreError {
        if code == SQLITE_AUTH && runsCallerCode {
            return StoreError(
                code: code,
                message: "transaction control is not allowed here: the store runs every closure and migration in a transaction of its own (\(message))")
        }
        return StoreError(code: code, message: message)
    }
}

@available(*, unavailable)
extension Connection: Sendable {}
