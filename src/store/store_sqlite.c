/* store_sqlite.c -- saved quotes in an embedded SQLite database.
 *
 * One connection, opened in WAL mode with synchronous=FULL so a quote whose
 * id was returned survives a crash. Saving uses group commit: callers queue
 * their quote and wait; one writer thread takes everything queued, writes it
 * in one transaction and wakes the callers with the outcome, so one fsync
 * serves many quotes and a caller only returns once its quote is durable (a
 * failed batch is rolled back whole: no partial quote). Reads share the
 * connection under `db_lock`. The schema is versioned in user_version and
 * migrated at open; statements are prepared once.
 */
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

typedef struct pending {
    const mq_store_quote *q;
    bool done, ok;
    pthread_cond_t wake; /* its own, so a commit wakes exactly its callers */
    mq_store_done_fn cb; /* asynchronous save: called instead, then freed */
    void *cb_arg;
    struct pending *next;
} pending;

struct mq_store {
    sqlite3 *db;
    pthread_mutex_t lock; /* guards the connection */
    sqlite3_stmt *insert_quote, *select_quote, *count;
    /* group commit */
    pthread_mutex_t queue_lock;
    pthread_cond_t work;
    pending *head, *tail;
    bool stop, writer_started;
    pthread_t writer;
    char last_error[256];
};

static void *writer_main(void *arg);

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE quotes ("
    "  id TEXT PRIMARY KEY,"
    "  created_at TEXT NOT NULL,"
    "  line TEXT NOT NULL,"
    "  effective_date TEXT NOT NULL,"
    "  request TEXT NOT NULL,"
    "  response TEXT NOT NULL,"
    "  consent_contact INTEGER NOT NULL DEFAULT 0,"
    "  consent_at TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;"
    "CREATE TABLE quote_plans ("
    "  quote_id TEXT NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,"
    "  carrier TEXT NOT NULL,"
    "  plan_id TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  total_cents INTEGER NOT NULL,"
    "  PRIMARY KEY (quote_id, carrier)"
    ") WITHOUT ROWID;"
    "CREATE INDEX quotes_created ON quotes(created_at);",
    /* 2: a carrier may answer with several plans (health issuers) */
    "CREATE TABLE quote_plans_2 ("
    "  quote_id TEXT NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,"
    "  carrier TEXT NOT NULL,"
    "  plan_id TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  total_cents INTEGER NOT NULL,"
    "  PRIMARY KEY (quote_id, carrier, plan_id)"
    ") WITHOUT ROWID;"
    "INSERT INTO quote_plans_2 SELECT quote_id, carrier, plan_id, version, status, total_cents "
    "FROM quote_plans;"
    "DROP TABLE quote_plans;"
    "ALTER TABLE quote_plans_2 RENAME TO quote_plans;",
    /* 3: quotes are large rows (the response is ~10 KB): an ordinary rowid
     * table keeps them in overflow pages instead of in the index b-tree */
    "CREATE TABLE quotes_3 ("
    "  id TEXT NOT NULL UNIQUE,"
    "  created_at TEXT NOT NULL,"
    "  line TEXT NOT NULL,"
    "  effective_date TEXT NOT NULL,"
    "  request TEXT NOT NULL,"
    "  response TEXT NOT NULL,"
    "  consent_contact INTEGER NOT NULL DEFAULT 0,"
    "  consent_at TEXT NOT NULL DEFAULT ''"
    ");"
    "INSERT INTO quotes_3 (id, created_at, line, effective_date, request, response, "
    "consent_contact, consent_at) SELECT id, created_at, line, effective_date, request, response, "
    "consent_contact, consent_at FROM quotes;"
    "DROP INDEX quotes_created;"
    "DROP TABLE quotes;"
    "ALTER TABLE quotes_3 RENAME TO quotes;"
    "CREATE INDEX quotes_created ON quotes(created_at);",
    /* 4: the plan version of every result is in the saved response; the
     * separate rows only cost writes */
    "DROP TABLE quote_plans;",
};

static void set_err(char *err, size_t errlen, const char *what, sqlite3 *db)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static bool exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return true;
    if (err && errlen)
        snprintf(err, errlen, "%s", msg ? msg : "sqlite error");
    sqlite3_free(msg);
    return false;
}

