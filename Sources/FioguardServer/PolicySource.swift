public import FioguardPolicy
import FioguardJSON
import FioguardRPC

#if canImport(Glibc)
import Glibc
#endif

/// Where the policy comes from: a file (re-read on every reload) or the built-in default.
public struct PolicySource: Sendable {
    public let path: String?

    public init(path: String?) { self.path = path }

    public var description: String { path ?? "built-in default" }

    /// Reads and validates. Errors name the file and the field.
    public func load() throws(PolicyLoadError) -> Policy {
        guard let path else { return Policy.builtInDefault }
        let bytes = try Self.readFile(path)
        do {
            return try Policy.load(bytes: bytes)
        } catch {
            throw PolicyLoadError(message: "\(path): \(error.description)", field: error.path)
        }
    }

    /// Reads a policy or facts file (at most 4 MiB).
    public static func read(_ path: String) throws(PolicyLoadError) -> [UInt8] { try readFile(path) }

    static func readFile(_ path: String) throws(PolicyLoadError) -> [UInt8] {
        // Non-blocking: opening a FIFO for reading would wait for a writer, hanging a reload
        // (and with it the daemon's shutdown). Only a regular file is read.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw PolicyLoadError(message: "\(path): cannot open (\(String(cString: strerror(errno))))", field: nil)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw PolicyLoadError(message: "\(path): not a regular file", field: nil)
        }
        guard let f = fdopen(fd, "rb") else {
            close(fd)
            throw PolicyLoadError(message: "\(path): cannot open (\(String(cString: strerror(errno))))", field: nil)
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
            if out.count > 4 << 20 { throw PolicyLoadError(message: "\(path): larger than 4 MiB", field: nil) }
        }
        return out
    }
}

/// A policy file could not be used; the old policy stays in force.
public struct PolicyLoadError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let field: String?
    public var description: String { message }

    var rpcError: RPCError {
        var extra: [(String, FioguardJSON.JSON)] = []
        if let field { extra.append(("field", .string(field))) }
        return .domain(.policyInvalid, "policy not reloaded, the previous one stays in force: \(message)", extra)
    }
}
