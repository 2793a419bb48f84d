#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// A value encoded once and reused as is (see `EncodedJSON`). Accessors look through it;
    /// `==` and hashing see only its value.
    case encoded(EncodedJSON)

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.encoded(let x), _): return x.value == b
        case (_, .encoded(let y)): return a == y.value
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .encoded(let e): e.value.hash(into: &hasher)
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .int(let i): hasher.combine(2); hasher.combine(i)
        case .double(let d): hasher.combine(3); hasher.combine(d)
        case .string(let s): hasher.combine(4); hasher.combine(s)
        case .array(let a): hasher.combine(5); hasher.combine(a)
        case .object(let o): hasher.combine(6); hasher.combine(o)
        }
    }

    /// The value itself, with an `.encoded` wrapper removed.
    public var plain: JSON {
        if case .encoded(let e) = self { return e.value }
        return self
    }

    /// The name used in error messages (`expected string, got number`).
    public var kindName: String {
        switch self {
        case .encoded(let e): e.value.kindName
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    public var stringValue: String? {
        if case .string(let s) = plain { return s }
        return nil
    }

    public var intValue: Int64? {
        switch plain {
        case .int(let i): return i
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = plain { return b }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = plain { return o }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = plain { return a }
        return nil
    }

    public var isNull: Bool {
        if case .null = plain { return true }
        return false
    }

    /// Member lookup on objects; `nil` for other kinds or a missing key.
    public subscript(key: String) -> JSON? {
        objectValue?[key]
    }
}

/// A JSON value encoded (by jansson) once, for answers that repeat a large constant part (the
/// bytes are copied into each answer instead of being encoded again) or that are too large to
/// hold as one tree (`init(arrayOf:)`). Immutable.
public final class EncodedJSON: Sendable, Hashable {
    /// The compact encoding, as `JSON.encoded()` produces it.
    public let bytes: [UInt8]
    private let tree: JSON?

    public init(_ value: JSON) {
        let plain = value.plain
        self.tree = plain
        self.bytes = plain.encoded()
    }

    /// An array encoded one element at a time: neither a tree of the whole array nor its jansson
    /// counterpart is ever built, so a 100,000-entry list costs its bytes, not its objects.
    public init<S: Sequence>(arrayOf elements: S, _ element: (S.Element) -> JSON) {
        var out: [UInt8] = [UInt8(ascii: "[")]
        var first = true
        for e in elements {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: element(e).encoded())
        }
        out.append(UInt8(ascii: "]"))
        self.bytes = out
        self.tree = nil
    }

    /// A value encoded already, as `JSON.encoded()` makes it.
    init(encoded bytes: [UInt8]) {
        self.bytes = bytes
        self.tree = nil
    }

    /// An array of values encoded already (each as `JSON.encoded()` made it).
    public init(arrayOfEncoded elements: [[UInt8]]) {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(elements.reduce(2) { $0 + $1.count + 1 })
        for (i, e) in elements.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: e)
        }
        out.append(UInt8(ascii: "]"))
        self.bytes = out
        self.tree = nil
    }

    /// The encoding as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The value (parsed back from `bytes` when it was encoded piecewise; for inspection and
    /// tests: `null` if the text cannot be read back, such as nesting over 1,024 levels).
    public var value: JSON {
        if let tree { return tree }
        return (try? JSON.parse(bytes, maxDepth: 1024, allowNUL: true)) ?? .null
    }

    public static func == (a: EncodedJSON, b: EncodedJSON) -> Bool { a.value == b.value }
    public func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
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
            for m in members where Self.sameKey(m.key, key) { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { Self.sameKey($0.key, key) }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// Keys are the same when their UTF-8 bytes are, as for jansson's duplicate check: Swift's `==`
    /// on strings compares by canonical equivalence, so "idempotency\u{212A}ey" (a Kelvin sign)
    /// would have read as `idempotencyKey`, and a precomposed "é" as a decomposed one. (`memcmp`
    /// on the strings' own bytes: `utf8.elementsEqual` cost 2,600 instructions per `show`.)
    @inline(__always)
    static func sameKey(_ a: String, _ b: String) -> Bool {
        let n = a.utf8.count
        guard n == b.utf8.count else { return false }
        // Native strings (all of fioguard's) lend their bytes without a copy.
        let same = a.utf8.withContiguousStorageIfAvailable { p in
            b.utf8.withContiguousStorageIfAvailable { q in n == 0 || memcmp(p.baseAddress!, q.baseAddress!, n) == 0 }
        }
        return (same ?? nil) ?? a.utf8.elementsEqual(b.utf8)
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
