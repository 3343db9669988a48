/* api.c -- the JSON API: one function per route.
 *
 * Routes (docs/openapi.yaml describes each): POST /v1/quotes rates a request
 * against every carrier, saves it and answers the contract's response;
 * GET /v1/quotes/{id} answers the saved response as it was; GET
 * /v1/quotes/{id}/worksheet/{carrier} re-rates the saved request with the
 * plan version that carrier used and answers its worksheet (none for a
 * remote carrier, which rated it elsewhere); /v1/carriers,
 * /v1/plans, /healthz and /metrics describe the server. Errors are always
 * {"error": {"code", "message", "path"}} with a fitting 4xx or 5xx.
 */
#include "intake.h"
#include "jsontext.h"
#include "privacy.h"
#include "server.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Replies ------------------------------------------------------------ */

static void reply_json(mq_http_req *r, int status, json_t *doc)
{
    r->status = status;
    r->response = doc ? mq_resp_dump(doc, false) : NULL;
    r->response_len = r->response ? strlen(r->response) : 0;
    r->response_type = "application/json";
    json_decref(doc);
    if (!r->response && status != 500)
        mq_api_error(r, 500, "internal", "out of memory", "");
}

/* The message and path may quote the request (a path segment, a header):
 * bytes that are not UTF-8 become U+FFFD, or jansson would refuse them and
 * the answer would be a 500 "out of memory" instead of the error due. */
static void reply_error_doc(mq_http_req *r, int status, const char *code, const char *message,
                            const char *path, json_t *details)
{
    char *msg = mq_jw_utf8_clean(message), *where = mq_jw_utf8_clean(path ? path : "");
    json_t *err = msg && where
                      ? json_pack("{s:s, s:s, s:s}", "code", code, "message", msg, "path", where)
                      : NULL;
    free(msg);
    free(where);
    if (err && details)
        json_object_set_new(err, "details", details);
    else
        json_decref(details);
    json_t *doc = err ? json_pack("{s:o}", "error", err) : NULL;
    r->status = status;
    r->response = doc ? mq_resp_dump(doc, false) : NULL;
    json_decref(doc);
    if (!r->response) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
                                  "memory\",\"path\":\"\"}}";
        r->response = malloc(sizeof oom);
        if (r->response)
            memcpy(r->response, oom, sizeof oom);
        r->status = 500;
    }
    r->response_len = r->response ? strlen(r->response) : 0;
    r->response_type = "application/json";
}

void mq_api_error(mq_http_req *r, int status, const char *code, const char *message,
                  const char *path)
{
    reply_error_doc(r, status, code, message, path, NULL);
}

bool mq_api_query_known(mq_http_req *r, const char *const *known)
{
    const char *unknown = mq_http_unknown_query(r, known);
    if (!unknown)
        return true;
    char q[160], takes[128] = "";
    size_t at = 0;
    for (const char *const *k = known; *k && at < sizeof takes; k++)
        at += (size_t)snprintf(takes + at, sizeof takes - at, "%s%s", k == known ? "" : ", ", *k);
    mq_api_error(r, 400, "invalid_parameter",
                 mq_arena_printf(&r->arena, "unknown query parameter %s: this route takes %s",
                                 mq_req_quoted(unknown, q), takes),
                 unknown);
    return false;
}

static void method_not_allowed(mq_http_req *r, const char *allow)
{
    char msg[64];
    snprintf(msg, sizeof msg, "use %s", allow);
    mq_api_error(r, 405, "method_not_allowed", msg, "");
    r->allow = allow;
}

bool mq_api_only_get(mq_http_req *r)
{
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
        return true; /* libmicrohttpd sends a HEAD answer's headers only */
    mq_api_error(r, 405, "method_not_allowed", "use GET", "");
    r->allow = "GET, HEAD";
    return false;
}

/* ---- POST /v1/quotes ----------------------------------------------------- */

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* One parameter of a media type, read from just after its ';': when it is
 * the charset, its value (unquoted) is copied into `charset`. Returns
 * where the next ';', or the end, is. */
static const char *media_param(const char *p, char *charset, size_t cap)
{
    p = skip_ows(p);
    size_t nlen = strcspn(p, "=; \t");
    bool is_charset = nlen == 7 && strncasecmp(p, "charset", 7) == 0;
    p = skip_ows(p + nlen);
    if (*p != '=')
        return p + strcspn(p, ";");
    p = skip_ows(p + 1);
    bool quoted = *p == '"';
    p += quoted;
    size_t vlen = quoted ? strcspn(p, "\"") : strcspn(p, "; \t");
    if (is_charset && cap > 0)
        snprintf(charset, cap, "%.*s", (int)vlen, p);
    p += vlen + (quoted && p[vlen] == '"');
    return p + strcspn(p, ";");
}

bool mq_api_media_is(const char *ct, const char *type, char *charset, size_t cap)
{
    if (cap > 0)
        charset[0] = '\0';
    if (!ct)
        return false;
    ct = skip_ows(ct);
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0)
        return false;
    const char *p = skip_ows(ct + n);
    if (*p != '\0' && *p != ';')
        return false;
    while (*p == ';')
        p = media_param(p + 1, charset, cap);
    return true;
}

void mq_api_invalid(mq_http_req *r, const mq_req_errors *errs)
{
    json_t *details = json_array();
    int shown = errs->count < 32 ? errs->count : 32;
    for (int i = 0; i < shown; i++)
        json_array_append_new(details, json_pack("{s:s, s:s}", "path", errs->items[i].path,
                                                 "message", errs->items[i].message));
    const char *first = mq_req_error_text(&errs->items[0], &r->arena);
    reply_error_doc(r, 422, "invalid_request", first ? first : errs->items[0].message,
                    errs->items[0].path, details);
}

