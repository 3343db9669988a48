/* test_store.c -- the store suite, run against both backends.
 *
 * Every shared test runs twice: on SQLite in a fresh temporary directory,
 * and on PostgreSQL at $MQ_TEST_PG (tests/run.sh starts a throwaway
 * cluster and sets it; the PostgreSQL tests then fail, not skip, when it
 * cannot be reached). Each PostgreSQL test starts from an empty database
 * (its tables dropped), so the migrations run every time. The failed state
 * is tested on SQLite with a VFS whose fsync can be made to fail; the
 * PostgreSQL tests add a lost connection (the server ends every session).
 */
#include "store.h"
#include "store_backend.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>

#include <cmocka.h>

static bool count_record(void *arg, const mq_store_record *r);
static int64_t count_in_file(const char *where, const char *sql);

/* ---- Fixture: one empty store location per test -------------------------- */

typedef struct fixture {
    bool pg;
    char dir[64];
    char where[512];
    mq_store *s;
} fixture;

static bool pg_admin(const char *where, const char *sql)
{
    PGconn *c = PQconnectdb(where);
    bool ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "# %s: %s", sql, PQerrorMessage(c));
        PQclear(r);
    } else {
        fprintf(stderr, "# cannot reach %s: %s", where, PQerrorMessage(c));
    }
    PQfinish(c);
    return ok;
}

static int setup_sqlite(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof f->dir, "/tmp/mq-store-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->where, sizeof f->where, "%s/quotes.db", f->dir);
    *state = f;
    return 0;
}

static int setup_pg(void **state)
{
    const char *where = getenv("MQ_TEST_PG");
    fixture *f = calloc(1, sizeof(*f));
    if (!f || !where)
        return -1;
    f->pg = true;
    snprintf(f->where, sizeof f->where, "%s", where);
    *state = f;
    /* an empty database: the migrations run from the start */
    return pg_admin(where, "SET client_min_messages = warning;"
                           "DROP TABLE IF EXISTS quotes, schema_migrations")
               ? 0
               : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mq_store_close(f->s);
    if (!f->pg) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
            return -1;
    }
    free(f);
    return 0;
}

static mq_store *open_store(fixture *f)
{
    char err[512] = "";
    mq_store_options o = {.pool_size = 4, .writers = 2};
    f->s = mq_store_open_with(f->where, &o, err, sizeof err);
    if (!f->s)
        fail_msg("open %s: %s", f->where, err);
    return f->s;
}

/* ---- Quotes to save ------------------------------------------------------ */

typedef struct sample {
    mq_store_quote q;
    char request[128], response[128];
} sample;

static void make_sample(sample *x, int n, const char *subject, const char *key_id)
{
    memset(x, 0, sizeof(*x));
    assert_true(mq_store_new_id(&x->q));
    snprintf(x->request, sizeof x->request, "{\"line\":\"auto\",\"n\":%d}", n);
    snprintf(x->response, sizeof x->response, "{\"quote_id\":\"%s\",\"results\":[]}", x->q.id);
    x->q.line = "auto";
    x->q.effective_date = "2026-03-01";
    x->q.request = x->request;
    x->q.response = x->response;
    x->q.consent_contact = n % 2;
    snprintf(x->q.consent_at, sizeof x->q.consent_at, "%s", n % 2 ? "2026-11-29T10:15:02Z" : "");
    x->q.subject = subject;
    x->q.key_id = key_id;
}

static void save(mq_store *s, const mq_store_quote *q)
{
    char err[512] = "";
    if (!mq_store_save(s, q, err, sizeof err))
        fail_msg("save %s: %s", q->id, err);
}

static bool present(mq_store *s, const char *id)
{
    mq_store_loaded l;
    char err[512];
    int found = mq_store_get(s, id, &l, err, sizeof err);
    assert_true(found >= 0);
    if (found)
        mq_store_loaded_free(&l);
    return found == 1;
}

static void assert_same_text(const char *want, const char *got)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(want, got);
}

/* ---- The shared suite ---------------------------------------------------- */

static void t_roundtrip(void **state)
{
    mq_store *s = open_store(*state);
    assert_int_equal(mq_store_schema_version(s), mq_store_schema_latest());
    assert_int_equal(mq_store_count(s), 0);
    sample a, b;
    make_sample(&a, 1, "subj-1", "k1");
    make_sample(&b, 2, NULL, NULL);
    save(s, &a.q);
    save(s, &b.q);
    assert_int_equal(mq_store_count(s), 2);
    const sample *both[] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        mq_store_loaded l;
        char err[256];
        assert_int_equal(mq_store_get(s, both[i]->q.id, &l, err, sizeof err), 1);
        assert_string_equal(l.q.id, both[i]->q.id);
        assert_string_equal(l.q.created_at, both[i]->q.created_at);
        assert_string_equal(l.q.line, "auto");
        assert_string_equal(l.q.effective_date, "2026-03-01");
        assert_string_equal(l.q.request, both[i]->request);
        assert_string_equal(l.q.response, both[i]->response);
        assert_int_equal(l.q.consent_contact, both[i]->q.consent_contact);
        assert_string_equal(l.q.consent_at, both[i]->q.consent_at);
        assert_same_text(both[i]->q.subject, l.q.subject);
        assert_same_text(both[i]->q.key_id, l.q.key_id);
        mq_store_loaded_free(&l);
    }
    mq_store_loaded l;
    char err[256];
    assert_int_equal(mq_store_get(s, "q_NOSUCHQUOTE0000000000000000", &l, err, sizeof err), 0);
}

typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, ok;
} waiter;

static void on_done(void *arg, bool ok)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->done++;
    w->ok += ok;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void t_save_async(void **state)
{
    mq_store *s = open_store(*state);
    enum { N = 40 };
    static sample xs[N];
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    for (int i = 0; i < N; i++) {
        make_sample(&xs[i], i, NULL, NULL);
        assert_true(mq_store_save_async(s, &xs[i].q, on_done, &w));
    }
    pthread_mutex_lock(&w.lock);
    while (w.done < N)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    assert_int_equal(w.ok, N);
    assert_int_equal(mq_store_count(s), N);
    for (int i = 0; i < N; i++)
        assert_true(present(s, xs[i].q.id));
}

enum { SAVERS = 8, SAVES_EACH = 25 };

typedef struct saver {
    mq_store *s;
    sample xs[SAVES_EACH];
    int ok;
} saver;

static void *saver_main(void *arg)
{
    saver *v = arg;
    for (int i = 0; i < SAVES_EACH; i++) {
        char err[256];
        make_sample(&v->xs[i], i, "many", NULL);
        v->ok += mq_store_save(v->s, &v->xs[i].q, err, sizeof err);
    }
    return NULL;
}

static void t_concurrent_saves(void **state)
{
    mq_store *s = open_store(*state);
    static saver vs[SAVERS];
    pthread_t th[SAVERS];
    for (int i = 0; i < SAVERS; i++) {
        vs[i] = (saver){.s = s};
        assert_int_equal(pthread_create(&th[i], NULL, saver_main, &vs[i]), 0);
    }
    for (int i = 0; i < SAVERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(vs[i].ok, SAVES_EACH);
    }
    assert_int_equal(mq_store_count(s), SAVERS * SAVES_EACH);
    for (int i = 0; i < SAVERS; i++)
        assert_true(present(s, vs[i].xs[SAVES_EACH - 1].q.id));
    /* group commits: many quotes each */
    mq_store_commits c;
    mq_store_commit_stats(s, &c);
    assert_int_equal(c.quotes, SAVERS * SAVES_EACH);
    if (c.commits * 2 > c.quotes)
        fail_msg("%lld commits for %lld quotes", (long long)c.commits, (long long)c.quotes);
    /* each commit timed once, in one bucket, and a commit takes time */
    int64_t timed = 0;
    for (int b = 0; b <= MQ_STORE_COMMIT_BUCKETS; b++)
        timed += c.took[b];
    assert_int_equal(timed, c.commits);
    assert_true(c.seconds > 0 && c.seconds < 60);
    /* a quote waits at least for its own commit */
    assert_true(c.waited >= c.seconds && c.waited < 60.0 * SAVERS * SAVES_EACH);
}

static void t_delete_one(void **state)
{
    mq_store *s = open_store(*state);
    sample a, b;
    make_sample(&a, 1, NULL, NULL);
    make_sample(&b, 2, NULL, NULL);
    save(s, &a.q);
    save(s, &b.q);
    char err[256];
    assert_int_equal(mq_store_delete(s, a.q.id, err, sizeof err), 1);
    assert_int_equal(mq_store_delete(s, a.q.id, err, sizeof err), 0);
    assert_false(present(s, a.q.id));
    assert_true(present(s, b.q.id));
    assert_int_equal(mq_store_count(s), 1);
}

static time_t utc(int y, int m, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    return timegm(&tm);
}

static void t_delete_before(void **state)
{
    mq_store *s = open_store(*state);
    sample old, mid, now;
    make_sample(&old, 1, NULL, NULL);
    make_sample(&mid, 2, NULL, NULL);
    make_sample(&now, 3, NULL, NULL);
    snprintf(old.q.created_at, sizeof old.q.created_at, "2020-01-01T00:00:00Z");
    snprintf(mid.q.created_at, sizeof mid.q.created_at, "2024-06-01T12:00:00Z");
    save(s, &old.q);
    save(s, &mid.q);
    save(s, &now.q);
    char err[256];
    assert_int_equal(mq_store_delete_before(s, utc(2020, 1, 1), err, sizeof err), 0);
    assert_int_equal(mq_store_delete_before(s, utc(2024, 1, 1), err, sizeof err), 1);
    assert_false(present(s, old.q.id));
    assert_true(present(s, mid.q.id));
    assert_int_equal(mq_store_delete_before(s, time(NULL) - 86400, err, sizeof err), 1);
    assert_true(present(s, now.q.id));
    assert_int_equal(mq_store_count(s), 1);
}

static void t_delete_subject(void **state)
{
    mq_store *s = open_store(*state);
    sample a1, a2, b, none;
    make_sample(&a1, 1, "hash-a", NULL);
    make_sample(&a2, 2, "hash-a", "k1");
    make_sample(&b, 3, "hash-b", NULL);
    make_sample(&none, 4, NULL, NULL);
    save(s, &a1.q);
    save(s, &a2.q);
    save(s, &b.q);
    save(s, &none.q);
    char err[256];
    assert_int_equal(mq_store_delete_subject(s, "hash-a", err, sizeof err), 2);
    assert_int_equal(mq_store_delete_subject(s, "hash-a", err, sizeof err), 0);
    assert_int_equal(mq_store_delete_subject(s, "hash-c", err, sizeof err), 0);
    assert_false(present(s, a1.q.id));
    assert_false(present(s, a2.q.id));
    assert_true(present(s, b.q.id));
    assert_true(present(s, none.q.id));
    assert_int_equal(mq_store_delete_subject(s, NULL, err, sizeof err), -1);
    assert_string_equal(err, "delete subject: no subject given");
}

typedef struct rekey {
    mq_store *s;
    int seen, replaced, plain, stop_after;
    char last[MQ_STORE_ID_LEN + 1];
    bool ordered;
} rekey;

/* Re-encrypts each row: "enc(k2):" + the old request, key k2. */
static bool rekey_row(void *arg, const mq_store_row *row)
{
    rekey *k = arg;
    k->ordered &= strcmp(k->last, row->id) < 0;
    snprintf(k->last, sizeof k->last, "%s", row->id);
    k->seen++;
    k->plain += row->key_id == NULL;
    char text[256], err[256];
    snprintf(text, sizeof text, "enc(k2):%s", row->request);
    k->replaced += mq_store_replace_request(k->s, row->id, text, "k2", NULL, err, sizeof err) == 1;
    return k->stop_after == 0 || k->seen < k->stop_after;
}

