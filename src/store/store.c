/* store.c -- the store's one front: backend choice, group commit, the
 * failed state, and the operations of store.h over a backend's few calls.
 *
 * mq_store_open picks SQLite or PostgreSQL from the string it is given
 * (a postgresql:// URI, its scheme in any case, or a path; any other URI is
 * refused).
 * Saves are group-committed the same way for both: callers queue their
 * quote; each writer thread (one for SQLite, a few for PostgreSQL, each with
 * its own connection per commit) takes everything queued (under load after
 * waiting a moment for more: gather), inserts it in one transaction and
 * then wakes each caller or calls its done callback. A
 * write the disk failed (STORE_FATAL, SQLite only) puts the store in the
 * failed state: every later write is refused at once with the first error,
 * never retried; any other failure fails its batch only.
 * Health (mq_store_health) is what the writers last learnt, never a query
 * on the caller's thread: each commit, and when idle a ping every second,
 * records whether the database answered, and a call under way for too
 * long is reported as the database not answering. The count of quotes is
 * kept the same way: counted once (mq_store_count), then moved by this
 * process's commits and deletes.
 */
#include "store_backend.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

enum { MAX_WRITERS = 16, PAGE_ROWS = 200 };
/* Health: an idle writer pings the database after PING_MS without news of
 * it; a call under way for longer than HANG_MS means it does not answer.
 * The ids of the last UNKNOWN_IDS quotes whose commit's outcome is unknown
 * are kept (mq_store_outcome_unknown); UNKNOWN_RECENT_S: how long such an
 * outcome makes every failed save's outcome doubtful when its id is not
 * given. */
enum { PING_MS = 1000, HANG_MS = 3000, UNKNOWN_IDS = 1024, UNKNOWN_RECENT_S = 60 };

typedef struct pending {
    const mq_store_quote *q;
    bool done, ok;
    pthread_cond_t wake; /* its own, so a commit wakes exactly its callers */
    mq_store_done_fn cb; /* asynchronous save: called instead, then freed */
    void *cb_arg;
    char *err; /* synchronous save: where the error goes */
    size_t errlen;
    int64_t queued_ns; /* when it was queued (now_ns) */
    struct pending *next;
} pending;

struct mq_store {
    const store_ops *ops;
    void *backend;
    int schema_version;
    /* the failed state: set once, read without the lock on the fast path */
    atomic_bool failed;
    pthread_mutex_t failed_lock; /* guards failed_msg and last_error */
    char failed_msg[256];
    char last_error[256]; /* of the last write that failed, fatal or not */
    /* group commit */
    pthread_mutex_t queue_lock;
    pthread_cond_t work;
    pending *head, *tail;
    int queued;     /* quotes in the queue */
    int last_batch; /* quotes in the batch taken last */
    bool gathering; /* a writer waits for the batch to fill (gather) */
    bool stop;
    atomic_llong commits, committed; /* batches written, and their quotes */
    atomic_llong commit_ns;          /* their durations added up */
    atomic_llong wait_ns;            /* their quotes' waits, from queued to on disk, added up */
    atomic_llong commit_took[MQ_STORE_COMMIT_BUCKETS + 1]; /* mq_store_commits.took */
    int nwriters;
    pthread_t writers[MAX_WRITERS];
    /* health: the writers' last news of the database */
    atomic_llong contact_ns;           /* when the last commit or ping ended; 0: none yet */
    atomic_bool reachable;             /* whether the database answered it */
    char unreachable_msg[256];         /* why not (failed_lock) */
    atomic_llong busy_ns[MAX_WRITERS]; /* when each writer's call began; 0: idle */
    atomic_int nslots;                 /* busy_ns slots handed to writers */
    atomic_bool pinging;               /* one writer pings at a time */
    /* the count kept: base + delta; base is -1 until mq_store_count set it */
    atomic_llong base;   /* quotes counted, minus delta at the time */
    atomic_llong delta;  /* quotes committed minus quotes deleted since open */
    atomic_int changing; /* writes between their call and their delta */
    /* quotes whose commit's outcome is unknown (failed_lock) */
    char unknown[UNKNOWN_IDS][MQ_STORE_ID_LEN + 1];
    int unknown_next;
    atomic_llong unknown_ns; /* when the last one was recorded; 0: never */
};

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- The failed state --------------------------------------------------- */

static void enter_failed(mq_store *s, const char *why)
{
    pthread_mutex_lock(&s->failed_lock);
    if (!atomic_load(&s->failed)) {
        snprintf(s->failed_msg, sizeof s->failed_msg, "%s", why);
        atomic_store(&s->failed, true);
    }
    pthread_mutex_unlock(&s->failed_lock);
}

bool mq_store_failed(mq_store *s, char *msg, size_t msglen)
{
    if (!atomic_load(&s->failed))
        return false;
    if (msg && msglen) {
        pthread_mutex_lock(&s->failed_lock);
        snprintf(msg, msglen, "%s", s->failed_msg);
        pthread_mutex_unlock(&s->failed_lock);
    }
    return true;
}

