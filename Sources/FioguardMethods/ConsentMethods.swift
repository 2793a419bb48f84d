import FioguardJSON
import FioguardPolicy
import FioguardRPC
import FioguardServices

/// `consent.record`, `consent.revoke`, `consent.status`.
enum ConsentMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let consents = ConsentService(deps.env)
        return [
            .named("consent.record") { p, caller, _ in
                let country = try p.country()
                var guardian: GuardianFacts?
                if let g = try p.optionalObject("guardian") {
                    guardian = GuardianFacts(
                        relationship: try g.text("relationship", maxLength: 64),
                        verificationMethod: try g.text("verificationMethod", maxLength: 64),
                        reference: try g.optionalText("reference", maxLength: 256))
                    try g.finish()
                }
                let age = try p.optionalInt("age", range: 0...150).map(Int.init)
                let birthDate = try p.optionalString("birthDate", maxLength: 10)
                if age != nil && birthDate != nil {
                    throw RPCError.invalidParams(field: "params.birthDate", "give age or birthDate, not both")
                }
                let request = ConsentRequest(
                    subject: try p.subject(),
                    purposes: Array(Deduplicated.unique(try p.stringArray("purposes", maxCount: 16, maxLength: 64))),
                    noticeVersion: try p.text("noticeVersion", maxLength: 128),
                    collectionMethod: try p.text("collectionMethod", maxLength: 32),
                    domain: try p.domain(),
                    country: country,
                    region: try p.optionalRegion(country: country),
                    locale: try p.optionalLocale(),
                    age: age,
                    birthDate: birthDate,
                    guardian: guardian,
                    idempotencyKey: try p.optionalText("idempotencyKey", maxLength: 128))
                try p.finish()
                return try await consents.record(request, caller: caller).json
            },
            .named("consent.revoke") { p, caller, _ in
                let subject = try p.subject()
                let purposes = try p.optionalStringArray("purposes", maxCount: 16, maxLength: 64, nonEmpty: true)
                let reason = try p.optionalText("reason", maxLength: 256)
                try p.finish()
                return try await consents.revoke(subject: subject, purposes: purposes, reason: reason, caller: caller).json
            },
            .named("consent.status") { p, _, _ in
                let subject = try p.subject()
                try p.finish()
                return try await consents.status(subject: subject)
            },
        ]
    }
}

/// Order-preserving de-duplication.
enum Deduplicated {
    static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
