/// Random identifiers from the system's CSPRNG (getrandom on Linux).
enum Identifiers {
    private static let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789".utf8)  // 32 symbols, no look-alikes

    /// `prefix_` + `length` random symbols (5 bits each).
    static func make(_ prefix: String, length: Int = 24) -> String {
        var g = SystemRandomNumberGenerator()
        var out = Array(prefix.utf8)
        out.reserveCapacity(out.count + 1 + length)
        out.append(UInt8(ascii: "_"))
        // Twelve 5-bit symbols from each 64-bit draw: one getrandom call per 12 symbols, not per symbol.
        var bits: UInt64 = 0
        for i in 0..<length {
            if i % 12 == 0 { bits = g.next() }
            out.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func consent() -> String { make("cns") }
    static func decision() -> String { make("dec") }
    /// 52 symbols = 260 bits: a bearer token.
    static func ticket() -> String { make("tkt", length: 52) }
}