static void t_each_and_replace(void **state)
{
    mq_store *s = open_store(*state);
    enum { N = 450 }; /* more than two pages */
    static sample xs[N];
    for (int i = 0; i < N; i++) {
        make_sample(&xs[i], i, NULL, i % 3 ? "k1" : NULL);
        save(s, &xs[i].q);
    }
    char err[256];
    rekey k = {.s = s, .ordered = true};
    assert_int_equal(mq_store_each(s, rekey_row, &k, err, sizeof err), N);
    assert_int_equal(k.seen, N);
    assert_int_equal(k.replaced, N);
    assert_int_equal(k.plain, N / 3);
    assert_true(k.ordered);
    for (int i = 0; i < N; i += 97) {
        mq_store_loaded l;
        assert_int_equal(mq_store_get(s, xs[i].q.id, &l, err, sizeof err), 1);
        char want[256];
        snprintf(want, sizeof want, "enc(k2):%s", xs[i].request);
        assert_string_equal(l.q.request, want);
        assert_string_equal(l.q.key_id, "k2");
        assert_string_equal(l.q.response, xs[i].response); /* untouched */
        mq_store_loaded_free(&l);
    }
    rekey stop = {.s = s, .ordered = true, .stop_after = 3};
    assert_int_equal(mq_store_each(s, rekey_row, &stop, err, sizeof err), 3);
    assert_int_equal(mq_store_replace_request(s, "q_NOSUCHQUOTE0000000000000000", "x", NULL, NULL,
                                              err, sizeof err),
                     0);
    /* back to plain text: key_id NULL */
    assert_int_equal(mq_store_replace_request(s, xs[0].q.id, "{}", NULL, NULL, err, sizeof err), 1);
    mq_store_loaded l;
    assert_int_equal(mq_store_get(s, xs[0].q.id, &l, err, sizeof err), 1);
    assert_null(l.q.key_id);
    assert_string_equal(l.q.request, "{}");
    mq_store_loaded_free(&l);
}

/* Notes the ids mq_store_each_plain shows. */
typedef struct plain_seen {
    int n;
    char id[4][MQ_STORE_ID_LEN + 1];
} plain_seen;

static bool note_plain(void *arg, const mq_store_row *row)
{
    plain_seen *p = arg;
    assert_null(row->key_id);
    if (p->n < 4)
        snprintf(p->id[p->n], sizeof p->id[0], "%s", row->id);
    p->n++;
    return true;
}

static void assert_subject(mq_store *s, const char *id, const char *want)
{
    mq_store_loaded l;
    char err[256];
    assert_int_equal(mq_store_get(s, id, &l, err, sizeof err), 1);
    assert_same_text(want, l.q.subject);
    mq_store_loaded_free(&l);
}

/* Quotes saved in clear, before sealing (no key, no subject): the plain
 * iterator shows them and no other; re-sealing one gives it the subject
 * sealing found, by which delete_subject then finds it; a quote that has a
 * subject keeps it. */
static void t_plain_quotes(void **state)
{
    mq_store *s = open_store(*state);
    sample old1, sealed, old2;
    make_sample(&old1, 1, NULL, NULL);
    make_sample(&sealed, 2, "s_kept", "1");
    make_sample(&old2, 3, NULL, NULL);
    save(s, &old1.q);
    save(s, &sealed.q);
    save(s, &old2.q);
    char err[256];
    plain_seen seen = {0};
    assert_int_equal(mq_store_each_plain(s, note_plain, &seen, err, sizeof err), 2);
    assert_int_equal(seen.n, 2);
    /* in id order; saved in one millisecond, the random part orders them */
    bool first = strcmp(old1.q.id, old2.q.id) < 0;
    assert_string_equal(seen.id[0], first ? old1.q.id : old2.q.id);
    assert_string_equal(seen.id[1], first ? old2.q.id : old1.q.id);

    assert_int_equal(
        mq_store_replace_request(s, old1.q.id, "{\"_sealed\":1}", "2", "s_found", err, sizeof err),
        1);
    assert_subject(s, old1.q.id, "s_found");
    assert_int_equal(mq_store_replace_request(s, sealed.q.id, "{\"_sealed\":2}", "2", "s_other",
                                              err, sizeof err),
                     1);
    assert_subject(s, sealed.q.id, "s_kept");
    seen = (plain_seen){0};
    assert_int_equal(mq_store_each_plain(s, note_plain, &seen, err, sizeof err), 1);
    assert_string_equal(seen.id[0], old2.q.id);

    assert_int_equal(mq_store_delete_subject(s, "s_found", err, sizeof err), 1);
    assert_false(present(s, old1.q.id));
    assert_int_equal(mq_store_delete_subject(s, "s_kept", err, sizeof err), 1);
    assert_true(present(s, old2.q.id));
}

static void t_duplicate_rejected(void **state)
{
    mq_store *s = open_store(*state);
    sample a, b;
    make_sample(&a, 1, NULL, NULL);
    save(s, &a.q);
    char err[512] = "", last[512];
    assert_false(mq_store_last_error(s, last, sizeof last));
    assert_false(mq_store_save(s, &a.q, err, sizeof err));
    assert_non_null(strstr(err, "save"));
    assert_true(strstr(err, "UNIQUE") || strstr(err, "unique")); /* the database's own words */
    assert_false(mq_store_failed(s, NULL, 0)); /* a rejected quote does not fail the store */
    assert_true(mq_store_last_error(s, last, sizeof last)); /* what the server logs */
    assert_string_equal(last, err);
    make_sample(&b, 2, NULL, NULL);
    save(s, &b.q);
    assert_int_equal(mq_store_count(s), 2);
}

typedef struct opener {
    const char *where;
    mq_store *s;
    char err[512];
} opener;

static void *opener_main(void *arg)
{
    opener *o = arg;
    o->s = mq_store_open(o->where, o->err, sizeof o->err);
    return NULL;
}

