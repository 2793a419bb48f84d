import FioguardJSON
import FioguardRPC
import FioguardServices

/// `webhook.ingest`: the backend forwards FACEIO's webhook request (headers and raw body).
enum WebhookMethods {
    static func all(_ deps: MethodDependencies) -> [RPCMethod] {
        let webhooks = WebhookService(deps.env, token: deps.webhookToken)
        return [
            .named("webhook.ingest") { p, _, _ in
                let headers = try p.object("headers")
                var pairs: [(String, String)] = []
                for m in headers.object {
                    guard let v = try headers.optionalString(m.key, maxLength: 64 * 1024) else {
                        throw headers.fail(m.key, "expected string, got null")
                    }
                    pairs.append((m.key, v))
                }
                let body = try p.string("body", maxLength: 64 * 1024)
                try p.finish()
                return try await webhooks.ingest(headers: pairs, body: body).json
            }
        ]
    }
}
