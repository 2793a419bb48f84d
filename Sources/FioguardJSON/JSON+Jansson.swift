import CJansson

/// Why a text was not accepted as JSON. `message` is safe to show to the caller: it never quotes
/// the input back.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not JSON at all: bad syntax, invalid UTF-8, a duplicate key; or a `\u0000` in a string
        /// where it is not allowed.
        case syntax
        /// Nested deeper than the limit.
        case tooDeep
    }

    public let kind: Kind
    public let message: String
    public var description: String { message }
}

extension JSON {
    /// Default nesting bound for anything read from the wire or a file.
    public static let defaultMaxDepth = 64

    /// Parses one JSON text (any value, not only objects or arrays).
    ///
    /// Rejects what jansson rejects (invalid UTF-8, trailing data, integers outside Int64, and
    /// `\u0000` in strings unless `allowNUL`; in keys always) plus duplicate object keys, and
    /// anything nested deeper than `maxDepth`. `\u0000` is valid JSON: a request may hold it in a
    /// string value, and `ObjectReader` refuses it in a param by name (`allowNUL`), where the
    /// parse error would have cost the caller its request's id.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth, allowNUL: Bool = false
    ) throws(JSONParseError) -> JSON {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(kind: .syntax, message: "empty input")
        }
        let flags = fg_json_load_flags | Int(JSON_DECODE_ANY) | (allowNUL ? Int(JSON_ALLOW_NUL) : 0)
        return try JanssonArena.scope { () throws(JSONParseError) -> JSON in
            try parseInScope(UnsafeRawBufferPointer(start: base, count: bytes.count), flags: flags, maxDepth: maxDepth)
        }
    }

    private static func parseInScope(_ bytes: UnsafeRawBufferPointer, flags: Int, maxDepth: Int) throws(JSONParseError) -> JSON {
        var error = json_error_t()
        guard let root = json_loadb(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count, flags, &error) else {
            if fg_json_error_is_depth(&error) != 0 {
                throw JSONParseError(kind: .tooDeep, message: "nesting deeper than \(maxDepth) levels")
            }
            var text = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            // jansson appends "near '<input>'": drop it, the caller's data is not echoed back.
            if let near = text.firstRange(of: " near ") { text = String(text[..<near.lowerBound]) }
            // "\u0000 is not allowed without JSON_ALLOW_NUL": the flag is jansson's, not the caller's.
            text = text.replacing(" without JSON_ALLOW_NUL", with: "")
            throw JSONParseError(kind: .syntax, message: "\(text) at position \(error.position)")
        }
        defer { fg_json_decref(root) }
        guard let value = convert(root, depth: 0, maxDepth: maxDepth) else {
            throw JSONParseError(kind: .tooDeep, message: "nesting deeper than \(maxDepth) levels")
        }
        return value
    }

    public static func parse(
        _ bytes: [UInt8], maxDepth: Int = defaultMaxDepth, allowNUL: Bool = false
    ) throws(JSONParseError) -> JSON {
        do {
            return try bytes.withUnsafeBytes { try parse($0, maxDepth: maxDepth, allowNUL: allowNUL) }
        } catch let e as JSONParseError {
            throw e
        } catch {
            throw JSONParseError(kind: .syntax, message: "unreadable input")
        }
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// `nil` when the tree is deeper than `maxDepth`.
    private static func convert(_ j: UnsafeMutablePointer<json_t>, depth: Int, maxDepth: Int) -> JSON? {
        switch fg_json_typeof(j) {
        case JSON_NULL: return .null
        case JSON_TRUE: return .bool(true)
        case JSON_FALSE: return .bool(false)
        case JSON_INTEGER: return .int(json_integer_value(j))
        case JSON_REAL: return .double(json_real_value(j))
        case JSON_STRING:
            let n = json_string_length(j)
            let p = json_string_value(j)!
            return .string(String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self))
        case JSON_ARRAY:
            guard depth < maxDepth else { return nil }
            let n = json_array_size(j)
            var out: [JSON] = []
            out.reserveCapacity(n)
            for i in 0..<n {
                guard let v = convert(json_array_get(j, i), depth: depth + 1, maxDepth: maxDepth) else { return nil }
                out.append(v)
            }
            return .array(out)
        case JSON_OBJECT:
            guard depth < maxDepth else { return nil }
            var obj = JSONObject()
            var it = fg_json_object_iter(j)
            while let cur = it {
                let keyLen = fg_json_object_iter_key_len(cur)
                let key = String(
                    decoding: UnsafeRawBufferPointer(start: fg_json_object_iter_key(cur), count: keyLen),
                    as: UTF8.self)
                guard let v = convert(fg_json_object_iter_value(cur), depth: depth + 1, maxDepth: maxDepth) else {
                    return nil
                }
                obj.appendUnchecked(key, v)
                it = fg_json_object_iter_next(j, cur)
            }
            return .object(obj)
        default:
            return .null
        }
    }

    /// Compact encoding (no whitespace, no trailing newline). Non-finite doubles become `null`.
    ///
    /// jansson encodes every value. An `.encoded` part is copied from its earlier encoding: the
    /// tree is dumped once with a marker string in each such place, and each marker's bytes are
    /// then replaced by the part's.
    public func encoded() -> [UInt8] {
        if case .encoded(let whole) = self { return whole.bytes }
        var parts: [EncodedJSON] = []
        let marked = Self.dump(self, encodedParts: &parts)
        // Most trees hold no `.encoded` part: their dump is the answer.
        if parts.isEmpty { return marked }
        return Self.replaceMarkers(in: marked, with: parts) ?? {
            // A string of the tree held a marker's exact text (it cannot happen by accident: the
            // markers carry a per-process random nonce and a NUL). Join around each part instead.
            var out: [UInt8] = []
            out.reserveCapacity(marked.count)
            Self.splice(self, into: &out)
            return out
        }()
    }

    /// Whether an `.encoded` part is somewhere in this tree.
    private var containsEncoded: Bool {
        switch self {
        case .encoded: return true
        case .array(let items): return items.contains { $0.containsEncoded }
        case .object(let o): return o.members.contains { $0.value.containsEncoded }
        default: return false
        }
    }

    /// The marker for `.encoded` part `index` is the string NUL, nonce, ":", index. jansson
    /// writes the NUL as a `\\u0000` escape, so each marker appears in the output as a quote,
    /// the bytes of `markerBody`, the index in decimal and a closing quote.
    private static let markerNonce: String =
        String(UInt64.random(in: .min ... .max), radix: 36) + String(UInt64.random(in: .min ... .max), radix: 36)
    private static let markerBody: [UInt8] = Array("\\u0000\(markerNonce):".utf8)

    static func marker(_ index: Int) -> String { "\u{0}\(markerNonce):\(index)" }

    /// Each marker's bytes replaced by its part's encoding, or nil unless every marker was found
    /// exactly once and nothing else looks like one.
    private static func replaceMarkers(in marked: [UInt8], with parts: [EncodedJSON]) -> [UInt8]? {
        guard let fixed = segments(of: marked, markers: parts.count) else { return nil }
        return join(fixed, parts.map(\.bytes))
    }

    /// The bytes between the markers of `markers` parts (one more segment than markers), or nil
    /// unless every marker was found exactly once, in order, and nothing else looks like one.
    static func segments(of marked: [UInt8], markers: Int) -> [ArraySlice<UInt8>]? {
        let body = markerBody
        var fixed: [ArraySlice<UInt8>] = []
        fixed.reserveCapacity(markers + 1)
        let complete = marked.withUnsafeBufferPointer { m -> Bool in
            body.withUnsafeBufferPointer { b -> Bool in
                let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9"), quote = UInt8(ascii: "\"")
                var copied = 0
                while let found = fg_find(m.baseAddress! + copied, m.count - copied, b.baseAddress!, b.count) {
                    let start = m.baseAddress!.distance(to: found) - 1
                    var end = start + 1 + b.count
                    var index = 0
                    while end < m.count, m[end] >= zero, m[end] <= nine, index < markers {
                        index = index * 10 + Int(m[end] - zero)
                        end += 1
                    }
                    // A lookalike accepted here shifts every later marker's number, so the real
                    // ones cannot all match: the count check below, or this one, then fails.
                    guard start >= copied, m[start] == quote, end < m.count, m[end] == quote, index == fixed.count,
                        index < markers
                    else { return false }
                    fixed.append(marked[copied..<start])
                    copied = end + 1
                }
                fixed.append(marked[copied...])
                return true
            }
        }
        return complete && fixed.count == markers + 1 ? fixed : nil
    }

    /// The elements of a compact JSON array as jansson writes it (`[a,b,…]`, no whitespace), cut
    /// at its top-level commas; nil unless `array` is one with exactly `count` elements. Commas
    /// inside strings (escapes skipped) and inside nested arrays and objects are not cuts.
    static func elements(ofArray array: [UInt8], count: Int) -> [ArraySlice<UInt8>]? {
        guard count > 0, array.count >= 2, array.first == UInt8(ascii: "["), array.last == UInt8(ascii: "]") else { return nil }
        var out: [ArraySlice<UInt8>] = []
        out.reserveCapacity(count)
        let ok = array.withUnsafeBufferPointer { a -> Bool in
            let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), comma = UInt8(ascii: ",")
            let open1 = UInt8(ascii: "["), open2 = UInt8(ascii: "{"), close1 = UInt8(ascii: "]"), close2 = UInt8(ascii: "}")
            var depth = 0, start = 1, i = 1
            let end = a.count - 1
            while i < end {
                let b = a[i]
                if b == quote {
                    i += 1
                    while i < end && a[i] != quote { i += a[i] == backslash ? 2 : 1 }
                    guard i < end else { return false }
                } else if b == open1 || b == open2 {
                    depth += 1
                } else if b == close1 || b == close2 {
                    depth -= 1
                    guard depth >= 0 else { return false }
                } else if b == comma && depth == 0 {
                    out.append(array[start..<i])
                    start = i + 1
                }
                i += 1
            }
            guard depth == 0, start < end else { return false }
            out.append(array[start..<end])
            return true
        }
        return ok && out.count == count ? out : nil
    }

    /// `fixed[0]`, `parts[0]`, `fixed[1]`, … `fixed[n]`: one more fixed segment than parts.
    static func join(_ fixed: [ArraySlice<UInt8>], _ parts: [[UInt8]]) -> [UInt8] {
        join(fixed, parts.map { $0[...] })
    }

    static func join(_ fixed: [ArraySlice<UInt8>], _ parts: [ArraySlice<UInt8>]) -> [UInt8] {
        let total = fixed.reduce(0) { $0 + $1.count } + parts.reduce(0) { $0 + $1.count }
        return [UInt8](unsafeUninitializedCapacity: total) { out, count in
            func copy(_ bytes: UnsafeRawBufferPointer) {
                guard bytes.count > 0 else { return }
                UnsafeMutableRawPointer(out.baseAddress! + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                count += bytes.count
            }
            for (i, segment) in fixed.enumerated() {
                segment.withUnsafeBytes(copy)
                if i < parts.count { parts[i].withUnsafeBytes(copy) }
            }
        }
    }

    /// jansson's encoding of `value` with a marker string for each `.encoded` part (see `encoded()`).
    static func markedEncoding(_ value: JSON) -> (marked: [UInt8], parts: [EncodedJSON]) {
        var parts: [EncodedJSON] = []
        let marked = dump(value, encodedParts: &parts)
        return (marked, parts)
    }

    /// Joins jansson's encodings of the pieces around each `.encoded` part (the slow way, one
    /// dump per key and value; only used if a marker could not be told apart).
    private static func splice(_ value: JSON, into out: inout [UInt8]) {
        switch value {
        case .encoded(let e):
            out.append(contentsOf: e.bytes)
        case .object(let o) where value.containsEncoded:
            out.append(UInt8(ascii: "{"))
            for (i, m) in o.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: dump(.string(m.key)))
                out.append(UInt8(ascii: ":"))
                splice(m.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let items) where value.containsEncoded:
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                splice(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            out.append(contentsOf: dump(value))
        }
    }

    /// jansson's compact encoding of a tree without `.encoded` parts.
    private static func dump(_ value: JSON) -> [UInt8] {
        var none: [EncodedJSON] = []
        return dump(value, encodedParts: &none)
    }

    /// jansson's compact encoding, with a marker string for each `.encoded` part, which is
    /// appended to `encodedParts` in the order of the output.
    private static func dump(_ value: JSON, encodedParts: inout [EncodedJSON]) -> [UInt8] {
        JanssonArena.scope { dumpInScope(value, encodedParts: &encodedParts) }
    }

    private static func dumpInScope(_ value: JSON, encodedParts: inout [EncodedJSON]) -> [UInt8] {
        let j = build(value, encodedParts: &encodedParts)
        defer { fg_json_decref(j) }
        let flags = fg_json_dump_flags | Int(JSON_ENCODE_ANY)
        // Most answers fit a small buffer on the stack: one pass, no growing string, no strlen.
        let fitted: [UInt8]? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 2048) { buffer in
            let n = json_dumpb(j, buffer.baseAddress, buffer.count, flags)
            guard n > 0, n <= buffer.count else { return nil }
            return Array(UnsafeRawBufferPointer(start: buffer.baseAddress, count: n))
        }
        if let fitted { return fitted }
        guard let text = json_dumps(j, flags) else { return Array("null".utf8) }
        defer { JanssonArena.freeReturned(text) }
        let n = strlen(text)
        return Array(UnsafeRawBufferPointer(start: text, count: n))
    }

    /// Compact encoding as a String.
    public func encodedString() -> String {
        String(decoding: encoded(), as: UTF8.self)
    }

    private static func build(_ value: JSON, encodedParts: inout [EncodedJSON]) -> UnsafeMutablePointer<json_t> {
        switch value {
        case .encoded(let e):
            let text = marker(encodedParts.count)
            encodedParts.append(e)
            let n = text.utf8.count
            return text.withCString { json_stringn_nocheck($0, n) }
        case .null: return json_null()
        case .bool(let b): return b ? json_true() : json_false()
        case .int(let i): return json_integer(i)
        case .double(let d): return d.isFinite ? json_real(d) : json_null()
        case .string(let s):
            let n = s.utf8.count
            return s.withCString { json_stringn_nocheck($0, n) }
        case .array(let items):
            let a = json_array()!
            for item in items { _ = fg_json_array_append_new(a, build(item, encodedParts: &encodedParts)) }
            return a
        case .object(let obj):
            let o = json_object()!
            for m in obj.members {
                let child = build(m.value, encodedParts: &encodedParts)
                let n = m.key.utf8.count
                _ = m.key.withCString { fg_json_object_setn_new(o, $0, n, child) }
            }
            return o
        }
    }
}

extension JSON: CustomStringConvertible {
    public var description: String { encodedString() }
}
