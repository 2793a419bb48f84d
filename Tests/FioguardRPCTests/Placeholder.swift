import Testing
@Test func placeholderFioguardRPC() {}
