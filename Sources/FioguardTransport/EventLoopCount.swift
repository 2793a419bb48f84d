import NIOCore

/// How many event loops run the daemon's socket I/O.
///
/// NIO's shared group defaults to one loop per core. fioguard's loops only read lines and write
/// answers; parsing, the methods and SQLite run on Swift's pool and the store's threads, and the
/// web backend it sits next to wants cores of its own. With the load generator on the same two
/// cores, one loop instead of two served `facialId.show` about 10% faster in alternating bench
/// runs, with lower CPU per call, and was no slower for `ping`, `consent.record` or the whole
/// flow (README, "Performance"). So the default is half the cores, at least one.
public enum EventLoopCount {
    /// NIO's own setting for the shared group's size, honoured when no count is given.
    public static let environmentVariable = "NIO_SINGLETON_GROUP_LOOP_COUNT"

    /// `cores`: nil for this machine's (NIO's count, which respects a cgroup CPU quota).
    public static func defaultCount(cores: Int? = nil) -> Int {
        max(1, (cores ?? System.coreCount) / 2)
    }

    /// The count to use: `requested` if given, else NIO's environment variable if it holds a
    /// number (its value is `environmentValue`), else `defaultCount`. Nil when NIO's variable
    /// decides (NIO reads it itself and keeps it within 1...1024); one that is not a number, which
    /// NIO would ignore for a loop per core, does not undo the default.
    public static func resolve(requested: Int?, environmentValue: String?, cores: Int? = nil) -> Int? {
        if let requested { return requested }
        if environmentValue.flatMap({ Int($0) }) != nil { return nil }
        return defaultCount(cores: cores)
    }

    /// Sizes NIO's shared event loop group, and returns its size. Call once per process, before
    /// anything uses NIO's shared group (NIO traps on a second setting).
    @discardableResult
    public static func configure(requested: Int?, environmentValue: String?) -> Int {
        if let count = resolve(requested: requested, environmentValue: environmentValue) {
            NIOSingletons.groupLoopCountSuggestion = count
        }
        return NIOSingletons.groupLoopCountSuggestion
    }
}
