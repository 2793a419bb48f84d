#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite
import Synchronization

/// One `Database` per file, across processes: an exclusive `flock` on `<path>.lock`, taken before
/// any connection opens and held until the store is closed (or the process ends, for a crash).
///
/// SQLite alone would let a second daemon share the file: both would run the retention sweep and
/// the deletion outbox, and each would see the other's write groups as `SQLITE_BUSY` stalls. A
/// second daemon is a mistake (a test suite or a unit pointed at the same path), so it is refused
/// at once, naming the holder's pid.
///
/// A separate file, not a lock on the database file itself: SQLite holds POSIX (`fcntl`) locks on
/// that file, and closing any other descriptor of it would drop them all. The lock file is never
/// removed (removing it would let two processes lock two different files under one name); it holds
/// the holder's pid as text, for the error message and for an operator.
final class OwnerLock: Sendable {
    let path: String
    private let descriptor: Mutex<Int32>

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    /// Takes the lock for the database at `databasePath` without waiting.
    static func acquire(for databasePath: String) throws(StoreError) -> OwnerLock {
        let path = canonical(databasePath) + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw StoreError(code: SQLITE_CANTOPEN, message: "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            let holder = failure == EWOULDBLOCK ? readHolder(fd) : nil
            close(fd)
            guard failure == EWOULDBLOCK else {
                throw StoreError(code: SQLITE_IOERR, message: "cannot lock \(path): \(String(cString: strerror(failure)))")
            }
            throw StoreError.inUse(
                "in use by another fioguard process\(holder.map { " (pid \($0))" } ?? ""), which holds \(path): "
                    + "stop it, or give this one another database")
        }
        // The pid is for people; a failure to write it leaves the lock in force all the same.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 {
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        return OwnerLock(path: path, descriptor: fd)
    }

    /// The file's real path, so that two daemons naming one database differently (through a
    /// symlink, `..` or a relative path) lock the same lock file: SQLite follows symlinks too. For
    /// a file not yet created, its directory's real path and its name.
    static func canonical(_ path: String) -> String {
        func real(_ p: String) -> String? {
            guard let resolved = realpath(p, nil) else { return nil }
            defer { free(resolved) }
            return String(cString: resolved)
        }
        if let file = real(path) { return file }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let resolved = real(directory) else { return path }
        return resolved == "/" ? "/" + name : resolved + "/" + name
    }

    /// The pid written by the holder, when it is one.
    private static func readHolder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let digits = buffer.prefix(count).prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int32(String(decoding: digits, as: UTF8.self)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// Gives the lock back; later calls do nothing.
    ///
    /// Unlocked before it is closed: a `flock` lock belongs to the open file, and a child that
    /// another thread forks shares it until its `exec` closes the copy (`O_CLOEXEC`). Closing alone
    /// would leave the file locked for that moment, and the next store on it refused as "in use".
    func release() {
        let fd = descriptor.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        if fd >= 0 {
            _ = flock(fd, LOCK_UN)
            close(fd)
        }
    }

    deinit { release() }
}
