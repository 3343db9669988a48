/* remote.h -- carriers answered over HTTP (prefix mq_remote_).
 *
 * A carrier is either local (rated here from its plan files) or remote (its
 * own quoting API, asked in real time). The carrier registry, carriers.yaml
 * (docs/carrier-protocol.md), lists them; registry.c loads it.
 *
 * mq_remote runs the fan-out: one thread owns a libcurl multi handle and
 * asks every remote carrier of a shopper's request at once (no thread per
 * carrier), with keep-alive connections reused across requests, a deadline
 * per request, a cap on concurrent calls per carrier and a circuit breaker
 * per carrier (fanout.c, breaker.c). asking.c writes the request a carrier
 * is sent; answer.c checks a carrier's answer against the protocol and turns
 * it into an engine result.
 */
#ifndef MQ_REMOTE_H
#define MQ_REMOTE_H

#include "engine.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Registry (registry.c) ------------------------------------------ */

enum { MQ_REMOTE_DEADLINE_MS = 3000, MQ_REMOTE_BODY_MAX = 1024 * 1024 };

typedef struct mq_remote_carrier {
    char *id, *name, *rating;
    bool remote;
    int decl_line; /* line of the entry in carriers.yaml */
    /* remote carriers only */
    char *url;
    unsigned lines;          /* bit (1u << mq_line) per line it quotes */
    int timeout_ms;          /* per call; the request's deadline may cut it shorter */
    int max_concurrent;      /* calls in flight at once; more wait their turn */
    char *auth_header;       /* "Name: value" built from the environment, or NULL */
    char *ca_file;           /* certificates to trust for its https url, or NULL: the system's */
    int breaker_failures;    /* consecutive failures that open the circuit */
    int breaker_cooldown_ms; /* how long it stays open before a probe */
} mq_remote_carrier;

typedef struct mq_remote_registry {
    char *file;
    int deadline_ms; /* default deadline of a shopper's request */
    mq_remote_carrier *carriers;
    int ncarriers;
    int nlocal, nremote;
} mq_remote_registry;

/* Loads carriers.yaml. NULL with "file:line: message" in err when it is
 * wrong (unknown keys, bad URLs, a secret written in the file, an auth
 * variable missing from the environment...). */
mq_remote_registry *mq_remote_registry_load(const char *path, char *err, size_t errlen);
void mq_remote_registry_free(mq_remote_registry *reg);

/* Checks the registry against the loaded plans: every local carrier has a
 * plan, no remote carrier takes a local carrier's id. */
bool mq_remote_registry_check(const mq_remote_registry *reg, const mq_engine *e, char *err,
                              size_t errlen);

/* Whether a comparison with this registry has a carrier with this id (as
 * GET /v1/carriers lists them): one the registry names, or a local one
 * with plans in e that the registry does not leave out. */
bool mq_remote_carrier_known(const mq_remote_registry *reg, const mq_engine *e, const char *id);

/* The carrier with this id, or NULL. */
const mq_remote_carrier *mq_remote_registry_find(const mq_remote_registry *reg, const char *id);

/* mq_rate_opts callbacks (arg: the registry; NULL registry: every local
 * carrier is rated): rate a local carrier here? is an id a remote carrier? */
bool mq_remote_rate_here(const void *reg, const char *carrier_id);
bool mq_remote_asked_elsewhere(const void *reg, const char *carrier_id);

/* ---- Circuit breaker (breaker.c) ------------------------------------ */

typedef enum { MQ_BREAKER_CLOSED, MQ_BREAKER_OPEN, MQ_BREAKER_HALF_OPEN } mq_breaker_state;

typedef struct mq_breaker {
    mq_breaker_state state;
    int failures;       /* consecutive */
    int64_t open_until; /* ms, while open */
    bool probing;       /* half-open: the one probe is in flight */
} mq_breaker;

typedef enum { MQ_BREAKER_ASK, MQ_BREAKER_PROBE, MQ_BREAKER_SKIP } mq_breaker_verdict;

