/* server.h -- the quote server (prefix mq_server_ / mq_http_).
 *
 * `multiquote serve` runs an HTTP server (libmicrohttpd) that answers the
 * JSON API of ../shared/contract.md, keeps every quote in the store, and
 * serves the shopper's web page. server.c owns the daemon, the lifecycle
 * (SIGTERM drains in-flight requests, SIGHUP reloads plans) and the plumbing
 * (bodies, limits, errors, access log, metrics); api.c answers each route.
 */
#ifndef MQ_SERVER_H
#define MQ_SERVER_H

#include "engine.h"
#include "model.h"
#include "remote.h"
#include "store.h"

#include "ratelimit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

/* Limits that keep hostile or broken clients from exhausting the server
 * (`multiquote serve --help` lists the options that set them). */
typedef struct mq_server_limits {
    unsigned max_connections;   /* open connections in all (--max-connections) */
    unsigned max_per_ip;        /* open connections per client address; 0: no cap */
    unsigned idle_timeout_s;    /* a connection silent this long is closed */
    unsigned request_timeout_s; /* a request's headers and body must arrive within this */
    unsigned drain_s;           /* on SIGTERM, for requests in flight; then remote calls are cut */
    /* a quote whose commit has not ended this long after it was handed to
     * the store is answered 503 storage_timeout (it may still be saved);
     * 0: it waits for the store however long that takes */
    unsigned save_timeout_s;
    size_t max_body;         /* bytes of request body (413) */
    size_t max_header_bytes; /* bytes of request line and headers (431) */
    unsigned max_headers;    /* number of header fields (431) */
    size_t max_url;          /* bytes of path and query (414) */
    double rate, burst;      /* API requests per second per client, and bursts; 0: off */
    const char *trust_proxy; /* X-Forwarded-For is believed from this address only */
} mq_server_limits;

/* The defaults: 1000 connections, 200 per address, 30 s idle, 60 s per
 * request, 10 s to drain, 10 s for a quote's save, 1 MiB body, 16 KiB and
 * 100 headers, 2 KiB URL, 20 API requests
 * per second per client with bursts of 60, no trusted proxy. */
void mq_server_limits_default(mq_server_limits *l);

typedef struct mq_server_config {
    int port; /* 0: any free port (the "listening" line names the one taken) */
    /* the address to listen on, as inet_ntop writes it (no brackets):
     * "127.0.0.1" (default), "0.0.0.0" (every IPv4 interface), an IPv6
     * address such as "::1", or "::" (every interface, IPv4 too) */
    const char *bind;
    const char *plans_dir;
    const char *db_path;
    const char *web_dir;
    const char *openapi_path;
    int threads;          /* 0: one per core */
    const char *key_file; /* keys sealing personal data (NULL: MQ_KEY, else var/multiquote.key) */
    mq_server_limits limits;
    const char *carriers_path; /* carriers.yaml (remote carriers), or NULL */
} mq_server_config;

/* Runs until SIGTERM or SIGINT; returns the process exit status. */
int mq_server_run(const mq_server_config *cfg);

/* ---- What api.c sees of the server ---------------------------------- */

/* The live plans, shared by requests and swapped by a reload. */
typedef struct mq_engine_ref {
    mq_engine *engine;
    int refs;
    char loaded_at[24];
} mq_engine_ref;

enum { MQ_LAT_BUCKETS = 12, MQ_CARRIER_BUCKETS = 12 };
/* upper bounds (seconds) of the per-carrier latency histogram */
extern const double mq_carrier_bucket_bounds[MQ_CARRIER_BUCKETS];

/* Routes, for metrics labels. */
typedef enum {
    ROUTE_QUOTES_POST,
    ROUTE_QUOTE_GET,
    ROUTE_WORKSHEET,
    ROUTE_CARRIERS,
    ROUTE_PLANS,
    ROUTE_HEALTH,
    ROUTE_METRICS,
    ROUTE_OPENAPI,
    ROUTE_PAGE,
    ROUTE_STATIC,
    ROUTE_VIN,    /* api_intake.c */
    ROUTE_STATES, /* api_intake.c */
    ROUTE_ACORD,  /* api_intake.c */
    ROUTE_OTHER,
    ROUTE_COUNT
} mq_route;

