public import FioguardJSON

extension Policy {
    /// Strict validation of a policy document (POLICY.md, schema version 1). Unknown keys, wrong
    /// types, bad codes and durations are rejected naming the field path; omitted keys take the
    /// strict defaults. Throws the first problem; `validate(_:)` lists them all.
    public static func load(_ json: JSON) throws(PolicyError) -> Policy {
        let (policy, errors) = read(json)
        if let first = errors.first { throw first }
        return policy
    }

    /// Parses (duplicate keys, bad UTF-8 and deep nesting are rejected) and loads.
    public static func load(bytes: [UInt8]) throws(PolicyError) -> Policy {
        let (policy, errors) = read(bytes: bytes)
        if let first = errors.first { throw first }
        return policy
    }

    /// Every problem of a policy file, in document order; empty when it is valid.
    public static func validate(bytes: [UInt8]) -> [PolicyError] {
        read(bytes: bytes).errors
    }

    static func read(bytes: [UInt8]) -> (policy: Policy, errors: [PolicyError]) {
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            return (.builtInDefault, [PolicyError(path: "policy", message: "not valid JSON: \(error.message)")])
        }
        return read(json)
    }

    // The top-level keys and the keys of each section, for unknown-key checks.
    static let topKeys = [
        "version", "purposes", "domains", "countries", "consent", "enrollment", "minors", "retention",
        "jurisdictions", "sweep", "contact", "purposeDescriptions",
    ]

    static func read(_ json: JSON) -> (policy: Policy, errors: [PolicyError]) {
        let diag = PolicyDiagnostics()
        var p = Policy()
        guard let r = PolicyReader(json, path: "policy", diag: diag) else { return (p, diag.errors) }
        r.rejectUnknown(topKeys)

        if let v = r.raw("version") {
            if v != .int(1) { diag.add(r.at("version"), "unsupported policy schema version \(v): must be 1") }
        } else {
            diag.add(r.at("version"), "is required (must be 1)")
        }

        if let purposes = r.array("purposes", maxCount: 64, nonEmpty: true, purposeName) {
            if purposes.contains("authentication") {
                p.purposes = purposes
            } else {
                diag.add(r.at("purposes"), "must include \"authentication\" (face login's own purpose)")
            }
        }

        if let domains = r.array("domains", maxCount: 1024, DomainPattern.parse) { p.domains = domains }

        if let c = r.object("countries") {
            c.rejectUnknown(["allow", "deny"])
            p.allowedCountries = c.array("allow", countryCode)
            if let deny = c.array("deny", countryCode) { p.deniedCountries = deny }
        }

        if let c = r.object("consent") {
            c.rejectUnknown(["affirmativeMethods", "maxAgeBeforeEnrollment", "validFor"])
            if let m = c.array("affirmativeMethods", maxCount: 8, nonEmpty: true, collectionMethod) {
                p.affirmativeMethods = m
            }
            if let d = c.duration("maxAgeBeforeEnrollment", min: 1, max: 366 * 86_400, boundsText: "must be more than zero and at most one year") {
                p.maxAgeBeforeEnrollment = d
            }
            p.consentValidFor = c.duration("validFor", min: 1, boundsText: "must be more than zero")
        }

        if let e = r.object("enrollment") {
            e.rejectUnknown(["ticketTTL", "allowReenrollment", "deleteUnauthorized"])
            if let d = e.duration("ticketTTL", min: 1, max: 86_400, boundsText: "must be more than zero and at most one day (PT24H)") {
                p.ticketTTL = d
            }
            if let b = e.bool("allowReenrollment") { p.allowReenrollment = b }
            if let b = e.bool("deleteUnauthorized") { p.deleteUnauthorizedEnrollments = b }
        }

        if let m = r.object("minors") {
            m.rejectUnknown(["defaultAgeOfConsent", "guardianConsent", "requireAgeEvidence"])
            if let a = m.int("defaultAgeOfConsent", range: 0...21) { p.defaultAgeOfConsent = a }
            if let g = guardianRule(m, "guardianConsent") { p.guardianConsent = g }
            if let b = m.bool("requireAgeEvidence") { p.requireAgeEvidence = b }
        }

        if let t = r.object("retention") {
            t.rejectUnknown(["maxSinceEnrollment", "maxSinceLastInteraction", "deleteAfterRevocation"])
            if let d = t.duration("maxSinceEnrollment", min: 1, boundsText: "must be more than zero") { p.maxSinceEnrollment = d }
            if let d = t.duration("maxSinceLastInteraction", min: 1, boundsText: "must be more than zero") {
                p.maxSinceLastInteraction = d
            }
            if let d = t.duration("deleteAfterRevocation") { p.deleteAfterRevocation = d }
        }

        if let j = r.object("jurisdictions") {
            for member in j.object.members {
                let path = j.at(member.key)
                guard Jurisdiction.isCountryCode(member.key) || Jurisdiction.isRegionCode(member.key) else {
                    diag.add(path, "not a jurisdiction code: use ISO 3166-1 alpha-2 (\"DE\"), ISO 3166-2 (\"US-IL\") or \"EU\"")
                    continue
                }
                if member.value.isNull { continue }
                if let o = readOverride(code: member.key, j.object(member.key)) { p.overrides.append(o) }
            }
        }

        if let s = r.object("sweep") {
            s.rejectUnknown(["interval"])
            if let d = s.duration("interval", min: 1, max: 86_400, boundsText: "must be between PT1S and P1D") {
                p.sweepInterval = d
            }
        }

        if let d = r.object("purposeDescriptions") {
            for key in d.object.members.map(\.key) {
                guard p.purposes.contains(key) else {
                    diag.add(d.at(key), "is not one of purposes")
                    continue
                }
                if let text = d.text(key, maxLength: 2000) { p.purposeDescriptions[key] = text }
            }
        }

        if let c = r.object("contact") {
            c.rejectUnknown(["name", "email", "url"])
            let contact = PolicyContact(name: c.text("name"), email: c.text("email"), url: c.text("url", maxLength: 2048))
            if contact.name == nil && contact.email == nil && contact.url == nil {
                if c.object.count == 0 { diag.add(c.path, "needs at least one of name, email, url") }
            } else {
                p.contact = contact
            }
        }

        p.seal()
        return (p, diag.errors)
    }

    private static func readOverride(code: String, _ r: PolicyReader?) -> JurisdictionOverride? {
        guard let r else { return nil }
        r.rejectUnknown(["enabled", "effectiveFrom", "name", "citation", "minors", "consent", "retention"])
        var o = JurisdictionOverride(code: code)
        o.enabled = r.bool("enabled")
        if let s = r.text("effectiveFrom", maxLength: 10) {
            if let d = CivilDate(iso: s) { o.effectiveFrom = d } else { r.diag.add(r.at("effectiveFrom"), "not a date YYYY-MM-DD") }
        }
        o.name = r.text("name")
        o.citation = r.text("citation", maxLength: 1024)
        if let m = r.object("minors") {
            m.rejectUnknown(["ageOfConsent", "guardianConsent", "requireAgeEvidence"])
            o.ageOfConsent = m.int("ageOfConsent", range: 0...21)
            o.guardianConsent = guardianRule(m, "guardianConsent")
            o.requireAgeEvidence = m.bool("requireAgeEvidence")
        }
        if let c = r.object("consent") {
            c.rejectUnknown(["affirmativeMethods", "maxAgeBeforeEnrollment", "validFor"])
            o.affirmativeMethods = c.array("affirmativeMethods", maxCount: 8, nonEmpty: true, collectionMethod)
                .map { Array(Set($0)).sorted() }
            o.maxAgeBeforeEnrollment = c.duration(
                "maxAgeBeforeEnrollment", min: 1, max: 366 * 86_400, boundsText: "must be more than zero and at most one year")
            o.validFor = c.duration("validFor", min: 1, boundsText: "must be more than zero")
        }
        if let t = r.object("retention") {
            t.rejectUnknown(["maxSinceEnrollment", "maxSinceLastInteraction", "deleteAfterRevocation"])
            o.maxSinceEnrollment = t.duration("maxSinceEnrollment", min: 1, boundsText: "must be more than zero")
            o.maxSinceLastInteraction = t.duration("maxSinceLastInteraction", min: 1, boundsText: "must be more than zero")
            o.deleteAfterRevocation = t.duration("deleteAfterRevocation")
        }
        return o
    }

    private static func guardianRule(_ r: PolicyReader, _ key: String) -> GuardianRule? {
        guard let s = r.text(key, maxLength: 32) else { return nil }
        guard let g = GuardianRule(rawValue: s) else {
            r.diag.add(r.at(key), "expected one of \(GuardianRule.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return g
    }

    static func countryCode(_ s: String) -> Result<String, PolicyError> {
        Jurisdiction.isCountryCode(s)
            ? .success(s) : .failure(PolicyError(path: "", message: "not an ISO 3166-1 alpha-2 code"))
    }

    static func collectionMethod(_ s: String) -> Result<String, PolicyError> {
        knownCollectionMethods.contains(s)
            ? .success(s)
            : .failure(
                PolicyError(
                    path: "",
                    message: "not an affirmative collection method: expected one of \(knownCollectionMethods.joined(separator: ", "))"))
    }

    /// Lower-case identifiers such as `authentication` or `fraud-prevention`.
    static func purposeName(_ s: String) -> Result<String, PolicyError> {
        let u = Array(s.utf8)
        let ok =
            (1...64).contains(u.count) && (u[0] >= 0x61 && u[0] <= 0x7A)
            && u.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
        return ok
            ? .success(s)
            : .failure(PolicyError(path: "", message: "a purpose is a lower-case identifier (letters, digits, '-', '_', '.'; 1–64 characters)"))
    }
}