json_t *mq_api_read_json(mq_http_req *r)
{
    char charset[32], quoted[160];
    if (!mq_api_media_is(r->content_type, "application/json", charset, sizeof charset)) {
        mq_api_error(r, 415, "unsupported_media_type", "send the request as application/json", "");
        return NULL;
    }
    /* JSON is UTF-8 (RFC 8259 8.1): a body said to be in another charset
     * was read as UTF-8 all the same, its accented letters refused as
     * "unable to decode byte 0xe9" or taken for other characters */
    if (*charset && strcasecmp(charset, "utf-8") != 0 && strcasecmp(charset, "utf8") != 0) {
        mq_api_error(r, 415, "unsupported_media_type",
                     mq_arena_printf(&r->arena,
                                     "send the request as application/json in UTF-8, not in "
                                     "charset %s",
                                     mq_req_quoted(charset, quoted)),
                     "");
        return NULL;
    }
    /* a UTF-8 byte order mark, which some clients write before the text
     * (.NET's UTF8Encoding, Windows tools), is ignored as RFC 8259 8.1
     * allows: it failed as "'[' or '{' expected near '\xef\xbb\xbf'" (an
     * invisible character), and would go on to remote carriers otherwise */
    if (r->body_len >= 3 && memcmp(r->body, "\xef\xbb\xbf", 3) == 0) {
        r->body += 3;
        r->body_len -= 3;
    }
    json_error_t je;
    json_t *doc = mq_jr_load(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        char msg[300];
        snprintf(msg, sizeof msg, "invalid JSON at %d:%d: %s", je.line, je.column, je.text);
        mq_api_error(r, 400, "malformed_json", msg, "");
    }
    return doc;
}

static bool consent_given(const json_t *doc)
{
    json_t *c =
        json_object_get(json_object_get(json_object_get(doc, "applicant"), "consent"), "contact");
    return json_is_true(c);
}

/* Saves a rated quote: request and response texts, line, effective date and
 * the applicant's consent to be contacted (with its time). Shared by every
 * route that rates (quotes, bundles, ACORD). */
void mq_api_prepare_quote(const char *line, int32_t effective, const json_t *doc, mq_store_quote *q,
                          char day[11], const char *request, const char *response)
{
    mq_date_format(effective, day);
    q->line = line;
    q->effective_date = day;
    q->request = request;
    q->response = response;
    /* measured here, while the text just written is in the cache: the
     * answer and the store's packing of it come ~10 ms later */
    q->response_len = response ? strlen(response) : 0;
    q->consent_contact = consent_given(doc);
    if (q->consent_contact)
        snprintf(q->consent_at, sizeof q->consent_at, "%s", q->created_at);
}

bool mq_api_defer_quote(mq_server *s, mq_http_req *r, const char *line, int32_t effective,
                        json_t *doc, mq_store_quote *q, char *response, int metrics_line)
{
    mq_api_prepare_quote(line, effective, doc, q, r->save_day, "", response);
    if (!mq_api_seal_quote(s, q, doc, &r->save_sealed)) {
        free(response);
        mq_api_save_failed(s, r);
        return false;
    }
    r->save_q = *q;
    r->save_line = metrics_line;
    r->deferred = true;
    r->status = 201;
    r->response = response;
    r->response_type = "application/json";
    return true;
}

bool mq_api_save_quote(mq_server *s, const char *line, int32_t effective, json_t *doc,
                       mq_store_quote *q, const char *response)
{
    char day[11];
    mq_api_prepare_quote(line, effective, doc, q, day, "", response);
    char err[256], *sealed = NULL;
    bool ok = mq_api_seal_quote(s, q, doc, &sealed) && mq_store_save(s->store, q, err, sizeof err);
    free(sealed); /* q's texts pointed into it */
    q->request = "";
    q->subject = q->key_id = NULL;
    if (ok)
        return true;
    return false; /* mq_api_save_failed logs why */
}

/* ---- Storage errors in the log -------------------------------------------- */

/* While the database is down every save fails (thousands a second): the
 * first failure is logged, then at most one line a second, saying how many
 * failed since the line before, so the log stays readable and no failure
 * goes uncounted. Failures left without a line when they stop are logged
 * by the next /healthz or /metrics a second on (log_store_flush). One per
 * process (there is one server), by kind. */
typedef struct log_limit {
    pthread_mutex_t lock;
    int64_t last_ns; /* when the last line was written; 0: never */
    long unlogged;   /* failures since then without a line */
    char why[256];   /* the reason of the last of them */
} log_limit;

static log_limit save_errors = {.lock = PTHREAD_MUTEX_INITIALIZER};
static log_limit read_errors = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Counts one failure (reason why); true when it gets a line, with the
 * failures since the last line that had none in *unlogged. */
static bool log_due(log_limit *l, const char *why, long *unlogged)
{
    int64_t now = mono_ns();
    pthread_mutex_lock(&l->lock);
    bool due = l->last_ns == 0 || now - l->last_ns >= 1000000000;
    if (due) {
        *unlogged = l->unlogged;
        l->unlogged = 0;
        l->last_ns = now;
    } else {
        l->unlogged++;
        snprintf(l->why, sizeof l->why, "%s", why);
    }
    pthread_mutex_unlock(&l->lock);
    return due;
}

/* Logs the failures of l still without a line, once a second has passed
 * since its last line: "N more since the last such line, the last: why". */
static void log_store_flush(log_limit *l, const char *event)
{
    char msg[400];
    int64_t now = mono_ns();
    pthread_mutex_lock(&l->lock);
    long n = l->unlogged;
    bool due = n > 0 && now - l->last_ns >= 1000000000;
    if (due) {
        snprintf(msg, sizeof msg, "%ld more since the last such line, the last: %s", n, l->why);
        l->unlogged = 0;
        l->last_ns = now;
    }
    pthread_mutex_unlock(&l->lock);
    if (due)
        mq_server_log_event(event, msg);
}

/* Logs `event` with `why` (a database's message: no request data is in
 * it), rate-limited by l. */
static void log_store_error(log_limit *l, const char *event, const char *why)
{
    long unlogged;
    if (!log_due(l, why, &unlogged))
        return;
    char msg[400];
    if (unlogged)
        snprintf(msg, sizeof msg, "%s (and %ld more since the last such line)", why, unlogged);
    else
        snprintf(msg, sizeof msg, "%s", why);
    mq_server_log_event(event, msg);
}

void mq_api_save_failed(mq_server *s, mq_http_req *r)
{
    mq_api_save_failed_id(s, r, NULL);
}

