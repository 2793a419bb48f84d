/// ISO 8601 duration `PnYnMnDTnHnMnS` or `PnW`, whole numbers only. Rejects negatives, an empty `P`
/// or `PT`, fractions, lower case, repeated or out-of-order designators, and components over nine digits.
/// Equality is by components as written (`P24M` and `P2Y` are different values that add alike).
public struct ISODuration: Sendable, Hashable, CustomStringConvertible {
    public private(set) var years: Int64 = 0
    public private(set) var months: Int64 = 0
    public private(set) var weeks: Int64 = 0
    public private(set) var days: Int64 = 0
    public private(set) var hours: Int64 = 0
    public private(set) var minutes: Int64 = 0
    public private(set) var seconds: Int64 = 0

    public static let zero = ISODuration()

    private init() {}

    public init?(iso8601: String) {
        let s = Array(iso8601.utf8)
        guard s.count >= 3, s.count <= 80, s[0] == UInt8(ascii: "P") else { return nil }
        // Designators in the order they may appear; each at most once.
        let dateOrder: [UInt8] = Array("YMWD".utf8)
        let timeOrder: [UInt8] = Array("HMS".utf8)
        var inTime = false
        var sawTimeComponent = false
        var sawAny = false
        var lastRank = -1
        var i = 1
        var sawWeek = false
        var sawOther = false
        while i < s.count {
            if s[i] == UInt8(ascii: "T") {
                guard !inTime else { return nil }
                inTime = true
                lastRank = -1
                i += 1
                continue
            }
            let start = i
            while i < s.count, s[i] >= 0x30, s[i] <= 0x39 { i += 1 }
            let count = i - start
            guard count >= 1, count <= 9, i < s.count, let value = CivilCalendar.digits(s, start, count) else {
                return nil
            }
            let order = inTime ? timeOrder : dateOrder
            guard let rank = order.firstIndex(of: s[i]), rank > lastRank else { return nil }
            lastRank = rank
            i += 1
            sawAny = true
            if inTime {
                sawTimeComponent = true
                sawOther = true
                switch rank {
                case 0: hours = value
                case 1: minutes = value
                default: seconds = value
                }
            } else {
                switch rank {
                case 0: years = value; sawOther = true
                case 1: months = value; sawOther = true
                case 2: weeks = value; sawWeek = true
                default: days = value; sawOther = true
                }
            }
        }
        guard sawAny, !inTime || sawTimeComponent, !(sawWeek && sawOther) else { return nil }
    }

    /// Canonical text: the non-zero components (`P1Y6M`, `PT15M`), `PT0S` for zero.
    public var iso8601: String {
        if self == .zero { return "PT0S" }
        var out = "P"
        if years > 0 { out += "\(years)Y" }
        if months > 0 { out += "\(months)M" }
        if weeks > 0 { out += "\(weeks)W" }
        if days > 0 { out += "\(days)D" }
        if hours > 0 || minutes > 0 || seconds > 0 {
            out += "T"
            if hours > 0 { out += "\(hours)H" }
            if minutes > 0 { out += "\(minutes)M" }
            if seconds > 0 { out += "\(seconds)S" }
        }
        return out
    }

    public var description: String { iso8601 }

    /// English for people: "3 years", "1 year and 6 months", "15 minutes", "no time".
    public var plainText: String {
        let parts: [(Int64, String)] = [
            (years, "year"), (months, "month"), (weeks, "week"), (days, "day"), (hours, "hour"), (minutes, "minute"),
            (seconds, "second"),
        ]
        let words = parts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)\($0.0 == 1 ? "" : "s")" }
        switch words.count {
        case 0: return "no time"
        case 1: return words[0]
        default: return words.dropLast().joined(separator: ", ") + " and " + words.last!
        }
    }

    /// A length in seconds for ordering durations without a start instant (a year counts 365.2425
    /// days, a month a twelfth of that). Used for validation bounds and for choosing what a
    /// disclosure shows; deadlines themselves always use calendar arithmetic from a real instant.
    public var nominalSeconds: Int64 {
        let yearSeconds: Int64 = 31_556_952
        return years * yearSeconds + months * (yearSeconds / 12) + (weeks * 7 + days) * 86_400
            + hours * 3600 + minutes * 60 + seconds
    }
}
