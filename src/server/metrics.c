/* metrics.c -- the server's counters in Prometheus text format.
 *
 * Counters are atomics bumped by the request threads (server.c, api.c);
 * GET /metrics reads them without a lock into one text: requests by route
 * and status class, a latency histogram per route, quotes saved or refused
 * by line, carrier results by status, and time spent rating each carrier.
 */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text {
    char *buf;
    size_t len, cap;
    bool oom;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = true;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->oom = true;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

static const char *const route_names[ROUTE_COUNT] = {
    "quotes_post", "quote_get", "worksheet", "carriers", "plans",  "healthz", "metrics",
    "openapi",     "page",      "static",    "vin",      "states", "acord",   "other"};

static const char *const bucket_le[MQ_LAT_BUCKETS] = {
    "0.0005", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "5"};

static void requests(text *t, mq_metrics *m)
{
    put(t, "# HELP mq_http_requests_total HTTP requests by route and status class.\n"
           "# TYPE mq_http_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int c = 1; c <= 5; c++) {
            long n = atomic_load(&m->requests[r][c]);
            if (n)
                put(t, "mq_http_requests_total{route=\"%s\",code=\"%dxx\"} %ld\n", route_names[r],
                    c, n);
        }
    put(t, "# HELP mq_http_request_duration_seconds Time from request start to response.\n"
           "# TYPE mq_http_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        long total = 0;
        for (int b = 0; b <= MQ_LAT_BUCKETS; b++)
            total += atomic_load(&m->latency[r][b]);
        if (!total)
            continue;
        long cumulative = 0;
        for (int b = 0; b < MQ_LAT_BUCKETS; b++) {
            cumulative += atomic_load(&m->latency[r][b]);
            put(t, "mq_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %ld\n",
                route_names[r], bucket_le[b], cumulative);
        }
        put(t, "mq_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %ld\n",
            route_names[r], total);
        put(t, "mq_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_names[r],
            (double)atomic_load(&m->latency_sum_us[r]) / 1e6);
        put(t, "mq_http_request_duration_seconds_count{route=\"%s\"} %ld\n", route_names[r], total);
    }
}

int mq_metrics_line_slot(const json_t *doc)
{
    const char *line = json_string_value(json_object_get(doc, "line"));
    int l = line ? mq_line_find(line) : -1;
    return l >= 0 ? l : line && strcmp(line, "bundle") == 0 ? MQ_METRIC_BUNDLE : MQ_METRIC_NO_LINE;
}

static const char *line_slot_name(int slot)
{
    return slot == MQ_METRIC_BUNDLE    ? "bundle"
           : slot == MQ_METRIC_NO_LINE ? "none"
                                       : mq_line_get((mq_line)slot)->name;
}

static void quotes(text *t, mq_metrics *m)
{
    put(t, "# HELP mq_quotes_total Quote requests by line (bundle: auto with home or renters; "
           "none: no line named): saved, or refused as invalid.\n"
           "# TYPE mq_quotes_total counter\n");
    for (int l = 0; l < MQ_METRIC_LINES; l++) {
        const char *line = line_slot_name(l);
        put(t, "mq_quotes_total{line=\"%s\",outcome=\"saved\"} %ld\n", line,
            atomic_load(&m->quotes[l][0]));
        put(t, "mq_quotes_total{line=\"%s\",outcome=\"invalid\"} %ld\n", line,
            atomic_load(&m->quotes[l][1]));
    }
    put(t, "# HELP mq_quote_results_total Carrier results by line and status.\n"
           "# TYPE mq_quote_results_total counter\n");
    for (int l = 0; l < MQ_LINE_COUNT; l++)
        for (int st = 0; st < 5; st++)
            put(t, "mq_quote_results_total{line=\"%s\",status=\"%s\"} %ld\n",
                mq_line_get((mq_line)l)->name, mq_status_name((mq_status)st),
                atomic_load(&m->results[l][st]));
}

const double mq_carrier_bucket_bounds[MQ_CARRIER_BUCKETS] = {
    0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

/* s as a label value of the text format: backslash, double quote and line
 * feed escaped, so that no id can end its label or start a line of its own
 * (malloc'd; NULL when out of memory). */
static char *label_value(const char *s)
{
    char *out = malloc(strlen(s) * 2 + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n')
            *o++ = '\\';
        *o++ = *s == '\n' ? 'n' : *s;
    }
    *o = '\0';
    return out;
}

/* Carrier i's histogram; `id` is its id as a label value. */
static void carrier_buckets(text *t, const mq_metrics *m, int i, const char *id)
{
    long cumulative = 0;
    for (int b = 0; b <= MQ_CARRIER_BUCKETS; b++) {
        cumulative += atomic_load(&m->carrier_hist[i][b]);
        if (b < MQ_CARRIER_BUCKETS)
            put(t, "mq_carrier_rating_seconds_bucket{carrier=\"%s\",le=\"%g\"} %ld\n", id,
                mq_carrier_bucket_bounds[b], cumulative);
        else
            put(t, "mq_carrier_rating_seconds_bucket{carrier=\"%s\",le=\"+Inf\"} %ld\n", id,
                cumulative);
    }
}

/* The store's group commits: how many, their quotes, how long each took
 * with its flush to disk, and how long the quotes waited for them. */
static void store_commits(text *t, mq_store *store)
{
    mq_store_commits c = {0};
    if (store)
        mq_store_commit_stats(store, &c);
    put(t,
        "# HELP mq_store_commits_total Group commits of saved quotes.\n"
        "# TYPE mq_store_commits_total counter\n"
        "mq_store_commits_total %lld\n"
        "# HELP mq_store_committed_quotes_total Quotes saved by those commits.\n"
        "# TYPE mq_store_committed_quotes_total counter\n"
        "mq_store_committed_quotes_total %lld\n"
        "# HELP mq_store_commit_seconds How long a group commit took, its flush to disk "
        "included.\n"
        "# TYPE mq_store_commit_seconds histogram\n",
        (long long)c.commits, (long long)c.quotes);
    long long cumulative = 0;
    for (int b = 0; b < MQ_STORE_COMMIT_BUCKETS; b++) {
        cumulative += c.took[b];
        put(t, "mq_store_commit_seconds_bucket{le=\"%g\"} %lld\n", mq_store_commit_bounds[b],
            cumulative);
    }
    cumulative += c.took[MQ_STORE_COMMIT_BUCKETS];
    put(t,
        "mq_store_commit_seconds_bucket{le=\"+Inf\"} %lld\n"
        "mq_store_commit_seconds_sum %.6f\n"
        "mq_store_commit_seconds_count %lld\n"
        "# HELP mq_store_save_wait_seconds How long saved quotes waited for the store, from "
        "being queued to their commit being on disk.\n"
        "# TYPE mq_store_save_wait_seconds summary\n"
        "mq_store_save_wait_seconds_sum %.6f\n"
        "mq_store_save_wait_seconds_count %lld\n"
        "# HELP mq_store_failed 1 once a write to the SQLite database's disk failed (or its "
        "file was moved away): it refuses writes until a restart. Never set on PostgreSQL.\n"
        "# TYPE mq_store_failed gauge\n"
        "mq_store_failed %d\n",
        cumulative, c.seconds, cumulative, c.waited, (long long)c.quotes,
        store && mq_store_failed(store, NULL, 0) ? 1 : 0);
    /* what /healthz answers, from the store's last news (never a query) */
    mq_store_health_info h = {.ok = false};
    if (store)
        mq_store_health(store, &h);
    put(t,
        "# HELP mq_store_healthy 1 while the node can save quotes, as /healthz says (200); 0 "
        "while the database refuses writes, cannot be reached or has not answered for 3 s.\n"
        "# TYPE mq_store_healthy gauge\n"
        "mq_store_healthy %d\n",
        h.ok ? 1 : 0);
}

static void carriers(text *t, mq_server *s)
{
    mq_metrics *m = &s->metrics;
    put(t, "# HELP mq_carrier_rating_seconds Time each carrier took to answer: a local plan's "
           "rating, or a remote carrier's call.\n"
           "# TYPE mq_carrier_rating_seconds histogram\n");
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < m->ncarriers; i++) {
        char *id = label_value(m->carrier_ids[i]);
        if (!id) {
            t->oom = true;
            break;
        }
        carrier_buckets(t, m, i, id);
        put(t, "mq_carrier_rating_seconds_sum{carrier=\"%s\"} %.9f\n", id,
            (double)atomic_load(&m->carrier_ns[i]) / 1e9);
        put(t, "mq_carrier_rating_seconds_count{carrier=\"%s\"} %ld\n", id,
            atomic_load(&m->carrier_count[i]));
        free(id);
    }
    pthread_mutex_unlock(&s->lock);
    put(t,
        "# HELP mq_plan_reloads_total Plan reloads on SIGHUP by result.\n"
        "# TYPE mq_plan_reloads_total counter\n"
        "mq_plan_reloads_total{result=\"ok\"} %ld\n"
        "mq_plan_reloads_total{result=\"failed\"} %ld\n"
        "# HELP mq_plan_reload_failing 1 while the last SIGHUP reload failed: the plans loaded "
        "before it are still in use (the log's plan_error lines say why).\n"
        "# TYPE mq_plan_reload_failing gauge\n"
        "mq_plan_reload_failing %d\n",
        atomic_load(&m->reloads_ok), atomic_load(&m->reloads_failed),
        atomic_load(&m->reload_failing) ? 1 : 0);
    put(t,
        "# HELP mq_http_rate_limited_total API requests refused by the per-client rate limit "
        "(429).\n"
        "# TYPE mq_http_rate_limited_total counter\n"
        "mq_http_rate_limited_total %ld\n"
        "# HELP mq_http_slow_requests_cut_total Connections cut because their request took "
        "longer than --request-timeout to arrive.\n"
        "# TYPE mq_http_slow_requests_cut_total counter\n"
        "mq_http_slow_requests_cut_total %ld\n"
        "# HELP mq_http_connections_refused_total Connections closed at once because their "
        "client (an IPv4 address, an IPv6 /64) already held --max-per-ip.\n"
        "# TYPE mq_http_connections_refused_total counter\n"
        "mq_http_connections_refused_total %ld\n",
        atomic_load(&m->rate_limited), atomic_load(&m->slow_requests_cut),
        atomic_load(&m->per_ip_refused));
    put(t,
        "# HELP mq_store_save_timeouts_total Quotes answered 503 storage_timeout because the "
        "database had not confirmed their commit within --save-timeout.\n"
        "# TYPE mq_store_save_timeouts_total counter\n"
        "mq_store_save_timeouts_total %ld\n"
        "# HELP mq_store_late_saves_total How the saves of those quotes ended, later: stored, "
        "or not.\n"
        "# TYPE mq_store_late_saves_total counter\n"
        "mq_store_late_saves_total{outcome=\"stored\"} %ld\n"
        "mq_store_late_saves_total{outcome=\"failed\"} %ld\n",
        atomic_load(&m->save_timeouts), atomic_load(&m->late_saves[0]),
        atomic_load(&m->late_saves[1]));
    store_commits(t, s->store);
    put(t,
        "# HELP mq_http_connections Open HTTP connections.\n"
        "# TYPE mq_http_connections gauge\n"
        "mq_http_connections %d\n",
        atomic_load(&s->active_connections));
}

char *mq_metrics_text(mq_server *s)
{
    text t = {.buf = malloc(4096), .cap = 4096};
    if (!t.buf)
        return NULL;
    requests(&t, &s->metrics);
    quotes(&t, &s->metrics);
    carriers(&t, s);
    char *remote = mq_api_remote_metrics(s);
    if (remote)
        put(&t, "%s", remote);
    else
        t.oom = true;
    free(remote);
    if (t.oom) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}