/* Several nodes starting at once on a new database migrate it once. */
static void t_open_concurrently(void **state)
{
    fixture *f = *state;
    enum { N = 4 };
    opener os[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        os[i] = (opener){.where = f->where};
        assert_int_equal(pthread_create(&th[i], NULL, opener_main, &os[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++)
        if (!os[i].s)
            fail_msg("open %d: %s", i, os[i].err);
    sample a;
    make_sample(&a, 1, NULL, NULL);
    save(os[0].s, &a.q);
    for (int i = 0; i < N; i++) {
        assert_int_equal(mq_store_schema_version(os[i].s), mq_store_schema_latest());
        assert_true(present(os[i].s, a.q.id)); /* one database, seen by every node */
        mq_store_close(os[i].s);
    }
}

static void t_reopen_keeps_quotes(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    sample a;
    make_sample(&a, 1, "subj", "k1");
    save(s, &a.q);
    mq_store_close(s);
    s = open_store(f);
    assert_true(present(s, a.q.id));
    assert_int_equal(mq_store_schema_version(s), mq_store_schema_latest());
    assert_int_equal(mq_store_count(s), 1);
}

/* ---- SQLite only --------------------------------------------------------- */

static void t_sqlite_bad_path(void **state)
{
    (void)state;
    char err[512] = "";
    mq_store *s = mq_store_open("/nonexistent-dir/x/quotes.db", err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "/nonexistent-dir/x/quotes.db"));
}

/* must_exist (the commands that read or change saved quotes): a missing
 * file is named and not created; a database that is there opens. */
static void t_sqlite_must_exist(void **state)
{
    fixture *f = *state;
    char err[512] = "", want[600];
    mq_store_options o = {.must_exist = true};
    mq_store *s = mq_store_open_with(f->where, &o, err, sizeof err);
    assert_null(s);
    snprintf(want, sizeof want, "%s: no database there", f->where);
    assert_string_equal(err, want);
    assert_int_equal(access(f->where, F_OK), -1);
    /* an empty file is no database either (a truncated copy, a mistaken
     * file): refused, and left empty, not made a database without quotes */
    FILE *empty = fopen(f->where, "w");
    assert_non_null(empty);
    fclose(empty);
    assert_null(mq_store_open_with(f->where, &o, err, sizeof err));
    snprintf(want, sizeof want, "%s: an empty file, no database there", f->where);
    assert_string_equal(err, want);
    struct stat st;
    assert_int_equal(stat(f->where, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(unlink(f->where), 0);
    /* another program's SQLite database (a mistyped --db), or one with no
     * tables: refused, and left as it was (no tables, no WAL mode) */
    const char *foreign[] = {"CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT);"
                             "INSERT INTO moz_places (url) VALUES ('https://example.org');",
                             "PRAGMA user_version = 3; CREATE TABLE notes (t TEXT);", "VACUUM;"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, foreign[i], NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        assert_null(mq_store_open_with(f->where, &o, err, sizeof err));
        snprintf(want, sizeof want,
                 "%s: not a multiquote database (no quotes table, schema version %d); left as "
                 "it was",
                 f->where, i == 1 ? 3 : 0);
        assert_string_equal(err, want);
        assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM sqlite_schema WHERE name "
                                                 "IN ('quotes', 'quote_subjects', 'pack_dicts')"),
                         0);
        assert_int_equal(count_in_file(f->where, "SELECT journal_mode = 'wal' FROM "
                                                 "pragma_journal_mode"),
                         0);
        assert_int_equal(unlink(f->where), 0);
    }
    mq_store_close(open_store(f));
    f->s = mq_store_open_with(f->where, &o, err, sizeof err);
    if (!f->s)
        fail_msg("open %s: %s", f->where, err);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Checkpoints run outside the commits (store_sqlite.c): under a steady
 * stream of saves the database file takes the quotes and the WAL stays
 * within its bound instead of growing with every quote. */
static void t_sqlite_wal_stays_bounded(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    enum { QUOTES = 600, RESPONSE = 60 * 1024 }; /* 36 MiB in all */
    char *response = malloc(RESPONSE + 1);
    assert_non_null(response);
    response[RESPONSE] = '\0';
    for (int i = 0; i < QUOTES; i++) {
        /* letters no compressor shrinks, different for every quote (nor
         * does a dictionary): the pages must be written */
        uint32_t seed = 12345u + (uint32_t)i;
        for (int c = 0; c < RESPONSE; c++) {
            seed = seed * 1103515245u + 12345u;
            response[c] = (char)('a' + (seed >> 16) % 26);
        }
        sample a;
        make_sample(&a, i, NULL, "k1");
        a.q.response = response;
        save(s, &a.q);
    }
    char wal[sizeof f->where + 8];
    snprintf(wal, sizeof wal, "%s-wal", f->where);
    /* 36 MiB went through the WAL; it restarts past 16 MiB, once the
     * checkpointer thread has copied them. On a slow or busy machine (the
     * ASan build beside other suites) that thread may still be copying
     * when the WAL reaches 16 MiB, and the WAL grows meanwhile: 23 MiB
     * were seen (5,832 frames of 4 KiB). Without restarts it would hold
     * all 36 MiB. */
    long wal_bytes = file_size(wal), db_bytes = file_size(f->where);
    if (wal_bytes > 28L * 1024 * 1024)
        fail_msg("the WAL grew to %ld bytes", wal_bytes);
    if (db_bytes < 10L * 1024 * 1024)
        fail_msg("the database holds only %ld bytes: not checkpointed", db_bytes);
    assert_int_equal(mq_store_count(s), QUOTES);
    free(response);
}

/* Runs one SQL statement on the store's file from outside; its first
 * column's text of the first row into out (if given). */
static void sql_on_file(const char *path, const char *sql, char *out, size_t outlen)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int rc = sqlite3_step(st);
    assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
    if (out)
        snprintf(out, outlen, "%s",
                 rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Large requests and responses are stored LZ4-packed as BLOBs and read back
 * byte for byte; short ones stay TEXT; a damaged packed text is a read
 * error naming it, not a wrong quote. */
static void t_sqlite_large_texts_packed(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    enum { BIG = 20000 };
    char *big = malloc(BIG + 1);
    assert_non_null(big);
    for (int i = 0; i < BIG; i++) /* JSON-like, repetitive like a response */
        big[i] = "{\"code\":\"bi\",\"premium\":157.0},"[i % 30];
    big[BIG] = '\0';
    sample a, b;
    make_sample(&a, 1, NULL, "k1");
    make_sample(&b, 2, NULL, "k1");
    a.q.response = big;
    a.q.request = big + BIG - 3000; /* 3000 bytes */
    save(s, &a.q);
    save(s, &b.q);
    char sql[200], got[64];
    snprintf(sql, sizeof sql,
             "SELECT typeof(request) || ' ' || typeof(response) || ' ' || (length(response) < %d) "
             "FROM quotes WHERE id = '%s'",
             BIG / 3, a.q.id);
    sql_on_file(f->where, sql, got, sizeof got);
    assert_string_equal(got, "blob blob 1");
    snprintf(sql, sizeof sql,
             "SELECT typeof(request) || typeof(response) FROM quotes WHERE id = '%s'", b.q.id);
    sql_on_file(f->where, sql, got, sizeof got);
    assert_string_equal(got, "texttext");
    mq_store_loaded l;
    char err[256] = "";
    assert_int_equal(mq_store_get(s, a.q.id, &l, err, sizeof err), 1);
    assert_string_equal(l.q.response, big);
    assert_string_equal(l.q.request, big + BIG - 3000);
    mq_store_loaded_free(&l);
    /* damaged: the header promises more than the block holds */
    snprintf(sql, sizeof sql, "UPDATE quotes SET response = x'004D513400100000FF' WHERE id = '%s'",
             a.q.id);
    sql_on_file(f->where, sql, NULL, 0);
    assert_int_equal(mq_store_get(s, a.q.id, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not unpack"));
    assert_int_equal(mq_store_get(s, b.q.id, &l, err, sizeof err), 1); /* the others read on */
    mq_store_loaded_free(&l);
    free(big);
}

/* Saves a quote of `line` with `response`; its id into id. */
static void save_response(mq_store *s, const char *line, const char *response, char *id)
{
    sample a;
    make_sample(&a, 1, NULL, "k1");
    a.q.line = line;
    a.q.response = response;
    save(s, &a.q);
    strcpy(id, a.q.id);
}

/* Quote id reads back with this request and response (NULL: not checked). */
static void assert_stored(mq_store *s, const char *id, const char *request, const char *response)
{
    mq_store_loaded l;
    char err[256] = "";
    if (mq_store_get(s, id, &l, err, sizeof err) != 1)
        fail_msg("%s: %s", id, err);
    if (request)
        assert_string_equal(l.q.request, request);
    if (response)
        assert_string_equal(l.q.response, response);
    mq_store_loaded_free(&l);
}

static void assert_reads_back(mq_store *s, const char *id, const char *response)
{
    assert_stored(s, id, NULL, response);
}

static int count_on_file(const char *path, const char *sql)
{
    char got[32];
    sql_on_file(path, sql, got, sizeof got);
    return atoi(got);
}

/* The response dictionaries (pack_dicts also holds the request one). */
#define RESPONSE_DICTS "SELECT count(*) FROM pack_dicts WHERE line <> 'request'"

/* A real response of `line`: the first in its built-in dictionary (the
 * server's answer to an example request), each '7' made `digit`, so that
 * its premiums are not the dictionary's. malloc'd. */
static char *real_response(const char *line, char digit)
{
    const store_fixed_dict *f = NULL;
    for (int i = 0; i < store_response_ndicts; i++)
        if (strcmp(store_response_dicts[i].line, line) == 0)
            f = &store_response_dicts[i];
    if (!f)
        fail_msg("no built-in dictionary for %s", line);
    const char *text = (const char *)f->bytes, *next = strstr(text + 1, "{\"quote_id\"");
    char *r = strndup(text, next ? (size_t)(next - text) : (size_t)f->len);
    assert_non_null(r);
    for (char *c = r; *c; c++)
        if (*c == '7')
            *c = digit;
    return r;
}

/* The pack_dicts row a packed column of quote id names ("" for none). */
static void packed_dict_of(const char *where, const char *column, const char *id, char *out,
                           size_t outlen)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT CASE WHEN substr(%s, 1, 4) = x'004D5135' THEN (SELECT group_concat(d.line) "
             "FROM pack_dicts d WHERE hex(substr(%s, 9, 8)) = printf('%%02X%%02X000000000000', "
             "d.id %% 256, d.id / 256)) ELSE '' END FROM quotes WHERE id = '%s'",
             column, column, id);
    sql_on_file(where, sql, out, outlen);
}

/* Every line's responses are packed against its built-in dictionary (the
 * server's answers to the project's example requests): a quarter of their
 * length at most, read back byte for byte, after a reopen too. pack_dicts
 * holds those and the request dictionary, and saving adds none: no
 * shopper's response is ever kept as a dictionary. A line without one is
 * packed without; a damaged dictionary id is a read error. */
static void t_sqlite_responses_packed_with_dictionary(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    const int rows = store_response_ndicts + 1;
    assert_int_equal(count_on_file(f->where, "SELECT count(*) FROM pack_dicts"), rows);
    static const char *const lines[] = {"auto", "home", "renters", "term_life", "health", "bundle"};
    enum { NLINES = sizeof lines / sizeof lines[0] };
    char *texts[NLINES], ids[NLINES][64], got[64];
    for (int i = 0; i < NLINES; i++) {
        texts[i] = real_response(lines[i], '3');
        save_response(s, lines[i], texts[i], ids[i]);
        packed_dict_of(f->where, "response", ids[i], got, sizeof got);
        assert_string_equal(got, lines[i]);
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT length(response) FROM quotes WHERE id = '%s'", ids[i]);
        size_t packed = (size_t)count_on_file(f->where, sql);
        if (packed * 4 > strlen(texts[i]))
            fail_msg("%s: %zu bytes packed of %zu", lines[i], packed, strlen(texts[i]));
        assert_reads_back(s, ids[i], texts[i]);
    }
    assert_int_equal(count_on_file(f->where, "SELECT count(*) FROM pack_dicts"), rows);

    /* a line without a dictionary: packed alone */
    char other[64];
    save_response(s, "other", texts[0], other);
    packed_dict_of(f->where, "response", other, got, sizeof got);
    assert_string_equal(got, "");
    assert_reads_back(s, other, texts[0]);

    /* after a reopen: everything reads, and no dictionary was added */
    mq_store_close(s);
    s = open_store(f);
    for (int i = 0; i < NLINES; i++)
        assert_reads_back(s, ids[i], texts[i]);
    assert_int_equal(count_on_file(f->where, "SELECT count(*) FROM pack_dicts"), rows);

    /* a dictionary id that does not exist */
    char sql[256], err[256];
    snprintf(sql, sizeof sql,
             "UPDATE quotes SET response = CAST(substr(response, 1, 8) || x'E703000000000000' "
             "|| substr(response, 17) AS BLOB) WHERE id = '%s'",
             ids[0]);
    sql_on_file(f->where, sql, NULL, 0);
    mq_store_loaded l;
    assert_int_equal(mq_store_get(s, ids[0], &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not unpack"));
    assert_reads_back(s, ids[1], texts[1]); /* the others read on */
    for (int i = 0; i < NLINES; i++)
        free(texts[i]);
}

/* mq_store_pack, on the callers' threads: what the writer would store, the
 * same bytes, from several threads at once; a quote packed ahead reads back
 * byte for byte, and a short text stays text. */
typedef struct packer_job {
    mq_store *s;
    sample x[8];
    char *response;
} packer_job;

static void *pack_and_save(void *arg)
{
    packer_job *j = arg;
    for (int i = 0; i < 8; i++) {
        j->x[i].q.line = "auto";
        j->x[i].q.response = j->response;
        if (!mq_store_pack(j->s, &j->x[i].q) || !j->x[i].q.packed)
            return "not packed";
        char err[256];
        if (!mq_store_save(j->s, &j->x[i].q, err, sizeof err))
            return "not saved";
        mq_store_packed_free(&j->x[i].q);
    }
    return NULL;
}

static void t_sqlite_packed_ahead(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    char *response = real_response("auto", '4'), plain_id[64];
    save_response(s, "auto", response, plain_id); /* packed by the writer */
    packer_job jobs[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        jobs[t] = (packer_job){.s = s, .response = response};
        for (int i = 0; i < 8; i++)
            make_sample(&jobs[t].x[i], (uint32_t)(100 + 10 * t + i), NULL, "k1");
        assert_int_equal(pthread_create(&th[t], NULL, pack_and_save, &jobs[t]), 0);
    }
    for (int t = 0; t < 3; t++) {
        void *failed;
        pthread_join(th[t], &failed);
        if (failed)
            fail_msg("thread %d: %s", t, (char *)failed);
    }
    char sql[256];
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < 8; i++) {
            const char *id = jobs[t].x[i].q.id;
            assert_reads_back(s, id, response);
            snprintf(sql, sizeof sql,
                     "SELECT (SELECT response FROM quotes WHERE id = '%s') = (SELECT response FROM "
                     "quotes WHERE id = '%s')",
                     id, plain_id);
            assert_int_equal(count_on_file(f->where, sql), 1); /* the writer's bytes */
        }
    /* a short response is not packed ahead and stays text */
    sample small;
    make_sample(&small, 999, NULL, "k1");
    small.q.line = "auto";
    small.q.response = "{\"results\":[]}";
    assert_true(mq_store_pack(s, &small.q));
    assert_non_null(small.q.packed);
    assert_null(small.q.packed->blob[1]);
    save(s, &small.q);
    mq_store_packed_free(&small.q);
    assert_null(small.q.packed);
    snprintf(sql, sizeof sql, "SELECT typeof(response) = 'text' FROM quotes WHERE id = '%s'",
             small.q.id);
    assert_int_equal(count_on_file(f->where, sql), 1);
    free(response);
}

/* Whether the file at path holds `what` anywhere. */
static bool file_holds(const char *path, const char *what)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    char *bytes = malloc((size_t)n + 1);
    assert_non_null(bytes);
    bool ok = fread(bytes, 1, (size_t)n, fp) == (size_t)n &&
              memmem(bytes, (size_t)n, what, strlen(what)) != NULL;
    free(bytes);
    fclose(fp);
    return ok;
}

/* Adds a row to pack_dicts in db as a program before this one could have
 * left it, marked built in (1) or not (0), or in a database from before
 * the column (-1); its id. */
static int64_t add_dict_row(sqlite3 *db, const char *line, const char *dict, int builtin)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        builtin < 0
                                            ? "INSERT INTO pack_dicts (line, dict) VALUES (?1, ?2)"
                                            : "INSERT INTO pack_dicts (line, dict, builtin) "
                                              "VALUES (?1, ?2, ?3)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, line, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, dict, (int)strlen(dict), SQLITE_STATIC);
    if (builtin >= 0)
        sqlite3_bind_int(st, 3, builtin);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(db);
}

/* Stores text as the response of quote id in db, packed against dictionary
 * row dict_id (whose bytes are dict); the blob (malloc'd), *n bytes. */
static unsigned char *pack_response_with(sqlite3 *db, const char *id, const char *text,
                                         int64_t dict_id, const char *dict, int *n)
{
    store_dict d = {dict_id, (const unsigned char *)dict, (int)strlen(dict)};
    store_packer *packer = store_packer_new();
    assert_non_null(packer);
    unsigned char *blob = store_pack(packer, text, strlen(text), &d, n);
    store_packer_free(packer);
    assert_non_null(blob);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE quotes SET response = ?2 WHERE id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, blob, *n, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(st);
    return blob;
}

/* Whether quote id's response in the file at where is byte for byte blob. */
static bool response_is(const char *where, const char *id, const unsigned char *blob, int n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(where, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT response = ?2 FROM quotes WHERE id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, blob, n, SQLITE_STATIC);
    bool same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return same;
}

/* The pack_dicts row quote id's response is packed against; 0: none. */
static int64_t response_dict_id(const char *where, const char *id)
{
    char sql[384];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT d.id FROM pack_dicts d, quotes q WHERE q.id = '%s' AND "
             "substr(q.response, 1, 4) = x'004D5135' AND hex(substr(q.response, 9, 8)) = "
             "printf('%%02X%%02X000000000000', d.id %% 256, d.id / 256)), 0)",
             id);
    return count_in_file(where, sql);
}

/* A dictionary made of a real quote's response (what programs before
 * afcd16f kept: a shopper's, which `forget` could not erase), with `tag`
 * before it, to find it in the file. malloc'd. */
static char *shopper_dict(const char *tag, const char *response)
{
    size_t n = strlen(tag) + strlen(response) + 1;
    char *d = malloc(n);
    assert_non_null(d);
    snprintf(d, n, "%s%s", tag, response);
    return d;
}

/* Programs before afcd16f kept the first response of each line as its
 * dictionary: a shopper's, which `forget` could not erase. Opening retires
 * every response dictionary that is not built in: the responses packed
 * against it are packed again against their line's, byte for byte the same
 * text, and its row is gone from the file. */
static void t_sqlite_old_response_dicts_retired(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    char *r1 = real_response("auto", '1'), *r2 = real_response("auto", '2'), id1[64], id2[64];
    save_response(s, "auto", r1, id1);
    save_response(s, "auto", r2, id2);
    mq_store_close(s);

    /* as an older program left it: a shopper's response as the auto
     * dictionary, both responses packed against it */
    char *old = shopper_dict("MKshopperQz", r1);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
    int64_t old_id = add_dict_row(db, "auto", old, 0);
    const char *ids[2] = {id1, id2}, *texts[2] = {r1, r2};
    for (int i = 0; i < 2; i++) {
        int z = 0;
        free(pack_response_with(db, ids[i], texts[i], old_id, old, &z));
    }
    sqlite3_close(db);
    char got[64], sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pack_dicts WHERE id = %lld", (long long)old_id);

    s = open_store(f);
    assert_int_equal(count_on_file(f->where, sql), 0);
    assert_int_equal(count_on_file(f->where, "SELECT count(*) FROM pack_dicts"),
                     store_response_ndicts + 1);
    for (int i = 0; i < 2; i++) {
        assert_reads_back(s, ids[i], texts[i]);
        packed_dict_of(f->where, "response", ids[i], got, sizeof got);
        assert_string_equal(got, "auto");
    }
    mq_store_close(s);
    f->s = NULL; /* closed: the file is whole */
    assert_false(file_holds(f->where, "MKshopperQz"));
    free(old);
    free(r1);
    free(r2);
}

/* An older program's built-in dictionary holds no shopper's text: opening
 * keeps it, and rewrites none of the quotes packed against it (each byte for
 * byte as it was), which read back exactly, after a reopen too; so an
 * upgrade that brings new dictionaries rewrites no quote. A quote saved
 * now is packed against this program's dictionary. A dictionary that was a
 * real quote's response is still retired at the same open. */
static void t_sqlite_older_builtin_dicts_kept(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    char *r1 = real_response("auto", '1'), *r2 = real_response("auto", '2');
    char id1[64], id2[64], id3[64];
    save_response(s, "auto", r1, id1);
    save_response(s, "auto", r2, id2);
    mq_store_close(s);
    f->s = NULL;
    char sql[160];
    int64_t current = count_in_file(f->where, "SELECT id FROM pack_dicts WHERE line = 'auto'");
    assert_true(current > 0);

    /* an older program's auto dictionary (the examples' answers with other
     * premiums), quote 1 packed against it; a shopper's, quote 2 */
    char *older = real_response("auto", '8'), *shopper = shopper_dict("MKshopperQz", r2);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
    int64_t older_id = add_dict_row(db, "auto", older, 1);
    int64_t shopper_id = add_dict_row(db, "auto", shopper, 0);
    int n1 = 0, n2 = 0;
    unsigned char *b1 = pack_response_with(db, id1, r1, older_id, older, &n1);
    free(pack_response_with(db, id2, r2, shopper_id, shopper, &n2));
    sqlite3_close(db);

    s = open_store(f);
    assert_true(response_is(f->where, id1, b1, n1)); /* not rewritten */
    assert_int_equal(response_dict_id(f->where, id1), older_id);
    assert_reads_back(s, id1, r1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pack_dicts WHERE id = %lld AND builtin = 1",
             (long long)older_id);
    assert_int_equal(count_in_file(f->where, sql), 1);
    /* the shopper's retired: quote 2 packed again against this program's */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pack_dicts WHERE id = %lld",
             (long long)shopper_id);
    assert_int_equal(count_in_file(f->where, sql), 0);
    assert_int_equal(response_dict_id(f->where, id2), current);
    assert_reads_back(s, id2, r2);
    save_response(s, "auto", r1, id3);
    assert_int_equal(response_dict_id(f->where, id3), current);
    snprintf(sql, sizeof sql, "SELECT builtin FROM pack_dicts WHERE id = %lld", (long long)current);
    assert_int_equal(count_in_file(f->where, sql), 1);

    mq_store_close(s);
    s = open_store(f);
    assert_true(response_is(f->where, id1, b1, n1));
    assert_reads_back(s, id1, r1);
    assert_reads_back(s, id2, r2);
    assert_reads_back(s, id3, r1);
    mq_store_close(s);
    f->s = NULL;
    assert_false(file_holds(f->where, "MKshopperQz"));
    free(b1);
    free(older);
    free(shopper);
    free(r1);
    free(r2);
}

/* The renters dictionary built into the programs of commits afcd16f to
 * a0cbb7e (store_response_dicts.c then), as a database of theirs holds it. */
static const char SHIPPED_RENTERS[] =
    "{\"quote_id\":\"q_000000000000000000000000000000000000\",\"line\":\"renters\",\"e"
    "ffective_date\":\"2026-05-01\",\"created_at\":\"0000-00-00T00:00:00Z\",\"results"
    "\":[{\"carrier\":{\"id\":\"hearthstone\",\"name\":\"Hearthstone Mutual Fire Insura"
    "nce Company\",\"rating\":\"A\"},\"plan\":{\"id\":\"hearthstone-oh-renters\",\"versio"
    "n\":\"2026-03-01\"},\"status\":\"quoted\",\"premium\":{\"total\":134.0,\"fees\":10.0,"
    "\"term_months\":12,\"monthly\":11.17,\"minimum_premium_applied\":false},\"cover"
    "ages\":[{\"code\":\"property\",\"premium\":107.0,\"limits\":{\"personal_property\":"
    "30000,\"deductible\":500}},{\"code\":\"liability\",\"premium\":13.0,\"limits\":{\"l"
    "imit\":100000}},{\"code\":\"med_pay\",\"premium\":4.0,\"limits\":{\"limit\":1000}}]"
    ",\"fees\":[{\"name\":\"Policy fee\",\"amount\":10.0}],\"reasons\":[],\"notes\":[],\"v"
    "erifies\":[{\"check\":\"claims_history\",\"text\":\"Hearthstone confirms five ye"
    "ars of claims with a CLUE loss-history report; water losses are checked "
    "against the plumbing update dates on the application.\"},{\"check\":\"inspec"
    "tion\",\"text\":\"Protective devices are confirmed with photos of the unit w"
    "ithin 30 days of binding; the building's protection class with the ISO l"
    "ookup.\"},{\"check\":\"insurance_score\",\"text\":\"An insurance score is ordere"
    "d at binding where Ohio law allows; the quote assumes a standard tier.\"}"
    "],\"elapsed_ms\":0},{\"carrier\":{\"id\":\"keystone\",\"name\":\"Keystone Mutual In"
    "surance Company\",\"rating\":\"A++\"},\"plan\":{\"id\":\"keystone-oh-renters\",\"ver"
    "sion\":\"2026-01-01\"},\"status\":\"quoted\",\"premium\":{\"total\":138.0,\"fees\":10"
    ".0,\"term_months\":12,\"monthly\":11.5,\"minimum_premium_applied\":false},\"cov"
    "erages\":[{\"code\":\"property\",\"premium\":110.0,\"limits\":{\"personal_property"
    "\":30000,\"deductible\":500}},{\"code\":\"liability\",\"premium\":14.0,\"limits\":{"
    "\"limit\":100000}},{\"code\":\"med_pay\",\"premium\":4.0,\"limits\":{\"limit\":1000}"
    "}],\"fees\":[{\"name\":\"Policy fee\",\"amount\":10.0}],\"reasons\":[],\"notes\":[],"
    "\"verifies\":[{\"check\":\"claims_history\",\"text\":\"Property claims of the las"
    "t five years are confirmed with a CLUE loss-history report.\"},{\"check\":\""
    "inspection\",\"text\":\"Smoke detectors, burglar alarm and sprinklers are co"
    "nfirmed by photos of the unit within 30 days of binding.\"},{\"check\":\"ins"
    "urance_score\",\"text\":\"A credit-based insurance score is ordered at bindi"
    "ng where Ohio law allows; the quote assumes a standard score tier.\"}],\"e"
    "lapsed_ms\":0},{\"carrier\":{\"id\":\"summit\",\"name\":\"Summit Direct Insurance "
    "Company\",\"rating\":\"A+\"},\"plan\":{\"id\":\"summit-oh-renters\",\"version\":\"2026"
    "-02-01\"},\"status\":\"quoted\",\"premium\":{\"total\":138.05,\"fees\":0.0,\"term_mo"
    "nths\":12,\"monthly\":11.5,\"minimum_premium_applied\":false},\"coverages\":[{\""
    "code\":\"property\",\"premium\":123.65,\"limits\":{\"personal_property\":30000,\"d"
    "eductible\":500}},{\"code\":\"liability\",\"premium\":11.4,\"limits\":{\"limit\":10"
    "0000}},{\"code\":\"med_pay\",\"premium\":3.0,\"limits\":{\"limit\":1000}}],\"fees\":"
    "[],\"reasons\":[],\"notes\":[],\"verifies\":[{\"check\":\"claims_history\",\"text\":"
    "\"Summit Direct confirms prior claims with a CLUE loss-history report bef"
    "ore binding; the claims factor and eligibility follow the report.\"},{\"ch"
    "eck\":\"inspection\",\"text\":\"Summit Direct asks for photos of the unit's sm"
    "oke detectors, alarm panel and sprinkler heads within 30 days of binding"
    ".\"},{\"check\":\"insurance_score\",\"text\":\"An insurance score is ordered at "
    "binding where Ohio law allows; the online price assumes a standard score"
    ".\"}],\"elapsed_ms\":0},{\"carrier\":{\"id\":\"lonestar\",\"name\":\"Lone Star Count"
    "y Mutual\",\"rating\":\"A-\"},\"plan\":null,\"status\":\"unavailable\",\"coverages\":"
    "[],\"fees\":[],\"reasons\":[\"Lone Star County Mutual does not write renters "
    "insurance in OH\"],\"notes\":[],\"verifies\":[],\"elapsed_ms\":0}],\"tips\":[]}";

/* A database from before pack_dicts marked its built-in rows (schema
 * version 11): a response dictionary an earlier program had built in (the
 * renters one above) is recognised by its digest and kept, its quotes byte
 * for byte as they were; the rows of this program's dictionaries and of
 * the requests' are marked built in; a dictionary that was a real quote's
 * response is retired, as before. */
static void t_sqlite_shipped_dicts_recognised(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    char *renters = real_response("renters", '1'), *autor = real_response("auto", '2');
    char id1[64], id2[64];
    save_response(s, "renters", renters, id1);
    save_response(s, "auto", autor, id2);
    mq_store_close(s);
    f->s = NULL;

    /* back to version 11, as a program of a0cbb7e left it */
    char *shopper = shopper_dict("MKshopperQz", autor);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE pack_dicts DROP COLUMN builtin;"
                                  "PRAGMA user_version = 11;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    int64_t shipped_id = add_dict_row(db, "renters", SHIPPED_RENTERS, -1);
    int64_t shopper_id = add_dict_row(db, "auto", shopper, -1);
    int n1 = 0, n2 = 0;
    unsigned char *b1 = pack_response_with(db, id1, renters, shipped_id, SHIPPED_RENTERS, &n1);
    free(pack_response_with(db, id2, autor, shopper_id, shopper, &n2));
    sqlite3_close(db);

    s = open_store(f);
    assert_int_equal(mq_store_schema_version(s), mq_store_schema_latest());
    assert_true(response_is(f->where, id1, b1, n1));
    assert_int_equal(response_dict_id(f->where, id1), shipped_id);
    assert_reads_back(s, id1, renters);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pack_dicts WHERE id = %lld AND builtin = 1",
             (long long)shipped_id);
    assert_int_equal(count_in_file(f->where, sql), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pack_dicts WHERE id = %lld",
             (long long)shopper_id);
    assert_int_equal(count_in_file(f->where, sql), 0);
    assert_reads_back(s, id2, autor);
    /* every row left is built in: this program's, the requests', the old renters */
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM pack_dicts WHERE builtin = 0"),
                     0);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM pack_dicts"),
                     store_response_ndicts + 2);
    mq_store_close(s);
    f->s = NULL;
    assert_false(file_holds(f->where, "MKshopperQz"));
    free(b1);
    free(shopper);
    free(renters);
    free(autor);
}

