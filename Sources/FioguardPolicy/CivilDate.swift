/// A civil date `YYYY-MM-DD` with no time zone (birth dates, effective dates).
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    init(uncheckedYear year: Int64, month: Int64, day: Int64) {
        self.year = Int(year)
        self.month = Int(month)
        self.day = Int(day)
    }

    /// Strict `YYYY-MM-DD` (four-digit year, real day of that month).
    public init?(iso: String) {
        let s = Array(iso.utf8)
        guard s.count == 10, let y = CivilCalendar.digits(s, 0, 4), s[4] == UInt8(ascii: "-"),
            let m = CivilCalendar.digits(s, 5, 2), s[7] == UInt8(ascii: "-"),
            let d = CivilCalendar.digits(s, 8, 2),
            (1...12).contains(m), d >= 1, d <= CivilCalendar.daysInMonth(year: y, month: m)
        else { return nil }
        self.init(uncheckedYear: y, month: m, day: d)
    }

    public var iso: String {
        "\(CivilCalendar.pad(Int64(year), 4))-\(CivilCalendar.pad(Int64(month), 2))-\(CivilCalendar.pad(Int64(day), 2))"
    }

    public var description: String { iso }

    /// Midnight UTC at the start of this day.
    public var startOfDay: Timestamp {
        Timestamp(
            secondsSinceEpoch: CivilCalendar.days(year: Int64(year), month: Int64(month), day: Int64(day))
                * CivilCalendar.secondsPerDay)
    }

    /// Full years completed at `instant` (its UTC date). Someone born on 29 February completes a
    /// year on 1 March in common years. Negative if the date is after `instant`'s day.
    public func age(at instant: Timestamp) -> Int {
        let today = instant.civilDate
        var years = today.year - year
        if (today.month, today.day) < (month, day) { years -= 1 }
        return years
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}