/* mq_metrics.quotes counts requests by line, and bundles and requests
 * whose "line" names none (refused as invalid) in slots of their own. */
enum { MQ_METRIC_BUNDLE = MQ_LINE_COUNT, MQ_METRIC_NO_LINE, MQ_METRIC_LINES };

enum { MQ_OLD_KEY_RINGS = 64 }; /* key rings SIGHUP may replace before a restart */
/* carriers /metrics times (mq_carrier_rating_seconds): every carrier of the
 * plans and of a registry of a thousand; the server is static, so slots
 * never used cost no memory */
enum { MQ_METRIC_CARRIERS = 4096 };

typedef struct mq_metrics {
    atomic_long requests[ROUTE_COUNT][6]; /* by status class 1xx..5xx (index 1-5) */
    atomic_long latency[ROUTE_COUNT][MQ_LAT_BUCKETS + 1];
    atomic_long latency_sum_us[ROUTE_COUNT];
    atomic_long quotes[MQ_METRIC_LINES][2]; /* [line][0 saved, 1 invalid] */
    atomic_long results[MQ_LINE_COUNT][5];  /* by mq_status */
    /* per-carrier answer time (a local plan's rating, or a remote carrier's
     * call), by carrier slot (ids kept in carrier_ids): a histogram. Room
     * for MQ_METRIC_CARRIERS carriers (plans and registry together); a
     * carrier beyond is logged once, never silently left out */
    atomic_long carrier_ns[MQ_METRIC_CARRIERS], carrier_count[MQ_METRIC_CARRIERS];
    atomic_long carrier_hist[MQ_METRIC_CARRIERS][MQ_CARRIER_BUCKETS + 1];
    const char *carrier_ids[MQ_METRIC_CARRIERS];
    atomic_int ncarriers;
    atomic_bool carriers_full; /* the "carrier metrics full" line was logged */
    atomic_long reloads_ok, reloads_failed;
    atomic_bool reload_failing; /* the last SIGHUP reload failed (old plans in use) */
    /* hardening: requests refused by the per-client limit, and slow
     * requests cut by the connection watch */
    atomic_long rate_limited, slow_requests_cut;
    /* quotes answered 503 at --save-timeout, and how the saves of those
     * ended later: [0] stored, [1] not (server.c, "Save deadlines") */
    atomic_long save_timeouts, late_saves[2];
    atomic_long per_ip_refused; /* connections closed over --max-per-ip (listener.c) */
} mq_metrics;

typedef struct mq_server {
    mq_server_config cfg;
    pthread_mutex_t lock; /* guards `live` and carrier_ids */
    mq_engine_ref *live;
    mq_store *store;
    mq_metrics metrics;
    atomic_int active_connections;
    /* the web page and OpenAPI document, read at start */
    struct mq_static_file {
        char *path; /* URL path */
        char *body;
        size_t len;
        const char *type;
    } * files;
    int nfiles;
    /* the key ring that seals personal data at rest (src/privacy): read
     * with mq_server_keys; SIGHUP reads it again, and the rings it replaces
     * stay until the server stops, since a request may still hold one */
    _Atomic(struct mq_priv_ring *) keys;
    struct mq_priv_ring *old_keys[MQ_OLD_KEY_RINGS];
    int nold_keys;
    /* hardening (server.c): the rate limiter (NULL when off), the trusted
     * proxy's whole address, and the watch over requests that arrive too
     * slowly */
    struct mq_rl *ratelimit;
    struct mq_rl_addr proxy_addr;
    bool trust_proxy;
    struct mq_conn_watch *watch;
    /* the deadlines of quotes waiting for their commit (server.c, "Save
     * deadlines"); NULL with --save-timeout 0 */
    struct mq_save_clock *save_clock;
    /* remote carriers (api_remote.c): the registry of --carriers and its
     * fan-out thread; both NULL without --carriers */
    mq_remote_registry *registry;
    mq_remote *remote;
    /* per registry carrier, the log of its failed calls (api_remote.c;
     * touched on the fan-out thread only), or NULL */
    struct mq_call_log *call_log;
    atomic_bool store_failure_logged; /* the store's failed state, logged once */
    /* SIGTERM came: a new request is refused at once (503 shutting_down) and
     * every answer closes its connection, so keep-alive clients cannot hold
     * the drain open with request after request */
    atomic_bool stopping;
    /* the threads that rate POST /v1/quotes off the connection threads
     * (server.c, "Rating threads"); NULL: rated on the connection threads */
    struct mq_raters *raters;
    /* the threads that read saved quotes for GET /v1/quotes/{id}[...]
     * (server.c, off_connection_thread); NULL when raters is */
    struct mq_raters *readers;
    /* accepting, and the threads that run libmicrohttpd (listener.c) */
    struct mq_listener *listener;
} mq_server;

