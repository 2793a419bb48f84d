/// One entry of the policy's `domains`: an exact host name (`shop.example`) or a `*.` wildcard
/// (`*.shop.example`) that matches subdomains only, never the apex. Stored in lower-case ASCII
/// without a trailing dot; internationalised names must be written in their `xn--` (punycode) form.
public struct DomainPattern: Sendable, Hashable, CustomStringConvertible {
    /// The normalised entry as written in the canonical policy (`*.shop.example`).
    public let text: String
    /// For a wildcard, the part after `*.`; otherwise the whole host.
    public let base: String
    public let isWildcard: Bool

    /// Validates and normalises a policy entry; the error message says what is wrong.
    public static func parse(_ raw: String) -> Result<DomainPattern, PolicyError> {
        func bad(_ m: String) -> Result<DomainPattern, PolicyError> { .failure(PolicyError(path: "", message: m)) }
        guard raw.unicodeScalars.allSatisfy(\.isASCII) else {
            return bad("not an ASCII host name: write internationalised domains in their xn-- (punycode) form")
        }
        var s = asciiLowercased(raw)
        if s.hasSuffix(".") { s.removeLast() }
        var wildcard = false
        if s.hasPrefix("*.") {
            wildcard = true
            s.removeFirst(2)
        }
        guard !s.contains("*") else { return bad("a wildcard may only be a leading \"*.\" label") }
        guard let problem = hostProblem(s) else {
            if wildcard && !s.contains(".") {
                return bad("a wildcard needs at least two labels after \"*.\" (\"*.shop.example\", not \"*.example\")")
            }
            return .success(DomainPattern(text: wildcard ? "*." + s : s, base: s, isWildcard: wildcard))
        }
        return bad(problem)
    }

    private init(text: String, base: String, isWildcard: Bool) {
        self.text = text
        self.base = base
        self.isWildcard = isWildcard
    }

    public var description: String { text }

    /// Case-insensitive, one trailing dot ignored. A non-ASCII request host never matches an
    /// ASCII pattern (it would need to be byte-identical after lower-casing; patterns are ASCII).
    public func matches(_ host: String) -> Bool {
        guard let h = DomainPattern.normalizeRequestHost(host) else { return false }
        if !isWildcard { return h == base }
        guard h.utf8.count > base.utf8.count + 1, h.hasSuffix("." + base) else { return false }
        return DomainPattern.hostProblem(h) == nil
    }

    /// Lower-cased, trailing dot dropped; `nil` for an empty or malformed host.
    static func normalizeRequestHost(_ host: String) -> String? {
        var h = host.unicodeScalars.allSatisfy(\.isASCII) ? asciiLowercased(host) : host.lowercased()
        if h.hasSuffix(".") { h.removeLast() }
        guard !h.isEmpty, !h.hasSuffix(".") else { return nil }
        return h
    }

    static func asciiLowercased(_ s: String) -> String {
        String(decoding: s.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// `nil` when `s` is a valid lower-case LDH host name (labels of 1–63 letters, digits and
    /// hyphens, not starting or ending with a hyphen; at most 253 characters).
    static func hostProblem(_ s: String) -> String? {
        guard !s.isEmpty else { return "empty host name" }
        guard s.utf8.count <= 253 else { return "host name longer than 253 characters" }
        for label in s.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { return "empty label in host name" }
            guard label.utf8.count <= 63 else { return "label longer than 63 characters" }
            guard label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D })
            else { return "host names may contain only letters, digits, hyphens and dots (no scheme, port or path)" }
            guard label.first != "-", label.last != "-" else { return "a label may not start or end with a hyphen" }
        }
        return nil
    }
}
