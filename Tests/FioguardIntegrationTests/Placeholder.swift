import Testing
@Test func placeholderFioguardIntegration() {}
