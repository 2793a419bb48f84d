import FioguardJSON
import FioguardFaceIO
import FioguardMethods
import FioguardPolicy
import FioguardRPC
import FioguardServices
import FioguardStore
import FioguardTransport
public import Logging
import ServiceLifecycle

/// The daemon: opens the store, loads the policy, builds the method table and runs every
/// long-lived part (socket server, SIGHUP reloader, retention and held-enrollment schedulers,
/// deletion outbox) under one ServiceGroup with SIGTERM/SIGINT as graceful-shutdown signals
/// (STYLE.md §6).
public struct Application: Sendable {
    public static let version = "0.1.0"

    public let configuration: ServerConfiguration
    private let logger: Logger

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until SIGTERM/SIGINT, then drains in-flight requests, closes the database, removes
    /// the socket and returns.
    public func run() async throws {
        let source = PolicySource(path: configuration.policyPath)
        let policy: Policy
        do {
            policy = try source.load()
        } catch {
            throw StartupError(message: "policy: \(error.message)")
        }
        let database: Database
        do {
            try SocketPath.makeParentDirectory(of: configuration.databasePath, mode: 0o700)
            var dbConfig = DatabaseConfiguration(path: configuration.databasePath)
            dbConfig.readerCount = configuration.readerCount
            database = try Database(configuration: dbConfig, migrations: Schema.migrations, logger: logger)
        } catch {
            throw StartupError(message: "database \(configuration.databasePath): \(error)")
        }
        do {
            try await serve(database: database, policy: policy, source: source)
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        logger.info("stopped")
    }

    private func serve(database: Database, policy: Policy, source: PolicySource) async throws {
        let env = ServiceEnvironment(
            database: database, policy: PolicyHolder(policy), pseudonymizer: try await Pseudonymizer.load(from: database),
            logger: logger)
        let policyService = PolicyService(env)
        try await policyService.recordStartup(source: source.description)
        let reloader = PolicyReloader(source: source, service: policyService, logger: logger)
        let apiKeyConfigured = configuration.faceioAPIKey != nil
        var deps = MethodDependencies(
            env: env, startedAt: env.now(), version: Self.version, openRPC: try Self.openRPCDocument(),
            faceioConfigured: { apiKeyConfigured },
            reloadPolicy: { caller in try await reloader.reload(caller: caller) })
        deps.webhookToken = configuration.faceioWebhookToken
        var faceioConfig = FaceIOConfiguration()
        faceioConfig.baseURL = configuration.faceioURL
        faceioConfig.apiKey = configuration.faceioAPIKey
        faceioConfig.backoffBaseSeconds = configuration.faceioRetryBaseSeconds
        faceioConfig.backoffCapSeconds = configuration.faceioRetryCapSeconds
        faceioConfig.maxConcurrentCalls = configuration.faceioMaxConcurrentCalls
        faceioConfig.requestTimeoutSeconds = configuration.faceioRequestTimeoutSeconds
        faceioConfig.callsPerSecond = configuration.faceioCallsPerSecond
        let faceio = FaceIOClient(configuration: faceioConfig, logger: logger)
        defer { Task { await faceio.shutdown() } }
        let outbox = DeletionOutbox(env: env, client: faceio, logger: logger)
        var rpcConfig = RPCConfiguration()
        rpcConfig.adminUIDs = configuration.adminUIDs
        let dispatcher = RPCDispatcher(table: MethodCatalog.table(deps), configuration: rpcConfig, logger: logger)
        let server = UnixSocketServer(
            configuration: configuration.transport, handler: RPCFrameHandler(dispatcher: dispatcher), logger: logger)

        if !apiKeyConfigured {
            logger.warning("no FACEIO API key configured: deletions will wait in the outbox")
        }
        logger.info(
            "starting", metadata: ["version": "\(Self.version)", "policy": "\(source.description)", "policyVersion": "\(policy.version)"])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let parent = configuration.exitWithParent {
            // Returning means the parent is gone: shut the whole group down gracefully.
            services.append(
                .init(
                    service: ParentWatchService(parent: parent, logger: logger),
                    successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "parent-watch"))
        }
        var groupConfig = ServiceGroupConfiguration(
                services: services + [
                    // Named explicitly: the default name is the service's description, which would
                    // dump its configuration (keys included) into the log.
                    .init(
                        service: RetentionScheduler(retention: RetentionService(env), policy: env.policy, logger: logger),
                        serviceName: "retention-scheduler"),
                    .init(
                        service: HeldEnrollmentScheduler(
                            webhooks: WebhookService(env, token: configuration.faceioWebhookToken), policy: env.policy, logger: logger),
                        serviceName: "held-enrollments"),
                    .init(service: OutboxService(outbox: outbox), serviceName: "deletion-outbox"),
                    .init(service: PolicyReloadService(reloader: reloader, logger: logger), serviceName: "policy-reloader"),
                    .init(service: SocketService(server: server), serviceName: "socket-server"),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
        // A peer that never reads its answers must not hold the shutdown hostage.
        groupConfig.maximumGracefulShutdownDuration = .seconds(30)
        try await ServiceGroup(configuration: groupConfig).run()
    }

    /// `proto-docs/openrpc.json`, embedded at build time.
    static func openRPCDocument() throws -> JSON {
        do {
            return try JSON.parse(PackageResources.openrpc_json, maxDepth: 256)
        } catch {
            throw StartupError(message: "embedded openrpc.json is invalid: \(error)")
        }
    }
}

/// The daemon could not start; the message says what to fix.
public struct StartupError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