void mq_api_save_failed_id(mq_server *s, mq_http_req *r, const char *id)
{
    char why[256];
    if (mq_store_failed(s->store, why, sizeof why)) {
        /* once: the operator must see why every save is refused from now on */
        if (!atomic_exchange(&s->store_failure_logged, true))
            mq_server_log_event("store_failed", why);
    } else if (mq_store_last_error(s->store, why, sizeof why)) {
        /* a read-only file, a busy database, a database down... */
        log_store_error(&save_errors, "store_error", why);
    }
    if (mq_store_failed(s->store, NULL, 0)) {
        mq_api_error(r, 503, "storage_unavailable",
                     "the database refuses writes since a write to its disk failed or its file "
                     "was moved away; nothing was stored; the operator must fix it and restart "
                     "the server",
                     "");
    } else if (id && mq_store_outcome_unknown(s->store, id)) {
        /* the connection broke during COMMIT: it may have committed (the
         * text on the stack: server.c's deferred reply has no arena) */
        char msg[400];
        snprintf(msg, sizeof msg,
                 "the quote could not be confirmed as saved: the connection to the database was "
                 "lost while it was being committed, so it may or may not have been stored; GET "
                 "/v1/quotes/%s later says whether it was",
                 id);
        mq_api_error(r, 500, "storage_error", msg, "");
    } else if (!id && mq_store_outcome_unknown(s->store, NULL)) {
        mq_api_error(r, 500, "storage_error",
                     "the quote could not be saved, or it is not known whether it was (the "
                     "connection to the database was lost during a commit)",
                     "");
    } else {
        mq_api_error(r, 500, "storage_error", "the quote could not be saved; nothing was stored",
                     "");
    }
}

/* ---- Personal data at rest (src/privacy; docs/privacy.md) ---------------- */

bool mq_api_seal_quote(mq_server *s, mq_store_quote *q, json_t *doc, char **owned)
{
    *owned = NULL;
    mq_priv_sealed sealed;
    char err[256], key_id[16];
    const mq_priv_ring *keys = mq_server_keys(s);
    if (!keys)
        return false;
    if (!mq_priv_seal_json(keys, q->id, doc, &sealed, err, sizeof err))
        return false;
    size_t tlen = strlen(sealed.text) + 1, slen = strlen(sealed.subject) + 1;
    size_t klen = (size_t)snprintf(key_id, sizeof key_id, "%d", sealed.key_id) + 1;
    char *block = malloc(tlen + slen + klen);
    if (block) {
        memcpy(block, sealed.text, tlen);
        memcpy(block + tlen, sealed.subject, slen);
        memcpy(block + tlen + slen, key_id, klen);
        q->request = block;
        q->subject = slen > 1 ? block + tlen : NULL;
        q->key_id = block + tlen + slen;
        *owned = block;
    }
    mq_priv_sealed_free(&sealed);
    return block != NULL;
}

char *mq_api_open_request(mq_server *s, const mq_store_quote *q, char *err, size_t errlen)
{
    const mq_priv_ring *keys = mq_server_keys(s);
    if (!keys) {
        snprintf(err, errlen, "no key ring to open saved requests");
        return NULL;
    }
    return mq_priv_open(keys, q->id, q->request, err, errlen);
}

/* Counts each carrier's result of a `line` request and its answer time in
 * the metrics; true. */
static bool note_results(mq_server *s, mq_line line, const mq_result *res, int n)
{
    for (int i = 0; i < n; i++) {
        mq_server_note_carrier_time(s, res[i].carrier_id, res[i].elapsed_ns);
        atomic_fetch_add(&s->metrics.results[line][res[i].status], 1);
    }
    return true;
}

/* Whether this server compares a carrier with id `id` (as GET /v1/carriers
 * lists them): one the carrier registry names, or a local one with plans
 * that the registry does not leave out. */
static bool carrier_known(const mq_server *s, const mq_engine *e, const char *id)
{
    if (s->registry && mq_remote_registry_find(s->registry, id))
        return true;
    if (!mq_remote_rate_here(s->registry, id))
        return false;
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        mq_plan_info pi;
        mq_plan_get_info(mq_engine_plan(e, i), &pi);
        if (strcmp(pi.carrier_id, id) == 0)
            return true;
    }
    return false;
}

/* An id of `carriers` that no carrier has is bad input like any other, an
 * error at carriers[i], rather than a quote saved with an "error" result
 * (a typo, "sumit", would otherwise be answered 201). Checked once the
 * request is otherwise valid, as the reference data is. */
static int check_carriers(const mq_server *s, const mq_engine *e, const mq_input *in, mq_arena *a,
                          mq_req_errors *errs)
{
    int before = errs->count;
    for (int i = 0; i < in->ncarriers; i++) {
        if (carrier_known(s, e, in->carriers[i]))
            continue;
        if (errs->count < (int)(sizeof errs->items / sizeof errs->items[0])) {
            char q[160];
            mq_req_error *it = &errs->items[errs->count];
            it->path = mq_arena_printf(a, "carriers[%d]", i);
            it->message =
                mq_arena_printf(a, "no carrier with id %s", mq_req_quoted(in->carriers[i], q));
            if (!it->path || !it->message)
                return -1;
        }
        errs->count++;
    }
    return errs->count == before ? 1 : 0;
}

bool mq_api_carriers_known(mq_server *s, mq_http_req *r, const mq_engine *e, const mq_input *in,
                           int metrics_slot, const mq_acord *x)
{
    mq_req_errors errs = {0};
    int known = check_carriers(s, e, in, &r->arena, &errs);
    if (known > 0)
        return true;
    if (known < 0) {
        mq_api_error(r, 500, "internal", "out of memory", "");
        return false;
    }
    if (x)
        mq_acord_xpaths(x, &errs, &r->arena);
    atomic_fetch_add(&s->metrics.quotes[metrics_slot][1], 1);
    mq_api_invalid(r, &errs);
    return false;
}

