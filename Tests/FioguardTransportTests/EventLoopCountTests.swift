import FioguardTransport
import Testing

/// `EventLoopCount`: half the cores by default, at least one; a flag wins, then NIO's variable.
@Suite struct EventLoopCountTests {
    @Test(arguments: [(1, 1), (2, 1), (3, 1), (4, 2), (16, 8)])
    func theDefaultIsHalfTheCoresAndAtLeastOne(_ cores: Int, _ loops: Int) {
        #expect(EventLoopCount.defaultCount(cores: cores) == loops)
        #expect(EventLoopCount.resolve(requested: nil, environmentValue: nil, cores: cores) == loops)
    }

    @Test func aRequestedCountWinsThenNIOsOwnVariable() {
        #expect(EventLoopCount.resolve(requested: 3, environmentValue: "5", cores: 2) == 3)
        // Left to NIO, which reads (and bounds) its variable itself.
        #expect(EventLoopCount.resolve(requested: nil, environmentValue: "5", cores: 2) == nil)
        // Not a number: NIO would ignore it for a loop per core, so the default stands.
        #expect(EventLoopCount.resolve(requested: nil, environmentValue: "auto", cores: 4) == 2)
        #expect(EventLoopCount.resolve(requested: nil, environmentValue: "", cores: 4) == 2)
    }
}