/* True (with the reason in err) when writes are refused. */
static bool refuses_writes(mq_store *s, char *err, size_t errlen)
{
    char why[256];
    if (!mq_store_failed(s, why, sizeof why))
        return false;
    if (err && errlen)
        snprintf(err, errlen,
                 "the store refuses writes since an earlier write failed (%s); restart once the "
                 "disk is fixed",
                 why);
    return true;
}

/* Records what a backend write returned; true when it succeeded. */
static bool note_write(mq_store *s, store_rc rc, const char *err)
{
    if (rc != STORE_OK) {
        pthread_mutex_lock(&s->failed_lock);
        snprintf(s->last_error, sizeof s->last_error, "%s", err);
        pthread_mutex_unlock(&s->failed_lock);
    }
    if (rc == STORE_FATAL)
        enter_failed(s, err);
    return rc == STORE_OK;
}

bool mq_store_last_error(mq_store *s, char *msg, size_t msglen)
{
    pthread_mutex_lock(&s->failed_lock);
    bool any = s->last_error[0] != '\0';
    snprintf(msg, msglen, "%s", s->last_error);
    pthread_mutex_unlock(&s->failed_lock);
    return any;
}

/* ---- Health ------------------------------------------------------------- */

/* What a commit or a ping learnt of the database: it answered (even with
 * an error: disk full, a rejected row), or it could not be reached. */
static void note_contact(mq_store *s, store_rc rc, const char *err)
{
    bool answered = rc != STORE_UNREACHABLE && rc != STORE_UNKNOWN;
    if (!answered) {
        pthread_mutex_lock(&s->failed_lock);
        snprintf(s->unreachable_msg, sizeof s->unreachable_msg, "%s", err);
        pthread_mutex_unlock(&s->failed_lock);
    }
    atomic_store(&s->reachable, answered);
    atomic_store(&s->contact_ns, now_ns());
}

/* The longest a writer's call has been under way, in ns; 0: none is. */
static int64_t longest_call(mq_store *s)
{
    int64_t now = now_ns(), longest = 0;
    int n = atomic_load(&s->nslots);
    for (int i = 0; i < n && i < MAX_WRITERS; i++) {
        int64_t began = atomic_load(&s->busy_ns[i]);
        if (began && now - began > longest)
            longest = now - began;
    }
    return longest;
}

void mq_store_health(mq_store *s, mq_store_health_info *h)
{
    char why[256];
    int64_t base = atomic_load(&s->base);
    h->quotes = base < 0 ? -1 : base + atomic_load(&s->delta);
    h->ok = false;
    int64_t stuck = longest_call(s);
    if (mq_store_failed(s, why, sizeof why)) {
        snprintf(h->problem, sizeof h->problem,
                 "the database refuses writes (%s); restart once the disk or the file is fixed",
                 why);
    } else if (stuck > (int64_t)HANG_MS * 1000000) {
        snprintf(h->problem, sizeof h->problem,
                 "the database has not answered for %lld s: saves wait for it",
                 (long long)(stuck / 1000000000));
    } else if (!atomic_load(&s->reachable)) {
        pthread_mutex_lock(&s->failed_lock);
        snprintf(h->problem, sizeof h->problem, "the database cannot be reached: %s",
                 s->unreachable_msg);
        pthread_mutex_unlock(&s->failed_lock);
    } else {
        h->ok = true;
        h->problem[0] = '\0';
    }
}

/* Remembers that the commit of these quotes may or may not have happened. */
static void note_unknown(mq_store *s, const mq_store_quote *const *qs, int n)
{
    pthread_mutex_lock(&s->failed_lock);
    for (int i = 0; i < n; i++) {
        snprintf(s->unknown[s->unknown_next], sizeof s->unknown[0], "%s", qs[i]->id);
        s->unknown_next = (s->unknown_next + 1) % UNKNOWN_IDS;
    }
    pthread_mutex_unlock(&s->failed_lock);
    atomic_store(&s->unknown_ns, now_ns());
}

bool mq_store_outcome_unknown(mq_store *s, const char *id)
{
    int64_t when = atomic_load(&s->unknown_ns);
    if (!when)
        return false;
    if (!id)
        return now_ns() - when < (int64_t)UNKNOWN_RECENT_S * 1000000000;
    bool found = false;
    pthread_mutex_lock(&s->failed_lock);
    for (int i = 0; i < UNKNOWN_IDS && !found; i++)
        found = strcmp(s->unknown[i], id) == 0;
    pthread_mutex_unlock(&s->failed_lock);
    return found;
}

/* ---- Group commit ------------------------------------------------------- */

enum { MAX_BATCH = 256 };

/* Takes up to MAX_BATCH queued quotes, *n of them (the queue lock held). */
static pending *take_batch(mq_store *s, int *taken)
{
    pending *batch = s->head, *last = batch;
    int n = 1;
    for (; n < MAX_BATCH && last->next; n++)
        last = last->next;
    s->head = last->next;
    if (!s->head)
        s->tail = NULL;
    last->next = NULL;
    s->queued -= n;
    s->last_batch = *taken = n;
    return batch;
}

