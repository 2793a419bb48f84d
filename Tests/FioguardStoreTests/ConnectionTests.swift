import CSQLite
import FioguardStore
import Testing

@Suite("Connection")
struct ConnectionTests {
    /// Counting SQLite's allocations takes a process-wide mutex per malloc and free; nothing
    /// reads the counts, so opening a connection switches the counting off.
    @Test func sqliteDoesNotCountAllocations() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { try $0.run("INSERT INTO note (body) VALUES ('counted?')") }
            var current: Int64 = -1
            var highest: Int64 = -1
            #expect(sqlite3_status64(SQLITE_STATUS_MALLOC_COUNT, &current, &highest, 0) == SQLITE_OK)
            #expect(current == 0)
            await db.close()
        }
    }

    @Test func preparedStatementsAreReused() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let (hits, misses) = try await db.write { connection in
                let hits = connection.statementCacheHits
                let misses = connection.statementCacheMisses
                for index in 0..<100 {
                    try connection.run("INSERT INTO note (body) VALUES (?)", [.text("\(index)")])
                }
                return (connection.statementCacheHits - hits, connection.statementCacheMisses - misses)
            }
            #expect(hits == 99)
            #expect(misses == 1)
            // Reused across closures too.
            let later = try await db.write { connection in
                let hits = connection.statementCacheHits
                try connection.run("INSERT INTO note (body) VALUES (?)", [.text("again")])
                return connection.statementCacheHits - hits
            }
            #expect(later == 1)
            await db.close()
        }
    }

    /// The cache hashes only the ends of a long text: texts alike there but not in the middle
    /// must still get statements of their own.
    @Test func textsAlikeAtBothEndsAreDifferentStatements() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let pad = String(repeating: " ", count: 40)
            let one = "SELECT" + pad + "1" + pad + "AS value", two = "SELECT" + pad + "2" + pad + "AS value"
            let (values, hits) = try await db.read { connection in
                var values: [Int64?] = []
                for _ in 0..<3 {
                    values.append(try connection.queryOne(one)?.int(0))
                    values.append(try connection.queryOne(two)?.int(0))
                }
                return (values, connection.statementCacheHits)
            }
            #expect(values == [1, 2, 1, 2, 1, 2])
            #expect(hits >= 4)
            // Two spellings of "é" (one code point, or "e" and a combining accent) are equal
            // Strings but different SQL bytes: each is its own statement, found again by its bytes.
            let (composed, decomposed) = ("SELECT 'caf\u{E9}' AS value", "SELECT 'cafe\u{301}' AS value")
            let spelled = try await db.read { connection in
                let misses = connection.statementCacheMisses
                let bytes = try [composed, decomposed, composed, decomposed].map { sql in
                    try connection.queryOne(sql)?.text(0).map { Array($0.utf8) }
                }
                return (bytes, connection.statementCacheMisses - misses)
            }
            let (nfc, nfd) = (Array("caf\u{E9}".utf8), Array("cafe\u{301}".utf8))
            #expect(spelled.0 == [nfc, nfd, nfc, nfd])
            #expect(spelled.1 == 2, "one miss per spelling, then hits")
            await db.close()
        }
    }

    @Test func cacheEvictsTheLeastRecentlyUsed() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir) { $0.statementCacheSize = 2 }
            let result = try await db.read { connection in
                _ = try connection.query("SELECT 1")
                _ = try connection.query("SELECT 2")
                _ = try connection.query("SELECT 1")  // hit; now "SELECT 2" is the oldest
                _ = try connection.query("SELECT 3")  // evicts "SELECT 2"
                let hits = connection.statementCacheHits
                _ = try connection.query("SELECT 1")
                let afterOne = connection.statementCacheHits - hits
                _ = try connection.query("SELECT 2")
                return (connection.cachedStatementCount, afterOne, connection.statementCacheHits - hits)
            }
            #expect(result.0 == 2)
            #expect(result.1 == 1)  // SELECT 1 stayed
            #expect(result.2 == 1)  // SELECT 2 was gone
            await db.close()
        }
    }

    @Test func valuesRoundTrip() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let values: [SQLValue] = [
                .null, .int(Int64.min), .int(Int64.max), .double(-2.5), .text(""), .text("zoë 🙂"),
                .blob([]), .blob([0, 1, 255]),
            ]
            let row = try await db.read { connection in
                try connection.queryOne("SELECT ?, ?, ?, ?, ?, ?, ?, ?", values)
            }
            #expect(row?.values == values)
            #expect(row?.count == 8)
            #expect(row?.int(1) == Int64.min)
            #expect(row?.double(3) == -2.5)
            #expect(row?.double(2) == Double(Int64.max))
            #expect(row?.text(5) == "zoë 🙂")
            #expect(row?.blob(7) == [0, 1, 255])
            #expect(row?.isNull(0) == true)
            #expect(row?.int(5) == nil)
            await db.close()
        }
    }

    @Test func forEachStreamsAndAllowsNestedUseOfTheSameStatement() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.write { connection in
                for index in 1...50 { try connection.run("INSERT INTO note (body) VALUES (?)", [.text("\(index)")]) }
            }
            let (seen, nested) = try await db.read { connection in
                var seen = 0
                var nested = 0
                let sql = "SELECT id FROM note WHERE id > ? ORDER BY id"
                try connection.forEach(sql, [.int(0)]) { row in
                    seen += 1
                    if row.int(0) == 25 { nested = try connection.query(sql, [.int(45)]).count }
                }
                return (seen, nested)
            }
            #expect(seen == 50)
            #expect(nested == 5)
            await db.close()
        }
    }

    @Test func misuseIsReported() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            try await db.read { connection in
                #expect(throws: StoreError.self) { try connection.query("SELECT 1; SELECT 2") }
                #expect(throws: StoreError.self) { try connection.query("SELECT ?", []) }
                #expect(throws: StoreError.self) { try connection.query("SELECT ?", [1, 2]) }
                #expect(throws: StoreError.self) { try connection.query("SELEKT 1") }
                #expect(throws: StoreError.self) { try connection.query("  ") }
                #expect(try connection.query("SELECT 1;  ").count == 1)
                do {
                    _ = try connection.query("SELECT * FROM nowhere")
                } catch let error as StoreError {
                    #expect(error.message.contains("no such table"))
                    #expect(error.code == 1)
                }
            }
            await db.close()
        }
    }

    @Test func runReportsChangesAndRowIDs() async throws {
        try await withTemporaryDirectory { dir in
            let db = try openDatabase(dir)
            let (first, second, changed) = try await db.write { connection in
                try connection.run("INSERT INTO note (body) VALUES ('a')")
                let first = connection.lastInsertRowID
                try connection.run("INSERT INTO note (body) VALUES ('b')")
                let second = connection.lastInsertRowID
                return (first, second, try connection.run("UPDATE note SET body = 'c'"))
            }
            #expect(second == first + 1)
            #expect(changed == 2)
            await db.close()
        }
    }
}
