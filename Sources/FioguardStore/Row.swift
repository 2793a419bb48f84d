/// One result row, copied out of SQLite so it can outlive the statement and cross threads.
public struct Row: Sendable {
    /// The column values, in select-list order.
    public let values: [SQLValue]

    public init(_ values: [SQLValue]) {
        self.values = values
    }

    public var count: Int { values.count }

    public subscript(i: Int) -> SQLValue { values[i] }

    public func int(_ i: Int) -> Int64? {
        if case .int(let v) = values[i] { return v }
        return nil
    }

    /// An INTEGER column is widened, since SQLite stores integral REAL values of REAL-affinity
    /// columns as INTEGER.
    public func double(_ i: Int) -> Double? {
        switch values[i] {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }

    public func text(_ i: Int) -> String? {
        if case .text(let v) = values[i] { return v }
        return nil
    }

    public func blob(_ i: Int) -> [UInt8]? {
        if case .blob(let v) = values[i] { return v }
        return nil
    }

    public func isNull(_ i: Int) -> Bool { values[i] == .null }
}
