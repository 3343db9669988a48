/* fanout.c -- asks remote carriers over HTTP, all at once, on one thread.
 *
 * One thread owns a libcurl multi handle. mq_remote_ask (any thread) queues
 * a call and wakes it through an eventfd; the thread then adds one easy
 * transfer per carrier and drives them all with curl's socket interface on
 * an epoll set (curl says which sockets to watch and when its timers fire,
 * so each wake-up costs what happened, not the number of transfers open),
 * and hands each answer to the caller's callback the moment it is complete. The
 * multi handle keeps its connections open between calls, so a carrier is
 * asked over a warm keep-alive connection. A call ends when every carrier
 * has answered or at its deadline, when the carriers still out are cut off
 * with status timeout. Each carrier has a cap on calls in flight (the rest
 * wait their turn, or time out waiting) and a circuit breaker (breaker.c).
 * Everything below the "thread" line runs on the fan-out thread only; the
 * statistics are atomics read by /metrics.
 */
#include "remote.h"

#include "jsontext.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

const double mq_remote_latency_bounds_ms[MQ_REMOTE_LAT_BUCKETS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2000, 3000, 5000, 10000};

typedef struct call call;

/* One carrier asked by one call. */
typedef struct slot {
    call *owner;
    int carrier;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t len, cap;
    bool too_big, answered;
    bool own_timeout; /* the carrier's timeout_ms ends the call before the deadline */
    bool waited;      /* it waited for one of the carrier's max_concurrent connections */
    bool cut_short;   /* given less than the carrier's whole time (see launch) */
    int64_t asked_at_ns;
    char errbuf[CURL_ERROR_SIZE];
    struct slot *next_waiting; /* the carrier's queue while all its slots are busy */
} slot;

struct call {
    char *request;
    size_t request_len;
    int64_t deadline_ns; /* monotonic */
    int64_t started_ns;
    slot *slots;
    int nslots, open;
    mq_remote_answer_fn on_answer;
    mq_remote_done_fn on_done;
    void *arg;
    call *next;
};

typedef struct carrier_state {
    mq_breaker breaker; /* fan-out thread only */
    slot *probe;        /* the half-open probe's slot until it answers, or NULL */
    int in_flight;
    CURL **idle; /* easy handles kept for the next calls (they keep their buffers) */
    int nidle;
    slot *wait_head, *wait_tail;
    /* read by other threads */
    atomic_int state, failures_in_row;
    atomic_long calls, failures, timeouts, skipped, connections, in_flight_now;
    atomic_long errors[MQ_REMOTE_FAIL_KINDS]; /* the failures by kind */
    atomic_long latency[MQ_REMOTE_LAT_BUCKETS + 1];
    atomic_long latency_sum_us;
} carrier_state;

struct mq_remote {
    const mq_remote_registry *reg;
    CURLM *multi;
    int epoll_fd;     /* the sockets curl wants watched, and wake_fd */
    int wake_fd;      /* eventfd: a call queued, or stopping */
    int64_t timer_ns; /* when curl wants socket_action(TIMEOUT); -1: not */
    pthread_t thread;
    pthread_mutex_t lock; /* guards incoming, stopping and hurry */
    call *incoming;
    bool stopping;
    bool hurry;   /* mq_remote_hurry: every call's deadline is now */
    call *active; /* fan-out thread only */
    carrier_state *cs;
    mq_remote_breaker_fn on_breaker; /* set at start, called on the fan-out thread */
    void *breaker_arg;
};

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- Calls -------------------------------------------------------------- */

static void free_call(call *c)
{
    for (int i = 0; i < c->nslots; i++) {
        free(c->slots[i].body);
        curl_slist_free_all(c->slots[i].headers);
    }
    free(c->slots);
    free(c->request);
    free(c);
}

static void wake(mq_remote *r)
{
    uint64_t one = 1;
    if (write(r->wake_fd, &one, sizeof one) < 0) {
        /* the counter is saturated: the thread is awake already */
    }
}

