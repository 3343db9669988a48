/* api_remote.c -- remote carriers in the API: fan-out, event streams, and
 * this server as a carrier endpoint.
 *
 * POST /v1/quotes rates local plans on the handler thread (api.c). When the
 * request also asks remote carriers (--carriers) or wants its results as
 * Server-Sent Events, mq_api_fanout takes the request over into an
 * mq_fanout: it owns the request's arena (the parsed request and the local
 * results live there), the engine reference and a slot per remote carrier.
 * server.c suspends the connection and calls mq_fanout_begin, which asks the
 * remote carriers through src/remote's fan-out thread. Each answer is
 * checked and stored in its slot on that thread (and, streamed, sent at once
 * as an event); when the last one is in, or the deadline passed, the
 * results are sorted, the response written and the quote saved (and, for a
 * stream, sent as the final "quote" event). One thread touches the arena at
 * a time: the handler until begin, then the fan-out thread, then the store's
 * writer thread.
 *
 * POST /v1/carrier/{id}/rate answers one local carrier's result for a
 * request, so another multiquote node can use this one as a remote carrier
 * (docs/carrier-protocol.md); health, not a remote line, is refused there.
 */
#include "intake.h"
#include "listener.h"
#include "server.h"

#include <microhttpd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mq_fanout {
    mq_server *s;
    mq_engine_ref *ref; /* held until the response text is written */
    mq_arena arena;     /* the request's: in, res and the answers live here */
    mq_input in;
    json_t *doc;
    mq_result *res;
    int n; /* results so far: local ones, then one per remote answer */
    int nlocal;
    int *asked; /* registry index of each remote carrier asked */
    int nasked;
    int deadline_ms;
    char *request; /* the shopper's request text (saved) */
    size_t request_len;
    char *asking; /* what remote carriers are sent (mq_remote_request), or NULL */
    size_t asking_len;
    /* the quote, once rated */
    mq_store_quote q;
    char day[11];
    char *text;
    void *later; /* server.c's suspended connection (not streamed) */
    /* the event stream */
    bool streamed;
    pthread_mutex_t lock; /* guards what follows */
    struct MHD_Connection *conn;
    char *events;
    size_t len, cap, sent;
    bool finished, suspended;
    int refs; /* the MHD response, the pipeline, and the save's deadline while on it */
    /* streamed: the save's deadline (--save-timeout), when it has one */
    mq_save_deadline dl;
    bool clocked;
};

/* A remote carrier's failed calls as the log has told them (log_call_failure). */
struct mq_call_log {
    int64_t last_ns; /* 0: never logged */
    long unlogged;   /* failed since, without a line */
};

/* ---- Start and stop -------------------------------------------------------- */

/* A carrier's circuit opened or closed: the operator's one word of a
 * carrier that keeps failing (each failure is only in its quote's result
 * and /metrics), naming the carrier and why its last call failed. */
static void log_breaker(void *arg, const mq_remote_carrier *c, const mq_breaker *b,
                        const char *last_failure)
{
    (void)arg;
    char msg[700];
    if (b->state == MQ_BREAKER_OPEN) {
        snprintf(msg, sizeof msg,
                 "%s (%s) is not asked for %d ms: %d calls in a row failed, the last: %s", c->name,
                 c->id, c->breaker_cooldown_ms, b->failures, last_failure ? last_failure : "?");
        mq_server_log_event("carrier_circuit_open", msg);
    } else if (b->state == MQ_BREAKER_CLOSED) {
        snprintf(msg, sizeof msg, "%s (%s) answered again: it is asked on every quote", c->name,
                 c->id);
        mq_server_log_event("carrier_circuit_closed", msg);
    }
}

bool mq_api_remote_start(mq_server *s, char *err, size_t errlen)
{
    if (!s->cfg.carriers_path)
        return true;
    s->registry = mq_remote_registry_load(s->cfg.carriers_path, err, errlen);
    if (!s->registry || !mq_remote_registry_check(s->registry, s->live->engine, err, errlen))
        return false;
    if (s->registry->nremote == 0)
        return true;
    /* without it (no memory), every failed call is logged */
    s->call_log = calloc((size_t)s->registry->ncarriers, sizeof(*s->call_log));
    s->remote = mq_remote_start(s->registry, log_breaker, s, err, errlen);
    return s->remote != NULL;
}

