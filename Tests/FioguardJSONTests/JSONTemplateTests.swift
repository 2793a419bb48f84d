@testable import FioguardJSON
import Testing

/// `JSONTemplate`: the fixed parts encoded once, the holes filled per use, and the bytes the same
/// as encoding the whole value at once.
@Suite struct JSONTemplateTests {
    private let envelope = JSONTemplate(["jsonrpc": "2.0", "result": JSONTemplate.hole, "id": JSONTemplate.hole])

    @Test func aFilledTemplateEncodesAsTheWholeValueWould() {
        let rights = EncodedJSON(["revoke": "consent.revoke", "note": "a \"quoted\" é"])
        let results: [JSON] = [
            .null, "pong", 0, -1.5, [], ["a": [1, 2, ["b": .null]]],
            ["subject": "s", "rights": .encoded(rights), "more": .encoded(rights)],
        ]
        let ids: [JSON] = [.null, 7, -9_007_199_254_740_993, "req-1", "nul\u{0}inside", 1.25]
        for result in results {
            for id in ids {
                let whole: JSON = ["jsonrpc": "2.0", "result": result, "id": id]
                let filled = envelope.filled(result, id)
                #expect(filled.bytes == whole.encoded(), "\(whole)")
                #expect(filled.value == whole)
            }
        }
        #expect(envelope.holes == 2)
    }

    @Test func valuesHoldingAMarkersExactTextAreEncodedAsThemselves() {
        // The holes' own markers, as strings: the template's fixed bytes were cut once, so what
        // fills a hole is never searched for markers again.
        let first: JSON = .string(JSON.marker(0)), second: JSON = .string(JSON.marker(1))
        let filled = envelope.filled(first, second)
        #expect(filled.bytes == (["jsonrpc": "2.0", "result": first, "id": second] as JSON).encoded())
        #expect(filled.value == ["jsonrpc": "2.0", "result": first, "id": second])
        // A result with a spliced part next to a marker's text takes the slow way inside its own
        // encoding, and still comes out whole.
        let part = EncodedJSON(["k": "v"])
        let mixed: JSON = ["spliced": .encoded(part), "text": first]
        let whole = envelope.filled(mixed, 1)
        #expect(whole.value == ["jsonrpc": "2.0", "result": ["spliced": ["k": "v"], "text": first], "id": 1])
    }

    @Test func holesAreFilledInEncodingOrder() {
        let template = JSONTemplate([JSONTemplate.hole, ["x": JSONTemplate.hole, "y": 1], JSONTemplate.hole])
        #expect(template.holes == 3)
        #expect(String(decoding: template.filled("a", "b", "c").bytes, as: UTF8.self) == #"["a",{"x":"b","y":1},"c"]"#)
        let none = JSONTemplate(["fixed": true])
        #expect(none.holes == 0)
        #expect(String(decoding: none.filled().bytes, as: UTF8.self) == #"{"fixed":true}"#)
    }

    /// Many holes are filled from one jansson array cut at its top-level commas: values holding
    /// commas, quotes, backslashes, brackets and braces inside strings, nested containers, spliced
    /// parts and every scalar come out as encoding the whole value would write them.
    @Test func manyHolesFilledFromOneEncodingMatchTheWholeValue() {
        let part = EncodedJSON(["spliced": [1, ",", "]"]])
        let tricky: [JSON] = [
            "a,b", "\"q\",", "back\\slash,\\", "[not, an array]", "{not: an object}", "nul\u{0},", "é, ü ,",
            [",", ["[", "]"], ["k,": "v]"]], ["a": ["b": [",": ","]]], [], [:],
            .null, true, false, 0, -42, 1.5, .encoded(part), ["inner": .encoded(part)],
        ]
        let shape: ([JSON]) -> JSON = { v in
            .object(JSONObject(v.enumerated().map { ("k\($0.offset)", $0.element) }))
        }
        let template = JSONTemplate(shape(JSONTemplate.holes(count: tricky.count)))
        #expect(template.holes == tricky.count)
        #expect(template.filled(tricky).bytes == shape(tricky).encoded())
        // Every rotation, so each value sits next to each kind of neighbour.
        for r in 1..<tricky.count {
            let values = Array(tricky[r...] + tricky[..<r])
            #expect(template.filled(values).bytes == shape(values).encoded(), "rotation \(r)")
        }
    }

    @Test func anArrayIsCutOnlyAtItsTopLevelCommas() {
        func cut(_ text: String, _ count: Int) -> [String]? {
            JSON.elements(ofArray: Array(text.utf8), count: count)?.map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(cut(#"["a,b",[1,2],{"c":",]"},null]"#, 4) == [#""a,b""#, "[1,2]", #"{"c":",]"}"#, "null"])
        #expect(cut(#"["\",",1]"#, 2) == [#""\",""#, "1"])
        #expect(cut("[1]", 1) == ["1"])
        #expect(cut("[1,2]", 3) == nil, "another count")
        #expect(cut("[]", 1) == nil)
        #expect(cut(#"["open]"#, 1) == nil, "an unterminated string")
        #expect(cut("[1,2", 2) == nil)
        #expect(cut("[[1],2]]", 2) == nil, "unbalanced")
    }
}
