/// One forward-only schema step. `sql` may hold several statements; it runs inside a transaction
/// that also records the step in `schema_migrations`, so transaction control is refused in it.
/// `foreign_keys` stays ON (the pragma is a no-op inside a transaction). A table nothing references
/// can be rebuilt (create, copy, drop, rename). A parent table cannot: dropping it counts every
/// row that references it as a violation, even with `PRAGMA defer_foreign_keys = ON`, and the
/// step fails at COMMIT; its children must be rebuilt in the same step. Parents today: `subjects`
/// and `facial_ids` (Schema v8 keeps `consent_events` free of references for this reason).
public struct Migration: Sendable {
    /// Positive and unique; steps run in ascending order.
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