/* ---- Save deadlines (server.c): --save-timeout ---------------------- */

/* A quote handed to the store, on the clock until its save ends or its
 * deadline passes, whichever is first. Embedded in its owner. */
typedef struct mq_save_deadline {
    int64_t at_ns;
    struct mq_save_deadline *prev, *next;
    bool on_clock;
    /* runs on the clock's thread once the deadline passed (d already off
     * the clock): answers the quote 503 storage_timeout; its owner keeps d
     * (and what the store reads) until then and until the save has ended */
    void (*expired)(struct mq_save_deadline *d);
} mq_save_deadline;

/* Puts d (its `expired` set) on the clock, before the quote is handed to
 * the store; false, and d not on it, without --save-timeout. */
bool mq_server_deadline_add(mq_server *s, mq_save_deadline *d);
/* When the save ends: takes d off the clock and true; false when the
 * deadline took it first (then `expired` runs, or ran, and the caller
 * calls mq_server_late_save_ended). */
bool mq_server_deadline_remove(mq_server *s, mq_save_deadline *d);
/* The save of a quote answered at its deadline ended (counted). */
void mq_server_late_save_ended(mq_server *s, bool ok);

/* A POST /v1/quotes still waiting on remote carriers, or streamed as
 * Server-Sent Events (api_remote.c). */
typedef struct mq_fanout mq_fanout;

/* One HTTP exchange as api.c answers it. */
typedef struct mq_http_req {
    const char *method;
    const char *path;
    const char *content_type;
    const char *body;
    size_t body_len;
    void *conn; /* the MHD connection, for mq_http_query */
    /* what the handler sets */
    int status;
    char *response; /* malloc'd body */
    size_t response_len;
    const char *response_type;
    const char *location;     /* optional Location header (static or arena) */
    const char *allow;        /* for 405 */
    const char *authenticate; /* for 401: the WWW-Authenticate header (static) */
    mq_route route;
    mq_arena arena;
    /* a route that saves a quote (POST /v1/quotes, POST /v1/acord) may
     * leave it to be saved while the connection waits suspended (server.c),
     * instead of blocking a thread on the commit; the answer then waits for
     * the commit, or for --save-timeout */
    bool can_defer, deferred;
    mq_store_quote save_q; /* its request, subject and key id point into save_sealed */
    char *save_sealed;     /* malloc'd (mq_api_seal_quote); server.c takes it */
    char save_day[11];
    int save_line; /* its slot in mq_metrics.quotes */
    /* the 201's body when it is not the saved response (ACORD XML):
     * malloc'd, taken by server.c; NULL: the response, as JSON */
    char *save_answer;
    size_t save_answer_len;
    const char *save_answer_type;
    /* POST /v1/quotes waiting on remote carriers or streamed: server.c
     * suspends the connection (or starts the event stream) and calls
     * mq_fanout_begin */
    mq_fanout *fanout;
} mq_http_req;

/* The 503 storage_timeout of quote `id` into r. */
void mq_server_save_timed_out(mq_server *s, mq_http_req *r, const char *id);

mq_engine_ref *mq_server_engine_acquire(mq_server *s);
void mq_server_engine_release(mq_server *s, mq_engine_ref *r);
void mq_server_note_carrier_time(mq_server *s, const char *carrier, int64_t ns);

/* api.c: answers one request (sets status, response, types). */
void mq_api_handle(mq_server *s, mq_http_req *r);
/* Sets a JSON error body: {"error": {"code", "message", "path"}}. */
/* ?deadline_ms=N of POST /v1/quotes: a request may ask remote carriers for
 * less time than the registry's (*out: the deadline to use). False with
 * the reply set to 400 invalid_parameter when N is not 1 to 600000. */
