@testable import FioguardServices
import Testing

@Suite("Identifiers")
struct IdentifiersTests {
    static let alphabet = Set("abcdefghijkmnpqrstuvwxyz23456789")

    @Test func shapeOfEachKind() {
        let d = Identifiers.decision()
        #expect(d.hasPrefix("dec_") && d.count == 4 + 24)
        let t = Identifiers.ticket()
        #expect(t.hasPrefix("tkt_") && t.count == 4 + 52)
        let c = Identifiers.consent()
        #expect(c.hasPrefix("cns_") && c.count == 4 + 10 + 16)
        for id in [d, t] { #expect(id.dropFirst(4).allSatisfy(Self.alphabet.contains)) }
    }

    /// Random symbols come from one draw of several words: every word must be random, so no two
    /// ids repeat and every symbol shows up in every position range.
    @Test func idsAreDistinctAndUseTheWholeAlphabet() {
        let tickets = (0..<2_000).map { _ in Identifiers.ticket() }
        #expect(Set(tickets).count == tickets.count)
        // Symbols 1–12 come from the first word, 13–24 the second, …, 49–52 the fifth.
        for range in [0..<12, 12..<24, 24..<36, 36..<48, 48..<52] {
            var seen = Set<Character>()
            for t in tickets {
                let symbols = Array(t.dropFirst(4))
                for i in range { seen.insert(symbols[i]) }
            }
            #expect(seen == Self.alphabet, "symbols \(range)")
        }
        #expect(Identifiers.randomWords(4).count == 4)
        #expect(Identifiers.randomWords(0).isEmpty)
    }

    @Test func consentIdsSortByTime() async throws {
        let first = Identifiers.consent()
        try await Task.sleep(for: .milliseconds(5))
        let second = Identifiers.consent()
        #expect(first < second)
        #expect(first.prefix(14) <= second.prefix(14))
    }
}