/* A sealed auto request as the server stores it: personal values null, a
 * box of `box` random base64 characters last, and "Zanzibar" for a city the
 * dictionary never saw. */
static char *sealed_request(uint32_t seed, int box)
{
    static const char head[] =
        "{\"line\":\"auto\",\"effective_date\":\"2026-05-01\",\"applicant\":{\"first_name\":null,"
        "\"last_name\":null,\"date_of_birth\":null,\"address\":{\"street\":null,\"city\":"
        "\"Zanzibar\",\"state\":\"OH\",\"zip\":\"43004\"},\"homeowner\":true,\"paperless\":false},"
        "\"drivers\":[{\"id\":\"d1\",\"first_name\":null,\"last_name\":null,\"date_of_birth\":null,"
        "\"gender\":\"female\",\"marital_status\":\"married\",\"license\":{\"state\":\"OH\","
        "\"number\":null,\"first_licensed\":\"2001-07-19\"},\"incidents\":[]}],\"vehicles\":[{"
        "\"id\":\"v1\",\"year\":2019,\"make\":\"Subaru\",\"model\":\"Outback\",\"symbol\":5,"
        "\"principal_driver\":\"d1\",\"anti_theft\":true,\"coverages\":{\"comp\":{\"deductible\":"
        "250},\"coll\":{\"deductible\":500}}}],\"coverages\":{\"bi\":{\"per_person\":100000,"
        "\"per_accident\":300000},\"pd\":{\"limit\":100000},\"um\":{\"per_person\":100000,"
        "\"per_accident\":300000}},\"_sealed\":{\"key\":1,\"nonce\":\"AAAA\",\"box\":\"";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *t = malloc(sizeof head + (size_t)box + 8);
    assert_non_null(t);
    memcpy(t, head, sizeof head - 1);
    char *at = t + sizeof head - 1;
    for (int i = 0; i < box; i++) {
        seed = seed * 1103515245u + 12345u;
        *at++ = b64[seed >> 26];
    }
    strcpy(at, "\"}}");
    return t;
}

