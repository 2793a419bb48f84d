extension JurisdictionProfile {
    /// EU member states plus the EEA states Iceland, Liechtenstein and Norway.
    public static let euEEA: Set<String> = Set(nationalAges.map(\.country))

    /// GDPR Art. 8 national ages of digital consent (biometric-law.md), with *[verify]* marks.
    static let nationalAges: [(country: String, name: String, age: Int, from: String, verify: Bool)] = [
        ("AT", "Austria", 14, "2018-05-25", false), ("BE", "Belgium", 13, "2018-05-25", false),
        ("BG", "Bulgaria", 14, "2018-05-25", true), ("HR", "Croatia", 16, "2018-05-25", false),
        ("CY", "Cyprus", 14, "2018-05-25", false), ("CZ", "Czechia", 15, "2018-05-25", false),
        ("DK", "Denmark", 15, "2024-01-01", false), ("EE", "Estonia", 13, "2018-05-25", true),
        ("FI", "Finland", 13, "2018-05-25", false), ("FR", "France", 15, "2018-05-25", false),
        ("DE", "Germany", 16, "2018-05-25", false), ("GR", "Greece", 15, "2018-05-25", false),
        ("HU", "Hungary", 16, "2018-05-25", false), ("IE", "Ireland", 16, "2018-05-25", false),
        ("IT", "Italy", 14, "2018-05-25", false), ("LV", "Latvia", 13, "2018-05-25", false),
        ("LT", "Lithuania", 14, "2018-05-25", false), ("LU", "Luxembourg", 16, "2018-05-25", false),
        ("MT", "Malta", 13, "2018-05-25", false), ("NL", "Netherlands", 16, "2018-05-25", false),
        ("PL", "Poland", 16, "2018-05-25", false), ("PT", "Portugal", 13, "2018-05-25", false),
        ("RO", "Romania", 16, "2018-05-25", false), ("SK", "Slovakia", 16, "2018-05-25", false),
        ("SI", "Slovenia", 15, "2018-05-25", false), ("ES", "Spain", 14, "2018-05-25", false),
        ("SE", "Sweden", 13, "2018-05-25", false), ("IS", "Iceland", 13, "2018-07-20", false),
        ("LI", "Liechtenstein", 16, "2018-07-20", false), ("NO", "Norway", 13, "2018-07-20", false),
    ]

    private static func d(_ s: String) -> ISODuration { ISODuration(iso8601: s)! }

    /// Every built-in profile, in the order decisions list them.
    public static let builtIn: [JurisdictionProfile] = {
        var all: [JurisdictionProfile] = [
            JurisdictionProfile(
                code: "EU", name: "European Union / EEA (GDPR)",
                citation: "Regulation (EU) 2016/679 (GDPR) Arts. 5(1)(e), 7, 8, 9(2)(a), 12(3), 17; eur-lex.europa.eu/eli/reg/2016/679/oj",
                effectiveFrom: "2018-05-25",
                notes: [
                    "Age of consent: 16 unless the member state set a lower one (Art. 8(1)); see the member state's profile.",
                    "Keep only as long as necessary (Art. 5(1)(e)); erase without undue delay (Art. 17).",
                    "Answer requests within one month, extendable by two with notice (Art. 12(3)).",
                    "A DPIA is expected for biometric identification (Art. 35).",
                ],
                guardianConsent: .required,
                consentForm: "explicit consent (Art. 9(2)(a)) meeting Art. 7: affirmative, specific, separate, provable, withdrawable as easily as given",
                deleteAfterRevocation: d("P1M")),
            JurisdictionProfile(
                code: "GB", name: "United Kingdom (UK GDPR, DPA 2018)",
                citation: "UK GDPR Arts. 8, 9, 12(3), 17; Data Protection Act 2018 s. 9",
                effectiveFrom: "2018-05-25",
                notes: ["Answer requests within one month (+2 with notice)."],
                ageOfConsent: 13, guardianConsent: .required, consentForm: "explicit consent",
                deleteAfterRevocation: d("P1M")),
            JurisdictionProfile(
                code: "US", name: "United States (COPPA)",
                citation: "Children's Online Privacy Protection Act, 15 U.S.C. 6501-6506; 16 CFR Part 312 (ecfr.gov)",
                effectiveFrom: "2000-04-21",
                notes: [
                    "Verifiable parental consent before collecting from a child under 13.",
                    "Retain only as long as reasonably necessary, never indefinitely; post a written retention policy.",
                    "Amended rule: compliance required from 2026-04-22.",
                ],
                ageOfConsent: 13, guardianConsent: .required,
                consentForm: "verifiable parental consent for children under 13"),
            JurisdictionProfile(
                code: "US-IL", name: "Illinois (BIPA)",
                citation: "Biometric Information Privacy Act, 740 ILCS 14 §§15(a)-(c), 20 (ilga.gov)",
                effectiveFrom: "2008-10-03",
                notes: [
                    "Age 18 is a policy choice: the statute sets no age; below it a legally authorized representative signs.",
                    "Electronic signature counts as a written release since the 2024-08-02 amendment.",
                    "A written public retention schedule must exist before collection (§15(a)).",
                    "Revocation is treated as the purpose being satisfied: destroy promptly (modelled as within one month, the longest reading, as the EU's \"without undue delay\").",
                    "No sale or profit from biometric data (§15(c)); private right of action (§20).",
                ],
                ageOfConsent: 18, guardianConsent: .required,
                consentForm: "written release (electronic signature allowed) after written notice of collection, specific purpose and term",
                affirmativeMethods: ["signature"], maxSinceLastInteraction: d("P3Y"), deleteAfterRevocation: d("P1M")),
            JurisdictionProfile(
                code: "US-TX", name: "Texas (CUBI)",
                citation: "Tex. Bus. & Com. Code §503.001 (statutes.capitol.texas.gov)",
                effectiveFrom: "2009-09-01", needsVerification: true,
                notes: [
                    "Destroy within a reasonable time, at most one year after the purpose expires: modelled as one year since the last interaction, and one year after consent is withdrawn (the purpose then expires).",
                    "Attorney General enforcement, up to $25,000 per violation [verify].",
                ],
                consentForm: "notice before capture and consent",
                maxSinceLastInteraction: d("P1Y"), deleteAfterRevocation: d("P1Y")),
            JurisdictionProfile(
                code: "US-WA", name: "Washington (My Health My Data Act)",
                citation: "RCW 19.373",
                effectiveFrom: "2024-03-31",
                notes: [
                    "Separate consent to share; delete everywhere including backups (backups within 6 months).",
                    "Answer requests within 45 days (+45); tell processors.",
                ],
                consentForm: "prior consent for a specified purpose",
                deleteAfterRevocation: d("P45D")),
            JurisdictionProfile(
                code: "US-CO", name: "Colorado (CPA biometric provisions)",
                citation: "C.R.S. 6-1-1314",
                effectiveFrom: "2025-07-01", needsVerification: true,
                notes: [
                    "Delete at the earliest of: purpose satisfied, 24 months after the last interaction, 45 days after found unnecessary [verify]; review yearly.",
                    "Public written policy including a retention schedule.",
                ],
                ageOfConsent: 13, guardianConsent: .required,
                consentForm: "opt-in consent after notice of what is collected, why, for how long, and any sharing",
                maxSinceLastInteraction: d("P24M"), deleteAfterRevocation: d("P45D")),
            JurisdictionProfile(
                code: "US-CA", name: "California (CCPA/CPRA)",
                citation: "Cal. Civ. Code §1798.100 et seq. (CCPA as amended by CPRA)",
                effectiveFrom: "2020-01-01",
                notes: [
                    "No consent is needed to collect for authentication-only use; fioguard still requires it.",
                    "Disclose a retention period; confirm deletion requests within 10 business days, delete within 45 days (+45).",
                ],
                consentForm: "notice at collection",
                deleteAfterRevocation: d("P45D")),
            JurisdictionProfile(
                code: "BR", name: "Brazil (LGPD)",
                citation: "Lei 13.709/2018 (LGPD) Arts. 11 I, 14, 15-16",
                effectiveFrom: "2020-09-18", needsVerification: true,
                notes: ["Own consent from 12 [verify]; majority at 18. Under 12: at least one parent, specific and highlighted consent."],
                ageOfConsent: 12, guardianConsent: .required,
                consentForm: "specific and highlighted consent (Art. 11 I)"),
            JurisdictionProfile(
                code: "IN", name: "India (DPDP Act 2023)",
                citation: "Digital Personal Data Protection Act 2023, ss. 6, 8(7), 9",
                effectiveFrom: "2027-05-13",
                notes: ["Verifiable parental consent for every user under 18; erase when the purpose is served."],
                ageOfConsent: 18, guardianConsent: .required,
                consentForm: "free, specific, informed, unambiguous affirmative act"),
            JurisdictionProfile(
                code: "CN", name: "China (PIPL; facial recognition measures)",
                citation: "Personal Information Protection Law Arts. 28, 29, 31, 47; Measures for the Security Management of Facial Recognition Technology Applications (from 2025-06-01)",
                effectiveFrom: "2021-11-01",
                notes: [
                    "Guardian consent below 14.",
                    "From 2025-06-01 a non-facial alternative must be offered.",
                    "Delete on withdrawal on the handler's own initiative (Art. 47); no period is set: modelled as within one month.",
                ],
                ageOfConsent: 14, guardianConsent: .required,
                consentForm: "separate consent (written where required)",
                deleteAfterRevocation: d("P1M")),
        ]
        for n in nationalAges {
            all.append(
                JurisdictionProfile(
                    code: n.country, name: "\(n.name) (GDPR Art. 8 national age)",
                    citation: "GDPR Art. 8(1) as set by \(n.name)'s national data protection law",
                    effectiveFrom: n.from, needsVerification: n.verify,
                    notes: n.country == "DK" ? ["15 since 2024-01-01; older sources say 13."]
                        : n.country == "FR" ? ["Below 15: joint consent of the child and a parent."] : [],
                    ageOfConsent: n.age, guardianConsent: .required))
        }
        return all
    }()
}