/* Gathering. Under load, a commit of whatever is queued holds a few quotes
 * (at 4,700 quotes/s, 5 per commit: 940 fsyncs a second), and every commit
 * costs an fsync and rewrites the last pages of the table and of each
 * index. So when the last batch held more than one quote, a sign that
 * others are arriving, the writer waits up to GATHER_US for GATHER_TARGET
 * quotes before it commits. A quote that comes alone is never held back.
 * Called with the queue lock held and the queue not empty. */
enum { GATHER_TARGET = 16, GATHER_US = 1000 };

static void gather(mq_store *s)
{
    if (s->last_batch < 2 || s->queued >= GATHER_TARGET)
        return;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += GATHER_US * 1000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    s->gathering = true;
    while (s->queued < GATHER_TARGET && !s->stop)
        if (pthread_cond_timedwait(&s->work, &s->queue_lock, &until) != 0)
            break; /* timed out */
    s->gathering = false;
}

/* Writes a batch on behalf of writer `slot`: its call is timed for
 * health, its outcome noted, its quotes counted. */
static bool write_batch(mq_store *s, int slot, pending *batch, char *err, size_t errlen)
{
    const mq_store_quote *qs[MAX_BATCH];
    int n = 0;
    for (pending *p = batch; p; p = p->next)
        qs[n++] = p->q;
    if (refuses_writes(s, err, errlen))
        return false;
    atomic_fetch_add(&s->changing, 1);
    atomic_store(&s->busy_ns[slot], now_ns());
    store_rc rc = s->ops->insert_batch(s->backend, qs, n, err, errlen);
    atomic_store(&s->busy_ns[slot], 0);
    if (rc == STORE_OK)
        atomic_fetch_add(&s->delta, n);
    atomic_fetch_sub(&s->changing, 1);
    note_contact(s, rc, err);
    if (rc == STORE_UNKNOWN)
        note_unknown(s, qs, n);
    return note_write(s, rc, err);
}

/* An idle writer's ping, when nothing was heard of the database for
 * PING_MS and no other writer pings (the queue lock held; released while
 * the ping runs). */
static void ping_if_due(mq_store *s, int slot)
{
    if (!s->ops->ping || now_ns() - atomic_load(&s->contact_ns) < (int64_t)PING_MS * 1000000 ||
        atomic_exchange(&s->pinging, true))
        return;
    pthread_mutex_unlock(&s->queue_lock);
    char err[512] = "";
    atomic_store(&s->busy_ns[slot], now_ns());
    store_rc rc = s->ops->ping(s->backend, err, sizeof err);
    atomic_store(&s->busy_ns[slot], 0);
    note_contact(s, rc, err);
    atomic_store(&s->pinging, false);
    pthread_mutex_lock(&s->queue_lock);
}

/* Waits for work (the queue lock held); an idle writer of a backend that
 * can be pinged wakes every PING_MS to ping it. */
static void wait_for_work(mq_store *s, int slot)
{
    if (!s->ops->ping) {
        pthread_cond_wait(&s->work, &s->queue_lock);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += PING_MS / 1000;
    if (pthread_cond_timedwait(&s->work, &s->queue_lock, &until) == ETIMEDOUT && !s->head &&
        !s->stop)
        ping_if_due(s, slot);
}

/* Wakes the synchronous callers of a written batch and calls back the
 * asynchronous ones (outside the lock). */
static void finish_batch(mq_store *s, pending *batch, bool ok, const char *err)
{
    pending *async = NULL;
    pthread_mutex_lock(&s->queue_lock);
    for (pending *p = batch, *next; p; p = next) {
        next = p->next; /* a waiting caller's p is its own once done is set */
        if (p->cb) {
            p->next = async;
            async = p;
            continue;
        }
        if (!ok && p->err && p->errlen)
            snprintf(p->err, p->errlen, "%s", err);
        p->ok = ok;
        p->done = true;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&s->queue_lock);
    for (pending *p = async, *next; p; p = next) {
        next = p->next;
        p->cb(p->cb_arg, ok);
        free(p);
    }
}

const double mq_store_commit_bounds[MQ_STORE_COMMIT_BUCKETS] = {0.0005, 0.001, 0.002, 0.004, 0.008,
                                                                0.016,  0.032, 0.064, 0.25,  1};

/* A batch of n quotes committed in ns nanoseconds, done at `done`
 * (mq_store_commit_stats). */
static void count_commit(mq_store *s, const pending *batch, int n, int64_t ns, int64_t done)
{
    int64_t waited = 0;
    for (const pending *p = batch; p; p = p->next)
        waited += done - p->queued_ns;
    atomic_fetch_add(&s->wait_ns, waited);
    int b = 0;
    while (b < MQ_STORE_COMMIT_BUCKETS && (double)ns > mq_store_commit_bounds[b] * 1e9)
        b++;
    atomic_fetch_add(&s->commit_took[b], 1);
    atomic_fetch_add(&s->commit_ns, ns);
    atomic_fetch_add(&s->committed, n);
    atomic_fetch_add(&s->commits, 1); /* last: a reader sees no commit before its quotes */
}

static void *writer_main(void *arg)
{
    mq_store *s = arg;
    pthread_setname_np(pthread_self(), "mq-store"); /* for top -H, perf and gdb */
    int slot = atomic_fetch_add(&s->nslots, 1);
    char err[512];
    pthread_mutex_lock(&s->queue_lock);
    for (;;) {
        while (!s->head && !s->stop)
            wait_for_work(s, slot);
        if (!s->head && s->stop)
            break;
        gather(s);
        if (!s->head)
            continue; /* another writer took them while this one gathered */
        int n;
        pending *batch = take_batch(s, &n);
        if (s->head) /* more left: another writer may take it now */
            pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->queue_lock);
        err[0] = '\0';
        int64_t began = now_ns();
        bool ok = write_batch(s, slot, batch, err, sizeof err);
        int64_t done = now_ns();
        if (ok)
            count_commit(s, batch, n, done - began, done);
        finish_batch(s, batch, ok, err);
        pthread_mutex_lock(&s->queue_lock);
    }
    pthread_mutex_unlock(&s->queue_lock);
    return NULL;
}