/* POST /v1/quotes with "line": "bundle" (docs/bundles.md). */
static void post_bundle(mq_server *s, mq_http_req *r, json_t *doc)
{
    mq_bundle_input b;
    mq_req_errors errs = {0};
    int checked = 1; /* src/intake, on each part: VIN, state minimums, ZIP codes */
    if (!mq_req_bundle_from_json(doc, &r->arena, &b, &errs) ||
        (checked = mq_api_intake_check(r, doc, &errs)) <= 0) {
        if (checked < 0)
            return; /* the reply is set */
        if (errs.count) {
            atomic_fetch_add(&s->metrics.quotes[MQ_METRIC_BUNDLE][1], 1);
            mq_api_invalid(r, &errs);
        } else {
            mq_api_error(r, 500, "internal", "out of memory", "");
        }
        return;
    }
    mq_engine_ref *ref = mq_server_engine_acquire(s);
    mq_bundle_result br;
    mq_store_quote q = {0};
    char *text = NULL;
    if (!mq_api_carriers_known(s, r, ref->engine, &b.auto_in, MQ_METRIC_BUNDLE, NULL))
        goto done;
    /* the registry's selection of local carriers, as for one line */
    mq_rate_opts opts = {.rate_here = mq_remote_rate_here,
                         .asked_elsewhere = mq_remote_asked_elsewhere,
                         .carrier_arg = s->registry};
    if (!mq_bundle_rate_with(ref->engine, &b, &opts, &r->arena, &br) ||
        !note_results(s, MQ_LINE_AUTO, br.auto_res, br.nauto) ||
        !note_results(s, b.property_line, br.property_res, br.nproperty) || !mq_store_new_id(&q) ||
        !(text = mq_resp_bundle_text(&b, &br, &(mq_resp_meta){q.id, q.created_at}))) {
        mq_api_error(r, 500, "internal", "out of memory", "");
        goto done;
    }
    if (r->can_defer) { /* saved by server.c while the connection waits */
        mq_api_defer_quote(s, r, "bundle", b.auto_in.effective_date, doc, &q, text,
                           MQ_METRIC_BUNDLE);
        text = NULL;
        goto done;
    }
    if (!mq_api_save_quote(s, "bundle", b.auto_in.effective_date, doc, &q, text)) {
        mq_api_save_failed_id(s, r, q.id);
        goto done;
    }
    atomic_fetch_add(&s->metrics.quotes[MQ_METRIC_BUNDLE][0], 1);
    r->status = 201;
    r->response = text;
    text = NULL;
    r->response_len = strlen(r->response);
    r->response_type = "application/json";
    r->location = mq_arena_printf(&r->arena, "/v1/quotes/%s", q.id);
done:
    free(text);
    mq_server_engine_release(s, ref);
}

static void post_quote(mq_server *s, mq_http_req *r)
{
    r->route = ROUTE_QUOTES_POST;
    if (strcmp(r->method, "POST") != 0) {
        method_not_allowed(r, "POST");
        return;
    }
    static const char *const params[] = {"deadline_ms", NULL};
    if (!mq_api_query_known(r, params))
        return;
    int deadline; /* checked whether or not a remote carrier is asked */
    json_t *doc = mq_api_deadline(s, r, &deadline) ? mq_api_read_json(r) : NULL;
    if (!doc)
        return;
    if (mq_req_is_bundle(doc)) {
        post_bundle(s, r, doc);
        json_decref(doc);
        return;
    }
    mq_input in;
    mq_req_errors errs = {0};
    mq_engine_ref *ref = NULL;
    int checked = 1; /* src/intake: VIN, state minimums, ZIP codes */
    if (!mq_req_from_json(doc, &r->arena, &in, &errs) ||
        (checked = mq_api_intake_check(r, doc, &errs)) <= 0) {
        if (checked < 0)
            goto done; /* the reply is set */
        if (errs.count) {
            atomic_fetch_add(&s->metrics.quotes[mq_metrics_line_slot(doc)][1], 1);
            mq_api_invalid(r, &errs);
        } else {
            mq_api_error(r, 500, "internal", "out of memory", "");
        }
        goto done;
    }
    ref = mq_server_engine_acquire(s);
    if (!mq_api_carriers_known(s, r, ref->engine, &in, in.line, NULL))
        goto done;
    mq_result *res;
    int n;
    mq_rate_opts opts = {.rate_here = mq_remote_rate_here,
                         .asked_elsewhere = mq_remote_asked_elsewhere,
                         .carrier_arg = s->registry};
    if (!mq_rate_all(ref->engine, &in, &opts, &r->arena, &res, &n)) {
        mq_api_error(r, 500, "internal", "out of memory", "");
        goto done;
    }
    note_results(s, in.line, res, n);
    /* remote carriers, or an event stream: finished off this thread */
    if (mq_api_fanout(s, r, doc, &in, res, n, &ref))
        goto done;
    mq_store_quote q = {0};
    if (!mq_store_new_id(&q)) {
        mq_api_error(r, 500, "internal", "no randomness for a quote id", "");
        goto done;
    }
    mq_tip_minimums mins;
    mq_tip_list tips;
    char *text = mq_resp_tip_list(ref->engine, &in, res, n, mq_state_tip_minimums(&in, &mins),
                                  &r->arena, &tips)
                     ? mq_resp_text(&in, res, n, &(mq_resp_meta){q.id, q.created_at, true}, &tips)
                     : NULL;
    if (!text) {
        mq_api_error(r, 500, "internal", "out of memory", "");
        goto done;
    }
    if (r->can_defer) {
        /* server.c saves it while the connection waits; sealed here, from
         * the tree already parsed rather than from the text again */
        mq_api_prepare_quote(mq_line_get(in.line)->name, in.effective_date, doc, &q, r->save_day,
                             r->body, text);
        if (!mq_api_seal_quote(s, &q, doc, &r->save_sealed)) {
            free(text);
            mq_api_save_failed(s, r);
            goto done;
        }
        r->save_q = q;
        r->save_line = in.line;
        r->deferred = true;
    } else if (!mq_api_save_quote(s, mq_line_get(in.line)->name, in.effective_date, doc, &q,
                                  text)) {
        free(text);
        mq_api_save_failed_id(s, r, q.id);
        goto done;
    }
    if (!r->deferred)
        atomic_fetch_add(&s->metrics.quotes[in.line][0], 1);
    r->status = 201;
    r->response = text;
    r->response_type = "application/json";
    if (!r->deferred) { /* a deferred answer is sent by server.c, which knows these */
        r->response_len = strlen(text);
        r->location = mq_arena_printf(&r->arena, "/v1/quotes/%s", q.id);
    }
done:
    if (ref)
        mq_server_engine_release(s, ref);
    json_decref(doc);
}

