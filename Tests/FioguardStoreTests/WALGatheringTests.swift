#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite
@testable import FioguardStore
import Testing

/// The VFS that gathers a commit's WAL writes (`WALGathering`, `CSQLite/shim.h`): a commit reaches
/// the file in a write or two; what another connection, the writer's own reads and a crash image
/// taken as COMMIT returns contain is what SQLite wrote; a gathered write that fails fails its
/// commit; nothing gathered outlives a commit.
@Suite struct WALGatheringTests {
    /// A connection as the store opens them (`synchronous=FULL`), in WAL mode, with `t(id, body)`.
    static func open(_ path: String, gather: Bool = true) throws -> Connection {
        var configuration = DatabaseConfiguration(path: path)
        configuration.gatherWALWrites = gather
        let connection = try Connection(path: path, readOnly: false, configuration: configuration)
        _ = try connection.queryOne("PRAGMA journal_mode = WAL")
        try connection.execute("PRAGMA wal_autocheckpoint = 0")
        try connection.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        return connection
    }

    static func insertRows(_ connection: Connection, _ ids: Range<Int>, size: Int = 1000) throws {
        for i in ids {
            try connection.run("INSERT INTO t (id, body) VALUES (?, ?)", [.int(Int64(i)), .text(String(repeating: "x", count: size) + "\(i)")])
        }
    }

    /// `ids` in one transaction, committed as the writer commits a group.
    static func commitRows(_ connection: Connection, _ ids: Range<Int>) throws {
        try connection.control(.beginImmediate)
        try insertRows(connection, ids)
        try connection.control(.commit)
    }

    static func count(_ connection: Connection) throws -> Int64? {
        try connection.queryOne("SELECT count(*) FROM t")?.int(0)
    }

    static func integrity(_ connection: Connection) throws -> String? {
        try connection.queryOne("PRAGMA integrity_check")?.text(0)
    }