static bool enqueue(mq_store *s, pending *p)
{
    if (s->stop || atomic_load(&s->failed))
        return false;
    p->queued_ns = now_ns();
    if (s->tail)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
    s->queued++;
    if (!s->gathering || s->queued >= GATHER_TARGET)
        pthread_cond_signal(&s->work);
    return true;
}

bool mq_store_save_async(mq_store *s, const mq_store_quote *q, mq_store_done_fn done, void *arg)
{
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return false;
    p->q = q;
    p->cb = done;
    p->cb_arg = arg;
    pthread_mutex_lock(&s->queue_lock);
    bool ok = enqueue(s, p);
    pthread_mutex_unlock(&s->queue_lock);
    if (!ok)
        free(p);
    return ok;
}

bool mq_store_save(mq_store *s, const mq_store_quote *q, char *err, size_t errlen)
{
    if (refuses_writes(s, err, errlen))
        return false;
    pending p = {.q = q, .err = err, .errlen = errlen};
    pthread_cond_init(&p.wake, NULL);
    pthread_mutex_lock(&s->queue_lock);
    if (!enqueue(s, &p)) {
        pthread_mutex_unlock(&s->queue_lock);
        pthread_cond_destroy(&p.wake);
        if (!refuses_writes(s, err, errlen))
            snprintf(err, errlen, "the store is closing");
        return false;
    }
    while (!p.done)
        pthread_cond_wait(&p.wake, &s->queue_lock);
    pthread_mutex_unlock(&s->queue_lock);
    pthread_cond_destroy(&p.wake);
    return p.ok;
}

bool mq_store_pack(mq_store *s, mq_store_quote *q)
{
    q->packed = NULL;
    return !s->ops->pack || s->ops->pack(s->backend, q, &q->packed);
}

void mq_store_packed_free(mq_store_quote *q)
{
    if (q->packed) {
        free(q->packed->blob[0]);
        free(q->packed->blob[1]);
        free(q->packed);
        q->packed = NULL;
    }
}

void mq_store_commit_stats(mq_store *s, mq_store_commits *out)
{
    out->commits = atomic_load(&s->commits);
    out->quotes = atomic_load(&s->committed);
    out->seconds = (double)atomic_load(&s->commit_ns) / 1e9;
    out->waited = (double)atomic_load(&s->wait_ns) / 1e9;
    for (int b = 0; b <= MQ_STORE_COMMIT_BUCKETS; b++)
        out->took[b] = atomic_load(&s->commit_took[b]);
}

/* ---- Opening and closing ------------------------------------------------ */

/* The length of the URI scheme `where` begins with (RFC 3986: a letter,
 * then letters, digits, "+", "-" or "."; then ":"), 0 when none. */
static size_t scheme_len(const char *where)
{
    if (!isalpha((unsigned char)where[0]))
        return 0;
    size_t n = 1;
    while (isalnum((unsigned char)where[n]) || strchr("+-.", where[n]))
        n++;
    return where[n] == ':' ? n : 0;
}

static bool scheme_is(const char *where, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(where, name, n) == 0;
}

typedef enum { WHERE_SQLITE, WHERE_POSTGRES, WHERE_REFUSED } where_kind;

/* What `where` names: a postgres:// or postgresql:// URI, else a SQLite
 * path. A scheme is case-insensitive, but libpq reads only these two in
 * lower case, so a "PostgreSQL://" URI goes to it with its scheme lowered
 * (into *uri, malloc'd; NULL when `where` is used as it is). Any other
 * "scheme://", and "postgresql:" without "//", is refused (err) rather
 * than taken for a SQLite file named after it, password and all; the
 * message names only the scheme, never the rest. */