void mq_api_remote_stop(mq_server *s)
{
    mq_remote_stop(s->remote);
    s->remote = NULL;
    free(s->call_log);
    s->call_log = NULL;
    mq_remote_registry_free(s->registry);
    s->registry = NULL;
}

bool mq_api_wants_stream(const mq_http_req *r)
{
    return mq_http_prefers(r, "text/event-stream");
}

/* ---- Event stream ---------------------------------------------------------- */

static void fanout_free(mq_fanout *f)
{
    if (f->ref)
        mq_server_engine_release(f->s, f->ref);
    json_decref(f->doc);
    mq_arena_free(&f->arena);
    mq_store_packed_free(&f->q);
    free(f->request);
    free(f->asking);
    free(f->text);
    free(f->events);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static void fanout_unref(mq_fanout *f)
{
    pthread_mutex_lock(&f->lock);
    bool last = --f->refs == 0;
    pthread_mutex_unlock(&f->lock);
    if (last)
        fanout_free(f);
}

/* Appends "event: NAME\ndata: TEXT\n\n" and wakes the connection if it
 * waits for bytes. `finish`: nothing follows. */
static void push_event(mq_fanout *f, const char *name, const char *data, bool finish)
{
    pthread_mutex_lock(&f->lock);
    size_t need = strlen(name) + strlen(data) + 20;
    if (f->len + need > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8192;
        while (cap < f->len + need)
            cap *= 2;
        char *b = realloc(f->events, cap);
        if (b) {
            f->events = b;
            f->cap = cap;
        }
    }
    if (f->len + need <= f->cap)
        f->len += (size_t)snprintf(f->events + f->len, f->cap - f->len, "event: %s\ndata: %s\n\n",
                                   name, data);
    f->finished |= finish;
    if (f->suspended) {
        f->suspended = false;
        mq_listener_resume(f->s->listener, f->conn);
    }
    pthread_mutex_unlock(&f->lock);
}

ssize_t mq_fanout_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    mq_fanout *f = cls;
    pthread_mutex_lock(&f->lock);
    ssize_t n = 0;
    if (f->sent < f->len) {
        size_t k = f->len - f->sent < max ? f->len - f->sent : max;
        memcpy(buf, f->events + f->sent, k);
        f->sent += k;
        n = (ssize_t)k;
    } else if (f->finished) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* nothing yet: park the connection until push_event resumes it */
        f->suspended = true;
        MHD_suspend_connection(f->conn);
    }
    pthread_mutex_unlock(&f->lock);
    return n;
}

void mq_fanout_stream_release(void *cls)
{
    fanout_unref(cls);
}

bool mq_fanout_streams(const mq_fanout *f)
{
    return f->streamed;
}

static void push_result(mq_fanout *f, const mq_result *r)
{
    if (!f->streamed)
        return;
    char *text = mq_resp_result_text(&f->in, r);
    if (text)
        push_event(f, "result", text, false);
    free(text);
}

/* ---- The end of a fan-out: sort, write, save ------------------------------- */

static void fanout_ref(mq_fanout *f)
{
    pthread_mutex_lock(&f->lock);
    f->refs++;
    pthread_mutex_unlock(&f->lock);
}

/* Ends the stream with the error r holds (its JSON body, then freed), or
 * `fallback` when writing it ran out of memory. */
static void push_error(mq_fanout *f, mq_http_req *r, const char *fallback)
{
    push_event(f, "error", r->response ? r->response : fallback, true);
    free(r->response);
}

/* The save's deadline passed (on the clock's thread): the stream ends with
 * the 503's error, and the deadline's reference goes. */
static void stream_expired(mq_save_deadline *d)
{
    mq_fanout *f = (mq_fanout *)((char *)d - offsetof(mq_fanout, dl));
    mq_http_req r = {.method = "POST", .path = "/v1/quotes", .route = ROUTE_QUOTES_POST};
    mq_server_save_timed_out(f->s, &r, f->q.id);
    push_error(f, &r,
               "{\"error\":{\"code\":\"storage_timeout\",\"message\":\"the quote may or may "
               "not have been stored\",\"path\":\"\"}}");
    fanout_unref(f);
}

