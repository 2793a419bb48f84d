import CSQLite
import Logging

/// Brings a database to the newest known schema, one migration per transaction, recording each in
/// `schema_migrations`; refuses a database that a newer build has already migrated further.
struct SchemaMigrator {
    let migrations: [Migration]
    let logger: Logger

    /// Sorts `migrations`; refuses non-positive or duplicate versions.
    init(migrations: [Migration], logger: Logger) throws(StoreError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (offset, migration) in sorted.enumerated() {
            guard migration.version > 0 else {
                throw .misuse("migration \"\(migration.name)\" has version \(migration.version); versions start at 1")
            }
            if offset > 0 && sorted[offset - 1].version == migration.version {
                throw .misuse("two migrations have version \(migration.version)")
            }
        }
        self.migrations = sorted
        self.logger = logger
    }

    var newestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies the pending migrations; returns the resulting schema version.
    func migrate(_ connection: Connection) throws(StoreError) -> Int {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )
            """)
        let current = try Self.currentVersion(connection)
        guard current <= newestVersion else {
            throw StoreError(
                code: SQLITE_ERROR,
                message: "the database schema is at version \(current), newer than the newest this build knows (\(newestVersion)); refusing to open it with an older fioguard",
                origin: .schemaTooNew)
        }
        try warnAboutRenamedMigrations(connection)
        var version = current
        for migration in migrations where migration.version > current {
            try apply(migration, on: connection)
            version = migration.version
        }
        return version
    }

    static func currentVersion(_ connection: Connection) throws(StoreError) -> Int {
        Int(try connection.queryOne("SELECT coalesce(max(version), 0) FROM schema_migrations")?.int(0) ?? 0)
    }

    private func apply(_ migration: Migration, on connection: Connection) throws(StoreError) {
        do {
            try connection.control(.beginImmediate)
            // Another process may have applied it meanwhile.
            if try connection.queryOne("SELECT 1 FROM schema_migrations WHERE version = ?", [.int(Int64(migration.version))]) != nil {
                try connection.control(.commit)
                return
            }
            connection.runsCallerCode = true
            defer { connection.runsCallerCode = false }
            try connection.execute(migration.sql)
            try connection.run(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                [.int(Int64(migration.version)), .text(migration.name)])
            connection.runsCallerCode = false
            try connection.control(.commit)
        } catch {
            if !connection.isAutocommit { try? connection.control(.rollback) }
            throw StoreError(
                code: error.extendedCode,
                message: "migration \(migration.version) (\(migration.name)) failed: \(error.message)")
        }
        logger.info(
            "applied schema migration",
            metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
    }

    private func warnAboutRenamedMigrations(_ connection: Connection) throws(StoreError) {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0.name) })
        for row in try connection.query("SELECT version, name FROM schema_migrations ORDER BY version") {
            guard let version = row.int(0).map(Int.init), let name = row.text(1) else { continue }
            if let expected = known[version], expected != name {
                logger.warning(
                    "applied migration differs from this build's",
                    metadata: ["migration.version": "\(version)", "applied": "\(name)", "known": "\(expected)"])
            }
        }
    }
}
