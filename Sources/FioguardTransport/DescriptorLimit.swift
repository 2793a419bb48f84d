#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging

/// The open-file limit against `--max-connections`: every connection is a descriptor, and
/// once the process runs out, accepting fails and clients wait in the listen backlog instead of
/// being answered `UNAVAILABLE` at the limit. Many systems start services with a soft limit of
/// 1,024, the default connection limit, while the hard limit is far higher; the soft limit is
/// raised as far as needed (a process may do that up to its hard limit), and a hard limit too
/// low is reported.
public enum DescriptorLimit {
    /// Descriptors the daemon needs besides its connections: the database and its WAL files on
    /// every store thread, event loops, FACEIO's HTTP connections, the log.
    public static let reserve = 256

    /// What to do about limits `soft` and `hard` for `connections` connections: the soft limit to
    /// set (nil: leave it), and whether even the hard limit falls short.
    public static func plan(soft: UInt64, hard: UInt64, connections: Int) -> (raiseTo: UInt64?, shortBy: UInt64?) {
        let needed = UInt64(max(0, connections)) + UInt64(reserve)
        guard soft < needed else { return (nil, nil) }
        let target = min(needed, hard)
        return (target > soft ? target : nil, hard < needed ? needed - hard : nil)
    }

    /// Applies `plan` to this process. Logs what it did, and a warning when the hard limit is too low.
    public static func ensure(connections: Int, logger: Logger) {
        #if canImport(Glibc)
        let resource = Int32(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return }
        let (raiseTo, shortBy) = plan(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max), connections: connections)
        if let raiseTo {
            let old = limit.rlim_cur
            limit.rlim_cur = rlim_t(raiseTo)
            if setrlimit(resource, &limit) == 0 {
                logger.info("raised the open-file limit", metadata: ["from": "\(old)", "to": "\(raiseTo)"])
            } else {
                logger.warning(
                    "could not raise the open-file limit; connections past it wait unanswered",
                    metadata: ["limit": "\(old)", "wanted": "\(raiseTo)", "errno": "\(errno)"])
                limit.rlim_cur = old
            }
        }
        if let shortBy {
            logger.warning(
                "the open-file hard limit is below --max-connections plus what the daemon needs; connections past it wait unanswered",
                metadata: ["hardLimit": "\(limit.rlim_max)", "maxConnections": "\(connections)", "short": "\(shortBy)"])
        }
    }
}
