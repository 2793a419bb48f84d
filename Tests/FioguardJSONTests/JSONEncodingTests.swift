@testable import FioguardJSON
import Testing

/// `JSON.encoded()`: compact, order-preserving, and read back as the same value.
@Suite struct JSONEncodingTests {
    private func roundTrip(_ value: JSON, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = value.encoded()
        let back = try JSON.parse(text, maxDepth: 512)
        #expect(back == value, "\(value) -> \(String(decoding: text, as: UTF8.self)) -> \(back)", sourceLocation: sourceLocation)
    }

    @Test func encodesCompactlyInInsertionOrder() {
        let v: JSON = ["z": 1, "a": [true, false, .null], "m": ["k": "v"]]
        #expect(v.encodedString() == #"{"z":1,"a":[true,false,null],"m":{"k":"v"}}"#)
        #expect(JSON.array([]).encodedString() == "[]")
        #expect(JSON.object(JSONObject()).encodedString() == "{}")
    }

    @Test func encodesValuesLargerThanTheStackBuffer() throws {
        let long = String(repeating: "ab\u{e9}\"", count: 3000)
        let value: JSON = ["long": .string(long), "n": 1]
        let text = value.encodedString()
        #expect(text.hasPrefix(#"{"long":"abé\"abé"#))
        #expect(text.hasSuffix(#"\""# + #"","n":1}"#))
        #expect(try JSON.parse(value.encoded()) == value)
    }

    @Test func encodesScalarsAtTheRoot() {
        #expect(JSON.int(7).encodedString() == "7")
        #expect(JSON.string("x").encodedString() == "\"x\"")
        #expect(JSON.null.encodedString() == "null")
        #expect(JSON.bool(true).encodedString() == "true")
    }

    @Test func textCanonicalInputIsReproducedExactly() throws {
        for text in [
            #"{"jsonrpc":"2.0","result":{"pong":true},"id":1}"#,
            #"{"b":1,"a":2}"#,
            #"[1,-2,"three",null,true,false,{},[]]"#,
            #"{"id":"abc","n":-9223372036854775808,"m":9223372036854775807}"#,
        ] {
            #expect(try JSON.parse(text).encodedString() == text)
        }
    }

    @Test func stringsRoundTrip() throws {
        for s in ["", "plain", "quote\" backslash\\ slash/", "\n\r\t\u{8}\u{C}", "\u{1}\u{1F}\u{7F}", "é日本😀", "\u{2028}\u{2029}",
            String(repeating: "x", count: 100_000)]
        {
            try roundTrip(.string(s))
            try roundTrip(["k": .string(s)])
        }
    }

    @Test func controlCharactersAreEscaped() {
        let text = JSON.string("a\nb\u{1}").encodedString()
        #expect(text == #""a\nb\u0001""#)
        #expect(!text.utf8.contains(10))
    }

    @Test func encodedOutputIsOneLine() {
        let v: JSON = ["multi": "line\none\r\ntwo", "nested": ["a\nb": ["\n"]]]
        let bytes = v.encoded()
        #expect(!bytes.contains(UInt8(ascii: "\n")))
        #expect(!bytes.contains(UInt8(ascii: "\r")))
    }

    @Test func keysWithSpecialCharactersRoundTrip() throws {
        try roundTrip(["quote\"key": 1, "é": 2, "": 3, "new\nline": 4])
    }

    @Test func integersRoundTrip() throws {
        for i: Int64 in [0, 1, -1, Int64.max, Int64.min, 9_007_199_254_740_993] {
            try roundTrip(.int(i))
        }
    }

    @Test func doublesRoundTripExactly() throws {
        for d in [0.1, 1.0, -2.5, 1e-300, 1.7976931348623157e308, 123456.789, Double.ulpOfOne, Double.leastNonzeroMagnitude] {
            try roundTrip(.double(d))
        }
    }