static where_kind where_is(const char *where, char **uri, char *err, size_t errlen)
{
    *uri = NULL;
    size_t n = scheme_len(where);
    bool pg = scheme_is(where, n, "postgresql") || scheme_is(where, n, "postgres");
    bool slashes = n && strncmp(where + n + 1, "//", 2) == 0;
    if (pg && slashes) {
        if (!(*uri = strdup(where))) {
            snprintf(err, errlen, "out of memory");
            return WHERE_REFUSED;
        }
        for (size_t i = 0; i < n; i++)
            (*uri)[i] = (char)tolower((unsigned char)(*uri)[i]);
        return WHERE_POSTGRES;
    }
    if (pg)
        snprintf(err, errlen,
                 "the database \"%.*s:...\" is not a PostgreSQL URI: one begins with two "
                 "slashes, postgresql://USER@HOST:PORT/DBNAME",
                 (int)n, where);
    else if (slashes)
        snprintf(err, errlen,
                 "the database \"%.*s://...\" is a URI this program cannot open: give a "
                 "postgresql://USER@HOST:PORT/DBNAME URI (PostgreSQL) or a file path (SQLite)",
                 (int)n, where);
    else
        return WHERE_SQLITE;
    return WHERE_REFUSED;
}

static int writer_count(const store_ops *ops, const mq_store_options *o)
{
    if (ops == &store_sqlite_ops)
        return 1; /* one connection: a second writer would only wait */
    int pool = o && o->pool_size > 0 ? o->pool_size : 8;
    int w = o && o->writers > 0 ? o->writers : 2;
    w = w < pool ? w : pool;
    return w < MAX_WRITERS ? w : MAX_WRITERS;
}

static bool start_writers(mq_store *s, int n)
{
    for (int i = 0; i < n; i++) {
        if (pthread_create(&s->writers[i], NULL, writer_main, s) != 0)
            return false;
        s->nwriters++;
    }
    return true;
}

mq_store *mq_store_open_with(const char *where, const mq_store_options *opts, char *err,
                             size_t errlen)
{
    char *uri = NULL;
    where_kind kind = where_is(where, &uri, err, errlen);
    if (kind == WHERE_REFUSED)
        return NULL;
    mq_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        free(uri);
        return NULL;
    }
    s->ops = kind == WHERE_POSTGRES ? &store_pg_ops : &store_sqlite_ops;
    pthread_mutex_init(&s->failed_lock, NULL);
    pthread_mutex_init(&s->queue_lock, NULL);
    atomic_store(&s->base, -1);
    atomic_store(&s->reachable, true); /* open reached it */
    pthread_condattr_t monotonic;      /* gather's deadline */
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&s->work, &monotonic);
    pthread_condattr_destroy(&monotonic);
    s->backend = s->ops->open(uri ? uri : where, opts, &s->schema_version, err, errlen);
    free(uri); /* the backend keeps its own copy */
    if (!s->backend)
        goto fail;
    if (!start_writers(s, writer_count(s->ops, opts))) {
        snprintf(err, errlen, "cannot start the database writers");
        goto fail;
    }
    return s;
fail:
    mq_store_close(s);
    return NULL;
}

mq_store *mq_store_open(const char *where, char *err, size_t errlen)
{
    return mq_store_open_with(where, NULL, err, errlen);
}

void mq_store_close(mq_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->queue_lock);
    s->stop = true;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->queue_lock);
    for (int i = 0; i < s->nwriters; i++)
        pthread_join(s->writers[i], NULL);
    if (s->backend)
        s->ops->close(s->backend);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->queue_lock);
    pthread_mutex_destroy(&s->failed_lock);
    free(s);
}

const char *mq_store_backend(const mq_store *s)
{
    return s->ops->name;
}

int mq_store_schema_version(const mq_store *s)
{
    return s->schema_version;
}

int mq_store_schema_latest(void)
{
    return store_nmigrations;
}

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Writes the low 5*n bits of v as n base-32 characters, most significant first. */
static void put_base32_u64(char *out, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = crockford[(v >> (5 * (n - 1 - i))) & 31];
}

/* Writes 16 bytes (and two zero bits) as 26 base-32 characters. */
static void put_base32_128(char *out, const unsigned char r[16])
{
    unsigned char b[17];
    memcpy(b, r, 16);
    b[16] = 0;
    for (int i = 0; i < 26; i++) {
        int bit = i * 5, byte = bit / 8, shift = bit % 8;
        unsigned v = ((unsigned)b[byte] << 8 | b[byte + 1]) >> (11 - shift);
        out[i] = crockford[v & 31];
    }
}

/* The id is "q_", the time in milliseconds as 10 characters, then 128
 * random bits as 26. The time prefix makes ids sort by creation, so a new
 * quote's entry in the id index lands on the index's last page, which the
 * other quotes of the same commit share: a random id dirtied one random
 * index page per quote, 5 KB more disk writes and about 9% fewer quotes/s.
 * The random part alone makes an id unguessable. */