static void stream_saved(void *arg, bool ok)
{
    mq_fanout *f = arg;
    if (f->clocked) {
        if (!mq_server_deadline_remove(f->s, &f->dl)) {
            /* its stream already ended at the deadline, saying so */
            mq_server_late_save_ended(f->s, ok);
            fanout_unref(f);
            return;
        }
        fanout_unref(f); /* the deadline's, never used */
    }
    if (ok) {
        atomic_fetch_add(&f->s->metrics.quotes[f->in.line][0], 1);
        push_event(f, "quote", f->text, true);
    } else {
        /* the same answer (and log line) as a 201 that could not be saved:
         * storage_unavailable, an unknown outcome, or nothing stored */
        mq_http_req r = {.method = "POST", .path = "/v1/quotes", .route = ROUTE_QUOTES_POST};
        mq_api_save_failed_id(f->s, &r, f->q.id);
        push_error(f, &r,
                   "{\"error\":{\"code\":\"storage_error\",\"message\":\"the quote could "
                   "not be saved\",\"path\":\"\"}}");
    }
    fanout_unref(f);
}

static char *write_response(mq_fanout *f)
{
    mq_results_sort(f->res, f->n);
    if (!mq_store_new_id(&f->q))
        return NULL;
    mq_tip_minimums mins;
    mq_tip_list tips;
    if (!mq_resp_tip_list(f->ref->engine, &f->in, f->res, f->n,
                          mq_state_tip_minimums(&f->in, &mins), &f->arena, &tips))
        return NULL;
    return mq_resp_text(&f->in, f->res, f->n, &(mq_resp_meta){f->q.id, f->q.created_at, true},
                        &tips);
}

static void fanout_done(void *arg)
{
    mq_fanout *f = arg;
    char *text = write_response(f);
    mq_server_engine_release(f->s, f->ref); /* the results no longer need the plans */
    f->ref = NULL;
    const char *line = mq_line_get(f->in.line)->name;
    if (!f->streamed) {
        char *sealed = NULL; /* personal data sealed (src/privacy): q's texts point into it */
        if (text) {
            mq_api_prepare_quote(line, f->in.effective_date, f->doc, &f->q, f->day, "", text);
            mq_api_seal_quote(f->s, &f->q, f->doc, &sealed); /* NULL: answered as a failed save */
        }
        mq_server_save_and_answer(f->later, &f->q, f->in.line, text, sealed);
        fanout_free(f);
        return;
    }
    f->text = text;
    if (!text) {
        push_event(
            f, "error",
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"path\":\"\"}}",
            true);
        fanout_unref(f);
        return;
    }
    mq_api_prepare_quote(line, f->in.effective_date, f->doc, &f->q, f->day, f->request, text);
    char *sealed = NULL; /* personal data sealed (src/privacy): q's texts point into it */
    bool ok = mq_api_seal_quote(f->s, &f->q, f->doc, &sealed);
    if (ok) {
        free(f->request);
        f->request = sealed;
    }
    if (ok && !mq_store_pack(f->s->store, &f->q))
        f->q.packed = NULL; /* out of memory: the writer packs them */
    if (ok) {               /* on the clock before: the save may end at once */
        f->dl.expired = stream_expired;
        fanout_ref(f); /* the deadline's */
        if (!(f->clocked = mq_server_deadline_add(f->s, &f->dl)))
            fanout_unref(f);
    }
    if (!ok || !mq_store_save_async(f->s->store, &f->q, stream_saved, f))
        stream_saved(f, false);
}

/* ---- Answers --------------------------------------------------------------- */

/* Counts the result by status; its time goes into the carrier's rating
 * histogram only when the carrier was really asked (a carrier skipped by
 * its open circuit took no 0 s to rate, nor one still waiting its turn
 * the time it waited). */
static void note_result(mq_fanout *f, const mq_result *r, bool asked)
{
    if (asked)
        mq_server_note_carrier_time(f->s, r->carrier_id, r->elapsed_ns);
    atomic_fetch_add(&f->s->metrics.results[f->in.line][r->status], 1);
}

/* What failed in a call to a remote carrier, for the operator (the
 * shopper's result says only "the connection to it failed", or "Quote
 * unavailable from this carrier right now" for an answer that broke the
 * protocol, where this line names the field): for each carrier at most a
 * line a second, the next one counting the failures that had none, so a
 * carrier that is down does not flood the log on every quote (its circuit
 * breaker's lines say the rest). Only the fan-out thread calls it (the
 * one answer made elsewhere, mq_fanout_begin's, has no detail): no lock. */
