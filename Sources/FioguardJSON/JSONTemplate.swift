/// A JSON value with holes, encoded by jansson once. Each use encodes only the values that fill
/// the holes and joins their bytes with the fixed ones.
///
/// The JSON-RPC layer wraps every result in one, instead of building and encoding
/// `{"jsonrpc":"2.0","result":…,"id":…}` as an object for each answer: `system.ping` went from
/// 66,300 to 62,600 instructions per call (callgrind). Larger answers gain less, since the id's
/// own encoding and the join cost about what the envelope did.
public struct JSONTemplate: Sendable {
    /// Marks a hole. Every `.encoded` value in a template is one; they are filled in the order
    /// they are encoded (an object's members in insertion order).
    public static let hole = JSON.encoded(EncodedJSON(.null))

    /// `count` holes, to build a template from a function that lays out values given in order:
    /// `JSONTemplate(shape(JSONTemplate.holes(count: n)))`, then `filled(values)` encodes as
    /// `shape(values)` would.
    public static func holes(count: Int) -> [JSON] { Array(repeating: hole, count: count) }

    /// One more segment than holes.
    private let fixed: [ArraySlice<UInt8>]
    public var holes: Int { fixed.count - 1 }

    public init(_ template: JSON) {
        let (marked, parts) = JSON.markedEncoding(template)
        // The markers carry a per-process random nonce: a template's own strings cannot hold one.
        guard let fixed = JSON.segments(of: marked, markers: parts.count) else {
            preconditionFailure("a template's strings hold a hole's marker")
        }
        self.fixed = fixed
    }

    /// The template with `values` in its holes, in order.
    public func filled(_ values: JSON...) -> EncodedJSON { filled(values) }

    /// The template with `values` in its holes, in order. An `.encoded` value is copied as it is.
    /// Three values or more go through `JSON.encodedEach`, one jansson encoding for them all. One
    /// or two are encoded alone: the array's own cost and the scan for commas (over every byte,
    /// spliced parts included) are then more than they save (`facialId.show`'s answer: +18,000).
    public func filled(_ values: [JSON]) -> EncodedJSON {
        precondition(values.count == holes, "a template with \(holes) holes filled with \(values.count) values")
        if values.count < 3 { return EncodedJSON(encoded: JSON.join(fixed, values.map { $0.encoded() })) }
        return filled(encoded: JSON.encodedEach(values))
    }

    /// The template with `parts` in its holes, in order: each the encoding of a value, as
    /// `JSON.encoded()` or `JSON.encodedEach` wrote it. Several templates that share values can
    /// so share one encoding of them.
    public func filled(encoded parts: [ArraySlice<UInt8>]) -> EncodedJSON {
        precondition(parts.count == holes, "a template with \(holes) holes filled with \(parts.count) values")
        return EncodedJSON(encoded: JSON.join(fixed, parts))
    }
}

extension JSON {
    /// Each value's encoding, as `encoded()` writes it. Three values or more to encode are encoded
    /// by jansson in one array, which is then cut at its top-level commas: each encoding has a
    /// fixed cost of its own (with its templates filled this way, `consent.record` went from
    /// 733,300 to 673,100 instructions). An `.encoded` value is taken as it is.
    public static func encodedEach(_ values: [JSON]) -> [ArraySlice<UInt8>] {
        var parts = [ArraySlice<UInt8>](repeating: [], count: values.count)
        var dumped: [JSON] = []
        var positions: [Int] = []
        dumped.reserveCapacity(values.count)
        positions.reserveCapacity(values.count)
        for (i, value) in values.enumerated() {
            if case .encoded(let e) = value {
                parts[i] = e.bytes[...]
            } else {
                dumped.append(value)
                positions.append(i)
            }
        }
        // Should the array not cut (it cannot happen with jansson's compact output), each value is
        // encoded alone, which is still right.
        let cut = dumped.count < 3 ? nil : elements(ofArray: JSON.array(dumped).encoded(), count: dumped.count)
        for (k, value) in dumped.enumerated() { parts[positions[k]] = cut?[k] ?? value.encoded()[...] }
        return parts
    }
}
