#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FioguardStore
import Logging

/// A fresh directory under /tmp for one test's database files, removed afterwards.
func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    var template = Array("/tmp/fioguard-store-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let made = mkdtemp(buffer.baseAddress!) else { return nil }
        return String(cString: made)
    }
    guard let path else { throw TestFailure("mkdtemp failed") }
    defer { removeDirectory(path) }
    return try await body(path)
}

private func removeDirectory(_ path: String) {
    if let directory = opendir(path) {
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { unlink(path + "/" + name) }
        }
        closedir(directory)
    }
    rmdir(path)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let quietLogger = Logger(label: "fioguard.store.tests") { _ in SwiftLogNoOpLogHandler() }

/// Opens the store in `directory`, at once: a store another test closed has given its lock back,
/// even while a child another test is starting holds a copy of its descriptor (see
/// `aClosedStoreFreesItsFileWhileACopyOfTheLockDescriptorLives`).
func openDatabase(
    _ directory: String, migrations: [Migration] = sampleMigrations,
    configure: (inout DatabaseConfiguration) -> Void = { _ in }
) throws(StoreError) -> Database {
    var configuration = DatabaseConfiguration(path: directory + "/store.sqlite")
    configure(&configuration)
    return try Database(configuration: configuration, migrations: migrations, logger: quietLogger)
}

/// Three steps of a small schema, as the services' real migrations will be.
let sampleMigrations = [
    Migration(
        version: 1, name: "subjects",
        sql: """
            CREATE TABLE subject (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
            CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
            """),
    Migration(
        version: 2, name: "consents",
        sql: """
            CREATE TABLE consent (
                id INTEGER PRIMARY KEY,
                subject_id INTEGER NOT NULL REFERENCES subject(id),
                purpose TEXT NOT NULL
            );
            INSERT INTO subject (name) VALUES ('seeded');
            """),
    Migration(
        version: 3, name: "consent-index",
        sql: """
            ALTER TABLE consent ADD COLUMN granted_at INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX consent_subject ON consent(subject_id);
            """),
]

/// Spins (on whatever thread) until `condition` holds or `timeout` passes; for use inside closures
/// running on the store's threads, where awaiting is impossible.
func spin(timeout: Duration = .seconds(30), until condition: () -> Bool) {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() && clock.now < deadline { usleep(200) }
}

/// Polls from async code until `condition` holds or `timeout` passes.
func poll(timeout: Duration = .seconds(30), until condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() {
        guard clock.now < deadline else { throw TestFailure("timed out") }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// A flag set on one thread and read on another.
///
/// `@unchecked Sendable`: `value` is only touched while holding `mutex`.
final class Flag: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value = false

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    var isSet: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return value
    }

    func set() {
        pthread_mutex_lock(mutex)
        value = true
        pthread_mutex_unlock(mutex)
    }
}

func count(_ table: String, in db: Database) async throws -> Int64 {
    try await db.read { try $0.queryOne("SELECT count(*) FROM \(table)")?.int(0) ?? -1 }
}
