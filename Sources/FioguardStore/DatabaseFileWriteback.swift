import CSQLite

#if canImport(Glibc)
import Glibc
#endif

/// Writes out what checkpoints copied into the database file, from the checkpoint thread: a slice
/// at a time, then one `fdatasync`.
///
/// A checkpoint copies WAL frames into the database file with plain writes, and SQLite syncs that
/// file only once a checkpoint has copied every frame. Under sustained writes that is the writer's
/// own checkpoint just before the WAL restarts (see `CheckpointTrigger`): its `fdatasync` wrote out
/// everything the checkpoint thread's passes had copied since the last restart, tens of MB, while
/// every write waited (`consent.record`'s p99.9 of about 20 ms in the bench, max 30–40 ms). The
/// checkpoint thread now writes the pages out after each batch of passes, so the writer's sync
/// finds little left. Written out by one `fdatasync`, the burst sat in the device's queue ahead of
/// the commits' WAL syncs instead (p99 up by about a millisecond). A slice at a time, each waited
/// for before the next, a commit's sync waits behind one slice at most; the `fdatasync` at the end
/// has little left to write and flushes the device's cache.
///
/// The slices need SQLite's own descriptor of the file: a second descriptor of ours would, when
/// closed, release every POSIX lock the process holds on the file. `sqlite3.h` has no call that
/// gives it, so it is read from the unix VFS's file structure (`fg_sqlite3_unix_descriptor`) and
/// used only if the connection's VFS is a unix one (or fioguard's, which opens database files
/// with the unix VFS) and the descriptor is open on the database file
/// itself (same device and inode). Otherwise, and where the system refuses `sync_file_range`, the
/// sync runs alone.
///
/// A write or sync that fails stops every checkpoint, write and read until the store is opened
/// again (`CheckpointTrigger.stopCheckpoints`): Linux reports a failed write-back once per open
/// file, so SQLite's next sync on this descriptor would report success and let the WAL restart
/// over frames whose pages never reached the disk.
struct DatabaseFileWriteback {
    /// Bytes per slice: 256 KiB is at most 64 pages of 4 KiB.
    static let sliceBytes: Int64 = 256 << 10

    /// Writes out the dirty pages of a range of a descriptor and waits for them: 0, or minus the
    /// errno.
    typealias RangeWriter = (_ descriptor: Int32, _ offset: Int64, _ length: Int64) -> Int32

    /// What a write-out came to.
    enum Outcome: Equatable {
        /// Written out and synced.
        case written
        /// Synced, without slices from now on: the system refused them for another reason than a
        /// failed write (no `sync_file_range`, a sandbox, …), said once.
        case slicesUnavailable(String)
        /// A write or the sync failed: pages the checkpoints copied may not be on disk, and the
        /// error is now used up on this descriptor (Linux reports a failed write-back once per
        /// open file), so a later sync here would report success.
        case failed(String)
    }

    private let file: UnsafeMutablePointer<sqlite3_file>?
    /// SQLite's descriptor of the database file, once checked; nil: the sync runs alone.
    let descriptor: Int32?
    private let writeRange: RangeWriter
    /// Tests: replaces the file's `xSync`.
    private let syncFile: ((UnsafeMutablePointer<sqlite3_file>) -> Int32)?
    /// Whether the slices run: a checked descriptor, and the system has not refused them.
    private(set) var slicing: Bool

    /// The main database file of `connection`, which must stay open while this is used.
    init(
        connection: Connection, writeRange: @escaping RangeWriter = { fg_write_out_range($0, $1, $2) },
        syncFile: ((UnsafeMutablePointer<sqlite3_file>) -> Int32)? = nil
    ) {
        var file: UnsafeMutablePointer<sqlite3_file>?
        let found = sqlite3_file_control(connection.handle, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK
        self.file = found && file?.pointee.pMethods != nil ? file : nil
        descriptor = self.file.flatMap { Self.checkedDescriptor(of: $0, connection: connection) }
        self.writeRange = writeRange
        self.syncFile = syncFile
        slicing = descriptor != nil
    }

    /// The descriptor in `file`, if the connection's VFS is a unix one and the descriptor is open
    /// on the connection's database file.
    private static func checkedDescriptor(of file: UnsafeMutablePointer<sqlite3_file>, connection: Connection) -> Int32? {
        var vfs: UnsafeMutablePointer<sqlite3_vfs>?
        guard sqlite3_file_control(connection.handle, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) == SQLITE_OK,
            let name = vfs?.pointee.zName, Self.opensUnixFiles(String(cString: name)),
            let path = sqlite3_db_filename(connection.handle, "main"), path.pointee != 0
        else { return nil }
        let descriptor = fg_sqlite3_unix_descriptor(file)
        var open = stat()
        var named = stat()
        guard descriptor >= 0, fstat(descriptor, &open) == 0, stat(path, &named) == 0,
            open.st_dev == named.st_dev, open.st_ino == named.st_ino
        else { return nil }
        return descriptor
    }

    /// Whether a VFS of this name opens database files as the unix VFS's own structure: the unix
    /// VFSes, and fioguard's, which changes only how WAL files are written (`WALGathering`).
    private static func opensUnixFiles(_ vfsName: String) -> Bool {
        vfsName == "unix" || vfsName.hasPrefix("unix-") || vfsName == WALGathering.vfsName
    }

    /// Errors of `sync_file_range` that cannot come from a write (no such call, a sandbox's
    /// refusal, arguments it does not take): they turn the slices off. Any other is taken as a
    /// failed write: a file system may report a failed write-back with the block layer's own
    /// errno (ETIMEDOUT, ENOLINK, EREMOTEIO, …), not only EIO or ENOSPC.
    private static func isRefusal(_ errorNumber: Int32) -> Bool {
        errorNumber == ENOSYS || errorNumber == EPERM || errorNumber == EINVAL || errorNumber == ESPIPE
    }

    /// Writes the file out a slice at a time (when the descriptor was found), then syncs it
    /// through SQLite's own file handle.
    mutating func run() -> Outcome {
        guard let file else { return .written }  // no file: an in-memory database
        var unavailable: String?
        if slicing, let descriptor {
            // No size, no slices: nothing was written out, so no error was used up either.
            var status = stat()
            if fstat(descriptor, &status) != 0 {
                slicing = false
                unavailable = "fstat: " + String(cString: strerror(errno))
            }
            var offset: Int64 = 0
            while slicing && offset < Int64(status.st_size) {
                let result = writeRange(descriptor, offset, Self.sliceBytes)
                if result != 0 {
                    let reason = "sync_file_range: " + String(cString: strerror(-result))
                    guard Self.isRefusal(-result) else { return .failed(reason) }
                    slicing = false
                    unavailable = reason
                    break
                }
                offset += Self.sliceBytes
            }
        }
        if let sync = syncFile ?? file.pointee.pMethods?.pointee.xSync.map({ sync in { sync($0, SQLITE_SYNC_NORMAL) } }) {
            let code = sync(file)
            guard code == SQLITE_OK else { return .failed("sync: " + String(cString: sqlite3_errstr(code))) }
        }
        return unavailable.map { .slicesUnavailable($0) } ?? .written
    }
}