static bool migrate(sqlite3 *db, char *err, size_t errlen)
{
    int n = (int)(sizeof(migrations) / sizeof(migrations[0]));
    if (!exec(db, "BEGIN IMMEDIATE", err, errlen))
        return false;
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (version > n) {
        snprintf(err, errlen, "database schema version %d is newer than this program (%d)", version,
                 n);
        exec(db, "ROLLBACK", NULL, 0);
        return false;
    }
    for (int v = version; v < n; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (!exec(db, migrations[v], err, errlen) || !exec(db, pragma, err, errlen)) {
            exec(db, "ROLLBACK", NULL, 0);
            return false;
        }
    }
    return exec(db, "COMMIT", err, errlen);
}

static bool prepare(mq_store *s, char *err, size_t errlen)
{
    struct {
        sqlite3_stmt **st;
        const char *sql;
    } all[] = {
        {&s->insert_quote, "INSERT INTO quotes (id, created_at, line, effective_date, request, "
                           "response, consent_contact, consent_at) VALUES (?,?,?,?,?,?,?,?)"},
        {&s->select_quote, "SELECT id, created_at, line, effective_date, request, response, "
                           "consent_contact, consent_at FROM quotes WHERE id = ?"},
        {&s->count, "SELECT count(*) FROM quotes"},
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (sqlite3_prepare_v3(s->db, all[i].sql, -1, SQLITE_PREPARE_PERSISTENT, all[i].st, NULL) !=
            SQLITE_OK) {
            set_err(err, errlen, "prepare", s->db);
            return false;
        }
    return true;
}

mq_store *mq_store_open(const char *path, char *err, size_t errlen)
{
    mq_store *s = calloc(1, sizeof(*s));
    if (!s) {
        set_err(err, errlen, "open", NULL);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->queue_lock, NULL);
    pthread_cond_init(&s->work, NULL);
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        set_err(err, errlen, path, s->db);
        mq_store_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (!exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
              err, errlen) ||
        !migrate(s->db, err, errlen) || !prepare(s, err, errlen)) {
        mq_store_close(s);
        return NULL;
    }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the database writer");
        mq_store_close(s);
        return NULL;
    }
    s->writer_started = true;
    return s;
}

void mq_store_close(mq_store *s)
{
    if (!s)
        return;
    if (s->writer_started) {
        pthread_mutex_lock(&s->queue_lock);
        s->stop = true;
        pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->queue_lock);
        pthread_join(s->writer, NULL);
    }
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->queue_lock);
    sqlite3_finalize(s->insert_quote);
    sqlite3_finalize(s->select_quote);
    sqlite3_finalize(s->count);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

bool mq_store_new_id(mq_store_quote *q)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
    unsigned char r[17];
    if (getrandom(r, 16, 0) != 16)
        return false;
    r[16] = 0;
    /* 26 characters of 5 bits each: the 128 random bits (and 2 zero bits) */
    q->id[0] = 'q';
    q->id[1] = '_';
    for (int i = 0; i < 26; i++) {
        int bit = i * 5, byte = bit / 8, shift = bit % 8;
        unsigned v = ((unsigned)r[byte] << 8 | r[byte + 1]) >> (11 - shift);
        q->id[2 + i] = alphabet[v & 31];
    }
    q->id[28] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(q->created_at, sizeof q->created_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return true;
}

static bool step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE;
}

static bool insert_quote(mq_store *s, const mq_store_quote *q)
{
    sqlite3_stmt *st = s->insert_quote;
    sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->created_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->line, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, q->effective_date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, q->request, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, q->response, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, q->consent_contact);
    sqlite3_bind_text(st, 8, q->consent_at, -1, SQLITE_STATIC);
    bool ok = step_done(st);
    return ok;
}

