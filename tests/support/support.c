/* support.c -- helpers shared by the C tests; see support.h. */
#include "support.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

/* ---- Files ------------------------------------------------------------- */

/* The rest of open file `f` from its start, NUL-terminated, its length in
 * *len; NULL when it cannot be read. */
static char *read_all(FILE *f, size_t *len)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return NULL;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
        return NULL;
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        return NULL;
    }
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

char *ts_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        fail_msg("out of memory formatting %s", fmt);
    return text;
}

/* The file is closed before a failure is reported: a failed test must not
 * leave a descriptor open for the tests after it. */
char *ts_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    size_t n = 0;
    char *buf = read_all(f, &n);
    fclose(f);
    if (!buf)
        fail_msg("cannot read %s", path);
    if (len)
        *len = n;
    return buf;
}

void ts_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot create %s", path);
    bool written = fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0 || !written)
        fail_msg("cannot write %s", path);
}

/* ---- JSON -------------------------------------------------------------- */

json_t *ts_load_json(const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc)
        fail_msg("%s:%d: %s", path, je.line, je.text);
    return doc;
}

int ts_json_setup(json_t **doc, const char *path)
{
    json_error_t je;
    *doc = json_load_file(path, 0, &je);
    if (!*doc)
        fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
    return *doc ? 0 : -1;
}

json_t *ts_example_request(const char *path, size_t i)
{
    json_t *doc = ts_load_json(path);
    json_t *req = json_deep_copy(
        json_object_get(json_array_get(json_object_get(doc, "cases"), i), "request"));
    json_decref(doc);
    assert_non_null(req);
    return req;
}

json_t *ts_json(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, je.text);
    return v;
}

void ts_set_path(json_t *root, const char *path, json_t *value)
{
    json_t *cur = root;
    char key[64];
    const char *p = path;
    for (;;) {
        size_t idx = 0;
        bool is_index = *p == '[';
        if (is_index) {
            idx = strtoul(p + 1, (char **)&p, 10);
            p++; /* ']' */
        } else {
            size_t n = strcspn(p, ".[");
            snprintf(key, sizeof key, "%.*s", (int)n, p);
            p += n;
        }
        if (*p == '.')
            p++;
        if (!*p) {
            if (is_index && value)
                assert_int_equal(json_array_set_new(cur, idx, value), 0);
            else if (is_index)
                assert_int_equal(json_array_remove(cur, idx), 0);
            else if (value)
                assert_int_equal(json_object_set_new(cur, key, value), 0);
            else
                assert_int_equal(json_object_del(cur, key), 0);
            return;
        }
        cur = is_index ? json_array_get(cur, idx) : json_object_get(cur, key);
        if (!cur)
            fail_msg("no %s in the test request", path);
    }
}

/* ---- Engine and requests ----------------------------------------------- */

int ts_engine_setup(mq_engine **engine, const char *dir, FILE *diags)
{
    mq_diags d = {0};
    *engine = mq_engine_load(dir, &d);
    for (int i = 0; diags && i < d.count; i++)
        fprintf(diags, "%s\n", d.items[i].text);
    mq_diags_free(&d);
    return *engine ? 0 : -1;
}

int ts_engine_teardown(mq_engine **engine)
{
    mq_engine_free(*engine);
    *engine = NULL;
    return 0;
}

void ts_parse_request(const char *text, size_t len, mq_arena *a, mq_input *in, const char *what)
{
    mq_req_errors errs = {0};
    if (!mq_req_parse(text, len, a, in, &errs))
        fail_msg("%s rejected: %s (%d problems)", what,
                 errs.count ? mq_req_error_text(&errs.items[0], a) : "out of memory", errs.count);
}

void ts_parse_request_file(const char *path, mq_arena *a, mq_input *in)
{
    size_t len;
    char *text = ts_read_file(path, &len);
    ts_parse_request(text, len, a, in, path);
    free(text);
}

