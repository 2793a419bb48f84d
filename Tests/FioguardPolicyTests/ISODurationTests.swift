import FioguardPolicy
import Testing

@Suite("ISODuration")
struct ISODurationTests {
    @Test(arguments: [
        ("P3Y", "P3Y"), ("P30D", "P30D"), ("PT10M", "PT10M"), ("PT1H", "PT1H"), ("P1M", "P1M"),
        ("P1Y2M3DT4H5M6S", "P1Y2M3DT4H5M6S"), ("P2W", "P2W"), ("PT0S", "PT0S"), ("P0D", "PT0S"),
        ("P1Y0M", "P1Y"), ("P24M", "P24M"), ("PT36H", "PT36H"), ("P0Y0M0DT0H0M0S", "PT0S"), ("P999999999Y", "P999999999Y"),
    ])
    func parsesAndNormalises(text: String, canonical: String) {
        #expect(ISODuration(iso8601: text)?.iso8601 == canonical)
    }

    @Test(arguments: [
        "", "P", "PT", "-P1D", "P-1D", "P1", "1Y", "P1Y1Y", "P1M1Y", "P1W1D", "P1Y2W", "P1.5Y", "PT0.5S", "P1,5Y",
        "p1y", "P1YT", "PT1D", "P1H", "P1234567890Y", " P1D", "P1D ", "PT1H1H", "PT1S1M", "P+1D", "PTT1H", "P1DT",
    ])
    func rejects(text: String) {
        #expect(ISODuration(iso8601: text) == nil)
    }

    @Test func zeroAndComponents() throws {
        #expect(ISODuration.zero.iso8601 == "PT0S")
        #expect(ISODuration(iso8601: "PT0S") == .zero)
        let d = try #require(ISODuration(iso8601: "P1Y2M3DT4H5M6S"))
        #expect([d.years, d.months, d.days, d.hours, d.minutes, d.seconds] == [1, 2, 3, 4, 5, 6])
        #expect(Fixture.duration("P1W").nominalSeconds == 7 * 86_400)
        #expect(Fixture.duration("P1Y").nominalSeconds > Fixture.duration("P11M").nominalSeconds)
        #expect(Fixture.duration("P24M").nominalSeconds == Fixture.duration("P2Y").nominalSeconds)
    }
}

@Suite struct ISODurationPlainTextTests {
    @Test(arguments: [
        ("P3Y", "3 years"), ("P1Y", "1 year"), ("P1Y6M", "1 year and 6 months"), ("PT15M", "15 minutes"),
        ("P1DT2H3M", "1 day, 2 hours and 3 minutes"), ("PT0S", "no time"),
    ])
    func plainText(_ input: String, _ expected: String) throws {
        let d = try #require(ISODuration(iso8601: input))
        #expect(d.plainText == expected)
    }
}
