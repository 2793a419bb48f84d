/// How the store opens its file and sizes its threads; every field has a default but `path`.
public struct DatabaseConfiguration: Sendable {
    /// The database file; it is created if missing, its directory is not. `:memory:` is refused
    /// because readers use their own connections to the same file.
    public var path: String
    /// Reader threads, each owning one connection.
    public var readerCount: Int = 2
    /// How long a connection waits for a lock held by another process before SQLITE_BUSY.
    public var busyTimeoutMilliseconds: Int32 = 5000
    /// Most write closures committed in one transaction.
    public var maxGroupSize: Int = 512
    /// Prepared statements kept per connection (LRU by SQL text); 0 disables the cache.
    public var statementCacheSize: Int = 64
    /// SQLite page cache per connection, KiB. Readers keep hot pages across requests (no pread
    /// per lookup) as long as no write intervenes; bounded so peak RSS stays predictable.
    public var pageCacheKiB: Int = 16 * 1024
    /// WAL size (pages) after a commit that asks the checkpoint thread for a checkpoint (at least 100).
    public var walAutocheckpointPages: Int = 16_384

    /// Whether connections gather a commit's WAL writes into one (`WALGathering`). Off, they use
    /// SQLite's default VFS; the files are the same either way.
    public var gatherWALWrites: Bool = true

    public init(path: String) {
        self.path = path
    }
}