static void log_call_failure(mq_server *s, int carrier, const char *detail)
{
    const mq_remote_carrier *c = &s->registry->carriers[carrier];
    struct mq_call_log *l = s->call_log ? &s->call_log[carrier] : NULL;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t now = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
    long before = 0;
    if (l) {
        if (l->last_ns != 0 && now - l->last_ns < 1000000000) {
            l->unlogged++;
            return;
        }
        before = l->unlogged;
        l->last_ns = now;
        l->unlogged = 0;
    }
    char msg[1200];
    if (before)
        snprintf(msg, sizeof msg,
                 "%s (%s): %s (and %ld more failed calls since the last such line)", c->name, c->id,
                 detail, before);
    else
        snprintf(msg, sizeof msg, "%s (%s): %s", c->name, c->id, detail);
    mq_server_log_event("carrier_call_failed", msg);
}

/* Runs on the fan-out thread: one remote carrier's answer into its slot. */
static bool on_answer(void *arg, const mq_remote_answer *a)
{
    mq_fanout *f = arg;
    const mq_remote_carrier *c = &f->s->registry->carriers[a->carrier];
    mq_result *r = &f->res[f->n];
    /* f->ref is held until every carrier has answered (fanout_done) */
    bool ok = mq_remote_answer_result(a, &f->in, c, f->ref ? f->ref->engine : NULL, &f->arena, r);
    const char *detail = mq_remote_answer_detail(a);
    if (detail)
        log_call_failure(f->s, a->carrier, detail);
    f->n++;
    note_result(f, r, a->asked);
    push_result(f, r);
    return ok;
}

void mq_fanout_begin(mq_fanout *f, void *later, void *conn)
{
    f->later = later;
    f->conn = conn;
    for (int i = 0; i < f->nlocal; i++)
        push_result(f, &f->res[i]);
    if (f->nasked == 0 || !mq_remote_ask(f->s->remote, f->asking, f->asking_len, f->asked,
                                         f->nasked, f->deadline_ms, on_answer, fanout_done, f)) {
        for (int i = 0; i < f->nasked; i++) {
            mq_remote_answer a = {.carrier = f->asked[i],
                                  .status = MQ_ERROR,
                                  .reason = "the carrier could not be asked (server stopping)"};
            on_answer(f, &a);
        }
        fanout_done(f);
    }
}

/* ---- Taking a request over ------------------------------------------------- */

bool mq_api_deadline(mq_server *s, mq_http_req *r, int *out)
{
    *out = s->registry ? s->registry->deadline_ms : MQ_REMOTE_DEADLINE_MS;
    const char *q = mq_http_query(r, "deadline_ms");
    if (!q)
        return true;
    char *end;
    long v = strtol(q, &end, 10);
    if (!*q || *end || v < 1 || v > 600000) {
        mq_api_error(r, 400, "invalid_parameter",
                     "deadline_ms takes a whole number of milliseconds from 1 to 600000",
                     "deadline_ms");
        return false;
    }
    if (v < *out)
        *out = (int)v;
    return true;
}

