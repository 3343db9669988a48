/* server.c -- the HTTP daemon: connections, bodies, lifecycle, plumbing.
 *
 * libmicrohttpd calls on_request several times per request: first with the
 * headers (we only allocate our state: queueing a response then would close
 * the connection), then with body chunks (copied, capped at 1 MiB), then a
 * last time, when api.c answers. The listener (listener.c) accepts, and
 * runs libmicrohttpd's daemons on connection threads of its own, which
 * read requests, answer the cheap routes and send answers; POST /v1/quotes
 * is rated on threads of our own while its connection waits suspended (see
 * "Rating threads"), and resumed through the listener. The live
 * plans are reference-counted so a SIGHUP reload swaps them without a
 * request ever seeing a half-loaded engine. The main thread waits for
 * signals: SIGHUP reloads, SIGTERM/SIGINT stop accepting, let in-flight
 * requests finish, close the connections of those still unfinished after
 * the drain (a stalled upload, an answer its client does not read), then
 * stop. Every request leaves one JSON access-log line
 * on stderr with no request content in it.
 *
 * Hardening: the listener caps connections (in all and per address);
 * libmicrohttpd closes idle ones and answers 431/414 itself when a request overflows a
 * connection's memory; below that, on_request refuses, with a JSON error and
 * the usual security headers, a request whose body's end is ambiguous or
 * whose header fields are malformed (answered at once, the connection
 * closed: see "Message framing"), a URL, headers or body over the
 * configured limits, an API client over its rate (ratelimit.c, 429 with
 * Retry-After), a cross-site POST (403) and a body in a content coding
 * (415). Other refusals are decided when the headers arrive and answered
 * after the body has been read and dropped, so the client sees them (at
 * once, closing the connection, when the client waits for 100-continue or
 * announces a body of more than 16 times the limit; a chunked body is
 * dropped up to that much, then its connection closed).
 * A watcher thread cuts connections whose request trickles in for longer
 * than the request timeout (slowloris), which the idle timeout alone cannot.
 * A clock thread answers a quote whose save the store has not ended by its
 * deadline (--save-timeout: a database or disk that stalls), 503 with an
 * unknown outcome, while the store keeps what it is still reading.
 */
#include "jsontext.h"
#include "listener.h"
#include "privacy.h"
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum { BODY_MAX = 1024 * 1024, PATH_MAX_LEN = 512, DRAIN_SECONDS = 10, WATCH_TICK_MS = 200 };
/* --save-timeout's default: under nginx's proxy_read_timeout (30 s in
 * docs/deploy.md) and a browser's patience, over any commit a working disk
 * or database takes (the slowest seen: about 1 s) */
enum { SAVE_SECONDS = 10 };
/* Threads reading saved quotes (off_connection_thread). */
enum { READ_THREADS = 2 };
/* A refused body announced at more than this many times --max-body is not
 * drained: the refusal is sent at once (on_request); one not announced
 * (chunked) is read that far, then its connection is closed. */
enum { FAR_TOO_BIG = 16 };

typedef struct conn_req {
    char *body;
    size_t len, cap;
    size_t dropped; /* bytes of a refused body read and dropped */
    bool too_big;
    /* a quote waiting for its group commit while the connection is suspended */
    struct MHD_Connection *conn;
    mq_server *server;
    bool deferred;
    atomic_int saved; /* save_state */
    mq_store_quote q;
    char day[11];
    char *text; /* the response, once saved */
    /* the 201's body when it is not `text` (ACORD XML; NULL: text) */
    char *answer;
    size_t answer_len;
    const char *answer_type;
    char *sealed; /* q's sealed request, subject and key id (mq_api_seal_quote) */
    char *location;
    int line;
    struct timespec start;
    /* on_request has seen it (it counts in active_requests); false while
     * only its request line is known (on_request_line) */
    bool started;
    char method[8];
    char *path; /* the whole URL path (at most limits.max_url bytes) */
    int status;
    /* a refusal decided from the headers, answered once the body is dropped */
    int reject;
    int retry_after;
    const char *reject_code;
    char reject_msg[160];
    mq_route route;
    size_t resp_len;
    /* a quote for the rating threads: queued after next_job; its answer,
     * when it is not saved first (an error, a fan-out), waits in reply */
    const char *content_type;
    struct conn_req *next_job;
    bool rated;
    struct mq_http_req *reply; /* NULL with rated: no memory for it */
    /* its save's deadline (see "Save deadlines") */
    bool clocked; /* handed to the store with a deadline */
    mq_save_deadline dl;
    /* answered at its deadline: the connection's end and the save's end
     * each add one; the second frees what the store was still reading */
    atomic_int released;
} conn_req;

/* Where a quote handed to the store stands (conn_req.saved). */
enum save_state { SAVE_WAITING, SAVE_STORED, SAVE_FAILED, SAVE_LATE };

static atomic_int active_requests;

/* ---- Log --------------------------------------------------------------- */

/* A log line under construction: bytes past `end` are dropped. */
typedef struct log_buf {
    char *at, *end;
} log_buf;

static void log_put(log_buf *b, const char *s, size_t n)
{
    if (n > (size_t)(b->end - b->at))
        n = (size_t)(b->end - b->at);
    memcpy(b->at, s, n);
    b->at += n;
}

static void log_str(log_buf *b, const char *s)
{
    log_put(b, s, strlen(s));
}

/* v in decimal, at least `width` digits (zero-padded). */
static void log_uint(log_buf *b, unsigned long long v, int width)
{
    char digits[24];
    int n = 0;
    do
        digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    while ((v /= 10) || n < width);
    log_put(b, digits + sizeof digits - n, (size_t)n);
}

/* {"ts":"2026-11-30T07:35:04.123Z", : the start of every log line (UTC). */
static void log_start(log_buf *b)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char day[11];
    long long secs = (long long)now.tv_sec, of_day = secs % 86400;
    if (of_day < 0)
        of_day += 86400;
    mq_date_format((int32_t)((secs - of_day) / 86400), day);
    log_str(b, "{\"ts\":\"");
    log_put(b, day, 10);
    log_put(b, "T", 1);
    log_uint(b, (unsigned long long)of_day / 3600, 2);
    log_put(b, ":", 1);
    log_uint(b, (unsigned long long)of_day / 60 % 60, 2);
    log_put(b, ":", 1);
    log_uint(b, (unsigned long long)of_day % 60, 2);
    log_put(b, ".", 1);
    log_uint(b, (unsigned long long)now.tv_nsec / 1000000, 3);
    log_str(b, "Z\",");
}

/* Ends the line (its buffer keeps two bytes past `end` for this) and writes
 * it to stderr in one write, so that lines of different threads never mix. */
static void log_end(log_buf *b, char *line)
{
    memcpy(b->at, "}\n", 2);
    b->at += 2;
    fwrite(line, 1, (size_t)(b->at - line), stderr);
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
    char line[1200];
    log_buf b = {line, line + sizeof line - 2}; /* room for log_end's "}\n" */
    log_start(&b);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b.at, (size_t)(b.end - b.at) + 1, fmt, ap);
    va_end(ap);
    b.at += n < 0 ? 0 : (size_t)n < (size_t)(b.end - b.at) ? (size_t)n : (size_t)(b.end - b.at);
    log_end(&b, line);
}

void mq_server_log_event(const char *event, const char *message)
{
    char *clean = mq_jw_utf8_clean(message ? message : "");
    mq_jw w = {0};
    mq_jw_str(&w, clean ? clean : "");
    char *text = mq_jw_finish(&w);
    log_line("\"event\":\"%s\",\"message\":%s", event, text ? text : "\"\"");
    free(text);
    free(clean);
}

/* Keeps a request's path or method printable in the access log: quotes,
 * backslashes, controls and bytes beyond ASCII become '_' (libmicrohttpd
 * takes any bytes but spaces for a method: G"T would end the JSON string).
 * (Messages go through mq_server_log_event instead, which escapes them.) */
static void safe_path(const char *in, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 1 < n; i++) {
        unsigned char c = (unsigned char)in[i];
        out[j++] = (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) ? '_' : (char)c;
    }
    out[j] = '\0';
}

/* Whether the n bytes at p could be a VIN: 17 letters and digits. */
static bool looks_like_vin(const char *p, size_t n)
{
    if (n != 17)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z')))
            return false;
    return true;
}

/* How much of a quote id the access log keeps: all but its last 22
 * characters (110 of the 128 random bits), so a line can be matched with a
 * quote while the log, which operators and their tools read widely, cannot
 * open one (the id is all it takes: GET /v1/quotes/{id}, /q/{id}). */
enum { LOGGED_ID_HIDDEN = 22 };

/* A request's path as the access log keeps it. A VIN is personal data: the
 * VIN route is logged as "/v1/vin/{vin}", and any other path's segment
 * that could be a VIN (a mistyped route, //v1/vin/...) as "{vin}"; a quote
 * id is cut to its start and "..." (LOGGED_ID_HIDDEN); then safe_path. */
static void log_path(const char *in, char *out, size_t n)
{
    if (strncmp(in, "/v1/vin/", 8) == 0) {
        safe_path("/v1/vin/{vin}", out, n);
        return;
    }
    char masked[PATH_MAX_LEN];
    size_t j = 0;
    for (const char *p = in; *p && j + 6 < sizeof masked;) {
        size_t seg = strcspn(p, "/");
        if (looks_like_vin(p, seg)) {
            memcpy(masked + j, "{vin}", 5);
            j += 5;
        } else if (mq_store_id_valid(p, seg) && j + seg + 6 < sizeof masked) {
            memcpy(masked + j, p, seg - LOGGED_ID_HIDDEN);
            j += seg - LOGGED_ID_HIDDEN;
            memcpy(masked + j, "...", 3);
            j += 3;
        } else {
            size_t take = seg < sizeof masked - 6 - j ? seg : sizeof masked - 6 - j;
            memcpy(masked + j, p, take);
            j += take;
        }
        p += seg;
        if (*p == '/' && j + 6 < sizeof masked) {
            masked[j++] = '/';
            p++;
        }
    }
    masked[j] = '\0';
    safe_path(masked, out, n);
}

/* s as a JSON string, quotes included, in at most n - 1 bytes: a text too
 * long for that is cut (at a character's start) until its escaped form fits. */