bool mq_api_deadline(mq_server *s, mq_http_req *r, int *out);
/* Whether a Content-Type is the media type `type` (case-insensitive;
 * whitespace around it and parameters after it allowed: RFC 9110 8.3.1);
 * `charset` (cap bytes) receives its charset parameter, unquoted, or "". */
bool mq_api_media_is(const char *ct, const char *type, char *charset, size_t cap);
/* The body of a POST as JSON (the caller decrefs); NULL with the reply set
 * to 415 when it is not sent as application/json (or names a charset other
 * than UTF-8), or 400 malformed_json naming line:column. A UTF-8 byte order
 * mark before the text is skipped, r->body and r->body_len moved past it. */
json_t *mq_api_read_json(mq_http_req *r);
/* 422 invalid_request: the first problem as the message ("path: message"),
 * every problem (up to 32) in details. */
void mq_api_invalid(mq_http_req *r, const mq_req_errors *errs);
/* Whether every id of the request's `carriers` names a carrier this server
 * compares (as GET /v1/carriers lists them): true to go on rating; false
 * with the reply set: 422 with an error at carriers[i] for each that does
 * not (at its XPath when `x`, the ACORD request it was mapped from, is
 * given), counted under `metrics_slot` (a line) in the metrics; or 500. */
typedef struct mq_acord mq_acord;
bool mq_api_carriers_known(mq_server *s, mq_http_req *r, const mq_engine *e, const mq_input *in,
                           int metrics_slot, const mq_acord *x);
/* Whether every query argument is one of the route's `known` names
 * (NULL-terminated): false with the reply set to 400 invalid_parameter
 * naming the first that is not (a typo, ?deadline=500, is not ignored). */
bool mq_api_query_known(mq_http_req *r, const char *const *known);
/* True for GET and HEAD (answered with the headers GET would have); any
 * other method gets 405 with Allow: GET, HEAD and false. */
bool mq_api_only_get(mq_http_req *r);
void mq_api_error(mq_http_req *r, int status, const char *code, const char *message,
                  const char *path);
/* Fills the fields of a quote to save (line, effective date in `day`, texts,
 * consent); mq_api_save_quote also saves it, waiting for the commit. */
void mq_api_prepare_quote(const char *line, int32_t effective, const json_t *doc, mq_store_quote *q,
                          char day[11], const char *request, const char *response);
/* Leaves a rated quote to server.c to save while the connection waits
 * (r->can_defer): fills q as mq_api_prepare_quote does, seals it, sets
 * r->save_* and the 201 with `response` (taken) as its JSON body. False
 * with the error reply set (and `response` freed) when sealing failed. */
bool mq_api_defer_quote(mq_server *s, mq_http_req *r, const char *line, int32_t effective,
                        json_t *doc, mq_store_quote *q, char *response, int metrics_line);
/* Saves a rated quote with its consent, waiting for the commit (a route
 * that cannot defer: r->can_defer false); `doc` is the request's tree,
 * sealed as mq_api_seal_quote says. */
bool mq_api_save_quote(mq_server *s, const char *line, int32_t effective, json_t *doc,
                       mq_store_quote *q, const char *response);
/* The error reply of a save that failed: 503 once the store refuses writes
 * after a disk error (store.h: the failed state), else 500, saying whether
 * nothing was stored or (the connection lost during its commit) it is not
 * known; logs why, at most a line a second. */
void mq_api_save_failed(mq_server *s, mq_http_req *r);
/* The same for the quote `id` (NULL: not known), whose outcome it names. */
void mq_api_save_failed_id(mq_server *s, mq_http_req *r, const char *id);
/* Every save must go through this first: seals the personal data of the
 * request `doc`, the tree every route has parsed (src/privacy; changed while
 * sealing, then put back: the caller's thread must be its only user), and
 * points q->request, q->subject and q->key_id into *owned, one block to
 * free once the save is done. False (then save nothing) without keys or
 * memory. */
bool mq_api_seal_quote(mq_server *s, mq_store_quote *q, json_t *doc, char **owned);
/* The request of a loaded quote as it was sent (malloc'd); NULL with a
 * message in err when it cannot be opened (a missing key, altered data). */