bool mq_remote_ask(mq_remote *r, const char *request, size_t len, const int *carriers, int n,
                   int deadline_ms, mq_remote_answer_fn on_answer, mq_remote_done_fn on_done,
                   void *arg)
{
    call *c = calloc(1, sizeof(*c));
    if (!c)
        return false;
    c->request = malloc(len + 1);
    c->slots = calloc((size_t)(n > 0 ? n : 1), sizeof(slot));
    if (!c->request || !c->slots) {
        free_call(c);
        return false;
    }
    memcpy(c->request, request, len);
    c->request[len] = '\0';
    c->request_len = len;
    c->started_ns = now_ns();
    c->deadline_ns = c->started_ns + (int64_t)deadline_ms * 1000000;
    for (int i = 0; i < n; i++)
        c->slots[i] = (slot){.owner = c, .carrier = carriers[i]};
    c->nslots = c->open = n;
    c->on_answer = on_answer;
    c->on_done = on_done;
    c->arg = arg;
    pthread_mutex_lock(&r->lock);
    bool stopping = r->stopping;
    if (!stopping) {
        c->next = r->incoming;
        r->incoming = c;
    }
    pthread_mutex_unlock(&r->lock);
    if (stopping) {
        free_call(c);
        return false;
    }
    wake(r);
    return true;
}

/* ---- Thread: answers ----------------------------------------------------- */

/* The deadline the call was asked with, in ms (what reasons name). */
static int call_deadline_ms(const call *c)
{
    return (int)((c->deadline_ns - c->started_ns) / 1000000);
}

static void note_latency(carrier_state *cs, int64_t elapsed_ns)
{
    double ms = (double)elapsed_ns / 1e6;
    int b = 0;
    while (b < MQ_REMOTE_LAT_BUCKETS && ms > mq_remote_latency_bounds_ms[b])
        b++;
    atomic_fetch_add(&cs->latency[b], 1);
    atomic_fetch_add(&cs->latency_sum_us, (long)(elapsed_ns / 1000));
}

static void publish_breaker(carrier_state *cs)
{
    atomic_store(&cs->state, (int)cs->breaker.state);
    atomic_store(&cs->failures_in_row, cs->breaker.failures);
}

/* Hands one carrier's answer over, records it, and ends the call when it
 * was the last one out. `went_out`: the carrier was really asked (its
 * outcome counts for the breaker and the latency histogram). `reason` is
 * the shopper's; `detail` (may be NULL) the operator's, which the breaker's
 * log line quotes rather than the reason. A timeout of a call cut short
 * (s->cut_short) decides nothing for the breaker, as a call that never went
 * out: the carrier did not have its time. */