bool mq_api_fanout(mq_server *s, mq_http_req *r, json_t *doc, const mq_input *in, mq_result *res,
                   int n, mq_engine_ref **ref)
{
    int cap = s->registry ? s->registry->ncarriers : 0;
    int *asked = cap ? mq_arena_alloc(&r->arena, sizeof(int) * (size_t)cap) : NULL;
    int nasked =
        s->remote ? mq_remote_select(s->registry, in->line, in->carriers, in->ncarriers, asked, cap)
                  : 0;
    bool streamed = mq_api_wants_stream(r);
    /* the remote carriers it names that do not quote its line: results too,
     * after the local ones (even when no carrier is asked) */
    int not_quoting = mq_remote_not_quoting(s->registry, in, &r->arena, NULL);
    if (nasked == 0 && !streamed && not_quoting == 0)
        return false;
    int deadline;
    mq_fanout *f = calloc(1, sizeof(*f));
    mq_result *all = mq_arena_alloc(&r->arena, sizeof(mq_result) * (size_t)(n + cap + 1));
    char *request = malloc(r->body_len + 1);
    size_t asking_len = 0;
    char *asking = nasked ? mq_remote_request(r->body, r->body_len, &asking_len) : NULL;
    bool oom = !f || !all || !request || (nasked && !asking);
    if (all && not_quoting > 0)
        not_quoting = mq_remote_not_quoting(s->registry, in, &r->arena, &all[n]);
    if (oom || not_quoting < 0 || !mq_api_deadline(s, r, &deadline)) {
        if (oom || not_quoting < 0)
            mq_api_error(r, 500, "internal", "out of memory", "");
        free(f);
        free(request);
        free(asking);
        return true; /* answered: the error reply is set */
    }
    memcpy(all, res, sizeof(mq_result) * (size_t)n);
    memcpy(request, r->body, r->body_len);
    request[r->body_len] = '\0';
    *f = (mq_fanout){.s = s,
                     .ref = *ref,
                     .arena = r->arena,
                     .in = *in,
                     .doc = json_incref(doc),
                     .res = all,
                     .n = n,
                     .asked = asked,
                     .nasked = nasked,
                     .deadline_ms = deadline,
                     .request = request,
                     .request_len = r->body_len,
                     .asking = asking,
                     .asking_len = asking_len,
                     .streamed = streamed,
                     .refs = streamed ? 2 : 1};
    pthread_mutex_init(&f->lock, NULL);
    for (int i = n; i < n + not_quoting; i++) /* results too, though nobody was asked */
        atomic_fetch_add(&s->metrics.results[in->line][all[i].status], 1);
    f->n += not_quoting;
    f->nlocal = f->n;
    *ref = NULL;
    mq_arena_init(&r->arena, 0); /* the fan-out owns the old one now */
    r->fanout = f;
    return true;
}

/* ---- POST /v1/carrier/{id}/rate ------------------------------------------- */

/* Whether `got` is the secret `want`, in a time that tells nothing of how
 * much of a guess was right (strcmp stops at the first wrong byte): both
 * hashed, the hashes compared with sodium_memcmp. */
static bool same_secret(const char *got, const char *want)
{
    unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
    crypto_generichash(a, sizeof a, (const unsigned char *)got, strlen(got), NULL, 0);
    crypto_generichash(b, sizeof b, (const unsigned char *)want, strlen(want), NULL, 0);
    return sodium_memcmp(a, b, sizeof a) == 0;
}

bool mq_api_carrier_bearer(void *conn)
{
    const char *token = getenv("MQ_CARRIER_TOKEN");
    if (!token || !*token || !conn)
        return false;
    const char *got = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    return got && strncmp(got, "Bearer ", 7) == 0 && same_secret(got + 7, token);
}

static bool authorized(const mq_http_req *r)
{
    const char *token = getenv("MQ_CARRIER_TOKEN");
    return !token || !*token || mq_api_carrier_bearer(r->conn);
}

/* The carrier id of /v1/carrier/{id}/rate, or NULL. */
static const char *carrier_of_path(mq_http_req *r)
{
    const char *p = r->path + strlen("/v1/carrier/");
    const char *slash = strchr(p, '/');
    if (!slash || slash == p || strcmp(slash, "/rate") != 0 || slash - p > 64)
        return NULL;
    char *id = mq_arena_alloc(&r->arena, (size_t)(slash - p) + 1);
    if (id)
        memcpy(id, p, (size_t)(slash - p));
    return id;
}

static void reply_text(mq_http_req *r, int status, char *text)
{
    r->status = status;
    r->response = text;
    r->response_len = strlen(text);
    r->response_type = "application/json";
}

