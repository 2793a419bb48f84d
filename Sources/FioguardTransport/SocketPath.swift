#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the socket path could not be made ready.
public struct SocketPathError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Socket-file hygiene: parent directory, live-server detection, stale-file replacement, mode,
/// removal on exit. All blocking, all at start-up or shutdown, never on an event loop.
public enum SocketPath {
    /// Unix socket paths are limited by `sun_path` (108 bytes on Linux, including the NUL).
    public static let maxLength = 107

    /// Creates the parent directory (0750) and clears the way for `bind`: refuses a path owned by
    /// a live server or occupied by something that is not a socket, and removes a stale socket file.
    public static func prepare(_ path: String) throws(SocketPathError) {
        guard path.utf8.count <= maxLength else {
            throw SocketPathError(message: "socket path is longer than \(maxLength) bytes")
        }
        try makeParentDirectory(of: path, mode: 0o750)
        var st = stat()
        guard lstat(path, &st) == 0 else { return }  // nothing there
        guard (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw SocketPathError(message: "\(path) exists and is not a socket; refusing to replace it")
        }
        if isLive(path) {
            throw SocketPathError(message: "another server is already listening on \(path)")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw SocketPathError(message: "cannot remove stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates, binds, chmods and listens on a Unix stream socket; returns its descriptor. Done
    /// here rather than by NIO so that the mode is set before anyone can connect, and so that
    /// the socket file is removed only by `remove(_:identity:)` (NIO would unlink whatever file
    /// sits at the path when it closes its own sockets).
    public static func bindListening(_ path: String, mode: UInt32, backlog: Int32 = 256) throws(SocketPathError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketPathError(message: "socket(): \(String(cString: strerror(errno)))") }
        let bound = withAddress(path) { bind(fd, $0, $1) }
        guard bound == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw SocketPathError(message: "cannot bind \(path): \(message)")
        }
        guard chmod(path, mode_t(mode)) == 0, listen(fd, backlog) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            unlink(path)
            throw SocketPathError(message: "cannot listen on \(path): \(message)")
        }
        return fd
    }

    /// Calls `body` with `path` as a `sockaddr_un` (callers checked its length against `maxLength`).
    private static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// True when something accepts connections on `path`.
    public static func isLive(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let rc = withAddress(path) { connect(fd, $0, $1) }
        return rc == 0
    }

    /// What identifies one socket file: device, inode and change time (an inode number alone
    /// can be reused by a new file at the same path).
    public struct FileIdentity: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
        var changeSeconds: Int64
        var changeNanoseconds: Int64
    }

    public static func identity(_ path: String) -> FileIdentity? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return FileIdentity(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), changeSeconds: Int64(st.st_ctim.tv_sec),
            changeNanoseconds: Int64(st.st_ctim.tv_nsec))
    }

    /// Removes the socket file if it is still the one we created.
    public static func remove(_ path: String, identity: FileIdentity?) {
        guard let identity, Self.identity(path) == identity else { return }
        unlink(path)
    }

    /// `mkdir -p` of the path's parent; new directories get `mode`.
    public static func makeParentDirectory(of path: String, mode: UInt32) throws(SocketPathError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast()
        var current = path.hasPrefix("/") ? "" : "."
        for c in components where !c.isEmpty {
            current += "/" + c
            if mkdir(current, mode_t(mode)) != 0 && errno != EEXIST {
                throw SocketPathError(message: "cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}
