/* store_fault.c -- fault injection for tests: an SQLite VFS that fails.
 *
 * With MQ_FAULT unset this does nothing. With MQ_FAULT="write:N",
 * "sync:N", "full:N" or "stall:N", store_fault_install() registers, as
 * SQLite's default, a VFS that forwards every call to the real one except
 * that the Nth xWrite fails with SQLITE_IOERR_WRITE (write), the Nth xSync
 * with SQLITE_IOERR_FSYNC (sync), the Nth xWrite with SQLITE_FULL (full), or
 * the Nth xSync never returns (stall: a disk that hangs), counting from the
 * first store opened. Only that one call fails: what the
 * store does next (refuse writes rather than retry a failed flush) is what
 * the tests check, not a disk that stays broken. Used by
 * tests/js/faults.test.mjs through `multiquote serve`.
 */
#include "store_backend.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { FAULT_WRITE, FAULT_SYNC, FAULT_FULL, FAULT_STALL } fault_kind;

static struct {
    sqlite3_vfs vfs, *real;
    sqlite3_io_methods methods;
    fault_kind kind;
    atomic_long countdown; /* the call that takes it from 1 to 0 fails */
} fault;

typedef struct fault_file {
    sqlite3_file base;
    sqlite3_file *real; /* the real VFS's file, right after this struct */
} fault_file;

#define REAL(f) (((fault_file *)(f))->real)

/* True for the one call that is to fail. */
static bool strike(void)
{
    return atomic_fetch_sub(&fault.countdown, 1) == 1;
}

static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    if ((fault.kind == FAULT_WRITE || fault.kind == FAULT_FULL) && strike())
        return fault.kind == FAULT_FULL ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}

static int f_sync(sqlite3_file *f, int flags)
{
    if (fault.kind == FAULT_SYNC && strike())
        return SQLITE_IOERR_FSYNC;
    if (fault.kind == FAULT_STALL && strike())
        for (;;)
            pause(); /* the flush that never comes back */
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

/* ---- Plain forwarding ------------------------------------------------------- */

static int f_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int f_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_reserved(sqlite3_file *f, int *r)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}
static int f_control(sqlite3_file *f, int op, void *a)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, a);
}
static int f_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **p)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, p);
}
static int f_shm_lock(sqlite3_file *f, int o, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), o, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p)
{
    return REAL(f)->pMethods->xFetch(REAL(f), o, n, p);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static int f_open(sqlite3_vfs *v, const char *name, sqlite3_file *file, int flags, int *out)
{
    (void)v;
    fault_file *ff = (fault_file *)file;
    ff->real = (sqlite3_file *)(ff + 1);
    int rc = fault.real->xOpen(fault.real, name, ff->real, flags, out);
    ff->base.pMethods = ff->real->pMethods ? &fault.methods : NULL;
    return rc;
}

/* MQ_FAULT's kind and N; false when unset or malformed (then no faults). */
static bool parse_fault(const char *spec, fault_kind *kind, long *n)
{
    static const struct {
        const char *name;
        fault_kind kind;
    } kinds[] = {{"write:", FAULT_WRITE},
                 {"sync:", FAULT_SYNC},
                 {"full:", FAULT_FULL},
                 {"stall:", FAULT_STALL}};
    for (size_t i = 0; spec && i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t len = strlen(kinds[i].name);
        if (strncmp(spec, kinds[i].name, len) != 0)
            continue;
        char *end;
        *n = strtol(spec + len, &end, 10);
        *kind = kinds[i].kind;
        return *end == '\0' && *n > 0;
    }
    return false;
}

void store_fault_install(void)
{
    static atomic_flag done = ATOMIC_FLAG_INIT;
    fault_kind kind;
    long n;
    const char *spec = getenv("MQ_FAULT");
    if (!spec || !*spec || atomic_flag_test_and_set(&done))
        return;
    if (!parse_fault(spec, &kind, &n)) {
        fprintf(stderr, "MQ_FAULT=%s: expected write:N, sync:N, full:N or stall:N; no faults\n",
                spec);
        return;
    }
    fault.real = sqlite3_vfs_find(NULL);
    if (!fault.real)
        return;
    fault.kind = kind;
    atomic_store(&fault.countdown, n);
    fault.vfs = *fault.real;
    fault.vfs.zName = "mq-fault";
    fault.vfs.szOsFile = (int)sizeof(fault_file) + fault.real->szOsFile;
    fault.vfs.xOpen = f_open;
    fault.methods = (sqlite3_io_methods){
        3,          f_close,       f_read,      f_write,   f_truncate, f_sync,   f_size,
        f_lock,     f_unlock,      f_reserved,  f_control, f_sector,   f_device, f_shm_map,
        f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch,   f_unfetch};
    sqlite3_vfs_register(&fault.vfs, 1);
}
