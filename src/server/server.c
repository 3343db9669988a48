/* server.c -- the HTTP daemon: connections, bodies, lifecycle, plumbing.
 *
 * libmicrohttpd calls on_request several times per request: first with the
 * headers (we only allocate our state: queueing a response then would close
 * the connection), then with body chunks (copied, capped at 1 MiB), then a
 * last time, when api.c answers. Requests run on MHD's thread pool; the live
 * plans are reference-counted so a SIGHUP reload swaps them without a
 * request ever seeing a half-loaded engine. The main thread waits for
 * signals: SIGHUP reloads, SIGTERM/SIGINT stop accepting, let in-flight
 * requests finish, then stop. Every request leaves one JSON access-log line
 * on stderr with no request content in it.
 */
#include "server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BODY_MAX = 1024 * 1024, PATH_MAX_LEN = 512, DRAIN_SECONDS = 10 };

typedef struct conn_req {
    char *body;
    size_t len, cap;
    bool too_big;
    /* a quote waiting for its group commit while the connection is suspended */
    struct MHD_Connection *conn;
    mq_server *server;
    bool deferred;
    atomic_int saved; /* 0 waiting, 1 saved, 2 failed */
    mq_store_quote q;
    char day[11];
    char *text; /* the response, once saved */
    char *location;
    int line;
    struct timespec start;
    char method[8];
    char path[PATH_MAX_LEN];
    int status;
    mq_route route;
    size_t resp_len;
} conn_req;

static atomic_int active_requests;

/* ---- Log --------------------------------------------------------------- */

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
    char ts[32];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "{\"ts\":\"%s.%03ldZ\",%s}\n", ts, now.tv_nsec / 1000000, msg);
}

/* Keeps a path printable in a log line: no quotes, controls or query. */
static void safe_path(const char *in, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 1 < n; i++) {
        unsigned char c = (unsigned char)in[i];
        out[j++] = (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) ? '_' : (char)c;
    }
    out[j] = '\0';
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
        char text[600];
        safe_path(d.items[i].text, text, sizeof text);
        log_line("\"event\":\"plan_error\",\"message\":\"%s\"", text);
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

