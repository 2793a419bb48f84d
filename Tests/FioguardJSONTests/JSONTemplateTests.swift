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

    @Test func aValueThatLooksLikeAMarkerIsEncodedAsItself() {
        // The markers are a NUL, a per-process nonce and a number: a caller's id can hold a NUL and
        // digits, but not the nonce, so it stays a plain string.
        let lookalike: JSON = .string("\u{0}0:0")
        let filled = envelope.filled(lookalike, lookalike)
        #expect(filled.bytes == (["jsonrpc": "2.0", "result": lookalike, "id": lookalike] as JSON).encoded())
    }

    @Test func holesAreFilledInEncodingOrder() {
        let template = JSONTemplate([JSONTemplate.hole, ["x": JSONTemplate.hole, "y": 1], JSONTemplate.hole])
        #expect(template.holes == 3)
        #expect(String(decoding: template.filled("a", "b", "c").bytes, as: UTF8.self) == #"["a",{"x":"b","y":1},"c"]"#)
        let none = JSONTemplate(["fixed": true])
        #expect(none.holes == 0)
        #expect(String(decoding: none.filled().bytes, as: UTF8.self) == #"{"fixed":true}"#)
    }
}