static void answer_with(mq_remote *r, slot *s, mq_status status, const char *reason,
                        const char *detail, bool went_out)
{
    call *c = s->owner;
    carrier_state *cs = &r->cs[s->carrier];
    const mq_remote_carrier *rc = &r->reg->carriers[s->carrier];
    int64_t t = now_ns();
    char broke[400] = "";
    mq_remote_answer a = {
        .carrier = s->carrier,
        .status = status,
        .body = s->body ? s->body : "",
        .body_len = s->len,
        .reason = reason,
        .detail = detail,
        .elapsed_ns = t - (s->asked_at_ns ? s->asked_at_ns : c->started_ns),
        .asked = went_out,
        .broke = broke,
        .brokelen = sizeof broke,
    };
    bool ok = c->on_answer(c->arg, &a) && status == MQ_QUOTED;
    s->answered = true;
    if (went_out) {
        note_latency(cs, a.elapsed_ns);
        if (!ok)
            atomic_fetch_add(status == MQ_TIMEOUT ? &cs->timeouts : &cs->failures, 1);
        if (!ok && status == MQ_QUOTED) /* a 200 whose body broke the protocol */
            atomic_fetch_add(&cs->errors[MQ_REMOTE_FAIL_PROTOCOL], 1);
    }
    if (went_out && !(status == MQ_TIMEOUT && s->cut_short)) {
        mq_breaker_state before = cs->breaker.state;
        mq_breaker_record(&cs->breaker, ok, rc, t / 1000000);
        publish_breaker(cs);
        if (r->on_breaker && cs->breaker.state != before)
            r->on_breaker(r->breaker_arg, rc, &cs->breaker,
                          ok                    ? NULL
                          : status != MQ_QUOTED ? (detail ? detail : reason)
                          : *broke              ? broke
                                                : "its answer broke the protocol");
    } else if (cs->probe == s && cs->breaker.state == MQ_BREAKER_HALF_OPEN) {
        /* the half-open probe never went out (it waited for a connection
         * until the deadline, or could not start), or timed out with less
         * than its time: it decided nothing, so the next call probes; else
         * every quote skipped the carrier as "one probe call is deciding"
         * with none out */
        cs->breaker.probing = false;
        publish_breaker(cs);
    }
    if (cs->probe == s)
        cs->probe = NULL;
    c->open--;
}

/* An answer whose reason says it all (a status, a deadline, an open circuit). */
static void answer(mq_remote *r, slot *s, mq_status status, const char *reason, bool went_out)
{
    answer_with(r, s, status, reason, NULL, went_out);
}

/* Ends every call whose carriers have all answered (the one place calls
 * are freed, so nothing above ever holds a freed call). */
static void finish_answered_calls(mq_remote *r)
{
    call **p = &r->active;
    while (*p) {
        call *c = *p;
        if (c->open > 0) {
            p = &c->next;
            continue;
        }
        *p = c->next;
        c->on_done(c->arg);
        free_call(c);
    }
}

/* ---- Thread: transfers ---------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    slot *s = arg;
    size_t n = size * nmemb;
    if (s->len + n > MQ_REMOTE_BODY_MAX) {
        s->too_big = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *b = realloc(s->body, cap);
        if (!b)
            return 0;
        s->body = b;
        s->cap = cap;
    }
    memcpy(s->body + s->len, data, n);
    s->len += n;
    s->body[s->len] = '\0';
    return n;
}

static bool launch(mq_remote *r, slot *s)
{
    call *c = s->owner;
    const mq_remote_carrier *rc = &r->reg->carriers[s->carrier];
    int64_t left_ms = (c->deadline_ns - now_ns()) / 1000000;
    s->own_timeout = rc->timeout_ms < left_ms;
    /* Less than the carrier's whole time (its timeout_ms, or the registry's
     * deadline): the request asked for a shorter deadline (?deadline_ms),
     * or the call waited for a connection. Its timeout is no sign the
     * carrier is down: counted, a client sending ?deadline_ms=1 opened the
     * circuit of a carrier that answers in 50 ms, for every shopper. */
    s->cut_short = !s->own_timeout && (s->waited || call_deadline_ms(c) < r->reg->deadline_ms);
    long timeout = s->own_timeout ? (long)rc->timeout_ms : (long)left_ms;
    if (timeout < 1)
        timeout = 1;
    carrier_state *cs = &r->cs[s->carrier];
    CURL *e = cs->nidle ? cs->idle[--cs->nidle] : curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = h ? curl_slist_append(h, "Accept: application/json") : NULL;
    h = h ? curl_slist_append(h, "Expect:") : NULL; /* no 100-continue round trip */
    /* what the carrier is given: the time left before the quote's deadline
     * (less than the deadline when the call waited its turn), or its own
     * shorter timeout_ms */
    char deadline_header[48];
    snprintf(deadline_header, sizeof deadline_header, "X-Multiquote-Deadline-Ms: %ld", timeout);
    h = h ? curl_slist_append(h, deadline_header) : NULL;
    if (h && rc->auth_header)
        h = curl_slist_append(h, rc->auth_header);
    if (!e || !h) {
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        return false;
    }
    s->easy = e;
    s->headers = h;
    curl_easy_setopt(e, CURLOPT_URL, rc->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->request);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->request_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* A call cut off while its host name is still being resolved must not
     * wait for the resolver thread: without this, curl joins it (up to the
     * system resolver's own timeout) on this thread, and every quote of
     * every carrier waits with it. The resolver thread is detached and
     * frees itself when getaddrinfo returns. */
    curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc->ca_file) /* a private CA (registry ca_file); else the system's store */
        curl_easy_setopt(e, CURLOPT_CAINFO, rc->ca_file);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "multiquote/0.1");
    s->asked_at_ns = now_ns();
    if (curl_multi_add_handle(r->multi, e) != CURLM_OK) {
        curl_slist_free_all(h);
        s->headers = NULL;
        curl_easy_cleanup(e);
        s->easy = NULL;
        return false;
    }
    r->cs[s->carrier].in_flight++;
    atomic_fetch_add(&r->cs[s->carrier].in_flight_now, 1);
    atomic_fetch_add(&r->cs[s->carrier].calls, 1);
    return true;
}

