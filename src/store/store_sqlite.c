/* store_sqlite.c -- the embedded backend: saved quotes in one SQLite file.
 *
 * One connection, opened in WAL mode with synchronous=FULL so a committed
 * quote survives a crash; calls are serialised by `lock` (store.c's single
 * writer thread and the other calls share it). A saved quote read by id
 * runs on read-only connections of their own instead, which WAL lets read
 * the last committed state while a commit is under way (reads apart,
 * below). Another connection belongs to the checkpointer thread, which
 * copies the WAL into the database outside the commits (below). The
 * schema is versioned in PRAGMA user_version and migrated at open inside
 * BEGIN IMMEDIATE, so two processes opening a new file at once migrate it
 * once. Statements are prepared once; their parameters are bound by name
 * ($1, $2...) since SQLite numbers named parameters in order of
 * appearance. An I/O error, a full disk or corruption is STORE_FATAL:
 * store.c then refuses writes; so is a database file moved, replaced or
 * deleted under the process.
 */
#include "store_backend.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Checkpoints off the commit's path. SQLite's automatic checkpoint runs
 * inside the commit that crosses its threshold: the writer then copies the
 * whole WAL into the database and fsyncs it while every quote queued
 * behind that commit waits (tens of milliseconds, the p99 of a save under
 * load). Instead a WAL hook on the writer's connection notes when a commit
 * left CHECKPOINT_BYTES or more in the WAL, and a thread of our own copies
 * them on a second connection with a PASSIVE checkpoint, which never
 * blocks the writer or a reader. A commit can only start the WAL over when
 * every frame has been copied, which under constant load the thread never
 * quite achieves; so once the WAL holds WAL_RESTART_BYTES the writer copies
 * the few frames left itself, and the WAL stays within about 16 MiB. After
 * a restart the thread starts copying at CHECKPOINT_BYTES (1 MiB), and
 * then after every commit: its first checkpoint of a WAL
 * writes and fsyncs that much of the database at once, and every commit's
 * own fsync waits behind it. At 4 MiB that wait was the p99 of a save
 * under load; at 1 MiB the p99 is 2-4 ms lower (bench/README.md). */
enum { CHECKPOINT_BYTES = 1024 * 1024, WAL_RESTART_BYTES = 16 * CHECKPOINT_BYTES };

/* The page size of a new database. With 8 KiB pages a commit's quotes
 * (about 2 KB each, packed) take half as many WAL frames as with SQLite's
 * 4 KiB, each frame two pwrites and a page of kernel bookkeeping: 3-7% more
 * quotes/s in paired runs of bench/bench_http.sh, although more bytes are
 * written per quote (7.4 KB against 6.0 for the family request: each
 * commit rewrites the last, part-filled page of every table and index). A
 * quote with an email (2.1 KB, just over half of 4 KiB) goes three to an
 * 8 KiB page instead of one to a 4 KiB page: 2.8 KB of database per quote
 * instead of 4.2. 16 and 32 KiB pages wrote 12.7 and 19.4 KB per quote,
 * for no more quotes/s. An existing database keeps its page size. */
#define NEW_PAGE_SIZE "8192"

typedef struct checkpointer {
    sqlite3 *db; /* its own connection; NULL: SQLite checkpoints by itself */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool due, stop;
    int first_frames, restart_frames; /* CHECKPOINT_BYTES, WAL_RESTART_BYTES in frames */
} checkpointer;

/* A dictionary this connection has written with or read (store_pack.c). */
typedef struct sq_dict {
    store_dict d;  /* d.bytes: owned, malloc'd */
    char line[16]; /* the line whose responses it packs; "request": requests */
    bool fixed;    /* one of this program's built-in dictionaries */
} sq_dict;

/* A read-only connection of its own for reads of a quote by id (reads
 * apart, below): its statements, and the dictionaries other than the
 * built-in ones that it has read (their bytes malloc'd). */
typedef struct reader {
    sqlite3 *db;
    sqlite3_stmt *select;      /* ST_SELECT */
    sqlite3_stmt *dict_select; /* a pack_dicts row by id */
    store_dict *dicts;         /* ndicts of cap */
    int ndicts, cap;
    bool busy; /* taken by a read (readers_lock) */
} reader;

/* The readers opened with the store: as many as the server's read threads
 * (mq-read); a read finding them all taken waits for one. */
enum { READERS = 2 };

enum { MAX_PARAMS = 16 }; /* $1..$16 at most in a statement */
_Static_assert((int)STORE_QUOTE_COLS <= (int)MAX_PARAMS, "a quote's columns are parameters");

typedef struct sq {
    sqlite3 *db;
    char *path; /* the database file, named in every error (name_file) */
    /* the file opened, to notice it was moved, replaced or deleted under
     * the process (file_replaced); has_file: false when stat failed */
    dev_t dev;
    ino_t ino;
    bool has_file;
    pthread_mutex_t lock; /* guards the connection and everything below */
    sqlite3_stmt *st[ST_NSTMT];
    /* where $1, $2... are in each statement (SQLite numbers named
     * parameters in order of appearance), 0 where one is not used: found
     * once at prepare, not per bind */
    int param_at[ST_NSTMT][MAX_PARAMS];
    sqlite3_stmt *dict_select;
    sq_dict *dicts; /* ndicts of cap, in no order */
    int ndicts, cap;
    store_packer *packer; /* the writer's, under lock */
    /* the built-in dictionaries as they were at open, never changed after:
     * mq_store_pack reads them on other threads without the lock, each
     * thread with a packer of its own: its LZ4 state stays in that core's
     * cache (a pool shared by the threads cost 5% in paired runs). Each is
     * kept in thread-specific data and in `packers`, freed at close. */
    struct fixed_snap {
        store_dict d;
        char line[16];
    } fixed[STORE_MAX_FIXED_DICTS];
    int nfixed;
    pthread_key_t packer_key;
    bool has_packer_key;
    bool read_only;               /* opened read-only (mq_store_options.may_read_only) */
    pthread_mutex_t packers_lock; /* guards packers */
    store_packer **packers;       /* every thread's, npackers of them */
    int npackers;
    checkpointer ck;
    /* reads of a quote by id, each on a reader of its own (take_reader);
     * nreaders 0 (read-only store, no WAL): on db under lock, as the rest */
    reader readers[READERS];
    int nreaders;
    pthread_mutex_t readers_lock; /* guards each reader's busy */
    pthread_cond_t reader_freed;
} sq;

static void set_err(char *err, size_t errlen, const char *what, sqlite3 *db)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* Puts "PATH: " before the message in err, so that every error names the
 * database file it is about (a CLI command or a log line may otherwise say
 * only "file is not a database"). */
static void name_file(const char *path, char *err, size_t errlen)
{
    if (!err || !errlen || !path)
        return;
    char *msg = strdup(err);
    if (msg)
        snprintf(err, errlen, "%s: %s", path, msg);
    free(msg);
}

/* What a failed call means for the store: the disk failing is fatal. */
static store_rc failure(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
        return STORE_FATAL;
    default:
        return STORE_ERROR;
    }
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK && err && errlen)
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return version;
}

static bool apply(sqlite3 *db, int v, char *err, size_t errlen)
{
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
    char msg[400];
    if (exec(db, store_migrations[v - 1].sqlite, msg, sizeof msg) != SQLITE_OK ||
        exec(db, pragma, msg, sizeof msg) != SQLITE_OK) {
        snprintf(err, errlen, "migration %d (%s): %s", v, store_migrations[v - 1].what, msg);
        return false;
    }
    return true;
}