/* Writes one batch in one transaction; every quote in it shares the outcome. */
static bool write_batch(mq_store *s, pending *batch)
{
    pthread_mutex_lock(&s->lock);
    bool ok = exec(s->db, "BEGIN IMMEDIATE", s->last_error, sizeof s->last_error);
    for (pending *p = batch; ok && p; p = p->next)
        ok = insert_quote(s, p->q);
    if (ok)
        ok = exec(s->db, "COMMIT", s->last_error, sizeof s->last_error);
    if (!ok) {
        set_err(s->last_error, sizeof s->last_error, "save", s->db);
        exec(s->db, "ROLLBACK", NULL, 0);
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

static void *writer_main(void *arg)
{
    mq_store *s = arg;
    pthread_mutex_lock(&s->queue_lock);
    for (;;) {
        while (!s->head && !s->stop)
            pthread_cond_wait(&s->work, &s->queue_lock);
        if (!s->head && s->stop)
            break;
        pending *batch = s->head;
        s->head = s->tail = NULL;
        pthread_mutex_unlock(&s->queue_lock);
        bool ok = write_batch(s, batch);
        pending *async = NULL;
        pthread_mutex_lock(&s->queue_lock);
        for (pending *p = batch, *next; p; p = next) {
            next = p->next; /* a waiting caller's p is its own once done is set */
            if (p->cb) {
                p->next = async;
                async = p;
                continue;
            }
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
        pthread_mutex_lock(&s->queue_lock);
    }
    pthread_mutex_unlock(&s->queue_lock);
    return NULL;
}

static bool enqueue(mq_store *s, pending *p)
{
    if (s->stop)
        return false;
    if (s->tail)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
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
    pending p = {.q = q};
    pthread_cond_init(&p.wake, NULL);
    pthread_mutex_lock(&s->queue_lock);
    if (!enqueue(s, &p)) {
        pthread_mutex_unlock(&s->queue_lock);
        pthread_cond_destroy(&p.wake);
        snprintf(err, errlen, "the store is closing");
        return false;
    }
    while (!p.done)
        pthread_cond_wait(&p.wake, &s->queue_lock);
    if (!p.ok && err && errlen)
        snprintf(err, errlen, "%s", s->last_error);
    pthread_mutex_unlock(&s->queue_lock);
    pthread_cond_destroy(&p.wake);
    return p.ok;
}

static size_t text_len(sqlite3_stmt *st, int col)
{
    return (size_t)sqlite3_column_bytes(st, col) + 1;
}

/* Appends column `col` to the string block at *pos. */
static const char *take(sqlite3_stmt *st, int col, char *block, size_t *pos)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *out = block + *pos;
    memcpy(out, t ? (const char *)t : "", n);
    out[n] = '\0';
    *pos += n + 1;
    return out;
}

int mq_store_get(mq_store *s, const char *id, mq_store_loaded *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&s->lock);
    int found = 0;
    sqlite3_stmt *q = s->select_quote;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        /* size every text first, then copy them into one block */
        size_t need = 0;
        for (int c = 0; c < 8; c++)
            need += text_len(q, c);
        out->strings = malloc(need + 1);
        if (!out->strings) {
            set_err(err, errlen, "load", NULL);
            found = -1;
        } else {
            size_t pos = 0;
            mq_store_quote *o = &out->q;
            snprintf(o->id, sizeof o->id, "%s", (const char *)sqlite3_column_text(q, 0));
            snprintf(o->created_at, sizeof o->created_at, "%s",
                     (const char *)sqlite3_column_text(q, 1));
            o->line = take(q, 2, out->strings, &pos);
            o->effective_date = take(q, 3, out->strings, &pos);
            o->request = take(q, 4, out->strings, &pos);
            o->response = take(q, 5, out->strings, &pos);
            o->consent_contact = sqlite3_column_int(q, 6);
            snprintf(o->consent_at, sizeof o->consent_at, "%s",
                     (const char *)sqlite3_column_text(q, 7));
            found = 1;
        }
    } else if (rc != SQLITE_DONE) {
        set_err(err, errlen, "load", s->db);
        found = -1;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    pthread_mutex_unlock(&s->lock);
    if (found != 1)
        mq_store_loaded_free(out);
    return found;
}

void mq_store_loaded_free(mq_store_loaded *l)
{
    free(l->strings);
    memset(l, 0, sizeof(*l));
}

int64_t mq_store_count(mq_store *s)
{
    pthread_mutex_lock(&s->lock);
    int64_t n = sqlite3_step(s->count) == SQLITE_ROW ? sqlite3_column_int64(s->count, 0) : -1;
    sqlite3_reset(s->count);
    pthread_mutex_unlock(&s->lock);
    return n;
}