static void json_quoted_clean(const char *s, char *out, size_t n)
{
    size_t len = strlen(s);
    for (;;) {
        mq_jw w = {0};
        mq_jw_strn(&w, s, len);
        char *text = mq_jw_finish(&w);
        size_t tl = text ? strlen(text) : 0;
        if (text && tl < n) {
            memcpy(out, text, tl + 1);
            free(text);
            return;
        }
        free(text);
        if (!text || len == 0 || n < 3) {
            snprintf(out, n, n >= 3 ? "\"\"" : "");
            return;
        }
        len /= 2;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
}

/* json_quoted_clean of any bytes: invalid UTF-8 becomes U+FFFD first. */
static void json_quoted(const char *raw, char *out, size_t n)
{
    char *s = mq_jw_utf8_clean(raw);
    if (!s) {
        snprintf(out, n, n >= 3 ? "\"\"" : "");
        return;
    }
    json_quoted_clean(s, out, n);
    free(s);
}

/* In a URI's query, the value of every parameter whose name ends in
 * "password" (password=, sslpassword=) becomes "***". */
static void mask_query_passwords(char *uri, size_t cap)
{
    char *q = strchr(uri, '?');
    for (char *p = q; p && *p;) {
        char *name = p + 1, *eq = strchr(name, '='), *end = name + strcspn(name, "&#");
        p = *end == '&' ? end : NULL;
        if (!eq || eq > end || eq - name < 8 || strncmp(eq - 8, "password", 8) != 0)
            continue;
        size_t at = (size_t)(eq + 1 - uri), tail = strlen(end);
        if (at + 3 + tail + 1 > cap)
            return;
        memmove(uri + at + 3, end, tail + 1);
        memcpy(uri + at, "***", 3);
        p = p ? uri + at + 3 : NULL;
    }
}

/* --db for the log, as a JSON string: a postgresql://user:secret@host URI
 * shows "***" for its password, and for a password= in its query (put it
 * in a pgpass file anyway: docs/deploy.md). */
static void db_for_log(const char *db, char *out, size_t n)
{
    char masked[1024];
    snprintf(masked, sizeof masked, "%s", db);
    char *scheme = strstr(masked, "://");
    char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (at && colon && colon < at && !memchr(scheme + 3, '/', (size_t)(at - scheme - 3)) &&
        (size_t)(colon - masked) + 4 + strlen(at) < sizeof masked) {
        memmove(colon + 4, at, strlen(at) + 1); /* not snprintf: the two overlap */
        memcpy(colon + 1, "***", 3);
    }
    if (scheme)
        mask_query_passwords(masked, sizeof masked);
    json_quoted(masked, out, n);
}

/* ---- Plans, shared and reloadable --------------------------------------- */

mq_engine_ref *mq_server_engine_acquire(mq_server *s)
{
    pthread_mutex_lock(&s->lock);
    mq_engine_ref *r = s->live;
    r->refs++;
    pthread_mutex_unlock(&s->lock);
    return r;
}

void mq_server_engine_release(mq_server *s, mq_engine_ref *r)
{
    pthread_mutex_lock(&s->lock);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        mq_engine_free(r->engine);
        free(r);
    }
}

static mq_engine_ref *load_engine(const char *dir)
{
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    for (int i = 0; i < d.count && i < 20; i++) {
        char text[900];
        json_quoted(d.items[i].text, text, sizeof text);
        log_line("\"event\":\"plan_error\",\"message\":%s", text);
    }
    mq_diags_free(&d);
    if (!e)
        return NULL;
    mq_engine_ref *r = calloc(1, sizeof(*r));
    if (!r) {
        mq_engine_free(e);
        return NULL;
    }
    r->engine = e;
    r->refs = 1;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(r->loaded_at, sizeof r->loaded_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return r;
}

const mq_priv_ring *mq_server_keys(mq_server *s)
{
    return atomic_load_explicit(&s->keys, memory_order_acquire);
}

/* SIGHUP: the key ring read again (after rotate-key, new quotes are sealed
 * under its new key, and the quotes it re-sealed open). The old ring is
 * kept until the server stops: a request may be using it. A ring that does
 * not load keeps the old one. */
static void reload_keys(mq_server *s)
{
    char err[512], msg[600];
    if (s->nold_keys == MQ_OLD_KEY_RINGS) {
        log_line("\"event\":\"keys_reload_failed\",\"message\":\"the key ring was reloaded %d "
                 "times since the start; restart to reload it again\"",
                 MQ_OLD_KEY_RINGS);
        return;
    }
    mq_priv_ring *fresh = mq_priv_ring_load(s->cfg.key_file, false, err, sizeof err);
    if (!fresh) {
        snprintf(msg, sizeof msg, "%s; keeping the key ring loaded before", err);
        mq_server_log_event("keys_reload_failed", msg);
        return;
    }
    s->old_keys[s->nold_keys++] = atomic_exchange_explicit(&s->keys, fresh, memory_order_acq_rel);
    log_line("\"event\":\"keys_reloaded\",\"current_key\":%d", mq_priv_current_key(fresh));
}

static void reload(mq_server *s)
{
    reload_keys(s);
    mq_engine_ref *fresh = load_engine(s->cfg.plans_dir);
    if (!fresh) {
        char plans[600];
        atomic_fetch_add(&s->metrics.reloads_failed, 1);
        atomic_store(&s->metrics.reload_failing, true);
        json_quoted(s->cfg.plans_dir, plans, sizeof plans);
        log_line("\"event\":\"reload_failed\",\"message\":\"plans have errors; keeping the "
                 "plans loaded before\",\"plans_dir\":%s",
                 plans);
        return;
    }
    pthread_mutex_lock(&s->lock);
    mq_engine_ref *old = s->live;
    s->live = fresh;
    pthread_mutex_unlock(&s->lock);
    mq_server_engine_release(s, old);
    atomic_fetch_add(&s->metrics.reloads_ok, 1);
    atomic_store(&s->metrics.reload_failing, false);
    log_line("\"event\":\"reloaded\",\"plans\":%d", mq_engine_plan_count(fresh->engine));
}

/* A carrier that has no slot in the metrics (the table full, or no memory
 * for its id): said once in the log, so that its missing series is known. */
static void carrier_not_timed(mq_metrics *m, const char *carrier, int n)
{
    if (atomic_exchange(&m->carriers_full, true))
        return;
    char id[300];
    json_quoted(carrier, id, sizeof id);
    if (n >= MQ_METRIC_CARRIERS)
        log_line("\"event\":\"warning\",\"message\":\"mq_carrier_rating_seconds is full "
                 "(%d carriers): this carrier and any later ones are not timed\",\"carrier\":%s",
                 n, id);
    else
        log_line("\"event\":\"warning\",\"message\":\"out of memory: this carrier is not "
                 "timed in mq_carrier_rating_seconds\",\"carrier\":%s",
                 id);
}

void mq_server_note_carrier_time(mq_server *s, const char *carrier, int64_t ns)
{
    mq_metrics *m = &s->metrics;
    int slot = -1;
    /* known carriers are found without the lock: slots are only ever added,
     * each published by the release store of ncarriers */
    int n = atomic_load_explicit(&m->ncarriers, memory_order_acquire);
    for (int i = 0; i < n && slot < 0; i++)
        if (strcmp(m->carrier_ids[i], carrier) == 0)
            slot = i;
    if (slot < 0) {
        pthread_mutex_lock(&s->lock);
        n = atomic_load_explicit(&m->ncarriers, memory_order_relaxed);
        for (int i = 0; i < n && slot < 0; i++)
            if (strcmp(m->carrier_ids[i], carrier) == 0)
                slot = i;
        char *id = slot < 0 && n < MQ_METRIC_CARRIERS ? strdup(carrier) : NULL;
        if (id) {
            slot = n;
            m->carrier_ids[n] = id;
            atomic_store_explicit(&m->ncarriers, n + 1, memory_order_release);
        }
        pthread_mutex_unlock(&s->lock);
        if (slot < 0)
            carrier_not_timed(m, carrier, n);
    }
    if (slot >= 0) {
        int b = 0;
        while (b < MQ_CARRIER_BUCKETS && (double)ns / 1e9 > mq_carrier_bucket_bounds[b])
            b++;
        atomic_fetch_add(&m->carrier_hist[slot][b], 1);
        atomic_fetch_add(&m->carrier_ns[slot], ns);
        atomic_fetch_add(&m->carrier_count[slot], 1);
    }
}

/* ---- Static files -------------------------------------------------------- */

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".mjs", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".ico", "image/x-icon"},
                 {".yaml", "application/yaml; charset=utf-8"},
                 {".json", "application/json"}};
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

enum { STATIC_FILE_MAX = 4 * BODY_MAX };

/* A file that will not be served (a 404 at its address), and why. */
static void warn_not_served(const char *fs_path, const char *why)
{
    char where[600], text[300];
    json_quoted(fs_path, where, sizeof where);
    json_quoted(why, text, sizeof text);
    log_line("\"event\":\"warning\",\"message\":\"a file is not served\",\"file\":%s,"
             "\"reason\":%s",
             where, text);
}

/* Reads fs_path whole, to serve at url; false after logging why it will
 * not be served (it cannot be read, it is a folder, or it is larger than
 * STATIC_FILE_MAX: before, such a file was cut there and served). */
static bool add_file(mq_server *s, const char *fs_path, const char *url)
{
    FILE *f = fopen(fs_path, "rb");
    if (!f) {
        warn_not_served(fs_path, strerror(errno));
        return false;
    }
    char *body = malloc(STATIC_FILE_MAX + 1);
    size_t n = body ? fread(body, 1, STATIC_FILE_MAX + 1, f) : 0;
    int read_errno = body && ferror(f) ? errno : 0;
    fclose(f);
    const char *why = !body                 ? "out of memory"
                      : read_errno          ? strerror(read_errno)
                      : n > STATIC_FILE_MAX ? "larger than 4 MiB"
                                            : NULL;
    char *shrunk = why ? NULL : realloc(body, n ? n : 1); /* only its bytes stay allocated */
    char *path = shrunk ? strdup(url) : NULL;
    struct mq_static_file *files =
        path ? realloc(s->files, sizeof(*files) * (size_t)(s->nfiles + 1)) : NULL;
    if (!files) {
        warn_not_served(fs_path, why ? why : "out of memory");
        free(shrunk ? shrunk : body);
        free(path);
        return false;
    }
    s->files = files;
    s->files[s->nfiles++] = (struct mq_static_file){path, shrunk, n, content_type(url)};
    return true;
}

static void load_static(mq_server *s)
{
    DIR *d = opendir(s->cfg.web_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char fs[1024], url[600];
        snprintf(fs, sizeof fs, "%s/%s", s->cfg.web_dir, de->d_name);
        snprintf(url, sizeof url, "/static/%s", de->d_name);
        add_file(s, fs, url);
    }
    if (d) {
        closedir(d);
    } else {
        char web[600];
        json_quoted(s->cfg.web_dir, web, sizeof web);
        log_line("\"event\":\"warning\",\"message\":\"no web folder\",\"web_dir\":%s", web);
    }
    if (s->cfg.openapi_path)
        add_file(s, s->cfg.openapi_path, "/v1/openapi.yaml");
}

/* ---- Requests ------------------------------------------------------------ */

/* Scripts and styles only from our own files (no inline code, so injected
 * markup cannot run), no framing, no referrer leaving the site. */