bool mq_store_new_id(mq_store_quote *q)
{
    unsigned char r[16];
    struct timespec now;
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r || clock_gettime(CLOCK_REALTIME, &now) != 0)
        return false;
    uint64_t ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    q->id[0] = 'q';
    q->id[1] = '_';
    put_base32_u64(q->id + 2, ms, MQ_STORE_ID_TIME_CHARS);
    put_base32_128(q->id + 2 + MQ_STORE_ID_TIME_CHARS, r);
    q->id[MQ_STORE_ID_LEN] = '\0';
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    strftime(q->created_at, sizeof q->created_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return true;
}

bool mq_store_id_valid(const char *id, size_t len)
{
    if ((len != MQ_STORE_ID_LEN && len != MQ_STORE_ID_LEN_V1) || id[0] != 'q' || id[1] != '_')
        return false;
    for (size_t i = 2; i < len; i++)
        if (!id[i] || !strchr(crockford, id[i]))
            return false;
    return true;
}

/* ---- Reading ------------------------------------------------------------ */

typedef struct loading {
    mq_store_loaded *out;
    bool found, oom;
} loading;

/* Copies column c into the block at *pos; NULL stays NULL. */
static const char *take(const char *const *cols, const size_t *lens, int c, char *block,
                        size_t *pos)
{
    if (!cols[c])
        return NULL;
    char *out = block + *pos;
    memcpy(out, cols[c], lens[c]);
    out[lens[c]] = '\0';
    *pos += lens[c] + 1;
    return out;
}

static void load_row(void *arg, const char *const *cols, const size_t *lens, int ncols)
{
    loading *l = arg;
    if (ncols != STORE_QUOTE_COLS || l->found)
        return;
    size_t need = 1;
    for (int c = 0; c < ncols; c++)
        need += lens[c] + 1;
    char *block = malloc(need);
    if (!block) {
        l->oom = true;
        return;
    }
    mq_store_quote *q = &l->out->q;
    size_t pos = 0;
    snprintf(q->id, sizeof q->id, "%s", cols[0] ? cols[0] : "");
    snprintf(q->created_at, sizeof q->created_at, "%s", cols[1] ? cols[1] : "");
    q->line = take(cols, lens, 2, block, &pos);
    q->effective_date = take(cols, lens, 3, block, &pos);
    q->request = take(cols, lens, 4, block, &pos);
    q->response = take(cols, lens, 5, block, &pos);
    q->response_len = 0; /* strlen it, if it is ever saved again */
    q->consent_contact = cols[6] && strcmp(cols[6], "0") != 0;
    snprintf(q->consent_at, sizeof q->consent_at, "%s", cols[7] ? cols[7] : "");
    q->subject = take(cols, lens, 8, block, &pos);
    q->key_id = take(cols, lens, 9, block, &pos);
    l->out->strings = block;
    l->found = true;
}

int mq_store_get(mq_store *s, const char *id, mq_store_loaded *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    loading l = {.out = out};
    const char *params[] = {id};
    if (s->ops->query(s->backend, ST_SELECT, params, 1, load_row, &l, err, errlen) != STORE_OK) {
        mq_store_loaded_free(out);
        return -1;
    }
    if (l.oom) {
        snprintf(err, errlen, "load: out of memory");
        mq_store_loaded_free(out);
        return -1;
    }
    return l.found ? 1 : 0;
}

void mq_store_loaded_free(mq_store_loaded *l)
{
    free(l->strings);
    memset(l, 0, sizeof(*l));
}

static void count_row(void *arg, const char *const *cols, const size_t *lens, int ncols)
{
    (void)lens;
    if (ncols == 1 && cols[0])
        *(int64_t *)arg = strtoll(cols[0], NULL, 10);
}

/* The count also sets the one mq_store_health keeps, when no write of
 * this process was under way or ended meanwhile (the count might then
 * hold it or not). */
int64_t mq_store_count(mq_store *s)
{
    int64_t n = -1;
    char err[256];
    bool quiet = atomic_load(&s->changing) == 0;
    int64_t delta = atomic_load(&s->delta);
    if (s->ops->query(s->backend, ST_COUNT, NULL, 0, count_row, &n, err, sizeof err) != STORE_OK)
        return -1;
    if (n >= 0 && quiet && atomic_load(&s->changing) == 0 && atomic_load(&s->delta) == delta)
        atomic_store(&s->base, n - delta);
    return n;
}

/* ---- Deleting and replacing --------------------------------------------- */

static int64_t change(mq_store *s, store_stmt st, const char *const *params, int n, char *err,
                      size_t errlen)
{
    if (refuses_writes(s, err, errlen))
        return -1;
    int64_t changed = 0;
    atomic_fetch_add(&s->changing, 1);
    store_rc rc = s->ops->change(s->backend, st, params, n, &changed, err, errlen);
    if (rc == STORE_OK && st != ST_REPLACE && st != ST_WITHDRAW)
        atomic_fetch_sub(&s->delta, changed); /* deleted */
    atomic_fetch_sub(&s->changing, 1);
    return note_write(s, rc, err) ? changed : -1;
}

