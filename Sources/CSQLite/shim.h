#ifndef FIOGUARD_CSQLITE_SHIM_H
#define FIOGUARD_CSQLITE_SHIM_H
#include <sqlite3.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* SQLITE_TRANSIENT is a macro casting -1 to a destructor pointer; Swift cannot import it. */
static inline int fg_sqlite3_bind_text(sqlite3_stmt *s, int i, const char *text, int n) {
    return sqlite3_bind_text(s, i, text, n, SQLITE_TRANSIENT);
}
static inline int fg_sqlite3_bind_blob(sqlite3_stmt *s, int i, const void *data, int n) {
    return sqlite3_bind_blob(s, i, data, n, SQLITE_TRANSIENT);
}

/* Names the calling thread (at most 15 bytes show) for top -H, perf and /proc; Linux only, a
   no-op elsewhere. prctl is variadic and Glibc's module hides pthread_setname_np behind
   _GNU_SOURCE, so neither is callable from Swift. */
static inline void fg_name_current_thread(const char *name) {
#ifdef __linux__
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
#else
    (void)name;
#endif
}

/* sqlite3_config is variadic, which Swift cannot call. Only valid before SQLite initializes. */
static inline int fg_sqlite3_config_memstatus(int on) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, on);
}
#endif