static bool migrate(sqlite3 *db, int *version, char *err, size_t errlen)
{
    if (exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
        return false;
    int v = user_version(db);
    if (v < 0 || v > store_nmigrations) {
        if (v < 0)
            set_err(err, errlen, "schema version", db);
        else
            snprintf(err, errlen, "database schema version %d is newer than this program (%d)", v,
                     store_nmigrations);
        exec(db, "ROLLBACK", NULL, 0);
        return false;
    }
    for (; v < store_nmigrations; v++)
        if (!apply(db, v + 1, err, errlen)) {
            exec(db, "ROLLBACK", NULL, 0);
            return false;
        }
    *version = v;
    return exec(db, "COMMIT", err, errlen) == SQLITE_OK;
}

/* WAL mode, the pragmas and the migrations. Nodes opening a new file at
 * once contend for it before it is in WAL mode; there SQLite may answer
 * SQLITE_BUSY at once, without its busy handler, where waiting could
 * deadlock (one holds a read lock and wants to write, another holds the
 * write lock and wants them all). A busy answer is retried every 50 ms
 * until SET_UP_SECONDS have passed. */
enum { SET_UP_SECONDS = 10 };

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool set_up(sqlite3 *db, int *version, char *err, size_t errlen)
{
    double deadline = seconds_now() + SET_UP_SECONDS;
    for (;;) {
        /* page_size: before the first table, or it changes nothing */
        if (exec(db,
                 "PRAGMA page_size=" NEW_PAGE_SIZE "; "
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                 "PRAGMA secure_delete=ON",
                 err, errlen) == SQLITE_OK &&
            migrate(db, version, err, errlen))
            return true;
        int rc = sqlite3_errcode(db) & 0xff;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || seconds_now() > deadline)
            return false;
        sqlite3_sleep(50);
    }
}

/* A dictionary's row by id (?1): its line, its bytes. */
static const char DICT_SELECT[] = "SELECT line, dict FROM pack_dicts WHERE id = ?1";

/* Notes where statement `which` has its parameters $1..$MAX_PARAMS. */
static void find_params(sq *b, store_stmt which)
{
    for (int i = 0; i < MAX_PARAMS; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        b->param_at[which][i] = sqlite3_bind_parameter_index(b->st[which], name);
    }
}

/* The statements as store_schema.c has them, but for one: here a quote's
 * subject is looked up in the table quote_subjects, kept by triggers in the
 * order quotes are saved, not through an index (store_schema.c, the
 * migration that made it). Changes made by triggers are not counted, so
 * the statement still counts the quotes deleted. The table points at a
 * quote by its rowid, which a copy of the database made row by row (the
 * sqlite3 shell's .dump read back) numbers anew: the quote's own subject
 * is checked too, so a row left pointing at another person's quote never
 * deletes it (sq_delete_subject then rebuilds the table, and deletes what
 * the table missed). */
static const char *sqlite_sql(store_stmt st)
{
    if (st == ST_DELETE_SUBJECT)
        return "DELETE FROM quotes WHERE rowid IN "
               "(SELECT quote_rowid FROM quote_subjects WHERE subject = $1) AND subject = $1";
    return store_sql[st];
}

static bool prepare_all(sq *b, char *err, size_t errlen)
{
    for (int i = 0; i < ST_NSTMT; i++) {
        if (sqlite3_prepare_v3(b->db, sqlite_sql((store_stmt)i), -1, SQLITE_PREPARE_PERSISTENT,
                               &b->st[i], NULL) != SQLITE_OK) {
            set_err(err, errlen, "prepare", b->db);
            return false;
        }
        find_params(b, (store_stmt)i);
    }
    if (sqlite3_prepare_v3(b->db, DICT_SELECT, -1, SQLITE_PREPARE_PERSISTENT, &b->dict_select,
                           NULL) != SQLITE_OK) {
        set_err(err, errlen, "prepare", b->db);
        return false;
    }
    if (!(b->packer = store_packer_new())) {
        set_err(err, errlen, "open", NULL);
        return false;
    }
    return true;
}

/* After each commit, on the writer's thread. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    checkpointer *ck = arg;
    if (frames >= ck->restart_frames) {
        /* under constant load the writer never finds the WAL wholly copied
         * when it begins, so the WAL only grows: copy the last frames here
         * (few, the thread copied the rest), so the next commit starts the
         * WAL over; SQLITE_BUSY while the thread is at it: next time */
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (frames >= ck->first_frames) {
        pthread_mutex_lock(&ck->lock);
        ck->due = true;
        pthread_cond_signal(&ck->wake);
        pthread_mutex_unlock(&ck->lock);
    }
    return SQLITE_OK;
}

static void *checkpoint_main(void *arg)
{
    checkpointer *ck = arg;
    pthread_setname_np(pthread_self(), "mq-checkpoint"); /* for top -H, perf and gdb */
    pthread_mutex_lock(&ck->lock);
    for (;;) {
        while (!ck->due && !ck->stop)
            pthread_cond_wait(&ck->wake, &ck->lock);
        if (ck->stop)
            break;
        ck->due = false;
        pthread_mutex_unlock(&ck->lock);
        /* a failure leaves the frames in the WAL, where they are safe: a disk
         * that keeps failing fails the next commit, which the store reports */
        sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&ck->lock);
    }
    pthread_mutex_unlock(&ck->lock);
    return NULL;
}

/* Starts the checkpointer on a second connection to `path`; when it cannot
 * (no WAL, no thread), SQLite keeps checkpointing inside commits. */
/* Whether the connection sees the database in WAL mode; asking also makes
 * a new connection read the file's header, without which a checkpoint on
 * it does nothing (and says the database is not in WAL mode). */
static bool in_wal_mode(sqlite3 *db)
{
    sqlite3_stmt *st;
    const char *mode;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK)
        return false;
    bool wal = sqlite3_step(st) == SQLITE_ROW &&
               (mode = (const char *)sqlite3_column_text(st, 0)) && strcmp(mode, "wal") == 0;
    sqlite3_finalize(st);
    return wal;
}

/* The database's page size; 4096 if it cannot be read. */
static int page_size(sqlite3 *db)
{
    sqlite3_stmt *st;
    int size = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            size = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return size > 0 ? size : 4096;
}

static void start_checkpointer(sq *b, const char *path)
{
    checkpointer *ck = &b->ck;
    int page = page_size(b->db);
    ck->first_frames = CHECKPOINT_BYTES / page;
    ck->restart_frames = WAL_RESTART_BYTES / page;
    if (!in_wal_mode(b->db) ||
        sqlite3_open_v2(path, &ck->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(ck->db, 5000);
    if (!in_wal_mode(ck->db))
        goto fail;
    pthread_mutex_init(&ck->lock, NULL);
    pthread_cond_init(&ck->wake, NULL);
    if (pthread_create(&ck->thread, NULL, checkpoint_main, ck) != 0) {
        pthread_cond_destroy(&ck->wake);
        pthread_mutex_destroy(&ck->lock);
        goto fail;
    }
    sqlite3_wal_hook(b->db, on_wal_commit, ck); /* replaces the automatic checkpoint */
    return;
fail:
    sqlite3_close(ck->db);
    ck->db = NULL;
}

static void stop_checkpointer(checkpointer *ck)
{
    if (!ck->db)
        return;
    pthread_mutex_lock(&ck->lock);
    ck->stop = true;
    pthread_cond_signal(&ck->wake);
    pthread_mutex_unlock(&ck->lock);
    pthread_join(ck->thread, NULL);
    pthread_cond_destroy(&ck->wake);
    pthread_mutex_destroy(&ck->lock);
    sqlite3_close(ck->db);
    ck->db = NULL;
}

static void close_readers(sq *b); /* reads apart, below */

static void sq_close(void *h)
{
    sq *b = h;
    if (!b)
        return;
    /* first: closing the last connection checkpoints; callers stop
     * reading before they close */
    close_readers(b);
    stop_checkpointer(&b->ck);
    for (int i = 0; i < ST_NSTMT; i++)
        sqlite3_finalize(b->st[i]);
    sqlite3_finalize(b->dict_select);
    for (int i = 0; i < b->ndicts; i++)
        free((void *)b->dicts[i].d.bytes);
    free(b->dicts);
    store_packer_free(b->packer);
    if (b->has_packer_key) /* callers stop packing before they close */
        pthread_key_delete(b->packer_key);
    for (int i = 0; i < b->npackers; i++)
        store_packer_free(b->packers[i]);
    free(b->packers);
    pthread_mutex_destroy(&b->packers_lock);
    pthread_cond_destroy(&b->reader_freed);
    pthread_mutex_destroy(&b->readers_lock);
    sqlite3_close(b->db);
    pthread_mutex_destroy(&b->lock);
    free(b->path);
    free(b);
}

/* Creates a missing database file empty with mode 0600, before SQLite
 * opens it: SQLite would create it 0644 (less the umask), readable by
 * every user of the machine, and it holds every shopper's quote (the
 * responses are not sealed: docs/privacy.md). SQLite gives the -wal and
 * -shm files it creates beside a database the database's own mode, so
 * they are 0600 too. A file that is there keeps its mode; any other
 * failure is left for sqlite3_open_v2 to report. */
static void create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

/* Whether path is an empty file with no WAL beside it that holds pages:
 * no database, though SQLite would take it for a new one and the store
 * would make its tables in it (must_exist: a truncated copy, a mistaken
 * file, taken for a database "without quotes" by forget). */
static bool empty_file(const char *path)
{
    struct stat st;
    char wal[PATH_MAX + 8];
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0)
        return false;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &st) != 0 || st.st_size == 0;
}

