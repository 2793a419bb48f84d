import CSQLite

/// The VFS "fioguard" (`CSQLite/shim.h`, from `fg_sqlite3_register_wal_gathering` on): SQLite's
/// unix VFS, except that during a COMMIT through `Connection.control(.commit)` (the writer's
/// groups, migrations) the WAL file's writes are gathered while they follow one another and reach
/// the file in one `pwrite` (more past 124 KiB), at the latest right after the commit frame.
/// SQLite writes each frame as two calls (its header, then its page), so a group of records that
/// changes 35 pages made 70 system calls.
///
/// Durability does not change: every frame of a commit is in the file before SQLite syncs the WAL
/// (`synchronous=FULL`, every fioguard connection) and before it publishes the commit in the WAL
/// index, as without the gathering; what the commit writes after its commit frame goes straight
/// through. A gathering that fails to reach the file fails every later write, read and sync of
/// the WAL until the commit ends, so SQLite fails the commit and rolls it back; what a failed
/// commit left gathered is dropped. Outside a commit (page-cache spills, rollbacks, checkpoints)
/// writes go straight through, so nothing gathered outlives its commit. Database files, locks and
/// the WAL index are the unix VFS's own.
enum WALGathering {
    /// "fioguard", registered on first use; nil if SQLite has no unix VFS or another VFS took the
    /// name, and connections then open with SQLite's default.
    static let vfsName: String? = fg_sqlite3_register_wal_gathering() == SQLITE_OK ? "fioguard" : nil

    /// Arms the gathering for the connection's next COMMIT; false if its WAL is not the VFS's.
    static func begin(_ connection: Connection) -> Bool {
        fg_wal_gather_begin(connection.handle) != 0
    }

    /// Ends it once COMMIT returned. A successful commit's commit frame flushed everything, so
    /// this returns nil; an error here (a guard that cannot fire) would mean a commit SQLite
    /// published without all its frames, and `control(.commit)` throws it.
    static func end(_ connection: Connection, committed: Bool) -> StoreError? {
        let rc = fg_wal_gather_end(connection.handle, committed ? 1 : 0)
        guard rc != SQLITE_OK else { return nil }
        return StoreError(code: rc, message: "the commit's WAL frames could not be written")
    }

    /// For tests: the writes SQLite made to the connection's WAL file since it was opened, and
    /// those the unix VFS got for them; nil if the WAL is not open or not the VFS's.
    static func counts(of connection: Connection) -> (writes: Int64, flushes: Int64)? {
        var writes: Int64 = 0
        var flushes: Int64 = 0
        return fg_wal_file_counts(connection.handle, &writes, &flushes) != 0 ? (writes, flushes) : nil
    }
}

extension WALGathering {
    /// For tests: after the next `skip` gathered writes to the connection's WAL, `count` fail
    /// with `code` instead of reaching the file; false if the WAL is not open or not the VFS's.
    static func failGatheredWrites(of connection: Connection, skip: Int32 = 0, count: Int32, code: Int32) -> Bool {
        fg_wal_fail_gathered_writes(connection.handle, skip, count, code) != 0
    }
}
