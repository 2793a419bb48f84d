public import FioguardPolicy
import Synchronization

/// The policy in force. Reload validates first, then swaps atomically: a request sees either the
/// old policy or the new one, never a mix.
public final class PolicyHolder: Sendable {
    private let state: Mutex<Policy>
    /// One activation at a time (see `PolicyService.activate`).
    let activations = SerialGate()

    public init(_ policy: Policy) {
        state = Mutex(policy)
    }

    public var current: Policy { state.withLock { $0 } }

    public func replace(with policy: Policy) {
        state.withLock { $0 = policy }
    }
}