/* must_exist: whether the database at path is one this program made (a
 * schema version and a quotes table), asked before anything is written to
 * it. A mistaken --db naming another program's SQLite database (or one
 * with no tables) would otherwise be given the quotes' tables, a schema
 * version and WAL mode, and forget would answer "deleted 0 quotes". True
 * when it is ours, and when it cannot be read here (set_up then says why:
 * "file is not a database", a read-only file...); false after saying so. */
static bool made_here(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int version = -1, quotes = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT user_version FROM pragma_user_version), EXISTS (SELECT "
                           "1 FROM sqlite_schema WHERE type = 'table' AND name = 'quotes')",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        version = sqlite3_column_int(st, 0);
        quotes = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (version < 0 || (version > 0 && quotes))
        return true;
    snprintf(err, errlen,
             "%s: not a multiquote database (no quotes table, schema version %d); left as it "
             "was",
             path, version);
    return false;
}

/* Whether what failed on db failed for want of write access: the file, or
 * its folder (where SQLite makes the -wal and -shm files), read-only. */
static bool cannot_write(sqlite3 *db)
{
    int rc = sqlite3_errcode(db) & 0xff, e = sqlite3_system_errno(db);
    return rc == SQLITE_READONLY || e == EACCES || e == EROFS || e == EPERM;
}

/* Adds to err the operating system's reason for an I/O failure on db
 * (" (No space left on device)"), which SQLite's own message leaves out:
 * a full disk at start says only "disk I/O error". */
static void add_os_reason(sqlite3 *db, char *err, size_t errlen)
{
    int rc = sqlite3_errcode(db) & 0xff, e = sqlite3_system_errno(db);
    size_t n = strlen(err);
    if (e && (rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_CANTOPEN) && n < errlen)
        snprintf(err + n, errlen - n, " (%s)", strerror(e));
}

/* Forgets what prepare_all prepared, before the connection is opened again. */
static void unprepare_all(sq *b)
{
    for (int i = 0; i < ST_NSTMT; i++) {
        sqlite3_finalize(b->st[i]);
        b->st[i] = NULL;
    }
    sqlite3_finalize(b->dict_select);
    b->dict_select = NULL;
    store_packer_free(b->packer);
    b->packer = NULL;
}

/* An absolute file: URI of path with immutable=1, in buf; false when it
 * does not fit (never a shortened path). */
static bool immutable_uri(const char *path, char *buf, size_t n)
{
    static const char hex[] = "0123456789ABCDEF", scheme[] = "file://", query[] = "?immutable=1";
    char *abs = realpath(path, NULL);
    size_t k = sizeof scheme - 1;
    bool fits = abs && n > k;
    if (fits)
        memcpy(buf, scheme, k);
    for (const unsigned char *c = (const unsigned char *)abs; fits && *c; c++) {
        if (k + 3 >= n) {
            fits = false;
        } else if (isalnum(*c) || strchr("/._-~", *c)) {
            buf[k++] = (char)*c;
        } else {
            buf[k++] = '%';
            buf[k++] = hex[*c >> 4];
            buf[k++] = hex[*c & 15];
        }
    }
    free(abs);
    if (!fits || k + sizeof query > n)
        return false;
    memcpy(buf + k, query, sizeof query);
    return true;
}

/* Opens path again, read-only (may_read_only), at this program's schema.
 * A WAL database needs its -shm file, which SQLite makes beside it: in a
 * folder this user cannot write, and with no -wal file there (no process
 * has it open for writing), the file is opened as immutable instead. */