/* Ends a slot's transfer; its easy handle is kept for the carrier's next
 * call (up to its max_concurrent), saving its setup and buffers. */
static void release_transfer(mq_remote *r, slot *s)
{
    if (!s->easy)
        return;
    carrier_state *cs = &r->cs[s->carrier];
    curl_multi_remove_handle(r->multi, s->easy);
    if (cs->idle && cs->nidle < r->reg->carriers[s->carrier].max_concurrent)
        cs->idle[cs->nidle++] = s->easy;
    else
        curl_easy_cleanup(s->easy);
    s->easy = NULL;
    r->cs[s->carrier].in_flight--;
    atomic_fetch_sub(&r->cs[s->carrier].in_flight_now, 1);
}

static void skip_open_circuit(mq_remote *r, slot *s)
{
    carrier_state *cs = &r->cs[s->carrier];
    const mq_remote_carrier *rc = &r->reg->carriers[s->carrier];
    char reason[200];
    if (cs->breaker.state == MQ_BREAKER_OPEN) {
        int64_t left_ms = cs->breaker.open_until - now_ns() / 1000000;
        snprintf(reason, sizeof reason,
                 "%s is not being asked: %d calls in a row failed; the next try is in %lld s",
                 rc->name, cs->breaker.failures, (long long)((left_ms + 999) / 1000));
    } else {
        snprintf(reason, sizeof reason,
                 "%s is not being asked: after repeated failures, one probe call is deciding "
                 "whether it is back",
                 rc->name);
    }
    atomic_fetch_add(&cs->skipped, 1);
    answer(r, s, MQ_UNAVAILABLE, reason, false);
}

/* Starts a carrier's call now, queues it behind the carrier's calls in
 * flight, or answers at once when its circuit is open. */
static void start_slot(mq_remote *r, slot *s)
{
    carrier_state *cs = &r->cs[s->carrier];
    const mq_remote_carrier *rc = &r->reg->carriers[s->carrier];
    mq_breaker_verdict v = mq_breaker_admit(&cs->breaker, now_ns() / 1000000);
    publish_breaker(cs);
    if (v == MQ_BREAKER_SKIP) {
        skip_open_circuit(r, s);
        return;
    }
    if (v == MQ_BREAKER_PROBE)
        cs->probe = s;
    if (cs->in_flight >= rc->max_concurrent) {
        s->waited = true;
        if (cs->wait_tail)
            cs->wait_tail->next_waiting = s;
        else
            cs->wait_head = s;
        cs->wait_tail = s;
        return;
    }
    if (!launch(r, s))
        answer(r, s, MQ_ERROR, "could not start the call (out of memory)", false);
}

