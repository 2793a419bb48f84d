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

/* ---- WAL write gathering ------------------------------------------------------------------
   SQLite writes each WAL frame as two pwrite calls, its 24-byte header and then its page: a
   commit of 35 pages makes 70 system calls. The VFS "fioguard" is the unix VFS, but while a
   commit is armed (fg_wal_gather_begin, just before COMMIT), the WAL file's writes are gathered
   as long as they follow one another and handed to the unix VFS in as few writes as its
   0x1ffff-byte limit allows:

   - right after the commit frame's page (a frame header whose database size is not zero marks
     it; SQLite writes the commit frame last). What the commit writes after it (frame headers
     rewritten with new checksums, padding to a sector) goes straight through. So every frame is
     in the file before SQLite syncs the WAL and before it publishes the commit in the WAL index,
     whatever the synchronous setting;
   - before a sync (of the WAL's header, after a restart), a read, a size, a truncation or a file
     control of the WAL;
   - when a write does not continue the gathered bytes or would not fit.

   Durability is SQLite's, as without the gathering: with synchronous=FULL (every fioguard
   connection) the commit's frames are synced before COMMIT returns.

   A gathering that fails to reach the file stays failed: every later write, read, sync, size,
   truncation and file control of the WAL returns its error until the commit ends
   (fg_wal_gather_end), so SQLite cannot complete a commit that lost frames, whichever call it
   learns of the error from. (The write that flushes gets the error itself; the stickiness guards
   against SQLite going on regardless.) Outside an armed commit (a page-cache spill, a rollback,
   a checkpoint) every write goes straight through, so nothing gathered can outlive the commit
   that wrote it. fg_wal_gather_end drops what a failed commit left; a commit that succeeded has
   left nothing, since its commit frame flushed it.

   Main databases and every other file are the unix VFS's own (the same structure, so
   fg_sqlite3_unix_descriptor still applies to them); locks and the WAL index are untouched. */

/* The unix VFS masks a write's length with 0x1ffff (seekAndWriteFd in os_unix.c): a longer one
   would lose its upper bits and fail as SQLITE_FULL. 124 KiB holds 30 frames of 4 KiB pages. */
#define FG_WAL_GATHER_CAPACITY (124 * 1024)
#define FG_WAL_FRAME_HEADER 24

typedef struct fg_wal_file {
    sqlite3_file base;      /* pMethods: the methods in fg_wal_vfs_data */
    sqlite3_file *real;     /* the unix VFS's file, allocated right after this structure */
    unsigned char *buffer;  /* FG_WAL_GATHER_CAPACITY bytes once an armed write needed them */
    sqlite3_int64 offset;   /* where buffer[0] goes in the file */
    int length;             /* bytes gathered */
    int armed;              /* gathering: from fg_wal_gather_begin to the commit frame or fg_wal_gather_end */
    int failed;             /* a gathering's error, returned until fg_wal_gather_end; else SQLITE_OK */
    sqlite3_int64 commit_page_at; /* offset of the commit frame's page once its header came; else -1 */
    sqlite3_int64 writes;   /* writes SQLite made (for tests) */
    sqlite3_int64 flushes;  /* writes handed to the unix VFS, gathered or not (for tests) */
    int passing_flushes;    /* for tests: how many gathered writes go out before failing_flushes */
    int failing_flushes;    /* for tests: how many gathered writes then fail, with failing_code */
    int failing_code;
} fg_wal_file;

/* The VFS's pAppData. Swift compiles a header's static functions and their static variables
   once per object file that uses them, so the VFS is recognized by its name and this structure's
   magic number, and its WAL files by the methods its xOpen set, reached through it. */
#define FG_WAL_VFS_MAGIC 0x66677761u /* "fgwa" */
typedef struct fg_wal_vfs_data {
    unsigned magic;
    sqlite3_vfs *unix_vfs;
    const sqlite3_io_methods *methods;
} fg_wal_vfs_data;

static inline int fg_wal_flush(fg_wal_file *f) {
    if (f->length == 0) return SQLITE_OK;
    int length = f->length;
    f->length = 0;
    f->flushes += 1;
    int rc;
    if (f->passing_flushes == 0 && f->failing_flushes > 0) {
        f->failing_flushes -= 1;
        rc = f->failing_code;
    } else {
        if (f->passing_flushes > 0) f->passing_flushes -= 1;
        rc = f->real->pMethods->xWrite(f->real, f->buffer, length, f->offset);
    }
    if (rc != SQLITE_OK) f->failed = rc;
    return rc;
}