    /// The database and its WAL as they are on disk now, copied to `directory`: what a crash at
    /// this instant would leave (the WAL index is rebuilt from the WAL on opening).
    static func crashImage(of path: String, in directory: String) throws -> String {
        mkdir(directory, 0o700)
        let copy = directory + "/copy.sqlite"
        for suffix in ["", "-wal"] {
            let source = try #require(fopen(path + suffix, "rb"))
            defer { fclose(source) }
            let target = try #require(fopen(copy + suffix, "wb"))
            defer { fclose(target) }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = fread(&buffer, 1, buffer.count, source)
                if n == 0 { break }
                #expect(fwrite(buffer, 1, n, target) == n)
            }
        }
        return copy
    }

    @Test func aCommitReachesTheFileInAWriteOrTwo() async throws {
        #expect(WALGathering.vfsName == "fioguard")
        try await withTemporaryDirectory { dir in
            let connection = try Self.open(dir + "/g.sqlite")
            defer { connection.close() }
            var vfs: UnsafeMutablePointer<sqlite3_vfs>?
            #expect(sqlite3_file_control(connection.handle, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) == SQLITE_OK)
            #expect(vfs.map { String(cString: $0.pointee.zName) } == "fioguard")

            let before = try #require(WALGathering.counts(of: connection))
            try Self.commitRows(connection, 0..<20)  // about 7 pages: 14 writes by SQLite
            let after = try #require(WALGathering.counts(of: connection))
            #expect(after.writes - before.writes >= 10)
            #expect(after.flushes - before.flushes == 1, "one write for the commit: \(before) → \(after)")

            // Larger than the gathering (124 KiB): several writes, each short enough for the unix VFS.
            try Self.commitRows(connection, 20..<420)
            let large = try #require(WALGathering.counts(of: connection))
            #expect(large.flushes - after.flushes >= 2)
            #expect(large.flushes - after.flushes < (large.writes - after.writes) / 10)
            #expect(try Self.count(connection) == 420)
            #expect(try Self.integrity(connection) == "ok")

            // A commit through `execute`, not `control(.commit)`, writes through.
            try connection.execute("BEGIN IMMEDIATE")
            try Self.insertRows(connection, 420..<430)
            try connection.execute("COMMIT")
            let through = try #require(WALGathering.counts(of: connection))
            #expect(through.flushes - large.flushes == through.writes - large.writes)

            // After a WAL restart, a commit writes the WAL's header and syncs it first: the frames
            // are gathered still (one write for the header, one for the frames).
            #expect(try connection.queryOne("PRAGMA wal_checkpoint(TRUNCATE)")?.int(0) == 0)
            try Self.commitRows(connection, 430..<450)
            let restarted = try #require(WALGathering.counts(of: connection))
            #expect(restarted.writes - through.writes >= 10)
            #expect(restarted.flushes - through.flushes == 2, "\(through) → \(restarted)")
            #expect(try Self.integrity(connection) == "ok")

            let plain = try Self.open(dir + "/p.sqlite", gather: false)
            defer { plain.close() }
            try Self.commitRows(plain, 0..<3)
            #expect(WALGathering.counts(of: plain) == nil, "gatherWALWrites = false opens with SQLite's default VFS")
        }
    }

    /// Runs `body` from the writer's WAL hook: after SQLite published a commit in the WAL index,
    /// before COMMIT returns. Release the result to remove it.
    final class PublicationHook {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func onPublication(_ writer: Connection, _ body: @escaping () -> Void) -> Unmanaged<PublicationHook> {
        let hook = Unmanaged.passRetained(PublicationHook(body))
        sqlite3_wal_hook(writer.handle, { context, _, _, _ in
            Unmanaged<PublicationHook>.fromOpaque(context!).takeUnretainedValue().body()
            return SQLITE_OK
        }, hook.toOpaque())
        return hook
    }

    static func removeHook(_ writer: Connection, _ hook: Unmanaged<PublicationHook>) {
        sqlite3_wal_hook(writer.handle, nil, nil)
        hook.release()
    }

    /// Another connection, on its own descriptor and without the VFS, reads every commit as soon
    /// as SQLite publishes it, inside COMMIT (from the WAL hook). With a sync (FULL, fioguard's
    /// setting) the frames were flushed before it; without one (NORMAL or OFF) only the flush
    /// after the commit frame puts them in the file in time. With `psow=0` in a `file:` URI
    /// (Debian's SQLite is built with SQLITE_USE_URI, so a path may be one), SQLite pads each commit to a sector and syncs in the
    /// middle of the padding; what follows that sync goes straight through.
    @Test(arguments: ["FULL", "NORMAL", "OFF"], [false, true])
    func anotherConnectionReadsEveryCommitAsSoonAsItIsPublished(synchronous: String, padToSectors: Bool) async throws {
        try await withTemporaryDirectory { dir in
            let writer = try Self.open(padToSectors ? "file:\(dir)/s.sqlite?psow=0" : dir + "/s.sqlite")
            defer { writer.close() }
            try writer.execute("PRAGMA synchronous = \(synchronous)")
            let reader = try Self.open(dir + "/s.sqlite", gather: false)
            defer { reader.close() }
            var counts: [Int64?] = []
            let hook = Self.onPublication(writer) { counts.append(try? Self.count(reader)) }
            defer { Self.removeHook(writer, hook) }

            for round in 0..<20 {
                try Self.commitRows(writer, (round * 5)..<(round * 5 + 5))
            }
            #expect(counts == Array(stride(from: Int64(5), through: 100, by: 5)))
            #expect(try Self.integrity(reader) == "ok")
        }
    }

    /// A transaction larger than the page cache spills frames into the WAL before COMMIT; pages
    /// it changes again are then rewritten in place at COMMIT, and the frames' checksums read and
    /// rewritten after the commit frame. All of it is in the file once SQLite publishes the commit
    /// (a crash image taken from the WAL hook holds it whole), with a sync (FULL) or without one
    /// (NORMAL: the rewritten headers come after the commit frame and go straight through). A
    /// spill rolled back before leaves nothing gathered behind.
    @Test(arguments: ["FULL", "NORMAL"])
    func aCommitOverSpilledFramesIsWholeOnDiskWhenItIsPublished(synchronous: String) async throws {
        try await withTemporaryDirectory { dir in
            let writer = try Self.open(dir + "/spill.sqlite")
            defer { writer.close() }
            try writer.execute("PRAGMA cache_size = 10; PRAGMA cache_spill = 10; PRAGMA synchronous = \(synchronous)")

            try Self.commitRows(writer, 1000..<1005)  // a commit first: the gathering has its buffer
            let start = try #require(WALGathering.counts(of: writer))
            try writer.control(.beginImmediate)
            try Self.insertRows(writer, 0..<600, size: 900)
            try writer.control(.rollback)
            let rolledBack = try #require(WALGathering.counts(of: writer))
            #expect(rolledBack.writes - start.writes > 100, "the transaction spilled")
            #expect(rolledBack.flushes - start.flushes == rolledBack.writes - start.writes, "outside a commit, writes go through")
            #expect(try Self.count(writer) == 5)

            try writer.control(.beginImmediate)
            try Self.insertRows(writer, 0..<300)
            try writer.run("UPDATE t SET body = 'z' || body WHERE id % 3 = 0")
            var image: String?
            let hook = Self.onPublication(writer) { image = try? Self.crashImage(of: dir + "/spill.sqlite", in: dir + "/image") }
            try writer.control(.commit)
            Self.removeHook(writer, hook)
            let reopened = try Self.open(try #require(image), gather: false)
            defer { reopened.close() }
            #expect(try Self.count(reopened) == 305)
            #expect(try reopened.queryOne("SELECT count(*) FROM t WHERE body LIKE 'z%'")?.int(0) == 101)
            #expect(try Self.integrity(reopened) == "ok")
            #expect(try Self.count(writer) == 305)
        }
    }

    /// A gathered write that fails (a full disk here) fails its COMMIT, whichever of the commit's
    /// gathered writes it is (a commit of about 100 pages makes four): SQLite rolls the
    /// transaction back, nothing of it reaches another connection or a crash image, and the next
    /// commit works.
    @Test(arguments: [false, true], [0, 2])
    func aFailedGatheredWriteFailsTheCommit(overSpilledFrames: Bool, failingWrite: Int32) async throws {
        try await withTemporaryDirectory { dir in
            let writer = try Self.open(dir + "/fail.sqlite")
            defer { writer.close() }
            try Self.commitRows(writer, 0..<10)
            if overSpilledFrames { try writer.execute("PRAGMA cache_size = 10; PRAGMA cache_spill = 10") }

            try writer.control(.beginImmediate)
            try Self.insertRows(writer, 10..<400)
            if overSpilledFrames { try writer.run("UPDATE t SET body = 'z' || body WHERE id % 3 = 0") }
            #expect(WALGathering.failGatheredWrites(of: writer, skip: failingWrite, count: 1, code: SQLITE_FULL))
            #expect(throws: StoreError.self) { try writer.control(.commit) }
            #expect(writer.isAutocommit, "SQLite rolled the transaction back")
            #expect(WALGathering.failGatheredWrites(of: writer, skip: 0, count: 0, code: SQLITE_OK))

            let reader = try Self.open(dir + "/fail.sqlite", gather: false)
            defer { reader.close() }
            #expect(try Self.count(reader) == 10)
            let image = try Self.crashImage(of: dir + "/fail.sqlite", in: dir + "/image")
            let reopened = try Self.open(image, gather: false)
            defer { reopened.close() }
            #expect(try Self.count(reopened) == 10)
            #expect(try Self.integrity(reopened) == "ok")

            try Self.commitRows(writer, 10..<20)
            #expect(try Self.count(reader) == 20)
            #expect(try Self.integrity(reader) == "ok")
        }
    }
}