static void unqueue(carrier_state *cs, slot *s)
{
    slot *prev = NULL;
    for (slot *w = cs->wait_head; w; prev = w, w = w->next_waiting)
        if (w == s) {
            if (prev)
                prev->next_waiting = w->next_waiting;
            else
                cs->wait_head = w->next_waiting;
            if (cs->wait_tail == w)
                cs->wait_tail = prev;
            w->next_waiting = NULL;
            return;
        }
}

/* A carrier's slot freed: its next waiting call (if still wanted) goes. */
static void start_waiting(mq_remote *r, int carrier)
{
    carrier_state *cs = &r->cs[carrier];
    const mq_remote_carrier *rc = &r->reg->carriers[carrier];
    while (cs->wait_head && cs->in_flight < rc->max_concurrent) {
        slot *s = cs->wait_head;
        unqueue(cs, s);
        if (!launch(r, s))
            answer(r, s, MQ_ERROR, "could not start the call (out of memory)", false);
    }
}

/* For the operator's log: what a carrier that answered an HTTP error said
 * in its body (where it explains a 400), as a JSON string literal (a line
 * break as \n, an escape as \u001b, bytes that are not UTF-8 as U+FFFD),
 * its first EXCERPT bytes then "..."; nothing when the body is empty. */
static void body_excerpt(const slot *s, long http, char *detail, size_t dn)
{
    enum { EXCERPT = 200 };
    if (!s->body || s->len == 0)
        return;
    size_t cut = s->len < EXCERPT ? s->len : EXCERPT;
    char *head = malloc(cut + 1);
    if (!head)
        return;
    memcpy(head, s->body, cut);
    head[cut] = '\0';
    char *clean = mq_jw_utf8_clean(head); /* a character cut at EXCERPT becomes U+FFFD */
    free(head);
    mq_jw w = {0};
    if (clean) {
        mq_jw_str(&w, clean);
        if (cut < s->len)
            mq_jw_raw(&w, "...");
    }
    free(clean);
    char *text = mq_jw_finish(&w);
    if (text)
        snprintf(detail, dn, "HTTP %ld from the carrier; its body: %s", http, text);
    free(text);
}

/* Why a call failed, and its kind: `out` for the shopper (saved in the
 * quote's result and shown to whoever holds its id), `detail` for the
 * operator's log, or "" when `out` says it all. curl's error names the
 * carrier's host or address ("Failed to connect to rating.carrier.internal
 * port 8443"), a redirect's target is a URL of the carrier's own network,
 * and an answer too large breaks the protocol as a malformed one does:
 * none is the shopper's business, all are what the operator needs. */
static mq_remote_failure describe_failure(CURL *e, slot *s, CURLcode rc, long http, char *out,
                                          size_t n, char *detail, size_t dn)
{
    char *to = NULL;
    *detail = '\0';
    if (s->too_big) {
        snprintf(out, n, "%s", MQ_REMOTE_NEUTRAL_REASON);
        snprintf(detail, dn, "the carrier's answer breaks the protocol: larger than %d bytes",
                 MQ_REMOTE_BODY_MAX);
        return MQ_REMOTE_FAIL_TOO_LARGE;
    }
    if (rc != CURLE_OK) {
        snprintf(out, n, "no answer from the carrier: the connection to it failed");
        snprintf(detail, dn, "transport: %s", *s->errbuf ? s->errbuf : curl_easy_strerror(rc));
        return MQ_REMOTE_FAIL_CONNECTION;
    }
    if (http >= 300 && http < 400 && curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &to) == CURLE_OK &&
        to) {
        /* not followed (the registry's url is the one asked, its auth
         * header sent nowhere else): the operator needs where it points,
         * typically the https:// of an http:// url */
        snprintf(out, n, "HTTP %ld from the carrier: redirects are not followed", http);
        snprintf(detail, dn, "HTTP %ld from the carrier: redirects are not followed (to %s)", http,
                 to);
    } else {
        snprintf(out, n, "HTTP %ld from the carrier", http);
        body_excerpt(s, http, detail, dn);
    }
    return MQ_REMOTE_FAIL_HTTP;
}