    @Test func wholeDoublesStayDoubles() throws {
        let text = JSON.double(3.0).encodedString()
        #expect(try JSON.parse(text) == .double(3.0), "3.0 encoded as \(text)")
    }

    @Test func nonFiniteDoublesBecomeNull() {
        #expect(JSON.double(.nan).encodedString() == "null")
        #expect(JSON.double(.infinity).encodedString() == "null")
        #expect(JSON.array([.double(-.infinity)]).encodedString() == "[null]")
    }

    @Test func deepValuesRoundTripWithinTheLimit() throws {
        var v: JSON = "leaf"
        for i in 0..<64 { v = i % 2 == 0 ? .array([v]) : ["k": v] }
        let back = try JSON.parse(v.encoded())
        #expect(back == v)
    }

    @Test func objectSubscriptSetsReplacesAndRemoves() {
        var o = JSONObject([("a", 1), ("b", 2)])
        o["a"] = 10
        o["c"] = 3
        #expect(o.keys == ["a", "b", "c"])
        #expect(o["a"] == .int(10))
        o["b"] = nil
        #expect(o.keys == ["a", "c"])
        #expect(o.count == 2)
        #expect(JSON.object(o).encodedString() == #"{"a":10,"c":3}"#)
    }

    @Test func literalWithRepeatedKeyKeepsOneMember() {
        let o = JSONObject([("a", 1), ("a", 2)])
        #expect(o.count == 1)
        #expect(o["a"] == .int(2))
    }

    @Test func accessorsMatchKinds() {
        let v: JSON = ["s": "x", "i": 3, "d": 2.0, "h": 2.5, "b": true, "a": [1], "n": .null]
        #expect(v["s"]?.stringValue == "x")
        #expect(v["i"]?.intValue == 3)
        #expect(v["d"]?.intValue == 2)
        #expect(v["h"]?.intValue == nil)
        #expect(v["b"]?.boolValue == true)
        #expect(v["a"]?.arrayValue == [1])
        #expect(v["n"]?.isNull == true)
        #expect(v["s"]?.intValue == nil)
        #expect(JSON.int(1)["k"] == nil)
        #expect(v["i"]?.kindName == "number")
        #expect(v["d"]?.kindName == "number")
        #expect(v["a"]?.kindName == "array")
        #expect(v.kindName == "object")
        #expect(v["b"]?.kindName == "boolean")
        #expect(v["n"]?.kindName == "null")
        #expect(v["s"]?.kindName == "string")
    }
}

/// `.encoded` parts: reused bytes, spliced into an answer exactly as a full encoding would be.
@Suite struct EncodedPartTests {
    private let part: JSON = ["text": "tab\there \"quoted\" é ✓", "list": [1, 2.5, .null, ["deep": true]], "empty": [:]]

    @Test func aSplicedAnswerEqualsTheFullEncoding() throws {
        let plain: JSON = ["jsonrpc": "2.0", "result": ["a": [part, "x"], "b": part, "key \"q\"": 1], "id": 7]
        let spliced: JSON = [
            "jsonrpc": "2.0", "result": ["a": [.encoded(EncodedJSON(part)), "x"], "b": .encoded(EncodedJSON(part)), "key \"q\"": 1],
            "id": 7,
        ]
        #expect(spliced.encodedString() == plain.encodedString())
        #expect(try JSON.parse(spliced.encoded()) == plain)
        #expect(JSON.encoded(EncodedJSON(part)).encodedString() == part.encodedString())
    }