static const char CSP[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                          "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

void mq_server_secure_response(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
}

static void add_common_headers(struct MHD_Response *resp, const char *type, bool api)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    mq_server_secure_response(resp);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, api ? "no-store" : "no-cache");
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, conn_req *cr, mq_http_req *r)
{
    if (!r->response) {
        mq_api_error(r, 500, "internal", "no response", "");
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->response_len, r->response, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r->response);
        return MHD_NO;
    }
    bool api = strncmp(cr->path, "/v1/", 4) == 0 || strcmp(cr->path, "/metrics") == 0 ||
               strcmp(cr->path, "/healthz") == 0;
    add_common_headers(resp, r->response_type ? r->response_type : "application/json", api);
    if (atomic_load(&cr->server->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->authenticate);
    if (cr->retry_after > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", cr->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    cr->status = r->status;
    cr->route = r->route;
    cr->resp_len = r->response_len;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static bool serve_static(mq_server *s, mq_http_req *r)
{
    const char *want = r->path;
    if (strcmp(want, "/") == 0 || strncmp(want, "/q/", 3) == 0)
        want = "/static/index.html";
    for (int i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i].path, want) == 0) {
            if (!mq_api_only_get(r))
                return true;
            r->status = 200;
            r->response = malloc(s->files[i].len ? s->files[i].len : 1);
            if (!r->response) {
                mq_api_error(r, 500, "internal", "out of memory", "");
                return true;
            }
            memcpy(r->response, s->files[i].body, s->files[i].len);
            r->response_len = s->files[i].len;
            r->response_type = s->files[i].type;
            r->route = strcmp(want, r->path) == 0 && strcmp(want, "/v1/openapi.yaml") != 0
                           ? ROUTE_STATIC
                       : strcmp(want, "/v1/openapi.yaml") == 0 ? ROUTE_OPENAPI
                                                               : ROUTE_PAGE;
            return true;
        }
    return false;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- Save deadlines ------------------------------------------------------- */

/* A quote handed to the store waits for its commit to end: its connection
 * suspended, or its event stream without its last event. A database that
 * stalls (a backend stopped, packets dropped by a firewall, a disk that
 * hangs) would hold it until the client's own timeout. With --save-timeout
 * S, a quote whose commit has not ended S seconds after it was handed over
 * is answered 503 storage_timeout (a stream: its last event says so) at
 * once: its outcome is unknown (the store still holds it and may yet
 * commit it). The store goes on reading the quote's texts, so they stay
 * until both the answer and the save have ended. Every deadline is the
 * hand-over time plus the same S, so the list is in deadline order by
 * construction: the clock thread looks at its head only. An entry leaves
 * the list when its save ends (mq_server_deadline_remove) or at its
 * deadline (clock_run), both under the lock, so exactly one of them
 * answers the quote. */
typedef struct mq_save_clock {
    pthread_mutex_t lock; /* guards the list, on_clock and stop */
    pthread_cond_t wake;  /* stop */
    mq_save_deadline *head, *tail;
    int64_t timeout_ns;
    bool stop;
    pthread_t thread;
    mq_server *server;
    atomic_int late; /* quotes answered at their deadline whose save has not ended */
    /* the log line of quotes answered at their deadline: at most one a second */
    int64_t logged_ns;
    long unlogged;
} save_clock;

/* The quotes answered at their deadline and not yet logged (the clock's
 * lock held): one line for them all, at most one a second; those left are
 * logged by a later call (the clock wakes for them), so the lines add up
 * to every such quote. */
static void log_timed_out(save_clock *c, int64_t now)
{
    if (!c->unlogged || (c->logged_ns && now - c->logged_ns < 1000000000))
        return;
    log_line("\"event\":\"save_timed_out\",\"quotes\":%ld,\"message\":\"the database did not "
             "confirm these quotes' commit within --save-timeout (%lld s): answered 503 "
             "storage_timeout; each may still be saved\"",
             c->unlogged, (long long)(c->timeout_ns / 1000000000));
    c->unlogged = 0;
    c->logged_ns = now;
}

static void clock_unlink(save_clock *c, mq_save_deadline *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        c->head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        c->tail = d->prev;
    d->prev = d->next = NULL;
    d->on_clock = false;
}

bool mq_server_deadline_add(mq_server *s, mq_save_deadline *d)
{
    save_clock *c = s->save_clock;
    if (!c)
        return false;
    pthread_mutex_lock(&c->lock);
    d->at_ns = now_ns() + c->timeout_ns;
    d->prev = c->tail;
    d->next = NULL;
    /* the clock is not woken: with nothing on it, it sleeps a second at
     * most, and a deadline is a second away at least */
    if (c->tail)
        c->tail->next = d;
    else
        c->head = d;
    c->tail = d;
    d->on_clock = true;
    pthread_mutex_unlock(&c->lock);
    return true;
}

bool mq_server_deadline_remove(mq_server *s, mq_save_deadline *d)
{
    save_clock *c = s->save_clock;
    pthread_mutex_lock(&c->lock);
    bool was_on = d->on_clock;
    if (was_on)
        clock_unlink(c, d);
    pthread_mutex_unlock(&c->lock);
    return was_on;
}

void mq_server_late_save_ended(mq_server *s, bool ok)
{
    atomic_fetch_add(&s->metrics.late_saves[ok ? 0 : 1], 1);
    atomic_fetch_sub(&s->save_clock->late, 1);
}

void mq_server_save_timed_out(mq_server *s, mq_http_req *r, const char *id)
{
    char msg[400];
    snprintf(msg, sizeof msg,
             "the database did not confirm the quote within %u s, so it is not known whether it "
             "was stored: it may still be saved once the database answers; GET /v1/quotes/%s "
             "later says whether it was",
             s->cfg.limits.save_timeout_s, id);
    mq_api_error(r, 503, "storage_timeout", msg, "");
}

static void *clock_run(void *arg)
{
    save_clock *c = arg;
    pthread_setname_np(pthread_self(), "mq-deadline"); /* for top -H, perf and gdb */
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        mq_save_deadline *d = c->head;
        int64_t now = now_ns();
        if (d && d->at_ns <= now) {
            clock_unlink(c, d);
            atomic_fetch_add(&c->late, 1);
            atomic_fetch_add(&c->server->metrics.save_timeouts, 1);
            c->unlogged++;
            log_timed_out(c, now);
            pthread_mutex_unlock(&c->lock);
            d->expired(d); /* its owner keeps it until then */
            pthread_mutex_lock(&c->lock);
            continue;
        }
        log_timed_out(c, now);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t wait = d ? d->at_ns - now : 1000000000;
        if (c->unlogged && c->logged_ns + 1000000000 - now < wait)
            wait = c->logged_ns + 1000000000 - now; /* when they may be logged */
        until.tv_sec += wait / 1000000000;
        until.tv_nsec += wait % 1000000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&c->wake, &c->lock, &until);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* The clock and its thread; NULL (no deadline) when timeout_s is 0 or it
 * cannot start (*failed then set). */
static save_clock *clock_start(mq_server *s, unsigned timeout_s, bool *failed)
{
    *failed = false;
    if (timeout_s == 0)
        return NULL;
    save_clock *c = calloc(1, sizeof(*c));
    if (!c) {
        *failed = true;
        return NULL;
    }
    c->server = s;
    c->timeout_ns = (int64_t)timeout_s * 1000000000;
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    if (pthread_create(&c->thread, NULL, clock_run, c) != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        free(c);
        *failed = true;
        return NULL;
    }
    return c;
}

/* Once no request is in flight (the list is empty). */
static void clock_stop(save_clock *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Saves answered at their deadline whose commit has not ended yet. */
static int saves_late(const mq_server *s)
{
    return s->save_clock ? atomic_load(&s->save_clock->late) : 0;
}

/* What the store was reading for cr's save: the quote's texts. */
static void free_save(conn_req *cr)
{
    mq_store_packed_free(&cr->q);
    free(cr->sealed);
    free(cr->text);
    free(cr->answer);
    free(cr->location);
    cr->sealed = cr->text = cr->answer = cr->location = NULL;
}

/* One of the two ends of a quote answered at its deadline (its save's, its
 * connection's): the second frees it. */
static void release_late(conn_req *cr)
{
    if (atomic_fetch_add(&cr->released, 1) == 0)
        return;
    free_save(cr);
    free(cr);
}

/* ---- Saving while suspended ---------------------------------------------- */

/* The clock's word that cr's deadline passed: answered 503 (answer_saved);
 * cr stays until its save has ended too (release_late). */
static void conn_expired(mq_save_deadline *d)
{
    conn_req *cr = (conn_req *)((char *)d - offsetof(conn_req, dl));
    atomic_store(&cr->saved, SAVE_LATE);
    mq_listener_resume(cr->server->listener, cr->conn);
}

/* The writer thread's word that the quote is durable (or not). */
static void on_saved(void *arg, bool ok)
{
    conn_req *cr = arg;
    if (cr->clocked && !mq_server_deadline_remove(cr->server, &cr->dl)) {
        /* answered 503 at its deadline (or about to be): only counted, and
         * freed once its connection has ended too */
        mq_server_late_save_ended(cr->server, ok);
        release_late(cr);
        return;
    }
    atomic_store(&cr->saved, ok ? SAVE_STORED : SAVE_FAILED);
    mq_listener_resume(cr->server->listener, cr->conn);
}

/* The 201's body when the handler's is not the saved response (ACORD XML). */
static void take_answer(conn_req *cr, mq_http_req *r)
{
    cr->answer = r->save_answer;
    cr->answer_len = r->save_answer_len;
    cr->answer_type = r->save_answer_type;
    r->save_answer = NULL;
}

/* The handler rated and answered, but the quote is not saved yet: keep the
 * answer, suspend the connection so the thread serves others, and queue the
 * quote for the next group commit; answer_saved replies once it is durable. */
static enum MHD_Result defer_save(mq_server *s, struct MHD_Connection *conn, conn_req *cr,
                                  mq_http_req *r)
{
    cr->deferred = true;
    cr->server = s;
    cr->conn = conn;
    cr->route = r->route;
    MHD_suspend_connection(conn);
    take_answer(cr, r);
    mq_server_save_and_answer(cr, &r->save_q, r->save_line, r->response, r->save_sealed);
    return MHD_YES;
}

/* Saves q with `text` as its answer; the connection, suspended, is resumed
 * once it is durable (or failed). `sealed` is the block q's sealed request
 * points into (taken); NULL when sealing failed, which fails the save. */
void mq_server_save_and_answer(void *later, const mq_store_quote *q, int line, char *text,
                               char *sealed)
{
    conn_req *cr = later;
    cr->q = *q;
    size_t day_len = q->effective_date ? strnlen(q->effective_date, sizeof cr->day - 1) : 0;
    memcpy(cr->day, q->effective_date ? q->effective_date : "", day_len);
    cr->day[day_len] = '\0';
    cr->q.effective_date = cr->day;
    cr->sealed = sealed;
    cr->text = text;
    cr->q.response = cr->text;
    cr->q.response_len = q->response == text ? q->response_len : 0; /* 0: strlen */
    cr->line = line;
    static const char prefix[] = "/v1/quotes/";
    size_t id_len = strlen(q->id);
    cr->location = malloc(sizeof prefix + id_len);
    if (cr->location) {
        memcpy(cr->location, prefix, sizeof prefix - 1);
        memcpy(cr->location + sizeof prefix - 1, q->id, id_len + 1);
    }
    /* packed here, on the rating thread: the store's writer, whose commit
     * every quote of its batch waits for, then only inserts (when packing
     * fails for want of memory, the writer packs them as before) */
    if (text && sealed && !mq_store_pack(cr->server->store, &cr->q))
        cr->q.packed = NULL;
    bool queued = false;
    if (text && cr->location && sealed) {
        cr->dl.expired = conn_expired; /* on the clock before: the save may end at once */
        cr->clocked = mq_server_deadline_add(cr->server, &cr->dl);
        queued = mq_store_save_async(cr->server->store, &cr->q, on_saved, cr);
        if (!queued && cr->clocked && !mq_server_deadline_remove(cr->server, &cr->dl)) {
            /* its deadline passed meanwhile and answered it: this is the
             * end of a save that never began */
            mq_server_late_save_ended(cr->server, false);
            release_late(cr);
            return;
        }
    }
    if (!queued) {
        atomic_store(&cr->saved, SAVE_FAILED);
        mq_listener_resume(cr->server->listener, cr->conn);
    }
}

/* The request waits on remote carriers (api_remote.c): suspend it and let
 * the fan-out finish it through mq_server_save_and_answer; or, streamed,
 * answer 200 now with an event stream that the fan-out fills. */
static enum MHD_Result start_fanout(mq_server *s, struct MHD_Connection *conn, conn_req *cr,
                                    mq_http_req *r)
{
    mq_fanout *f = r->fanout;
    cr->server = s;
    cr->conn = conn;
    cr->route = r->route;
    if (!mq_fanout_streams(f)) {
        cr->deferred = true;
        MHD_suspend_connection(conn);
        mq_fanout_begin(f, cr, conn);
        return MHD_YES;
    }
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, mq_fanout_stream_read, f, mq_fanout_stream_release);
    if (!resp) {
        mq_fanout_stream_release(f); /* the response's reference */
        mq_fanout_begin(f, NULL, conn);
        return MHD_NO;
    }
    add_common_headers(resp, "text/event-stream", true);
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    cr->status = 200;
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    mq_fanout_begin(f, NULL, conn);
    return ret;
}

/* The exchange api.c answers for cr's request, on whichever thread. */
static void http_req_init(mq_http_req *r, conn_req *cr, const char *method,
                          const char *content_type, struct MHD_Connection *conn)
{
    *r = (mq_http_req){
        .method = method,
        .path = cr->path,
        .content_type = content_type,
        .body = cr->body ? cr->body : "",
        .body_len = cr->len,
        .conn = conn,
        /* any method, so a 413 counts under its route */
        .route = strcmp(cr->path, "/v1/quotes") == 0 ? ROUTE_QUOTES_POST : ROUTE_OTHER,
        .can_defer = true,
    };
    mq_arena_init(&r->arena, 8 * 1024 * 1024);
}

/* ---- Rating threads -------------------------------------------------------- */

/* POST /v1/quotes is rated on threads of our own while its connection
 * waits suspended, so the connection threads (listener.c) only read
 * requests and send answers (so is a saved quote read: off_connection_thread). Rated on those
 * threads, an answer whose quote had just been committed waited for its thread to rate every
 * request that had arrived on it meanwhile (0.2 ms each, a dozen at a time under load): most of the
 * p99 beyond the commit itself. A rated quote goes to the store from here
 * (mq_server_save_and_answer), and the writer resumes the connection; so
 * does a fan-out to remote carriers, begun here, once it ends. An answer
 * that is not saved first (an error, an event stream) goes back to the
 * connection's thread, which sends it (send_rated), or frees it when the
 * client has left meanwhile (drop_unsent). */
typedef struct mq_raters {
    pthread_mutex_t lock; /* guards the queue and stop */
    pthread_cond_t work;
    conn_req *head, *tail; /* oldest first, linked by next_job */
    bool stop;
    mq_server *server;
    const char *name; /* of its threads */
    int nthreads;
    pthread_t threads[];
} raters;

/* The requests answered on the rating threads: POST /v1/quotes, and the
 * reads of a saved quote (GET /v1/quotes/{id}, its worksheets). A read
 * waits for the database: on a connection thread, one that hung (SQLite's
 * writer stuck in a flush that never returns holds the lock every read
 * takes; a PostgreSQL server gone silent) held every connection of that
 * thread with it, /healthz and /metrics too, and a quote's answer at its
 * --save-timeout. */
static bool off_connection_thread(const char *method, const char *path)
{
    if (strcmp(method, "POST") == 0)
        return strcmp(path, "/v1/quotes") == 0;
    return strcmp(method, "GET") == 0 && strncmp(path, "/v1/quotes/", 11) == 0;
}

static enum MHD_Result rate_later(mq_server *s, struct MHD_Connection *conn, conn_req *cr)
{
    raters *w = strcmp(cr->method, "GET") == 0 ? s->readers : s->raters;
    cr->server = s;
    cr->conn = conn;
    cr->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    cr->next_job = NULL;
    MHD_suspend_connection(conn);
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next_job = cr;
    else
        w->head = cr;
    w->tail = cr;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    return MHD_YES;
}

/* Rates cr's request (on a rating thread) and hands the quote to the store,
 * or the answer back to the connection's thread. */
static void rate_request(mq_server *s, conn_req *cr)
{
    mq_http_req *r = malloc(sizeof(*r));
    if (!r) {
        cr->rated = true; /* with no reply: the connection is closed */
        mq_listener_resume(cr->server->listener, cr->conn);
        return;
    }
    http_req_init(r, cr, cr->method, cr->content_type, cr->conn);
    mq_api_handle(s, r);
    if (r->deferred && !r->fanout) {
        cr->route = r->route;
        cr->deferred = true;
        take_answer(cr, r);
        mq_server_save_and_answer(cr, &r->save_q, r->save_line, r->response, r->save_sealed);
        mq_arena_free(&r->arena);
        free(r);
        return;
    }
    if (r->fanout && !mq_fanout_streams(r->fanout)) {
        /* waits on remote carriers: begun here, the connection still
         * suspended, and its end saves and answers it (through
         * mq_server_save_and_answer) as a rated quote's save does. Handed
         * back to the connection's thread instead, it was lost with a
         * client that left before that thread took it (drop_unsent) */
        mq_fanout *f = r->fanout;
        cr->route = r->route;
        cr->deferred = true;
        mq_arena_free(&r->arena);
        free(r);
        mq_fanout_begin(f, cr, cr->conn); /* cr may be answered and gone once it returns */
        return;
    }
    cr->reply = r;
    cr->rated = true;
    mq_listener_resume(cr->server->listener, cr->conn);
}

/* A rated request's answer that was never sent: its client left while it
 * was rated, and libmicrohttpd closed the connection on its resume without
 * calling on_request again. Freed here; it was leaked (some 4 KiB a
 * request: a client posting invalid requests and hanging up grew the
 * server without bound). An event stream never started is let go by both
 * its references, the response's and the fan-out's own, never begun. */
static void drop_unsent(conn_req *cr)
{
    mq_http_req *r = cr->reply;
    if (!r)
        return;
    cr->reply = NULL;
    if (r->fanout) {
        mq_fanout_stream_release(r->fanout);
        mq_fanout_stream_release(r->fanout);
    }
    free(r->response);
    mq_arena_free(&r->arena);
    free(r);
}

static void *rater_main(void *arg)
{
    raters *w = arg;
    mq_server *s = w->server;
    pthread_setname_np(pthread_self(), w->name); /* for top -H, perf and gdb */
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->work, &w->lock);
        conn_req *cr = w->head;
        if (!cr)
            break; /* stopping, and nothing is left to rate */
        w->head = cr->next_job;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        rate_request(s, cr);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Starts n threads named `name` taking jobs from one queue; NULL when none
 * starts. */
static raters *raters_start(mq_server *s, int n, const char *name)
{
    raters *w = calloc(1, sizeof(*w) + (size_t)n * sizeof(pthread_t));
    if (!w)
        return NULL;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    w->server = s;
    w->name = name;
    for (; w->nthreads < n; w->nthreads++)
        if (pthread_create(&w->threads[w->nthreads], NULL, rater_main, w) != 0)
            break;
    if (w->nthreads > 0)
        return w;
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return NULL;
}

/* Rates what is queued, then stops the threads (*pw is NULL after). */
static void raters_stop(raters **pw)
{
    raters *w = *pw;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    *pw = NULL;
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* The answer of a request rated on a rating thread that was not saved
 * first: sent (or its fan-out started) on the connection's own thread. */
static enum MHD_Result send_rated(mq_server *s, struct MHD_Connection *conn, conn_req *cr)
{
    mq_http_req *r = cr->reply;
    cr->rated = false;
    cr->reply = NULL;
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = r->fanout ? start_fanout(s, conn, cr, r) : send_reply(conn, cr, r);
    mq_arena_free(&r->arena);
    free(r);
    return ret;
}

static enum MHD_Result answer_saved(struct MHD_Connection *conn, conn_req *cr)
{
    int state = atomic_load(&cr->saved);
    if (state == 0)
        return MHD_YES; /* not yet: MHD calls again after the resume */
    mq_http_req r = {.method = cr->method, .path = cr->path, .route = cr->route};
    cr->deferred = false;
    if (state == SAVE_LATE) {
        /* the store still reads the quote: its texts stay (release_late) */
        mq_server_save_timed_out(cr->server, &r, cr->q.id);
    } else if (state == SAVE_STORED) {
        atomic_fetch_add(&cr->server->metrics.quotes[cr->line][0], 1);
        r.status = 201;
        r.response = cr->text;
        r.response_len = cr->q.response_len ? cr->q.response_len : strlen(cr->text);
        r.response_type = "application/json";
        if (cr->answer) { /* the saved response is not the answer */
            free(cr->text);
            r.response = cr->answer;
            r.response_len = cr->answer_len;
            r.response_type = cr->answer_type;
            cr->answer = NULL;
        }
        r.location = cr->location;
        cr->text = NULL; /* the response's now */
    } else {
        free(cr->text);
        free(cr->answer);
        cr->text = cr->answer = NULL;
        mq_api_save_failed_id(cr->server, &r, cr->q.id);
    }
    return send_reply(conn, cr, &r);
}

/* ---- Slow requests --------------------------------------------------------- */

/* One open connection, watched while a request is arriving on it: from the
 * connection's start, or the end of its previous request, the next request
 * must be complete (headers and body) before `deadline_ns`; 0 while it is
 * being answered. The list is guarded by the watch's lock, taken when a
 * connection opens or closes and by the watcher's scan; deadlines are
 * atomics, moved without the lock by the connection's own thread. The list
 * is kept even with no request timeout (no watcher thread then): a stop
 * cuts what is left on it after the drain (watch_cut_all). */
typedef struct mq_conn_watch_entry {
    MHD_socket fd;
    atomic_llong deadline_ns;
    struct mq_conn_watch_entry *prev, *next;
} watch_entry;

struct mq_conn_watch {
    pthread_mutex_t lock;
    watch_entry *head;
    int64_t timeout_ns;
    pthread_t thread;
    bool running; /* the thread was started (a request timeout is set) */
    atomic_bool stop;
    atomic_long *cut_total; /* the server's metric */
};

static void watch_arm(watch_entry *e, const struct mq_conn_watch *w)
{
    if (e)
        atomic_store(&e->deadline_ns, now_ns() + w->timeout_ns);
}

static void watch_disarm(watch_entry *e)
{
    if (e)
        atomic_store(&e->deadline_ns, 0);
}

static watch_entry *watch_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static watch_entry *watch_add(struct mq_conn_watch *w, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    watch_entry *e = ci ? calloc(1, sizeof(*e)) : NULL;
    if (!e)
        return NULL; /* unwatched: only the idle timeout applies to it */
    e->fd = ci->connect_fd;
    watch_arm(e, w);
    pthread_mutex_lock(&w->lock);
    e->next = w->head;
    if (w->head)
        w->head->prev = e;
    w->head = e;
    pthread_mutex_unlock(&w->lock);
    return e;
}

/* Runs before libmicrohttpd closes the socket, so the watcher never shuts
 * down a descriptor that has been reused by another connection. */
static void watch_remove(struct mq_conn_watch *w, watch_entry *e)
{
    pthread_mutex_lock(&w->lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        w->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    pthread_mutex_unlock(&w->lock);
    free(e);
}

/* Shuts down every connection past its deadline: libmicrohttpd then sees
 * the socket end and closes the connection as if the client had left. */
static int watch_cut_late(struct mq_conn_watch *w)
{
    int64_t now = now_ns();
    int cut = 0;
    pthread_mutex_lock(&w->lock);
    for (watch_entry *e = w->head; e; e = e->next) {
        long long d = atomic_load(&e->deadline_ns); /* the atomic_llong's own type (clang checks) */
        if (d != 0 && d < now && atomic_compare_exchange_strong(&e->deadline_ns, &d, 0)) {
            shutdown(e->fd, SHUT_RDWR);
            cut++;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return cut;
}

/* Shuts down every connection still open, whatever it is doing: a stop's
 * last word to requests still arriving, or to clients that do not read
 * their answers, which would otherwise keep the daemon from stopping. */
static int watch_cut_all(struct mq_conn_watch *w)
{
    int cut = 0;
    pthread_mutex_lock(&w->lock);
    for (watch_entry *e = w->head; e; e = e->next) {
        atomic_store(&e->deadline_ns, 0);
        shutdown(e->fd, SHUT_RDWR);
        cut++;
    }
    pthread_mutex_unlock(&w->lock);
    return cut;
}

static void *watch_run(void *arg)
{
    struct mq_conn_watch *w = arg;
    pthread_setname_np(pthread_self(), "mq-watch"); /* for top -H, perf and gdb */
    while (!atomic_load(&w->stop)) {
        struct timespec tick = {0, WATCH_TICK_MS * 1000000L};
        nanosleep(&tick, NULL);
        int cut = watch_cut_late(w);
        if (cut) {
            atomic_fetch_add(w->cut_total, cut);
            log_line("\"event\":\"slow_requests_cut\",\"connections\":%d", cut);
        }
    }
    return NULL;
}

/* The list of connections, and its watcher thread when timeout_s > 0. */
static struct mq_conn_watch *watch_start(unsigned timeout_s, atomic_long *cut_total)
{
    struct mq_conn_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    pthread_mutex_init(&w->lock, NULL);
    w->timeout_ns = (int64_t)timeout_s * 1000000000;
    w->cut_total = cut_total;
    w->running = timeout_s > 0;
    if (w->running && pthread_create(&w->thread, NULL, watch_run, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

/* After the daemon has stopped (every connection closed, the list empty). */
static void watch_stop(struct mq_conn_watch *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, true);
    if (w->running)
        pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* ---- Refusals decided from the headers -------------------------------------- */

static void refuse(conn_req *cr, int status, const char *code, const char *message)
{
    cr->reject = status;
    cr->reject_code = code;
    snprintf(cr->reject_msg, sizeof cr->reject_msg, "%s", message);
}

/* A size as people read it: "1 MiB", "16 KiB" or "1000 bytes". */
static void size_text(size_t n, char *out, size_t cap)
{
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
        snprintf(out, cap, "%zu MiB", n / (1024 * 1024));
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(out, cap, "%zu KiB", n / 1024);
    else
        snprintf(out, cap, "%zu bytes", n);
}

static void refuse_too_large(conn_req *cr, size_t max_body)
{
    char size[32], msg[64];
    size_text(max_body, size, sizeof size);
    snprintf(msg, sizeof msg, "request body larger than %s", size);
    refuse(cr, 413, "too_large", msg);
}

static enum MHD_Result add_arg_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    size_t *n = cls;
    *n += strlen(key) + (value ? strlen(value) + 1 : 0) + 1;
    return MHD_YES;
}

/* The URL's length as sent: path, '?' and the query arguments. */
static size_t url_length(struct MHD_Connection *conn, const char *url)
{
    size_t n = strlen(url);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg_length, &n);
    return n;
}

static bool headers_too_large(struct MHD_Connection *conn, const mq_server_limits *l)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci && ci->header_size > l->max_header_bytes)
        return true;
    int count = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
    return count < 0 || (unsigned)count > l->max_headers;
}

/* The authority (host[:port]) of an absolute URL such as an Origin or a
 * Referer equals the Host header: then the request comes from our own pages. */
static bool same_authority(const char *url, const char *host)
{
    const char *a = url ? strstr(url, "://") : NULL;
    if (!a || !host)
        return false;
    a += 3;
    size_t n = strcspn(a, "/?#");
    return n == strlen(host) && strncasecmp(a, host, n) == 0;
}

static bool is_safe_method(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0;
}

/* A browser says where a request comes from in Origin (every POST from a
 * page), else Sec-Fetch-Site, else Referer. A request naming another site is
 * refused; one naming none is an API client (curl, a partner), accepted. */
static bool cross_site(struct MHD_Connection *conn)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (origin)
        return !same_authority(origin, host);
    const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (site)
        return strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0;
    const char *referer = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Referer");
    return referer && !same_authority(referer, host);
}

static enum MHD_Result keep_last_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value)
{
    (void)kind;
    if (value && strcasecmp(key, "X-Forwarded-For") == 0)
        *(const char **)cls = value;
    return MHD_YES;
}

/* The last address of the last X-Forwarded-For header: the one our proxy
 * added. Not the first header (libmicrohttpd's lookup): a proxy may add its
 * own header line after the client's (HAProxy's "option forwardfor"), and
 * the client's would name whatever address it likes. An IPv6 address
 * comes bare (nginx's $remote_addr) or in brackets, with or without a port
 * after them ([2001:db8::1]:443). */
static bool forwarded_key(struct MHD_Connection *conn, mq_rl_key *key)
{
    const char *xff = NULL;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, keep_last_forwarded, &xff);
    if (!xff)
        return false;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    char addr[64];
    size_t n = strcspn(last, " \t");
    if (n > 0 && *last == '[') {
        const char *close = memchr(last, ']', n);
        if (!close)
            return false;
        n = (size_t)(close - last) - 1;
        last++;
    }
    if (n == 0 || n >= sizeof addr)
        return false;
    memcpy(addr, last, n);
    addr[n] = '\0';
    return mq_rl_key_from_text(addr, key);
}

/* The client's rate-limit key: its address's (an IPv6 client's /64), or,
 * from the trusted proxy (its whole address: not its neighbours in its
 * /64), the address its X-Forwarded-For names. */
static bool client_key(mq_server *s, struct MHD_Connection *conn, mq_rl_key *key)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    mq_rl_addr peer;
    if (!ci || !mq_rl_addr_from_sockaddr(ci->client_addr, &peer))
        return false;
    mq_rl_key_of(&peer, key);
    if (s->trust_proxy && memcmp(&peer, &s->proxy_addr, sizeof peer) == 0)
        forwarded_key(conn, key); /* keeps the proxy's key when there is none */
    return true;
}

