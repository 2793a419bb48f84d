import FioguardJSON

/// Typed, path-aware reading of one policy object. `null` counts as absent (the canonical form
/// writes `null` for "not set"). Every accessor reports into the shared diagnostics and returns
/// `nil` on a problem, so loading carries on with the default.
struct PolicyReader {
    let path: String
    let object: JSONObject
    let diag: PolicyDiagnostics

    init?(_ value: JSON, path: String, diag: PolicyDiagnostics) {
        guard case .object(let o) = value else {
            diag.add(path, "expected object, got \(value.kindName)")
            return nil
        }
        self.path = path
        self.object = o
        self.diag = diag
    }

    func at(_ key: String) -> String { "\(path).\(key)" }

    /// Reports every member not in `known`, suggesting the nearest known key for a likely typo.
    func rejectUnknown(_ known: [String]) {
        for key in object.keys where !known.contains(key) {
            if let near = PolicyReader.nearest(key, in: known) {
                diag.add(at(key), "unknown key (did you mean \"\(near)\"?)")
            } else {
                diag.add(at(key), "unknown key (known keys: \(known.joined(separator: ", ")))")
            }
        }
    }

    func raw(_ key: String) -> JSON? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    func object(_ key: String) -> PolicyReader? {
        guard let v = raw(key) else { return nil }
        return PolicyReader(v, path: at(key), diag: diag)
    }

    func int(_ key: String, range: ClosedRange<Int>) -> Int? {
        guard let v = raw(key) else { return nil }
        guard case .int(let i) = v else {
            diag.add(at(key), "expected integer, got \(v.kindName)")
            return nil
        }
        guard i >= Int64(range.lowerBound), i <= Int64(range.upperBound) else {
            diag.add(at(key), "must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return Int(i)
    }

    func bool(_ key: String) -> Bool? {
        guard let v = raw(key) else { return nil }
        guard case .bool(let b) = v else {
            diag.add(at(key), "expected boolean, got \(v.kindName)")
            return nil
        }
        return b
    }

    /// A non-empty string of at most `maxLength` characters without control characters.
    func text(_ key: String, maxLength: Int = 256) -> String? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else {
            diag.add(at(key), "expected string, got \(v.kindName)")
            return nil
        }
        guard !s.isEmpty, s.unicodeScalars.count <= maxLength else {
            diag.add(at(key), "must be 1–\(maxLength) characters")
            return nil
        }
        guard !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            diag.add(at(key), "must not contain control characters")
            return nil
        }
        return s
    }

    /// Every duration is at most 200 years: a longer one (P999999999Y) would put deadlines past
    /// year 9999, which RFC 3339 cannot write.
    static let longestDuration = ISODuration(iso8601: "P200Y")!

    /// An ISO 8601 duration whose nominal length lies in `min...max` (seconds), and at most
    /// `longestDuration`.
    func duration(
        _ key: String, min: Int64 = 0, max: Int64 = .max, boundsText: String? = nil
    ) -> ISODuration? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else {
            diag.add(at(key), "expected an ISO 8601 duration string, got \(v.kindName)")
            return nil
        }
        guard let d = ISODuration(iso8601: s) else {
            diag.add(at(key), "not an ISO 8601 duration (examples: P3Y, P30D, PT10M; whole numbers, no sign)")
            return nil
        }
        guard d.nominalSeconds <= Self.longestDuration.nominalSeconds else {
            diag.add(at(key), "at most 200 years (P200Y)")
            return nil
        }
        guard d.nominalSeconds >= min, d.nominalSeconds <= max else {
            diag.add(at(key), boundsText ?? "duration out of range")
            return nil
        }
        return d
    }

    /// An array of strings, each checked by `element` (which returns a normalised value or an
    /// error message). `nil` when absent or malformed.
    func array<T>(
        _ key: String, maxCount: Int = 256, nonEmpty: Bool = false,
        _ element: (String) -> Result<T, PolicyError>
    ) -> [T]? {
        guard let v = raw(key) else { return nil }
        guard case .array(let items) = v else {
            diag.add(at(key), "expected array of strings, got \(v.kindName)")
            return nil
        }
        guard items.count <= maxCount else {
            diag.add(at(key), "more than \(maxCount) items")
            return nil
        }
        if nonEmpty && items.isEmpty {
            diag.add(at(key), "must not be empty")
            return nil
        }
        var out: [T] = []
        var ok = true
        for (i, item) in items.enumerated() {
            let p = "\(at(key))[\(i)]"
            guard case .string(let s) = item else {
                diag.add(p, "expected string, got \(item.kindName)")
                ok = false
                continue
            }
            switch element(s) {
            case .success(let t): out.append(t)
            case .failure(let e):
                diag.add(p, e.message)
                ok = false
            }
        }
        return ok ? out : nil
    }

    /// The known key a typo most likely meant: within a small edit distance (a swap of two
    /// neighbouring letters counts once), or a case-insensitive prefix of at least three letters.
    static func nearest(_ key: String, in known: [String]) -> String? {
        let scored = known.map { ($0, editDistance(key, $0)) }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, key.count / 3) { return best.0 }
        let k = key.lowercased()
        guard k.count >= 3 else { return nil }
        return known.first { $0.lowercased().hasPrefix(k) || k.hasPrefix($0.lowercased()) }
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased().utf8), b = Array(b.lowercased().utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