static void on_transfer_done(mq_remote *r, CURL *e, CURLcode code)
{
    slot *s = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
    if (!s)
        return;
    long http = 0, connects = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    atomic_fetch_add(&r->cs[s->carrier].connections, connects);
    char reason[300];
    if (code == CURLE_OPERATION_TIMEDOUT) {
        /* curl's limit is the carrier's timeout or the time left before the
         * deadline: the reason says which, as expire_calls would */
        if (s->own_timeout)
            snprintf(reason, sizeof reason, "no answer within the carrier's %d ms timeout",
                     r->reg->carriers[s->carrier].timeout_ms);
        else
            snprintf(reason, sizeof reason, "no answer within the quote's %d ms deadline",
                     call_deadline_ms(s->owner));
        release_transfer(r, s);
        answer(r, s, MQ_TIMEOUT, reason, true);
    } else if (code != CURLE_OK || http != 200 || s->too_big) {
        char detail[CURL_ERROR_SIZE + 400];
        mq_remote_failure kind =
            describe_failure(e, s, code, http, reason, sizeof reason, detail, sizeof detail);
        atomic_fetch_add(&r->cs[s->carrier].errors[kind], 1);
        release_transfer(r, s);
        answer_with(r, s, MQ_ERROR, reason, *detail ? detail : NULL, true);
    } else {
        release_transfer(r, s);
        answer(r, s, MQ_QUOTED, NULL, true);
    }
    start_waiting(r, s->carrier);
}

/* Cuts off every carrier still out when a call's deadline passes, or at
 * once when the server is stopping (hurry). */
static void expire_calls(mq_remote *r, bool hurry)
{
    int64_t t = now_ns();
    for (call *c = r->active; c; c = c->next) {
        if ((hurry || t >= c->deadline_ns) && c->open > 0) {
            int ms = call_deadline_ms(c);
            for (int i = 0; i < c->nslots; i++) {
                slot *s = &c->slots[i];
                if (s->answered)
                    continue;
                char reason[160];
                bool went_out = s->easy != NULL;
                if (hurry) {
                    s->cut_short = true; /* the server stops: no sign of the carrier's health */
                    snprintf(reason, sizeof reason,
                             "no answer yet when the server had to stop (before the quote's %d "
                             "ms deadline)",
                             ms);
                    if (went_out)
                        release_transfer(r, s);
                    else
                        unqueue(&r->cs[s->carrier], s);
                } else if (went_out) {
                    snprintf(reason, sizeof reason, "no answer within the quote's %d ms deadline",
                             ms);
                    release_transfer(r, s);
                } else {
                    int busy = r->reg->carriers[s->carrier].max_concurrent;
                    snprintf(reason, sizeof reason,
                             busy == 1 ? "not asked within the quote's %d ms deadline: its "
                                         "connection was busy"
                                       : "not asked within the quote's %d ms deadline: its %d "
                                         "connections were busy",
                             ms, busy);
                    unqueue(&r->cs[s->carrier], s);
                }
                answer(r, s, MQ_TIMEOUT, reason, went_out);
                start_waiting(r, s->carrier);
            }
        }
    }
}

static void take_incoming(mq_remote *r, bool *stopping, bool *hurry)
{
    pthread_mutex_lock(&r->lock);
    call *in = r->incoming;
    r->incoming = NULL;
    *stopping = r->stopping;
    *hurry = r->hurry;
    pthread_mutex_unlock(&r->lock);
    while (in) {
        call *c = in;
        in = in->next;
        c->next = r->active;
        r->active = c;
        for (int i = 0; i < c->nslots; i++)
            start_slot(r, &c->slots[i]);
    }
}