    @Test func manyPartsAtAnyDepthLandInTheirPlaces() throws {
        // Twelve parts: two-digit marker numbers, parts inside arrays, objects and each other.
        let parts: [JSON] = (0..<12).map { i in ["n": .int(i), "s": .string("part \(i) \u{1}é")] }
        let inner: JSON = ["p": parts[0], "nested": .array([parts[1], "between", parts[2]])]
        var plain = JSONObject([("inner", inner)])
        var spliced = JSONObject([("inner", ["p": .encoded(EncodedJSON(parts[0])), "nested": .array([.encoded(EncodedJSON(parts[1])), "between", .encoded(EncodedJSON(parts[2]))])])])
        for i in 3..<12 {
            plain["k\(i)"] = [parts[i], .string("after \(i)")]
            spliced["k\(i)"] = [.encoded(EncodedJSON(parts[i])), .string("after \(i)")]
        }
        // A part that itself holds a part.
        plain["outer"] = ["wrapped": inner]
        spliced["outer"] = .encoded(EncodedJSON(["wrapped": .encoded(EncodedJSON(inner))]))
        #expect(JSON.object(spliced).encodedString() == JSON.object(plain).encodedString())
    }

    @Test func stringsThatLookLikeMarkersAreEncodedAsThemselves() {
        // A string holding a marker's exact text, one holding it inside other text, and plain
        // NULs: the answer must still be the full encoding (the markers are told apart, or the
        // parts are joined the slow way).
        let lookalikes = [
            JSON.marker(0), JSON.marker(1), JSON.marker(2), "x" + JSON.marker(0), "\"" + JSON.marker(0), "\"" + JSON.marker(2),
            JSON.marker(0) + "9", "\u{0}", "\u{0}0:0",
        ]
        for lookalike in lookalikes {
            // Before, between and after the two parts.
            let plain: JSON = ["s0": .string(lookalike), "a": part, "s1": .string(lookalike), "b": [part], "s2": .string(lookalike)]
            let spliced: JSON = [
                "s0": .string(lookalike), "a": .encoded(EncodedJSON(part)), "s1": .string(lookalike),
                "b": [.encoded(EncodedJSON(part))], "s2": .string(lookalike),
            ]
            #expect(spliced.encodedString() == plain.encodedString(), "\(lookalike.debugDescription)")
            // Only after the last part: a lookalike of the next number must not be taken for a part.
            let after: JSON = ["a": .encoded(EncodedJSON(part)), "s": .string(lookalike)]
            let afterPlain: JSON = ["a": part, "s": .string(lookalike)]
            #expect(after.encodedString() == afterPlain.encodedString(), "\(lookalike.debugDescription)")
        }
        // A lookalike inside an encoded part is that part's text, not a marker.
        let tricky: JSON = ["m": .string(JSON.marker(0))]
        let spliced: JSON = ["t": .encoded(EncodedJSON(tricky)), "p": .encoded(EncodedJSON(part))]
        let expected: JSON = ["t": tricky, "p": part]
        #expect(spliced.encodedString() == expected.encodedString())
    }

    @Test func accessorsEqualityAndHashingLookThrough() {
        let wrapped = JSON.encoded(EncodedJSON(part))
        #expect(wrapped == part)
        #expect(part == wrapped)
        #expect(wrapped.hashValue == part.hashValue)
        #expect(wrapped.kindName == "object")
        #expect(wrapped["text"] == .string("tab\there \"quoted\" é ✓"))
        #expect(JSON.encoded(EncodedJSON("s")).stringValue == "s")
        #expect(JSON.encoded(EncodedJSON(.null)).isNull)
        #expect(JSON.encoded(EncodedJSON(["x"])) != JSON.array(["y"]))
    }
}

@Suite struct EncodedArrayTests {
    @Test func anArrayEncodedPiecewiseMatchesTheWholeEncoding() throws {
        let items = (0..<50).map { i -> JSON in ["n": .int(i), "s": .string("é\(i)\u{1}")] }
        let piecewise = EncodedJSON(arrayOf: 0..<50) { items[$0] }
        #expect(piecewise.bytes == JSON.array(items).encoded())
        #expect(piecewise.value == .array(items))
        let answer: JSON = ["expired": .encoded(piecewise), "count": 50]
        #expect(try JSON.parse(answer.encoded()) == ["expired": .array(items), "count": 50])
        #expect(EncodedJSON(arrayOf: [Int]()) { _ in .null }.bytes == Array("[]".utf8))
    }
}
