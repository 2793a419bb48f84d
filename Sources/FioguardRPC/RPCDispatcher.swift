public import FioguardJSON
public import Logging

/// Limits the RPC layer enforces on what a line may ask for. Every field has a default.
public struct RPCConfiguration: Sendable {
    /// Elements allowed in one batch.
    public var maxBatchSize: Int = 1000
    /// Bytes of answers one batch may gather. Once its answers reach this, its remaining calls
    /// are not executed and each answers `RATE_LIMITED` (notifications are not executed either):
    /// a batch of large queries must not make the daemon hold gigabytes for one line. A single
    /// call's answer is not limited.
    public var maxBatchAnswerBytes: Int = 16 << 20
    /// Nesting allowed in one message.
    public var maxDepth: Int = JSON.defaultMaxDepth
    /// When set, methods marked `requiresAdmin` answer `FORBIDDEN` to any other uid.
    public var adminUIDs: Set<UInt32>? = nil

    public init() {}
}

/// JSON-RPC 2.0 over already-framed lines: parse, validate, batch, dispatch, encode errors.
///
/// It knows nothing of sockets: the transport hands it one line and writes back what it returns.
/// Notifications are executed but never answered, even when they fail; an all-notification batch
/// is answered with nothing.
public struct RPCDispatcher: Sendable {
    public let table: MethodTable
    public let configuration: RPCConfiguration
    private let logger: Logger

    public init(table: MethodTable, configuration: RPCConfiguration = RPCConfiguration(), logger: Logger) {
        self.table = table
        self.configuration = configuration
        self.logger = logger
    }

    /// Parses one line. Kept apart from `handle` so the transport can parse straight from its buffer.
    /// A `\u0000` in a string is valid JSON: the request keeps its id, and a param holding one is
    /// refused by name (`ObjectReader`).
    public func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSON, JSONParseError> {
        do throws(JSONParseError) {
            return .success(try JSON.parse(bytes, maxDepth: configuration.maxDepth, allowNUL: true))
        } catch {
            return .failure(error)
        }
    }

    /// The response to one line, or `nil` when nothing is to be sent.
    public func handle(_ parsed: Result<JSON, JSONParseError>, peer: PeerIdentity, connectionID: UInt64) async -> JSON? {
        let message: JSON
        switch parsed {
        case .failure(let e):
            return Self.errorResponse(id: .null, e.kind == .tooDeep ? .invalidRequest(e.message) : .parseError(e.message))
        case .success(let m):
            message = m
        }
        guard case .array(let elements) = message else {
            return await handleOne(message, peer: peer, connectionID: connectionID)
        }
        guard !elements.isEmpty else {
            return Self.errorResponse(id: .null, .invalidRequest("empty batch"))
        }
        guard elements.count <= configuration.maxBatchSize else {
            return Self.errorResponse(
                id: .null, .invalidRequest("batch of \(elements.count) exceeds \(configuration.maxBatchSize) elements"))
        }
        // Each element is validated, authorized, executed and audited as if sent alone, in order.
        // Each answer is encoded as soon as it is made, so its size counts against the limit.
        var answers: [[UInt8]] = []
        var bytes = 0
        for element in elements {
            // Past the limit a call is still checked (a malformed one gets its usual error) but not
            // executed. Nor is a notification: running it while the calls before it were refused
            // would change the order the caller meant. Like any failed notification, it is not answered.
            let refusal: RPCError? =
                bytes < configuration.maxBatchAnswerBytes ? nil
                : .domain(
                    .rateLimited,
                    "this batch's answers reached \(configuration.maxBatchAnswerBytes) bytes: the call was not executed; send it again",
                    [("notExecuted", true)])
            if let r = await handleOne(element, peer: peer, connectionID: connectionID, refusal: refusal) {
                let encoded = r.encoded()
                bytes += encoded.count
                answers.append(encoded)
            }
        }
        return answers.isEmpty ? nil : .encoded(EncodedJSON(arrayOfEncoded: answers))
    }

    /// The error line for a frame over the size limit (the transport discards the frame itself).
    public static func oversizeResponse(limit: Int) -> JSON {
        errorResponse(id: .null, .invalidRequest("message exceeds the frame limit of \(limit) bytes"))
    }

    public static func errorResponse(id: JSON, _ error: RPCError) -> JSON {
        ["jsonrpc": "2.0", "error": error.json, "id": id]
    }

