/// Typed, field-path-aware reading of a JSON object: the way params and policy files are decoded.
///
/// Every accessor records the key it read, so `finish()` can reject members nobody asked for
/// (a typo such as `confrim` must not pass silently).
public final class ObjectReader {
    public let path: String
    public let object: JSONObject
    /// Which members an accessor asked for, by position in `object.members` (a Set of keys
    /// cost a hash and an allocation per field, on every request).
    private var read: [Bool]

    /// Fails unless `value` is an object.
    public init(_ value: JSON, path: String) throws(JSONDecodingError) {
        guard case .object(let o) = value else {
            throw JSONDecodingError(path: path, problem: "expected object, got \(value.kindName)")
        }
        self.path = path
        self.object = o
        self.read = Array(repeating: false, count: o.members.count)
    }

    public func fieldPath(_ key: String) -> String { "\(path).\(key)" }

    public func has(_ key: String) -> Bool {
        if let v = object[key], !v.isNull { return true }
        return false
    }

    /// The raw value; `nil` when absent or `null`.
    public func value(_ key: String) -> JSON? {
        guard let i = object.members.firstIndex(where: { JSONObject.sameKey($0.key, key) }) else { return nil }
        read[i] = true
        let v = object.members[i].value
        return v.isNull ? nil : v
    }

    public func fail(_ key: String, _ problem: String) -> JSONDecodingError {
        JSONDecodingError(path: fieldPath(key), problem: problem)
    }

    private func required(_ key: String) throws(JSONDecodingError) -> JSON {
        guard let v = value(key) else { throw fail(key, "is required") }
        return v
    }

    // MARK: strings

    /// Any string of at most `maxLength` characters, except one holding U+0000: that is valid
    /// JSON, but no field has a use for it, and C code downstream would read it as the end.
    public func optionalString(_ key: String, maxLength: Int = 4096) throws(JSONDecodingError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw fail(key, "expected string, got \(v.kindName)") }
        guard !s.utf8.contains(0) else { throw fail(key, "must not contain U+0000") }
        // A string has at most as many scalars as UTF-8 bytes: counting scalars only when needed.
        guard s.utf8.count <= maxLength || s.unicodeScalars.count <= maxLength else {
            throw fail(key, "longer than \(maxLength) characters")
        }
        return s
    }

    public func string(_ key: String, maxLength: Int = 4096) throws(JSONDecodingError) -> String {
        guard let s = try optionalString(key, maxLength: maxLength) else { throw fail(key, "is required") }
        return s
    }

    /// A non-empty string without control characters (subjects, notice versions, references).
    public func text(_ key: String, maxLength: Int = 256) throws(JSONDecodingError) -> String {
        guard let s = try optionalText(key, maxLength: maxLength) else { throw fail(key, "is required") }
        return s
    }

    public func optionalText(_ key: String, maxLength: Int = 256) throws(JSONDecodingError) -> String? {
        guard let s = try optionalString(key, maxLength: maxLength) else { return nil }
        guard !s.isEmpty else { throw fail(key, "must not be empty") }
        guard !Self.containsControlCharacter(s) else { throw fail(key, "must not contain control characters") }
        return s
    }

    /// Unicode general category Cc: U+0000–U+001F and U+007F–U+009F. Plain ASCII (nearly every
    /// value) is checked byte by byte, without a Unicode property lookup per character.
    static func containsControlCharacter(_ s: String) -> Bool {
        var ascii = true
        for b in s.utf8 {
            if b < 0x20 || b == 0x7F { return true }
            if b >= 0x80 { ascii = false }
        }
        if ascii { return false }
        return s.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// One of a fixed set of strings.
    public func optionalChoice(_ key: String, _ allowed: [String]) throws(JSONDecodingError) -> String? {
        guard let s = try optionalString(key, maxLength: 64) else { return nil }
        guard allowed.contains(s) else {
            throw fail(key, "expected one of \(allowed.joined(separator: ", "))")
        }
        return s
    }

    public func choice(_ key: String, _ allowed: [String]) throws(JSONDecodingError) -> String {
        guard let s = try optionalChoice(key, allowed) else { throw fail(key, "is required") }
        return s
    }

    /// An array of 1–`maxLength`-character strings without control characters.
    public func optionalStringArray(
        _ key: String, maxCount: Int = 64, maxLength: Int = 256, nonEmpty: Bool = false
    ) throws(JSONDecodingError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw fail(key, "expected array of strings, got \(v.kindName)") }
        guard items.count <= maxCount else { throw fail(key, "more than \(maxCount) items") }
        if nonEmpty && items.isEmpty { throw fail(key, "must not be empty") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else {
                throw JSONDecodingError(path: "\(fieldPath(key))[\(i)]", problem: "expected string, got \(item.kindName)")
            }
            guard !s.isEmpty, s.unicodeScalars.count <= maxLength else {
                throw JSONDecodingError(path: "\(fieldPath(key))[\(i)]", problem: "must be 1–\(maxLength) characters")
            }
            guard !Self.containsControlCharacter(s) else {
                throw JSONDecodingError(path: "\(fieldPath(key))[\(i)]", problem: "must not contain control characters")
            }
            out.append(s)
        }
        return out
    }

    public func stringArray(_ key: String, maxCount: Int = 64, maxLength: Int = 256) throws(JSONDecodingError) -> [String] {
        guard let a = try optionalStringArray(key, maxCount: maxCount, maxLength: maxLength, nonEmpty: true) else {
            throw fail(key, "is required")
        }
        return a
    }

    // MARK: numbers and booleans

    public func optionalInt(_ key: String, range: ClosedRange<Int64>) throws(JSONDecodingError) -> Int64? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue else { throw fail(key, "expected integer, got \(v.kindName)") }
        guard range.contains(i) else { throw fail(key, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return i
    }

    public func int(_ key: String, range: ClosedRange<Int64>) throws(JSONDecodingError) -> Int64 {
        guard let i = try optionalInt(key, range: range) else { throw fail(key, "is required") }
        return i
    }

    public func optionalBool(_ key: String) throws(JSONDecodingError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw fail(key, "expected boolean, got \(v.kindName)") }
        return b
    }

    public func bool(_ key: String) throws(JSONDecodingError) -> Bool {
        guard let b = try optionalBool(key) else { throw fail(key, "is required") }
        return b
    }

    // MARK: nesting

    public func optionalObject(_ key: String) throws(JSONDecodingError) -> ObjectReader? {
        guard let v = value(key) else { return nil }
        return try ObjectReader(v, path: fieldPath(key))
    }

    public func object(_ key: String) throws(JSONDecodingError) -> ObjectReader {
        try ObjectReader(required(key), path: fieldPath(key))
    }

    /// Rejects members that no accessor read.
    public func finish() throws(JSONDecodingError) {
        for (i, m) in object.members.enumerated() where !read[i] {
            throw JSONDecodingError(path: fieldPath(m.key), problem: "unknown field")
        }
    }
}
