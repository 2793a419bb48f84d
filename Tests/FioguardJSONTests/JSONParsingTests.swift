import FioguardJSON
import Testing

/// `JSON.parse`: what the wire layer accepts and rejects, and how it says so.
@Suite struct JSONParsingTests {
    private func syntaxError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let v = try JSON.parse(bytes)
            Issue.record("expected a syntax error, parsed \(v)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == .syntax, "\(error)", sourceLocation: sourceLocation)
        }
    }

    private func syntaxError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        syntaxError(Array(text.utf8), sourceLocation: sourceLocation)
    }

    private func tooDeep(_ text: String, maxDepth: Int = JSON.defaultMaxDepth, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try JSON.parse(text, maxDepth: maxDepth)
            Issue.record("expected tooDeep", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == .tooDeep, "\(error)", sourceLocation: sourceLocation)
        }
    }

    private func nested(_ depth: Int, open: String = "[", close: String = "]", inner: String = "1") -> String {
        String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
    }

    @Test func parsesEveryKindOfValue() throws {
        let v = try JSON.parse(#"{"n":null,"t":true,"f":false,"i":-42,"d":1.5,"s":"x","a":[1,"2"],"o":{"k":"v"}}"#)
        #expect(v["n"] == .null)
        #expect(v["t"] == .bool(true))
        #expect(v["f"] == .bool(false))
        #expect(v["i"] == .int(-42))
        #expect(v["d"] == .double(1.5))
        #expect(v["s"] == .string("x"))
        #expect(v["a"] == .array([.int(1), .string("2")]))
        #expect(v["o"] == .object(JSONObject([("k", "v")])))
        #expect(v["missing"] == nil)
    }

    @Test func acceptsScalarRootsAndSurroundingWhitespace() throws {
        #expect(try JSON.parse("42") == .int(42))
        #expect(try JSON.parse("\"s\"") == .string("s"))
        #expect(try JSON.parse("null") == .null)
        #expect(try JSON.parse(" \t\r\n{ } \n") == .object(JSONObject()))
    }

    @Test func keepsObjectMemberOrder() throws {
        let v = try JSON.parse(#"{"z":1,"a":2,"m":3}"#)
        #expect(v.objectValue?.keys == ["z", "a", "m"])
    }

    @Test func rejectsEmptyAndMalformedInput() {
        syntaxError([])
        syntaxError("   ")
        syntaxError("{")
        syntaxError("{\"a\":}")
        syntaxError("[1,]")
        syntaxError("{'a':1}")
        syntaxError("nul")
        syntaxError("{} x")
        syntaxError("{}{}")
        syntaxError("[1] [2]")
        syntaxError("01")
        syntaxError("NaN")
        syntaxError("Infinity")
        syntaxError("\u{FEFF}{}")  // a byte order mark is not JSON
    }

    @Test func rejectsDuplicateKeys() {
        syntaxError(#"{"a":1,"a":2}"#)
        syntaxError(#"{"a":1,"b":{"c":1,"c":1}}"#)
        syntaxError(#"[{"x":true,"x":true}]"#)
        // The same key spelled with an escape is still the same key.
        syntaxError(#"{"a":1,"\u0061":2}"#)
    }

    @Test func acceptsSameKeyInSiblingObjects() throws {
        let v = try JSON.parse(#"[{"a":1},{"a":2}]"#)
        #expect(v.arrayValue?.count == 2)
    }

    @Test func rejectsNULInStringsAndKeys() {
        syntaxError(#"{"s":"a\u0000b"}"#)
        syntaxError(#"{"a\u0000":1}"#)
        syntaxError(#""\u0000""#)
        // A raw NUL byte, inside a string or between tokens.
        syntaxError(Array(#"{"s":"a"#.utf8) + [0] + Array(#"b"}"#.utf8))
        syntaxError(Array("{".utf8) + [0] + Array("}".utf8))
        syntaxError(Array("{}".utf8) + [0])
        // The message names the problem, not jansson's flag.
        do {
            _ = try JSON.parse(#"{"s":"\u0000"}"#)
            Issue.record("parsed a NUL")
        } catch {
            #expect(error.message == "\\u0000 is not allowed at position 13", "\(error.message)")
        }
    }

    /// For requests: a `\u0000` escape in a string value is kept (params refuse it by name);
    /// in a key, and as a raw byte, it is still a syntax error.
    @Test func allowNULKeepsEscapedNULInStringValuesOnly() throws {
        let v = try JSON.parse(Array(#"{"s":"a\u0000b","t":["\u0000"]}"#.utf8), allowNUL: true)
        #expect(v["s"] == .string("a\u{0}b"))
        #expect(v["t"] == ["\u{0}"])
        #expect(v["s"]?.stringValue?.utf8.count == 3)
        // Encoded back as the escape, whole.
        #expect(v.encodedString() == #"{"s":"a\u0000b","t":["\u0000"]}"#)
        for bytes in [Array(#"{"a\u0000":1}"#.utf8), Array(#"{"s":"a"#.utf8) + [0] + Array(#"b"}"#.utf8)] {
            do {
                _ = try JSON.parse(bytes, allowNUL: true)
                Issue.record("parsed \(bytes)")
            } catch {
                #expect(error.kind == .syntax)
            }
        }
    }

    @Test func rejectsRawControlCharactersInStrings() {
        syntaxError("\"a\nb\"")
        syntaxError("\"a\u{1}b\"")
    }

    @Test(arguments: [
        [0xFF] as [UInt8],  // never valid
        [0xC3],  // truncated two-byte sequence
        [0xC0, 0xAF],  // overlong "/"
        [0xE0, 0x80, 0xAF],  // overlong, three bytes
        [0xED, 0xA0, 0x80],  // UTF-16 surrogate encoded in UTF-8
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0x80],  // lone continuation byte
        [0xE2, 0x82],  // truncated three-byte sequence
    ])
    func rejectsInvalidUTF8InStrings(_ bad: [UInt8]) {
        syntaxError(Array(#"{"s":""#.utf8) + bad + Array(#""}"#.utf8))
        syntaxError(Array(#"{""#.utf8) + bad + Array(#"":1}"#.utf8))
    }

    @Test func rejectsInvalidUTF8OutsideStrings() {
        syntaxError([0xFF] + Array("{}".utf8))
        syntaxError(Array("{}".utf8) + [0xC3])
    }

    @Test func rejectsLoneSurrogateEscapes() {
        syntaxError(#""\uD800""#)
        syntaxError(#""\uDC00""#)
        syntaxError(#""\uD800\u0041""#)
    }

    @Test func decodesEscapesAndMultibyteText() throws {
        #expect(try JSON.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try JSON.parse(#""\u00e9\n\t\"\\\/""#) == .string("é\n\t\"\\/"))
        #expect(try JSON.parse("\"Grüße 日本\"") == .string("Grüße 日本"))
    }

    @Test func integersUseTheFullInt64RangeAndNothingBeyond() throws {
        #expect(try JSON.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSON.parse("-9223372036854775808") == .int(Int64.min))
        #expect(try JSON.parse("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try JSON.parse("-0") == .int(0))
        syntaxError("9223372036854775808")
        syntaxError("-9223372036854775809")
        syntaxError("123456789012345678901234567890")
    }

    @Test func realsStayReals() throws {
        #expect(try JSON.parse("1.0") == .double(1.0))
        #expect(try JSON.parse("1e2") == .double(100))
        #expect(try JSON.parse("-2.5E-3") == .double(-0.0025))
        #expect(try JSON.parse("1.0").intValue == 1)
        #expect(try JSON.parse("1.5").intValue == nil)
        syntaxError("1e400")  // overflows a double
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        _ = try JSON.parse(nested(64))
        _ = try JSON.parse(nested(64, open: "{\"k\":", close: "}"))
        _ = try JSON.parse(nested(3), maxDepth: 3)
    }

    @Test func nestingBeyondTheLimitIsTooDeep() {
        tooDeep(nested(65))
        tooDeep(nested(65, open: "{\"k\":", close: "}"))
        tooDeep(nested(33, open: "[{\"k\":", close: "}]"))
        tooDeep(nested(4), maxDepth: 3)
        tooDeep("[]", maxDepth: 0)
    }

    @Test func depthErrorSaysSoWithoutQuotingTheInput() {
        do {
            _ = try JSON.parse(nested(65, inner: "\"secret-subject\""))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .tooDeep)
            #expect(!error.message.contains("secret-subject"))
        }
    }

    @Test func hugeNestingIsAnErrorNotACrash() {
        // Beyond jansson's own parser limit, closed and unclosed.
        tooDeep(nested(3000))
        tooDeep(nested(100_000))
        tooDeep(String(repeating: "[", count: 100_000))
        tooDeep(String(repeating: "{\"a\":", count: 100_000))
        // Between our limit and jansson's.
        tooDeep(nested(2000))
        // A generous limit still stops at the parser's own bound instead of recursing without end.
        tooDeep(nested(100_000), maxDepth: 1_000_000)
    }

    @Test func errorMessagesNeverQuoteTheInput() {
        let secret = "subject-7f3a9"
        for text in [#"{"s":"\#(secret)"#, #"{"\#(secret)":1,"\#(secret)":2}"#, "[\"\(secret)\" x]"] {
            do {
                _ = try JSON.parse(text)
                Issue.record("expected an error for \(text)")
            } catch {
                #expect(error.kind == .syntax)
                #expect(!error.message.contains(secret), "message quotes the input: \(error.message)")
            }
        }
    }

    @Test func parsesFromARawBufferWithoutCopyingBeyondIt() throws {
        // Only `count` bytes are read: the trailing garbage after them is not seen.
        let bytes = Array("{\"a\":1}GARBAGE".utf8)
        let v = try bytes.withUnsafeBytes { raw in try JSON.parse(UnsafeRawBufferPointer(rebasing: raw[0..<7])) }
        #expect(v["a"] == .int(1))
    }
}