    /// Encoded here, between the envelope's fixed bytes (`JSONTemplate`), so the envelope is not
    /// encoded again for every answer.
    public static func resultResponse(id: JSON, _ result: JSON) -> JSON {
        .encoded(resultEnvelope.filled(result, id))
    }

    private static let resultEnvelope = JSONTemplate(["jsonrpc": "2.0", "result": JSONTemplate.hole, "id": JSONTemplate.hole])

    // MARK: one request

    /// With a `refusal`, a valid call is answered with it (a notification: not answered) instead of
    /// being executed.
    private func handleOne(_ message: JSON, peer: PeerIdentity, connectionID: UInt64, refusal: RPCError? = nil) async -> JSON? {
        guard case .object(let request) = message else {
            return Self.errorResponse(id: .null, .invalidRequest("expected a request object, got \(message.kindName)"))
        }
        // A request object without an `id` member is a notification: it is never answered.
        let id: JSON? = request["id"]
        let isNotification = id == nil
        if let id {
            switch id {
            case .string, .int, .double, .null: break
            default:
                return Self.errorResponse(id: .null, .invalidRequest("id: expected string, number or null"))
            }
        }
        let call: (method: RPCMethod, params: JSON?)
        switch validate(request) {
        case .failure(let error) where error.code == -32600:
            // Not a well-formed request at all, so not a notification either: always answered (§6).
            return Self.errorResponse(id: id ?? .null, error)
        case .failure(let error):
            if isNotification {
                logger.debug("invalid notification dropped", metadata: ["error.code": "\(error.code)"])
                return nil
            }
            return Self.errorResponse(id: id ?? .null, error)
        case .success(let c):
            call = c
        }

        let context = RPCContext(peer: peer, connectionID: connectionID, method: call.method.name, logger: logger)

        let outcome: Result<JSON, RPCError>
        if let refusal {
            if isNotification {
                // Nobody will hear of it otherwise: the notification gets no answer.
                logger.warning(
                    "a notification past the batch's answer limit was not executed",
                    metadata: ["rpc.method": "\(call.method.name)", "connection": "\(connectionID)"])
            }
            outcome = .failure(refusal)
        } else if call.method.requiresAdmin, let admins = configuration.adminUIDs, !(peer.uid.map(admins.contains) ?? false) {
            outcome = .failure(.domain(.forbidden, "method \(call.method.name) is reserved to administrators"))
        } else {
            outcome = await execute(call.method, params: call.params, context: context)
        }
        switch outcome {
        case .success(let result):
            if context.logs(at: .debug) { context.logger.debug("call ok") }
            return isNotification ? nil : Self.resultResponse(id: id ?? .null, result)
        case .failure(let error):
            if context.logs(at: .debug) { context.logger.debug("call failed", metadata: ["error.code": "\(error.code)", "error.reason": "\(error.reason ?? "-")"]) }
            return isNotification ? nil : Self.errorResponse(id: id ?? .null, error)
        }
    }

    private func validate(_ request: JSONObject) -> Result<(method: RPCMethod, params: JSON?), RPCError> {
        for key in request.keys where !["jsonrpc", "method", "params", "id"].contains(key) {
            return .failure(.invalidRequest("unknown member \(key)"))
        }
        guard request["jsonrpc"] == .string("2.0") else {
            return .failure(.invalidRequest("jsonrpc: must be \"2.0\""))
        }
        guard let methodValue = request["method"] else {
            return .failure(.invalidRequest("method: is required"))
        }
        guard case .string(let name) = methodValue else {
            return .failure(.invalidRequest("method: expected string, got \(methodValue.kindName)"))
        }
        let params = request["params"]
        switch params {
        case nil, .object?: break
        case .array?:
            return .failure(.invalidParams(field: "params", "positional params are not supported; use named params (an object)"))
        case let other?:
            return .failure(.invalidRequest("params: expected object, got \(other.kindName)"))
        }
        guard let method = table[name] else {
            return .failure(.methodNotFound(String(name.unicodeScalars.prefix(128))))
        }
        return .success((method, params))
    }

    private func execute(_ method: RPCMethod, params: JSON?, context: RPCContext) async -> Result<JSON, RPCError> {
        do {
            return .success(try await method.handler(params, context))
        } catch let e as RPCError {
            return .failure(e)
        } catch let e as JSONDecodingError {
            return .failure(.invalidParams(e))
        } catch {
            // Internal details are logged (they never contain subjects or keys), not returned.
            context.logger.error("method failed", metadata: ["error": "\(String(describing: error))"])
            return .failure(.internalError())
        }
    }
}
