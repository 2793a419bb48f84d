import FioguardPolicy
import FioguardServices
import FioguardStore
import Logging

/// The services' environment as the server builds it, in-process, for tests that need a part of
/// the daemon without the binary: the real schema in `path`, `policy` (the built-in one unless
/// given), a quiet logger. The caller closes the database.
func openServiceEnvironment(at path: String, policy: Policy = .builtInDefault) async throws -> (database: Database, env: ServiceEnvironment) {
    let logger = Logger(label: "fioguard.in-process.tests") { _ in SwiftLogNoOpLogHandler() }
    let database = try Database(configuration: DatabaseConfiguration(path: path), migrations: Schema.migrations, logger: logger)
    let env = ServiceEnvironment(
        database: database, policy: PolicyHolder(policy), pseudonymizer: try await Pseudonymizer.load(from: database),
        logger: logger)
    return (database, env)
}
