public import FioguardJSON

extension PolicyEngine {
    /// What the site must tell users (`policy.disclosure`, duties D2, D12–D15). `jurisdiction == nil`
    /// gives the policy's general schedule without profiles. Without a date every profile counts,
    /// including ones not yet in force; see `disclosure(jurisdiction:locale:policy:at:)`.
    public static func disclosure(jurisdiction: Jurisdiction?, locale: String?, policy: Policy) -> JSON {
        disclosure(jurisdiction: jurisdiction, locale: locale, policy: policy, at: nil)
    }

    /// The disclosure with only the profiles in force at `now` (`nil`: all, each marked with its
    /// effective date). Texts are English whatever `locale` says; `locale` is echoed for the caller.
    public static func disclosure(jurisdiction: Jurisdiction?, locale: String?, policy: Policy, at now: Timestamp?) -> JSON {
        let rules = ApplicableRules(policy: policy, jurisdictions: jurisdiction.map { [$0] } ?? [], now: now)

        // Retention entries name the policy key (as `RetentionDeadline` does) and the profile apart.
        func entry(_ s: ApplicableRules.Sourced<ISODuration>, from: String, text: String) -> JSON {
            let key = from == "enrollment" ? "retention.maxSinceEnrollment"
                : from == "revocation" ? "retention.deleteAfterRevocation" : "retention.maxSinceLastInteraction"
            return .object(
                JSONObject([
                    ("rule", .string(key)), ("duration", .string(s.value.iso8601)), ("from", .string(from)),
                    ("profile", .string(s.profile)), ("description", .string(text)),
                ]))
        }
        let sinceEnrollment = ApplicableRules.shortest(rules.maxSinceEnrollment)!
        let sinceLast = ApplicableRules.shortest(rules.maxSinceLastInteraction)!
        let afterRevocation = ApplicableRules.shortest(rules.deleteAfterRevocation)!
        let schedule: [JSON] = [
            entry(
                sinceEnrollment, from: "enrollment",
                text: "Your Facial ID is deleted at the latest \(sinceEnrollment.value.plainText) after enrollment."),
            entry(
                sinceLast, from: "lastInteraction",
                text: "Your Facial ID is deleted \(sinceLast.value.plainText) after your last face login (or enrollment, if you never used it), whichever comes first."),
        ]
        let allSources: [JSON] =
            rules.maxSinceEnrollment.map { entry($0, from: "enrollment", text: "maximum time since enrollment") }
            + rules.maxSinceLastInteraction.map { entry($0, from: "lastInteraction", text: "maximum time since the last face login") }
            + rules.deleteAfterRevocation.map { entry($0, from: "revocation", text: "deletion deadline after consent is withdrawn") }

        let methods = rules.effectiveMethods
        let methodSource = rules.methods.dropFirst().reduce(rules.methods[0]) { $1.value.count < $0.value.count ? $1 : $0 }
        let fresh = ApplicableRules.shortest(rules.maxAgeBeforeEnrollment)
        let validFor = ApplicableRules.shortest(rules.validFor)
        let forms: [JSON] = rules.profiles.compactMap { p in
            p.consentForm.map { .object(JSONObject([("profile", .string(p.code)), ("requirement", .string($0))])) }
        }

        let aoc = rules.ageOfConsent
        let g = rules.guardian
        let minors = JSONObject([
            ("ageOfConsent", .int(aoc.value)), ("rule", .string(aoc.rule)), ("profile", .string(aoc.profile)),
            ("guardianConsent", .string(g.value.rawValue)), ("guardianRule", .string(g.rule)),
            ("guardianProfile", .string(g.profile)),
            ("requireAgeEvidence", .bool(rules.requireAgeEvidence.value)),
            ("description", .string(
                g.value == .forbidden
                    ? "Face login is not offered to people under \(aoc.value)."
                    : "People under \(aoc.value) need the consent of a parent or guardian, verified before enrollment.")),
        ])

        let howToRevoke =
            "Withdraw consent at any time, as easily as you gave it. Withdrawing consent to face login deletes your Facial ID"
            + (afterRevocation.value == .zero ? " at once." : " within \(afterRevocation.value.plainText).")
        let howToDelete =
            "Delete your Facial ID at any time with one click after a confirmation. Deleting your account deletes every Facial ID immediately, whatever the retention period."
        // D15: how the data is and may foreseeably be used, purpose by purpose.
        let uses: [JSON] = policy.purposes.map { purpose in
            .object(JSONObject([
                ("purpose", .string(purpose)),
                ("description", .string(policy.purposeDescriptions[purpose] ?? (purpose == "authentication" ? Self.authenticationUse : nil))),
            ]))
        }
        // D14: what is kept after erasure, and in what form.
        let anonymization =
            "Deleting your account deletes your user id, the personal details of your consents (receipts, guardian details, reasons you gave) and every Facial ID, here and at FACEIO. The append-only record of what you consented to, withdrew and had deleted is kept as proof that your choices were carried out, under a pseudonym (a keyed hash of your user id) instead of your id. No image or template of your face is kept with these records: FACEIO holds the facial template, referenced by a Facial ID."
        let rights: [JSON] = [
            right("access", "facialId.show", "See your Facial ID, when it was enrolled, when it will be deleted and which rule applies."),
            right("revoke", "consent.revoke", howToRevoke),
            right("delete", "facialId.delete", "Delete your Facial ID after a confirmation (confirm: true); deletion also reaches FACEIO."),
            right("erase", "subject.erase", "Account deletion counts as withdrawing consent: every Facial ID is deleted at once."),
        ]

        var profiles: [JSON] = []
        for p in rules.profiles {
            guard case .object(var o) = p.summaryJSON else { continue }
            if let now { o["inForce"] = .bool(p.isInForce(at: now)) }
            profiles.append(.object(o))
        }

        return .object(
            JSONObject([
                ("policyVersion", .string(policy.version)),
                ("jurisdiction", jurisdiction.map {
                    .object(JSONObject([("country", .string($0.country)), ("region", .string($0.region))]))
                } ?? .null),
                ("locale", .string(locale)),
                ("language", "en"),
                ("purposes", .strings(policy.purposes)),
                ("uses", .array(uses)),
                ("foreseeableUse", .string(Self.foreseeableUse)),
                ("retention", .object(JSONObject([
                    ("schedule", .array(schedule)),
                    ("whicheverFirst", true),
                    ("afterRevocation", entry(
                        afterRevocation, from: "revocation",
                        text: afterRevocation.value == .zero
                            ? "After you withdraw consent your Facial ID is deleted at once."
                            : "After you withdraw consent your Facial ID is deleted within \(afterRevocation.value.plainText).")),
                    ("sources", .array(allSources)),
                ]))),
                ("consent", .object(JSONObject([
                    ("affirmativeMethods", .strings(methods)),
                    ("rule", .string(methodSource.rule)),
                    ("profile", .string(methodSource.profile)),
                    ("maxAgeBeforeEnrollment", .string(fresh?.value.iso8601)),
                    ("validFor", .string(validFor?.value.iso8601)),
                    ("formRequired", .array(forms)),
                    ("separateFromOtherTerms", true),
                    ("nonBiometricAlternative", "Offer a login without face recognition so consent stays freely given (GDPR Art. 7(4); required in CN)."),
                ]))),
                ("minors", .object(minors)),
                ("rights", .array(rights)),
                ("howToRevoke", .string(howToRevoke)),
                ("howToDelete", .string(howToDelete)),
                ("anonymization", .string(anonymization)),
                ("profiles", .array(profiles)),
                ("contact", policy.contact?.json ?? .null),
            ]))
    }

    /// `authentication`'s use when the policy does not describe it (`purposeDescriptions`).
    static let authenticationUse =
        "Face login: when you log in, your face is compared with the facial template made when you enrolled, to confirm it is you. FACEIO runs the recognition and holds the template; this site keeps only the Facial ID that refers to it."

    static let foreseeableUse =
        "Your biometric data is used only for the purposes listed here, and only for those you consented to. Any other use would need your new, separate consent."

    private static func right(_ name: String, _ method: String, _ how: String) -> JSON {
        .object(JSONObject([("right", .string(name)), ("method", .string(method)), ("how", .string(how))]))
    }
}