char *mq_api_open_request(mq_server *s, const mq_store_quote *q, char *err, size_t errlen);
/* The key ring in use (see mq_server.keys). */
const struct mq_priv_ring *mq_server_keys(mq_server *s);
/* A log line {"ts", "event", "message"} (message escaped), in one write. */
void mq_server_log_event(const char *event, const char *message);
/* The Prometheus text of the metrics (malloc'd). */
char *mq_metrics_text(mq_server *s);
/* The slot of mq_metrics.quotes for a request: its line, MQ_METRIC_BUNDLE
 * or MQ_METRIC_NO_LINE (no "line", or one that names none). */
int mq_metrics_line_slot(const json_t *doc);
/* server.c: adds the security headers every response carries (a strict
 * Content-Security-Policy, nosniff, no-referrer, frame denial) to an
 * MHD_Response; for routes that build their own responses. */
struct MHD_Response;
void mq_server_secure_response(struct MHD_Response *resp);
/* server.c: the URL's query argument `name` (decoded), or NULL. */
const char *mq_http_query(const mq_http_req *r, const char *name);
/* Whether the request's Accept prefers `type` (a media type, no wildcard)
 * to JSON, the API's answer by default: it names `type` itself (a
 * wildcard never chooses it), with a q above 0 and above application/json's
 * (the most specific range naming JSON), or the same q and listed first.
 * So "text/event-stream, application/json" (the web page) prefers the
 * stream, and "application/json, text/event-stream", what a client
 * generated from docs/openapi.yaml may send for an operation with both
 * answers, or any wildcard, prefers JSON. */
bool mq_http_prefers(const mq_http_req *r, const char *type);
/* The first query argument whose name is none of `known` (NULL-terminated),
 * or NULL when every one is known. */
const char *mq_http_unknown_query(const mq_http_req *r, const char *const *known);

/* ---- api_remote.c: remote carriers, fan-out and streaming ------------ */

/* Whether a connection's request bears the carrier endpoint's token
 * (Authorization: Bearer MQ_CARRIER_TOKEN); false when none is set. */
bool mq_api_carrier_bearer(void *conn);

/* Loads --carriers and starts the fan-out (nothing without it). */
bool mq_api_remote_start(mq_server *s, char *err, size_t errlen);
void mq_api_remote_stop(mq_server *s);
/* After local rating: when the request asks remote carriers or wants an
 * event stream, takes over the request (its arena, the engine ref, the
 * results) into r->fanout and returns true; *ref is then NULL. */
bool mq_api_fanout(mq_server *s, mq_http_req *r, json_t *doc, const mq_input *in, mq_result *res,
                   int n, mq_engine_ref **ref);
/* Whether a request wants Server-Sent Events (mq_http_prefers
 * "text/event-stream"). */
bool mq_api_wants_stream(const mq_http_req *r);
/* server.c starts a fan-out: `later` is the suspended connection's handle
 * for mq_server_save_and_answer (non-streamed); `conn` the MHD connection. */
void mq_fanout_begin(mq_fanout *f, void *later, void *conn);
bool mq_fanout_streams(const mq_fanout *f);
/* The event stream's MHD content reader and its release. */
ssize_t mq_fanout_stream_read(void *cls, uint64_t pos, char *buf, size_t max);
void mq_fanout_stream_release(void *cls);
/* POST /v1/carrier/{id}/rate: this server as a carrier endpoint. */
void mq_api_carrier_rate(mq_server *s, mq_http_req *r);
/* Remote carriers in /v1/carriers and /metrics. */
void mq_api_remote_catalog(mq_server *s, json_t *carriers_doc);
char *mq_api_remote_metrics(mq_server *s);

/* server.c: a quote rated off the handler thread is ready: save it, then
 * answer 201 (or a 500) on the suspended connection `later`. `text` is
 * taken (NULL: it could not be built); q's strings are copied. `sealed`
 * (taken) is the block of mq_api_seal_quote that q's request points into
 * (NULL: sealing failed, and so does the save). */
void mq_server_save_and_answer(void *later, const mq_store_quote *q, int line, char *text,
                               char *sealed);

/* api_intake.c: GET /v1/vin/{vin}, GET /v1/states, POST /v1/acord. */
void mq_api_intake(mq_server *s, mq_http_req *r);
/* The VIN, state-minimum and ZIP checks (src/intake) of a request the
 * parser accepted: 1 no problem, 0 problems added to errs, -1 the reference
 * data is missing (the 500 reply is set). */
int mq_api_intake_check(mq_http_req *r, const json_t *doc, mq_req_errors *errs);

#endif
