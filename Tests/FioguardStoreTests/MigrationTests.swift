import FioguardStore
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test func migratesAnEmptyDatabase() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            #expect(db.schemaVersion == 3)
            let applied = try await db.read { connection in
                try connection.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            }
            #expect(applied.map { $0.int(0) } == [1, 2, 3])
            #expect(applied.map { $0.text(1) } == ["subjects", "consents", "consent-index"])
            #expect(applied.allSatisfy { ($0.text(2) ?? "").hasSuffix("Z") })
            #expect(try await count("subject", in: db) == 1)
            await db.close()
        }
    }

    @Test(arguments: 0...3)
    func migratesFromEveryEarlierVersion(from version: Int) async throws {
        try await withTemporaryDirectory { dir in
            let old = try openDatabase(dir, migrations: Array(sampleMigrations.prefix(version)))
            #expect(old.schemaVersion == version)
            await old.close()

            let db = try openDatabase(dir)
            #expect(db.schemaVersion == 3)
            try await db.write { connection in
                try connection.run("INSERT INTO subject (name) VALUES ('ann')")
                try connection.run(
                    "INSERT INTO consent (subject_id, purpose, granted_at) VALUES (?, 'login', 7)",
                    [.int(connection.lastInsertRowID)])
            }
            #expect(try await db.read { try $0.query("SELECT version FROM schema_migrations").count } == 3)
            await db.close()

            // Reopening with the same list changes nothing.
            let again = try openDatabase(dir)
            #expect(again.schemaVersion == 3)
            #expect(try await count("subject", in: again) == 2)
            await again.close()
        }
    }

    @Test func refusesADatabaseNewerThanThisBuild() async throws {
        try await withTemporaryDirectory { dir in
            try await openDatabase(dir).close()
            do {
                _ = try openDatabase(dir, migrations: Array(sampleMigrations.prefix(2)))
                Issue.record("opened a newer database")
            } catch let error as StoreError {
                #expect(error.isSchemaTooNew)
                #expect(error.message.contains("version 3"))
            }
        }
    }

    @Test func aFailingMigrationLeavesTheEarlierVersion() async throws {
        try await withTemporaryDirectory { dir in
            let broken = Array(sampleMigrations.prefix(1)) + [
                Migration(version: 2, name: "broken", sql: "CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);")
            ]
            do {
                _ = try openDatabase(dir, migrations: broken)
                Issue.record("broken migration accepted")
            } catch let error as StoreError {
                #expect(error.message.contains("migration 2 (broken)"))
            }
            let db = try openDatabase(dir, migrations: Array(sampleMigrations.prefix(1)))
            #expect(db.schemaVersion == 1)
            let half = try await db.read { try $0.queryOne("SELECT count(*) FROM sqlite_schema WHERE name = 'half'")?.int(0) }
            #expect(half == 0)
            await db.close()
        }
    }

    @Test func invalidMigrationListsAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            #expect(throws: StoreError.self) {
                try openDatabase(dir, migrations: [
                    Migration(version: 1, name: "a", sql: "SELECT 1"), Migration(version: 1, name: "b", sql: "SELECT 1"),
                ])
            }
            #expect(throws: StoreError.self) {
                try openDatabase(dir, migrations: [Migration(version: 0, name: "zero", sql: "SELECT 1")])
            }
            do {
                _ = try openDatabase(dir, migrations: [Migration(version: 1, name: "commits", sql: "CREATE TABLE t (x); COMMIT;")])
                Issue.record("a migration committed by itself")
            } catch let error as StoreError {
                #expect(error.code == 23)  // SQLITE_AUTH
            }
        }
    }
}
