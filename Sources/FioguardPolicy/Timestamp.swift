/// Seconds-precision UTC instant. RFC 3339 in and out (`2026-11-27T04:37:46Z`); parsing also accepts
/// fractional seconds (truncated) and numeric offsets (`+01:00`), normalising to UTC.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var secondsSinceEpoch: Int64

    public init(secondsSinceEpoch: Int64) {
        self.secondsSinceEpoch = secondsSinceEpoch
    }

    /// Accepts `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; `t` and `z` may be lower case (RFC 3339 §5.6).
    /// Rejects leap seconds (`:60`), impossible dates (`2026-02-29`) and anything else.
    public init?(rfc3339: String) {
        let s = Array(rfc3339.utf8)
        guard s.count >= 20, s.count <= 64,
            let year = CivilCalendar.digits(s, 0, 4), s[4] == UInt8(ascii: "-"),
            let month = CivilCalendar.digits(s, 5, 2), s[7] == UInt8(ascii: "-"),
            let day = CivilCalendar.digits(s, 8, 2),
            s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t"),
            let hour = CivilCalendar.digits(s, 11, 2), s[13] == UInt8(ascii: ":"),
            let minute = CivilCalendar.digits(s, 14, 2), s[16] == UInt8(ascii: ":"),
            let second = CivilCalendar.digits(s, 17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilCalendar.daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var i = 19
        if s[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < s.count, s[i] >= 0x30, s[i] <= 0x39 { i += 1 }
            guard i > start else { return nil }
        }
        guard i < s.count else { return nil }
        var offset: Int64 = 0
        switch s[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let oh = CivilCalendar.digits(s, i + 1, 2), i + 3 < s.count, s[i + 3] == UInt8(ascii: ":"),
                let om = CivilCalendar.digits(s, i + 4, 2), oh <= 23, om <= 59
            else { return nil }
            offset = (oh * 3600 + om * 60) * (s[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == s.count else { return nil }
        let days = CivilCalendar.days(year: year, month: month, day: day)
        secondsSinceEpoch = days * CivilCalendar.secondsPerDay + hour * 3600 + minute * 60 + second - offset
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, always UTC, no fraction.
    public var rfc3339: String {
        let days = CivilCalendar.floorDiv(secondsSinceEpoch, CivilCalendar.secondsPerDay)
        let rest = secondsSinceEpoch - days * CivilCalendar.secondsPerDay
        let (y, m, d) = CivilCalendar.civil(days: days)
        if (0...9999).contains(y) {
            // Every timestamp of every answer passes here: digits written in place, no interpolation.
            return String(unsafeUninitializedCapacity: 20) { out in
                func two(_ v: Int64, _ at: Int) {
                    out[at] = 0x30 + UInt8(v / 10)
                    out[at + 1] = 0x30 + UInt8(v % 10)
                }
                two(y / 100, 0)
                two(y % 100, 2)
                out[4] = UInt8(ascii: "-")
                two(m, 5)
                out[7] = UInt8(ascii: "-")
                two(d, 8)
                out[10] = UInt8(ascii: "T")
                two(rest / 3600, 11)
                out[13] = UInt8(ascii: ":")
                two(rest % 3600 / 60, 14)
                out[16] = UInt8(ascii: ":")
                two(rest % 60, 17)
                out[19] = UInt8(ascii: "Z")
                return 20
            }
        }
        return "\(CivilCalendar.pad(y, 4))-\(CivilCalendar.pad(m, 2))-\(CivilCalendar.pad(d, 2))T"
            + "\(CivilCalendar.pad(rest / 3600, 2)):\(CivilCalendar.pad(rest % 3600 / 60, 2)):\(CivilCalendar.pad(rest % 60, 2))Z"
    }

    public var description: String { rfc3339 }

    /// The UTC calendar day this instant falls on.
    public var civilDate: CivilDate {
        let days = CivilCalendar.floorDiv(secondsSinceEpoch, CivilCalendar.secondsPerDay)
        let (y, m, d) = CivilCalendar.civil(days: days)
        return CivilDate(uncheckedYear: y, month: m, day: d)
    }

    /// Saturates instead of trapping at the ends of `Int64`.
    public func adding(seconds: Int64) -> Timestamp {
        let (r, overflow) = secondsSinceEpoch.addingReportingOverflow(seconds)
        if overflow { return Timestamp(secondsSinceEpoch: seconds > 0 ? .max : .min) }
        return Timestamp(secondsSinceEpoch: r)
    }

    /// Calendar arithmetic in UTC: years and months first (the day clamps to the end of a shorter
    /// month: Jan 31 + P1M = Feb 28/29), then weeks and days, then the time part.
    /// Saturates for instants too far out to have a calendar date.
    public func adding(_ d: ISODuration) -> Timestamp {
        let limit: Int64 = 1 << 52  // ~142 million years: far beyond any real date, far from overflow
        guard secondsSinceEpoch > -limit, secondsSinceEpoch < limit else { return adding(seconds: d.nominalSeconds) }
        var days = CivilCalendar.floorDiv(secondsSinceEpoch, CivilCalendar.secondsPerDay)
        let timeOfDay = secondsSinceEpoch - days * CivilCalendar.secondsPerDay
        let months = d.years * 12 + d.months
        if months != 0 {
            let (y, m, day) = CivilCalendar.civil(days: days)
            let total = y * 12 + (m - 1) + months
            let ny = CivilCalendar.floorDiv(total, 12)
            let nm = total - ny * 12 + 1
            days = CivilCalendar.days(year: ny, month: nm, day: min(day, CivilCalendar.daysInMonth(year: ny, month: nm)))
        }
        days += d.weeks * 7 + d.days
        let base = days * CivilCalendar.secondsPerDay + timeOfDay
        return Timestamp(secondsSinceEpoch: base).adding(seconds: d.hours * 3600 + d.minutes * 60 + d.seconds)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        a.secondsSinceEpoch < b.secondsSinceEpoch
    }
}
