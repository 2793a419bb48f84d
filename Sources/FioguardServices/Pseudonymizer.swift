import Crypto
public import FioguardStore

/// Keyed hashes that stand in for subjects and Facial IDs wherever the raw value must not go:
/// logs, audit entries, lookups of erased subjects. The key is random per database and lives in
/// its `meta` table, so references stay stable across restarts but mean nothing elsewhere.
public struct Pseudonymizer: Sendable {
    /// HMAC-SHA256 with the key already absorbed. Each hash starts from a copy, so the key
    /// schedule is paid once, not on every call.
    private let keyed: KeyedMAC

    public init(key: [UInt8]) {
        keyed = KeyedMAC(hmac: HMAC<SHA256>(key: SymmetricKey(data: key)))
    }

    /// `@unchecked Sendable`: swift-crypto's `HMAC` is a value type whose hash states are
    /// copy-on-write (`isKnownUniquelyReferenced`), but it does not declare `Sendable`. The stored
    /// value is never mutated; every caller updates its own copy, which copies the state first.
    private struct KeyedMAC: @unchecked Sendable {
        let hmac: HMAC<SHA256>
    }

    /// Loads the database's key, creating it on first start.
    public static func load(from database: Database) async throws -> Pseudonymizer {
        let bytes = try await database.write { conn -> [UInt8] in
            if let k = try conn.meta("pseudonym_key") { return k }
            var g = SystemRandomNumberGenerator()
            let k = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
            try conn.setMeta("pseudonym_key", k)
            return k
        }
        return Pseudonymizer(key: bytes)
    }

    /// `sub_` + 24 hex digits of HMAC-SHA256(key, "subject:" + subject).
    public func subject(_ subject: String) -> String { "sub_" + mac("subject:" + subject, hexDigits: 24) }

    /// `fid_` + 24 hex digits of HMAC-SHA256(key, "facialId:" + facialId).
    public func facialID(_ facialID: String) -> String { "fid_" + mac("facialId:" + facialID, hexDigits: 24) }

    /// Full-length keyed hash used as a lookup key in the database.
    public func lookupHash(_ kind: String, _ value: String) -> String { mac(kind + ":" + value, hexDigits: 64) }

    private func mac(_ text: String, hexDigits: Int) -> String {
        var h = keyed.hmac
        h.update(data: Array(text.utf8))
        return Hex.encode(Array(h.finalize()).prefix(hexDigits / 2))
    }
}

extension Pseudonymizer: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Never prints the key, whatever formats the value.
    public var description: String { "Pseudonymizer(key: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Lower-case hexadecimal.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(Swift.max(64, bytes.underestimatedCount * 2))
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func sha256(_ text: String) -> String {
        encode(SHA256.hash(data: Array(text.utf8)))
    }
}