static bool open_read_only(sq *b, const char *path, int *version, char *err, size_t errlen)
{
    unprepare_all(b);
    sqlite3_close(b->db);
    b->db = NULL;
    char wal[PATH_MAX + 8], uri[3 * PATH_MAX + 32];
    snprintf(wal, sizeof wal, "%s-wal", path);
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX;
    int rc = sqlite3_open_v2(path, &b->db, flags, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(b->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    if (rc != SQLITE_OK && access(wal, F_OK) != 0 && immutable_uri(path, uri, sizeof uri)) {
        sqlite3_close(b->db);
        rc = sqlite3_open_v2(uri, &b->db, flags | SQLITE_OPEN_URI, NULL);
    }
    if (rc != SQLITE_OK) {
        set_err(err, errlen, path, b->db);
        return false;
    }
    b->read_only = true;
    *version = user_version(b->db);
    if (*version != store_nmigrations) {
        snprintf(err, errlen,
                 "%s: read-only here, and at schema version %d where this program needs %d: "
                 "open it once where it can be written, to upgrade it",
                 path, *version, store_nmigrations);
        return false;
    }
    if (!prepare_all(b, err, errlen)) {
        name_file(path, err, errlen);
        return false;
    }
    return true;
}

static void open_dicts(sq *b); /* with the packed texts, below */
static void snapshot_fixed_dicts(sq *b);
static void retire_dicts(sq *b);
static void open_readers(sq *b, const char *path);

static void *sq_open(const char *path, const mq_store_options *o, int *version, char *err,
                     size_t errlen)
{
    bool must_exist = o && o->must_exist;
    sq *b = calloc(1, sizeof(*b));
    if (!b) {
        set_err(err, errlen, "open", NULL);
        return NULL;
    }
    pthread_mutex_init(&b->lock, NULL);
    pthread_mutex_init(&b->packers_lock, NULL);
    pthread_mutex_init(&b->readers_lock, NULL);
    pthread_cond_init(&b->reader_freed, NULL);
    if (!(b->path = strdup(path))) {
        set_err(err, errlen, "open", NULL);
        goto fail;
    }
    b->has_packer_key = pthread_key_create(&b->packer_key, NULL) == 0;
    store_fault_install(); /* MQ_FAULT (tests): a failing disk */
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (must_exist ? 0 : SQLITE_OPEN_CREATE);
    if (!must_exist)
        create_private(path);
    else if (empty_file(path)) {
        snprintf(err, errlen, "%s: an empty file, no database there", path);
        goto fail;
    }
    if (sqlite3_open_v2(path, &b->db, flags, NULL) != SQLITE_OK) {
        if (must_exist && sqlite3_system_errno(b->db) == ENOENT)
            snprintf(err, errlen, "%s: no database there", path);
        else {
            set_err(err, errlen, path, b->db);
            add_os_reason(b->db, err, errlen); /* a folder missing, or not a folder */
        }
        goto fail;
    }
    sqlite3_busy_timeout(b->db, 5000);
    if (must_exist && !made_here(b->db, path, err, errlen))
        goto fail;
    /* Pages of NEW_PAGE_SIZE (above). They pay because nothing a save
     * writes lands on a random page any more: ids begin with the time
     * (mq_store_new_id) and subjects are in a table of their own in saving
     * order (store_schema.c). When ids were random, each saved quote
     * dirtied a random index leaf, and 16 KiB pages wrote 35 KB per quote
     * to disk against 22 KB for 4 KiB ones.
     * secure_delete: deleted rows are overwritten with zeros, not left in
     * free pages */
    if (!set_up(b->db, version, err, errlen) || !prepare_all(b, err, errlen)) {
        if (o && o->may_read_only && cannot_write(b->db)) {
            if (!open_read_only(b, path, version, err, errlen))
                goto fail;
        } else {
            add_os_reason(b->db, err, errlen);
            name_file(path, err, errlen); /* "file is not a database", read-only... */
            goto fail;
        }
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        b->dev = st.st_dev;
        b->ino = st.st_ino;
        b->has_file = true;
    }
    open_dicts(b);
    if (!b->read_only)
        retire_dicts(b);
    snapshot_fixed_dicts(b);
    if (!b->read_only) {
        start_checkpointer(b, path);
        open_readers(b, path);
    }
    return b;
fail:
    sq_close(b);
    return NULL;
}

static void done_with(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* ---- Packed texts -----------------------------------------------------------
 *
 * A quote's request and response (about 0.5 and 12 KB of JSON for a family
 * auto quote) are kept LZ4-compressed, as a BLOB (store_pack.c), each
 * against a dictionary built into the program: requests against
 * store_request_dict.c, responses against their line's dictionary of
 * store_response_dicts.c, both made of the project's fictional example
 * requests and the server's answers to them. LZ4 finds most of a text's
 * keys, carriers and notes there, so a family auto quote's row fits in a
 * page without overflow pages: fewer bytes in the WAL, the
 * checkpoint and the file. A dictionary is never a shopper's text: it
 * outlives every quote, and `forget` and `purge` must leave nothing of a
 * shopper behind. Each is a row of pack_dicts, added when the store opens
 * (open_dicts) and marked built in (builtin = 1), and a packed text names
 * its row. New texts are packed against this program's dictionaries; an
 * older program's built-in ones stay, and the texts packed against them
 * still read (dict_by_id): regenerating the dictionaries rewrites no saved
 * quote. A response dictionary that was the response of a real quote (as
 * programs before afcd16f kept) is retired when the store opens: the texts
 * packed against it are packed again against the current ones and its row
 * is deleted (retire_dicts). Shorter texts, and rows written before packing,
 * stay TEXT; a read tells them apart by type. (PostgreSQL compresses the
 * same columns with lz4 itself: migration 6.) */
enum { PACK_MIN = 512 };
static char *unpack_column(sq *b, const unsigned char *blob, size_t n, size_t *len);
static const char REQUEST_DICT_LINE[] = "request"; /* no line is named so */

/* Which parameters of each statement are such texts (bit i: $i+1), which of
 * those are packed against the quote's response dictionary, and which
 * against the request dictionary. */
static const unsigned packed_params[ST_NSTMT] = {
    [ST_INSERT] = 1u << 4 | 1u << 5, /* request, response */
    [ST_REPLACE] = 1u << 1,          /* request */
};
static const unsigned dict_params[ST_NSTMT] = {
    [ST_INSERT] = 1u << 5, /* response */
};
static const unsigned request_params[ST_NSTMT] = {
    [ST_INSERT] = 1u << 4,  /* request */
    [ST_REPLACE] = 1u << 1, /* request */
};

static sq_dict *add_dict(sq *b)
{
    if (b->ndicts == b->cap) {
        int cap = b->cap ? 2 * b->cap : 8;
        sq_dict *d = realloc(b->dicts, (size_t)cap * sizeof(*d));
        if (!d)
            return NULL;
        b->dicts = d;
        b->cap = cap;
    }
    sq_dict *d = &b->dicts[b->ndicts++];
    memset(d, 0, sizeof(*d));
    return d;
}

/* Keeps a dictionary: takes bytes (malloc'd, len of them); NULL when
 * memory ran out (bytes then freed). */
static sq_dict *keep_dict(sq *b, int64_t id, const char *line, unsigned char *bytes, size_t len)
{
    sq_dict *d = add_dict(b);
    if (!d) {
        free(bytes);
        return NULL;
    }
    d->d = (store_dict){.id = id, .bytes = bytes, .len = (int)len};
    snprintf(d->line, sizeof d->line, "%s", line ? line : "");
    return d;
}

/* Forgets every dictionary that is not built in (read to unpack old rows). */
static void drop_other_dicts(sq *b)
{
    store_packer_forget(b->packer); /* it may hold their bytes */
    for (int i = b->ndicts - 1; i >= 0; i--)
        if (!b->dicts[i].fixed) {
            free((void *)b->dicts[i].d.bytes);
            b->dicts[i] = b->dicts[--b->ndicts];
        }
}

/* The built-in dictionary of `line` (REQUEST_DICT_LINE: the requests');
 * NULL when there is none or the database could not take its row. */
static const store_dict *fixed_dict(const sq *b, const char *line)
{
    for (int i = 0; line && i < b->ndicts; i++)
        if (b->dicts[i].fixed && strcmp(b->dicts[i].line, line) == 0)
            return &b->dicts[i].d;
    return NULL;
}

static bool is_fixed_dict(const sq *b, int64_t id)
{
    for (int i = 0; i < b->ndicts; i++)
        if (b->dicts[i].fixed && b->dicts[i].d.id == id)
            return true;
    return false;
}

static void snapshot_fixed_dicts(sq *b)
{
    for (int i = 0; i < b->ndicts && b->nfixed < STORE_MAX_FIXED_DICTS; i++)
        if (b->dicts[i].fixed) {
            b->fixed[b->nfixed].d = b->dicts[i].d;
            memcpy(b->fixed[b->nfixed].line, b->dicts[i].line, sizeof b->fixed[0].line);
            b->nfixed++;
        }
}

/* The snapshot's dictionary of `line`, for mq_store_pack; NULL: none. */
static const store_dict *snapshot_dict(const sq *b, const char *line)
{
    for (int i = 0; line && i < b->nfixed; i++)
        if (strcmp(b->fixed[i].line, line) == 0)
            return &b->fixed[i].d;
    return NULL;
}

/* Keeps p among the packers freed at close; false when out of memory. */
static bool keep_packer(sq *b, store_packer *p)
{
    pthread_mutex_lock(&b->packers_lock);
    store_packer **more = realloc(b->packers, (size_t)(b->npackers + 1) * sizeof(*more));
    if (more) {
        b->packers = more;
        b->packers[b->npackers++] = p;
    }
    pthread_mutex_unlock(&b->packers_lock);
    return more != NULL;
}

/* This thread's packer, made at its first call; NULL: out of memory. */
static store_packer *thread_packer(sq *b)
{
    if (!b->has_packer_key)
        return NULL;
    store_packer *p = pthread_getspecific(b->packer_key);
    if (p)
        return p;
    if (!(p = store_packer_new()))
        return NULL;
    if (!keep_packer(b, p)) {
        store_packer_free(p);
        return NULL;
    }
    return pthread_setspecific(b->packer_key, p) == 0 ? p : NULL; /* else freed at close */
}

/* mq_store_pack: what bind_all would pack, made here, on the caller's
 * thread, with the same dictionaries. */
static bool sq_pack(void *h, const mq_store_quote *q, struct mq_store_packed **out)
{
    sq *b = h;
    *out = NULL;
    store_packer *p = thread_packer(b);
    struct mq_store_packed *k = p ? calloc(1, sizeof(*k)) : NULL;
    if (!k)
        return false;
    const char *texts[2] = {q->request, q->response};
    size_t lens[2] = {q->request ? strlen(q->request) : 0, !q->response      ? 0
                                                           : q->response_len ? q->response_len
                                                                             : strlen(q->response)};
    const store_dict *dicts[2] = {snapshot_dict(b, REQUEST_DICT_LINE), snapshot_dict(b, q->line)};
    for (int i = 0; i < 2; i++)
        if (texts[i] && lens[i] >= PACK_MIN &&
            !(k->blob[i] = store_pack(p, texts[i], lens[i], dicts[i], &k->len[i]))) {
            free(k->blob[0]);
            free(k);
            k = NULL; /* the writer packs them */
            break;
        }
    *out = k;
    return k != NULL;
}

/* The dictionary to pack quote q's response (len bytes) with, or NULL. */
static const store_dict *dict_for_response(const sq *b, const mq_store_quote *q, size_t len)
{
    return q->response && len >= PACK_MIN ? fixed_dict(b, q->line) : NULL;
}

/* Row `id` of pack_dicts read through st (DICT_SELECT): its bytes,
 * malloc'd, *n of them, its line in line (16 bytes); NULL when there is no
 * such row, it is too long or memory ran out. */
static unsigned char *read_dict(sqlite3_stmt *st, int64_t id, char line[16], size_t *n)
{
    sqlite3_bind_int64(st, 1, id);
    unsigned char *bytes = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *n = (size_t)sqlite3_column_bytes(st, 1);
        bytes = *n <= STORE_DICT_MAX ? malloc(*n ? *n : 1) : NULL;
        if (bytes && *n)
            memcpy(bytes, sqlite3_column_blob(st, 1), *n);
        const char *l = (const char *)sqlite3_column_text(st, 0);
        snprintf(line, 16, "%s", l ? l : "");
    }
    done_with(st);
    return bytes;
}

/* Dictionary `id`, read from pack_dicts the first time; NULL when there is
 * no such dictionary or memory ran out. */
static const store_dict *dict_by_id(sq *b, int64_t id)
{
    for (int i = 0; i < b->ndicts; i++)
        if (b->dicts[i].d.id == id)
            return &b->dicts[i].d;
    char line[sizeof b->dicts[0].line];
    size_t n;
    unsigned char *bytes = read_dict(b->dict_select, id, line, &n);
    const sq_dict *d = bytes ? keep_dict(b, id, line, bytes, n) : NULL;
    return d ? &d->d : NULL;
}

/* The row of a built-in dictionary in pack_dicts, added when missing; 0
 * when the database cannot take it now (read-only, busy). */
static int64_t dict_row(sq *b, const store_fixed_dict *f)
{
    static const char *const sql[2] = {
        "SELECT id FROM pack_dicts WHERE line = ?1 AND dict = ?2 LIMIT 1",
        "INSERT INTO pack_dicts (line, dict, builtin) VALUES (?1, ?2, 1)"};
    int64_t id = 0;
    for (int pass = 0; pass < 2 && !id; pass++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(b->db, sql[pass], -1, &st, NULL) != SQLITE_OK)
            break;
        sqlite3_bind_text(st, 1, f->line, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, f->bytes, f->len, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (pass == 0 && rc == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
        else if (pass == 1 && rc == SQLITE_DONE)
            id = sqlite3_last_insert_rowid(b->db);
        sqlite3_finalize(st);
    }
    return id;
}

static void open_dict(sq *b, const store_fixed_dict *f)
{
    int64_t id = dict_row(b, f);
    unsigned char *bytes = id ? malloc((size_t)f->len) : NULL;
    if (!bytes)
        return; /* its texts are packed without it, as before; nothing fails */
    memcpy(bytes, f->bytes, (size_t)f->len);
    sq_dict *d = keep_dict(b, id, f->line, bytes, (size_t)f->len);
    if (d)
        d->fixed = true;
}

/* Keeps every built-in dictionary, adding its row to pack_dicts when it is
 * not there yet. */
static void open_dicts(sq *b)
{
    open_dict(b,
              &(store_fixed_dict){REQUEST_DICT_LINE, store_request_dict, store_request_dict_len});
    for (int i = 0; i < store_response_ndicts; i++)
        open_dict(b, &store_response_dicts[i]);
}

/* The response dictionaries built into programs before pack_dicts marked
 * its built-in rows (schema version 12), by line and BLAKE2b-256 digest of
 * their bytes: those of store_response_dicts.c as commits afcd16f, a402b12
 * and a0cbb7e wrote it (the auto dictionary changed twice, the others
 * never). A response row from before version 12 with one of these holds no
 * shopper's text and is marked built in at open (sort_unmarked_dicts); any
 * other such row is the response of a real quote, which programs before
 * afcd16f kept as a dictionary, and is retired. Since version 12 every
 * program marks the rows it adds, so this list never grows. */
static const struct shipped_dict {
    const char *line;
    const char *blake2b; /* hex */
} SHIPPED_DICTS[] = {
    {"auto", "114bc710347d84ee858550cbe4ba04e15fdc499eed359778847dfadd5a04acac"},
    {"auto", "4f34955893e9c6891b8afb6350adbbabe828b97a3de891de6e536a49bf4bf899"},
    {"auto", "c89d4beb2987d41eedcbf2998919b246f92ef906657341ba4a4ac1d88b28f8c6"},
    {"home", "28461857cc9217207971d85edf1423a3dc8932a2a5d182857c5ba4e2c699202b"},
    {"renters", "778871ca7176d09f2c4c53b0d72cfc92a8eeace003940abd076ae6b384aff483"},
    {"term_life", "ce59049afd3b1467463368964daa7766c3743478c6738cd37aa2316586f13811"},
    {"health", "61d1f51717eea3b18896849dbb69b5423caa1b6e22ffeb44f47ecfb5a234d1c2"},
    {"bundle", "45482a4753664ccbe445c0ff44590bf0cfa676f5d541060841f42ecb4cd9b4ea"},
};

/* Whether dictionary bytes (n of them) of `line` are one SHIPPED_DICTS
 * names. */
static bool shipped_dict(const char *line, const void *bytes, size_t n)
{
    unsigned char h[crypto_generichash_BYTES];
    char hex[2 * crypto_generichash_BYTES + 1];
    if (!line || crypto_generichash(h, sizeof h, bytes, n, NULL, 0) != 0)
        return false;
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    for (size_t i = 0; i < sizeof SHIPPED_DICTS / sizeof SHIPPED_DICTS[0]; i++)
        if (strcmp(SHIPPED_DICTS[i].line, line) == 0 && strcmp(SHIPPED_DICTS[i].blake2b, hex) == 0)
            return true;
    return false;
}

/* A list of pack_dicts ids (malloc'd; {0} is empty). */
typedef struct id_list {
    int64_t *ids;
    int n, cap;
} id_list;

static bool id_list_add(id_list *l, int64_t id)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        int64_t *ids = realloc(l->ids, (size_t)cap * sizeof(*ids));
        if (!ids)
            return false;
        l->ids = ids;
        l->cap = cap;
    }
    l->ids[l->n++] = id;
    return true;
}