/* ---- GET /v1/quotes/{id}[/worksheet/{carrier}] ---------------------------- */

/* Loads quote `id`; on failure sets the error reply and returns false. */
static bool load_quote(mq_server *s, mq_http_req *r, const char *id, mq_store_loaded *l)
{
    char err[256];
    int found = mq_store_get(s->store, id, l, err, sizeof err);
    if (found < 0) {
        log_store_error(&read_errors, "store_read_error", err); /* never the quote's data */
        mq_api_error(r, 500, "storage_error", "the quote could not be read", "");
        return false;
    }
    if (found == 0) {
        mq_api_error(r, 404, "not_found", "no quote with this id", "");
        return false;
    }
    return true;
}

static void get_quote(mq_server *s, mq_http_req *r, const char *id)
{
    r->route = ROUTE_QUOTE_GET;
    if (!mq_api_only_get(r))
        return;
    mq_store_loaded l;
    if (!load_quote(s, r, id, &l))
        return;
    r->status = 200;
    r->response = strdup(l.q.response);
    r->response_len = r->response ? strlen(r->response) : 0;
    r->response_type = "application/json";
    mq_store_loaded_free(&l);
    if (!r->response)
        mq_api_error(r, 500, "internal", "out of memory", "");
}

/* Whether re-rating gave what the quote saved: the status and, quoted,
 * the total (for health the gross premium); for a health quote that
 * recorded its market, the tax credit too (the worksheet's last steps). */
static bool same_outcome(const mq_saved_result *row, const mq_result *res)
{
    if (strcmp(row->status, mq_status_name(res->status)) != 0)
        return false;
    if (res->status != MQ_QUOTED)
        return true;
    if (res->total_cents != row->total_cents)
        return false;
    return !*row->market_id || row->credit_cents < 0 || res->credit_cents == row->credit_cents;
}

/* An amount as the 409 below says it: "714.00", or `status` when there
 * is none (cents < 0). */
