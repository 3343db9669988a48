/* fuzz_api.c -- libFuzzer target: the server's routes (src/server/api.c, api_intake.c).
 *
 * The input is one HTTP exchange as the server hands it to mq_api_handle
 * after libmicrohttpd has parsed the protocol: a first line "METHOD PATH"
 * (optionally followed by a content type), then the body. The handler runs
 * against a server context made once, at start: the bundled plans and a
 * store in a temporary folder. (Query arguments come from libmicrohttpd's
 * connection, which a fuzz input has not got, so routes see none.)
 */
#include "privacy.h"
#include "server.h"

#include "fuzz_util.h"

#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mq_server server;
static mq_engine_ref ref;
static char store_dir[256];

static void close_server(void)
{
    mq_store_close(server.store);
    mq_priv_ring_free(server.keys);
    mq_engine_free(ref.engine);
    pthread_mutex_destroy(&server.lock);
    char path[512];
    static const char *const files[] = {"quotes.db", "quotes.db-wal", "quotes.db-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", store_dir, files[i]);
        unlink(path);
    }
    rmdir(store_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(store_dir, sizeof store_dir, "%s/mq-fuzz-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    mq_diags d = {0};
    ref.engine = mq_engine_load(MQ_FUZZ_PLANS, &d);
    mq_diags_free(&d);
    ref.refs = 1;
    snprintf(ref.loaded_at, sizeof ref.loaded_at, "2026-01-01T00:00:00Z");
    char err[256] = "", db[300];
    if (!ref.engine || !mkdtemp(store_dir)) {
        fprintf(stderr, "fuzz_api: cannot load the plans or make a folder\n");
        abort();
    }
    snprintf(db, sizeof db, "%s/quotes.db", store_dir);
    server.store = mq_store_open(db, err, sizeof err);
    if (!server.store || pthread_mutex_init(&server.lock, NULL) != 0) {
        fprintf(stderr, "fuzz_api: %s\n", err);
        abort();
    }
    /* keys, so that a valid quote is sealed and saved like in the server */
    server.keys = mq_priv_ring_parse(
        "subject 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
        "key 1 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n",
        "fuzz_api", err, sizeof err);
    if (!server.keys) {
        fprintf(stderr, "fuzz_api: %s\n", err);
        abort();
    }
    server.live = &ref;
    atexit(close_server);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : size;
    if (head > 1024)
        return -1;
    char *line = fz_strndup(data, head);
    char *body = nl ? fz_strndup(nl + 1, size - head - 1) : fz_strndup(data, 0);
    char *save = NULL;
    const char *method = line ? strtok_r(line, " ", &save) : NULL;
    const char *path = method ? strtok_r(NULL, " ", &save) : NULL;
    const char *type = path ? strtok_r(NULL, "", &save) : NULL;
    if (method && path && body) {
        mq_http_req r = {.method = method,
                         .path = path,
                         .content_type = type ? type : "application/json",
                         .body = body,
                         .body_len = nl ? size - head - 1 : 0};
        mq_arena_init(&r.arena, 8 * 1024 * 1024);
        mq_api_handle(&server, &r);
        if (r.status < 100 || r.status > 599 || (r.status != 204 && !r.response))
            abort(); /* every route must answer */
        free(r.response);
        mq_arena_free(&r.arena);
    }
    free(line);
    free(body);
    return 0;
}
