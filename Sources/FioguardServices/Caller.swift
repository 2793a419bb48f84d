/// Who asked, as recorded in audit entries and receipts: the peer's uid/pid, never a person.
public struct Caller: Sendable, Hashable {
    public var uid: UInt32?
    public var pid: Int32?

    public init(uid: UInt32?, pid: Int32?) {
        self.uid = uid
        self.pid = pid
    }

    /// The daemon itself (scheduled sweeps, reloads).
    public static let system = Caller(uid: nil, pid: nil)

    public var description: String {
        if uid == nil && pid == nil { return "fioguard" }
        return "uid=\(uid.map(String.init) ?? "?") pid=\(pid.map(String.init) ?? "?")"
    }
}
