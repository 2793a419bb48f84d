import FioguardJSON
import Testing

/// `ObjectReader`: typed reads with field paths, and unknown members rejected by `finish()`.
@Suite struct ObjectReaderTests {
    private func reader(_ text: String) throws -> ObjectReader {
        try ObjectReader(JSON.parse(text), path: "params")
    }

    /// Runs `body` and returns the decoding error it throws (records an issue when it does not).
    private func failure(
        _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
    ) -> JSONDecodingError? {
        do {
            try body()
            Issue.record("expected a JSONDecodingError", sourceLocation: sourceLocation)
            return nil
        } catch let error as JSONDecodingError {
            return error
        } catch {
            Issue.record("expected a JSONDecodingError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test func rejectsNonObjects() {
        for v: JSON in [1, "s", [1], .null, true] {
            do {
                _ = try ObjectReader(v, path: "params")
                Issue.record("accepted \(v)")
            } catch {
                #expect(error.path == "params")
                #expect(error.problem == "expected object, got \(v.kindName)")
            }
        }
    }

    @Test func nestedFieldPathNamesTheWholePath() throws {
        let p = try reader(#"{"guardian":{"relationship":5}}"#)
        let e = failure {
            let g = try p.object("guardian")
            _ = try g.string("relationship")
        }
        #expect(e?.path == "params.guardian.relationship")
        #expect(e?.problem == "expected string, got number")
        #expect(e?.description == "params.guardian.relationship: expected string, got number")
    }

    @Test func aStringHoldingNULIsRefusedByName() throws {
        let p = try ObjectReader(JSON.parse(Array(#"{"a":"x\u0000","g":{"r":"\u0000"},"l":["\u0000"]}"#.utf8), allowNUL: true), path: "params")
        #expect(failure { _ = try p.optionalString("a") }?.description == "params.a: must not contain U+0000")
        #expect(failure { _ = try p.object("g").string("r") }?.description == "params.g.r: must not contain U+0000")
        #expect(failure { _ = try p.stringArray("l") }?.description == "params.l[0]: must not contain control characters")
    }

    @Test func nestedObjectOfWrongKind() throws {
        let p = try reader(#"{"guardian":"mother"}"#)
        let e = failure { _ = try p.object("guardian") }
        #expect(e?.path == "params.guardian")
        #expect(e?.problem == "expected object, got string")
    }

    @Test func missingAndNullRequiredFieldsAreRequired() throws {
        let p = try reader(#"{"b":null}"#)
        #expect(failure { _ = try p.string("a") }?.description == "params.a: is required")
        #expect(failure { _ = try p.string("b") }?.description == "params.b: is required")
        #expect(failure { _ = try p.object("c") }?.description == "params.c: is required")
        #expect(failure { _ = try p.bool("d") }?.description == "params.d: is required")
        #expect(failure { _ = try p.int("e", range: 0...1) }?.description == "params.e: is required")
        #expect(failure { _ = try p.stringArray("f") }?.description == "params.f: is required")
    }

    @Test func optionalFieldsAreNilWhenAbsentOrNull() throws {
        let p = try reader(#"{"a":null}"#)
        #expect(try p.optionalString("a") == nil)
        #expect(try p.optionalString("b") == nil)
        #expect(try p.optionalInt("a", range: 0...1) == nil)
        #expect(try p.optionalBool("a") == nil)
        #expect(try p.optionalObject("a") == nil)
        #expect(try p.optionalStringArray("a") == nil)
        #expect(p.has("a") == false)
        try p.finish()
    }

    @Test func unknownFieldsAreRejectedByFinish() throws {
        let p = try reader(#"{"subject":"s","confrim":true}"#)
        _ = try p.string("subject")
        let e = failure { try p.finish() }
        #expect(e?.path == "params.confrim")
        #expect(e?.problem == "unknown field")
    }

    /// Keys match by their bytes, as jansson's duplicate check does, not by Swift's canonical
    /// equivalence: a Kelvin sign (U+212A) is not a K, a decomposed "é" is not a precomposed one.
    @Test func keysMatchByTheirBytes() throws {
        let p = try reader(#"{"subject":"s","idempotency\u212Aey":"k"}"#)
        _ = try p.string("subject")
        #expect(try p.optionalString("idempotencyKey") == nil)
        #expect(!p.has("idempotencyKey"))
        let e = failure { try p.finish() }
        #expect(e?.path == "params.idempotency\u{212A}ey")
        #expect(e?.problem == "unknown field")

        let object = JSONObject([("caf\u{E9}", "precomposed"), ("cafe\u{301}", "decomposed")])
        #expect(object.count == 2)
        #expect(object["caf\u{E9}"] == "precomposed")
        #expect(object["cafe\u{301}"] == "decomposed")
    }

    @Test func unknownNullFieldIsStillUnknown() throws {
        let p = try reader(#"{"extra":null}"#)
        #expect(failure { try p.finish() }?.path == "params.extra")
    }

    @Test func unknownFieldsInNestedObjectsNameTheNestedPath() throws {
        let p = try reader(#"{"guardian":{"relationship":"parent","verificationMethod":"card","x":1}}"#)
        let g = try p.object("guardian")
        _ = try g.string("relationship")
        _ = try g.string("verificationMethod")
        #expect(failure { try g.finish() }?.path == "params.guardian.x")
        try p.finish()
    }

    @Test func hasDoesNotCountAsARead() throws {
        let p = try reader(#"{"a":1}"#)
        #expect(p.has("a"))
        #expect(failure { try p.finish() }?.path == "params.a")
    }

    @Test func stringLengthIsCountedInCharactersNotBytes() throws {
        let p = try reader(#"{"s":"ééé","t":"abcd"}"#)
        #expect(try p.string("s", maxLength: 3) == "ééé")
        #expect(failure { _ = try p.string("t", maxLength: 3) }?.description == "params.t: longer than 3 characters")
    }

    @Test func textRejectsEmptyAndControlCharacters() throws {
        let p = try reader(#"{"empty":"","ctl":"a\u0001b","nl":"a\nb","del":"a\u007fb","ok":"Grüße"}"#)
        #expect(failure { _ = try p.text("empty") }?.description == "params.empty: must not be empty")
        #expect(failure { _ = try p.text("ctl") }?.description == "params.ctl: must not contain control characters")
        #expect(failure { _ = try p.text("nl") }?.path == "params.nl")
        #expect(failure { _ = try p.text("del") }?.path == "params.del")
        #expect(try p.text("ok") == "Grüße")
    }

    /// Plain ASCII takes a byte-wise path; anything else still gets the full Unicode check.
    @Test func textChecksControlCharactersBeyondASCII() throws {
        let p = try reader(#"{"c1":"Grüße\u0085","nel":"\u0085","nbsp":"a\u00a0b","emoji":"🙂 ok","utf8ctl":"é\u0001"}"#)
        #expect(failure { _ = try p.text("c1") }?.path == "params.c1")
        #expect(failure { _ = try p.text("nel") }?.path == "params.nel")
        #expect(failure { _ = try p.text("utf8ctl") }?.path == "params.utf8ctl")
        #expect(try p.text("nbsp") == "a\u{00A0}b")
        #expect(try p.text("emoji") == "🙂 ok")
    }

    @Test func lengthLimitCountsCharactersWhenBytesExceedIt() throws {
        let p = try reader(#"{"s":"éééé","e":"🙂🙂"}"#)
        #expect(try p.string("s", maxLength: 4) == "éééé")
        #expect(failure { _ = try p.string("s", maxLength: 3) }?.description == "params.s: longer than 3 characters")
        #expect(try p.string("e", maxLength: 2) == "🙂🙂")
    }

    @Test func choiceListsTheAllowedValues() throws {
        let p = try reader(#"{"trigger":"sometimes","t2":"user_action"}"#)
        let e = failure { _ = try p.choice("trigger", ["user_action", "automatic"]) }
        #expect(e?.description == "params.trigger: expected one of user_action, automatic")
        #expect(try p.choice("t2", ["user_action", "automatic"]) == "user_action")
    }

    @Test func stringArrayNamesTheBadElement() throws {
        let p = try reader(#"{"purposes":["authentication",7],"empty":[],"blank":["a",""],"many":["a","b","c"],"notArray":"x"}"#)
        let e = failure { _ = try p.stringArray("purposes") }
        #expect(e?.path == "params.purposes[1]")
        #expect(e?.problem == "expected string, got number")
        #expect(failure { _ = try p.stringArray("empty") }?.description == "params.empty: must not be empty")
        #expect(failure { _ = try p.stringArray("blank") }?.path == "params.blank[1]")
        #expect(failure { _ = try p.stringArray("many", maxCount: 2) }?.description == "params.many: more than 2 items")
        #expect(failure { _ = try p.stringArray("notArray") }?.description == "params.notArray: expected array of strings, got string")
        #expect(try p.optionalStringArray("empty") == [])
    }

    @Test func integersAreCheckedForKindAndRange() throws {
        let p = try reader(#"{"age":17,"whole":17.0,"half":17.5,"s":"17","big":1000}"#)
        #expect(try p.int("age", range: 0...150) == 17)
        #expect(try p.int("whole", range: 0...150) == 17)
        #expect(failure { _ = try p.int("half", range: 0...150) }?.description == "params.half: expected integer, got number")
        #expect(failure { _ = try p.int("s", range: 0...150) }?.description == "params.s: expected integer, got string")
        #expect(failure { _ = try p.int("big", range: 0...150) }?.description == "params.big: must be between 0 and 150")
    }

    @Test func booleansAreStrict() throws {
        let p = try reader(#"{"confirm":"true","one":1,"yes":true}"#)
        #expect(failure { _ = try p.bool("confirm") }?.description == "params.confirm: expected boolean, got string")
        #expect(failure { _ = try p.bool("one") }?.description == "params.one: expected boolean, got number")
        #expect(try p.bool("yes") == true)
    }

    @Test func failBuildsAnErrorAtTheFieldPath() throws {
        let p = try reader("{}")
        #expect(p.fail("x", "nope").description == "params.x: nope")
        #expect(p.fieldPath("y") == "params.y")
    }
}
