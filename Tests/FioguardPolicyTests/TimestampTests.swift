import FioguardPolicy
import Testing

@Suite("Timestamp")
struct TimestampTests {
    @Test(arguments: [
        ("2026-11-27T04:37:46Z", Int64(1_795_754_266)),
        ("2026-11-27T05:37:46+01:00", 1_795_754_266),
        ("2026-11-26T23:37:46-05:00", 1_795_754_266),
        ("2026-11-27T04:37:46.999Z", 1_795_754_266),
        ("2026-11-27T04:37:46.123456789+00:00", 1_795_754_266),
        ("2026-11-27t04:37:46z", 1_795_754_266),
        ("2026-11-27T04:37:46-00:00", 1_795_754_266),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1),
        ("1900-03-01T00:00:00Z", -2_203_891_200),
        ("2024-02-29T12:00:00Z", 1_709_208_000),
    ])
    func parses(text: String, seconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.secondsSinceEpoch == seconds)
    }

    @Test(arguments: [
        "", "garbage", "2026-11-27", "2026-11-27T04:37:46", "2026-11-27 04:37:46Z", "2026-02-29T00:00:00Z",
        "2024-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z",
        "2026-11-27T24:00:00Z", "2026-11-27T04:60:00Z", "2026-11-27T04:37:60Z", "2026-11-27T04:37:46.Z",
        "2026-11-27T04:37:46+1:00", "2026-11-27T04:37:46+01", "2026-11-27T04:37:46+24:00", "2026-11-27T04:37:46Zjunk",
        "26-11-27T04:37:46Z", "2026-11-27T04:37:46 Z", "+2026-11-27T04:37:46Z",
    ])
    func rejects(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (1_795_754_266, "2026-11-27T04:37:46Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (-62_167_219_200, "0000-01-01T00:00:00Z"),
    ])
    func formats(seconds: Int64, text: String) {
        #expect(Timestamp(secondsSinceEpoch: seconds).rfc3339 == text)
        #expect(Timestamp(rfc3339: text)?.secondsSinceEpoch == seconds)
    }

    @Test func formatsYearsOutsideFourDigits() {
        #expect(Timestamp(secondsSinceEpoch: 253_402_300_800).rfc3339 == "10000-01-01T00:00:00Z")
        #expect(Timestamp(secondsSinceEpoch: -62_167_219_201).rfc3339 == "-0001-12-31T23:59:59Z")
    }

    @Test(arguments: [
        ("2026-01-31T10:00:00Z", "P1M", "2026-02-28T10:00:00Z"),
        ("2024-01-31T10:00:00Z", "P1M", "2024-02-29T10:00:00Z"),
        ("2026-03-31T00:00:00Z", "P1M", "2026-04-30T00:00:00Z"),
        ("2026-01-31T00:00:00Z", "P2M", "2026-03-31T00:00:00Z"),
        ("2024-02-29T00:00:00Z", "P1Y", "2025-02-28T00:00:00Z"),
        ("2024-02-29T00:00:00Z", "P4Y", "2028-02-29T00:00:00Z"),
        ("2026-11-27T04:37:46Z", "P3Y", "2029-11-27T04:37:46Z"),
        ("2026-11-27T04:37:46Z", "P24M", "2028-11-27T04:37:46Z"),
        ("2026-11-27T04:37:46Z", "P2Y", "2028-11-27T04:37:46Z"),
        ("2026-12-31T23:00:00Z", "PT2H", "2027-01-01T01:00:00Z"),
        ("2026-12-31T23:59:59Z", "PT1S", "2027-01-01T00:00:00Z"),
        ("2026-02-22T00:00:00Z", "P1W", "2026-03-01T00:00:00Z"),
        ("2024-02-22T00:00:00Z", "P1W", "2024-02-29T00:00:00Z"),
        ("2026-11-27T04:37:46Z", "PT15M", "2026-11-27T04:52:46Z"),
        ("2026-11-30T12:00:00Z", "P1M1DT12H", "2027-01-01T00:00:00Z"),
        ("2026-11-27T04:37:46Z", "PT0S", "2026-11-27T04:37:46Z"),
        ("1969-12-31T00:00:00Z", "P1M", "1970-01-31T00:00:00Z"),
        ("2099-12-31T00:00:00Z", "P1Y2M", "2101-02-28T00:00:00Z"),
    ])
    func calendarArithmetic(start: String, duration: String, end: String) {
        let result = Fixture.ts(start).adding(Fixture.duration(duration))
        #expect(result.rfc3339 == end)
    }

    @Test func secondsArithmeticSaturates() {
        #expect(Timestamp(secondsSinceEpoch: .max).adding(seconds: 1).secondsSinceEpoch == .max)
        #expect(Timestamp(secondsSinceEpoch: .min).adding(seconds: -1).secondsSinceEpoch == .min)
        #expect(Timestamp(secondsSinceEpoch: .max).adding(Fixture.duration("P1Y")).secondsSinceEpoch == .max)
        #expect(Fixture.now.adding(seconds: -60).rfc3339 == "2026-11-27T04:36:46Z")
    }

    @Test func ordering() {
        #expect(Fixture.ts("2026-01-01T00:00:00Z") < Fixture.ts("2026-01-01T00:00:01Z"))
        #expect(Fixture.ts("2026-01-01T01:00:00+01:00") == Fixture.ts("2026-01-01T00:00:00Z"))
        #expect(Fixture.now.civilDate == Fixture.date("2026-11-27"))
    }
}
