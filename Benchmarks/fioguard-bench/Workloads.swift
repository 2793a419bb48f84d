import FioguardJSON

/// The request streams the bench sends. Requests are written as literal JSON text: the client's
/// own encoding cost stays out of the server's figures.
enum Workloads {
    static func line(_ method: String, _ params: String) -> [UInt8] {
        Array(#"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":\#(params)}"#.utf8)
    }

    /// `system.ping`: the socket-and-codec floor.
    final class Ping: Session {
        let needsResponse = false
        func next(_ previous: JSON?) -> [UInt8]? { Array(#"{"jsonrpc":"2.0","id":1,"method":"system.ping"}"#.utf8) }
    }

    /// `facialId.show` for random subjects out of `population` enrolled ones.
    final class Show: Session {
        let needsResponse = false
        let population: Int
        var rng: SplitMix
        init(population: Int, seed: UInt64) {
            self.population = population
            rng = SplitMix(seed: seed)
        }
        func next(_ previous: JSON?) -> [UInt8]? {
            let i = Int(rng.next() % UInt64(population))
            return line("facialId.show", #"{"subject":"bench-\#(i)"}"#)
        }
    }

    /// `consent.record` for new subjects: durable writes.
    final class Record: Session {
        let needsResponse = false
        let prefix: String
        var n = 0
        /// A random part per session: the warm-up and the measured run never reuse a subject.
        init(prefix: String) { self.prefix = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))" }
        func next(_ previous: JSON?) -> [UInt8]? {
            n += 1
            return line("consent.record", consent(subject: "\(prefix)-\(n)"))
        }
    }

    static func consent(subject: String) -> String {
        #"{"subject":"\#(subject)","purposes":["authentication"],"noticeVersion":"2026-11","collectionMethod":"checkbox","domain":"shop.example","country":"DE","age":30}"#
    }

    /// The whole flow per user: record → authorize → complete → show → delete.
    final class Flow: Session {
        let needsResponse = true
        let prefix: String
        var user = 0
        var step = 0
        init(prefix: String) { self.prefix = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))" }
        var subject: String { "\(prefix)-\(user)" }

        func next(_ previous: JSON?) -> [UInt8]? {
            switch step {
            case 0:
                user += 1
                step = 1
                return line("consent.record", consent(subject: subject))
            case 1:
                step = 2
                return line("enroll.authorize", #"{"subject":"\#(subject)","domain":"shop.example","country":"DE","trigger":"user_action"}"#)
            case 2:
                guard let ticket = previous?["result"]?["ticket"]?.stringValue else {
                    step = 0  // denied or failed: start a new user
                    return next(nil)
                }
                step = 3
                return line("enroll.complete", #"{"ticket":"\#(ticket)","facialId":"fid-\#(subject)"}"#)
            case 3:
                step = 4
                return line("facialId.show", #"{"subject":"\#(subject)"}"#)
            default:
                step = 0
                return line("facialId.delete", #"{"subject":"\#(subject)","confirm":true}"#)
            }
        }
    }
}

/// A small fast PRNG so subject picks cost nothing measurable.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
