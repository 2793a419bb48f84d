import FioguardJSON

/// Collects every problem of a policy file instead of stopping at the first, so
/// `fioguard policy check` can list them all.
final class PolicyDiagnostics {
    var errors: [PolicyError] = []
    func add(_ path: String, _ message: String) { errors.append(PolicyError(path: path, message: message)) }
}

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
            let near = known.map { ($0, PolicyReader.editDistance(key, $0)) }.min { $0.1 < $1.1 }
            if let near, near.1 <= 2 {
                diag.add(at(key), "unknown key (did you mean \"\(near.0)\"?)")
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

    /// An ISO 8601 duration whose nominal length lies in `bounds` (seconds).
    func duration(_ key: String, min: Int64 = 0, max: Int64 = .max, boundsText: String? = nil) -> ISODuration? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else {
            diag.add(at(key), "expected an ISO 8601 duration string, got \(v.kindName)")
            return nil
        }
        guard let d = ISODuration(iso8601: s) else {
            diag.add(at(key), "not an ISO 8601 duration (examples: P3Y, P30D, PT10M; whole numbers, no sign)")
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

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased().utf8), b = Array(b.lowercased().utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}