/* Requests are packed against the fixed request dictionary: one row of
 * pack_dicts, added once however often the store opens, made of no
 * shopper's request; a sealed request packs to little more than its box and
 * reads back byte for byte, after a reopen and once replaced (a new key). */
static void t_sqlite_requests_packed_with_fixed_dictionary(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    assert_int_equal(count_on_file(f->where, "SELECT count(*) FROM pack_dicts WHERE line = "
                                             "'request'"),
                     1);
    char *r1 = sealed_request(1, 400), *r2 = sealed_request(2, 400);
    sample a, b;
    make_sample(&a, 1, NULL, "k1");
    make_sample(&b, 2, NULL, "k1");
    a.q.request = r1;
    b.q.request = r2;
    save(s, &a.q);
    save(s, &b.q);
    char sql[300], got[64];
    snprintf(sql, sizeof sql,
             "SELECT hex(substr(request, 1, 4)) || ' ' || (hex(substr(request, 9, 8)) = (SELECT "
             "printf('%%02X00000000000000', id) FROM pack_dicts WHERE line = 'request')) || ' ' "
             "|| length(request) FROM quotes WHERE id = '%s'",
             b.q.id);
    sql_on_file(f->where, sql, got, sizeof got);
    assert_memory_equal(got, "004D5135 1 ", 11); /* against the request dictionary */
    size_t packed = (size_t)atol(got + 11), len = strlen(r2);
    /* the 400 characters of box and the few values the dictionary lacks */
    if (packed > 400 + 250)
        fail_msg("%zu bytes packed of %zu", packed, len);
    assert_stored(s, a.q.id, r1, NULL);
    assert_stored(s, b.q.id, r2, NULL);
    /* nothing of a stored request is in any dictionary */
    assert_int_equal(count_on_file(f->where, "SELECT count(*) FROM pack_dicts WHERE "
                                             "instr(dict, CAST('Zanzibar' AS BLOB)) > 0"),
                     0);

    mq_store_close(s);
    s = open_store(f);
    assert_int_equal(count_on_file(f->where, "SELECT count(*) FROM pack_dicts WHERE line = "
                                             "'request'"),
                     1);
    assert_stored(s, a.q.id, r1, NULL);
    char *r3 = sealed_request(3, 500), err[256] = "";
    assert_int_equal(mq_store_replace_request(s, a.q.id, r3, "k2", NULL, err, sizeof err), 1);
    snprintf(sql, sizeof sql, "SELECT hex(substr(request, 1, 4)) FROM quotes WHERE id = '%s'",
             a.q.id);
    sql_on_file(f->where, sql, got, sizeof got);
    assert_string_equal(got, "004D5135");
    assert_stored(s, a.q.id, r3, NULL);
    assert_stored(s, b.q.id, r2, NULL);
    free(r1);
    free(r2);
    free(r3);
}

/* A replaced request stays in the WAL as it was until
 * mq_store_erase_old_versions, which leaves it in no file. */
static void t_sqlite_erase_old_versions(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    sample a;
    make_sample(&a, 1, "s_a", "1");
    snprintf(a.request, sizeof a.request, "{\"line\":\"auto\",\"_sealed\":\"OLDBOXq8Zr2Lw\"}");
    save(s, &a.q);
    char err[256], wal[600];
    assert_int_equal(mq_store_replace_request(s, a.q.id, "{\"line\":\"auto\",\"_sealed\":\"NEW\"}",
                                              "2", NULL, err, sizeof err),
                     1);
    snprintf(wal, sizeof wal, "%s-wal", f->where);
    assert_true(file_holds(wal, "OLDBOXq8Zr2Lw") || file_holds(f->where, "OLDBOXq8Zr2Lw"));
    assert_true(mq_store_erase_old_versions(s, err, sizeof err));
    assert_false(file_holds(wal, "OLDBOXq8Zr2Lw"));
    assert_false(file_holds(f->where, "OLDBOXq8Zr2Lw"));
    mq_store_loaded l;
    assert_int_equal(mq_store_get(s, a.q.id, &l, err, sizeof err), 1);
    assert_string_equal(l.q.request, "{\"line\":\"auto\",\"_sealed\":\"NEW\"}");
    mq_store_loaded_free(&l);
}

/* A database written by the program before the store had two backends
 * (schema version 4) is migrated in place and keeps its quotes. */
static void t_sqlite_upgrades_version_4(void **state)
{
    fixture *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE quotes (id TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,"
                     " line TEXT NOT NULL, effective_date TEXT NOT NULL, request TEXT NOT NULL,"
                     " response TEXT NOT NULL, consent_contact INTEGER NOT NULL DEFAULT 0,"
                     " consent_at TEXT NOT NULL DEFAULT '');"
                     "CREATE INDEX quotes_created ON quotes(created_at);"
                     "INSERT INTO quotes VALUES ('q_OLD00000000000000000000000', "
                     "'2026-01-02T03:04:05Z', 'auto', '2026-03-01', '{\"old\":1}', '{}', 1, "
                     "'2026-01-02T03:04:05Z');"
                     "PRAGMA user_version = 4;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    mq_store *s = open_store(f);
    assert_int_equal(mq_store_schema_version(s), mq_store_schema_latest());
    mq_store_loaded l;
    char err[256];
    assert_int_equal(mq_store_get(s, "q_OLD00000000000000000000000", &l, err, sizeof err), 1);
    assert_string_equal(l.q.request, "{\"old\":1}");
    assert_string_equal(l.q.created_at, "2026-01-02T03:04:05Z");
    assert_true(l.q.consent_contact);
    assert_null(l.q.subject);
    assert_null(l.q.key_id);
    mq_store_loaded_free(&l);
    assert_int_equal(mq_store_delete_before(s, utc(2026, 2, 1), err, sizeof err), 1);
}

/* How many rows `sql` (a count) finds in the file at `where`. */
static int64_t count_in_file(const char *where, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(where, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A database of the version before quote_subjects (subjects found through
 * an index on quotes) is migrated: its subjects move to the table, the
 * index goes, and from then on saving and every kind of delete keep the
 * table in step with the quotes. */
/* The schema version before quote_subjects (store_schema.c, migration 8). */
enum { SCHEMA_BEFORE_SUBJECTS = 7 };

static void t_sqlite_subjects_table(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    sample a1, a2, b, none;
    make_sample(&a1, 1, "s_a", "1");
    make_sample(&a2, 2, "s_a", "1");
    make_sample(&b, 3, "s_b", "1");
    make_sample(&none, 4, NULL, NULL);
    save(s, &a1.q);
    save(s, &a2.q);
    save(s, &b.q);
    mq_store_close(s);
    f->s = NULL;
    /* back to the version before: the index, no table, no triggers */
    sqlite3 *db;
    char sql[512];
    snprintf(sql, sizeof sql,
             "DROP INDEX quotes_plain; DROP TRIGGER quotes_subject_changed;"
             "DROP TRIGGER quotes_subject_saved; DROP TRIGGER quotes_subject_gone;"
             "DROP TABLE quote_subjects; CREATE INDEX quotes_subject ON quotes(subject);"
             "ALTER TABLE quotes DROP COLUMN consent_withdrawn_at;"
             "ALTER TABLE pack_dicts DROP COLUMN builtin;"
             "PRAGMA user_version = %d;",
             SCHEMA_BEFORE_SUBJECTS);
    assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    s = open_store(f);
    assert_int_equal(mq_store_schema_version(s), mq_store_schema_latest());
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM sqlite_master "
                                             "WHERE name = 'quotes_subject'"),
                     0);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects"), 3);
    save(s, &none.q); /* no subject: no row */
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects"), 3);
    char err[256];
    assert_int_equal(mq_store_delete_subject(s, "s_a", err, sizeof err), 2);
    assert_false(present(s, a1.q.id));
    assert_false(present(s, a2.q.id));
    assert_true(present(s, b.q.id));
    assert_true(present(s, none.q.id));
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects"), 1);
    /* a quote deleted by id, or purged by age, takes its subject row along */
    assert_int_equal(mq_store_delete(s, b.q.id, err, sizeof err), 1);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects"), 0);
    sample c;
    make_sample(&c, 5, "s_c", "1");
    save(s, &c.q);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects "
                                             "WHERE subject = 's_c'"),
                     1);
    assert_int_equal(mq_store_delete_before(s, time(NULL) + 86400, err, sizeof err), 2);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects"), 0);
    assert_int_equal(mq_store_delete_subject(s, "s_c", err, sizeof err), 0);
}

static int file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* A new database holds every shopper's quote: the store creates it, and
 * SQLite its -wal and -shm files, readable by their owner only, whatever
 * the umask lets through; a file that is there keeps its mode. */
static void t_sqlite_new_file_private(void **state)
{
    fixture *f = *state;
    mode_t was = umask(022);
    mq_store *s = open_store(f);
    sample a;
    make_sample(&a, 1, "s_a", "1");
    save(s, &a.q);
    char wal[600], shm[600];
    snprintf(wal, sizeof wal, "%s-wal", f->where);
    snprintf(shm, sizeof shm, "%s-shm", f->where);
    assert_int_equal(file_mode(f->where), 0600);
    assert_int_equal(file_mode(wal), 0600);
    assert_int_equal(file_mode(shm), 0600);
    mq_store_close(s);
    f->s = NULL;
    assert_int_equal(chmod(f->where, 0640), 0);
    open_store(f);
    assert_int_equal(file_mode(f->where), 0640);
    umask(was);
}

/* Numbers the quotes of f's closed database anew, one lower each, as a copy
 * read back from the sqlite3 shell's .dump after a delete does, while
 * quote_subjects keeps the rowids it had (as the copy has it). */