int ts_each_plan_of_line(const mq_engine *e, const char *const *files, size_t nfiles,
                         ts_plan_check check)
{
    int sum = 0;
    for (size_t r = 0; r < nfiles; r++) {
        mq_arena a;
        mq_arena_init(&a, 0);
        mq_input in;
        ts_parse_request_file(files[r], &a, &in);
        for (int i = 0; i < mq_engine_plan_count(e); i++) {
            const mq_plan *p = mq_engine_plan(e, i);
            mq_plan_info info;
            mq_plan_get_info(p, &info);
            if (info.line == in.line)
                sum += check(p, &in, &a);
        }
        mq_arena_free(&a);
    }
    return sum;
}

/* A value different from v whatever v is (a missing value becomes 1). */
static double other_value(double v)
{
    return isnan(v) ? 1 : v == 0 ? 1 : v + 1;
}

/* Another valid index of a link (the principal driver of a vehicle...): a
 * validated request only links to entities that exist. */
static double other_link(double v, int32_t count)
{
    return count > 0 && !isnan(v) ? fmod(v + 1, (double)count) : v;
}

double *ts_copy_values(const mq_input *in, mq_entity_kind k, mq_arena *a)
{
    size_t cells = (size_t)in->count[k] * (size_t)mq_line_get(in->line)->nfields[k];
    double *values = mq_arena_alloc(a, (cells ? cells : 1) * sizeof(double));
    assert_non_null(values);
    if (cells)
        memcpy(values, in->values[k], cells * sizeof(double));
    return values;
}

mq_input ts_with_field_changed(const mq_input *in, mq_entity_kind k, int f, bool first_only,
                               mq_arena *a)
{
    const mq_line_def *l = mq_line_get(in->line);
    const mq_field_def *fd = &l->fields[k][f];
    mq_input out = *in;
    double *values = ts_copy_values(in, k, a);
    for (int32_t i = 0; i < (first_only ? 1 : in->count[k]); i++) {
        double *v = &values[(size_t)i * (size_t)l->nfields[k] + (size_t)f];
        *v = fd->type == MQ_T_LINK ? other_link(*v, in->count[fd->link]) : other_value(*v);
    }
    out.values[k] = values;
    return out;
}

/* ---- Running a command ------------------------------------------------- */

pid_t ts_spawn(const char *bin, const char *const *args, const char *input, const char *out,
               const char *err)
{
    const char *argv[64] = {bin};
    int argc = 1;
    for (; args[argc - 1]; argc++) {
        assert_true(argc < 63);
        argv[argc] = args[argc - 1];
    }
    argv[argc] = NULL;
    /* Every descriptor of the test past 2 is closed in the child: opened
     * without O_CLOEXEC (pipe(), socket(), fopen(), or inherited from
     * whatever ran the test), it would otherwise stay open in the child as
     * long as it runs, and the test's end of a pipe, FIFO or socket would
     * never see end-of-file. */
    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    int rc = posix_spawn_file_actions_addopen(&fa, 0, input ? input : "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (rc == 0)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid;
    if (rc == 0)
        rc = posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        fail_msg("cannot run %s: %s", bin, strerror(rc));
    return pid;
}

ts_result ts_run(const char *bin, const char *const *args, const char *input, const char *dir,
                 int timeout_s)
{
    char out[512], err[512];
    snprintf(out, sizeof out, "%s/stdout", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    pid_t pid = ts_spawn(bin, args, input, out, err);
    int status = 0;
    for (long waited = 0;; waited++) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        assert_int_equal(w, 0);
        if (waited == (long)timeout_s * 200) { /* 5 ms each */
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("%s %s did not finish in %d seconds", bin, args[0] ? args[0] : "", timeout_s);
        }
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    ts_result r = {0};
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    r.out = ts_read_file(out, &r.nout);
    r.err = ts_read_file(err, NULL);
    return r;
}

void ts_result_free(ts_result *r)
{
    free(r->out);
    free(r->err);
}

int ts_serve_port(pid_t pid, const char *err, int timeout_s)
{
    for (int i = 0; i < timeout_s * 20; i++) {
        char *text = ts_read_file(err, NULL);
        const char *at = text ? strstr(text, "\"event\":\"listening\"") : NULL;
        const char *port = at ? strstr(at, "\"port\":") : NULL;
        int n = port ? atoi(port + 7) : 0;
        free(text);
        if (n > 0)
            return n;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    return 0;
}