/* curl's socket callback: watch `fd` for what curl waits on. */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void)e;
    mq_remote *r = arg;
    struct epoll_event ev = {.data.fd = fd};
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(r->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(r->multi, fd, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (socketp) {
        epoll_ctl(r->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    } else if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0) {
        curl_multi_assign(r->multi, fd, r); /* any non-NULL: "added" */
    }
    return 0;
}

/* curl's timer callback: when to call socket_action(TIMEOUT). */
static int on_timer(CURLM *m, long timeout_ms, void *arg)
{
    (void)m;
    mq_remote *r = arg;
    r->timer_ns = timeout_ms < 0 ? -1 : now_ns() + (int64_t)timeout_ms * 1000000;
    return 0;
}

/* How long epoll may sleep: until curl's timer, the nearest deadline, or 1 s. */
static int wait_ms(mq_remote *r)
{
    int64_t t = now_ns(), wait = 1000;
    if (r->timer_ns >= 0) {
        int64_t left = (r->timer_ns - t + 999999) / 1000000;
        wait = left < 0 ? 0 : left < wait ? left : wait;
    }
    for (call *c = r->active; c; c = c->next) {
        int64_t left = (c->deadline_ns - t + 999999) / 1000000;
        if (left < wait)
            wait = left < 0 ? 0 : left;
    }
    return (int)wait;
}

static void drain_wake(mq_remote *r)
{
    uint64_t n;
    if (read(r->wake_fd, &n, sizeof n) < 0) {
        /* EAGAIN: already drained */
    }
}

/* Waits for sockets, the wake-up or a timer, and lets curl act on them. */
static void wait_and_act(mq_remote *r)
{
    struct epoll_event ev[64];
    int n = epoll_wait(r->epoll_fd, ev, 64, wait_ms(r));
    int running;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.fd == r->wake_fd) {
            drain_wake(r);
            continue;
        }
        int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                    (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(r->multi, ev[i].data.fd, flags, &running);
    }
    if (r->timer_ns >= 0 && now_ns() >= r->timer_ns) {
        r->timer_ns = -1;
        curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

static void *fanout_thread(void *arg)
{
    mq_remote *r = arg;
    pthread_setname_np(pthread_self(), "mq-fanout");
    for (;;) {
        bool stopping, hurry;
        take_incoming(r, &stopping, &hurry);
        if (stopping && !r->active)
            break;
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(r->multi, &left)))
            if (m->msg == CURLMSG_DONE)
                on_transfer_done(r, m->easy_handle, m->data.result);
        expire_calls(r, hurry);
        finish_answered_calls(r);
        wait_and_act(r);
    }
    return NULL;
}

/* ---- Lifecycle ----------------------------------------------------------- */

static void free_carrier_states(mq_remote *r)
{
    if (!r || !r->cs)
        return;
    for (int i = 0; i < r->reg->ncarriers; i++) {
        for (int j = 0; j < r->cs[i].nidle; j++)
            curl_easy_cleanup(r->cs[i].idle[j]);
        free(r->cs[i].idle);
    }
    free(r->cs);
    r->cs = NULL;
}

static void close_fds(mq_remote *r)
{
    if (!r)
        return;
    if (r->epoll_fd >= 0)
        close(r->epoll_fd);
    if (r->wake_fd >= 0)
        close(r->wake_fd);
}

static void curl_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