static void renumber_as_a_dump_would(const fixture *f)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TEMP TABLE q AS SELECT rowid AS r, * FROM quotes;"
                                  "CREATE TEMP TABLE qs AS SELECT * FROM quote_subjects;"
                                  "DELETE FROM quotes;"
                                  "INSERT INTO quotes (rowid, id, created_at, line, "
                                  "effective_date, request, response, consent_contact, "
                                  "consent_at, subject, key_id) SELECT r - 1, id, created_at, "
                                  "line, effective_date, request, response, consent_contact, "
                                  "consent_at, subject, key_id FROM q ORDER BY r;"
                                  "DELETE FROM quote_subjects;"
                                  "INSERT INTO quote_subjects SELECT * FROM qs;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

/* A copy of the database made row by row (the sqlite3 shell's .dump read
 * back, user_version set by hand) numbers the quotes anew, while
 * quote_subjects keeps the old numbers. Saving a quote with an email at a
 * rowid the table still holds must not fail; forget must delete every
 * quote of the person and no one else's, and leave the table in step. */
static void t_sqlite_subjects_after_renumbering(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    sample a1, b, a2, c, gone;
    make_sample(&gone, 1, "s_gone", "1");
    make_sample(&a1, 2, "s_a", "1");
    make_sample(&b, 3, "s_b", "1");
    make_sample(&a2, 4, "s_a", "1");
    make_sample(&c, 5, "s_c", "1");
    save(s, &gone.q);
    save(s, &a1.q);
    save(s, &b.q);
    save(s, &a2.q);
    char err[256];
    assert_int_equal(mq_store_delete(s, gone.q.id, err, sizeof err), 1);
    mq_store_close(s);
    f->s = NULL;
    /* quotes 2, 3, 4 become 1, 2, 3; quote_subjects still says 2, 3, 4 */
    renumber_as_a_dump_would(f);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects s JOIN quotes "
                                             "q ON q.rowid = s.quote_rowid AND "
                                             "q.subject = s.subject"),
                     0);

    s = open_store(f);
    save(s, &c.q); /* rowid 4, where quote_subjects holds s_a's row */
    assert_true(present(s, c.q.id));
    /* s_a's one row left says 2, now b's quote: b stays, and both of s_a's go */
    assert_int_equal(mq_store_delete_subject(s, "s_a", err, sizeof err), 2);
    assert_false(present(s, a1.q.id));
    assert_false(present(s, a2.q.id));
    assert_true(present(s, b.q.id));
    assert_true(present(s, c.q.id));
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects"), 2);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects s JOIN quotes "
                                             "q ON q.rowid = s.quote_rowid AND "
                                             "q.subject = s.subject"),
                     2);
    assert_int_equal(mq_store_delete_subject(s, "s_b", err, sizeof err), 1);
    assert_int_equal(mq_store_delete_subject(s, "s_c", err, sizeof err), 1);
    assert_int_equal(mq_store_count(s), 0);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects"), 0);
}

/* The same copy, and then a quote saved at the rowid where quote_subjects
 * kept the one row of a person whose only quote was numbered anew: the
 * table no longer names that person at all. forget must still delete
 * their quote, and export (mq_store_each_record_of) find it. */
static void t_sqlite_subject_row_replaced_after_renumbering(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    sample gone, b, a, c;
    make_sample(&gone, 1, "s_gone", "1");
    make_sample(&b, 2, "s_b", "1");
    make_sample(&a, 3, "s_a", "1");
    make_sample(&c, 4, "s_c", "1");
    save(s, &gone.q);
    save(s, &b.q);
    save(s, &a.q);
    char err[256];
    assert_int_equal(mq_store_delete(s, gone.q.id, err, sizeof err), 1);
    mq_store_close(s);
    f->s = NULL;
    /* quotes 2, 3 become 1, 2; quote_subjects still says 2: s_b, 3: s_a */
    renumber_as_a_dump_would(f);
    s = open_store(f);
    save(s, &c.q); /* rowid 3: s_a's one row becomes s_c's */
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects "
                                             "WHERE subject = 's_a'"),
                     0);
    int n = 0;
    assert_int_equal(mq_store_each_record_of(s, "s_a", count_record, &n, err, sizeof err), 1);
    assert_int_equal(mq_store_delete_subject(s, "s_a", err, sizeof err), 1);
    assert_false(present(s, a.q.id));
    assert_true(present(s, b.q.id));
    assert_true(present(s, c.q.id));
    /* and the table is in step again: every row names its own quote's subject */
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects s JOIN quotes "
                                             "q ON q.rowid = s.quote_rowid AND "
                                             "q.subject = s.subject"),
                     2);
    assert_int_equal(count_in_file(f->where, "SELECT count(*) FROM quote_subjects"), 2);
    assert_int_equal(mq_store_delete_subject(s, "s_b", err, sizeof err), 1);
    assert_int_equal(mq_store_delete_subject(s, "s_c", err, sizeof err), 1);
    assert_int_equal(mq_store_count(s), 0);
}

/* The database file moved away (or deleted, or replaced) while the store
 * has it open: SQLite in WAL mode would go on committing into the file that
 * left and a -wal beside the path, every quote acknowledged and lost at the
 * next start. The store fails instead: nothing more is saved. */
static void t_sqlite_file_moved_fails_store(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    sample a, b;
    make_sample(&a, 1, "s_a", "1");
    make_sample(&b, 2, "s_b", "1");
    save(s, &a.q);
    char moved[600], err[512] = "", want[1024];
    snprintf(moved, sizeof moved, "%s.moved", f->where);
    assert_int_equal(rename(f->where, moved), 0);
    assert_false(mq_store_save(s, &b.q, err, sizeof err));
    snprintf(want, sizeof want,
             "%s: the database file was moved, replaced or deleted while it was open; nothing "
             "more is stored: restart the server to open the file that is there now",
             f->where);
    assert_string_equal(err, want);
    char why[512];
    assert_true(mq_store_failed(s, why, sizeof why));
    assert_string_equal(why, want);
    assert_true(present(s, a.q.id)); /* reads go on */
    /* b is refused before it is written anywhere: the same on the next try */
    assert_false(mq_store_save(s, &b.q, err, sizeof err));
    assert_non_null(strstr(err, "the store refuses writes since an earlier write failed"));
}

/* A file that is not a database, or is no longer a whole one: the error
 * names the file (the commands print it as it is, and the server logs it),
 * not only SQLite's "file is not a database". */
static void t_sqlite_errors_name_the_file(void **state)
{
    fixture *f = *state;
    FILE *out = fopen(f->where, "wb");
    assert_non_null(out);
    for (int i = 0; i < 8192; i++)
        fputc("not a database "[i % 15], out);
    assert_int_equal(fclose(out), 0);
    char err[512] = "", want[600];
    assert_null(mq_store_open(f->where, err, sizeof err));
    snprintf(want, sizeof want, "%s: file is not a database", f->where);
    assert_string_equal(err, want);

    /* a database whose table's root page was overwritten: it opens (the
     * schema is whole), and the first write that reaches the page fails */
    assert_int_equal(unlink(f->where), 0);
    mq_store *s = open_store(f);
    sample a;
    make_sample(&a, 1, "s_a", "1");
    save(s, &a.q);
    mq_store_close(s);
    f->s = NULL;
    sqlite3 *db;
    int root = 0;
    assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT rootpage FROM sqlite_master WHERE name = "
                                        "'quotes' AND type = 'table'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    root = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int page = count_in_file(f->where, "PRAGMA page_size");
    sqlite3_close(db);
    FILE *io = fopen(f->where, "r+b");
    assert_non_null(io);
    assert_int_equal(fseek(io, (long)(root - 1) * page, SEEK_SET), 0);
    for (int i = 0; i < page; i++)
        fputc(0x41, io);
    assert_int_equal(fclose(io), 0);
    err[0] = '\0';
    s = mq_store_open(f->where, err, sizeof err); /* the schema is whole: it opens */
    if (!s)
        fail_msg("open %s: %s", f->where, err);
    f->s = s;
    assert_int_equal(mq_store_delete_before(s, time(NULL) + 86400, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: write: database disk image is malformed", f->where);
    assert_string_equal(err, want);
}

/* A VFS that forwards to the default one, but whose fsync fails while
 * `failing` is set: how a disk error looks to SQLite; and with `stall` at
 * STALL_ARMED, the next fsync hangs (STALL_HELD) until `stall` is put back
 * to STALL_OFF: a disk that does not answer. */
enum { STALL_OFF, STALL_ARMED, STALL_HELD };
static struct {
    sqlite3_vfs vfs, *real;
    sqlite3_io_methods methods;
    const sqlite3_io_methods *real_methods;
    bool failing;
    atomic_int stall;
} shim;

typedef struct shim_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct */
} shim_file;

#define REAL(f) (((shim_file *)(f))->real)
static int s_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int s_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int s_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int s_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int s_sync(sqlite3_file *f, int flags)
{
    if (shim.failing)
        return SQLITE_IOERR_FSYNC;
    int armed = STALL_ARMED;
    if (atomic_compare_exchange_strong(&shim.stall, &armed, STALL_HELD))
        while (atomic_load(&shim.stall) == STALL_HELD)
            usleep(1000);
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int s_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int s_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int s_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int s_reserved(sqlite3_file *f, int *r)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}
static int s_control(sqlite3_file *f, int op, void *a)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, a);
}
static int s_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int s_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int s_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **p)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, p);
}
static int s_shm_lock(sqlite3_file *f, int o, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), o, n, flags);
}
static void s_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int s_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int s_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p)
{
    return REAL(f)->pMethods->xFetch(REAL(f), o, n, p);
}
static int s_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static int s_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)v;
    shim_file *sf = (shim_file *)f;
    sf->real = (sqlite3_file *)(sf + 1);
    int rc = shim.real->xOpen(shim.real, name, sf->real, flags, out);
    sf->base.pMethods = sf->real->pMethods ? &shim.methods : NULL;
    return rc;
}

static void shim_install(void)
{
    if (shim.real)
        return;
    shim.real = sqlite3_vfs_find(NULL);
    shim.vfs = *shim.real;
    shim.vfs.zName = "mq-failing-fsync";
    shim.vfs.szOsFile = (int)sizeof(shim_file) + shim.real->szOsFile;
    shim.vfs.xOpen = s_open;
    shim.methods = (sqlite3_io_methods){
        3,          s_close,       s_read,      s_write,   s_truncate, s_sync,   s_size,
        s_lock,     s_unlock,      s_reserved,  s_control, s_sector,   s_device, s_shm_map,
        s_shm_lock, s_shm_barrier, s_shm_unmap, s_fetch,   s_unfetch};
    sqlite3_vfs_register(&shim.vfs, 1); /* the default from now on */
}

static void t_sqlite_fsync_failure_fails_store(void **state)
{
    fixture *f = *state;
    shim_install();
    shim.failing = false;
    mq_store *s = open_store(f);
    sample a, b, c;
    make_sample(&a, 1, "subj", NULL);
    make_sample(&b, 2, NULL, NULL);
    make_sample(&c, 3, NULL, NULL);
    save(s, &a.q);
    shim.failing = true;
    char err[512] = "";
    assert_false(mq_store_save(s, &b.q, err, sizeof err));
    assert_non_null(strstr(err, "disk I/O error"));
    char why[256] = "";
    assert_true(mq_store_failed(s, why, sizeof why));
    assert_non_null(strstr(why, "disk I/O error"));
    shim.failing = false; /* the disk "recovers": the store must not trust it */
    assert_false(mq_store_save(s, &c.q, err, sizeof err));
    assert_non_null(strstr(err, "the store refuses writes since an earlier write failed"));
    assert_false(mq_store_save_async(s, &c.q, on_done, NULL));
    assert_int_equal(mq_store_delete(s, a.q.id, err, sizeof err), -1);
    assert_int_equal(mq_store_delete_subject(s, "subj", err, sizeof err), -1);
    assert_int_equal(mq_store_replace_request(s, a.q.id, "{}", NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "refuses writes"));
    assert_true(present(s, a.q.id)); /* reads go on */
    mq_store_close(s);
    /* a restart: the acknowledged quote is there, the failed one is not */
    s = open_store(f);
    assert_false(mq_store_failed(s, NULL, 0));
    assert_true(present(s, a.q.id));
    assert_false(present(s, b.q.id));
    assert_int_equal(mq_store_count(s), 1);
}

