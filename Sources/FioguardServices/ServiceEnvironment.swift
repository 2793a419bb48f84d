public import FioguardPolicy
public import FioguardStore
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What every service works with. Time comes from `now` (tests may shift it); nothing here reads
/// the clock behind the policy engine's back.
public struct ServiceEnvironment: Sendable {
    public let database: Database
    public let policy: PolicyHolder
    public let pseudonymizer: Pseudonymizer
    public let now: @Sendable () -> Timestamp
    public let logger: Logger

    public init(
        database: Database, policy: PolicyHolder, pseudonymizer: Pseudonymizer,
        now: @escaping @Sendable () -> Timestamp = WallClock.now, logger: Logger
    ) {
        self.database = database
        self.policy = policy
        self.pseudonymizer = pseudonymizer
        self.now = now
        self.logger = logger
    }
}

/// The system clock, read in one place.
public enum WallClock {
    @Sendable public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(secondsSinceEpoch: Int64(ts.tv_sec))
    }
}
