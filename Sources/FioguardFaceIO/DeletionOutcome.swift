/// What one `deletefacialid` call came to.
public enum DeletionOutcome: Sendable, Equatable {
    /// HTTP 2xx and body `status` 200.
    case deleted
    /// Transport error, timeout, HTTP 5xx or 429, an unreadable body: try again later.
    case retryable(String)
    /// Bad key, bad Facial ID or another refusal that a retry cannot fix.
    case permanent(String)
}