/* API routes count against the client's rate; the page and its files, the
 * health check and metrics do not, nor do calls to the carrier endpoint
 * that bear its token (MQ_CARRIER_TOKEN): another node asking this one for
 * every quote of its shoppers makes more than a shopper's 20 a second, and
 * its 429s became its results' errors and opened its circuit to us. */
static bool rate_limited(mq_server *s, struct MHD_Connection *conn, const char *url,
                         int *retry_after)
{
    mq_rl_key key;
    if (!s->ratelimit || strncmp(url, "/v1/", 4) != 0 ||
        (strncmp(url, "/v1/carrier/", 12) == 0 && mq_api_carrier_bearer(conn)) ||
        !client_key(s, conn, &key))
        return false;
    return !mq_rl_take(s->ratelimit, &key, now_ns(), retry_after);
}

/* Decides, from the request line and headers, whether to refuse it. */
/* libmicrohttpd decodes the URL's %XX escapes in place, and an encoded NUL
 * would end the path there: "/healthz%00x" would be served as /healthz and
 * logged so. A path or query value holding %00 is left as it came, and
 * screen_request refuses a path holding it. */
static size_t unescape_url(void *cls, struct MHD_Connection *conn, char *uri)
{
    (void)cls;
    (void)conn;
    return strstr(uri, "%00") ? strlen(uri) : MHD_http_unescape(uri);
}

