import CSQLite
@testable import FioguardStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The checkpoint thread's write-out of the database file (`DatabaseFileWriteback`): which
/// descriptor it uses, the slices it asks for, and what it does when they fail.
@Suite struct DatabaseFileWritebackTests {
    /// A connection on `directory/wb.sqlite` in WAL mode with rows checkpointed into the file, so
    /// that the file has pages to write out.
    func openFilledConnection(_ directory: String, rows: Int = 800) throws -> Connection {
        let connection = try Connection(
            path: directory + "/wb.sqlite", readOnly: false, configuration: DatabaseConfiguration(path: directory + "/wb.sqlite"))
        let sql = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE t (body TEXT NOT NULL);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
              INSERT INTO t SELECT printf('%.*c', 2000, 'x') FROM n;
            PRAGMA wal_checkpoint(PASSIVE);
            """
        guard sqlite3_exec(connection.handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw TestFailure(String(cString: sqlite3_errmsg(connection.handle)))
        }
        return connection
    }

    func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : -1
    }

    /// The descriptor is SQLite's own, open on the database file (not the WAL, not a copy), and
    /// the slices cover the whole file in order, then the sync runs.
    @Test func writesTheWholeFileOutInSlicesOfSQLitesOwnDescriptor() async throws {
        try await withTemporaryDirectory { dir in
            let connection = try openFilledConnection(dir)
            defer { connection.close() }
            var asked: [(descriptor: Int32, offset: Int64, length: Int64)] = []
            var writeback = DatabaseFileWriteback(connection: connection) { descriptor, offset, length in
                asked.append((descriptor, offset, length))
                return 0
            }
            let descriptor = try #require(writeback.descriptor, "the unix VFS's descriptor was not found")
            var open = stat()
            var named = stat()
            #expect(fstat(descriptor, &open) == 0 && stat(dir + "/wb.sqlite", &named) == 0)
            #expect(open.st_ino == named.st_ino && open.st_dev == named.st_dev)

            #expect(writeback.run() == nil)
            let size = fileSize(dir + "/wb.sqlite")
            #expect(size > 4 * DatabaseFileWriteback.sliceBytes, "the file should span several slices (\(size) bytes)")
            let slices = (size + DatabaseFileWriteback.sliceBytes - 1) / DatabaseFileWriteback.sliceBytes
            #expect(asked.count == Int(slices))
            #expect(asked.allSatisfy { $0.descriptor == descriptor && $0.length == DatabaseFileWriteback.sliceBytes })
            #expect(asked.map(\.offset) == (0..<slices).map { $0 * DatabaseFileWriteback.sliceBytes })
        }
    }

    /// With the system's own `sync_file_range` and `fdatasync`.
    @Test func writesOutForReal() async throws {
        try await withTemporaryDirectory { dir in
            let connection = try openFilledConnection(dir)
            defer { connection.close() }
            var writeback = DatabaseFileWriteback(connection: connection)
            #expect(writeback.descriptor != nil)
            #expect(writeback.run() == nil)
        }
    }

    /// A slice that fails stops the slices and is reported (the sync still runs); a system without
    /// `sync_file_range` (ENOSYS) is not a failure, and later runs do not ask again.
    @Test func aFailedSliceIsReportedAndAMissingCallIsNot() async throws {
        try await withTemporaryDirectory { dir in
            let connection = try openFilledConnection(dir)
            defer { connection.close() }
            var calls = 0
            var failing = DatabaseFileWriteback(connection: connection) { _, _, _ in
                calls += 1
                errno = EIO
                return -1
            }
            let failure = failing.run()
            #expect(failure?.contains("sync_file_range") == true, "\(failure ?? "nil")")
            #expect(calls == 1)

            calls = 0
            var missing = DatabaseFileWriteback(connection: connection) { _, _, _ in
                calls += 1
                errno = ENOSYS
                return -1
            }
            #expect(missing.run() == nil)
            #expect(missing.run() == nil)
            #expect(calls == 1, "asked again after ENOSYS")
        }
    }

    /// An in-memory database has no file: nothing to write out, no failure.
    @Test func anInMemoryDatabaseHasNothingToWriteOut() throws {
        let connection = try Connection(path: ":memory:", readOnly: false, configuration: DatabaseConfiguration(path: ":memory:"))
        defer { connection.close() }
        var calls = 0
        var writeback = DatabaseFileWriteback(connection: connection) { _, _, _ in
            calls += 1
            return 0
        }
        #expect(writeback.descriptor == nil)
        #expect(writeback.run() == nil)
        #expect(calls == 0)
    }
}