static bool id_list_has(const id_list *l, int64_t id)
{
    for (int i = 0; i < l->n; i++)
        if (l->ids[i] == id)
            return true;
    return false;
}

/* Runs `sql` (one %lld: the id) for every id of l; false on a failure. */
static bool each_id(sq *b, const char *sql, const id_list *l)
{
    char text[128];
    for (int i = 0; i < l->n; i++) {
        snprintf(text, sizeof text, sql, (long long)l->ids[i]);
        if (exec(b->db, text, NULL, 0) != SQLITE_OK)
            return false;
    }
    return true;
}

/* Sorts the response rows of pack_dicts not marked built in (rows from
 * before schema version 12, and the responses of real quotes): a
 * dictionary a program built in (this one's, or SHIPPED_DICTS) is marked
 * so now; the ids of the others go to *retired. False on any failure. */
static bool sort_unmarked_dicts(sq *b, id_list *retired)
{
    sqlite3_stmt *st = NULL;
    id_list built_in = {0};
    bool ok = sodium_init() >= 0 &&
              sqlite3_prepare_v2(b->db,
                                 "SELECT id, line, dict FROM pack_dicts WHERE builtin = 0 AND "
                                 "line <> ?1",
                                 -1, &st, NULL) == SQLITE_OK;
    int rc = SQLITE_DONE;
    if (ok)
        sqlite3_bind_text(st, 1, REQUEST_DICT_LINE, -1, SQLITE_STATIC);
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        bool ours = is_fixed_dict(b, id) ||
                    shipped_dict((const char *)sqlite3_column_text(st, 1),
                                 sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        ok = id_list_add(ours ? &built_in : retired, id);
    }
    sqlite3_finalize(st);
    ok = ok && rc == SQLITE_DONE &&
         each_id(b, "UPDATE pack_dicts SET builtin = 1 WHERE id = %lld", &built_in);
    free(built_in.ids);
    return ok;
}

