import FioguardPolicy
import Testing

@Suite("CivilDate")
struct CivilDateTests {
    @Test(arguments: ["2024-02-29", "2000-02-29", "1999-12-31", "0001-01-01", "2026-11-27"])
    func parses(text: String) {
        #expect(CivilDate(iso: text)?.iso == text)
    }

    @Test(arguments: [
        "2023-02-29", "1900-02-29", "2026-1-01", "2026-01-32", "2026-04-31", "2026-13-01", "26-01-01", "2026/01/01",
        "2026-01-01T00:00:00Z", "", "abcd-ef-gh",
    ])
    func rejects(text: String) {
        #expect(CivilDate(iso: text) == nil)
    }

    @Test(arguments: [
        ("2013-11-27", "2026-11-27T04:37:46Z", 13),  // birthday today
        ("2013-11-28", "2026-11-27T04:37:46Z", 12),  // birthday tomorrow
        ("2013-11-26", "2026-11-27T04:37:46Z", 13),  // birthday yesterday
        ("2013-11-28", "2026-11-27T23:59:59Z", 12),
        ("2013-11-28", "2026-11-28T00:00:00Z", 13),
        ("2012-02-29", "2025-02-28T12:00:00Z", 12),  // leap-day birthday, common year
        ("2012-02-29", "2025-03-01T00:00:00Z", 13),
        ("2012-02-29", "2024-02-29T00:00:00Z", 12),
        ("2000-01-01", "2026-11-27T04:37:46Z", 26),
        ("2027-01-01", "2026-11-27T04:37:46Z", -1),
    ])
    func age(birth: String, at: String, years: Int) {
        #expect(Fixture.date(birth).age(at: Fixture.ts(at)) == years)
    }
}
