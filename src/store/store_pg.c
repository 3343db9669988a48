/* store_pg.c -- the shared backend: saved quotes in PostgreSQL via libpq.
 *
 * Several multiquote nodes may use one database, so nothing lives in the
 * process but a pool of connections, each with every statement prepared
 * once (PQprepare at connect). A caller borrows a connection for one call
 * and gives it back; a connection found broken, or found on a read-only
 * server, is replaced by a new one (the password file read again) on its
 * next borrowing. A quote is acknowledged only after COMMIT returns, which
 * with synchronous_commit on means it is in the WAL on disk: a session
 * the database or role gives synchronous_commit = off is set back to on.
 * Migrations run at open under pg_advisory_lock, so nodes starting together
 * migrate once; the applied versions are rows of schema_migrations. A
 * database already at this program's version is only read (no lock, no
 * DDL), so nodes may run as a role that can only read and write quotes.
 * No error is STORE_FATAL here, not even those the server classes as disk
 * trouble (53100 disk full, class 58 I/O, class XX): the server rolls the
 * failed transaction back, and on a failed fsync it panics and recovers
 * from its WAL itself, so the next batch may simply be tried (the failed
 * state of store.c is for SQLite, whose pages the OS may have dropped). A
 * connection lost before COMMIT was sent is STORE_UNREACHABLE (nothing
 * stored); one lost during COMMIT is STORE_UNKNOWN (the batch may be
 * stored, so its quotes are not acknowledged, nor said to be lost).
 * libpq's connection errors may quote the URI, or a piece of it: the URI's
 * password is masked in every message that leaves this file.
 */
#include "store_backend.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { MIGRATION_LOCK = 7718001 }; /* pg_advisory_lock key: "multiquote schema" */

typedef struct pg_conn {
    PGconn *c;
    bool ready; /* connected, statements prepared */
} pg_conn;

typedef struct pg {
    char *conninfo;
    int n;
    pg_conn *conns;
    int *idle; /* stack of idle connection indexes */
    int nidle;
    pthread_mutex_t lock;
    pthread_cond_t returned;
} pg;

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs such as "relation already exists, skipping" */
}

/* libpq's message without its trailing newline. */
static void set_err(char *err, size_t errlen, const char *what, const char *msg)
{
    if (!err || !errlen)
        return;
    snprintf(err, errlen, "%s: %s", what, msg && *msg ? msg : "unknown error");
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
}

/* ---- Secrets in messages ------------------------------------------------ */

typedef struct span {
    const char *p;
    size_t n;
} span;

enum { MAX_SECRETS = 8 };

/* A query parameter's value when its name ends in "password" (password=,
 * sslpassword=): the span of that value, else an empty span. */
static span password_value(const char *name, size_t len)
{
    const char *eq = memchr(name, '=', len);
    size_t nlen = eq ? (size_t)(eq - name) : 0;
    if (!eq || nlen < 8 || strncasecmp(eq - 8, "password", 8) != 0 || name + len == eq + 1)
        return (span){NULL, 0};
    return (span){eq + 1, (size_t)(name + len - eq - 1)};
}

/* The secrets written in a URI, as written (still percent-encoded): the
 * password of its userinfo (user:PASSWORD@, which ends, as libpq reads it,
 * at the first '@' before any '/') and the value of every query parameter
 * whose name ends in "password". Returns how many, at most max. */
static int uri_secrets(const char *uri, span *out, int max)
{
    const char *rest = strstr(uri, "://");
    if (!rest)
        return 0;
    rest += 3;
    int n = 0;
    size_t auth = strcspn(rest, "@/");
    const char *after = rest;
    if (rest[auth] == '@') {
        const char *colon = memchr(rest, ':', auth);
        if (colon && colon + 1 < rest + auth)
            out[n++] = (span){colon + 1, (size_t)(rest + auth - colon - 1)};
        after = rest + auth + 1;
    }
    for (const char *q = strchr(after, '?'); q && n < max;) {
        const char *name = q + 1;
        size_t len = strcspn(name, "&");
        span v = password_value(name, len);
        if (v.n)
            out[n++] = v;
        q = name[len] == '&' ? name + len : NULL;
    }
    return n;
}

/* text into out (at most outlen bytes, NUL included) with every secret
 * written in uri replaced by "***": libpq quotes the URI, or a piece of it,
 * in some of its errors. */
