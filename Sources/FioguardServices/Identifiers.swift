#if canImport(Glibc)
import Glibc
#endif

/// Random identifiers from the system's CSPRNG (getrandom on Linux).
enum Identifiers {
    private static let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789".utf8)  // 32 symbols, no look-alikes

    /// `prefix_` + `length` random symbols (5 bits each).
    static func make(_ prefix: String, length: Int = 24) -> String {
        var out = Array(prefix.utf8)
        out.reserveCapacity(out.count + 1 + length)
        out.append(UInt8(ascii: "_"))
        // Twelve 5-bit symbols from each 64-bit word, all words drawn at once.
        let words = randomWords((length + 11) / 12)
        var bits: UInt64 = 0
        for i in 0..<length {
            if i % 12 == 0 { bits = words[i / 12] }
            out.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `count` words from the system's CSPRNG. On Linux one `arc4random_buf` call (glibc: one
    /// `getrandom` for all of them); `SystemRandomNumberGenerator` makes one call per word.
    static func randomWords(_ count: Int) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: count)
        #if canImport(Glibc)
        words.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { arc4random_buf(base, raw.count) }
        }
        #else
        var g = SystemRandomNumberGenerator()
        for i in words.indices { words[i] = g.next() }
        #endif
        return words
    }

    /// Time-ordered: 10 symbols of milliseconds since 1970, then 16 random ones. Consent ids are
    /// keys of two indexes; ordered keys land on the rightmost B-tree page instead of a random
    /// one, which keeps each durable write to a few pages of WAL.
    static func consent() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var millis = UInt64(ts.tv_sec) &* 1000 &+ UInt64(ts.tv_nsec / 1_000_000)
        var time = [UInt8](repeating: 0, count: 10)
        for i in stride(from: 9, through: 0, by: -1) {
            time[i] = sortable[Int(millis & 31)]
            millis >>= 5
        }
        return "cns_" + String(decoding: time, as: UTF8.self) + make("", length: 16).dropFirst()
    }

    /// The same 32 symbols in ASCII order, so that the text sorts like the number.
    private static let sortable = Array("23456789abcdefghijkmnpqrstuvwxyz".utf8)
    static func decision() -> String { make("dec") }
    /// 52 symbols = 260 bits: a bearer token.
    static func ticket() -> String { make("tkt", length: 52) }
}
