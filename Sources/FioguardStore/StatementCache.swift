import CSQLite

/// A connection's prepared statements, kept by SQL text and evicted least-recently-used first.
/// A statement checked out (being stepped) is never handed out twice nor evicted, so a query run
/// from inside `forEach` over the same SQL gets a statement of its own.
final class StatementCache {
    final class Entry {
        let statement: OpaquePointer
        var lastUse: UInt64 = 0
        var inUse = false
        init(statement: OpaquePointer) { self.statement = statement }
    }

    let capacity: Int
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count }

    /// A free cached statement for `sql`, marked in use; nil on a miss.
    func checkOut(_ sql: String) -> Entry? {
        if let entry = entries[sql], !entry.inUse {
            hits += 1
            clock += 1
            entry.lastUse = clock
            entry.inUse = true
            return entry
        }
        misses += 1
        return nil
    }

    /// Whether a fresh statement for `sql` should be kept (and prepared as persistent).
    func wants(_ sql: String) -> Bool {
        capacity > 0 && entries[sql] == nil
    }

    /// Keeps a freshly prepared statement, in use; evicts the least recently used free ones.
    func insert(_ sql: String, _ statement: OpaquePointer) -> Entry {
        let entry = Entry(statement: statement)
        clock += 1
        entry.lastUse = clock
        entry.inUse = true
        entries[sql] = entry
        while entries.count > capacity {
            var victim: (key: String, value: Entry)?
            for candidate in entries where !candidate.value.inUse {
                if victim == nil || candidate.value.lastUse < victim!.value.lastUse { victim = candidate }
            }
            guard let victim else { break }
            entries[victim.key] = nil
            sqlite3_finalize(victim.value.statement)
        }
        return entry
    }

    func finalizeAll() {
        for entry in entries.values { sqlite3_finalize(entry.statement) }
        entries.removeAll()
    }
}