static void mask_secrets(const char *uri, const char *text, char *out, size_t outlen)
{
    if (!outlen)
        return;
    span secret[MAX_SECRETS];
    int n = uri ? uri_secrets(uri, secret, MAX_SECRETS) : 0;
    size_t k = 0;
    for (const char *t = text ? text : ""; *t && k + 1 < outlen;) {
        size_t skip = 0;
        for (int i = 0; i < n && !skip; i++)
            if (strncmp(t, secret[i].p, secret[i].n) == 0)
                skip = secret[i].n;
        if (!skip) {
            out[k++] = *t++;
            continue;
        }
        for (const char *m = "***"; *m && k + 1 < outlen; m++)
            out[k++] = *m;
        t += skip;
    }
    out[k] = '\0';
}

/* ---- Connection errors -------------------------------------------------- */

/* What to do when the server wanted a password and libpq had none: the
 * password file libpq read (PGPASSFILE, passfile=, else ~/.pgpass) is
 * missing, ignored because others may read it, or has no line for this
 * connection. Appended to msg. */
static void password_hint(PGconn *c, char *msg, size_t msglen)
{
    const char *file = NULL;
    PQconninfoOption *opts = PQconninfo(c);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "passfile") == 0 && o->val && *o->val)
            file = o->val;
    struct stat st;
    size_t n = strlen(msg);
    if (!file)
        snprintf(msg + n, msglen - n,
                 " (no password was given: put it in a password file, "
                 "PGPASSFILE, mode 0600; docs/deploy.md)");
    else if (stat(file, &st) != 0)
        snprintf(msg + n, msglen - n,
                 " (no password was given, and there is no password file %s: write the line "
                 "HOST:PORT:DATABASE:USER:PASSWORD there, mode 0600, or set PGPASSFILE; "
                 "docs/deploy.md)",
                 file);
    else if (st.st_mode & (S_IRWXG | S_IRWXO))
        snprintf(msg + n, msglen - n,
                 " (the password file %s is ignored because others may read it: chmod 600 %s)",
                 file, file);
    else
        snprintf(msg + n, msglen - n,
                 " (the password file %s has no line HOST:PORT:DATABASE:USER:PASSWORD that "
                 "matches this connection)",
                 file);
    PQconninfoFree(opts);
}

/* "postgresql: cannot connect: " and libpq's reason, the URI's password
 * masked, with what to do when a password was missing. */
static void connect_err(const char *conninfo, PGconn *c, char *err, size_t errlen)
{
    if (!err || !errlen)
        return;
    char msg[1024];
    set_err(msg, sizeof msg, "postgresql: cannot connect", c ? PQerrorMessage(c) : "out of memory");
    if (c && PQconnectionNeedsPassword(c))
        password_hint(c, msg, sizeof msg);
    mask_secrets(conninfo, msg, err, errlen);
}

/* Runs SQL without parameters; true when it succeeded. Otherwise err says
 * that `what` failed and why: the server's one-line message, or libpq's
 * when the connection failed; and state (when not NULL, 6 bytes) receives
 * the SQLSTATE, "" when there is none. */
static bool exec_ok(PGconn *c, const char *sql, const char *what, char *err, size_t errlen,
                    char *state)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!ok)
        set_err(err, errlen, what, primary ? primary : PQerrorMessage(c));
    if (state)
        snprintf(state, 6, "%s", ok || !code ? "" : code);
    PQclear(r);
    return ok;
}

static char stmt_name(int i)
{
    return (char)('a' + i);
}

static bool prepare_all(PGconn *c, char *err, size_t errlen)
{
    for (int i = 0; i < ST_NSTMT; i++) {
        char name[2] = {stmt_name(i), '\0'};
        PGresult *r = PQprepare(c, name, store_sql[i], 0, NULL);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            set_err(err, errlen, "prepare", PQerrorMessage(c));
            return false;
        }
    }
    return true;
}

/* A quote is acknowledged once its COMMIT returns, so a commit must be in
 * the WAL on disk by then. A session given synchronous_commit = off (by
 * ALTER DATABASE or ALTER ROLE, or in postgresql.conf, for speed) would
 * acknowledge quotes that a crash of the server then loses: such a session
 * is set back to on. The other settings all flush the WAL first (local,
 * on, remote_write, remote_apply) and stay as the operator chose. */
static bool durable_commits(PGconn *c, char *err, size_t errlen)
{
    return exec_ok(c,
                   "SELECT set_config('synchronous_commit', 'on', false) "
                   "WHERE current_setting('synchronous_commit') = 'off'",
                   "synchronous_commit", err, errlen, NULL);
}

