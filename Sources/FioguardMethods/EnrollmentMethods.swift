import FioguardJSON
import FioguardRPC
import FioguardServices

/// `enroll.authorize`, `enroll.complete`.
enum EnrollmentMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let enrollment = EnrollmentService(deps.env)
        return [
            .named("enroll.authorize") { p, caller, _ in
                let country = try p.country()
                let request = EnrollmentService.AuthorizeRequest(
                    subject: try p.subject(), domain: try p.domain(), country: country,
                    region: try p.optionalRegion(country: country),
                    trigger: try p.text("trigger", maxLength: 32))
                try p.finish()
                return try await enrollment.authorize(request, caller: caller)
            },
            .named("enroll.complete") { p, caller, _ in
                let ticket = try p.text("ticket", maxLength: 128)
                let facialID = try p.facialID()
                try p.finish()
                return try await enrollment.complete(ticket: ticket, facialID: facialID, caller: caller)
            },
        ]
    }
}