/* May a call go out now? PROBE: yes, as the half-open probe. */
mq_breaker_verdict mq_breaker_admit(mq_breaker *b, int64_t now_ms);
/* The outcome of a call that went out. */
void mq_breaker_record(mq_breaker *b, bool ok, const mq_remote_carrier *c, int64_t now_ms);
const char *mq_breaker_state_name(mq_breaker_state s);

/* ---- Fan-out (fanout.c) --------------------------------------------- */

typedef struct mq_remote mq_remote;

/* Runs on the fan-out thread when a carrier's circuit opens (b->state
 * MQ_BREAKER_OPEN; last_failure: why the call that opened it failed) or
 * closes again (MQ_BREAKER_CLOSED; last_failure NULL): for the server's
 * log, which has no other word of a carrier that keeps failing. */
typedef void (*mq_remote_breaker_fn)(void *arg, const mq_remote_carrier *c, const mq_breaker *b,
                                     const char *last_failure);

/* Starts the fan-out thread for this registry (borrowed: keep it alive
 * until mq_remote_stop); on_breaker (may be NULL) is told of circuits
 * opening and closing. NULL with a message on failure. */
mq_remote *mq_remote_start(const mq_remote_registry *reg, mq_remote_breaker_fn on_breaker,
                           void *breaker_arg, char *err, size_t errlen);
/* Waits for calls in flight (each ends by its deadline), then stops. */
void mq_remote_stop(mq_remote *r);
/* Ends every call in flight now, as its deadline would: each carrier still
 * out answers MQ_TIMEOUT "the server is stopping". Calls made after it are
 * ended at once the same way. For a server shutting down. */
void mq_remote_hurry(mq_remote *r);
const mq_remote_registry *mq_remote_registry_of(const mq_remote *r);

/* One carrier's answer to one call, as the fan-out thread hands it over. */
typedef struct mq_remote_answer {
    int carrier;      /* index in the registry */
    mq_status status; /* MQ_QUOTED: body holds the carrier's answer (HTTP 200);
                         otherwise MQ_ERROR, MQ_TIMEOUT or MQ_UNAVAILABLE with reason */
    const char *body; /* NUL-terminated; valid during the callback only */
    size_t body_len;
    const char *reason; /* for the shopper: never a host, URL, field path or
                           library's error text */
    const char *detail; /* for the operator's log: what exactly failed (curl's error
                           naming the host, a redirect's target, the size of an
                           answer too large), or NULL when the reason says it all */
    int64_t elapsed_ns;
    bool asked;  /* the call went out (false: skipped by the breaker, never
                    started, or still waiting its turn at the deadline) */
    char *broke; /* where mq_remote_answer_result says what the body broke,
                    for the operator (may be NULL: not kept) */
    size_t brokelen;
} mq_remote_answer;

/* Runs on the fan-out thread for each carrier; returns false when the body
 * broke the protocol (it counts as the carrier's failure). */
typedef bool (*mq_remote_answer_fn)(void *arg, const mq_remote_answer *a);
/* Runs on the fan-out thread once every carrier has answered or timed out. */
typedef void (*mq_remote_done_fn)(void *arg);

/* Which remote carriers a request asks: those quoting `line`, narrowed to
 * the request's own carrier list when it has one. Returns the count. */
int mq_remote_select(const mq_remote_registry *reg, mq_line line, const char *const *ids, int nids,
                     int *out, int cap);

/* Asks carriers[0..n) with `request` (JSON text, copied) and a deadline of
 * deadline_ms from now. Every carrier gets exactly one on_answer, then
 * on_done runs once. False (and no callback) when it could not be queued. */
bool mq_remote_ask(mq_remote *r, const char *request, size_t len, const int *carriers, int n,
                   int deadline_ms, mq_remote_answer_fn on_answer, mq_remote_done_fn on_done,
                   void *arg);

/* The text remote carriers are sent for the validated request text (len
 * bytes): the request as the shopper sent it, but every vehicle's VIN in
 * capitals, as rating here reads it (asking.c). Malloc'd, NUL-terminated,
 * its length in *out_len; NULL when memory ran out. */
char *mq_remote_request(const char *text, size_t len, size_t *out_len);

/* What went wrong in a call that went out and ended in an error (not a
 * timeout), for /metrics: the shopper's reason says little of it. */