/* At most `cap` - 1 bytes of a header's name or value for a message: bytes that are
 * not printable ASCII become '?' (the message must stay valid UTF-8). */
static void printable_name(const char *name, char *out, size_t cap)
{
    size_t j = 0;
    for (; name[j] && j + 1 < cap; j++) {
        unsigned char ch = (unsigned char)name[j];
        out[j] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[j] = '\0';
}

/* Whether the request's body is in a content coding (gzip, br...), named in
 * `coding`: nothing here decodes one, and read as JSON it failed as
 * "invalid JSON at 1:1: unable to decode byte 0x8b". A request without a
 * body, or whose coding is identity, has none. */
static bool coded_body(struct MHD_Connection *conn, char *coding, size_t cap)
{
    const char *ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
    if (!ce || !*ce || strcasecmp(ce, "identity") == 0)
        return false;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (!MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding") &&
        (!cl || strtoull(cl, NULL, 10) == 0))
        return false;
    printable_name(ce, coding, cap);
    return true;
}

static void screen_request(mq_server *s, struct MHD_Connection *conn, conn_req *cr, const char *url,
                           const char *method)
{
    const mq_server_limits *l = &s->cfg.limits;
    char msg[160], size[32], coding[32];
    if (url_length(conn, url) > l->max_url) {
        size_text(l->max_url, size, sizeof size);
        snprintf(msg, sizeof msg, "URL longer than %s", size);
        refuse(cr, 414, "uri_too_long", msg);
    } else if (strstr(url, "%00")) {
        refuse(cr, 400, "malformed_url", "the URL's path holds an encoded NUL (%00)");
    } else if (headers_too_large(conn, l)) {
        size_text(l->max_header_bytes, size, sizeof size);
        snprintf(msg, sizeof msg, "request headers larger than %s or more than %u fields", size,
                 l->max_headers);
        refuse(cr, 431, "headers_too_large", msg);
    } else if (cr->too_big) {
        refuse_too_large(cr, l->max_body);
    } else if (rate_limited(s, conn, url, &cr->retry_after)) {
        atomic_fetch_add(&s->metrics.rate_limited, 1);
        snprintf(msg, sizeof msg, "too many requests from your address; retry after %d s",
                 cr->retry_after);
        refuse(cr, 429, "rate_limited", msg);
    } else if (!is_safe_method(method) && cross_site(conn)) {
        refuse(cr, 403, "cross_site_request",
               "a page of another site may not send this request (its Origin, Sec-Fetch-Site "
               "or Referer names another site)");
    } else if (coded_body(conn, coding, sizeof coding)) {
        snprintf(msg, sizeof msg,
                 "the body's Content-Encoding %s is not accepted: send it uncompressed", coding);
        refuse(cr, 415, "unsupported_media_type", msg);
    }
}

/* ---- Message framing ---------------------------------------------------------
 *
 * Where a request's body ends must be read the same way by every party on
 * its path, or a proxy in front and this server disagree on where the next
 * request starts (request smuggling). libmicrohttpd 0.9.75 takes the first
 * of several Content-Length headers, obeys Transfer-Encoding over a
 * Content-Length sent with it and keeps the connection open after, takes
 * the first of several Transfer-Encoding headers, waits for a body it
 * cannot delimit under an unknown coding, decodes chunks in an HTTP/1.0
 * request (which has no chunked coding), and takes a field whose name has
 * a space before its colon ("Transfer-Encoding : chunked") as another,
 * unknown field, where a proxy may trim the name and obey it. Such a
 * request is refused on its headers, before any body is read, and the
 * connection is then closed (RFC 9112 5.1, 6.1 and 6.3; RFC 9110 5.5: a
 * CR or LF in a field's value is refused too). */

typedef struct framing_count {
    int content_length, transfer_encoding, host;
    bool bad_host;         /* a Host that is not host[:port] */
    bool chunked;          /* the one Transfer-Encoding is exactly "chunked" */
    const char *bad_name;  /* the first field name that is not a token */
    const char *bad_value; /* the name of the first field whose value holds a CR or LF */
} framing_count;

/* Whether c may be in a field name (RFC 9110 5.6.2, tchar). */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return false;
    return true;
}

