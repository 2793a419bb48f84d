import FioguardPolicy
import Testing

@Suite("Domain patterns")
struct DomainPatternTests {
    struct MatchCase: Sendable, CustomTestStringConvertible {
        var pattern: String
        var host: String
        var matches: Bool
        var testDescription: String { "\(pattern) vs \(host.debugDescription) → \(matches)" }
    }

    @Test(arguments: [
        MatchCase(pattern: "*.shop.example", host: "a.shop.example", matches: true),
        MatchCase(pattern: "*.shop.example", host: "a.b.shop.example", matches: true),
        MatchCase(pattern: "*.shop.example", host: "A.SHOP.Example", matches: true),
        MatchCase(pattern: "*.shop.example", host: "a.shop.example.", matches: true),
        MatchCase(pattern: "*.shop.example", host: "xn--bcher-kva.shop.example", matches: true),
        MatchCase(pattern: "*.shop.example", host: "shop.example", matches: false),  // never the apex
        MatchCase(pattern: "*.shop.example", host: "evilshop.example", matches: false),
        MatchCase(pattern: "*.shop.example", host: "a.evilshop.example", matches: false),
        MatchCase(pattern: "*.shop.example", host: ".shop.example", matches: false),
        MatchCase(pattern: "*.shop.example", host: "a..shop.example", matches: false),
        MatchCase(pattern: "*.shop.example", host: "shop.example.evil", matches: false),
        MatchCase(pattern: "*.shop.example", host: "a.shop.example..", matches: false),
        MatchCase(pattern: "*.shop.example", host: "bücher.shop.example", matches: false),
        MatchCase(pattern: "*.shop.example", host: "a.shop.example:443", matches: false),
        MatchCase(pattern: "shop.example", host: "shop.example", matches: true),
        MatchCase(pattern: "shop.example", host: "SHOP.Example.", matches: true),
        MatchCase(pattern: "Shop.Example.", host: "shop.example", matches: true),
        MatchCase(pattern: "shop.example", host: "www.shop.example", matches: false),
        MatchCase(pattern: "shop.example", host: "shop.example..", matches: false),
        MatchCase(pattern: "shop.example", host: "", matches: false),
        MatchCase(pattern: "shop.example", host: ".", matches: false),
        MatchCase(pattern: "shop.example", host: "shop.example:443", matches: false),
        MatchCase(pattern: "shop.example", host: "shop.examplE\u{0}", matches: false),
        MatchCase(pattern: "xn--bcher-kva.example", host: "XN--BCHER-KVA.EXAMPLE", matches: true),
        MatchCase(pattern: "xn--bcher-kva.example", host: "bücher.example", matches: false),
        MatchCase(pattern: "xn--bcher-kva.example", host: "BÜCHER.example", matches: false),
    ])
    func matching(_ c: MatchCase) throws {
        let p = try DomainPattern.parse(c.pattern).get()
        #expect(p.matches(c.host) == c.matches)
    }

    @Test(arguments: [
        ("bücher.example", "xn--"),
        ("*.example", "at least two labels"),
        ("a.*.example", "leading"),
        ("*.*.example", "leading"),
        ("*", "leading"),
        ("https://shop.example", "letters, digits, hyphens"),
        ("shop.example/path", "letters, digits, hyphens"),
        ("-shop.example", "hyphen"),
        ("shop-.example", "hyphen"),
        ("shop..example", "empty label"),
        (".", "empty"),
        ("shop_example.com", "letters, digits, hyphens"),
        (String(repeating: "a", count: 64) + ".example", "63"),
    ])
    func rejectsInPolicy(entry: String, messagePart: String) {
        switch DomainPattern.parse(entry) {
        case .success(let p): Issue.record("accepted \(entry) as \(p)")
        case .failure(let e): #expect(e.message.contains(messagePart), "\(e.message)")
        }
    }

    @Test func normalises() throws {
        #expect(try DomainPattern.parse("*.Shop.EXAMPLE.").get().text == "*.shop.example")
        #expect(try DomainPattern.parse("Shop.Example.").get().text == "shop.example")
        #expect(try DomainPattern.parse("localhost").get().text == "localhost")
    }
}