mq_remote *mq_remote_start(const mq_remote_registry *reg, mq_remote_breaker_fn on_breaker,
                           void *breaker_arg, char *err, size_t errlen)
{
    static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
    pthread_once(&curl_once, curl_setup);
    mq_remote *r = calloc(1, sizeof(*r));
    if (r) {
        r->reg = reg;
        r->on_breaker = on_breaker;
        r->breaker_arg = breaker_arg;
        r->timer_ns = -1;
        r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    struct epoll_event wake_ev = {.events = EPOLLIN, .data.fd = r ? r->wake_fd : -1};
    if (r && (r->epoll_fd < 0 || r->wake_fd < 0 ||
              epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, r->wake_fd, &wake_ev) != 0)) {
        snprintf(err, errlen, "cannot make the carrier fan-out's epoll set");
        goto fail;
    }
    if (!r ||
        !(r->cs = calloc((size_t)(reg->ncarriers ? reg->ncarriers : 1), sizeof(carrier_state))) ||
        !(r->multi = curl_multi_init())) {
        snprintf(err, errlen, "out of memory starting the carrier fan-out");
        goto fail;
    }
    for (int i = 0; i < reg->ncarriers; i++)
        if (reg->carriers[i].remote &&
            !(r->cs[i].idle = calloc((size_t)reg->carriers[i].max_concurrent, sizeof(CURL *)))) {
            snprintf(err, errlen, "out of memory starting the carrier fan-out");
            goto fail;
        }
    long conns = 0;
    for (int i = 0; i < reg->ncarriers; i++)
        conns += reg->carriers[i].remote ? reg->carriers[i].max_concurrent : 0;
    curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
    curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
    curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS,
                      conns < 8      ? 8L
                      : conns > 4096 ? 4096L
                                     : conns);
    pthread_mutex_init(&r->lock, NULL);
    if (pthread_create(&r->thread, NULL, fanout_thread, r) != 0) {
        snprintf(err, errlen, "cannot start the carrier fan-out thread");
        pthread_mutex_destroy(&r->lock);
        goto fail;
    }
    return r;
fail:
    if (r && r->multi)
        curl_multi_cleanup(r->multi);
    free_carrier_states(r);
    close_fds(r);
    free(r);
    return NULL;
}

void mq_remote_hurry(mq_remote *r)
{
    pthread_mutex_lock(&r->lock);
    r->hurry = true;
    pthread_mutex_unlock(&r->lock);
    wake(r);
}

void mq_remote_stop(mq_remote *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_mutex_unlock(&r->lock);
    wake(r);
    pthread_join(r->thread, NULL);
    free_carrier_states(r); /* the idle handles first: they belong to the multi's connections */
    curl_multi_cleanup(r->multi);
    close_fds(r);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

const mq_remote_registry *mq_remote_registry_of(const mq_remote *r)
{
    return r->reg;
}

void mq_remote_get_stats(mq_remote *r, int carrier, mq_remote_stats *out)
{
    carrier_state *cs = &r->cs[carrier];
    *out = (mq_remote_stats){
        .state = (mq_breaker_state)atomic_load(&cs->state),
        .consecutive_failures = atomic_load(&cs->failures_in_row),
        .calls = atomic_load(&cs->calls),
        .failures = atomic_load(&cs->failures),
        .timeouts = atomic_load(&cs->timeouts),
        .skipped = atomic_load(&cs->skipped),
        .connections_opened = atomic_load(&cs->connections),
        .in_flight = atomic_load(&cs->in_flight_now),
        .latency_sum_ms = (double)atomic_load(&cs->latency_sum_us) / 1000.0,
    };
    for (int b = 0; b <= MQ_REMOTE_LAT_BUCKETS; b++)
        out->latency[b] = atomic_load(&cs->latency[b]);
    for (int k = 0; k < MQ_REMOTE_FAIL_KINDS; k++)
        out->errors[k] = atomic_load(&cs->errors[k]);
}

const char *mq_remote_failure_name(mq_remote_failure k)
{
    switch (k) {
    case MQ_REMOTE_FAIL_CONNECTION:
        return "connection";
    case MQ_REMOTE_FAIL_HTTP:
        return "http_status";
    case MQ_REMOTE_FAIL_TOO_LARGE:
        return "too_large";
    case MQ_REMOTE_FAIL_PROTOCOL:
        return "protocol";
    case MQ_REMOTE_FAIL_KINDS:
        break;
    }
    return "?";
}
