// fioguard-client: call one fioguard method from a shell.
//
//   fioguard-client [--socket PATH] [--timeout SECONDS] METHOD [JSON-PARAMS | -]
//
// Prints the result JSON on stdout (exit 0). On a JSON-RPC error prints the error object on
// stderr (exit 1). Usage errors exit 2; no server on the socket exits 3.

import FioguardJSON
import FioguardTransport

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: fioguard-client [--socket PATH] [--timeout SECONDS] METHOD [JSON-PARAMS | -]
      --socket PATH      the daemon's socket (default: \(DefaultPaths.socket))
      --timeout SECONDS  give up waiting for the answer after this long (default 30)
      JSON-PARAMS        a JSON object of named params; '-' reads it from standard input
    exit status: 0 result, 1 JSON-RPC error, 2 usage error, 3 cannot connect, 4 no or bad answer
    """

func writeError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ code: Int32, _ message: String) -> Never {
    writeError(message)
    exit(code)
}

var socketPath = DefaultPaths.socket
var timeoutSeconds = 30
var positional: [String] = []
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--socket":
        guard let v = args.popFirst() else { fail(2, usage) }
        socketPath = v
    case "--timeout":
        guard let v = args.popFirst(), let t = Int(v), t > 0 else { fail(2, usage) }
        timeoutSeconds = t
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        if arg.hasPrefix("--") { fail(2, "unknown option \(arg)\n" + usage) }
        positional.append(arg)
    }
}
guard (1...2).contains(positional.count) else { fail(2, usage) }
let method = positional[0]

var params: JSON?
if positional.count == 2 {
    var text = positional[1]
    if text == "-" {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(0, &buf, buf.count)
            if n <= 0 { break }
            bytes.append(contentsOf: buf[0..<n])
        }
        text = String(decoding: bytes, as: UTF8.self)
    }
    do {
        params = try JSON.parse(Array(text.utf8), allowNUL: true)
    } catch {
        fail(2, "JSON-PARAMS is not valid JSON: \(error)")
    }
    guard case .object? = params else { fail(2, "JSON-PARAMS must be a JSON object of named params") }
}

var request: JSONObject = JSONObject([("jsonrpc", "2.0"), ("method", .string(method))])
if let params { request["params"] = params }
request["id"] = 1

// Connect.
let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
guard fd >= 0 else { fail(3, "cannot create a socket") }
var addr = sockaddr_un()
addr.sun_family = sa_family_t(AF_UNIX)
let pathBytes = Array(socketPath.utf8)
guard pathBytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { fail(2, "socket path too long") }
withUnsafeMutableBytes(of: &addr.sun_path) { raw in
    for (i, b) in pathBytes.enumerated() { raw[i] = b }
}
let connected = withUnsafePointer(to: &addr) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
}
guard connected == 0 else {
    fail(3, "cannot connect to \(socketPath): \(String(cString: strerror(errno)))")
}
var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

// Send one line.
var line = JSON.object(request).encoded()
line.append(UInt8(ascii: "\n"))
var sent = 0
while sent < line.count {
    let n = line[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    guard n > 0 else { fail(3, "connection lost while sending: \(String(cString: strerror(errno)))") }
    sent += n
}

// Read one line back.
var answer: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 65536)
readLoop: while true {
    let n = recv(fd, &chunk, chunk.count, 0)
    if n < 0 && errno == EINTR { continue }
    guard n > 0 else {
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { fail(4, "no answer within \(timeoutSeconds) s") }
        break
    }
    for b in chunk[0..<n] {
        if b == UInt8(ascii: "\n") { break readLoop }
        answer.append(b)
    }
}
close(fd)
guard !answer.isEmpty, let response = try? JSON.parse(answer, allowNUL: true) else {
    fail(4, "no valid answer from the server")
}
if let error = response["error"] {
    writeError(error.encodedString())
    exit(1)
}
print((response["result"] ?? .null).encodedString())
exit(0)