static int fg_wal_close(sqlite3_file *file) {
    fg_wal_file *f = (fg_wal_file *)file;
    sqlite3_free(f->buffer);  /* empty: nothing gathered outlives a commit */
    f->buffer = 0;
    f->length = 0;
    return f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
}

static int fg_wal_read(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset) {
    fg_wal_file *f = (fg_wal_file *)file;
    if (f->failed != SQLITE_OK || fg_wal_flush(f) != SQLITE_OK) return f->failed;
    return f->real->pMethods->xRead(f->real, out, amount, offset);
}

static int fg_wal_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset) {
    fg_wal_file *f = (fg_wal_file *)file;
    f->writes += 1;
    if (f->failed != SQLITE_OK) return f->failed;
    if (f->armed && amount == FG_WAL_FRAME_HEADER) {
        const unsigned char *h = (const unsigned char *)data;
        if (h[4] | h[5] | h[6] | h[7]) f->commit_page_at = offset + FG_WAL_FRAME_HEADER;
    }
    if (f->armed && f->buffer == 0 && amount <= FG_WAL_GATHER_CAPACITY)
        f->buffer = (unsigned char *)sqlite3_malloc(FG_WAL_GATHER_CAPACITY);
    int follows = f->length > 0 && offset == f->offset + f->length && f->length + amount <= FG_WAL_GATHER_CAPACITY;
    if (!follows) {
        if (fg_wal_flush(f) != SQLITE_OK) return f->failed;
        if (!f->armed || f->buffer == 0 || amount > FG_WAL_GATHER_CAPACITY) {
            f->flushes += 1;
            int rc = f->real->pMethods->xWrite(f->real, data, amount, offset);
            if (rc != SQLITE_OK && f->armed) f->failed = rc;
            if (offset == f->commit_page_at) {  /* written directly (no buffer): disarm as below */
                f->commit_page_at = -1;
                f->armed = 0;
            }
            return rc;
        }
        f->offset = offset;
    }
    memcpy(f->buffer + f->length, data, (size_t)amount);
    f->length += amount;
    if (offset == f->commit_page_at) {
        f->commit_page_at = -1;
        f->armed = 0;
        if (fg_wal_flush(f) != SQLITE_OK) return f->failed;
    }
    return SQLITE_OK;
}

static int fg_wal_truncate(sqlite3_file *file, sqlite3_int64 size) {
    fg_wal_file *f = (fg_wal_file *)file;
    if (f->failed != SQLITE_OK || fg_wal_flush(f) != SQLITE_OK) return f->failed;
    return f->real->pMethods->xTruncate(f->real, size);
}

static int fg_wal_sync(sqlite3_file *file, int flags) {
    fg_wal_file *f = (fg_wal_file *)file;
    if (f->failed != SQLITE_OK || fg_wal_flush(f) != SQLITE_OK) return f->failed;
    return f->real->pMethods->xSync(f->real, flags);
}