int mq_store_delete(mq_store *s, const char *id, char *err, size_t errlen)
{
    const char *params[] = {id};
    return (int)change(s, ST_DELETE_ID, params, 1, err, errlen);
}

int64_t mq_store_delete_before(mq_store *s, time_t before, char *err, size_t errlen)
{
    struct tm tm;
    char bound[24];
    if (!gmtime_r(&before, &tm) || strftime(bound, sizeof bound, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20) {
        snprintf(err, errlen, "delete before: the time is out of range");
        return -1;
    }
    const char *params[] = {bound};
    return change(s, ST_DELETE_BEFORE, params, 1, err, errlen);
}

int64_t mq_store_delete_subject(mq_store *s, const char *subject, char *err, size_t errlen)
{
    if (!subject) {
        snprintf(err, errlen, "delete subject: no subject given");
        return -1;
    }
    const char *params[] = {subject};
    return change(s, ST_DELETE_SUBJECT, params, 1, err, errlen);
}

int mq_store_replace_request(mq_store *s, const char *id, const char *request, const char *key_id,
                             const char *subject, char *err, size_t errlen)
{
    if (!request) {
        snprintf(err, errlen, "replace request: no request text given");
        return -1;
    }
    const char *params[] = {id, request, key_id, subject && *subject ? subject : NULL};
    return (int)change(s, ST_REPLACE, params, 4, err, errlen);
}

bool mq_store_erase_old_versions(mq_store *s, char *err, size_t errlen)
{
    if (!s->ops->erase_old_versions)
        return true;
    if (refuses_writes(s, err, errlen))
        return false;
    return note_write(s, s->ops->erase_old_versions(s->backend, err, errlen), err);
}

/* ---- Iterating ---------------------------------------------------------- */

/* One page of rows, copied out of the backend so no lock is held while
 * the caller's function runs. */
typedef struct page {
    char *id[PAGE_ROWS], *key_id[PAGE_ROWS], *request[PAGE_ROWS];
    int n;
    bool oom;
} page;

static char *copy_col(const char *t, size_t n, bool *oom)
{
    if (!t)
        return NULL;
    char *c = malloc(n + 1);
    if (!c) {
        *oom = true;
        return NULL;
    }
    memcpy(c, t, n);
    c[n] = '\0';
    return c;
}

static void page_row(void *arg, const char *const *cols, const size_t *lens, int ncols)
{
    page *p = arg;
    if (ncols != 3 || p->n >= PAGE_ROWS)
        return;
    p->id[p->n] = copy_col(cols[0], lens[0], &p->oom);
    p->key_id[p->n] = copy_col(cols[1], lens[1], &p->oom);
    p->request[p->n] = copy_col(cols[2], lens[2], &p->oom);
    p->n++;
}

static void page_free(page *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->id[i]);
        free(p->key_id[i]);
        free(p->request[i]);
    }
    p->n = 0;
}

/* Calls fn for each row of the page; false when fn asked to stop. */
static bool visit_page(const page *p, mq_store_each_fn fn, void *arg, int64_t *seen)
{
    for (int i = 0; i < p->n; i++) {
        mq_store_row row = {p->id[i], p->key_id[i], p->request[i] ? p->request[i] : ""};
        ++*seen;
        if (!fn(arg, &row))
            return false;
    }
    return true;
}

/* Calls fn for every row statement `st` (ST_PAGE or ST_PAGE_PLAIN) finds,
 * a page at a time. */
static int64_t each_of(mq_store *s, store_stmt st, mq_store_each_fn fn, void *arg, char *err,
                       size_t errlen)
{
    char *after = NULL; /* the last id of the previous page, owned here */
    char limit[16];
    snprintf(limit, sizeof limit, "%d", PAGE_ROWS);
    int64_t seen = 0;
    page p;
    for (bool go_on = true; go_on;) {
        p = (page){0};
        const char *params[] = {after ? after : "", limit};
        store_rc rc = s->ops->query(s->backend, st, params, 2, page_row, &p, err, errlen);
        if (rc != STORE_OK)
            goto fail;
        if (p.oom)
            goto oom;
        go_on = visit_page(&p, fn, arg, &seen) && p.n == PAGE_ROWS;
        if (go_on) {
            free(after);
            if (!(after = strdup(p.id[p.n - 1])))
                goto oom;
        }
        page_free(&p);
    }
    free(after);
    return seen;
oom:
    snprintf(err, errlen, "iterate: out of memory");
fail:
    page_free(&p);
    free(after);
    return -1;
}

int64_t mq_store_each(mq_store *s, mq_store_each_fn fn, void *arg, char *err, size_t errlen)
{
    return each_of(s, ST_PAGE, fn, arg, err, errlen);
}

int64_t mq_store_each_plain(mq_store *s, mq_store_each_fn fn, void *arg, char *err, size_t errlen)
{
    return each_of(s, ST_PAGE_PLAIN, fn, arg, err, errlen);
}

/* ---- A person's quotes and their contact consent ------------------------ */

