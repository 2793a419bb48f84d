import FioguardJSON
import FioguardRPC
import FioguardServices

/// `subject.erase`.
enum SubjectMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let subjects = SubjectService(deps.env)
        return [
            .named("subject.erase") { p, caller, _ in
                let subject = try p.subject()
                try p.confirmation()
                try p.finish()
                return try await subjects.erase(subject: subject, caller: caller).json
            }
        ]
    }
}