/* Whether a Host value can be uri-host [":" port] (RFC 3986 3.2.2: a
 * name, an IPv4 address or an IPv6 one in brackets); empty is allowed. */
static bool is_host(const char *v)
{
    for (; *v; v++)
        if (!isalnum((unsigned char)*v) && !strchr("-._~!$&'()*+,;=%:[]", *v))
            return false;
    return true;
}

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    framing_count *c = cls;
    if (!is_token(key)) {
        if (!c->bad_name)
            c->bad_name = key;
        return MHD_YES;
    }
    if (value && strpbrk(value, "\r\n") && !c->bad_value)
        c->bad_value = key;
    if (strcasecmp(key, "Content-Length") == 0)
        c->content_length++;
    else if (strcasecmp(key, "Host") == 0) {
        c->host++;
        c->bad_host |= value && !is_host(value);
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        c->transfer_encoding++;
        c->chunked = value && strcasecmp(value, "chunked") == 0;
    }
    return MHD_YES;
}

/* True (cr refused) when the request's headers do not say unambiguously
 * where its body ends, or are not well-formed fields. */
static bool refuse_bad_framing(struct MHD_Connection *conn, conn_req *cr, const char *version)
{
    framing_count c = {0};
    char name[41], msg[sizeof cr->reject_msg];
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &c);
    if (c.bad_name) {
        printable_name(c.bad_name, name, sizeof name);
        snprintf(msg, sizeof msg,
                 "the header field name \"%s\" is not a token: no space, control or separator "
                 "may be in a name or before its colon",
                 name);
        refuse(cr, 400, "malformed_request", msg);
    } else if (c.bad_value) {
        printable_name(c.bad_value, name, sizeof name);
        snprintf(msg, sizeof msg, "the value of the header field %s holds a CR or LF", name);
        refuse(cr, 400, "malformed_request", msg);
    } else if (c.host > 1)
        refuse(cr, 400, "malformed_request", "the request has more than one Host header; send one");
    else if (c.bad_host)
        refuse(cr, 400, "malformed_request",
               "the Host header is not a host name or address with an optional :port");
    else if (c.content_length > 1)
        refuse(cr, 400, "malformed_request",
               "the request has more than one Content-Length header; send one");
    else if (c.transfer_encoding > 1)
        refuse(cr, 400, "malformed_request",
               "the request has more than one Transfer-Encoding header; send one");
    else if (c.transfer_encoding && c.content_length)
        refuse(cr, 400, "malformed_request",
               "the request has both Content-Length and Transfer-Encoding; send one");
    else if (c.transfer_encoding && version && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
        refuse(cr, 400, "malformed_request",
               "an HTTP/1.0 request has no Transfer-Encoding; send Content-Length");
    else if (c.transfer_encoding && !c.chunked)
        refuse(cr, 501, "not_implemented",
               "the only Transfer-Encoding accepted is chunked; or send Content-Length");
    else
        return false;
    return true;
}

/* The client sent "Expect: 100-continue" and waits before sending its body:
 * a refusal can be answered at once, sparing the body's transfer. */
static bool waits_for_continue(struct MHD_Connection *conn)
{
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    return expect && strcasecmp(expect, "100-continue") == 0;
}

static enum MHD_Result send_refusal(struct MHD_Connection *conn, conn_req *cr)
{
    mq_http_req r = {.method = cr->method, .path = cr->path, .route = ROUTE_OTHER};
    if (strcmp(cr->path, "/v1/quotes") == 0)
        r.route = ROUTE_QUOTES_POST;
    mq_api_error(&r, cr->reject, cr->reject_code, cr->reject_msg, "");
    return send_reply(conn, cr, &r);
}

/* A request that arrives after SIGTERM, on a connection kept alive: 503
 * at once, before its body (libmicrohttpd then closes the connection), so
 * the drain waits only for the requests that were in flight. */
static enum MHD_Result refuse_while_stopping(struct MHD_Connection *conn, conn_req *cr)
{
    cr->reject = 503;
    cr->reject_code = "shutting_down";
    snprintf(cr->reject_msg, sizeof cr->reject_msg,
             "the server is shutting down: send the request again");
    cr->retry_after = 1;
    return send_refusal(conn, cr);
}

/* A request's state, from its request line on. */
static conn_req *conn_req_new(mq_server *s)
{
    conn_req *cr = calloc(1, sizeof(*cr));
    if (!cr)
        return NULL;
    cr->server = s;
    cr->route = ROUTE_OTHER;
    clock_gettime(CLOCK_MONOTONIC, &cr->start);
    return cr;
}

/* libmicrohttpd calls this once a request line is read, before the
 * headers; what it returns is the request's *con_cls. Made here rather
 * than on on_request's first call, a request that libmicrohttpd answers
 * itself (a malformed Content-Length or chunk, no Host, an HTTP version
 * it does not speak, headers beyond a connection's memory) or whose
 * client leaves during its headers still reaches on_completed, which logs
 * it: an attacker's malformed probes are not invisible. The path is the
 * URI as sent, up to its query (which is never logged). */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    conn_req *cr = conn_req_new(cls);
    size_t len = strcspn(uri, "?");
    if (cr && !(cr->path = strndup(uri, len < PATH_MAX_LEN ? len : PATH_MAX_LEN))) {
        free(cr);
        cr = NULL;
    }
    return cr;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    mq_server *s = cls;
    conn_req *cr = *con_cls;
    if (cr && cr->deferred)
        return answer_saved(conn, cr);
    if (cr && cr->rated)
        return send_rated(s, conn, cr);
    const mq_server_limits *l = &s->cfg.limits;
    if (!cr && !(cr = *con_cls = conn_req_new(s)))
        return MHD_NO;
    if (!cr->started) {
        cr->started = true;
        atomic_fetch_add(&active_requests, 1); /* before `stopping` is read: see mq_server_run */
        snprintf(cr->method, sizeof cr->method, "%s", method);
        if (!cr->path || strcmp(cr->path, url) != 0) { /* decoded, or no request line's */
            size_t url_len = strlen(url);
            free(cr->path);
            cr->path = strndup(url, url_len <= l->max_url ? url_len : PATH_MAX_LEN);
            if (!cr->path)
                return MHD_NO;
        }
        /* answered now, before the body: libmicrohttpd then reads no more
         * of this connection and closes it, so a body it would have
         * delimited differently is never taken for a next request */
        if (refuse_bad_framing(conn, cr, version))
            return send_refusal(conn, cr);
        if (atomic_load(&s->stopping))
            return refuse_while_stopping(conn, cr);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
        if (declared > l->max_body)
            cr->too_big = true;
        screen_request(s, conn, cr, url, method);
        /* before the body is sent (MHD then closes): to a client waiting
         * for 100-continue, and to one announcing a body of more than
         * FAR_TOO_BIG times the limit, which would otherwise be read and
         * dropped for up to the request timeout and then cut without an
         * answer. Below that the body is drained and the 413 sent after
         * it: a client that does not read while it sends (fetch) fails
         * with no answer when the connection closes under its upload. */
        if (cr->reject &&
            (waits_for_continue(conn) || (cr->too_big && declared / FAR_TOO_BIG > l->max_body)))
            return send_refusal(conn, cr);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (cr->reject) {
            /* refused: the body is read and dropped, up to FAR_TOO_BIG
             * times the limit; beyond, the connection is closed without an
             * answer (a chunked body says its size to nobody: this is the
             * limit a declared one gets at once), instead of being read
             * at full speed for up to the request timeout */
            cr->dropped += n;
            return cr->dropped / FAR_TOO_BIG > l->max_body ? MHD_NO : MHD_YES;
        }
        if (cr->len + n > l->max_body) {
            refuse_too_large(cr, l->max_body);
            return MHD_YES;
        }
        if (cr->len + n + 1 > cr->cap) {
            size_t cap = cr->cap ? cr->cap : 4096;
            while (cap < cr->len + n + 1)
                cap *= 2;
            char *b = realloc(cr->body, cap);
            if (!b)
                return MHD_NO;
            cr->body = b;
            cr->cap = cap;
        }
        memcpy(cr->body + cr->len, upload_data, n);
        cr->len += n;
        cr->body[cr->len] = '\0';
        return MHD_YES;
    }
    watch_disarm(watch_of(conn)); /* the request is in: no deadline while answering */
    if (s->raters && s->readers && !cr->reject && off_connection_thread(method, cr->path))
        return rate_later(s, conn, cr);
    mq_http_req r;
    http_req_init(&r, cr, method,
                  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"), conn);
    if (cr->reject)
        mq_api_error(&r, cr->reject, cr->reject_code, cr->reject_msg, "");
    else if (!serve_static(s, &r))
        mq_api_handle(s, &r);
    if (r.deferred || r.fanout) {
        enum MHD_Result ret =
            r.fanout ? start_fanout(s, conn, cr, &r) : defer_save(s, conn, cr, &r);
        mq_arena_free(&r.arena);
        return ret;
    }
    enum MHD_Result ret = send_reply(conn, cr, &r);
    mq_arena_free(&r.arena);
    return ret;
}

/* One media range of an Accept header: whether it names the type asked
 * about, how closely it names JSON, and its q in thousandths (RFC 9110
 * 12.4.2, 12.5.1). */
typedef struct accept_range {
    int json;    /* how closely it names application/json: 3 exactly, 2 by
                    "application" and any subtype, 1 by any type, 0 not */
    bool wanted; /* the type asked about, named exactly */
    int q;       /* 0..1000 */
} accept_range;

/* The q of a range's parameters [p, end), p at its first ';': 1000
 * without one; "q=0.5" is 500 (three decimals at most, as RFC 9110 says). */
static int accept_q(const char *p, const char *end)
{
    while (p < end) {
        p++; /* past the ';' */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 3 && (p[0] | 0x20) == 'q' && p[1] == '=') {
            p += 2;
            if (*p == '1')
                return 1000;
            int q = 0;
            if (*p == '0' && p + 1 < end && p[1] == '.')
                for (int i = 2, scale = 100; i < 5 && p + i < end && p[i] >= '0' && p[i] <= '9';
                     i++, scale /= 10)
                    q += (p[i] - '0') * scale;
            return q;
        }
        const char *next = memchr(p, ';', (size_t)(end - p));
        p = next ? next : end;
    }
    return 1000;
}

static accept_range accept_read(const char *p, const char *end, const char *type)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *type_end = semi ? semi : end;
    while (type_end > p && (type_end[-1] == ' ' || type_end[-1] == '\t'))
        type_end--;
    size_t n = (size_t)(type_end - p);