/* Packs the response of quote `id` (packed against a retired dictionary)
 * again against its line's built-in dictionary; false on any failure. */
static bool repack_response(sq *b, const char *id, const char *line, const unsigned char *blob,
                            size_t n)
{
    size_t len;
    char *text = unpack_column(b, blob, n, &len);
    int z = 0;
    unsigned char *packed = text ? store_pack(b->packer, text, len, fixed_dict(b, line), &z) : NULL;
    sqlite3_stmt *st = NULL;
    bool ok = packed && sqlite3_prepare_v2(b->db, "UPDATE quotes SET response = ?2 WHERE id = ?1",
                                           -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, packed, z, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    free(packed);
    free(text);
    return ok;
}

/* Packs every response packed against a dictionary of `retired` again. */
static bool repack_responses(sq *b, const id_list *retired)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT id, line, response FROM quotes WHERE typeof(response) = 'blob'",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *blob = sqlite3_column_blob(st, 2);
        size_t n = (size_t)sqlite3_column_bytes(st, 2);
        int64_t dict;
        if (store_packed_dict_id(blob, n, &dict) && id_list_has(retired, dict))
            ok = repack_response(b, (const char *)sqlite3_column_text(st, 0),
                                 (const char *)sqlite3_column_text(st, 1), blob, n);
    }
    sqlite3_finalize(st);
    return ok && rc == SQLITE_DONE;
}

/* How many response rows of pack_dicts are not marked built in; -1 when
 * it cannot be read. */
static int64_t unmarked_dicts(sq *b)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT count(*) FROM pack_dicts WHERE builtin = 0 AND line <> ?1", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, REQUEST_DICT_LINE, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/* Retires the response dictionaries that were real quotes' responses,
 * which programs before afcd16f kept as dictionaries and `forget` could not
 * erase: every response packed against one is packed again against its
 * line's built-in dictionary, then the rows go, in one transaction. A
 * dictionary a program built in, this one's or an older one's, stays, and
 * so do the texts packed against it: an upgrade with new dictionaries
 * rewrites no quote. Rows from before the builtin column are sorted first
 * (sort_unmarked_dicts). A database that cannot do it now (read-only,
 * busy) is left as it is and retired at a later open; nothing fails. */
static void retire_dicts(sq *b)
{
    if (!fixed_dict(b, REQUEST_DICT_LINE) || b->ndicts != store_response_ndicts + 1 ||
        b->ndicts > STORE_MAX_FIXED_DICTS)
        return; /* not every built-in one is there to pack against */
    if (unmarked_dicts(b) <= 0 || exec(b->db, "BEGIN IMMEDIATE", NULL, 0) != SQLITE_OK)
        return;
    id_list retired = {0};
    bool ok = sort_unmarked_dicts(b, &retired) &&
              (retired.n == 0 || (repack_responses(b, &retired) &&
                                  each_id(b, "DELETE FROM pack_dicts WHERE id = %lld", &retired)));
    exec(b->db, ok ? "COMMIT" : "ROLLBACK", NULL, 0);
    free(retired.ids);
    drop_other_dicts(b);
}

/* Where the dictionaries a packed column names are found: the writer's
 * connection (r NULL, under lock), or reader r's (reads apart). */
typedef struct dict_source {
    sq *b;
    reader *r;
} dict_source;

static const store_dict *reader_dict(const sq *b, reader *r, int64_t id);

/* The text of a packed column, malloc'd; NULL when it does not unpack. */
static char *unpack_from(dict_source src, const unsigned char *blob, size_t n, size_t *len)
{
    int64_t id;
    const store_dict *d = NULL;
    if (store_packed_dict_id(blob, n, &id) &&
        !(d = src.r ? reader_dict(src.b, src.r, id) : dict_by_id(src.b, id)))
        return NULL;
    return store_unpack(blob, n, d, len);
}

static char *unpack_column(sq *b, const unsigned char *blob, size_t n, size_t *len)
{
    return unpack_from((dict_source){b, NULL}, blob, n, len);
}

/* The buffers of one statement's packed parameters, freed once it ran. */
typedef struct packs {
    unsigned char *buf[STORE_QUOTE_COLS];
} packs;

static void packs_free(packs *p)
{
    for (int i = 0; i < STORE_QUOTE_COLS; i++)
        free(p->buf[i]);
}

/* Binds text parameters $1..$n (NULL binds SQL NULL); the large
 * texts of statement `which` are bound packed (against dictionary d where
 * dict_params says, against the request dictionary where request_params
 * says), their buffers kept in *p; or as `pre` holds them packed already
 * (mq_store_pack, ST_INSERT only). */
static void bind_all(sq *b, store_stmt which, const char *const *params, const size_t *lens, int n,
                     const store_dict *d, const struct mq_store_packed *pre, packs *p)
{
    sqlite3_stmt *st = b->st[which];
    const store_dict *req = request_params[which] ? fixed_dict(b, REQUEST_DICT_LINE) : NULL;
    memset(p, 0, sizeof(*p));
    for (int i = 0; i < n && i < MAX_PARAMS; i++) {
        int at = b->param_at[which][i], z = 0;
        if (at <= 0)
            continue;
        size_t len = !params[i] ? 0 : lens && lens[i] ? lens[i] : strlen(params[i]);
        const store_dict *with = (dict_params[which] >> i & 1)      ? d
                                 : (request_params[which] >> i & 1) ? req
                                                                    : NULL;
        int ahead = !pre || which != ST_INSERT ? -1
                    : i == STORE_COL_REQUEST   ? 0
                    : i == STORE_COL_RESPONSE  ? 1
                                               : -1;
        if (ahead >= 0 && pre->blob[ahead])
            sqlite3_bind_blob(st, at, pre->blob[ahead], pre->len[ahead], SQLITE_STATIC);
        else if (i < STORE_QUOTE_COLS && (packed_params[which] >> i & 1) && len >= PACK_MIN &&
                 (p->buf[i] = store_pack(b->packer, params[i], len, with, &z)))
            sqlite3_bind_blob(st, at, p->buf[i], z, SQLITE_STATIC);
        else
            sqlite3_bind_text(st, at, params[i], (int)len, SQLITE_STATIC);
    }
}

/* Steps statement `which`, which returns no rows; SQLITE_DONE or the error.
 * lens: the params' lengths where known (0 or NULL: strlen). */
static int run_sized(sq *b, store_stmt which, const char *const *params, const size_t *lens, int n,
                     const store_dict *d, const struct mq_store_packed *pre)
{
    packs p;
    bind_all(b, which, params, lens, n, d, pre, &p);
    int rc = sqlite3_step(b->st[which]);
    done_with(b->st[which]);
    packs_free(&p);
    return rc;
}

