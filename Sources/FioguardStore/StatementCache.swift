#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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

    /// SQL text as a key, hashed on its length and its first and last 32 bytes: statements
    /// differ there (verb and table, the WHERE clause). Hashing all of a ~200-byte text cost
    /// about 1,300 instructions per statement run (callgrind), more than the rest of the lookup;
    /// equality still compares the whole text, so texts sharing a hash only cost a comparison.
    /// Both compare UTF-8 bytes, as SQLite does (String's own `==` would call two spellings of
    /// "é" equal while their bytes hash apart).
    struct Key: Hashable {
        let text: String

        static func == (a: Key, b: Key) -> Bool {
            var (x, y) = (a.text, b.text)
            return x.withUTF8 { p in y.withUTF8 { q in p.count == q.count && (p.count == 0 || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0) } }
        }

        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { bytes in
                hasher.combine(bytes.count)
                let raw = UnsafeRawBufferPointer(bytes)
                if raw.count <= 64 {
                    hasher.combine(bytes: raw)
                } else {
                    hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw.prefix(32)))
                    hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw.suffix(32)))
                }
            }
        }
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count }

    /// A free cached statement for `sql`, marked in use; nil on a miss.
    func checkOut(_ sql: String) -> Entry? {
        if let entry = entries[Key(text: sql)], !entry.inUse {
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
        capacity > 0 && entries[Key(text: sql)] == nil
    }

    /// Keeps a freshly prepared statement, in use; evicts the least recently used free ones.
    func insert(_ sql: String, _ statement: OpaquePointer) -> Entry {
        let entry = Entry(statement: statement)
        clock += 1
        entry.lastUse = clock
        entry.inUse = true
        entries[Key(text: sql)] = entry
        while entries.count > capacity {
            var victim: (key: Key, value: Entry)?
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
