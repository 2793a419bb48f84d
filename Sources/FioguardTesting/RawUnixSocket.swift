#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain, non-blocking Unix stream socket for tests that need what a NIO client hides: writing
/// without reading (backpressure), half-closing, dropping mid-line, counting exact bytes. Every
/// wait is bounded and sleeps between polls instead of blocking a thread.
public final class RawUnixSocket: @unchecked Sendable {
    // @unchecked: one test task uses a socket at a time.
    public private(set) var fd: Int32
    private var pending: [UInt8] = []

    public init(connectingTo path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket(): \(String(cString: strerror(errno)))") }
        var addr = Self.address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw TestSupportError("connect(\(path)): \(message)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.fd = fd
    }

    deinit { if fd >= 0 { close(fd) } }

    #if os(Linux)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    private static let noSignal: Int32 = 0
    #endif

    static func address(_ path: String) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        return addr
    }

    /// Leaves a socket file at `path` that nothing listens on (what a crashed server leaves).
    public static func makeStaleSocketFile(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw TestSupportError("bind(\(path)): \(String(cString: strerror(errno)))") }
    }

    /// Writes what the socket takes right now without waiting; returns the byte count (0 when full).
    public func writeSome(_ bytes: ArraySlice<UInt8>) throws -> Int {
        guard !bytes.isEmpty else { return 0 }
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Self.noSignal) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
            throw TestSupportError("send(): \(String(cString: strerror(errno)))")
        }
        return n
    }

    /// Writes everything, waiting (bounded) while the socket is full.
    public func writeAll(_ bytes: [UInt8], timeout: Duration = .seconds(30)) async throws {
        var offset = 0
        let deadline = ContinuousClock.now + timeout
        while offset < bytes.count {
            let n = try writeSome(bytes[offset...])
            offset += n
            if n == 0 {
                guard ContinuousClock.now < deadline else {
                    throw TestSupportError("could not write \(bytes.count - offset) of \(bytes.count) bytes within \(timeout)")
                }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    public func writeAll(_ text: String, timeout: Duration = .seconds(30)) async throws {
        try await writeAll(Array(text.utf8), timeout: timeout)
    }

    /// Bytes available now (empty when none); nil at end of stream.
    public func readAvailable() throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return [] }
            if errno == ECONNRESET { return nil }
            throw TestSupportError("recv(): \(String(cString: strerror(errno)))")
        }
        if n == 0 { return nil }
        return Array(buffer[0..<n])
    }

    /// The next line without its `\n`; nil at end of stream (a partial last line is returned as
    /// is). Throws when nothing completes within `timeout`.
    public func readLine(timeout: Duration = .seconds(30)) async throws -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let i = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<i])
                pending.removeSubrange(...i)
                return line
            }
            guard let chunk = try readAvailable() else {
                if pending.isEmpty { return nil }
                defer { pending = [] }
                return pending
            }
            if chunk.isEmpty {
                guard ContinuousClock.now < deadline else { throw TestSupportError("no line within \(timeout)") }
                try await Task.sleep(for: .milliseconds(2))
            } else {
                pending += chunk
            }
        }
    }

    /// Everything until the peer closes; throws when it does not close within `timeout`.
    public func readToEnd(timeout: Duration = .seconds(30)) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        var out = pending
        pending = []
        while true {
            guard let chunk = try readAvailable() else { return out }
            if chunk.isEmpty {
                guard ContinuousClock.now < deadline else { throw TestSupportError("peer did not close within \(timeout)") }
                try await Task.sleep(for: .milliseconds(2))
            } else {
                out += chunk
            }
        }
    }

    /// Half-close: no more bytes from us, the peer may still answer.
    public func shutdownWrite() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    public func closeNow() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
