/// Where a user is: ISO 3166-1 alpha-2 country (`DE`) and optional ISO 3166-2 region (`US-IL`).
public struct Jurisdiction: Sendable, Hashable, CustomStringConvertible {
    public var country: String
    public var region: String?

    public init(country: String, region: String?) {
        self.country = country
        self.region = region
    }

    /// Two upper-case ASCII letters.
    public static func isCountryCode(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return u.count == 2 && u.allSatisfy { $0 >= 0x41 && $0 <= 0x5A }
    }

    /// `CC-R`, `CC-RR` or `CC-RRR`: a country code, a hyphen, 1–3 upper-case letters or digits.
    public static func isRegionCode(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 4, u.count <= 6, u[2] == UInt8(ascii: "-"),
            isCountryCode(String(decoding: u[0..<2], as: UTF8.self))
        else { return false }
        return u[3...].allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    public var description: String { region ?? country }
}
