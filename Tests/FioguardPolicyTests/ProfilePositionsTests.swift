@testable import FioguardPolicy
import Testing

/// `Policy.profilePositions` keeps which profiles apply to a jurisdiction and checks only the date
/// per call. It must find exactly what a pass over every profile finds, for any jurisdiction and
/// date, the first time and from the memo.
@Suite("Profile positions")
struct ProfilePositionsTests {
    @Test func theMemoFindsWhatAPassOverEveryProfileFinds() throws {
        // A policy of its own, so that its memo starts empty (other tests use the built-in one).
        let policy = try Policy.load(bytes: Array(#"{"version":1,"purposes":["authentication"],"domains":["shop.example"]}"#.utf8))
        let codes = Set(policy.profiles.map(\.code))
        var jurisdictions: [Jurisdiction] = [Jurisdiction(country: "ZZ", region: nil), Jurisdiction(country: "US", region: "ZZ")]
        for code in codes.sorted() {
            jurisdictions.append(Jurisdiction(country: code, region: nil))
            jurisdictions.append(Jurisdiction(country: "US", region: code))
            jurisdictions.append(Jurisdiction(country: "DE", region: code))
        }
        // Each profile's first day, the day before it and the epoch; nil is "regardless of date".
        var dates: [Timestamp?] = [nil, Timestamp(secondsSinceEpoch: 0)]
        for p in policy.profiles {
            guard let from = p.effectiveFrom?.startOfDay else { continue }
            dates.append(from)
            dates.append(Timestamp(secondsSinceEpoch: from.secondsSinceEpoch - 1))
        }
        func everyProfile(_ js: [Jurisdiction], _ now: Timestamp?) -> [Int] {
            policy.profiles.indices.filter { i in
                policy.profiles[i].isInForce(at: now) && js.contains { policy.profiles[i].applies(to: $0) }
            }
        }
        var found = 0
        for round in 0..<2 {  // the first fills the memo, the second reads it
            for j in jurisdictions {
                for now in dates {
                    let positions = policy.profilePositions(for: [j], inForceAt: now)
                    #expect(positions == everyProfile([j], now), "\(j) at \(String(describing: now)), round \(round)")
                    found += positions.count
                }
            }
            let pair = [Jurisdiction(country: "FR", region: nil), Jurisdiction(country: "US", region: "IL")]
            for now in dates { #expect(policy.profilePositions(for: pair, inForceAt: now) == everyProfile(pair, now)) }
        }
        #expect(found > 0)
    }
}
