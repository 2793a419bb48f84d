import FioguardJSON
import FioguardRPC
import FioguardServices

/// `policy.disclosure`, `policy.reload`.
enum PolicyMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let policy = PolicyService(deps.env)
        return [
            .named("policy.disclosure") { p, _, _ in
                let country = try p.optionalCountry()
                let region = try p.optionalRegion(country: country)
                let locale = try p.optionalLocale()
                try p.finish()
                if region != nil && country == nil {
                    throw RPCError.invalidParams(field: "params.country", "is required when region is given")
                }
                return policy.disclosure(country: country, region: region, locale: locale)
            },
            .named("policy.reload") { p, caller, _ in
                try p.finish()
                return ["policyVersion": .string(try await deps.reloadPolicy(caller))]
            },
        ]
    }
}