void mq_api_carrier_rate(mq_server *s, mq_http_req *r)
{
    r->route = ROUTE_OTHER;
    const char *id = carrier_of_path(r);
    if (!id) {
        mq_api_error(r, 404, "not_found", "no such resource", "");
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        mq_api_error(r, 405, "method_not_allowed", "use POST", "");
        r->allow = "POST";
        return;
    }
    if (!authorized(r)) {
        mq_api_error(r, 401, "unauthorized", "this carrier endpoint needs its bearer token", "");
        /* RFC 9110 11.6.1: a 401 says how to authenticate; RFC 6750 3.1:
         * and, when a token was sent, that it is not the one */
        r->authenticate =
            r->conn && MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization")
                ? "Bearer realm=\"multiquote carrier endpoint\", error=\"invalid_token\""
                : "Bearer realm=\"multiquote carrier endpoint\"";
        return;
    }
    if (!mq_remote_rate_here(s->registry, id)) {
        /* plans of it may be loaded, but this server's quotes do not rate
         * them (its registry leaves the carrier out, or asks it remotely):
         * answering from them would speak for the carrier with plans the
         * operator took out of the comparison */
        mq_api_error(r, 404, "not_found",
                     mq_arena_printf(&r->arena,
                                     "carrier \"%s\" is not rated on this server (its carrier "
                                     "registry leaves it out or asks it remotely)",
                                     id),
                     "");
        return;
    }
    /* the same answers as POST /v1/quotes: 415, 400 malformed_json, 422 with details */
    json_t *doc = mq_api_read_json(r);
    if (!doc)
        return;
    mq_input in;
    mq_req_errors errs = {0};
    bool parsed = mq_req_from_json(doc, &r->arena, &in, &errs);
    json_decref(doc); /* the input's strings are in the arena */
    if (!parsed) {
        if (errs.count)
            mq_api_invalid(r, &errs);
        else
            mq_api_error(r, 500, "internal", "out of memory", "");
        return;
    }
    if (in.line == MQ_LINE_HEALTH) {
        /* an issuer answers with several plans, priced with a credit from
         * every plan of the market: not one result of the protocol */
        mq_req_errors why = {.count = 1};
        why.items[0] = (mq_req_error){
            "line", "health is not a remote line: ACA plans are rated where every plan of the "
                    "market is, with the premium tax credit (POST /v1/quotes)"};
        mq_api_invalid(r, &why);
        return;
    }
    mq_engine_ref *ref = mq_server_engine_acquire(s);
    const char *only[1] = {id};
    in.carriers = only;
    in.ncarriers = 1;
    mq_result *res;
    int n;
    if (!mq_rate_all(ref->engine, &in, &(mq_rate_opts){0}, &r->arena, &res, &n) || n < 1) {
        mq_api_error(r, 500, "internal", "out of memory", "");
    } else if (res[0].status == MQ_ERROR && !res[0].plan) {
        mq_api_error(r, 404, "not_found", "no local carrier with this id", "");
    } else {
        mq_server_note_carrier_time(s, res[0].carrier_id, res[0].elapsed_ns);
        char *text = mq_resp_result_text(&in, &res[0]);
        if (text)
            reply_text(r, 200, text);
        else
            mq_api_error(r, 500, "internal", "out of memory", "");
    }
    mq_server_engine_release(s, ref);
}

/* ---- /v1/carriers and /metrics --------------------------------------------- */

void mq_api_remote_catalog(mq_server *s, json_t *doc)
{
    json_t *list = json_object_get(doc, "carriers");
    /* local carriers the registry leaves out are not compared */
    for (size_t i = json_array_size(list); s->registry && i-- > 0;)
        if (!mq_remote_rate_here(s->registry,
                                 json_string_value(json_object_get(json_array_get(list, i), "id"))))
            json_array_remove(list, i);
    for (int i = 0; s->registry && i < s->registry->ncarriers; i++) {
        const mq_remote_carrier *c = &s->registry->carriers[i];
        if (!c->remote)
            continue;
        json_t *lines = json_array();
        for (int l = 0; l < MQ_LINE_COUNT; l++)
            if (c->lines & (1u << l))
                json_array_append_new(lines, json_string(mq_line_get((mq_line)l)->name));
        mq_remote_stats st = {0};
        if (s->remote)
            mq_remote_get_stats(s->remote, i, &st);
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s, s:i}, s:i}", "id", c->id,
                                        "name", c->name, "rating", c->rating, "kind", "remote",
                                        "lines", lines, "breaker", "state",
                                        mq_breaker_state_name(st.state), "consecutive_failures",
                                        st.consecutive_failures, "timeout_ms", c->timeout_ms));
    }
}

static bool appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return false;
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return true;
        }
        char *b = realloc(*buf, *cap * 2 + (size_t)n);
        if (!b)
            return false;
        *buf = b;
        *cap = *cap * 2 + (size_t)n;
    }
}

/* One remote carrier's counters, read once for every family below. */
typedef struct remote_sample {
    const char *id;
    mq_remote_stats st;
} remote_sample;

/* A counter or gauge family of the remote carriers: one sample each. */
typedef struct remote_family {
    const char *name, *type, *help;
    long (*value)(const mq_remote_stats *st);
} remote_family;