/* A new session made ready: durable commits, every statement prepared. */
static bool set_up_session(PGconn *c, char *err, size_t errlen)
{
    return durable_commits(c, err, errlen) && prepare_all(c, err, errlen);
}

/* Connects (or reconnects) connection i and sets its session up. */
static bool connect_one(pg *b, int i, char *err, size_t errlen)
{
    pg_conn *pc = &b->conns[i];
    pc->ready = false;
    /* a new connection, not PQreset: PQreset logs in again with the
     * password libpq read (from the password file) when the connection
     * was first made, so once the password was changed (ALTER ROLE, the
     * file rewritten) a reset connection could never log in again */
    PQfinish(pc->c);
    pc->c = PQconnectdb(b->conninfo);
    if (!pc->c) {
        snprintf(err, errlen, "postgresql: out of memory");
        return false;
    }
    if (PQstatus(pc->c) != CONNECTION_OK) {
        connect_err(b->conninfo, pc->c, err, errlen);
        return false;
    }
    PQsetNoticeProcessor(pc->c, quiet, NULL);
    pc->ready = set_up_session(pc->c, err, errlen);
    return pc->ready;
}

/* ---- The pool ----------------------------------------------------------- */

/* Borrows a working connection; -1 (message in err) when none can be made. */
static int borrow(pg *b, char *err, size_t errlen)
{
    pthread_mutex_lock(&b->lock);
    while (b->nidle == 0)
        pthread_cond_wait(&b->returned, &b->lock);
    int i = b->idle[--b->nidle];
    pthread_mutex_unlock(&b->lock);
    pg_conn *pc = &b->conns[i];
    if (pc->ready && PQstatus(pc->c) == CONNECTION_OK)
        return i;
    if (connect_one(b, i, err, errlen))
        return i;
    pthread_mutex_lock(&b->lock);
    b->idle[b->nidle++] = i;
    pthread_cond_signal(&b->returned);
    pthread_mutex_unlock(&b->lock);
    return -1;
}

static void give_back(pg *b, int i)
{
    pthread_mutex_lock(&b->lock);
    b->idle[b->nidle++] = i;
    pthread_cond_signal(&b->returned);
    pthread_mutex_unlock(&b->lock);
}

/* ---- Migrations --------------------------------------------------------- */

/* The schema version schema_migrations records; 0 when the table is not
 * there (a new database: *there false); -1 (message in err) when it cannot
 * be read. */
static int applied_version(PGconn *c, bool *there_out, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    bool there = ok && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    int v = ok && !there ? 0 : -1;
    if (there) {
        PQclear(r);
        r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            v = atoi(PQgetvalue(r, 0, 0));
    }
    const char *state = v < 0 && r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = v < 0 && r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (v < 0)
        set_err(err, errlen, "schema version", primary ? primary : PQerrorMessage(c));
    if (state && strcmp(state, "42501") == 0) { /* a role granted too little */
        size_t n = strlen(err);
        snprintf(err + n, errlen - n,
                 " (a role that does not own the tables needs SELECT on schema_migrations, and "
                 "SELECT, INSERT, UPDATE, DELETE on quotes; docs/deploy.md)");
    }
    PQclear(r);
    *there_out = there;
    return v;
}

static bool newer_than_program(int v, char *err, size_t errlen)
{
    if (v <= store_nmigrations)
        return false;
    snprintf(err, errlen, "database schema version %d is newer than this program (%d)", v,
             store_nmigrations);
    return true;
}

/* Applies migration v in one transaction with its schema_migrations row;
 * the SQLSTATE of a failure into state. */
static bool apply(PGconn *c, int v, char *err, size_t errlen, char *state)
{
    char num[16];
    snprintf(num, sizeof num, "%d", v);
    const char *params[] = {num, store_migrations[v - 1].what};
    char msg[400];
    if (!exec_ok(c, "BEGIN", "begin", msg, sizeof msg, state))
        goto fail;
    if (*store_migrations[v - 1].pg &&
        !exec_ok(c, store_migrations[v - 1].pg, "change", msg, sizeof msg, state))
        goto fail;
    PGresult *r = PQexecParams(c, "INSERT INTO schema_migrations (version, what) VALUES ($1, $2)",
                               2, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(state, 6, "%s", code ? code : "");
        set_err(msg, sizeof msg, "record", primary ? primary : PQerrorMessage(c));
    }
    PQclear(r);
    if (ok && exec_ok(c, "COMMIT", "commit", msg, sizeof msg, state))
        return true;
fail:
    exec_ok(c, "ROLLBACK", "rollback", NULL, 0, NULL);
    snprintf(err, errlen, "migration %d (%s): %s", v, store_migrations[v - 1].what, msg);
    return false;
}