/* A save or a read on a thread of its own, and whether it has ended. */
typedef struct store_call {
    mq_store *s;
    const char *id;          /* a read: of this quote */
    const mq_store_quote *q; /* a save: this quote */
    const char *response;    /* a read: the response it is to find */
    int found;               /* a read: mq_store_get's answer; a save: 1 saved */
    bool same;               /* a read: the response found is `response` */
    atomic_bool ended;
} store_call;

static void *call_store(void *arg)
{
    store_call *c = arg;
    char err[256];
    if (c->q) {
        c->found = mq_store_save(c->s, c->q, err, sizeof err);
    } else {
        mq_store_loaded l;
        c->found = mq_store_get(c->s, c->id, &l, err, sizeof err);
        c->same = c->found == 1 && strcmp(l.q.response, c->response) == 0;
        if (c->found == 1)
            mq_store_loaded_free(&l);
    }
    atomic_store(&c->ended, true);
    return NULL;
}

/* Whether flag is set within ms milliseconds. */
static bool within(atomic_bool *flag, int ms)
{
    for (int i = 0; i < ms && !atomic_load(flag); i++)
        usleep(1000);
    return atomic_load(flag);
}

/* A commit waits in an fsync the disk does not answer, the writer's lock
 * held: a read of a quote saved before answers at once (its own read-only
 * connection, the last committed state), its response packed against a
 * dictionary read back whole; the quote being saved is not there yet.
 * Once the disk answers, the save ends and the quote reads. */
static void t_sqlite_reads_during_stalled_commit(void **state)
{
    fixture *f = *state;
    shim_install();
    shim.failing = false;
    mq_store *s = open_store(f);
    char *response = real_response("auto", '3'), id[64];
    save_response(s, "auto", response, id);
    sample b;
    make_sample(&b, 2, NULL, "k1");
    atomic_store(&shim.stall, STALL_ARMED);
    store_call saving = {.s = s, .q = &b.q}, reading = {.s = s, .id = id, .response = response};
    store_call unsaved = {.s = s, .id = b.q.id, .response = b.response};
    pthread_t th[3];
    assert_int_equal(pthread_create(&th[0], NULL, call_store, &saving), 0);
    for (int i = 0; i < 5000 && atomic_load(&shim.stall) != STALL_HELD; i++)
        usleep(1000);
    bool stalled = atomic_load(&shim.stall) == STALL_HELD;
    assert_int_equal(pthread_create(&th[1], NULL, call_store, &reading), 0);
    assert_int_equal(pthread_create(&th[2], NULL, call_store, &unsaved), 0);
    bool read = within(&reading.ended, 2000), not_yet = within(&unsaved.ended, 2000);
    bool still = atomic_load(&shim.stall) == STALL_HELD && !atomic_load(&saving.ended);
    atomic_store(&shim.stall, STALL_OFF); /* the disk answers: every call ends */
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_true(stalled);
    assert_true(read);    /* not behind the commit */
    assert_true(not_yet); /* nor this one */
    assert_true(still);   /* the commit was still stalled meanwhile */
    assert_int_equal(reading.found, 1);
    assert_true(reading.same);
    assert_int_equal(unsaved.found, 0); /* the last committed state */
    assert_int_equal(saving.found, 1);
    assert_stored(s, b.q.id, b.request, b.response);
    free(response);
}

/* ---- PostgreSQL only ----------------------------------------------------- */

static void t_pg_unreachable(void **state)
{
    (void)state;
    char err[512] = "";
    mq_store *s = mq_store_open("postgresql://127.0.0.1:1/none?connect_timeout=2", err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "postgresql: cannot connect"));
}

/* The server ends every session of the store (a restart, a failover):
 * the pool reconnects and prepares again instead of failing calls. */
static void t_pg_connections_lost(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    sample a, b;
    make_sample(&a, 1, NULL, NULL);
    make_sample(&b, 2, NULL, NULL);
    save(s, &a.q);
    assert_true(pg_admin(f->where,
                         "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()"));
    usleep(100 * 1000);
    save(s, &b.q);
    for (int i = 0; i < 8; i++) /* every pooled connection, old or new */
        assert_true(present(s, a.q.id));
    assert_int_equal(mq_store_count(s), 2);
    char err[256];
    assert_int_equal(mq_store_delete(s, a.q.id, err, sizeof err), 1);
}

/* The database says the disk is full (SQLSTATE 53100) when the batch
 * commits: a deferred trigger raises it at COMMIT for a quote of line
 * "diskfull". PostgreSQL rolled that transaction back and keeps its own
 * pages (unlike SQLite, whose unwritten pages the OS may have dropped), so
 * only that batch fails: the store does not enter the failed state, and
 * the next save, once the disk has room, is stored. Every node sharing the
 * database would otherwise refuse writes until restarted by hand. */
static void t_pg_disk_full_fails_batch_only(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    assert_true(pg_admin(
        f->where,
        "CREATE OR REPLACE FUNCTION mq_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' "
        "USING ERRCODE = 'disk_full'; END $$;"
        "CREATE CONSTRAINT TRIGGER mq_test_disk_full AFTER INSERT ON quotes "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.line = 'diskfull') "
        "EXECUTE FUNCTION mq_test_disk_full()"));
    sample a, b, c;
    make_sample(&a, 1, "subj", NULL);
    make_sample(&b, 2, NULL, NULL);
    make_sample(&c, 3, NULL, NULL);
    save(s, &a.q);
    b.q.line = "diskfull";
    char err[512] = "";
    assert_false(mq_store_save(s, &b.q, err, sizeof err));
    assert_non_null(strstr(err, "save: commit"));
    assert_non_null(strstr(err, "No space left on device"));
    assert_false(mq_store_failed(s, NULL, 0));
    assert_false(mq_store_outcome_unknown(s, b.q.id)); /* rolled back: surely not stored */
    mq_store_health_info h;
    mq_store_health(s, &h);
    assert_true(h.ok); /* the database answered: the node stays in service */
    save(s, &c.q);     /* the next batch is tried, and stored */
    assert_int_equal(mq_store_delete_subject(s, "subj", err, sizeof err), 1);
    assert_false(present(s, a.q.id));
    assert_false(present(s, b.q.id));
    assert_true(present(s, c.q.id));
    assert_true(pg_admin(f->where, "SET client_min_messages = warning;"
                                   "DROP FUNCTION mq_test_disk_full() CASCADE"));
}

/* The connection is lost while COMMIT is under way (the trigger, at
 * COMMIT, ends its own session): the save fails, and the store says that
 * quote's outcome is unknown, not that nothing was stored. A connection
 * lost before COMMIT is a plain failure (nothing stored). */
static void t_pg_lost_during_commit_is_unknown(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    assert_true(pg_admin(
        f->where, "CREATE OR REPLACE FUNCTION mq_test_lost() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$;"
                  "CREATE CONSTRAINT TRIGGER mq_test_lost AFTER INSERT ON quotes "
                  "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.line = 'lost') "
                  "EXECUTE FUNCTION mq_test_lost()"));
    sample a, b;
    make_sample(&a, 1, NULL, NULL);
    make_sample(&b, 2, NULL, NULL);
    a.q.line = "lost";
    assert_false(mq_store_outcome_unknown(s, NULL));
    char err[512] = "";
    assert_false(mq_store_save(s, &a.q, err, sizeof err));
    assert_non_null(strstr(err, "save: commit"));
    assert_non_null(strstr(err, "the connection was lost during COMMIT"));
    assert_true(mq_store_outcome_unknown(s, a.q.id));
    assert_true(mq_store_outcome_unknown(s, NULL));
    assert_false(mq_store_outcome_unknown(s, b.q.id));
    assert_false(mq_store_failed(s, NULL, 0));
    save(s, &b.q); /* a fresh connection: saving goes on */
    assert_true(present(s, b.q.id));
    assert_true(pg_admin(f->where, "SET client_min_messages = warning;"
                                   "DROP FUNCTION mq_test_lost() CASCADE"));
}

/* Health is what the writers last found, never a query: the count kept
 * moves with this store's saves and deletes without counting again, and
 * a database that stops answering makes it not ok within a bounded time
 * while mq_store_health itself returns at once. */
static void t_pg_health(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    mq_store_health_info h;
    mq_store_health(s, &h);
    assert_true(h.ok);
    assert_int_equal(h.quotes, -1); /* not counted yet */
    assert_int_equal(mq_store_count(s), 0);
    sample a, b;
    make_sample(&a, 1, NULL, NULL);
    make_sample(&b, 2, NULL, NULL);
    save(s, &a.q);
    save(s, &b.q);
    mq_store_health(s, &h);
    assert_int_equal(h.quotes, 2);
    char err[256];
    assert_int_equal(mq_store_delete(s, a.q.id, err, sizeof err), 1);
    mq_store_health(s, &h);
    assert_int_equal(h.quotes, 1);
    /* every session refused from now on, and the ones open ended (run from
     * the database "postgres" of the same server) */
    char admin[sizeof f->where], sql[512];
    const char *db = strrchr(f->where, '/') + 1;
    snprintf(admin, sizeof admin, "%.*spostgres", (int)(db - f->where), f->where);
    snprintf(sql, sizeof sql,
             "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS false;"
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'",
             db, db);
    assert_true(pg_admin(admin, sql));
    bool down = false;
    for (int i = 0; i < 40 && !down; i++) { /* the idle store pings every second */
        usleep(100 * 1000);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        mq_store_health(s, &h);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true(t1.tv_sec - t0.tv_sec < 1);
        down = !h.ok;
    }
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true", db);
    assert_true(pg_admin(admin, sql));
    assert_true(down);
    assert_non_null(strstr(h.problem, "the database cannot be reached: "));
    assert_int_equal(h.quotes, 1);
    for (int i = 0; i < 40 && !h.ok; i++) { /* back: the next ping says so */
        usleep(100 * 1000);
        mq_store_health(s, &h);
    }
    assert_true(h.ok);
}

static void t_pg_records_migrations(void **state)
{
    fixture *f = *state;
    open_store(f);
    char sql[128];
    snprintf(sql, sizeof sql,
             "DO $$ BEGIN IF (SELECT count(*) FROM schema_migrations) <> %d THEN "
             "RAISE 'wrong'; END IF; END $$",
             mq_store_schema_latest());
    assert_true(pg_admin(f->where, sql));
    /* a database from a newer program is refused, not downgraded */
    assert_true(pg_admin(f->where, "INSERT INTO schema_migrations (version, what) VALUES "
                                   "(999, 'from the future')"));
    char err[512] = "";
    mq_store *s = mq_store_open(f->where, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "database schema version 999 is newer than this program"));
}

/* ---- A person's quotes and their contact consent ------------------------ */

enum { MAX_SEEN = 8 };

/* What the record functions handed over, copied. */
typedef struct seen_records {
    int n;
    struct {
        char id[MQ_STORE_ID_LEN + 1], created_at[24], line[16], request[128], response[128];
        char consent_at[24], withdrawn_at[24];
        bool consent, withdrawn;
    } r[MAX_SEEN];
} seen_records;

static bool note_record(void *arg, const mq_store_record *r)
{
    seen_records *s = arg;
    if (s->n == MAX_SEEN)
        return false;
    snprintf(s->r[s->n].id, sizeof s->r[s->n].id, "%s", r->id);
    snprintf(s->r[s->n].created_at, sizeof s->r[s->n].created_at, "%s", r->created_at);
    snprintf(s->r[s->n].line, sizeof s->r[s->n].line, "%s", r->line);
    snprintf(s->r[s->n].request, sizeof s->r[s->n].request, "%s", r->request);
    snprintf(s->r[s->n].response, sizeof s->r[s->n].response, "%s", r->response);
    snprintf(s->r[s->n].consent_at, sizeof s->r[s->n].consent_at, "%s", r->consent_at);
    snprintf(s->r[s->n].withdrawn_at, sizeof s->r[s->n].withdrawn_at, "%s",
             r->withdrawn_at ? r->withdrawn_at : "");
    s->r[s->n].consent = r->consent_contact;
    s->r[s->n].withdrawn = r->withdrawn_at != NULL;
    s->n++;
    return true;
}

