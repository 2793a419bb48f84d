public import FioguardJSON

/// A JSON-RPC 2.0 error object: code, message, optional data. Standard codes have constructors;
/// domain errors always carry `data.reason` (STYLE.md §4: errors as structs with stable codes).
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    public let message: String
    public let data: JSON?

    public init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "\(code) \(message)" }

    /// `data.reason` when present.
    public var reason: String? { data?["reason"]?.stringValue }

    public var json: JSON {
        var o = JSONObject([("code", .int(code)), ("message", .string(message))])
        if let data { o["data"] = data }
        return .object(o)
    }

    // MARK: the specification's codes

    public static func parseError(_ detail: String) -> RPCError {
        RPCError(code: -32700, message: "Parse error: \(detail)", data: ["reason": "PARSE_ERROR"])
    }

    public static func invalidRequest(_ detail: String) -> RPCError {
        RPCError(code: -32600, message: "Invalid Request: \(detail)", data: ["reason": "INVALID_REQUEST"])
    }

    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(
            code: -32601, message: "Method not found: \(method)",
            data: ["reason": "METHOD_NOT_FOUND", "method": .string(method)])
    }

    public static func invalidParams(_ error: JSONDecodingError) -> RPCError {
        RPCError(
            code: -32602, message: "Invalid params: \(error.description)",
            data: ["reason": "INVALID_PARAMS", "field": .string(error.path)])
    }

    public static func invalidParams(field: String, _ problem: String) -> RPCError {
        invalidParams(JSONDecodingError(path: field, problem: problem))
    }

    /// The message is deliberately generic: internal details go to the log, not the caller, and
    /// the message says so.
    public static func internalError(_ detail: String = "the details are in fioguard's log") -> RPCError {
        RPCError(code: -32603, message: "Internal error: \(detail)", data: ["reason": "INTERNAL"])
    }

    // MARK: domain errors

    public static func domain(_ reason: ErrorReason, _ message: String, _ extra: [(String, JSON)] = []) -> RPCError {
        var data = JSONObject([("reason", .string(reason.name))])
        for (k, v) in extra { data[k] = v }
        return RPCError(code: reason.code, message: message, data: .object(data))
    }
}