static void outcome_text(int64_t cents, const char *status, char *out, size_t cap)
{
    if (cents >= 0)
        snprintf(out, cap, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
    else
        snprintf(out, cap, "%s", status);
}

/* Why a health result's credit moved, from what the quote recorded: the
 * market whose rules worked it out (`now`: the benchmark the market set on
 * the result re-rated, NULL with no market in effect), then the benchmark
 * plan `bench` it came from, or that both are as then; NULL when memory
 * ran out. */
static const char *credit_cause(mq_arena *a, const mq_saved_result *row, const mq_benchmark *now,
                                const mq_benchmark *bench)
{
    if (!now || !now->market_id)
        return mq_arena_printf(a,
                               "market %s is no longer loaded, and none is in effect on the "
                               "quote's date",
                               row->market_id);
    if (strcmp(now->market_id, row->market_id) != 0) /* its own is no longer loaded */
        return mq_arena_printf(a,
                               "market %s is no longer loaded; market %s applies on the "
                               "quote's date",
                               row->market_id, now->market_id);
    if (!mq_resp_digest_same(row->market_digest, now->market_digest))
        return mq_arena_printf(a,
                               "market %s (market.yaml) was changed after the quote (digest "
                               "then %s, now %.*s)",
                               row->market_id, row->market_digest, (int)strlen(row->market_digest),
                               now->market_digest);
    mq_plan_info bi;
    if (bench && bench->plan && *row->benchmark_digest) {
        mq_plan_get_info(bench->plan, &bi);
        if (!mq_resp_digest_same(row->benchmark_digest, bi.digest))
            return mq_arena_printf(a,
                                   "benchmark plan %s version %s was changed after the quote "
                                   "(digest then %s, now %.*s)",
                                   row->benchmark_plan_id, row->benchmark_version,
                                   row->benchmark_digest, (int)strlen(row->benchmark_digest),
                                   bi.digest);
    }
    return "its market and benchmark plan are the same as then (this program works the credit "
           "out differently)";
}

/* Why plan version `p` no longer gives the quote's price, from the digest
 * the quote recorded of its files: they were edited in place since (its id
 * and version are the same, its rates not), or they are the same and this
 * program rates differently; a quote saved before digests were recorded
 * cannot tell which. NULL when memory ran out. */
static const char *plan_cause(mq_arena *a, const mq_saved_result *row, const mq_plan *p)
{
    mq_plan_info pi;
    mq_plan_get_info(p, &pi);
    if (!*row->digest)
        return "its files were changed since the quote (or this program rates differently)";
    if (!mq_resp_digest_same(row->digest, pi.digest))
        return mq_arena_printf(a,
                               "its files were changed after the quote (digest then %s, now %.*s)",
                               row->digest, (int)strlen(row->digest), pi.digest);
    return mq_arena_printf(a,
                           "its files are the same as then (digest %s): this program rates "
                           "differently",
                           row->digest);
}

/* The 409 itself: what differs, why, and what it means; 500 when memory
 * ran out writing it. */
static void refuse(mq_http_req *r, const mq_saved_result *row, const char *what, const char *why)
{
    const char *msg =
        what && why ? mq_arena_printf(&r->arena,
                                      "plan %s version %s now %s: %s, so its steps would explain "
                                      "another price; multiquote requote tells more",
                                      row->plan_id, row->version, what, why)
                    : NULL;
    if (msg)
        mq_api_error(r, 409, "not_reproduced", msg, "");
    else
        mq_api_error(r, 500, "internal", "out of memory", "");
}

/* 409 for a worksheet that would explain another price than the quote's:
 * another status or total, or for a health quote another tax credit (its
 * market or benchmark plan `bench` changed since), named with its cause. */
static void refuse_other_price(mq_http_req *r, const mq_saved_result *row, const mq_result *res,
                               const mq_plan *p, const mq_benchmark *bench)
{
    char now[64], then[64];
    bool total_same = res->status == MQ_QUOTED && strcmp(row->status, "quoted") == 0 &&
                      res->total_cents == row->total_cents;
    if (total_same) { /* a health quote's credit moved */
        outcome_text(res->credit_cents, "", now, sizeof now);
        outcome_text(row->credit_cents, "", then, sizeof then);
        refuse(
            r, row,
            mq_arena_printf(&r->arena, "gets a tax credit of %s where the quote has %s", now, then),
            credit_cause(&r->arena, row, res->benchmark, bench));
        return;
    }
    outcome_text(res->status == MQ_QUOTED ? res->total_cents : -1, mq_status_name(res->status), now,
                 sizeof now);
    outcome_text(row->total_cents, row->status, then, sizeof then);
    refuse(r, row, mq_arena_printf(&r->arena, "gives %s where the quote has %s", now, then),
           plan_cause(&r->arena, row, p));
}

/* What the i-th coverage entry of the re-rated result `res` gives where
 * the saved one (`then`, NULL past its last) gave another premium: "gives
 * the quote's total, but bi on v1 230.00 where the quote has 225.00". */
static const char *coverage_text(mq_arena *a, const mq_input *in, const mq_result *res,
                                 json_t *then, size_t i)
{
    const mq_line_def *l = mq_line_get(in->line);
    json_t *was = json_object_get(then, "premium");
    const mq_cov_premium *cp = i < (size_t)res->ncoverages ? &res->coverages[i] : NULL;
    const char *code = json_string_value(json_object_get(then, "code"));
    if (!cp || !json_is_number(was) || !code || strcmp(code, l->coverages[cp->coverage].code) != 0)
        return "gives the quote's total, but other coverages than the quote's";
    const char *unit = l->unit != MQ_ENT_POLICY ? in->ids[l->unit][cp->unit] : NULL;
    char now_t[64], then_t[64];
    outcome_text(cp->cents, "", now_t, sizeof now_t);
    outcome_text(llround(json_number_value(was) * 100), "", then_t, sizeof then_t);
    return mq_arena_printf(a, "gives the quote's total, but %s%s%s %s where the quote has %s",
                           l->coverages[cp->coverage].code, unit ? " on " : "", unit ? unit : "",
                           now_t, then_t);
}

/* What the re-rated result gives where the saved one gave something else
 * of substance (`d`, the first such difference, mq_resp_compare): a
 * coverage's premium by coverage_text, anything else by its path: "gives
 * the quote's total, but fees[0].amount 18.0 where the quote has 18.01"
 * (the quote's status, for a result not quoted). NULL when memory ran out. */
static const char *substance_text(mq_arena *a, const mq_input *in, const mq_result *res,
                                  json_t *then, const mq_resp_diff *d)
{
    char *end = NULL;
    size_t i = strncmp(d->path, "coverages[", 10) == 0 ? strtoul(d->path + 10, &end, 10) : 0;
    if (end && strcmp(end, "].premium") == 0)
        return coverage_text(a, in, res, json_array_get(json_object_get(then, "coverages"), i), i);
    const char *was, *now;
    if (!mq_resp_diff_texts(d->then, d->now, 80, a, &was, &now))
        return NULL;
    return mq_arena_printf(a, "gives the quote's %s, but %s %s where the quote has %s",
                           res->status == MQ_QUOTED ? "total" : "status", d->path, now, was);
}

/* For a quote that recorded its digests, whose re-rated result `res` has
 * its status and total: whether everything else the quote promised is as
 * saved too, compared as requote compares it (mq_resp_compare: each
 * coverage's premium and limits, the fees' amounts, the reasons...; not
 * the wording, nor a member the saved result lacks). When it is not, the
 * 409 naming the first difference is set and false returned. A quote
 * saved before digests were recorded opens as it always did. */
static bool same_substance(mq_http_req *r, const char *response, const mq_saved_result *row,
                           const mq_input *in, const mq_result *res, const mq_plan *p)
{
    if (!*row->digest)
        return true;
    json_t *doc = json_loads(response, 0, NULL), *now = mq_resp_result(in, res);
    json_t *then = mq_resp_saved_object(doc, row->carrier, row->plan_id);
    mq_resp_diffs d;
    bool ok = doc && now && mq_resp_compare(then, now, &r->arena, &d);
    const mq_resp_diff *first = ok ? mq_resp_first_substance(&d) : NULL;
    const char *what = first ? substance_text(&r->arena, in, res, then, first) : NULL;
    if (!ok || (first && !what))
        mq_api_error(r, 500, "internal", "out of memory", "");
    else if (first)
        refuse(r, row, what, plan_cause(&r->arena, row, p));
    json_decref(now);
    json_decref(doc);
    return ok && !first;
}

/* 409 for a saved quote whose plan version or, for health, benchmark plan
 * version (`benchmark`) is not among the plans loaded now: named, so that
 * an operator knows which version folder to restore. */
static void version_missing(mq_http_req *r, bool benchmark, const char *plan_id,
                            const char *version)
{
    const char *msg = mq_arena_printf(
        &r->arena,
        benchmark ? "the benchmark plan version this quote's tax credit used (plan %s "
                    "version %s) is no longer loaded"
                  : "the plan version this quote used (plan %s version %s) is no "
                    "longer loaded",
        plan_id, version);
    if (msg)
        mq_api_error(r, 409, "plan_version_missing", msg, "");
    else
        mq_api_error(r, 500, "internal", "out of memory", "");
}

static void get_worksheet(mq_server *s, mq_http_req *r, const char *id, const char *carrier)
{
    r->route = ROUTE_WORKSHEET;
    if (!mq_api_only_get(r))
        return;
    mq_store_loaded l;
    if (!load_quote(s, r, id, &l))
        return;
    if (strcmp(l.q.line, "bundle") == 0) {
        mq_api_error(r, 404, "not_found",
                     "a bundle quote has no single worksheet: quote its auto or home part alone",
                     "");
        mq_store_loaded_free(&l);
        return;
    }
    /* {carrier} is a carrier id, or a plan id where an issuer answered with
     * several plans (health); the saved response says which version rated it */
    mq_saved_result *saved = NULL;
    int nsaved = mq_resp_saved_results(l.q.response, &r->arena, &saved);
    const mq_saved_result *row = NULL;
    int by_carrier = 0;
    for (int i = 0; i < nsaved && !row; i++)
        if (strcmp(saved[i].plan_id, carrier) == 0)
            row = &saved[i];
    for (int i = 0; i < nsaved && !row; i++)
        by_carrier += strcmp(saved[i].carrier, carrier) == 0;
    for (int i = 0; i < nsaved && !row && by_carrier == 1; i++)
        if (strcmp(saved[i].carrier, carrier) == 0)
            row = &saved[i];
    mq_engine_ref *ref = NULL;
    const mq_plan *plan = NULL;
    mq_benchmark bench; /* health: the benchmark the quote recorded */
    int recorded = 0;
    mq_input in;
    mq_req_errors errs = {0};
    char *request = NULL, err[256];
    if (!row && by_carrier > 1) {
        mq_api_error(r, 404, "not_found",
                     "that carrier answered with several plans: name one by its plan id", "");
    } else if (!row) {
        mq_api_error(r, 404, "not_found", "this quote has no result from that carrier", "");
    } else if (row->remote) {
        /* its plan is the carrier's own: rating it with a local plan of the
         * same id (or answering "no longer loaded") would explain a price
         * this server never worked out. The saved quote says so, whatever
         * the registry says today (the carrier may have left it since, or
         * a carrier then rated here may be asked remotely now) */
        mq_api_error(r, 404, "not_found",
                     "that carrier is a remote one, which rated the quote itself: its steps are "
                     "not known here",
                     "");
    } else if (!*row->plan_id) {
        mq_api_error(r, 404, "not_found", "that carrier had no plan for this request", "");
    } else if (!(ref = mq_server_engine_acquire(s)) ||
               !(plan = mq_engine_find_version(ref->engine, row->plan_id, row->version))) {
        version_missing(r, false, row->plan_id, row->version);
    } else if ((recorded = mq_resp_saved_benchmark(ref->engine, row, &bench)) < 0) {
        version_missing(r, true, row->benchmark_plan_id, row->benchmark_version);
    } else if (!(request = mq_api_open_request(s, &l.q, err, sizeof err))) {
        mq_api_error(r, 500, "sealed_data", err, "");
    } else if (!mq_req_parse(request, strlen(request), &r->arena, &in, &errs)) {
        /* saved by a program whose checks were looser: the quote stands,
         * but today's engine cannot take its request to work the steps out.
         * The answer names the field, not the check's message, which may
         * quote the saved value (a birth date) to whoever holds the id;
         * `multiquote requote` tells the operator the whole of it */
        if (errs.count == 0)
            mq_api_error(r, 500, "internal", "out of memory", "");
        else
            mq_api_error(r, 409, "request_outdated",
                         mq_arena_printf(&r->arena,
                                         "the saved request no longer passes this program's "
                                         "checks (at %s), so its worksheet cannot be worked out "
                                         "again",
                                         *errs.items[0].path ? errs.items[0].path : "the top"),
                         "");
    } else {
        /* the market's rules too (a health plan's tax credit, from the
         * benchmark plan version the quote recorded), as requote applies
         * them, so the worksheet goes on from the gross premium to the net
         * one; a quote saved before benchmarks were recorded gets its
         * benchmark chosen from the plans in effect, as it always did */
        mq_result res;
        if (!mq_rate_plan(plan, &in, &(mq_rate_opts){.worksheet = true}, &r->arena, &res) ||
            !mq_rate_market_given(ref->engine, &in, recorded > 0 ? &bench : NULL, &res, 1,
                                  &r->arena))
            mq_api_error(r, 500, "internal", "out of memory", "");
        else if (!same_outcome(row, &res))
            refuse_other_price(r, row, &res, plan, recorded > 0 ? &bench : NULL);
        else if (same_substance(r, l.q.response, row, &in, &res, plan))
            reply_json(r, 200, mq_resp_worksheet(&in, &res));
    }
    if (ref)
        mq_server_engine_release(s, ref);
    free(request);
    mq_store_loaded_free(&l);
}

static void quote_routes(mq_server *s, mq_http_req *r)
{
    const char *rest = r->path + strlen("/v1/quotes/");
    const char *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    char id[MQ_STORE_ID_LEN + 1];
    r->route = ROUTE_QUOTE_GET;
    if (!mq_store_id_valid(rest, idlen)) {
        mq_api_error(r, 404, "not_found", "no quote with this id", "");
        return;
    }
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    if (!slash) {
        get_quote(s, r, id);
        return;
    }
    const char *ws = "/worksheet/";
    if (strncmp(slash, ws, strlen(ws)) == 0 && slash[strlen(ws)] &&
        !strchr(slash + strlen(ws), '/')) {
        get_worksheet(s, r, id, slash + strlen(ws));
        return;
    }
    mq_api_error(r, 404, "not_found", "no such resource", "");
}

/* ---- Catalog, health, metrics --------------------------------------------- */

/* Each plan's digest of its files, so an operator can see that nodes agree,
 * and whether this build rates it compiled into C (native.c). */
static void add_digests(const mq_engine *e, json_t *doc)
{
    json_t *plans = json_object_get(doc, "plans");
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        const mq_plan *p = mq_engine_plan(e, i);
        mq_plan_info pi;
        mq_plan_get_info(p, &pi);
        json_t *plan = json_array_get(plans, (size_t)i);
        json_object_set_new(plan, "digest", json_string(pi.digest));
        json_object_set_new(plan, "compiled", json_boolean(mq_plan_native(p)));
    }
}

