@testable import FioguardServices
import Testing

@Suite("Consent receipt")
struct ReceiptTests {
    /// The receipt's constant parts are encoded once per process and copied into every receipt
    /// (stored and answered): their bytes are part of every receipt ever issued.
    @Test func constantPartsKeepTheirBytes() {
        #expect(ConsentService.receiptVersion.encodedString() == #""fioguard-consent-receipt/1""#)
        #expect(
            ConsentService.dataCategory.encodedString()
                == #""biometric: facial template held by FACEIO, referenced by a Facial ID""#)
        #expect(
            ConsentService.withdrawal.encodedString()
                == #"{"method":"consent.revoke","effect":"revoking 'authentication' deletes every Facial ID of the subject at FACEIO at once","deleteFacialId":"facialId.delete","eraseAccount":"subject.erase"}"#
        )
        #expect(ConsentService.withdrawal["eraseAccount"]?.stringValue == "subject.erase", "read back through the encoded part")
    }
}
