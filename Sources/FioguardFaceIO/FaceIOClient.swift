import AsyncHTTPClient
import FioguardJSON
public import Logging
import NIOCore
import NIOPosix

/// The FACEIO REST adapter (AsyncHTTPClient). Only this type speaks HTTP; it never logs, returns
/// or embeds the API key or the Facial ID in an error (messages are scrubbed of both: they are
/// logged and kept as the deletion's `lastError`).
public final class FaceIOClient: Sendable {
    public let configuration: FaceIOConfiguration
    private let http: HTTPClient
    private let logger: Logger

    public init(configuration: FaceIOConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var c = HTTPClient.Configuration()
        c.timeout = .init(
            connect: .seconds(configuration.connectTimeoutSeconds), read: .seconds(configuration.requestTimeoutSeconds))
        c.redirectConfiguration = .disallow
        http = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: c)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// `GET {base}deletefacialid?key=…&fid=…`; success only when HTTP is 2xx and body `status` is 200.
    public func deleteFacialID(_ facialID: String) async -> DeletionOutcome {
        guard let key = configuration.apiKey else { return .retryable("no FACEIO API key configured") }
        var base = configuration.baseURL
        if !base.hasSuffix("/") { base += "/" }
        let url = base + "deletefacialid?key=\(Self.percentEncode(key))&fid=\(Self.percentEncode(facialID))"
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json")
        do {
            let response = try await http.execute(request, timeout: .seconds(configuration.requestTimeoutSeconds))
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: configuration.maxResponseBytes)
            } catch {
                return .retryable("answer larger than \(configuration.maxResponseBytes) bytes or cut short")
            }
            // FACEIO's error text may quote what it was sent: scrub the key and the Facial ID from it.
            switch Self.classify(httpStatus: Int(response.status.code), body: Array(body.readableBytesView)) {
            case .deleted: return .deleted
            case .retryable(let m): return .retryable(scrub(m, key: key, facialID: facialID))
            case .permanent(let m): return .permanent(scrub(m, key: key, facialID: facialID))
            }
        } catch {
            return .retryable(scrub("transport: \(error)", key: key, facialID: facialID))
        }
    }

    /// The rules of ../shared/reference/faceio.md: 2xx + body status 200 is success; 429, 5xx and
    /// unreadable bodies are retried; auth and parameter failures are permanent.
    static func classify(httpStatus: Int, body: [UInt8]) -> DeletionOutcome {
        let json = try? JSON.parse(body)
        let bodyStatus = json?["status"]?.intValue
        // Cut far past what is kept: a key split here lies beyond the 300 characters `scrub`
        // keeps once it has removed the key and the Facial ID (cutting at 200 here leaked one).
        let message = json?["error"]?.stringValue.map { String($0.prefix(4096)) }
        switch httpStatus {
        case 200..<300:
            guard let json, json.objectValue != nil else { return .retryable("HTTP \(httpStatus) with an unreadable body") }
            if bodyStatus == 200 { return .deleted }
            guard let s = bodyStatus else { return .retryable("HTTP \(httpStatus) without a status field") }
            if s == 429 || (500...599).contains(s) {
                return .retryable("FACEIO status \(s): \(message ?? "no message")")
            }
            return .permanent("FACEIO status \(s): \(message ?? "no message")")
        case 429, 500..<600, 408:
            return .retryable("HTTP \(httpStatus)\(message.map { ": " + $0 } ?? "")")
        case 401, 403:
            return .permanent("HTTP \(httpStatus): API key refused\(message.map { " (" + $0 + ")" } ?? "")")
        default:
            return .permanent("HTTP \(httpStatus)\(message.map { ": " + $0 } ?? "")")
        }
    }

    /// RFC 3986 unreserved characters pass; everything else is %XX.
    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2d, 0x2e, 0x5f, 0x7e: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0xf)])
            }
        }
        return out
    }

    /// Removes the key and the Facial ID from a message, then cuts it to 300 characters (only
    /// then, so a cut cannot split a quoted secret). Removed: each as sent (raw, and
    /// percent-encoded in upper or lower case), and any part of one that is 8 bytes or longer, so
    /// a secret quoted in part, or cut by FACEIO, does not leak its start either. A secret
    /// shorter than 8 bytes is removed where it appears whole.
    func scrub(_ message: String, key: String, facialID: String) -> String {
        // What lies past the first 4,096 characters never reaches the 300 kept.
        var m = Array(String(message.prefix(4096)).utf8)
        for (secret, label) in [(key, "<redacted>"), (facialID, "<facial id>")] where !secret.isEmpty {
            let encoded = Self.percentEncode(secret)
            m = Self.redact([secret, encoded, encoded.lowercased()].map { Array($0.utf8) }, in: m, as: Array(label.utf8))
        }
        return String(String(decoding: m, as: UTF8.self).prefix(300))
    }

    /// Replaces every run of `message` that is part of one of `forms` (the forms of one secret)
    /// and at least `min(8, form.count)` bytes long with one `label` per run. The runs of all
    /// forms are found first, so one form's label cannot split another form's occurrence.
    static func redact(_ forms: [[UInt8]], in message: [UInt8], as label: [UInt8]) -> [UInt8] {
        guard !message.isEmpty else { return message }
        // covered[i]: message[i] lies in a common run of at least `least` bytes with a form.
        var covered = [Bool](repeating: false, count: message.count)
        for secret in forms where !secret.isEmpty {
            let least = min(8, secret.count)
            // previous[j]: length of the common run ending at message[i - 2] and secret[j - 1].
            var previous = [Int](repeating: 0, count: secret.count + 1)
            var current = previous
            for i in 1...message.count {
                for j in 1...secret.count {
                    current[j] = message[i - 1] == secret[j - 1] ? previous[j - 1] + 1 : 0
                    if current[j] >= least {
                        for k in (i - current[j])..<i { covered[k] = true }
                    }
                }
                swap(&previous, &current)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(message.count)
        var i = 0
        while i < message.count {
            if covered[i] {
                out.append(contentsOf: label)
                while i < message.count, covered[i] { i += 1 }
            } else {
                out.append(message[i])
                i += 1
            }
        }
        return out
    }
}