#define IS(t) (n == sizeof(t) - 1 && strncasecmp(p, t, n) == 0)
    accept_range a = {.json = IS("application/json") ? 3
                              : IS("application/*")  ? 2
                                                     : IS("*/*"),
                      .wanted = n == strlen(type) && strncasecmp(p, type, n) == 0,
                      .q = semi ? accept_q(semi, end) : 1000};
#undef IS
    return a;
}

bool mq_http_prefers(const mq_http_req *r, const char *type)
{
    const char *accept =
        r->conn ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept") : NULL;
    if (!accept || !strcasestr(accept, type))
        return false; /* the usual case, at the cost of one search */
    int want_q = -1, json_q = 0, json_how = 0;
    bool json_first = false;
    for (const char *p = accept; *p;) {
        const char *end = p + strcspn(p, ",");
        accept_range a = accept_read(p, end, type);
        if (a.wanted && want_q < 0)
            want_q = a.q;
        if (a.json > json_how) {
            json_how = a.json;
            json_q = a.q;
            json_first = want_q < 0;
        }
        p = *end ? end + 1 : end;
    }
    return want_q > 0 && (want_q > json_q || (want_q == json_q && !json_first));
}

const char *mq_http_query(const mq_http_req *r, const char *name)
{
    return r->conn ? MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

/* The search of mq_http_unknown_query: the names a route takes, and the
 * first argument named otherwise. */
typedef struct query_check {
    const char *const *known;
    const char *unknown;
} query_check;

static enum MHD_Result find_unknown_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    (void)value;
    query_check *c = cls;
    for (const char *const *k = c->known; *k; k++)
        if (strcmp(*k, key) == 0)
            return MHD_YES;
    c->unknown = key;
    return MHD_NO; /* the first is enough */
}

const char *mq_http_unknown_query(const mq_http_req *r, const char *const *known)
{
    query_check c = {known, NULL};
    if (r->conn)
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, find_unknown_arg, &c);
    return c.unknown;
}

static int latency_bucket(double ms)
{
    static const double bounds[MQ_LAT_BUCKETS] = {0.5, 1,   2,   5,   10,   25,
                                                  50,  100, 250, 500, 1000, 5000};
    for (int i = 0; i < MQ_LAT_BUCKETS; i++)
        if (ms <= bounds[i])
            return i;
    return MQ_LAT_BUCKETS;
}

/* A request's access-log line, written by hand: printf's formatting cost
 * more than the rest of the line's work, on every request.
 * {"ts":...,"method":"POST","path":"/v1/quotes","status":201,"ms":9.802,"bytes":12351} */
static void log_request(const conn_req *cr, const char *path, long long ns, bool aborted)
{
    char line[PATH_MAX_LEN + 256];
    log_buf b = {line, line + sizeof line - 2};
    long long us = ns < 0 ? 0 : (ns + 500) / 1000; /* ms to three decimals, rounded */
    char method[sizeof cr->method];
    safe_path(cr->method, method, sizeof method);
    log_start(&b);
    log_str(&b, "\"method\":\"");
    log_str(&b, method);
    log_str(&b, "\",\"path\":\"");
    log_str(&b, path);
    log_str(&b, "\",\"status\":");
    log_uint(&b, cr->status < 0 ? 0 : (unsigned long long)cr->status, 1);
    log_str(&b, ",\"ms\":");
    log_uint(&b, (unsigned long long)us / 1000, 1);
    log_put(&b, ".", 1);
    log_uint(&b, (unsigned long long)us % 1000, 3);
    log_str(&b, ",\"bytes\":");
    log_uint(&b, cr->resp_len, 1);
    if (aborted)
        log_str(&b, ",\"aborted\":true");
    log_end(&b, line);
}

/* The status libmicrohttpd answered a request with that we did not answer
 * (its own 400, 413, 414 or 431: a request that never reached on_request,
 * or a chunk it could not decode); 0 when it sent none. */
static int status_sent_by_mhd(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS) : NULL;
    return ci ? (int)ci->http_status : 0;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    mq_server *s = cls;
    conn_req *cr = *con_cls;
    if (!cr)
        return;
    if (cr->status == 0)
        cr->status = status_sent_by_mhd(conn);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long ns = (long long)(end.tv_sec - cr->start.tv_sec) * 1000000000ll +
                   (end.tv_nsec - cr->start.tv_nsec);
    double ms = (double)ns / 1e6;
    int cls_idx = cr->status / 100;
    if (cls_idx >= 1 && cls_idx <= 5) {
        atomic_fetch_add(&s->metrics.requests[cr->route][cls_idx], 1);
        atomic_fetch_add(&s->metrics.latency[cr->route][latency_bucket(ms)], 1);
        atomic_fetch_add(&s->metrics.latency_sum_us[cr->route], (long)(ms * 1000));
    }
    char path[PATH_MAX_LEN];
    log_path(cr->path ? cr->path : "", path, sizeof path);
    log_request(cr, path, ns, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
    bool started = cr->started;
    drop_unsent(cr);
    free(cr->body);
    free(cr->path);
    if (atomic_load(&cr->saved) == SAVE_LATE) {
        release_late(cr); /* the store may still be reading its quote */
    } else {
        free_save(cr);
        free(cr);
    }
    *con_cls = NULL;
    if (conn && s->watch)
        watch_arm(watch_of(conn), s->watch); /* the next request on this connection */
    if (started)
        atomic_fetch_sub(&active_requests, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    mq_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->active_connections, 1);
        *socket_context = s->watch ? watch_add(s->watch, conn) : NULL;
    } else {
        atomic_fetch_sub(&s->active_connections, 1);
        if (*socket_context)
            watch_remove(s->watch, *socket_context);
        *socket_context = NULL;
    }
    mq_listener_note(s->listener, conn, toe == MHD_CONNECTION_NOTIFY_STARTED);
}

/* ---- Lifecycle ----------------------------------------------------------- */

/* ---- Listening ------------------------------------------------------------ */

/* A socket address: an IPv4 or an IPv6 one. */
typedef union listen_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} listen_addr;

/* --bind (an IPv4 or IPv6 address, checked by cmd_serve.c) and --port as a
 * socket address and its length; false when --bind is neither. */
static bool listen_address(const mq_server_config *cfg, listen_addr *addr, socklen_t *len)
{
    uint16_t port = htons((uint16_t)cfg->port);
    memset(addr, 0, sizeof *addr);
    if (inet_pton(AF_INET, cfg->bind, &addr->in.sin_addr) == 1) {
        addr->in.sin_family = AF_INET;
        addr->in.sin_port = port;
        *len = sizeof addr->in;
        return true;
    }
    if (inet_pton(AF_INET6, cfg->bind, &addr->in6.sin6_addr) == 1) {
        addr->in6.sin6_family = AF_INET6;
        addr->in6.sin6_port = port;
        *len = sizeof addr->in6;
        return true;
    }
    return false;
}

/* HOST:PORT, an IPv6 address in brackets ([::1]:8080), as a URL has it. */
static void host_port(const char *host, int port, char *out, size_t n)
{
    snprintf(out, n, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

/* An IPv6 socket's IPV6_V6ONLY, set either way rather than left to the
 * host's net.ipv6.bindv6only: off for :: alone, which then takes IPv4
 * clients as well (seen as ::ffff:a.b.c.d), on for any other address. */
static bool set_v6only(int fd, const struct sockaddr_in6 *addr)
{
    int only = !IN6_IS_ADDR_UNSPECIFIED(&addr->sin6_addr);
    return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) == 0;
}

/* A socket listening on --bind:--port, an IPv4 or an IPv6 address (::
 * dual-stack, as set_v6only says); -1 (logged) when there is none. */
static int listen_socket(const mq_server_config *cfg)
{
    listen_addr addr;
    socklen_t len;
    if (!listen_address(cfg, &addr, &len)) {
        log_line("\"event\":\"error\",\"message\":\"--bind takes an IPv4 or IPv6 address\"");
        return -1;
    }
    int on = 1;
    int fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (addr.sa.sa_family == AF_INET6 && !set_v6only(fd, &addr.in6)) ||
        bind(fd, &addr.sa, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        char where[80];
        host_port(cfg->bind, cfg->port, where, sizeof where);
        log_line("\"event\":\"error\",\"message\":\"cannot listen on %s: %s\"", where,
                 strerror(err));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Rating threads: --threads, or one per core. */
static int request_threads(const mq_server_config *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cfg->threads > 0 ? cfg->threads : cores > 0 ? (int)cores : 2;
}

/* The connection threads (listener.c), each running a libmicrohttpd
 * daemon. With rating threads they only read requests,
 * send answers and serve the cheap routes: half as many (one on two
 * cores), which in paired wrk runs on 2 cores gave the lower p99 in 7 of 9
 * rounds (medians 20.8 against 21.8 ms, and 21.2 against 23.6). Without
 * them they rate as well: as many as rating threads would be. */
static int connection_threads(const mq_server_config *cfg, bool rating_threads)
{
    int n = request_threads(cfg);
    return rating_threads ? (n / 2 > 0 ? n / 2 : 1) : n;
}

/* One daemon, driven by a connection thread of the listener's (listener.c
 * says why not by libmicrohttpd's own threads). The caps on connections are
 * the listener's; the daemon's own limit is only a backstop. */
static struct MHD_Daemon *start_daemon(void *arg)
{
    mq_server *s = arg;
    const mq_server_limits *l = &s->cfg.limits;
    /* room for the largest request line and headers we accept, so that our
     * own 414/431 (JSON, with the security headers) answers them; beyond it
     * libmicrohttpd answers 414 or 431 itself and closes the connection.
     * No larger than that plus room to read and answer: libmicrohttpd zeroes
     * the whole pool between two requests of a connection (64 KiB cost 3% of
     * a quote's CPU). */
    size_t pool = l->max_header_bytes + l->max_url + 8 * 1024;
    /* MHD_USE_TURBO: read, write and accept before asking epoll whether
     * the socket is ready (it mostly is): 5-8% less CPU per quote, measured
     * in paired runs of bench/bench_http.sh */
    /* MHD_USE_NO_LISTEN_SOCKET: the listener hands it connections */
    return MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
            MHD_USE_NO_LISTEN_SOCKET,
        0, NULL, NULL, on_request, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_CONNECTION_LIMIT,
        l->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, l->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool < 16 * 1024 ? (size_t)16 * 1024 : pool,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_UNESCAPE_CALLBACK, unescape_url, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s, MHD_OPTION_END);
}

/* The port socket `fd` is bound to (--port 0: the one the kernel chose),
 * or -1 (logged). */
static int bound_port(int fd)
{
    listen_addr addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, &addr.sa, &len) != 0) {
        log_line("\"event\":\"error\",\"message\":\"cannot read the port listened on: %s\"",
                 strerror(errno));
        return -1;
    }
    return ntohs(addr.sa.sa_family == AF_INET6 ? addr.in6.sin6_port : addr.in.sin_port);
}

/* Listens, and starts the connection threads and the acceptor. The port
 * actually bound replaces --port in s->cfg, so that the "listening" line
 * names it. */