static long consecutive_failures(const mq_remote_stats *st)
{
    return st->consecutive_failures;
}
static long calls(const mq_remote_stats *st)
{
    return st->calls;
}
static long skipped(const mq_remote_stats *st)
{
    return st->skipped;
}
static long connections_opened(const mq_remote_stats *st)
{
    return st->connections_opened;
}
static long in_flight(const mq_remote_stats *st)
{
    return st->in_flight;
}

static const remote_family remote_families[] = {
    {"mq_remote_consecutive_failures", "gauge",
     "Calls to each remote carrier that failed in a row (the circuit opens past its threshold).",
     consecutive_failures},
    {"mq_remote_calls_total", "counter", "Calls made to each remote carrier.", calls},
    {"mq_remote_skipped_total", "counter",
     "Quotes that did not call a remote carrier because its circuit was open.", skipped},
    {"mq_remote_connections_opened_total", "counter",
     "Connections opened to each remote carrier (flat while keep-alive works).",
     connections_opened},
    {"mq_remote_in_flight", "gauge", "Calls to each remote carrier waiting for an answer.",
     in_flight},
};

static bool remote_family_text(const remote_family *f, const remote_sample *rs, int n, char **buf,
                               size_t *len, size_t *cap)
{
    bool ok =
        appendf(buf, len, cap, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
    for (int i = 0; ok && i < n; i++)
        ok = appendf(buf, len, cap, "%s{carrier=\"%s\"} %ld\n", f->name, rs[i].id,
                     f->value(&rs[i].st));
    return ok;
}

/* mq_remote_breaker_state and mq_remote_latency_ms go in 0.2.0: one
 * release for dashboards to move to the families that replace them. */
#define REMOTE_DEPRECATED "DEPRECATED, removed in multiquote 0.2.0: use "

/* Each carrier's circuit as a state set: a sample per state, 1 for the one
 * it is in and 0 for the others, so each series lives as long as the
 * carrier; and the deprecated gauge, whose value repeats its state label
 * (a series per state that appears and vanishes as the circuit moves). */
static bool remote_breaker_text(const remote_sample *rs, int n, char **buf, size_t *len,
                                size_t *cap)
{
    static const mq_breaker_state states[] = {MQ_BREAKER_CLOSED, MQ_BREAKER_OPEN,
                                              MQ_BREAKER_HALF_OPEN};
    bool ok = appendf(buf, len, cap,
                      "# HELP mq_remote_circuit_state Circuit breaker of each remote carrier: 1 "
                      "for the state it is in (closed, open, half_open), 0 for the others.\n"
                      "# TYPE mq_remote_circuit_state gauge\n");
    for (int i = 0; ok && i < n; i++)
        for (size_t k = 0; ok && k < sizeof states / sizeof states[0]; k++)
            ok = appendf(buf, len, cap, "mq_remote_circuit_state{carrier=\"%s\",state=\"%s\"} %d\n",
                         rs[i].id, mq_breaker_state_name(states[k]),
                         rs[i].st.state == states[k] ? 1 : 0);
    ok = ok && appendf(buf, len, cap,
                       "# HELP mq_remote_breaker_state " REMOTE_DEPRECATED
                       "mq_remote_circuit_state. Circuit breaker of each remote carrier "
                       "(0 closed, 1 open, 2 half open).\n"
                       "# TYPE mq_remote_breaker_state gauge\n");
    for (int i = 0; ok && i < n; i++)
        ok = appendf(buf, len, cap, "mq_remote_breaker_state{carrier=\"%s\",state=\"%s\"} %d\n",
                     rs[i].id, mq_breaker_state_name(rs[i].st.state), (int)rs[i].st.state);
    return ok;
}

/* Failed calls: errors and timeouts, then the errors by what went wrong. */
static bool remote_failures_text(const remote_sample *rs, int n, char **buf, size_t *len,
                                 size_t *cap)
{
    bool ok = appendf(buf, len, cap,
                      "# HELP mq_remote_failures_total Calls to each remote carrier that failed, "
                      "by kind (an error answer or none in time).\n"
                      "# TYPE mq_remote_failures_total counter\n");
    for (int i = 0; ok && i < n; i++)
        ok = appendf(buf, len, cap,
                     "mq_remote_failures_total{carrier=\"%s\",kind=\"error\"} %ld\n"
                     "mq_remote_failures_total{carrier=\"%s\",kind=\"timeout\"} %ld\n",
                     rs[i].id, rs[i].st.failures, rs[i].id, rs[i].st.timeouts);
    ok = ok && appendf(buf, len, cap,
                       "# HELP mq_remote_errors_total Calls to each remote carrier that ended in "
                       "an error (mq_remote_failures_total{kind=\"error\"}), by what went wrong: "
                       "connection, http_status, too_large, protocol (an answer that breaks "
                       "it).\n"
                       "# TYPE mq_remote_errors_total counter\n");
    for (int i = 0; ok && i < n; i++)
        for (int k = 0; ok && k < MQ_REMOTE_FAIL_KINDS; k++)
            ok =
                appendf(buf, len, cap, "mq_remote_errors_total{carrier=\"%s\",kind=\"%s\"} %ld\n",
                        rs[i].id, mq_remote_failure_name((mq_remote_failure)k), rs[i].st.errors[k]);
    return ok;
}

/* A latency histogram of the remote carriers' calls, in the unit `per_ms`
 * parts of a millisecond make (1000: ms, deprecated; 0.001: seconds). Both
 * are read from the same counters, so they agree bucket for bucket. */
typedef struct latency_family {
    const char *name, *help;
    double per_ms;
} latency_family;

static const latency_family latency_families[] = {
    {"mq_remote_latency_seconds",
     "Time each remote carrier took to answer (a call that went out, until its answer, error or "
     "timeout).",
     0.001},
    {"mq_remote_latency_ms",
     REMOTE_DEPRECATED "mq_remote_latency_seconds. Time each remote carrier took to answer, in "
                       "milliseconds.",
     1},
};

static bool remote_latency_text(const latency_family *h, const remote_sample *rs, int n, char **buf,
                                size_t *len, size_t *cap)
{
    bool ok =
        appendf(buf, len, cap, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name);
    for (int i = 0; ok && i < n; i++) {
        const char *id = rs[i].id;
        long cumulative = 0;
        for (int b = 0; ok && b < MQ_REMOTE_LAT_BUCKETS; b++) {
            cumulative += rs[i].st.latency[b];
            ok = appendf(buf, len, cap, "%s_bucket{carrier=\"%s\",le=\"%g\"} %ld\n", h->name, id,
                         mq_remote_latency_bounds_ms[b] * h->per_ms, cumulative);
        }
        cumulative += rs[i].st.latency[MQ_REMOTE_LAT_BUCKETS];
        ok = ok && appendf(buf, len, cap,
                           "%s_bucket{carrier=\"%s\",le=\"+Inf\"} %ld\n"
                           "%s_sum{carrier=\"%s\"} %.6f\n"
                           "%s_count{carrier=\"%s\"} %ld\n",
                           h->name, id, cumulative, h->name, id,
                           rs[i].st.latency_sum_ms * h->per_ms, h->name, id, cumulative);
    }
    return ok;
}

/* The remote carriers' metrics in Prometheus text, a family at a time (the
 * format wants all of a family's samples together, after its HELP and
 * TYPE); each carrier's counters are read once. "" without remote carriers. */
char *mq_api_remote_metrics(mq_server *s)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    int n = 0;
    remote_sample *rs = s->remote ? calloc((size_t)s->registry->ncarriers + 1, sizeof(*rs)) : NULL;
    if (!buf || (s->remote && !rs)) {
        free(buf);
        free(rs);
        return NULL;
    }
    buf[0] = '\0';
    for (int i = 0; rs && i < s->registry->ncarriers; i++)
        if (s->registry->carriers[i].remote) {
            rs[n].id = s->registry->carriers[i].id;
            mq_remote_get_stats(s->remote, i, &rs[n++].st);
        }
    bool ok = n == 0 || (remote_breaker_text(rs, n, &buf, &len, &cap) &&
                         remote_failures_text(rs, n, &buf, &len, &cap));
    for (size_t f = 0; ok && n > 0 && f < sizeof remote_families / sizeof remote_families[0]; f++)
        ok = remote_family_text(&remote_families[f], rs, n, &buf, &len, &cap);
    for (size_t h = 0; ok && n > 0 && h < sizeof latency_families / sizeof latency_families[0]; h++)
        ok = remote_latency_text(&latency_families[h], rs, n, &buf, &len, &cap);
    free(rs);
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}
