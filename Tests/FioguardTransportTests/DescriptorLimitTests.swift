import FioguardTransport
import Testing

/// The open-file limit's plan (the syscalls around it are two lines; the decision is here).
@Suite struct DescriptorLimitTests {
    @Test func aLowSoftLimitIsRaisedToWhatIsNeeded() {
        let p = DescriptorLimit.plan(soft: 1024, hard: 524_288, connections: 1024)
        #expect(p.raiseTo == UInt64(1024 + DescriptorLimit.reserve))
        #expect(p.shortBy == nil)
    }

    @Test func aSufficientSoftLimitIsLeftAlone() {
        let p = DescriptorLimit.plan(soft: 20_000, hard: 20_000, connections: 1024)
        #expect(p.raiseTo == nil)
        #expect(p.shortBy == nil)
    }

    @Test func aLowHardLimitIsUsedInFullAndReported() {
        let p = DescriptorLimit.plan(soft: 512, hard: 1024, connections: 1024)
        #expect(p.raiseTo == 1024)
        #expect(p.shortBy == UInt64(DescriptorLimit.reserve))
        let atHard = DescriptorLimit.plan(soft: 1024, hard: 1024, connections: 1024)
        #expect(atHard.raiseTo == nil, "nothing left to raise")
        #expect(atHard.shortBy == UInt64(DescriptorLimit.reserve))
    }
}
