import FioguardPolicy
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
        let atOnce = ConsentService.withdrawal(deletesWithin: .zero)
        #expect(
            atOnce.encodedString()
                == #"{"method":"consent.revoke","effect":"revoking 'authentication' deletes every Facial ID of the subject at FACEIO at once","deleteFacialId":"facialId.delete","eraseAccount":"subject.erase"}"#
        )
        #expect(atOnce["eraseAccount"]?.stringValue == "subject.erase", "read back through the encoded part")
    }

    /// The receipt says by when withdrawing deletes, as the policy and the profiles set it: not
    /// "at once" under a policy that waits.
    @Test func theWithdrawalSaysByWhenItDeletes() throws {
        let month = try #require(ISODuration(iso8601: "P1M"))
        let text = ConsentService.withdrawal(deletesWithin: month)["effect"]?.stringValue
        #expect(text == "revoking 'authentication' deletes every Facial ID of the subject at FACEIO within \(month.plainText)")
        #expect(ConsentService.withdrawal(deletesWithin: .zero)["effect"]?.stringValue?.hasSuffix("at once") == true)
    }
}
