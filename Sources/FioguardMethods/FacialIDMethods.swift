import FioguardJSON
import FioguardRPC
import FioguardServices

/// `facialId.show`, `facialId.touch`, `facialId.delete`.
enum FacialIDMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let facialIDs = FacialIDService(deps.env)
        return [
            .named("facialId.show") { p, _, _ in
                let subject = try p.subject()
                try p.finish()
                return try await facialIDs.show(subject: subject)
            },
            .named("facialId.touch") { p, caller, _ in
                let subject = try p.optionalSubject()
                let facialID = try p.optionalFacialID()
                try p.finish()
                guard subject != nil || facialID != nil else {
                    throw RPCError.invalidParams(field: "params.subject", "is required (or give facialId)")
                }
                return try await facialIDs.touch(subject: subject, facialID: facialID, caller: caller)
            },
            .named("facialId.delete") { p, caller, _ in
                let subject = try p.subject()
                let facialID = try p.optionalFacialID()
                let reason = try p.optionalText("reason", maxLength: 256)
                try p.confirmation()
                try p.finish()
                let deletions = try await facialIDs.delete(subject: subject, facialID: facialID, reason: reason, caller: caller)
                return ["deletions": .array(deletions.map(\.json))]
            },
        ]
    }
}
