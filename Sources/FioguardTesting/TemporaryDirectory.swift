import Foundation

/// A fresh directory under /tmp with a short path (Unix socket paths are limited to ~107 bytes),
/// removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "fg") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw TestSupportError("mkdtemp failed") }
        path = String(cString: p)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func write(_ name: String, _ text: String) throws {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
    }

    public func read(_ name: String) -> String {
        (try? String(contentsOfFile: file(name), encoding: .utf8)) ?? ""
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A test helper failed to set something up.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Runs `body`, throwing when it does not finish within `timeout` (the body is cancelled then, so
/// it must await something cancellable: a socket read, `Task.sleep`).
public func withTimeout<T: Sendable>(
    _ timeout: Duration, _ what: String = "operation", _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: Optional<T>.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TestSupportError("\(what) did not finish within \(timeout)")
        }
        return value
    }
}

/// Polls `body` until it returns a value, or returns nil after `timeout`. (For `JSON`, return
/// `.none` for "not yet": `.null` is a value.)
public func eventually<T>(
    timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(100), _ body: () async throws -> T?
) async throws -> T? {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let v = try await body() { return v }
        if ContinuousClock.now >= deadline { return nil }
        try await Task.sleep(for: interval)
    }
}