static void get_catalog(mq_server *s, mq_http_req *r, bool carriers)
{
    r->route = carriers ? ROUTE_CARRIERS : ROUTE_PLANS;
    if (!mq_api_only_get(r))
        return;
    mq_engine_ref *ref = mq_server_engine_acquire(s);
    json_t *doc = carriers ? mq_resp_carriers(ref->engine) : mq_resp_plans(ref->engine);
    if (doc && carriers)
        mq_api_remote_catalog(s, doc);
    if (doc && !carriers)
        add_digests(ref->engine, doc);
    if (doc)
        json_object_set_new(doc, "loaded_at", json_string(ref->loaded_at));
    mq_server_engine_release(s, ref);
    reply_json(r, 200, doc);
}

/* What /healthz tells anyone of a store that cannot save: a fixed text by
 * kind, never the store's own words, which quote the database's error (a
 * file path, a PostgreSQL host and port, its user). Those go to the log
 * (log_health_problem). Only a hang's text passes as it is: it holds a
 * duration and nothing else. */
enum { HEALTH_OK, HEALTH_FAILED, HEALTH_HANGS, HEALTH_UNREACHABLE };

static const char HANG_PREFIX[] = "the database has not answered for ";

static int health_kind(mq_server *s, const mq_store_health_info *h)
{
    if (h->ok)
        return HEALTH_OK;
    if (mq_store_failed(s->store, NULL, 0))
        return HEALTH_FAILED;
    if (strncmp(h->problem, HANG_PREFIX, sizeof HANG_PREFIX - 1) == 0)
        return HEALTH_HANGS;
    return HEALTH_UNREACHABLE; /* and any problem not known here: said neutrally */
}