static int run(sq *b, store_stmt which, const char *const *params, int n, const store_dict *d)
{
    return run_sized(b, which, params, NULL, n, d, NULL);
}

/* Ends a failed transaction: the error text, then the rollback. */
static store_rc abandon(sq *b, int rc, const char *what, char *err, size_t errlen)
{
    set_err(err, errlen, what, b->db);
    name_file(b->path, err, errlen);
    if (!sqlite3_get_autocommit(b->db))
        exec(b->db, "ROLLBACK", NULL, 0);
    return failure(rc);
}

/* Whether the file at the database's path is no longer the one opened:
 * moved or deleted (a restore done with the server running, a mistaken
 * mv or rm), or replaced by another. SQLite does not notice in WAL mode:
 * it goes on committing into the old file and a -wal that now belongs to
 * no database, and every quote it acknowledges is lost at the next
 * start. One stat() per commit. */
static bool file_replaced(const sq *b)
{
    struct stat st;
    return b->has_file && (stat(b->path, &st) != 0 || st.st_dev != b->dev || st.st_ino != b->ino);
}

static store_rc replaced(const sq *b, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "%s: the database file was moved, replaced or deleted while it was open; nothing "
             "more is stored: restart the server to open the file that is there now",
             b->path);
    return STORE_FATAL;
}

static store_rc sq_insert_batch(void *h, const mq_store_quote *const *qs, int n, char *err,
                                size_t errlen)
{
    sq *b = h;
    store_rc out = STORE_OK;
    pthread_mutex_lock(&b->lock);
    if (file_replaced(b)) {
        out = replaced(b, err, errlen);
        goto done;
    }
    int rc = exec(b->db, "BEGIN IMMEDIATE", err, errlen);
    if (rc != SQLITE_OK) {
        out = abandon(b, rc, "save", err, errlen);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const char *params[STORE_QUOTE_COLS];
        store_insert_params(qs[i], params);
        const char *response = qs[i]->response;
        size_t lens[STORE_QUOTE_COLS] = {0};
        lens[STORE_COL_RESPONSE] = !response             ? 0
                                   : qs[i]->response_len ? qs[i]->response_len
                                                         : strlen(response);
        const store_dict *d = dict_for_response(b, qs[i], lens[STORE_COL_RESPONSE]);
        if ((rc = run_sized(b, ST_INSERT, params, lens, STORE_QUOTE_COLS, d, qs[i]->packed)) !=
            SQLITE_DONE) {
            out = abandon(b, rc, "save", err, errlen);
            goto done;
        }
    }
    if ((rc = exec(b->db, "COMMIT", err, errlen)) != SQLITE_OK)
        out = abandon(b, rc, "save: commit", err, errlen);
    else if (file_replaced(b)) /* meanwhile: committed into the file that left */
        out = replaced(b, err, errlen);
done:
    pthread_mutex_unlock(&b->lock);
    return out;
}

/* Whether quote_subjects still has rows of `subject` after its quotes
 * were deleted (the triggers delete the rows of the quotes they delete):
 * rows that point at no quote or at another person's, since the quotes were
 * numbered anew. 1 yes, 0 no, or the SQLite error. */
static int subject_rows_left(sq *b, const char *subject)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(b->db, "SELECT 1 FROM quote_subjects WHERE subject = ?1 LIMIT 1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Deletes the quotes of `subject` that quote_subjects did not lead to, by
 * reading every quote's own subject (a full scan, no index: about 0.3 s a
 * million quotes with the file in the page cache); their number in *n.
 * SQLITE_DONE or the error. */