typedef enum {
    MQ_REMOTE_FAIL_CONNECTION, /* curl's error: refused, unresolved, TLS, reset, cut short */
    MQ_REMOTE_FAIL_HTTP,       /* an HTTP status other than 200, a redirect included */
    MQ_REMOTE_FAIL_TOO_LARGE,  /* an answer over MQ_REMOTE_BODY_MAX */
    MQ_REMOTE_FAIL_PROTOCOL,   /* a 200 whose body breaks the protocol */
    MQ_REMOTE_FAIL_KINDS
} mq_remote_failure;
/* "connection", "http_status", "too_large", "protocol". */
const char *mq_remote_failure_name(mq_remote_failure k);

/* What /metrics and /v1/carriers show of a remote carrier. */
enum { MQ_REMOTE_LAT_BUCKETS = 12 };
extern const double mq_remote_latency_bounds_ms[MQ_REMOTE_LAT_BUCKETS];
typedef struct mq_remote_stats {
    mq_breaker_state state;
    int consecutive_failures;
    long calls, failures, timeouts, skipped, connections_opened, in_flight;
    long errors[MQ_REMOTE_FAIL_KINDS];       /* the failures (not timeouts) by kind */
    long latency[MQ_REMOTE_LAT_BUCKETS + 1]; /* answers by elapsed time */
    double latency_sum_ms;
} mq_remote_stats;
void mq_remote_get_stats(mq_remote *r, int carrier, mq_remote_stats *out);

/* ---- Answers (answer.c) --------------------------------------------- */

/* Checks a carrier's JSON answer against the carrier protocol for this
 * request and fills *out (strings in the arena; carrier name and rating from
 * the registry). False with what is wrong in `why` ("coverages[1].code:
 * unknown coverage \"xyz\" for auto"). */
bool mq_remote_result_parse(const char *body, size_t len, const mq_input *in,
                            const mq_remote_carrier *c, mq_arena *a, mq_result *out, char *why,
                            size_t whylen);

/* What a result says of an answer that broke the protocol (or was too
 * large to read): the shopper is not told which field or parser failed. */
#define MQ_REMOTE_NEUTRAL_REASON "Quote unavailable from this carrier right now"

/* One fan-out answer as a result: the carrier's own answer checked against
 * the protocol and e's plans, or the status and reason the fan-out gave;
 * elapsed time included. An answer that breaks the protocol becomes an
 * error whose reason is MQ_REMOTE_NEUTRAL_REASON; what exactly is wrong
 * ("the carrier's answer breaks the protocol: premium.total: expected an
 * amount in dollars") is written to ans->broke, for the operator. False
 * when the answer broke the protocol (a failure, for the carrier's
 * breaker). What every on_answer calls. */
bool mq_remote_answer_result(const mq_remote_answer *ans, const mq_input *in,
                             const mq_remote_carrier *c, const mq_engine *e, mq_arena *a,
                             mq_result *out);

/* What the operator is told of an answer once mq_remote_answer_result has
 * read it: the fan-out's detail (curl's error, a redirect's target, an
 * answer's size), what its body broke, or NULL when the result's reason
 * says it all. The server logs it, the command line prints it to stderr. */
const char *mq_remote_answer_detail(const mq_remote_answer *ans);

/* A remote carrier answers for itself: false, with why, when its result
 * names a plan that is another carrier's here (e's plans; NULL: none), as
 * if it rated with that carrier's plan (worksheets and requote read a
 * result's plan id). */
bool mq_remote_plan_is_its_own(const mq_engine *e, const mq_remote_carrier *c, const mq_result *r,
                               char *why, size_t whylen);

/* The remote carriers the request names (in->carriers) that do not quote
 * its line, each once (however often it is named) as an unavailable result
 * saying so, written to out (room for reg->ncarriers; NULL: only counted).
 * Returns the count; -1 when out of memory. */
int mq_remote_not_quoting(const mq_remote_registry *reg, const mq_input *in, mq_arena *a,
                          mq_result *out);

/* A result with no premium: status and one reason (timeout, error...). */
bool mq_remote_result_status(const mq_remote_carrier *c, mq_status status, const char *reason,
                             mq_arena *a, mq_result *out);

#endif
