/// One forward-only schema step. `sql` may hold several statements; it runs inside a transaction
/// that also records the step in `schema_migrations`, so transaction control is refused in it.
/// `foreign_keys` stays ON (the pragma is a no-op inside a transaction): a table rebuild should start
/// with `PRAGMA defer_foreign_keys = ON;`.
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