static int delete_subject_missed(sq *b, const char *subject, int64_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(b->db, store_sql[ST_DELETE_SUBJECT], -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        *n = rc == SQLITE_DONE ? sqlite3_changes64(b->db) : 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* quote_subjects made again from the quotes' own subject column. */
static int rebuild_subjects(sq *b)
{
    return exec(b->db,
                "DELETE FROM quote_subjects; INSERT INTO quote_subjects (quote_rowid, "
                "subject) SELECT rowid, subject FROM quotes WHERE subject IS NOT NULL",
                NULL, 0);
}

/* forget, in one transaction: deletes the quotes of `subject` found through
 * quote_subjects; when rows of the subject are left there, the table is out
 * of step with the quotes (their rowids changed): it is made again from the
 * quotes' own subject column and the delete runs again. The table can also
 * have lost every row of a quote it is out of step with (a quote saved
 * since the copy replaced the row at its rowid), which nothing left in it
 * shows: so every quote whose own subject is the person's and that the
 * table missed is then deleted too, reading the quotes themselves, and when
 * there was one the table is made again. Every quote of the person goes,
 * and no one else's. SQLITE_DONE or the error. */
static int sq_delete_subject(sq *b, const char *const *params, int nparams, int64_t *changed,
                             bool *rebuilt)
{
    int rc = exec(b->db, "BEGIN IMMEDIATE", NULL, 0);
    if (rc != SQLITE_OK)
        return rc;
    if ((rc = run(b, ST_DELETE_SUBJECT, params, nparams, NULL)) != SQLITE_DONE)
        return rc;
    *changed = sqlite3_changes64(b->db);
    int left = subject_rows_left(b, params[0]);
    if (left == 1) {
        if ((rc = rebuild_subjects(b)) != SQLITE_OK ||
            (rc = run(b, ST_DELETE_SUBJECT, params, nparams, NULL)) != SQLITE_DONE)
            return rc;
        *changed += sqlite3_changes64(b->db);
        *rebuilt = true;
    } else if (left != 0) {
        return left;
    }
    int64_t missed = 0;
    if ((rc = delete_subject_missed(b, params[0], &missed)) != SQLITE_DONE)
        return rc;
    if (missed && (rc = rebuild_subjects(b)) != SQLITE_OK)
        return rc;
    *changed += missed;
    *rebuilt |= missed > 0;
    rc = exec(b->db, "COMMIT", NULL, 0);
    return rc == SQLITE_OK ? SQLITE_DONE : rc;
}

static store_rc sq_change(void *h, store_stmt st, const char *const *params, int nparams,
                          int64_t *changed, char *err, size_t errlen)
{
    sq *b = h;
    store_rc out = STORE_OK;
    pthread_mutex_lock(&b->lock);
    bool rebuilt = false; /* quote_subjects made again: its old rows are in the WAL */
    int rc = st == ST_DELETE_SUBJECT ? sq_delete_subject(b, params, nparams, changed, &rebuilt)
                                     : run(b, st, params, nparams, NULL);
    if (rc == SQLITE_DONE) {
        if (st != ST_DELETE_SUBJECT)
            *changed = sqlite3_changes64(b->db);
        /* the WAL still holds the deleted rows' pages as they were: copy the
         * zeroed pages into the database and empty the WAL (privacy) */
        if ((*changed || rebuilt) &&
            (st == ST_DELETE_ID || st == ST_DELETE_BEFORE || st == ST_DELETE_SUBJECT))
            rc = sqlite3_wal_checkpoint_v2(b->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        if (rc != SQLITE_DONE && rc != SQLITE_OK) {
            /* the delete is committed: say so, or the command's error reads
             * as if nothing had been deleted */
            char what[96];
            snprintf(what, sizeof what, "deleted %lld quotes, but erasing them from the WAL failed",
                     (long long)*changed);
            out = abandon(b, rc, what, err, errlen);
        }
    } else
        out = abandon(b, rc, "write", err, errlen);
    pthread_mutex_unlock(&b->lock);
    return out;
}

/* mq_store_erase_old_versions: the WAL copied into the database and
 * truncated, so no page as it was before a change stays in it. */
static store_rc sq_erase_old_versions(void *h, char *err, size_t errlen)
{
    sq *b = h;
    pthread_mutex_lock(&b->lock);
    int rc = sqlite3_wal_checkpoint_v2(b->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    store_rc out = rc == SQLITE_OK ? STORE_OK : abandon(b, rc, "erasing the WAL", err, errlen);
    pthread_mutex_unlock(&b->lock);
    return out;
}

/* Steps q to its end, calling row for every row with its packed columns
 * unpacked (dictionaries from src); SQLITE_DONE or SQLite's error, *bad
 * set when a text did not unpack (no more rows are then read). */
static int each_row(sqlite3_stmt *q, dict_source src, store_row_fn row, void *arg, bool *bad)
{
    int rc = SQLITE_DONE, ncols = sqlite3_column_count(q);
    *bad = false;
    while (!*bad && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *cols[STORE_QUOTE_COLS];
        size_t lens[STORE_QUOTE_COLS];
        char *unpacked[STORE_QUOTE_COLS] = {0};
        for (int c = 0; c < ncols && c < STORE_QUOTE_COLS; c++) {
            if (sqlite3_column_type(q, c) == SQLITE_BLOB) {
                unpacked[c] = unpack_from(src, sqlite3_column_blob(q, c),
                                          (size_t)sqlite3_column_bytes(q, c), &lens[c]);
                cols[c] = unpacked[c];
                *bad |= !unpacked[c];
                continue;
            }
            cols[c] = (const char *)sqlite3_column_text(q, c);
            lens[c] = (size_t)sqlite3_column_bytes(q, c);
        }
        if (!*bad)
            row(arg, cols, lens, ncols < STORE_QUOTE_COLS ? ncols : STORE_QUOTE_COLS);
        for (int c = 0; c < STORE_QUOTE_COLS; c++)
            free(unpacked[c]);
    }
    return rc;
}

/* What a query's end (each_row) on db means: a failed read does not fail
 * the store. */
static store_rc read_outcome(const sq *b, sqlite3 *db, int rc, bool bad, char *err, size_t errlen)
{
    if (bad) {
        snprintf(err, errlen, "read: a stored text does not unpack (corrupt or out of memory)");
        name_file(b->path, err, errlen);
        return STORE_ERROR;
    }
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, "read", db);
        name_file(b->path, err, errlen);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static store_rc read_apart(sq *b, const char *id, store_row_fn row, void *arg, char *err,
                           size_t errlen);

static store_rc sq_query(void *h, store_stmt st, const char *const *params, int nparams,
                         store_row_fn row, void *arg, char *err, size_t errlen)
{
    sq *b = h;
    if (st == ST_SELECT && nparams == 1 && b->nreaders > 0)
        return read_apart(b, params[0], row, arg, err, errlen);
    sqlite3_stmt *q = b->st[st];
    pthread_mutex_lock(&b->lock);
    packs p;
    bind_all(b, st, params, NULL, nparams, NULL, NULL, &p);
    bool bad;
    int rc = each_row(q, (dict_source){b, NULL}, row, arg, &bad);
    store_rc out = read_outcome(b, b->db, rc, bad, err, errlen);
    done_with(q);
    packs_free(&p);
    pthread_mutex_unlock(&b->lock);
    return out;
}

/* ---- Reads apart from the writer ------------------------------------------
 *
 * A saved quote read by id (mq_store_get: GET /v1/quotes/{id} and its
 * worksheets) runs on a reader: a connection of its own, opened
 * read-only, not the writer's under `lock`. In WAL mode a reader sees the
 * last committed state while a commit is under way, so a read does not
 * wait behind a long commit or a stalled fsync, nor behind a forget. The
 * READERS connections are opened with the store; a read takes one that is
 * free, or waits for one (reads are short: no read waits on the writer).
 * Each reader keeps its own statements, and the dictionaries other than
 * the built-in ones it has read (an older program's, read by id as
 * dict_by_id does); the built-in ones come from the snapshot (`fixed`),
 * which never changes after open. A store opened read-only, or whose
 * readers could not all be opened (no WAL), reads on `db` under `lock`. A
 * reader ends its read transaction with each read (done_with), so it never
 * holds a checkpoint back. */

static void close_reader(reader *r)
{
    sqlite3_finalize(r->select);
    sqlite3_finalize(r->dict_select);
    for (int i = 0; i < r->ndicts; i++)
        free((void *)r->dicts[i].bytes);
    free(r->dicts);
    sqlite3_close(r->db);
    memset(r, 0, sizeof(*r));
}

static bool open_reader(reader *r, const char *path)
{
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK)
        return false;
    sqlite3_busy_timeout(r->db, 5000);
    return in_wal_mode(r->db) &&
           sqlite3_prepare_v3(r->db, store_sql[ST_SELECT], -1, SQLITE_PREPARE_PERSISTENT,
                              &r->select, NULL) == SQLITE_OK &&
           sqlite3_prepare_v3(r->db, DICT_SELECT, -1, SQLITE_PREPARE_PERSISTENT, &r->dict_select,
                              NULL) == SQLITE_OK;
}

/* Opens the readers; when one cannot be, none is kept (nothing fails:
 * reads share the writer's connection). */
static void open_readers(sq *b, const char *path)
{
    for (int i = 0; i < READERS; i++)
        if (!open_reader(&b->readers[i], path)) {
            for (int j = 0; j <= i; j++)
                close_reader(&b->readers[j]);
            return;
        }
    b->nreaders = READERS;
}

static void close_readers(sq *b)
{
    for (int i = 0; i < b->nreaders; i++)
        close_reader(&b->readers[i]);
    b->nreaders = 0;
}

static reader *take_reader(sq *b)
{
    pthread_mutex_lock(&b->readers_lock);
    reader *r = NULL;
    for (;;) {
        for (int i = 0; !r && i < b->nreaders; i++)
            if (!b->readers[i].busy)
                r = &b->readers[i];
        if (r)
            break;
        pthread_cond_wait(&b->reader_freed, &b->readers_lock);
    }
    r->busy = true;
    pthread_mutex_unlock(&b->readers_lock);
    return r;
}

static void give_reader(sq *b, reader *r)
{
    pthread_mutex_lock(&b->readers_lock);
    r->busy = false;
    pthread_cond_signal(&b->reader_freed);
    pthread_mutex_unlock(&b->readers_lock);
}

/* Dictionary `id` for reader r: a built-in one from the snapshot, else
 * one r read before, else read now; NULL when there is none or memory ran
 * out. */
static const store_dict *reader_dict(const sq *b, reader *r, int64_t id)
{
    for (int i = 0; i < b->nfixed; i++)
        if (b->fixed[i].d.id == id)
            return &b->fixed[i].d;
    for (int i = 0; i < r->ndicts; i++)
        if (r->dicts[i].id == id)
            return &r->dicts[i];
    if (r->ndicts == r->cap) {
        int cap = r->cap ? 2 * r->cap : 4;
        store_dict *more = realloc(r->dicts, (size_t)cap * sizeof(*more));
        if (!more)
            return NULL;
        r->dicts = more;
        r->cap = cap;
    }
    char line[16];
    size_t n;
    unsigned char *bytes = read_dict(r->dict_select, id, line, &n);
    if (!bytes)
        return NULL;
    r->dicts[r->ndicts] = (store_dict){.id = id, .bytes = bytes, .len = (int)n};
    return &r->dicts[r->ndicts++];
}

/* ST_SELECT of quote id on a reader. */
static store_rc read_apart(sq *b, const char *id, store_row_fn row, void *arg, char *err,
                           size_t errlen)
{
    reader *r = take_reader(b);
    sqlite3_bind_text(r->select, 1, id, -1, SQLITE_STATIC);
    bool bad;
    int rc = each_row(r->select, (dict_source){b, r}, row, arg, &bad);
    store_rc out = read_outcome(b, r->db, rc, bad, err, errlen);
    done_with(r->select);
    give_reader(b, r);
    return out;
}

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .insert_batch = sq_insert_batch,
    .pack = sq_pack,
    .change = sq_change,
    .query = sq_query,
    .erase_old_versions = sq_erase_old_versions,
};
