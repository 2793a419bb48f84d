@testable import FioguardServices
import FioguardJSON
import FioguardPolicy
import Testing

@Suite("facialId.show rights cache")
struct RightsCacheTests {
    static let policyText = """
        {"version":1,"purposes":["authentication"],"domains":["shop.example"],
         "consent":{"maxAgeBeforeEnrollment":"P1D"},"enrollment":{"ticketTTL":"PT10M"},
         "retention":{"maxSinceEnrollment":"P10Y","maxSinceLastInteraction":"P10Y"},"sweep":{"interval":"P1D"}}
        """

    /// The cache is keyed by policy, jurisdiction and day: asked in any order, it must answer
    /// what a fresh computation answers for each combination, never another one's entry.
    @Test func answersWhatAFreshComputationAnswers() throws {
        let policy = try Policy.load(bytes: Array(Self.policyText.utf8))
        let cache = FacialIDService.RightsCache()
        let places: [Jurisdiction?] = [
            nil, Jurisdiction(country: "US", region: "US-IL"), Jurisdiction(country: "US", region: "US-TX"),
            Jurisdiction(country: "US", region: nil), Jurisdiction(country: "DE", region: nil),
        ]
        let days = [Timestamp(secondsSinceEpoch: 1_790_000_000), Timestamp(secondsSinceEpoch: 1_790_000_000 + 400 * 86_400)]
        for _ in 0..<2 {
            for place in places {
                for day in days {
                    #expect(
                        cache.rights(policy: policy, jurisdiction: place, now: day)
                            == FacialIDService.rights(policy: policy, jurisdiction: place, now: day),
                        "\(place.map { "\($0.country)-\($0.region ?? "")" } ?? "none") at \(day.rfc3339)")
                }
            }
        }
        // The combinations must differ somewhere, or a cache that ignored its key would pass.
        #expect(
            FacialIDService.rights(policy: policy, jurisdiction: places[1], now: days[0])
                != FacialIDService.rights(policy: policy, jurisdiction: places[4], now: days[0]))
    }
}
