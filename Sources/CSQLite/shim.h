#ifndef FIOGUARD_CSQLITE_SHIM_H
#define FIOGUARD_CSQLITE_SHIM_H
#include <sqlite3.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
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

/* The descriptor of a file that SQLite's unix VFS opened. Its unixFile begins with the I/O
   methods, the VFS, the inode's lock information, then the descriptor (os_unix.c, the same since
   SQLite 3.7). sqlite3.h gives no way to it, so callers check the VFS's name and that the
   descriptor is the file they expect before they use it. */
static inline int fg_sqlite3_unix_descriptor(sqlite3_file *file) {
    struct fg_unix_file_head { const sqlite3_io_methods *methods; sqlite3_vfs *vfs; void *inode; int h; };
    int h;
    memcpy(&h, (const char *)file + offsetof(struct fg_unix_file_head, h), sizeof h);
    return h;
}

/* Writes out the dirty pages of [offset, offset + length) of fd and waits for them: Linux's
   sync_file_range with WAIT_BEFORE | WRITE | WAIT_AFTER. It flushes neither the device's cache
   nor the file's metadata (fdatasync does). Glibc declares sync_file_range only under
   _GNU_SOURCE, which Swift's Glibc module leaves out, hence the system call. 0, or minus the
   errno (-ENOSYS where there is no such call). */
static inline int fg_write_out_range(int fd, long long offset, long long length) {
#if defined(__linux__) && defined(SYS_sync_file_range)
    return syscall(SYS_sync_file_range, fd, offset, length, 1u | 2u | 4u) == 0 ? 0 : -errno;
#else
    (void)fd; (void)offset; (void)length;
    return -ENOSYS;
#endif
}

/* sqlite3_db_config is variadic. SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE: closing the last connection
   leaves the WAL as it is instead of checkpointing it into the database file. */
static inline int fg_sqlite3_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
#endif
