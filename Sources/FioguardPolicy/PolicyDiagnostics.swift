/// Collects every problem of a policy file instead of stopping at the first, so
/// `fioguard policy check` can list them all.
final class PolicyDiagnostics {
    var errors: [PolicyError] = []
    func add(_ path: String, _ message: String) { errors.append(PolicyError(path: path, message: message)) }
}
