#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite

/// Starts detached pthreads for the store's long-lived workers (one writer, N readers), so that
/// SQLite's blocking calls never run on a Swift concurrency or NIO thread.
enum DedicatedThread {
    private final class Entry: Sendable {
        let body: @Sendable () -> Void
        init(body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// `name` only labels errors: Glibc hides pthread_setname_np behind _GNU_SOURCE.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(StoreError) {
        let entry = Unmanaged.passRetained(Entry(body: body))
        #if canImport(Glibc)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let entry = Unmanaged<Entry>.fromOpaque(raw!).takeRetainedValue()
            entry.body()
            return nil
        }, entry.toOpaque())
        #else
        var thread: pthread_t?
        let rc = pthread_create(&thread, nil, { raw in
            let entry = Unmanaged<Entry>.fromOpaque(raw).takeRetainedValue()
            entry.body()
            return nil
        }, entry.toOpaque())
        #endif
        guard rc == 0 else {
            entry.release()
            throw StoreError(code: SQLITE_ERROR, message: "cannot start thread \(name): pthread_create returned \(rc)")
        }
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        pthread_detach(thread!)
        #endif
    }
}
