import Testing
@Test func placeholderFioguardJSON() {}