static const char *public_problem(int kind, const mq_store_health_info *h)
{
    switch (kind) {
    case HEALTH_FAILED:
        return "the database refuses writes since a write to its disk failed or its file was "
               "moved away; the operator must fix it and restart the server (the server's log "
               "says why)";
    case HEALTH_HANGS:
        return h->problem;
    default:
        return "the database cannot be reached (the server's log says why)";
    }
}

/* The store's own words for the operator: logged when the kind of problem
 * changes, and again at most once a minute while it lasts (a load
 * balancer probes every few seconds); and once when it is over
 * (health_ok), so that the log says when the node could save again. */
static void log_health_problem(int kind, const mq_store_health_info *h)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int last_kind = HEALTH_OK;
    static int64_t last_ns;
    int64_t now = mono_ns();
    pthread_mutex_lock(&lock);
    bool due = kind != HEALTH_OK && (kind != last_kind || now - last_ns >= 60 * 1000000000LL);
    bool over = kind == HEALTH_OK && last_kind != HEALTH_OK;
    if (due || kind == HEALTH_OK) {
        last_kind = kind;
        last_ns = now;
    }
    pthread_mutex_unlock(&lock);
    if (due)
        mq_server_log_event("health_failing", h->problem);
    if (over)
        mq_server_log_event("health_ok", "the node can save quotes again");
}

static void get_health(mq_server *s, mq_http_req *r)
{
    r->route = ROUTE_HEALTH;
    if (!mq_api_only_get(r))
        return;
    log_store_flush(&save_errors, "store_error");
    log_store_flush(&read_errors, "store_read_error");
    mq_engine_ref *ref = mq_server_engine_acquire(s);
    int plans = mq_engine_plan_count(ref->engine);
    /* the store's last news of the database, never a query here: a probe
     * answers at once, even when the database hangs */
    mq_store_health_info h;
    mq_store_health(s->store, &h);
    json_t *doc = json_pack("{s:s, s:i, s:s}", "status", h.ok ? "ok" : "failing", "plans", plans,
                            "plans_loaded_at", ref->loaded_at);
    mq_server_engine_release(s, ref);
    if (doc && h.quotes >= 0)
        json_object_set_new(doc, "quotes_saved", json_integer(h.quotes));
    /* a load balancer takes a node that cannot save quotes out of service */
    int kind = health_kind(s, &h);
    log_health_problem(kind, &h);
    if (doc && !h.ok)
        json_object_set_new(doc, "problem", json_string(public_problem(kind, &h)));
    reply_json(r, h.ok ? 200 : 503, doc);
}

static void get_metrics(mq_server *s, mq_http_req *r)
{
    r->route = ROUTE_METRICS;
    if (!mq_api_only_get(r))
        return;
    log_store_flush(&save_errors, "store_error");
    log_store_flush(&read_errors, "store_read_error");
    r->response = mq_metrics_text(s);
    if (!r->response) {
        mq_api_error(r, 500, "internal", "out of memory", "");
        return;
    }
    r->status = 200;
    r->response_len = strlen(r->response);
    r->response_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* Whether the n bytes at p could be a route's path: one of the fixed
 * ones, or a quote's, a VIN's or a carrier endpoint's with its variable
 * part. */
static bool route_path(const char *p, size_t n)
{
    static const char *const fixed[] = {"/v1/quotes", "/v1/carriers",     "/v1/plans", "/v1/states",
                                        "/v1/acord",  "/v1/openapi.yaml", "/healthz",  "/metrics"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strlen(fixed[i]) == n && strncmp(fixed[i], p, n) == 0)
            return true;
    static const char *const under[] = {"/v1/quotes/", "/v1/vin/", "/v1/carrier/"};
    for (size_t i = 0; i < sizeof under / sizeof under[0]; i++)
        if (n > strlen(under[i]) && strncmp(under[i], p, strlen(under[i])) == 0)
            return true;
    return false;
}

/* A route's path with a trailing '/' is no route (POST /v1/quotes/ was
 * answered "no quote with this id", GET /v1/carriers/ "no such
 * resource"): the 404 says what to send instead, to a client whose base
 * URL ends in '/'. */
static bool trailing_slash(mq_http_req *r)
{
    size_t n = strlen(r->path);
    if (n < 2 || r->path[n - 1] != '/')
        return false;
    while (n > 1 && r->path[n - 1] == '/')
        n--;
    if (!route_path(r->path, n))
        return false;
    mq_api_error(r, 404, "not_found",
                 mq_arena_printf(&r->arena,
                                 "no such resource: no route's path ends with \"/\" (send %.*s)",
                                 (int)n, r->path),
                 "");
    return true;
}

void mq_api_handle(mq_server *s, mq_http_req *r)
{
    const char *p = r->path;
    if (trailing_slash(r))
        return;
    if (strcmp(p, "/v1/quotes") == 0)
        post_quote(s, r);
    else if (strncmp(p, "/v1/quotes/", 11) == 0)
        quote_routes(s, r);
    else if (strncmp(p, "/v1/carrier/", 12) == 0)
        mq_api_carrier_rate(s, r);
    else if (strcmp(p, "/v1/carriers") == 0)
        get_catalog(s, r, true);
    else if (strcmp(p, "/v1/plans") == 0)
        get_catalog(s, r, false);
    else if (strncmp(p, "/v1/vin/", 8) == 0 || !strcmp(p, "/v1/states") || !strcmp(p, "/v1/acord"))
        mq_api_intake(s, r);
    else if (strcmp(p, "/healthz") == 0)
        get_health(s, r);
    else if (strcmp(p, "/metrics") == 0)
        get_metrics(s, r);
    else
        mq_api_error(r, 404, "not_found", "no such resource", "");
}
