import FioguardJSON
import FioguardPolicy
import FioguardRPC
import FioguardServices

/// `audit.verify`, `audit.query`.
enum AuditMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let env = deps.env
        return [
            .named("audit.verify") { p, _, _ in
                try p.finish()
                return try await AuditTrail.verify(env.database).json
            },
            .named("audit.query") { p, _, _ in
                let subject = try p.optionalSubject()
                var since: Int64?
                if let text = try p.optionalString("since", maxLength: 40) {
                    guard let t = Timestamp(rfc3339: text) else { throw p.fail("since", "expected an RFC 3339 time") }
                    since = t.secondsSinceEpoch
                }
                let limit = try p.optionalInt("limit", range: 1...10_000) ?? 100
                try p.finish()
                let entries = try await AuditTrail.query(
                    env.database, subject: subject.map { ($0, env.pseudonymizer.subject($0)) }, since: since, limit: Int(limit))
                return ["entries": entries]
            },
        ]
    }
}