static int fg_wal_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    fg_wal_file *f = (fg_wal_file *)file;
    if (f->failed != SQLITE_OK || fg_wal_flush(f) != SQLITE_OK) return f->failed;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int fg_wal_lock(sqlite3_file *file, int level) {
    fg_wal_file *f = (fg_wal_file *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int fg_wal_unlock(sqlite3_file *file, int level) {
    fg_wal_file *f = (fg_wal_file *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int fg_wal_check_reserved_lock(sqlite3_file *file, int *out) {
    fg_wal_file *f = (fg_wal_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int fg_wal_file_control(sqlite3_file *file, int op, void *arg) {
    fg_wal_file *f = (fg_wal_file *)file;
    if (f->failed != SQLITE_OK || fg_wal_flush(f) != SQLITE_OK) return f->failed;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int fg_wal_sector_size(sqlite3_file *file) {
    fg_wal_file *f = (fg_wal_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int fg_wal_device_characteristics(sqlite3_file *file) {
    fg_wal_file *f = (fg_wal_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static inline int fg_wal_real_offset(void) {
    return (int)((sizeof(fg_wal_file) + 7) & ~(size_t)7);
}

static int fg_wal_gather_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags) {
    fg_wal_vfs_data *data = (fg_wal_vfs_data *)vfs->pAppData;
    sqlite3_vfs *unix_vfs = data->unix_vfs;
    if (!(flags & SQLITE_OPEN_WAL)) return unix_vfs->xOpen(unix_vfs, name, file, flags, out_flags);
    fg_wal_file *f = (fg_wal_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)file + fg_wal_real_offset());
    f->commit_page_at = -1;
    int rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out_flags);
    /* A failed xOpen leaves pMethods 0, and SQLite then never calls xClose (sqlite3OsOpen). */
    f->base.pMethods = rc == SQLITE_OK ? data->methods : 0;
    return rc;
}

/* The unix VFS's methods but xOpen, called with the unix VFS itself. */
#define FG_WAL_FORWARD(ret, member, params, args)                                              \
    static ret fg_wal_vfs_##member params {                                                   \
        sqlite3_vfs *u = ((fg_wal_vfs_data *)vfs->pAppData)->unix_vfs;                         \
        return u->member args;                                                                 \
    }
FG_WAL_FORWARD(int, xDelete, (sqlite3_vfs *vfs, const char *name, int sync_dir), (u, name, sync_dir))
FG_WAL_FORWARD(int, xAccess, (sqlite3_vfs *vfs, const char *name, int flags, int *out), (u, name, flags, out))
FG_WAL_FORWARD(int, xFullPathname, (sqlite3_vfs *vfs, const char *name, int n, char *out), (u, name, n, out))
FG_WAL_FORWARD(void *, xDlOpen, (sqlite3_vfs *vfs, const char *name), (u, name))
FG_WAL_FORWARD(void, xDlError, (sqlite3_vfs *vfs, int n, char *out), (u, n, out))
FG_WAL_FORWARD(void, xDlClose, (sqlite3_vfs *vfs, void *handle), (u, handle))
FG_WAL_FORWARD(int, xRandomness, (sqlite3_vfs *vfs, int n, char *out), (u, n, out))
FG_WAL_FORWARD(int, xSleep, (sqlite3_vfs *vfs, int microseconds), (u, microseconds))
FG_WAL_FORWARD(int, xCurrentTime, (sqlite3_vfs *vfs, double *out), (u, out))
FG_WAL_FORWARD(int, xGetLastError, (sqlite3_vfs *vfs, int n, char *out), (u, n, out))
FG_WAL_FORWARD(int, xCurrentTimeInt64, (sqlite3_vfs *vfs, sqlite3_int64 *out), (u, out))
#undef FG_WAL_FORWARD
typedef void (*fg_wal_symbol)(void);
static fg_wal_symbol fg_wal_vfs_xDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol) {
    sqlite3_vfs *u = ((fg_wal_vfs_data *)vfs->pAppData)->unix_vfs;
    return u->xDlSym(u, handle, symbol);
}

/* The VFS's data if `vfs` is this VFS, else 0. */
static inline fg_wal_vfs_data *fg_wal_vfs_data_of(sqlite3_vfs *vfs) {
    if (!vfs || !vfs->zName || strcmp(vfs->zName, "fioguard") != 0 || !vfs->pAppData) return 0;
    fg_wal_vfs_data *data = (fg_wal_vfs_data *)vfs->pAppData;
    return data->magic == FG_WAL_VFS_MAGIC ? data : 0;
}

/* Registers the VFS "fioguard" (not as the default) over the unix VFS. SQLITE_OK, also when it
   was registered before; SQLITE_NOTFOUND without a unix VFS, SQLITE_ERROR if another VFS has the
   name. Not thread-safe: Swift's `WALGathering.vfsName` calls it once. */
static inline int fg_sqlite3_register_wal_gathering(void) {
    sqlite3_vfs *registered = sqlite3_vfs_find("fioguard");
    if (registered) return fg_wal_vfs_data_of(registered) ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
    if (!unix_vfs || unix_vfs->iVersion < 2) return SQLITE_NOTFOUND;
    /* Version 1: a WAL file is never memory-mapped and has no WAL index of its own. */
    static const sqlite3_io_methods methods = {
        1, fg_wal_close, fg_wal_read, fg_wal_write, fg_wal_truncate, fg_wal_sync, fg_wal_file_size,
        fg_wal_lock, fg_wal_unlock, fg_wal_check_reserved_lock, fg_wal_file_control, fg_wal_sector_size,
        fg_wal_device_characteristics,
    };
    static fg_wal_vfs_data data;
    static sqlite3_vfs vfs;
    data.magic = FG_WAL_VFS_MAGIC;
    data.unix_vfs = unix_vfs;
    data.methods = &methods;
    int size = fg_wal_real_offset() + unix_vfs->szOsFile;
    vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = size,
        .mxPathname = unix_vfs->mxPathname,
        .zName = "fioguard",
        .pAppData = &data,
        .xOpen = fg_wal_gather_open,
        .xDelete = fg_wal_vfs_xDelete,
        .xAccess = fg_wal_vfs_xAccess,
        .xFullPathname = fg_wal_vfs_xFullPathname,
        .xDlOpen = fg_wal_vfs_xDlOpen,
        .xDlError = fg_wal_vfs_xDlError,
        .xDlSym = fg_wal_vfs_xDlSym,
        .xDlClose = fg_wal_vfs_xDlClose,
        .xRandomness = fg_wal_vfs_xRandomness,
        .xSleep = fg_wal_vfs_xSleep,
        .xCurrentTime = fg_wal_vfs_xCurrentTime,
        .xGetLastError = fg_wal_vfs_xGetLastError,
        .xCurrentTimeInt64 = fg_wal_vfs_xCurrentTimeInt64,
    };
    return sqlite3_vfs_register(&vfs, 0);
}

/* db's WAL file if this VFS opened it, else 0 (another VFS, the WAL not open, not in WAL mode). */
static inline fg_wal_file *fg_wal_file_of(sqlite3 *db) {
    sqlite3_vfs *vfs = 0;
    sqlite3_file *file = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK) return 0;
    fg_wal_vfs_data *data = fg_wal_vfs_data_of(vfs);
    if (!data || sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) != SQLITE_OK || !file
        || file->pMethods != data->methods)
        return 0;
    return (fg_wal_file *)file;
}

/* Arms gathering for db's next commit; call it just before stepping COMMIT. 1 if armed, 0 if
   db's WAL is not this VFS's (another VFS, not in WAL mode, the WAL not open yet). */
static inline int fg_wal_gather_begin(sqlite3 *db) {
    fg_wal_file *f = fg_wal_file_of(db);
    if (!f) return 0;
    f->armed = 1;
    f->failed = SQLITE_OK;
    f->commit_page_at = -1;
    return 1;
}

/* Ends what fg_wal_gather_begin armed, once COMMIT returned. If it failed (committed 0), drops
   whatever it left gathered. A commit that succeeded wrote its commit frame, which flushed and
   disarmed, so nothing is left and SQLITE_OK comes back. The rest is a guard that cannot fire:
   bytes left after a success are written now, and a failure there (or a sticky error SQLite
   went on past) is returned, which the caller must take as a store that has lost a published
   commit. */
static inline int fg_wal_gather_end(sqlite3 *db, int committed) {
    fg_wal_file *f = fg_wal_file_of(db);
    if (!f) return SQLITE_OK;
    int rc = SQLITE_OK;
    if (committed && f->failed == SQLITE_OK) rc = fg_wal_flush(f);
    else if (committed) rc = f->failed;
    f->length = 0;
    f->armed = 0;
    f->failed = SQLITE_OK;
    f->commit_page_at = -1;
    return rc;
}

/* For tests: how many writes SQLite made to db's WAL file and how many reached the unix VFS,
   if this VFS opened it; 0 if not. */
static inline int fg_wal_file_counts(sqlite3 *db, sqlite3_int64 *writes, sqlite3_int64 *flushes) {
    fg_wal_file *f = fg_wal_file_of(db);
    if (!f) return 0;
    *writes = f->writes;
    *flushes = f->flushes;
    return 1;
}
/* For tests: after the next `skip` gathered writes to db's WAL file, `count` fail with `code`
   instead of reaching the file, as a full disk or an I/O error would fail them. 0 if db's WAL
   is not this VFS's. */
static inline int fg_wal_fail_gathered_writes(sqlite3 *db, int skip, int count, int code) {
    fg_wal_file *f = fg_wal_file_of(db);
    if (!f) return 0;
    f->passing_flushes = skip;
    f->failing_flushes = count;
    f->failing_code = code;
    return 1;
}
#endif