/* Called holding the migration lock, so the version read here stays true
 * until the migrations are applied. schema_migrations is created only when
 * it is not there (CREATE TABLE IF NOT EXISTS needs the right to create,
 * even when the table exists). */
static bool migrate_locked(PGconn *c, int *version, char *err, size_t errlen, char *state)
{
    bool there;
    int v = applied_version(c, &there, err, errlen);
    if (v < 0 || newer_than_program(v, err, errlen))
        return false;
    if (!there && !exec_ok(c,
                           "CREATE TABLE schema_migrations ("
                           "  version integer PRIMARY KEY,"
                           "  what text NOT NULL,"
                           "  applied_at timestamptz NOT NULL DEFAULT now())",
                           "create schema_migrations", err, errlen, state))
        return false;
    for (; v < store_nmigrations; v++)
        if (!apply(c, v + 1, err, errlen, state))
            return false;
    *version = v;
    return true;
}

/* A migration the role may not make (SQLSTATE 42501): what to do. */
static void denied_hint(int from, char *err, size_t errlen)
{
    size_t n = strlen(err);
    snprintf(err + n, errlen - n,
             "; the database is at schema version %d and this program needs %d, which this "
             "role may not make: run this program once with this --db as a role that may change "
             "the schema (the database's owner), then this role can run it (docs/deploy.md)",
             from, store_nmigrations);
}

/* Migrates under a session advisory lock: a second node starting at the
 * same time waits here, then finds nothing left to do. A database already
 * at this program's version is only read: no lock, no DDL, so a node may
 * run as a role that can only read and write the quotes. */
static bool migrate(PGconn *c, int *version, char *err, size_t errlen)
{
    bool there;
    int v = applied_version(c, &there, err, errlen);
    if (v < 0 || newer_than_program(v, err, errlen))
        return false;
    if (v == store_nmigrations) {
        *version = v;
        return true;
    }
    char sql[64], state[6] = "";
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d)", MIGRATION_LOCK);
    if (!exec_ok(c, sql, "migration lock", err, errlen, NULL))
        return false;
    bool ok = migrate_locked(c, version, err, errlen, state);
    if (!ok && strcmp(state, "42501") == 0)
        denied_hint(v, err, errlen);
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%d)", MIGRATION_LOCK);
    return exec_ok(c, sql, "migration unlock", ok ? err : NULL, ok ? errlen : 0, NULL) && ok;
}

/* ---- Opening and closing ------------------------------------------------ */

static void pg_close(void *h)
{
    pg *b = h;
    if (!b)
        return;
    for (int i = 0; b->conns && i < b->n; i++)
        PQfinish(b->conns[i].c);
    free(b->conns);
    free(b->idle);
    free(b->conninfo);
    pthread_cond_destroy(&b->returned);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* After connection i of n failed at open, the first having worked: most
 * likely a limit on connections (max_connections, a role's or database's
 * CONNECTION LIMIT), which must allow the whole pool. Appended to err. */
static void pool_full_hint(int i, int n, char *err, size_t errlen)
{
    size_t len = strlen(err);
    snprintf(err + len, errlen - len,
             " (opening connection %d of the %d this process keeps open: the database's "
             "max_connections, and any CONNECTION LIMIT of the role or the database, must allow "
             "them all; docs/deploy.md)",
             i + 1, n);
}

static void *pg_open(const char *where, const mq_store_options *o, int *version, char *err,
                     size_t errlen)
{
    pg *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->returned, NULL);
    b->n = o && o->pool_size > 0 ? o->pool_size : 8;
    b->conninfo = strdup(where);
    b->conns = calloc((size_t)b->n, sizeof(*b->conns));
    b->idle = calloc((size_t)b->n, sizeof(*b->idle));
    if (!b->conninfo || !b->conns || !b->idle) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    b->conns[0].c = PQconnectdb(where);
    if (!b->conns[0].c || PQstatus(b->conns[0].c) != CONNECTION_OK) {
        connect_err(where, b->conns[0].c, err, errlen);
        goto fail;
    }
    PQsetNoticeProcessor(b->conns[0].c, quiet, NULL);
    if (!migrate(b->conns[0].c, version, err, errlen))
        goto fail;
    b->conns[0].ready = set_up_session(b->conns[0].c, err, errlen);
    if (!b->conns[0].ready)
        goto fail;
    for (int i = 1; i < b->n; i++)
        if (!connect_one(b, i, err, errlen)) {
            pool_full_hint(i, b->n, err, errlen);
            goto fail;
        }
    for (int i = 0; i < b->n; i++)
        b->idle[b->nidle++] = i;
    return b;
fail:
    pg_close(b);
    return NULL;
}