static void reload(mq_server *s)
{
    mq_engine_ref *fresh = load_engine(s->cfg.plans_dir);
    if (!fresh) {
        atomic_fetch_add(&s->metrics.reloads_failed, 1);
        log_line("\"event\":\"reload_failed\",\"message\":\"plans under %s have errors; keeping "
                 "the plans loaded before\"",
                 s->cfg.plans_dir);
        return;
    }
    pthread_mutex_lock(&s->lock);
    mq_engine_ref *old = s->live;
    s->live = fresh;
    pthread_mutex_unlock(&s->lock);
    mq_server_engine_release(s, old);
    atomic_fetch_add(&s->metrics.reloads_ok, 1);
    log_line("\"event\":\"reloaded\",\"plans\":%d", mq_engine_plan_count(fresh->engine));
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
        char *id = slot < 0 && n < 64 ? strdup(carrier) : NULL;
        if (id) {
            slot = n;
            m->carrier_ids[n] = id;
            atomic_store_explicit(&m->ncarriers, n + 1, memory_order_release);
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (slot >= 0) {
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

static bool add_file(mq_server *s, const char *fs_path, const char *url)
{
    FILE *f = fopen(fs_path, "rb");
    if (!f)
        return false;
    char *body = malloc(BODY_MAX * 4);
    size_t n = body ? fread(body, 1, BODY_MAX * 4, f) : 0;
    fclose(f);
    struct mq_static_file *files = realloc(s->files, sizeof(*files) * (size_t)(s->nfiles + 1));
    if (!body || !files) {
        free(body);
        return false;
    }
    s->files = files;
    s->files[s->nfiles++] = (struct mq_static_file){strdup(url), body, n, content_type(url)};
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
    if (d)
        closedir(d);
    else
        log_line("\"event\":\"warning\",\"message\":\"no web folder at %s\"", s->cfg.web_dir);
    if (s->cfg.openapi_path)
        add_file(s, s->cfg.openapi_path, "/v1/openapi.yaml");
}

/* ---- Requests ------------------------------------------------------------ */

static void add_common_headers(struct MHD_Response *resp, const char *type, bool api)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
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
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
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
            if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
                mq_api_error(r, 405, "method_not_allowed", "use GET", "");
                r->allow = "GET, HEAD";
                return true;
            }
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

/* ---- Saving while suspended ---------------------------------------------- */

/* The writer thread's word that the quote is durable (or not). */
static void on_saved(void *arg, bool ok)
{
    conn_req *cr = arg;
    atomic_store(&cr->saved, ok ? 1 : 2);
    MHD_resume_connection(cr->conn);
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
    cr->q = r->save_q;
    snprintf(cr->day, sizeof cr->day, "%s", r->save_day);
    cr->q.effective_date = cr->day;
    cr->q.request = cr->body ? cr->body : "";
    cr->text = r->response;
    cr->q.response = cr->text;
    cr->location = r->location ? strdup(r->location) : NULL;
    cr->line = r->save_line;
    cr->route = r->route;
    MHD_suspend_connection(conn);
    if (!mq_store_save_async(s->store, &cr->q, on_saved, cr)) {
        atomic_store(&cr->saved, 2);
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

static enum MHD_Result answer_saved(struct MHD_Connection *conn, conn_req *cr)
{
    int state = atomic_load(&cr->saved);
    if (state == 0)
        return MHD_YES; /* not yet: MHD calls again after the resume */
    mq_http_req r = {.method = cr->method, .path = cr->path, .route = cr->route};
    cr->deferred = false;
    if (state == 1) {
        atomic_fetch_add(&cr->server->metrics.quotes[cr->line][0], 1);
        r.status = 201;
        r.response = cr->text;
        r.response_len = strlen(cr->text);
        r.response_type = "application/json";
        r.location = cr->location;
    } else {
        free(cr->text);
        mq_api_error(&r, 500, "storage_error", "the quote could not be saved; nothing was stored",
                     "");
    }
    cr->text = NULL;
    return send_reply(conn, cr, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    mq_server *s = cls;
    conn_req *cr = *con_cls;
    if (cr && cr->deferred)
        return answer_saved(conn, cr);
    if (!cr) {
        cr = calloc(1, sizeof(*cr));
        if (!cr)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &cr->start);
        snprintf(cr->method, sizeof cr->method, "%s", method);
        snprintf(cr->path, sizeof cr->path, "%s", url);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > BODY_MAX)
            cr->too_big = true;
        *con_cls = cr;
        atomic_fetch_add(&active_requests, 1);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (cr->too_big || cr->len + n > BODY_MAX) {
            cr->too_big = true;
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
    mq_http_req r = {
        .method = method,
        .path = cr->path,
        .content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
        .body = cr->body ? cr->body : "",
        .body_len = cr->len,
        .conn = conn,
        .route = ROUTE_OTHER,
    };
    mq_arena_init(&r.arena, 8 * 1024 * 1024);
    r.can_defer = true;
    if (strcmp(cr->path, "/v1/quotes") == 0)
        r.route = ROUTE_QUOTES_POST; /* so a 413 counts under its route */
    if (cr->too_big)
        mq_api_error(&r, 413, "too_large", "request body larger than 1 MiB", "");
    else if (strlen(url) >= PATH_MAX_LEN - 1)
        mq_api_error(&r, 414, "uri_too_long", "URL too long", "");
    else if (!serve_static(s, &r))
        mq_api_handle(s, &r);
    if (r.deferred) {
        enum MHD_Result ret = defer_save(s, conn, cr, &r);
        mq_arena_free(&r.arena);
        return ret;
    }
    enum MHD_Result ret = send_reply(conn, cr, &r);
    mq_arena_free(&r.arena);
    return ret;
}

const char *mq_http_query(const mq_http_req *r, const char *name)
{
    return r->conn ? MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
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

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    mq_server *s = cls;
    conn_req *cr = *con_cls;
    if (!cr)
        return;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double ms = (double)(end.tv_sec - cr->start.tv_sec) * 1e3 +
                (double)(end.tv_nsec - cr->start.tv_nsec) / 1e6;
    int cls_idx = cr->status / 100;
    if (cls_idx >= 1 && cls_idx <= 5) {
        atomic_fetch_add(&s->metrics.requests[cr->route][cls_idx], 1);
        atomic_fetch_add(&s->metrics.latency[cr->route][latency_bucket(ms)], 1);
        atomic_fetch_add(&s->metrics.latency_sum_us[cr->route], (long)(ms * 1000));
    }
    char path[PATH_MAX_LEN];
    safe_path(cr->path, path, sizeof path);
    log_line("\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,\"ms\":%.3f,\"bytes\":%zu%s",
             cr->method, path, cr->status, ms, cr->resp_len,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : ",\"aborted\":true");
    free(cr->body);
    free(cr->text);
    free(cr->location);
    free(cr);
    *con_cls = NULL;
    atomic_fetch_sub(&active_requests, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)conn;
    (void)socket_context;
    mq_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&s->active_connections, 1);
    else
        atomic_fetch_sub(&s->active_connections, 1);
}

/* ---- Lifecycle ----------------------------------------------------------- */

static struct MHD_Daemon *start_daemon(mq_server *s)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->cfg.port)};
    if (inet_pton(AF_INET, s->cfg.bind, &addr.sin_addr) != 1) {
        log_line("\"event\":\"error\",\"message\":\"--bind takes an IPv4 address\"");
        return NULL;
    }
    /* Handlers only compute: a quote waiting for its group commit suspends
     * its connection (defer_save), so one thread per core is enough. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = (unsigned)(s->cfg.threads > 0 ? s->cfg.threads : cores > 0 ? cores : 2);
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)s->cfg.port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)200, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_END);
}

static void drain(void)
{
    for (int i = 0; i < DRAIN_SECONDS * 100 && atomic_load(&active_requests) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void free_server(mq_server *s)
{
    if (s->live)
        mq_server_engine_release(s, s->live);
    mq_store_close(s->store);
    for (int i = 0; i < s->nfiles; i++) {
        free(s->files[i].path);
        free(s->files[i].body);
    }
    free(s->files);
    for (int i = 0; i < s->metrics.ncarriers; i++)
        free((char *)s->metrics.carrier_ids[i]);
    pthread_mutex_destroy(&s->lock);
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
        log_line("\"event\":\"error\",\"message\":\"cannot load the plans under %s\"",
                 cfg->plans_dir);
        goto done;
    }
    s->store = mq_store_open(cfg->db_path, err, sizeof err);
    if (!s->store) {
        char msg[600];
        safe_path(err, msg, sizeof msg);
        log_line("\"event\":\"error\",\"message\":\"database: %s\"", msg);
        goto done;
    }
    load_static(s);
    struct MHD_Daemon *d = start_daemon(s);
    if (!d) {
        log_line("\"event\":\"error\",\"message\":\"cannot listen on %s:%d\"", cfg->bind,
                 cfg->port);
        goto done;
    }
    log_line("\"event\":\"listening\",\"url\":\"http://%s:%d/\",\"plans\":%d,\"db\":\"%s\"",
             strcmp(cfg->bind, "0.0.0.0") == 0 ? "localhost" : cfg->bind, cfg->port,
             mq_engine_plan_count(s->live->engine), cfg->db_path);
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
    log_line("\"event\":\"stopping\",\"in_flight\":%d", atomic_load(&active_requests));
    /* stop accepting: new connections are refused at once (the socket is
     * closed only after the daemon stops, as libmicrohttpd requires) */
    MHD_socket listen_fd = MHD_quiesce_daemon(d);
    if (listen_fd != MHD_INVALID_SOCKET)
        shutdown(listen_fd, SHUT_RDWR);
    drain();
    MHD_stop_daemon(d);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    log_line("\"event\":\"stopped\"");
    status = 0;
done:
    free_server(s);
    return status;
}
