import FioguardJSON
import FioguardPolicy
import Testing

@Suite("Policy loading and validation")
struct PolicyLoadingTests {
    struct BadPolicy: Sendable, CustomTestStringConvertible {
        var json: String
        var path: String
        var messagePart: String
        var testDescription: String { "\(path): \(messagePart)" }
    }

    @Test(arguments: [
        BadPolicy(json: #"{"version":1,"domian":["shop.example"]}"#, path: "policy.domian", messagePart: "did you mean \"domains\""),
        BadPolicy(json: #"{"version":1,"colour":"red"}"#, path: "policy.colour", messagePart: "unknown key"),
        BadPolicy(json: #"{}"#, path: "policy.version", messagePart: "is required"),
        BadPolicy(json: #"{"version":2}"#, path: "policy.version", messagePart: "must be 1"),
        BadPolicy(json: #"{"version":"1"}"#, path: "policy.version", messagePart: "must be 1"),
        BadPolicy(json: #"[1]"#, path: "policy", messagePart: "expected object, got array"),
        BadPolicy(json: #"{"version":1,"#, path: "policy", messagePart: "not valid JSON"),
        BadPolicy(json: #"{"version":1,"version":1}"#, path: "policy", messagePart: "not valid JSON"),
        BadPolicy(
            json: #"{"version":1,"countries":{"allow":["DE","de"]}}"#, path: "policy.countries.allow[1]",
            messagePart: "not an ISO 3166-1 alpha-2 code"),
        BadPolicy(
            json: #"{"version":1,"countries":{"deny":["USA"]}}"#, path: "policy.countries.deny[0]",
            messagePart: "not an ISO 3166-1 alpha-2 code"),
        BadPolicy(json: #"{"version":1,"countries":{"allow":[7]}}"#, path: "policy.countries.allow[0]", messagePart: "expected string, got number"),
        BadPolicy(json: #"{"version":1,"countries":{"block":[]}}"#, path: "policy.countries.block", messagePart: "unknown key"),
        BadPolicy(json: #"{"version":1,"countries":["DE"]}"#, path: "policy.countries", messagePart: "expected object, got array"),
        BadPolicy(
            json: #"{"version":1,"retention":{"maxSinceEnrollment":"3 years"}}"#, path: "policy.retention.maxSinceEnrollment",
            messagePart: "not an ISO 8601 duration"),
        BadPolicy(
            json: #"{"version":1,"retention":{"maxSinceLastInteraction":"PT0S"}}"#, path: "policy.retention.maxSinceLastInteraction",
            messagePart: "more than zero"),
        BadPolicy(
            json: #"{"version":1,"consent":{"maxAgeBeforeEnrollment":15}}"#, path: "policy.consent.maxAgeBeforeEnrollment",
            messagePart: "expected an ISO 8601 duration string, got number"),
        BadPolicy(
            json: #"{"version":1,"consent":{"affirmativeMethods":[]}}"#, path: "policy.consent.affirmativeMethods",
            messagePart: "must not be empty"),
        BadPolicy(
            json: #"{"version":1,"consent":{"affirmativeMethods":["click","pre-ticked"]}}"#,
            path: "policy.consent.affirmativeMethods[1]", messagePart: "not an affirmative collection method"),
        BadPolicy(
            json: #"{"version":1,"consent":{"validFor":"P-1Y"}}"#, path: "policy.consent.validFor",
            messagePart: "not an ISO 8601 duration"),
        BadPolicy(
            json: #"{"version":1,"enrollment":{"allowReenrollment":"no"}}"#, path: "policy.enrollment.allowReenrollment",
            messagePart: "expected boolean, got string"),
        BadPolicy(
            json: #"{"version":1,"enrollment":{"ticketTTL":"P2D"}}"#, path: "policy.enrollment.ticketTTL",
            messagePart: "at most one day"),
        BadPolicy(
            json: #"{"version":1,"minors":{"defaultAgeOfConsent":"16"}}"#, path: "policy.minors.defaultAgeOfConsent",
            messagePart: "expected integer, got string"),
        BadPolicy(
            json: #"{"version":1,"minors":{"defaultAgeOfConsent":30}}"#, path: "policy.minors.defaultAgeOfConsent",
            messagePart: "between 0 and 21"),
        BadPolicy(
            json: #"{"version":1,"minors":{"guardianConsent":"maybe"}}"#, path: "policy.minors.guardianConsent",
            messagePart: "expected one of required, forbidden"),
        BadPolicy(json: #"{"version":1,"purposes":["marketing"]}"#, path: "policy.purposes", messagePart: "authentication"),
        BadPolicy(json: #"{"version":1,"purposes":[]}"#, path: "policy.purposes", messagePart: "must not be empty"),
        BadPolicy(json: #"{"version":1,"purposes":"authentication"}"#, path: "policy.purposes", messagePart: "expected array"),
        BadPolicy(
            json: #"{"version":1,"purposes":["authentication","Ads!"]}"#, path: "policy.purposes[1]",
            messagePart: "lower-case identifier"),
        BadPolicy(json: #"{"version":1,"domains":["bücher.example"]}"#, path: "policy.domains[0]", messagePart: "xn--"),
        BadPolicy(json: #"{"version":1,"domains":["shop.example","*.com"]}"#, path: "policy.domains[1]", messagePart: "two labels"),
        BadPolicy(json: #"{"version":1,"domains":"shop.example"}"#, path: "policy.domains", messagePart: "expected array"),
        BadPolicy(json: #"{"version":1,"jurisdictions":{"usa-il":{}}}"#, path: "policy.jurisdictions.usa-il", messagePart: "not a jurisdiction code"),
        BadPolicy(json: #"{"version":1,"jurisdictions":{"US-IL":[]}}"#, path: "policy.jurisdictions.US-IL", messagePart: "expected object"),
        BadPolicy(
            json: #"{"version":1,"jurisdictions":{"US-IL":{"retention":{"maxSinceLastInteraction":"P-3Y"}}}}"#,
            path: "policy.jurisdictions.US-IL.retention.maxSinceLastInteraction", messagePart: "not an ISO 8601 duration"),
        BadPolicy(
            json: #"{"version":1,"jurisdictions":{"US-IL":{"consent":{"affirmativeMethods":["signature","nod"]}}}}"#,
            path: "policy.jurisdictions.US-IL.consent.affirmativeMethods[1]", messagePart: "not an affirmative collection method"),
        BadPolicy(
            json: #"{"version":1,"jurisdictions":{"DE":{"minors":{"age":16}}}}"#, path: "policy.jurisdictions.DE.minors.age",
            messagePart: "did you mean \"ageOfConsent\""),
        BadPolicy(
            json: #"{"version":1,"jurisdictions":{"IN":{"effectiveFrom":"2027-13-01"}}}"#,
            path: "policy.jurisdictions.IN.effectiveFrom", messagePart: "YYYY-MM-DD"),
        BadPolicy(json: #"{"version":1,"sweep":{"interval":"PT0S"}}"#, path: "policy.sweep.interval", messagePart: "between PT1S and P1D"),
        BadPolicy(json: #"{"version":1,"contact":{"phone":"1"}}"#, path: "policy.contact.phone", messagePart: "unknown key"),
        BadPolicy(json: #"{"version":1,"contact":{}}"#, path: "policy.contact", messagePart: "at least one"),
    ])
    func rejectsNamingThePath(_ c: BadPolicy) {
        do {
            _ = try Policy.load(bytes: Array(c.json.utf8))
            Issue.record("accepted \(c.json)")
        } catch {
            #expect(error.path == c.path, "\(error)")
            #expect(error.message.contains(c.messagePart), "\(error)")
            #expect(error.description == "\(c.path): \(error.message)")
        }
    }

    @Test func listsEveryProblem() {
        let text = #"{"version":1,"domian":[],"countries":{"allow":["DE","de","xx"]},"retention":{"maxSinceEnrollment":"forever"}}"#
        let errors = Policy.validate(bytes: Array(text.utf8))
        #expect(errors.map(\.path) == [
            "policy.domian", "policy.countries.allow[1]", "policy.countries.allow[2]", "policy.retention.maxSinceEnrollment",
        ])
    }

    @Test func loadsFromJSONValue() throws {
        let json: JSON = ["version": 1, "domains": ["shop.example"], "countries": ["allow": ["DE"], "deny": []]]
        let p = try Policy.load(json)
        #expect(p.domains.map(\.text) == ["shop.example"])
        #expect(p.allowedCountries == ["DE"])
    }

    /// D15: the site may describe each purpose's use; only purposes it lists, and only when given
    /// does the description enter the policy's version.
    @Test func purposeDescriptions() throws {
        let plain = try Policy.load(["version": 1, "purposes": ["authentication", "fraud-check"]])
        let described = try Policy.load([
            "version": 1, "purposes": ["authentication", "fraud-check"],
            "purposeDescriptions": ["fraud-check": "Compared with known fraud attempts at checkout."],
        ])
        #expect(described.purposeDescriptions == ["fraud-check": "Compared with known fraud attempts at checkout."])
        #expect(plain.version != described.version)
        #expect(plain.version == (try Policy.load(["version": 1, "purposes": ["fraud-check", "authentication"]])).version)
        let errors = Policy.validate(bytes: Array(#"{"version":1,"purposeDescriptions":{"marketing":"x","authentication":""}}"#.utf8))
        #expect(errors.map(\.path) == ["policy.purposeDescriptions.marketing", "policy.purposeDescriptions.authentication"])
        let d = PolicyEngine.disclosure(jurisdiction: nil, locale: nil, policy: described)
        let uses = d["uses"]?.arrayValue ?? []
        #expect(uses.compactMap { $0["purpose"]?.stringValue } == ["authentication", "fraud-check"])
        #expect(uses.first?["description"]?.stringValue?.hasPrefix("Face login") == true)
        #expect(uses.last?["description"]?.stringValue == "Compared with known fraud attempts at checkout.")
        #expect(PolicyEngine.disclosure(jurisdiction: nil, locale: nil, policy: plain)["uses"]?.arrayValue?.last?["description"] == .null)
        #expect(d["foreseeableUse"]?.stringValue?.contains("new, separate consent") == true)
    }

    /// A duration of a billion years was accepted and put deadlines past year 9999, which the
    /// server then wrote as `1000002025-…`, not RFC 3339.
    @Test func durationsAreAtMostTwoHundredYears() {
        let errors = Policy.validate(bytes: Array(
            #"{"version":1,"consent":{"validFor":"P999999999Y"},"retention":{"maxSinceEnrollment":"P201Y","deleteAfterRevocation":"P200Y"},"jurisdictions":{"DE":{"retention":{"maxSinceLastInteraction":"P2400M1D"}}}}"#.utf8))
        #expect(errors.map(\.path) == [
            "policy.consent.validFor", "policy.retention.maxSinceEnrollment", "policy.jurisdictions.DE.retention.maxSinceLastInteraction",
        ])
        #expect(errors.allSatisfy { $0.message.contains("P200Y") }, "\(errors)")
    }

    @Test func strictDefaults() throws {
        let d = Policy.builtInDefault
        #expect(d.domains.isEmpty)
        #expect(d.purposes == ["authentication"])
        #expect(d.allowedCountries == nil)
        #expect(d.deniedCountries.isEmpty)
        #expect(d.ticketTTL.iso8601 == "PT10M")
        #expect(d.sweepInterval.iso8601 == "PT1H")
        #expect(d.maxAgeBeforeEnrollment.iso8601 == "PT15M")
        #expect(d.consentValidFor == nil)
        #expect(d.allowReenrollment == false)
        #expect(d.deleteUnauthorizedEnrollments == true)
        #expect(d.defaultAgeOfConsent == 16)
        #expect(d.guardianConsent == .required)
        #expect(d.requireAgeEvidence == false)
        #expect(d.maxSinceEnrollment.iso8601 == "P3Y")
        #expect(d.maxSinceLastInteraction.iso8601 == "P3Y")
        #expect(d.deleteAfterRevocation == .zero)
        #expect(d.affirmativeMethods == ["checkbox", "click", "signature"])
        #expect(d.contact == nil)
        // The minimal file is the default.
        #expect(try Policy.load(bytes: Array(#"{"version":1}"#.utf8)).version == d.version)
    }

    @Test func readsEveryKey() throws {
        let text = #"""
            {"version":1,"purposes":["authentication","fraud-prevention"],"domains":["shop.example"],
             "countries":{"allow":["DE","FR","US"],"deny":["RU"]},
             "consent":{"affirmativeMethods":["signature","checkbox"],"maxAgeBeforeEnrollment":"PT5M","validFor":"P1Y"},
             "enrollment":{"ticketTTL":"PT2M","allowReenrollment":true,"deleteUnauthorized":false},
             "minors":{"defaultAgeOfConsent":18,"guardianConsent":"forbidden","requireAgeEvidence":true},
             "retention":{"maxSinceEnrollment":"P2Y","maxSinceLastInteraction":"P1Y","deleteAfterRevocation":"P1D"},
             "jurisdictions":{"JP":{"name":"Japan","citation":"APPI","minors":{"ageOfConsent":15}}},
             "sweep":{"interval":"PT30M"},
             "contact":{"name":"Privacy team","email":"privacy@shop.example","url":"https://shop.example/privacy"}}
            """#
        let p = try Policy.load(bytes: Array(text.utf8))
        #expect(p.purposes == ["authentication", "fraud-prevention"])
        #expect(p.allowedCountries == ["DE", "FR", "US"])
        #expect(p.deniedCountries == ["RU"])
        #expect(p.affirmativeMethods == ["checkbox", "signature"])
        #expect(p.maxAgeBeforeEnrollment.iso8601 == "PT5M")
        #expect(p.consentValidFor?.iso8601 == "P1Y")
        #expect(p.ticketTTL.iso8601 == "PT2M")
        #expect(p.allowReenrollment)
        #expect(!p.deleteUnauthorizedEnrollments)
        #expect(p.defaultAgeOfConsent == 18)
        #expect(p.guardianConsent == .forbidden)
        #expect(p.requireAgeEvidence)
        #expect(p.maxSinceEnrollment.iso8601 == "P2Y")
        #expect(p.deleteAfterRevocation.iso8601 == "P1D")
        #expect(p.sweepInterval.iso8601 == "PT30M")
        #expect(p.contact?.email == "privacy@shop.example")
        #expect(p.profiles.contains { $0.code == "JP" && $0.ageOfConsent == 15 && !$0.isBuiltIn })
    }

    // MARK: version hash

    @Test func versionIsSHA256OfCanonicalForm() {
        let v = Fixture.policy().version
        #expect(v.hasPrefix("sha256:"))
        #expect(v.count == 7 + 64)
        #expect(v.dropFirst(7).allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test(arguments: [
        (#"{"version":1,"domains":["a.example","b.example"],"countries":{"deny":["RU"],"allow":["DE"]}}"#,
         #"{"countries":{"allow":["DE"],"deny":["RU"]},"domains":["b.example","a.example"],"version":1}"#),
        (#"{"version":1}"#,
         #"{"version":1,"purposes":["authentication"],"domains":[],"countries":{"deny":[]},"enrollment":{"ticketTTL":"PT10M","allowReenrollment":false,"deleteUnauthorized":true},"minors":{"defaultAgeOfConsent":16,"guardianConsent":"required","requireAgeEvidence":false},"retention":{"maxSinceEnrollment":"P3Y","maxSinceLastInteraction":"P3Y","deleteAfterRevocation":"PT0S"},"sweep":{"interval":"PT1H"},"consent":{"affirmativeMethods":["signature","click","checkbox"],"maxAgeBeforeEnrollment":"PT15M"},"jurisdictions":{}}"#),
        (#"{"version":1,"domains":["Shop.Example.","shop.example"]}"#, #"{"version":1,"domains":["shop.example"]}"#),
        (#"{"version":1,"retention":{"maxSinceEnrollment":"P3Y0M"}}"#, #"{"version":1,"retention":{"maxSinceEnrollment":"P3Y"}}"#),
        (#"{"version":1,"contact":null,"domains":null}"#, #"{"version":1}"#),
    ])
    func versionStable(a: String, b: String) throws {
        let pa = try Policy.load(bytes: Array(a.utf8))
        let pb = try Policy.load(bytes: Array(b.utf8))
        #expect(pa.version == pb.version)
        #expect(pa.canonicalJSON == pb.canonicalJSON)
    }

    @Test(arguments: [
        #"{"version":1,"domains":["shop.example"]}"#,
        #"{"version":1,"retention":{"maxSinceEnrollment":"P2Y"}}"#,
        #"{"version":1,"retention":{"maxSinceEnrollment":"P36M"}}"#,
        #"{"version":1,"countries":{"allow":[]}}"#,
        #"{"version":1,"enrollment":{"allowReenrollment":true}}"#,
        #"{"version":1,"minors":{"defaultAgeOfConsent":17}}"#,
        #"{"version":1,"jurisdictions":{"US-IL":{}}}"#,
        #"{"version":1,"jurisdictions":{"US-IL":{"enabled":false}}}"#,
        #"{"version":1,"contact":{"email":"a@b.example"}}"#,
    ])
    func versionChangesWithAValue(text: String) throws {
        let p = try Policy.load(bytes: Array(text.utf8))
        #expect(p.version != Policy.builtInDefault.version)
    }

    @Test func canonicalFormReloadsToTheSameVersion() throws {
        let text = #"""
            {"version":1,"domains":["*.Shop.example","shop.example"],"countries":{"allow":["FR","DE"]},
             "consent":{"validFor":"P1Y"},"jurisdictions":{"US-IL":{"retention":{"maxSinceLastInteraction":"P1Y"}},"JP":{"minors":{"ageOfConsent":18}}},
             "contact":{"name":"DPO"}}
            """#
        let p = try Policy.load(bytes: Array(text.utf8))
        let again = try Policy.load(p.canonicalJSON)
        #expect(again.version == p.version)
        #expect(again.canonicalJSON == p.canonicalJSON)
        // Sorted keys at every level.
        guard case .object(let top) = p.canonicalJSON else {
            Issue.record("canonical form is not an object")
            return
        }
        #expect(top.keys == top.keys.sorted())
        #expect(p.canonicalJSON["domains"] == ["*.shop.example", "shop.example"])
        #expect(p.canonicalJSON["countries"]?["allow"] == ["DE", "FR"])
        #expect(p.canonicalJSON["contact"]?["email"] == .null)
    }
}