/* One page of records, copied out of the backend as each_of's pages are. */
typedef struct record_page {
    char *col[PAGE_ROWS][STORE_RECORD_COLS];
    int n;
    bool oom;
} record_page;

static void record_row(void *arg, const char *const *cols, const size_t *lens, int ncols)
{
    record_page *p = arg;
    if (ncols != STORE_RECORD_COLS || p->n >= PAGE_ROWS)
        return;
    for (int c = 0; c < STORE_RECORD_COLS; c++)
        p->col[p->n][c] = copy_col(cols[c], lens[c], &p->oom);
    p->n++;
}

static void record_page_free(record_page *p)
{
    for (int i = 0; i < p->n; i++)
        for (int c = 0; c < STORE_RECORD_COLS; c++)
            free(p->col[i][c]);
    p->n = 0;
}

static mq_store_record record_of(char *const *col)
{
    return (mq_store_record){
        .id = col[0] ? col[0] : "",
        .created_at = col[1] ? col[1] : "",
        .line = col[2] ? col[2] : "",
        .effective_date = col[3] ? col[3] : "",
        .request = col[4] ? col[4] : "",
        .response = col[5] ? col[5] : "",
        .consent_contact = col[6] && strcmp(col[6], "0") != 0,
        .consent_at = col[7] ? col[7] : "",
        .withdrawn_at = col[8] && *col[8] ? col[8] : NULL,
    };
}

/* Calls fn for every record statement `st` finds, a page at a time: its
 * parameters are `fixed` (nfixed of them), then the last id of the page
 * before and the page's size. How many fn saw, or -1 (message in err). */
static int64_t each_record(mq_store *s, store_stmt st, const char *const *fixed, int nfixed,
                           mq_store_record_fn fn, void *arg, char *err, size_t errlen)
{
    enum { MAX_FIXED = 2 };
    char *after = NULL, limit[16];
    snprintf(limit, sizeof limit, "%d", PAGE_ROWS);
    int64_t seen = 0;
    record_page *p = calloc(1, sizeof *p);
    if (!p || nfixed > MAX_FIXED)
        goto oom;
    for (bool go_on = true; go_on;) {
        const char *params[MAX_FIXED + 2];
        memcpy(params, fixed, (size_t)nfixed * sizeof *params);
        params[nfixed] = after ? after : "";
        params[nfixed + 1] = limit;
        p->n = 0;
        p->oom = false;
        if (s->ops->query(s->backend, st, params, nfixed + 2, record_row, p, err, errlen) !=
            STORE_OK)
            goto fail;
        if (p->oom)
            goto oom;
        go_on = p->n == PAGE_ROWS; /* a short page is the last */
        for (int i = 0; i < p->n; i++) {
            mq_store_record r = record_of(p->col[i]);
            seen++;
            if (!fn(arg, &r)) {
                go_on = false;
                break;
            }
        }
        if (go_on) {
            free(after);
            if (!(after = strdup(p->col[p->n - 1][0])))
                goto oom;
        }
        record_page_free(p);
    }
    free(after);
    free(p);
    return seen;
oom:
    snprintf(err, errlen, "iterate: out of memory");
fail:
    if (p)
        record_page_free(p);
    free(p);
    free(after);
    return -1;
}

int mq_store_get_record(mq_store *s, const char *id, mq_store_record_fn fn, void *arg, char *err,
                        size_t errlen)
{
    record_page *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "load: out of memory");
        return -1;
    }
    const char *params[] = {id};
    int out = -1;
    if (s->ops->query(s->backend, ST_RECORD, params, 1, record_row, p, err, errlen) == STORE_OK) {
        if (p->oom)
            snprintf(err, errlen, "load: out of memory");
        else if ((out = p->n > 0)) {
            mq_store_record r = record_of(p->col[0]);
            fn(arg, &r);
        }
    }
    record_page_free(p);
    free(p);
    return out;
}

int64_t mq_store_each_record_of(mq_store *s, const char *subject, mq_store_record_fn fn, void *arg,
                                char *err, size_t errlen)
{
    if (!subject || !*subject) {
        snprintf(err, errlen, "records of: no subject given");
        return -1;
    }
    const char *fixed[] = {subject};
    return each_record(s, ST_RECORDS_OF, fixed, 1, fn, arg, err, errlen);
}

int64_t mq_store_each_lead(mq_store *s, const char *since, const char *line, mq_store_record_fn fn,
                           void *arg, char *err, size_t errlen)
{
    const char *fixed[] = {since ? since : "", line ? line : ""};
    return each_record(s, ST_LEADS, fixed, 2, fn, arg, err, errlen);
}

int mq_store_withdraw_consent(mq_store *s, const char *id, const char *at, char *err, size_t errlen)
{
    if (!id || !at || !*at) {
        snprintf(err, errlen, "withdraw consent: no quote id or time given");
        return -1;
    }
    const char *params[] = {id, at};
    return (int)change(s, ST_WITHDRAW, params, 2, err, errlen);
}