/* ---- Statements --------------------------------------------------------- */

static PGresult *run(PGconn *c, store_stmt st, const char *const *params, int n)
{
    char name[2] = {stmt_name((int)st), '\0'};
    return PQexecPrepared(c, name, n, params, NULL, NULL, 0);
}

/* The error of a failed result as a store_rc: STORE_UNREACHABLE when the
 * connection is lost, else STORE_ERROR (the server answered). A
 * connection that found the server read-only (SQLSTATE 25006: a standby,
 * or default_transaction_read_only, which a session keeps from its start)
 * is no longer ready: the next borrowing reconnects it, through the
 * URI's hosts again, instead of failing every write it is given until
 * the process restarts. */
static store_rc failed(pg_conn *pc, PGresult *r, const char *what, char *err, size_t errlen)
{
    set_err(err, errlen, what, PQerrorMessage(pc->c));
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "25006") == 0)
        pc->ready = false;
    store_rc rc = PQstatus(pc->c) == CONNECTION_BAD ? STORE_UNREACHABLE : STORE_ERROR;
    PQclear(r);
    return rc;
}

static store_rc insert_all(pg_conn *pc, const mq_store_quote *const *qs, int n, char *err,
                           size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const char *params[STORE_QUOTE_COLS];
        store_insert_params(qs[i], params);
        PGresult *r = run(pc->c, ST_INSERT, params, STORE_QUOTE_COLS);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            return failed(pc, r, "save", err, errlen);
        PQclear(r);
    }
    return STORE_OK;
}

/* COMMIT. Lost on the way (the connection broke before its answer came),
 * the transaction may or may not have committed: STORE_UNKNOWN. */
static store_rc commit(pg_conn *pc, char *err, size_t errlen)
{
    PGresult *r = PQexec(pc->c, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        store_rc rc = failed(pc, r, "save: commit", err, errlen);
        if (rc != STORE_UNREACHABLE)
            return rc;
        size_t n = strlen(err);
        snprintf(err + n, errlen - n,
                 " (the connection was lost during COMMIT: whether it was stored is not known)");
        return STORE_UNKNOWN;
    }
    /* an aborted transaction "commits" as ROLLBACK */
    bool committed = strcmp(PQcmdStatus(r), "COMMIT") == 0;
    PQclear(r);
    if (!committed) {
        snprintf(err, errlen, "save: the transaction was rolled back");
        return STORE_ERROR;
    }
    return STORE_OK;
}

/* BEGIN on a borrowed connection; a connection that died while idle in
 * the pool is found here, before anything of the batch was sent. */
static store_rc begin(pg_conn *pc, char *err, size_t errlen)
{
    PGresult *r = PQexec(pc->c, "BEGIN");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return failed(pc, r, "save: begin", err, errlen);
    PQclear(r);
    return STORE_OK;
}

/* True when connection i is unusable as it is: lost, or found read-only. */
static bool stale(pg *b, int i)
{
    return PQstatus(b->conns[i].c) == CONNECTION_BAD || !b->conns[i].ready;
}

/* One attempt at a batch on connection i. *again: it failed before COMMIT
 * was sent, on a connection that was lost or read-only, so nothing of it
 * can have been stored and a fresh connection may try it again. */
static store_rc try_batch(pg *b, int i, const mq_store_quote *const *qs, int n, bool *again,
                          char *err, size_t errlen)
{
    pg_conn *pc = &b->conns[i];
    store_rc rc = begin(pc, err, errlen);
    if (rc == STORE_OK)
        rc = insert_all(pc, qs, n, err, errlen);
    *again = rc != STORE_OK && stale(b, i);
    if (rc == STORE_OK)
        rc = commit(pc, err, errlen);
    else if (PQtransactionStatus(pc->c) != PQTRANS_IDLE)
        exec_ok(pc->c, "ROLLBACK", "rollback", NULL, 0, NULL);
    return rc;
}

