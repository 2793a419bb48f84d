#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the small files the daemon is pointed at (the policy, a facts file, a secret) whole.
///
/// Opened non-blocking, and only a regular file is read: opening a FIFO for reading would wait for
/// a writer, hanging the start or a reload (and with it the daemon's shutdown); a device or a
/// directory is a mistake in the path, said as such.
public enum RegularFile {
    public struct ReadError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The file's bytes; throws when it cannot be opened, is not a regular file, or holds more
    /// than `limit` bytes (`limitName` says the limit in the message, e.g. "4 MiB").
    public static func read(_ path: String, limit: Int, limitName: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(description: "\(path): cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ReadError(description: "\(path): not a regular file")
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: "\(path): cannot read (\(String(cString: strerror(errno))))")
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw ReadError(description: "\(path): larger than \(limitName)") }
        }
    }
}

/// `read(2)`, out of reach by its own name inside `RegularFile`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
