import FioguardJSON
import Foundation

/// A blocking one-call-at-a-time client for the sweep workload (a single long call, timed whole).
final class RawClient {
    private let fd: Int32

    init(path: String) async throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw BenchError("cannot connect to \(path)") }
    }

    func call(_ method: String, _ params: String) throws -> JSON {
        var line = Array(#"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":\#(params)}"#.utf8)
        line.append(10)
        var sent = 0
        while sent < line.count {
            let n = line[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw BenchError("send failed") }
            sent += n
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { throw BenchError("connection closed") }
            if let i = chunk[0..<n].firstIndex(of: 10) {
                answer.append(contentsOf: chunk[0..<i])
                break
            }
            answer.append(contentsOf: chunk[0..<n])
        }
        return try JSON.parse(answer, maxDepth: 512)
    }

    func close() { Foundation.close(fd) }
}