/* The one record of quote `id` (which must be there). */
static seen_records record(mq_store *s, const char *id)
{
    seen_records r = {0};
    char err[256] = "";
    if (mq_store_get_record(s, id, note_record, &r, err, sizeof err) != 1)
        fail_msg("get record %s: %s", id, err);
    return r;
}

/* A person's quotes are theirs only, whole, in id order; leads are the
 * quotes whose consent stands; a withdrawal keeps the quote and when
 * consent was given, happens once, and takes the quote out of the leads;
 * it deletes nothing (the count the health check keeps stays). */
static void t_records_and_consent(void **state)
{
    mq_store *s = open_store(*state);
    sample a1, a2, b, none;
    /* odd n: consent given; a millisecond apart, so the ids sort as made */
    make_sample(&a1, 1, "hash-a", "1");
    usleep(2000);
    make_sample(&a2, 2, "hash-a", "1");
    usleep(2000);
    make_sample(&b, 3, "hash-b", "1");
    usleep(2000);
    make_sample(&none, 5, NULL, NULL);
    none.q.line = "home";
    save(s, &a1.q);
    save(s, &a2.q);
    save(s, &b.q);
    save(s, &none.q);
    assert_int_equal(mq_store_count(s), 4);
    char err[256] = "";
    seen_records r = {0};
    assert_int_equal(mq_store_each_record_of(s, "hash-a", note_record, &r, err, sizeof err), 2);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.r[0].id, a1.q.id);
    assert_string_equal(r.r[1].id, a2.q.id);
    assert_string_equal(r.r[0].created_at, a1.q.created_at);
    assert_string_equal(r.r[0].line, "auto");
    assert_string_equal(r.r[0].request, a1.request);
    assert_string_equal(r.r[0].response, a1.response);
    assert_true(r.r[0].consent);
    assert_string_equal(r.r[0].consent_at, "2026-11-29T10:15:02Z");
    assert_false(r.r[0].withdrawn);
    assert_false(r.r[1].consent);
    assert_string_equal(r.r[1].consent_at, "");
    r = (seen_records){0};
    assert_int_equal(mq_store_each_record_of(s, "hash-c", note_record, &r, err, sizeof err), 0);

    r = (seen_records){0};
    assert_int_equal(mq_store_each_lead(s, NULL, NULL, note_record, &r, err, sizeof err), 3);
    assert_string_equal(r.r[0].id, a1.q.id);
    assert_string_equal(r.r[1].id, b.q.id);
    assert_string_equal(r.r[2].id, none.q.id);
    r = (seen_records){0};
    assert_int_equal(mq_store_each_lead(s, "", "home", note_record, &r, err, sizeof err), 1);
    assert_string_equal(r.r[0].id, none.q.id);
    assert_int_equal(
        mq_store_each_lead(s, "2999-01-01T00:00:00Z", NULL, note_record, &r, err, sizeof err), 0);
    assert_int_equal(
        mq_store_each_lead(s, a1.q.created_at, "auto", note_record, &r, err, sizeof err), 2);

    assert_int_equal(mq_store_withdraw_consent(s, a1.q.id, "2026-12-01T09:00:00Z", err, sizeof err),
                     1);
    /* once: the first withdrawal's time stays; no consent, no quote: nothing */
    assert_int_equal(mq_store_withdraw_consent(s, a1.q.id, "2026-12-02T09:00:00Z", err, sizeof err),
                     0);
    assert_int_equal(mq_store_withdraw_consent(s, a2.q.id, "2026-12-01T09:00:00Z", err, sizeof err),
                     0);
    assert_int_equal(mq_store_withdraw_consent(s, "q_0000000000NOSUCHQUOTE0000000000000",
                                               "2026-12-01T09:00:00Z", err, sizeof err),
                     0);
    r = record(s, a1.q.id);
    assert_true(r.r[0].consent);
    assert_string_equal(r.r[0].consent_at, "2026-11-29T10:15:02Z");
    assert_string_equal(r.r[0].withdrawn_at, "2026-12-01T09:00:00Z");
    assert_string_equal(r.r[0].request, a1.request);
    r = record(s, a2.q.id);
    assert_false(r.r[0].withdrawn);
    r = (seen_records){0};
    assert_int_equal(mq_store_each_lead(s, NULL, NULL, note_record, &r, err, sizeof err), 2);
    assert_string_equal(r.r[0].id, b.q.id);
    assert_string_equal(r.r[1].id, none.q.id);
    mq_store_health_info h;
    mq_store_health(s, &h);
    assert_int_equal(h.quotes, 4); /* a withdrawal is not a delete */
    assert_int_equal(mq_store_count(s), 4);
    r = (seen_records){0};
    assert_int_equal(mq_store_get_record(s, "q_0000000000NOSUCHQUOTE0000000000000", note_record, &r,
                                         err, sizeof err),
                     0);
    assert_int_equal(r.n, 0);
}

static bool count_record(void *arg, const mq_store_record *r)
{
    (void)r;
    ++*(int *)arg;
    return true;
}

/* More quotes than a page: every one is seen once. */
static void t_records_paged(void **state)
{
    mq_store *s = open_store(*state);
    enum { N = 203 };
    for (int i = 0; i < N; i++) {
        sample x;
        make_sample(&x, 1, "hash-p", "1");
        save(s, &x.q);
    }
    char err[256] = "";
    int n = 0;
    assert_int_equal(mq_store_each_record_of(s, "hash-p", count_record, &n, err, sizeof err), N);
    assert_int_equal(n, N);
    n = 0;
    assert_int_equal(mq_store_each_lead(s, NULL, NULL, count_record, &n, err, sizeof err), N);
    assert_int_equal(n, N);
}

/* A database from before withdrawals (schema version 10) gets the column
 * on open, and the migrations after it, and keeps its quotes and their
 * consent. */
static void t_upgrades_to_withdrawals(void **state)
{
    fixture *f = *state;
    mq_store *s = open_store(f);
    sample a;
    make_sample(&a, 1, "hash-a", "1");
    save(s, &a.q);
    mq_store_close(s);
    f->s = NULL;
    if (f->pg) {
        assert_true(pg_admin(f->where, "ALTER TABLE quotes DROP COLUMN consent_withdrawn_at;"
                                       "DELETE FROM schema_migrations WHERE version > 10"));
    } else {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->where, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "ALTER TABLE quotes DROP COLUMN consent_withdrawn_at;"
                                      "ALTER TABLE pack_dicts DROP COLUMN builtin;"
                                      "PRAGMA user_version = 10;",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
    }
    s = open_store(f);
    assert_int_equal(mq_store_schema_version(s), mq_store_schema_latest());
    seen_records r = record(s, a.q.id);
    assert_true(r.r[0].consent);
    assert_string_equal(r.r[0].consent_at, "2026-11-29T10:15:02Z");
    assert_false(r.r[0].withdrawn);
    char err[256] = "";
    assert_int_equal(mq_store_withdraw_consent(s, a.q.id, "2026-12-01T09:00:00Z", err, sizeof err),
                     1);
    r = record(s, a.q.id);
    assert_string_equal(r.r[0].withdrawn_at, "2026-12-01T09:00:00Z");
}

/* Ids: the shape, unguessable random parts, sorted by creation time; both
 * the current and the older form are valid. */
static void t_ids(void **state)
{
    (void)state;
    mq_store_quote a, b, c;
    assert_true(mq_store_new_id(&a));
    struct timespec two_ms = {0, 2000000};
    nanosleep(&two_ms, NULL);
    assert_true(mq_store_new_id(&b));
    assert_true(mq_store_new_id(&c));
    assert_int_equal(strlen(a.id), MQ_STORE_ID_LEN);
    assert_true(mq_store_id_valid(a.id, strlen(a.id)));
    assert_true(strcmp(a.id, b.id) < 0); /* later sorts after */
    /* the random parts differ even within one millisecond */
    assert_true(strcmp(b.id + 2 + MQ_STORE_ID_TIME_CHARS, c.id + 2 + MQ_STORE_ID_TIME_CHARS) != 0);
    /* the time part is now, in milliseconds */
    uint64_t ms = 0;
    for (int i = 0; i < MQ_STORE_ID_TIME_CHARS; i++)
        ms = ms << 5 | (uint64_t)(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", a.id[2 + i]) -
                                  "0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    assert_true(ms <= now_ms && now_ms - ms < 60000);
    assert_true(mq_store_id_valid("q_0123456789ABCDEFGHJKMNPQRS", 28));
    const char *bad[] = {"q_0123456789ABCDEFGHJKMNPQR", "q_0123456789ABCDEFGHJKMNPQRI",
                         "x_0123456789ABCDEFGHJKMNPQRS", "q_0123456789ABCDEFGHJKMNPQRS0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(mq_store_id_valid(bad[i], strlen(bad[i])));
    assert_false(mq_store_id_valid("q_0123456789ABCDEFGHJKM\0PQRS", 28));
}

#define SHARED(setup)                                                                              \
    cmocka_unit_test_setup_teardown(t_roundtrip, setup, teardown),                                 \
        cmocka_unit_test_setup_teardown(t_save_async, setup, teardown),                            \
        cmocka_unit_test_setup_teardown(t_concurrent_saves, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(t_delete_one, setup, teardown),                            \
        cmocka_unit_test_setup_teardown(t_delete_before, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(t_delete_subject, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(t_each_and_replace, setup, teardown),                      \
        cmocka_unit_test_setup_teardown(t_plain_quotes, setup, teardown),                          \
        cmocka_unit_test_setup_teardown(t_duplicate_rejected, setup, teardown),                    \
        cmocka_unit_test_setup_teardown(t_open_concurrently, setup, teardown),                     \
        cmocka_unit_test_setup_teardown(t_reopen_keeps_quotes, setup, teardown),                   \
        cmocka_unit_test_setup_teardown(t_records_and_consent, setup, teardown),                   \
        cmocka_unit_test_setup_teardown(t_records_paged, setup, teardown),                         \
        cmocka_unit_test_setup_teardown(t_upgrades_to_withdrawals, setup, teardown)

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = {
        SHARED(setup_sqlite),
        cmocka_unit_test(t_ids),
        cmocka_unit_test(t_sqlite_bad_path),
        cmocka_unit_test_setup_teardown(t_sqlite_must_exist, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_errors_name_the_file, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_new_file_private, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_file_moved_fails_store, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_upgrades_version_4, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_erase_old_versions, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_subjects_table, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_subjects_after_renumbering, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_subject_row_replaced_after_renumbering,
                                        setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_fsync_failure_fails_store, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_reads_during_stalled_commit, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_wal_stays_bounded, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_large_texts_packed, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_responses_packed_with_dictionary, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_packed_ahead, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_old_response_dicts_retired, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_older_builtin_dicts_kept, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_shipped_dicts_recognised, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(t_sqlite_requests_packed_with_fixed_dictionary,
                                        setup_sqlite, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        SHARED(setup_pg),
        cmocka_unit_test(t_pg_unreachable),
        cmocka_unit_test_setup_teardown(t_pg_connections_lost, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(t_pg_disk_full_fails_batch_only, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(t_pg_lost_during_commit_is_unknown, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(t_pg_health, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(t_pg_records_migrations, setup_pg, teardown),
    };
    /* one group, so TAP has one plan: two groups printed two ("1..26",
     * "1..14"), which meson test refuses (test_store ERROR, every test ok) */
    enum {
        NSQLITE = sizeof sqlite_tests / sizeof sqlite_tests[0],
        NPG = sizeof pg_tests / sizeof pg_tests[0]
    };
    struct CMUnitTest all[NSQLITE + NPG];
    memcpy(all, sqlite_tests, sizeof sqlite_tests);
    size_t n = NSQLITE;
    bool pg = getenv("MQ_TEST_PG") != NULL;
    if (pg) {
        memcpy(all + NSQLITE, pg_tests, sizeof pg_tests);
        n += NPG;
    } else {
        fprintf(stderr, "# MQ_TEST_PG not set: the PostgreSQL half did not run "
                        "(tests/run.sh starts a cluster and sets it)\n");
    }
    return _cmocka_run_group_tests(pg ? "store on sqlite and postgresql" : "store on sqlite", all,
                                   n, NULL, NULL);
}