static bool start_listener(mq_server *s)
{
    char err[256];
    int fd = listen_socket(&s->cfg);
    if (fd < 0)
        return false;
    if ((s->cfg.port = bound_port(fd)) < 0) {
        close(fd);
        return false;
    }
    mq_listener_config lc = {
        .listen_fd = fd,
        .threads = connection_threads(&s->cfg, s->raters != NULL),
        .max_connections = s->cfg.limits.max_connections,
        .max_per_ip = s->cfg.limits.max_per_ip,
        .refused_total = &s->metrics.per_ip_refused,
        .make_daemon = start_daemon,
        .make_daemon_arg = s,
    };
    if (!(s->listener = mq_listener_new(&lc, err, sizeof err)) ||
        !mq_listener_accept(s->listener, err, sizeof err)) {
        mq_server_log_event("error", err);
        mq_listener_stop(s->listener);
        s->listener = NULL;
        return false;
    }
    return true;
}

void mq_server_limits_default(mq_server_limits *l)
{
    *l = (mq_server_limits){
        .max_connections = 1000,
        .max_per_ip = 200,
        .idle_timeout_s = 30,
        .request_timeout_s = 60,
        .drain_s = DRAIN_SECONDS,
        .save_timeout_s = SAVE_SECONDS,
        .max_body = 1024 * 1024,
        .max_header_bytes = 16 * 1024,
        .max_headers = 100,
        .max_url = 2048,
        .rate = 20,
        .burst = 60,
    };
}

/* The rate limiter, the trusted proxy and the slow-request watch. */
static bool start_hardening(mq_server *s)
{
    const mq_server_limits *l = &s->cfg.limits;
    if (l->trust_proxy &&
        !(s->trust_proxy = mq_rl_addr_from_text(l->trust_proxy, &s->proxy_addr))) {
        log_line("\"event\":\"error\",\"message\":\"--trust-proxy takes an IP address\"");
        return false;
    }
    uint64_t seed = 0;
    if (l->rate > 0) {
        if (getentropy(&seed, sizeof seed) != 0 ||
            !(s->ratelimit = mq_rl_new(l->rate, l->burst, seed))) {
            log_line("\"event\":\"error\",\"message\":\"cannot set up the rate limiter\"");
            return false;
        }
    }
    if (!(s->watch = watch_start(l->request_timeout_s, &s->metrics.slow_requests_cut))) {
        log_line("\"event\":\"error\",\"message\":\"cannot start the slow-request watch\"");
        return false;
    }
    bool failed;
    s->save_clock = clock_start(s, l->save_timeout_s, &failed);
    if (failed) {
        log_line("\"event\":\"error\",\"message\":\"cannot start the save deadlines\"");
        return false;
    }
    return true;
}

/* Requests in flight, and saves answered at their deadline that the store
 * has not ended. */
static int unfinished(const mq_server *s)
{
    return atomic_load(&active_requests) + saves_late(s);
}

/* Waits up to `seconds` for the requests in flight to be answered and the
 * saves answered at their deadline to end. */
static void drain(const mq_server *s, unsigned seconds)
{
    for (unsigned i = 0; i < seconds * 100 && unfinished(s) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* After the drain: requests still unfinished are ones whose body is still
 * arriving (a slow or stalled upload), whose answer the client does not
 * read, or that wait for a store that does not return. Every connection is
 * shut down, so that libmicrohttpd closes the first two kinds (as if their
 * client had left) and the stop goes on; only the last kind is left. */
static void cut_unfinished(mq_server *s)
{
    int n = atomic_load(&active_requests);
    if (n == 0)
        return;
    int cut = watch_cut_all(s->watch);
    log_line("\"event\":\"unfinished_cut\",\"in_flight\":%d,\"connections\":%d,"
             "\"message\":\"requests still unfinished after the drain: their connections "
             "are closed\"",
             n, cut);
    drain(s, 1);
}

static void free_server(mq_server *s)
{
    if (s->live)
        mq_server_engine_release(s, s->live);
    mq_api_remote_stop(s); /* after a failed start; a no-op after a clean stop */
    mq_store_close(s->store);
    mq_priv_ring_free(atomic_exchange(&s->keys, NULL));
    for (int i = 0; i < s->nold_keys; i++)
        mq_priv_ring_free(s->old_keys[i]);
    s->nold_keys = 0;
    for (int i = 0; i < s->nfiles; i++) {
        free(s->files[i].path);
        free(s->files[i].body);
    }
    free(s->files);
    mq_rl_free(s->ratelimit);
    for (int i = 0; i < s->metrics.ncarriers; i++)
        free((char *)s->metrics.carrier_ids[i]);
    pthread_mutex_destroy(&s->lock);
}

/* Where the key ring comes from, as mq_priv_ring_load chose it. */
static const char *keys_origin(const mq_server_config *cfg)
{
    const char *env = getenv("MQ_KEY");
    if (!cfg->key_file && env && *env)
        return "MQ_KEY";
    return cfg->key_file ? cfg->key_file : "var/multiquote.key";
}

/* The "listening" line: the address bound (0.0.0.0 and :: are every
 * interface), a URL that works from this machine (localhost for those; an
 * IPv6 address in brackets, http://[::1]:8080/), the plans, the database
 * (its password masked) and where the keys came from. */
static void log_listening(const mq_server *s)
{
    const mq_server_config *cfg = &s->cfg;
    char bind[64], where[80], plans[300], db[300], keys[300];
    json_quoted(cfg->bind, bind, sizeof bind);
    json_quoted(cfg->plans_dir, plans, sizeof plans);
    db_for_log(cfg->db_path, db, sizeof db);
    json_quoted(keys_origin(cfg), keys, sizeof keys);
    bool any = strcmp(cfg->bind, "0.0.0.0") == 0 || strcmp(cfg->bind, "::") == 0;
    host_port(any ? "localhost" : cfg->bind, cfg->port, where, sizeof where);
    log_line("\"event\":\"listening\",\"bind\":%s,\"port\":%d,\"url\":\"http://%s/\","
             "\"plans\":%d,\"plans_dir\":%s,\"db\":%s,\"keys\":%s",
             bind, cfg->port, where, mq_engine_plan_count(s->live->engine), plans, db, keys);
}

/* The rating threads (--threads) and the threads that read saved quotes
 * (READ_THREADS); without either, their requests are answered on the
 * connection threads. */
static void workers_start(mq_server *s)
{
    if (!(s->raters = raters_start(s, request_threads(&s->cfg), "mq-rate")))
        log_line("\"event\":\"warning\",\"message\":\"no rating threads: quotes are rated "
                 "on the connection threads\"");
    else if (!(s->readers = raters_start(s, READ_THREADS, "mq-read")))
        raters_stop(&s->raters);
}

/* PostgreSQL: one pooled connection per request thread (--threads) and per
 * store writer thread, so no request waits for a connection. */
static int db_pool(const mq_server_config *cfg)
{
    return request_threads(cfg) + 2;
}

int mq_server_run(const mq_server_config *cfg)
{
    static mq_server server; /* lives for the process; handlers get a pointer */
    mq_server *s = &server;
    s->cfg = *cfg;
    pthread_mutex_init(&s->lock, NULL);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* threads started below inherit it */
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    char err[512];
    s->live = load_engine(cfg->plans_dir);
    if (!s->live) {
        char plans[600];
        json_quoted(cfg->plans_dir, plans, sizeof plans);
        log_line("\"event\":\"error\",\"message\":\"cannot load the plans\",\"plans_dir\":%s",
                 plans);
        goto done;
    }
    s->store = mq_store_open_with(cfg->db_path, &(mq_store_options){.pool_size = db_pool(cfg)}, err,
                                  sizeof err);
    if (!s->store) {
        char msg[600];
        snprintf(msg, sizeof msg, "database: %s", err);
        mq_server_log_event("error", msg);
        goto done;
    }
    /* a new key ring only for a database without quotes: another node's,
     * or an earlier ring's, quotes could not be opened with it, and forget
     * could not find their shoppers */
    int64_t saved = mq_store_count(s->store);
    atomic_store(&s->keys, mq_priv_ring_load(cfg->key_file, saved == 0, err, sizeof err));
    if (!mq_server_keys(s)) {
        char msg[800], hint[200] = "";
        if (saved > 0)
            snprintf(hint, sizeof hint,
                     "; the database holds %lld quotes sealed under a key ring: give that one "
                     "(--key-file or MQ_KEY), a new one could open none of them",
                     (long long)saved);
        snprintf(msg, sizeof msg, "keys: %s%s", err, hint);
        mq_server_log_event("error", msg);
        goto done;
    }
    load_static(s);
    if (!mq_api_remote_start(s, err, sizeof err)) {
        char msg[600];
        snprintf(msg, sizeof msg, "carriers: %s", err);
        mq_server_log_event("error", msg);
        goto done;
    }
    if (!start_hardening(s))
        goto done;
    workers_start(s);
    if (!start_listener(s)) {
        raters_stop(&s->raters);
        raters_stop(&s->readers);
        watch_stop(s->watch);
        s->watch = NULL;
        clock_stop(s->save_clock);
        s->save_clock = NULL;
        goto done;
    }
    log_listening(s);
    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(s);
            continue;
        }
        break;
    }
    /* set before the count is read: a request counts itself in flight
     * before it reads `stopping` (on_request), so the drain either waits
     * for it or it is refused */
    atomic_store(&s->stopping, true);
    log_line("\"event\":\"stopping\",\"in_flight\":%d", atomic_load(&active_requests));
    mq_listener_stop_accepting(s->listener); /* new connections are refused at once */
    drain(s, s->cfg.limits.drain_s);
    if (atomic_load(&active_requests) > 0 && s->remote) {
        /* quotes still waiting for remote carriers (a registry's deadline
         * may be minutes): those carriers are cut off as timed out, and the
         * quotes saved and answered with what they have. libmicrohttpd must
         * not stop while a connection is suspended. */
        log_line("\"event\":\"cutting_remote_calls\",\"in_flight\":%d",
                 atomic_load(&active_requests));
        mq_remote_hurry(s->remote);
        drain(s, s->cfg.limits.drain_s);
    }
    raters_stop(&s->raters); /* while MHD still runs: a last rated quote resumes its connection */
    drain(s, 1);             /* and is answered */
    cut_unfinished(s);
    int stuck = atomic_load(&active_requests), late = saves_late(s);
    if (stuck > 0 || late > 0) {
        /* answers still waiting for a store that does not return (a hung
         * disk or database), or saves it still holds that were answered
         * 503 at their deadline: libmicrohttpd cannot stop with their
         * connections suspended (it aborts), nor the store close under a
         * commit in progress. What was committed is on disk. */
        log_line("\"event\":\"stop_forced\",\"in_flight\":%d,\"saves_timed_out\":%d,"
                 "\"message\":\"the store has not ended these saves after the drain (in_flight: "
                 "requests still waiting, closed unanswered; saves_timed_out: already answered "
                 "503 storage_timeout): exiting; what was committed is on disk\"",
                 stuck, late);
        fflush(stderr);
        _exit(1);
    }
    /* nothing is in flight: no read holds a thread (one that never
     * returned from the store exited above) */
    raters_stop(&s->readers);
    mq_listener_stop(s->listener);
    s->listener = NULL;
    mq_api_remote_stop(s);
    watch_stop(s->watch);
    s->watch = NULL;
    clock_stop(s->save_clock);
    s->save_clock = NULL;
    log_line("\"event\":\"stopped\"");
    status = 0;
done:
    free_server(s);
    return status;
}
