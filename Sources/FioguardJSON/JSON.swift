/// A JSON value as the rest of fioguard sees it. Parsing and encoding go through jansson
/// (see `JSON+Jansson.swift`); nothing above this module touches a `json_t`.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The name used in error messages (`expected string, got number`).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Member lookup on objects; `nil` for other kinds or a missing key.
    public subscript(key: String) -> JSON? {
        objectValue?[key]
    }
}

/// An object that keeps its members in insertion order (jansson does too), so results read the
/// way they were written. Lookups are linear: fioguard's objects are small.
public struct JSONObject: Sendable, Hashable, Sequence {
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSON
    }

    public private(set) var members: [Member]

    public init() { members = [] }

    public init(_ pairs: [(String, JSON)]) {
        members = []
        members.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSON? {
        get {
            for m in members where m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    mutating func reserveCapacity(_ n: Int) { members.reserveCapacity(n) }

    /// Appends without checking for an existing key; for the parser, which already rejected duplicates.
    mutating func appendUnchecked(_ key: String, _ value: JSON) {
        members.append(Member(key: key, value: value))
    }

    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }
}

// Deliberately not ExpressibleByNilLiteral: `cond ? json : nil` must stay an Optional, never
// silently become JSON `null` (that once made the server answer notifications with `null`).
extension JSON: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// Keys of a literal are distinct by construction (a repeated key is a programming error).
    public init(dictionaryLiteral elements: (String, JSON)...) {
        var o = JSONObject()
        o.reserveCapacity(elements.count)
        for (k, v) in elements { o.appendUnchecked(k, v) }
        self = .object(o)
    }
}

extension JSON {
    /// `.string(s)` or `.null` for an absent value.
    public static func string(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }
    public static func int(_ i: Int) -> JSON { .int(Int64(i)) }
    public static func strings(_ list: [String]) -> JSON { .array(list.map(JSON.string)) }
}
