import FioguardJSON

/// The value rules of API.md's "Common values", applied while reading params.
extension ObjectReader {
    /// 1–256 characters, no control characters.
    func subject(_ key: String = "subject") throws(JSONDecodingError) -> String {
        try text(key, maxLength: 256)
    }

    func optionalSubject(_ key: String = "subject") throws(JSONDecodingError) -> String? {
        try optionalText(key, maxLength: 256)
    }

    /// 1–128 printable ASCII characters (opaque; never validated as a UUID).
    func optionalFacialID(_ key: String = "facialId") throws(JSONDecodingError) -> String? {
        guard let s = try optionalString(key, maxLength: 128) else { return nil }
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else {
            throw fail(key, "must be 1–128 printable ASCII characters")
        }
        return s
    }

    func facialID(_ key: String = "facialId") throws(JSONDecodingError) -> String {
        guard let s = try optionalFacialID(key) else { throw fail(key, "is required") }
        return s
    }

    /// ISO 3166-1 alpha-2, upper case.
    func country(_ key: String = "country") throws(JSONDecodingError) -> String {
        guard let s = try optionalCountry(key) else { throw fail(key, "is required") }
        return s
    }

    func optionalCountry(_ key: String = "country") throws(JSONDecodingError) -> String? {
        guard let s = try optionalString(key, maxLength: 2) else { return nil }
        guard s.utf8.count == 2, s.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5a }) else {
            throw fail(key, "expected an ISO 3166-1 alpha-2 code such as \"DE\"")
        }
        return s
    }

    /// ISO 3166-2 (`US-IL`), and it must belong to `country` when that is given.
    func optionalRegion(_ key: String = "region", country: String?) throws(JSONDecodingError) -> String? {
        guard let s = try optionalString(key, maxLength: 6) else { return nil }
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 2, parts[0].utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5a }),
              (1...3).contains(parts[1].utf8.count),
              parts[1].utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) })
        else { throw fail(key, "expected an ISO 3166-2 code such as \"US-IL\"") }
        if let country, String(parts[0]) != country {
            throw fail(key, "does not belong to country \(country)")
        }
        return s
    }

    /// A host name: labels of 1–63 letters, digits and hyphens (not at either end), joined by
    /// dots, with one trailing dot allowed (the policy ignores it); at most 253 characters.
    func domain(_ key: String = "domain") throws(JSONDecodingError) -> String {
        let s = try string(key, maxLength: 253)
        guard Self.isHostName(s) else { throw fail(key, "expected a host name (IDNs in their xn-- form)") }
        return s
    }

    /// One pass over the bytes (no array of labels: it runs on every enrollment and consent).
    static func isHostName(_ s: String) -> Bool {
        let dot: UInt8 = 0x2e, hyphen: UInt8 = 0x2d
        var bytes = s.utf8[...]
        if bytes.count > 1, bytes.last == dot { bytes = bytes.dropLast() }
        var length = 0
        var previous: UInt8 = dot
        for b in bytes {
            if b == dot {
                // A label ends: not empty, not ending in a hyphen.
                guard length > 0, previous != hyphen else { return false }
                length = 0
            } else {
                let letterOrDigit = (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39)
                guard letterOrDigit || (b == hyphen && length > 0) else { return false }
                length += 1
                guard length <= 63 else { return false }
            }
            previous = b
        }
        return length > 0 && previous != hyphen
    }

    /// A BCP 47 tag such as `de-DE`.
    func optionalLocale(_ key: String = "locale") throws(JSONDecodingError) -> String? {
        guard let s = try optionalString(key, maxLength: 35) else { return nil }
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        let ok = !parts.isEmpty && (2...3).contains(parts[0].utf8.count) && parts[0].utf8.allSatisfy(isLetter)
            && parts.dropFirst().allSatisfy { (1...8).contains($0.utf8.count) && $0.utf8.allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) } }
        guard ok else { throw fail(key, "expected a BCP 47 language tag such as \"de-DE\"") }
        return s
    }

    /// Must be literally `true`.
    func confirmation(_ key: String = "confirm") throws -> Void {
        guard let v = value(key) else { throw ServiceErrorBridge.confirmationRequired }
        guard case .bool(let b) = v else { throw fail(key, "expected boolean, got \(v.kindName)") }
        guard b else { throw ServiceErrorBridge.confirmationRequired }
    }
}

private func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }

import FioguardRPC

enum ServiceErrorBridge {
    static let confirmationRequired = RPCError.domain(
        .confirmationRequired, "this deletes biometric data: send confirm: true to proceed", [("field", "params.confirm")])
}