static store_rc pg_insert_batch(void *h, const mq_store_quote *const *qs, int n, char *err,
                                size_t errlen)
{
    pg *b = h;
    store_rc rc = STORE_ERROR;
    bool again = true;
    for (int attempt = 0; attempt < 2 && again; attempt++) { /* the second: a fresh connection */
        int i = borrow(b, err, errlen);
        if (i < 0)
            return STORE_UNREACHABLE;
        rc = try_batch(b, i, qs, n, &again, err, errlen);
        give_back(b, i);
    }
    return rc;
}

/* Runs one statement on a borrowed connection, trying once more on a
 * fresh connection when the first was found lost or read-only (every
 * statement run this way is a read or an idempotent single-statement
 * write). *r is the successful result; -1 when none (message in err,
 * outcome in *rc). */
static int run_retrying(pg *b, store_stmt st, const char *const *params, int n, ExecStatusType want,
                        PGresult **r, store_rc *rc, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int i = borrow(b, err, errlen);
        if (i < 0) {
            *rc = STORE_UNREACHABLE;
            break;
        }
        *r = run(b->conns[i].c, st, params, n);
        if (PQresultStatus(*r) == want)
            return i;
        *rc = failed(&b->conns[i], *r,
                     st == ST_SELECT || st == ST_PAGE || st == ST_PAGE_PLAIN || st == ST_COUNT ||
                             st == ST_RECORD || st == ST_RECORDS_OF || st == ST_LEADS
                         ? "read"
                         : "write",
                     err, errlen);
        *r = NULL;
        bool retry = stale(b, i);
        give_back(b, i);
        if (!retry)
            break;
    }
    return -1;
}

static store_rc pg_change(void *h, store_stmt st, const char *const *params, int nparams,
                          int64_t *changed, char *err, size_t errlen)
{
    pg *b = h;
    PGresult *r = NULL;
    store_rc rc = STORE_ERROR;
    int i = run_retrying(b, st, params, nparams, PGRES_COMMAND_OK, &r, &rc, err, errlen);
    if (i < 0)
        return rc;
    *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    give_back(b, i);
    return STORE_OK;
}

static void each_row(const PGresult *r, store_row_fn row, void *arg)
{
    int ncols = PQnfields(r);
    if (ncols > STORE_QUOTE_COLS)
        ncols = STORE_QUOTE_COLS;
    for (int t = 0; t < PQntuples(r); t++) {
        const char *cols[STORE_QUOTE_COLS];
        size_t lens[STORE_QUOTE_COLS];
        for (int c = 0; c < ncols; c++) {
            bool null = PQgetisnull(r, t, c);
            cols[c] = null ? NULL : PQgetvalue(r, t, c);
            lens[c] = null ? 0 : (size_t)PQgetlength(r, t, c);
        }
        row(arg, cols, lens, ncols);
    }
}

static store_rc pg_query(void *h, store_stmt st, const char *const *params, int nparams,
                         store_row_fn row, void *arg, char *err, size_t errlen)
{
    pg *b = h;
    PGresult *r = NULL;
    store_rc rc = STORE_ERROR;
    int i = run_retrying(b, st, params, nparams, PGRES_TUPLES_OK, &r, &rc, err, errlen);
    if (i < 0)
        return rc;   /* a failed read does not fail the store */
    give_back(b, i); /* the result no longer needs the connection */
    each_row(r, row, arg);
    PQclear(r);
    return STORE_OK;
}

/* SELECT 1 on a borrowed connection, once more on a fresh one when the
 * first was found lost (the database restarted since it was last used). */
static store_rc pg_ping(void *h, char *err, size_t errlen)
{
    pg *b = h;
    store_rc rc = STORE_UNREACHABLE;
    for (int attempt = 0; attempt < 2; attempt++) {
        int i = borrow(b, err, errlen);
        if (i < 0)
            return STORE_UNREACHABLE;
        PGresult *r = PQexec(b->conns[i].c, "SELECT 1");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            PQclear(r);
            give_back(b, i);
            return STORE_OK;
        }
        rc = failed(&b->conns[i], r, "ping", err, errlen);
        bool retry = stale(b, i);
        give_back(b, i);
        if (!retry)
            break;
    }
    return rc;
}

const store_ops store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .insert_batch = pg_insert_batch,
    .change = pg_change,
    .query = pg_query,
    .ping = pg_ping,
};
