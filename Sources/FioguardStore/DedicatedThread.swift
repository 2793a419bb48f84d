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
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }

        func run() {
            fg_name_current_thread(name)
            body()
        }
    }

    /// `name` labels errors and, on Linux, the thread (`top -H`, `perf`, `/proc/PID/task/*/comm`
    /// show its first 15 bytes).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(StoreError) {
        let entry = Unmanaged.passRetained(Entry(name: name, body: body))
        #if canImport(Glibc)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let entry = Unmanaged<Entry>.fromOpaque(raw!).takeRetainedValue()
            entry.run()
            return nil
        }, entry.toOpaque())
        #else
        var thread: pthread_t?
        let rc = pthread_create(&thread, nil, { raw in
            let entry = Unmanaged<Entry>.fromOpaque(raw).takeRetainedValue()
            entry.run()
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
