/* test_batch.c -- `multiquote batch`, `impact` and `gen-book`, end to end.
 *
 * Spawns the built binary ($MQ_BIN, else the multiquote of the build folder
 * this program is in) as test_cli.c does. The plans are the repository's
 * auto plans (every plans/<carrier>/<*-auto-*> folder, linked into a
 * temporary folder, so plans of other lines being written do not matter
 * here), and all of plans/ for the health test. Checked: every line of
 * `batch` on a generated book equals `quote --json` on that request, for
 * all carriers and for --carrier (the request then naming that carrier),
 * and so do health requests with --carrier (every plan of the issuer, with
 * its tax credit); a CSV book and the same book in NDJSON give the same CSV
 * results; the output does not depend on --threads; stdin; bad rows and a
 * bad header with their exact messages and exit codes; `impact` on a
 * four-policy book worked out by hand (see test_batch.c in tests/unit) with
 * its summary, CSV and PNG; outputs naming the book refused, the book
 * intact; gen-book's options; SIGINT mid-run (whole rows up to where
 * reading stopped, exit 130).
 * The `quote --json` answers that batch must equal come from $MQ_REF_BIN
 * when it is set: tests/run.sh names the normal build's binary there when
 * this runs a sanitizer build's, so the sanitizers watch batch, and the
 * hundred reference quotes do not each pay their start-up (half a second).
 * Run from the repository root (meson's workdir for tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bin;     /* $MQ_BIN, else ../multiquote beside this program's folder */
static const char *ref_bin; /* $MQ_REF_BIN, else bin: answers `quote --json` for comparison */
static char bin_default[1024];
static char tmp[64];   /* mkdtemp folder */
static char plans[96]; /* links to the auto plans */

/* ---- Running the binary (as in test_cli.c) ------------------------------------ */

typedef ts_result run;

static void spill(const char *path, const char *text)
{
    ts_write_file(path, text, strlen(text));
}

/* Kills the binary after 60 seconds. */
static run run_with(const char *input, const char *const *args)
{
    return ts_run(bin, args, input, tmp, 60);
}

/* `quote --json` on one request, by the reference binary. */
static run run_reference_quote(const char *plans_dir, const char *request)
{
    return ts_run(ref_bin,
                  (const char *const[]){"quote", "--json", "--plans", plans_dir, request, NULL},
                  NULL, tmp, 60);
}

#define RUN(...)              run_with(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_STDIN(input, ...) run_with(input, (const char *const[]){__VA_ARGS__, NULL})

static void assert_exit(const run *r, int code)
{
    if (r->code != code) {
        print_error("stdout:\n%.2000s\nstderr:\n%s\n", r->out, r->err);
        fail_msg("exit code %d, expected %d", r->code, code);
    }
}

static void assert_contains(const char *text, const char *what)
{
    if (!strstr(text, what))
        fail_msg("\"%s\" not found in:\n%s", what, text);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void temp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmp, name);
}

/* A generated book in the temp folder; returns its path in out. */
static void make_book(char *out, size_t n, const char *name, const char *const *opts)
{
    temp_path(out, n, name);
    const char *args[16] = {"gen-book", "--line", "auto"};
    int k = 3;
    for (; opts[k - 3]; k++)
        args[k] = opts[k - 3];
    args[k] = NULL;
    run r = run_with(NULL, args);
    assert_exit(&r, 0);
    spill(out, r.out);
    ts_result_free(&r);
}

/* ---- Fixture ------------------------------------------------------------------ */

/* The executable $var names, else `fallback`; NULL (said on stderr) when
 * it is not one. */
static const char *binary_from(const char *var, const char *fallback)
{
    const char *path = getenv(var);
    if (!path)
        path = fallback;
    if (access(path, X_OK) != 0) {
        fprintf(stderr, "%s must name a built multiquote binary (%s is not one)\n", var, path);
        return NULL;
    }
    return path;
}

static int setup(void **state)
{
    (void)state;
    bin = binary_from("MQ_BIN", bin_default);
    ref_bin = bin ? binary_from("MQ_REF_BIN", bin) : NULL;
    if (!ref_bin)
        return -1;
    unsetenv("MULTIQUOTE_PLANS");
    setenv("NO_COLOR", "1", 1);
    setenv("LSAN_OPTIONS", "print_suppressions=0", 0); /* ASan build: stderr stays exact */
    snprintf(tmp, sizeof tmp, "/tmp/mq-test-batch-XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(plans, sizeof plans, "%s/plans", tmp);
    if (mkdir(plans, 0700) != 0)
        return -1;
    char cwd[512];
    glob_t g;
    if (!getcwd(cwd, sizeof cwd) || glob("plans/*/*-auto-*", 0, NULL, &g) != 0)
        return -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char target[1024], link[1024], copy[512];
        snprintf(copy, sizeof copy, "%s", g.gl_pathv[i]);
        snprintf(target, sizeof target, "%s/%s", cwd, g.gl_pathv[i]);
        for (char *p = copy; *p; p++)
            if (*p == '/')
                *p = '-';
        snprintf(link, sizeof link, "%s/%s", plans, copy);
        if (symlink(target, link) != 0) {
            globfree(&g);
            return -1;
        }
    }
    globfree(&g);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- Interruption ----------------------------------------------------------------- */

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) /* EPIPE: the batch has stopped reading, as it should */
            return;
        p += k;
        n -= (size_t)k;
    }
}

/* SIGINT mid-run: the batch stops reading, writes the results of every row
 * read so far (whole rows, in order, none missing) and says how far it got,
 * exit 130. The book comes through a FIFO: half of it, then the signal once
 * results appear, then the rest, which must not be rated. */
/* Whether signal `sig` is still pending for process `pid` (not yet
 * delivered to a handler), by its /proc/PID/status masks; false when it
 * cannot be read (the process is gone). */
static bool signal_pending(pid_t pid, int sig)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool pending = false;
    unsigned long long mask;
    while (fgets(line, sizeof line, f))
        if ((sscanf(line, "SigPnd: %llx", &mask) == 1 ||
             sscanf(line, "ShdPnd: %llx", &mask) == 1) &&
            (mask & (1ull << (sig - 1))))
            pending = true;
    fclose(f);
    return pending;
}

static void test_interrupt(void **state)
{
    (void)state;
    char book[96], fifo[96], out[96], err[96];
    make_book(book, sizeof book, "interrupt.csv",
              (const char *const[]){"--n", "16000", "--seed", "8", "--state", "OH", "--format",
                                    "csv", NULL});
    size_t len;
    char *text = ts_read_file(book, &len);
    assert_non_null(text);
    const char *half = text;
    /* the header and 9000 rows, about 2.4 MB */
    for (int i = 0; i < 9001; i++)
        half = strchr(half, '\n') + 1;
    temp_path(fifo, sizeof fifo, "interrupt.fifo");
    temp_path(out, sizeof out, "interrupt.out");
    temp_path(err, sizeof err, "interrupt.err");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* O_RDWR so that the child's open does not wait; close-on-exec so that
     * the child holds no writer of its own and sees the end of the book */
    int rw = open(fifo, O_RDWR | O_CLOEXEC);
    assert_true(rw >= 0);
    /* a job started in the background (`make test &`, some CI runners)
     * ignores SIGINT, and an ignored signal stays ignored across exec: batch
     * keeps that (as it should), so the child gets the default here */
    void (*oldint)(int) = signal(SIGINT, SIG_DFL);
    pid_t pid = ts_spawn(bin,
                         (const char *const[]){"batch", "--plans", plans, "--carrier", "keystone",
                                               "--threads", "2", "-", NULL},
                         fifo, out, err);
    signal(SIGINT, oldint);
    int w = open(fifo, O_WRONLY | O_CLOEXEC);
    assert_true(w >= 0);
    close(rw);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    write_all(w, text, (size_t)(half - text));
    struct stat sb = {0};
    for (int i = 0; i < 6000 && (stat(out, &sb) != 0 || sb.st_size == 0); i++)
        nanosleep(&(struct timespec){0, 5000000}, NULL); /* up to 30 s */
    if (sb.st_size == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("no output from batch in 30 seconds");
    }
    assert_int_equal(kill(pid, SIGINT), 0);
    /* the handler has run once the signal is no longer pending (a fixed
     * 200 ms was not always enough on a loaded machine) */
    for (int i = 0; i < 6000 && signal_pending(pid, SIGINT); i++)
        nanosleep(&(struct timespec){0, 5000000}, NULL); /* up to 30 s */
    write_all(w, half, len - (size_t)(half - text));
    close(w);
    signal(SIGPIPE, old);
    int status = 0;
    for (int i = 0; i < 12000 && waitpid(pid, &status, WNOHANG) == 0; i++)
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    if (kill(pid, 0) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("batch did not stop after SIGINT");
    }
    char *o = ts_read_file(out, NULL), *e = ts_read_file(err, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 130)
        fail_msg("status %d (signal %d), expected exit 130; stderr:\n%s", status,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0, e);
    /* every row from line 2 to the last, one result each, whole lines */
    assert_true(starts_with(o, "input_line,"));
    const char *p = strchr(o, '\n') + 1;
    long line = 1;
    while (*p) {
        char *end;
        long got = strtol(p, &end, 10);
        if (got != line + 1)
            fail_msg("after line %ld comes %ld", line, got);
        line = got;
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(strstr(p, ",keystone,keystone-oh-auto,") < nl);
        p = nl + 1;
    }
    assert_true(line > 1 && line < 9002); /* none of the second half */
    char want[256];
    snprintf(want, sizeof want,
             "multiquote batch: interrupted: the output holds the results of the first %ld rows "
             "of stdin (to the row on line %ld), and nothing after\n",
             line - 1, line);
    assert_string_equal(e, want);
    free(o);
    free(e);
    free(text);
}

/* Waits up to 20 seconds for file `path` to hold `what`; whether it does. */
static bool wait_for_text(const char *path, const char *what)
{
    for (int i = 0; i < 4000; i++) {
        char *text = access(path, R_OK) == 0 ? ts_read_file(path, NULL) : NULL;
        bool found = text && strstr(text, what);
        free(text);
        if (found)
            return true;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    return false;
}

/* A book fed through a pipe a row at a time is rated a row at a time: each
 * row's results come out while the writer holds the pipe open. They came
 * only after the reader had 2 MB or the end of the book (fread waits for
 * its whole count, and stdout was flushed at the end). */
static void test_pipe_rated_as_it_comes(void **state)
{
    (void)state;
    char book[96], fifo[96], out[96], err[96];
    make_book(
        book, sizeof book, "pipe.csv",
        (const char *const[]){"--n", "3", "--seed", "5", "--state", "OH", "--format", "csv", NULL});
    char *text = ts_read_file(book, NULL);
    assert_non_null(text);
    const char *row2 = strchr(text, '\n') + 1, *row3 = strchr(row2, '\n') + 1;
    temp_path(fifo, sizeof fifo, "pipe.fifo");
    temp_path(out, sizeof out, "pipe.out");
    temp_path(err, sizeof err, "pipe.err");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int rw = open(fifo, O_RDWR | O_CLOEXEC); /* the child's open does not wait */
    assert_true(rw >= 0);
    pid_t pid = ts_spawn(bin,
                         (const char *const[]){"batch", "--plans", plans, "--carrier", "keystone",
                                               "--threads", "1", "-", NULL},
                         fifo, out, err);
    int w = open(fifo, O_WRONLY | O_CLOEXEC);
    assert_true(w >= 0);
    close(rw);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    write_all(w, text, (size_t)(row3 - text)); /* the header and the first row */
    bool first = wait_for_text(out, "\n2,P00000001,keystone,");
    write_all(w, row3, strcspn(row3, "\n") + 1);
    bool second = first && wait_for_text(out, "\n3,P00000002,keystone,");
    close(w);
    signal(SIGPIPE, old);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!first || !second)
        fail_msg("row %d's results did not come out while the pipe stayed open", first ? 3 : 2);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(text);
}

/* ---- batch equals quote, one by one --------------------------------------------- */

static json_t *parse_json(const char *text)
{
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    if (!doc)
        fail_msg("not JSON (%d:%d: %s):\n%.500s", je.line, je.column, je.text, text);
    return doc;
}

/* Each batch line against `quote --json` on its request; with `carrier`,
 * the batch ran with --carrier and the request names that carrier. */
static void check_against_quote(const char *book, const char *batch_out, const char *carrier)
{
    char *text = ts_read_file(book, NULL);
    char req[96];
    temp_path(req, sizeof req, "one.json");
    const char *line = text, *out = batch_out;
    int n = 0;
    while (*line) {
        const char *end = strchr(line, '\n');
        const char *oend = strchr(out, '\n');
        assert_non_null(end);
        assert_non_null(oend);
        n++;
        char *one = strndup(line, (size_t)(end - line));
        char *got_text = strndup(out, (size_t)(oend - out));
        json_t *request = parse_json(one);
        if (carrier)
            json_object_set_new(request, "carriers", json_pack("[s]", carrier));
        assert_int_equal(json_dump_file(request, req, 0), 0);
        run r = run_reference_quote(plans, req);
        assert_exit(&r, 0);
        json_t *want = parse_json(r.out);
        json_t *got = parse_json(got_text);
        assert_int_equal(json_integer_value(json_object_get(got, "input_line")), n);
        char pid[16];
        snprintf(pid, sizeof pid, "P%08d", n);
        assert_string_equal(json_string_value(json_object_get(got, "policy_id")), pid);
        json_object_del(got, "input_line");
        json_object_del(got, "policy_id");
        /* the shopper's savings tips: quote prints them, a book's batch not */
        assert_true(json_is_array(json_object_get(want, "tips")));
        assert_null(json_object_get(got, "tips"));
        json_object_del(want, "tips");
        if (!json_equal(got, want))
            fail_msg("line %d: batch\n%s\ndiffers from quote --json\n%s", n, got_text, r.out);
        json_decref(want);
        json_decref(got);
        json_decref(request);
        ts_result_free(&r);
        free(one);
        free(got_text);
        line = end + 1;
        out = oend + 1;
    }
    assert_string_equal(out, "");
    assert_int_equal(n, 30);
    free(text);
}

static void test_batch_equals_quote(void **state)
{
    (void)state;
    char book[96];
    make_book(book, sizeof book, "book.ndjson",
              (const char *const[]){"--n", "30", "--seed", "11", NULL});
    run r = RUN("batch", "--plans", plans, book);
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    check_against_quote(book, r.out, NULL);
    ts_result_free(&r);
    r = RUN("batch", "--plans", plans, "--carrier", "keystone", "--threads", "2", book);
    assert_exit(&r, 0);
    check_against_quote(book, r.out, "keystone");
    ts_result_free(&r);
}

/* batch --carrier on a book of health requests equals quote --json for the
 * request naming that carrier: every plan the issuer offers there (it used
 * to rate only one) with the market's premium tax credit (it used to be
 * 0.00). Each health shopper of tests/data, for issuers of OH and UT. */
static void test_health_carrier_equals_quote(void **state)
{
    (void)state;
    char all_plans[600], book[96], req[96];
    assert_non_null(getcwd(all_plans, sizeof all_plans - 8));
    strcat(all_plans, "/plans");
    temp_path(book, sizeof book, "health.ndjson");
    temp_path(req, sizeof req, "health-one.json");
    glob_t g;
    assert_int_equal(glob("tests/data/shoppers/health-*.json", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 10);
    FILE *f = fopen(book, "w");
    assert_non_null(f);
    json_t **requests = calloc(g.gl_pathc, sizeof *requests);
    assert_non_null(requests);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        json_error_t je;
        requests[i] = json_load_file(g.gl_pathv[i], 0, &je);
        assert_non_null(requests[i]);
        char *line = json_dumps(requests[i], JSON_COMPACT);
        fprintf(f, "%s\n", line);
        free(line);
    }
    assert_int_equal(fclose(f), 0);
    static const char *const issuers[] = {"buckeyehealth", "cardinalcare", "beehivehealth"};
    int several = 0; /* results of one issuer for one request, more than one */
    for (size_t k = 0; k < sizeof issuers / sizeof *issuers; k++) {
        run b = RUN("batch", "--plans", all_plans, "--carrier", issuers[k], book);
        if (b.code != 0 && b.code != 2)
            assert_exit(&b, 0);
        const char *out = b.out;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *nl = strchr(out, '\n');
            assert_non_null(nl);
            char *got_text = strndup(out, (size_t)(nl - out));
            json_t *got = parse_json(got_text);
            out = nl + 1;
            assert_int_equal(json_integer_value(json_object_get(got, "input_line")), i + 1);
            json_object_del(got, "input_line");
            json_t *one = json_deep_copy(requests[i]);
            json_object_set_new(one, "carriers", json_pack("[s]", issuers[k]));
            assert_int_equal(json_dump_file(one, req, 0), 0);
            run q = run_reference_quote(all_plans, req);
            json_t *want = q.code == 0 ? parse_json(q.out) : NULL;
            if (want) {
                json_object_del(want, "tips");
                if (!json_equal(got, want))
                    fail_msg("%s, --carrier %s: batch\n%s\ndiffers from quote --json\n%s",
                             g.gl_pathv[i], issuers[k], got_text, q.out);
                several += json_array_size(json_object_get(got, "results")) > 1;
            } else { /* quote refuses it: batch has it invalid */
                assert_string_equal(json_string_value(json_object_get(got, "status")), "invalid");
            }
            json_decref(want);
            json_decref(one);
            json_decref(got);
            ts_result_free(&q);
            free(got_text);
        }
        assert_string_equal(out, "");
        ts_result_free(&b);
    }
    assert_true(several > 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        json_decref(requests[i]);
    free(requests);
    globfree(&g);
}

/* batch --carrier honours a plan's last day (`until`) as quote does: a row
 * after it finds the carrier without rates (it used to be rated with the
 * expired version). Keystone's Ohio plan copied with until: 2026-06-30. */
static void test_carrier_plan_until(void **state)
{
    (void)state;
    char dir[96], cmd[1024], book[96];
    temp_path(dir, sizeof dir, "until-plans");
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/keystone' && cp -r plans/keystone/oh-auto-2026-01-01 '%s/keystone/' && "
             "sed -i 's/^  effective: 2026-01-01$/&\\n  until: 2026-06-30/' "
             "'%s/keystone/oh-auto-2026-01-01/plan.yaml' && "
             "grep -q '^  until: 2026-06-30$' '%s/keystone/oh-auto-2026-01-01/plan.yaml'",
             dir, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    temp_path(book, sizeof book, "until.csv");
    spill(book, "effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,d1_gender,"
                "d1_marital_status,d1_first_licensed,v1_year,v1_symbol\n"
                "2026-08-01,OH,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,"
                "2022,5\n"
                "2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,"
                "2022,5\n");
    run r = RUN("batch", "--plans", dir, "--carrier", "keystone", book);
    assert_exit(&r, 0);
    assert_string_equal(
        r.out, "input_line,policy_id,carrier,plan_id,plan_version,status,total,"
               "premium,fees,term_months,tax_credit,net_premium,bi,pd,med,um,comp,coll,reason\n"
               "2,,keystone,,,unavailable,,,,,,,,,,,,,Keystone Mutual Insurance Company has "
               "no auto rates in effect on 2026-08-01\n"
               "3,,keystone,keystone-oh-auto,2026-01-01,quoted,354.00,334.00,20.00,6,,,"
               "202.00,132.00,,,,,\n");
    ts_result_free(&r);
    /* the newest version ended: the one it replaced does not rate again
     * (batch took the latest version whose until had not passed, so a row
     * after 2026-09-30 got January's rates while quote said unavailable) */
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && mkdir -p '%s/keystone' && cp -r plans/keystone/oh-auto-2026-01-01 "
             "plans/keystone/oh-auto-2026-07-01 '%s/keystone/' && "
             "sed -i 's/^  effective: 2026-07-01$/&\\n  until: 2026-09-30/' "
             "'%s/keystone/oh-auto-2026-07-01/plan.yaml' && "
             "grep -q '^  until: 2026-09-30$' '%s/keystone/oh-auto-2026-07-01/plan.yaml'",
             dir, dir, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    spill(book, "effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,d1_gender,"
                "d1_marital_status,d1_first_licensed,v1_year,v1_symbol\n"
                "2026-10-01,OH,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,"
                "2022,5\n");
    r = RUN("batch", "--plans", dir, "--carrier", "keystone", book);
    assert_exit(&r, 0);
    assert_string_equal(
        r.out, "input_line,policy_id,carrier,plan_id,plan_version,status,total,"
               "premium,fees,term_months,tax_credit,net_premium,bi,pd,med,um,comp,coll,reason\n"
               "2,,keystone,,,unavailable,,,,,,,,,,,,,Keystone Mutual Insurance Company has "
               "no auto rates in effect on 2026-10-01\n");
    ts_result_free(&r);
}

/* ---- CSV books, threads, stdin -------------------------------------------------------- */

/* The output without its first column (input_line). */
static char *drop_first_column(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    assert_non_null(out);
    for (const char *p = text; *p;) {
        const char *comma = strchr(p, ',');
        const char *nl = strchr(p, '\n');
        assert_non_null(comma);
        assert_non_null(nl);
        memcpy(o, comma + 1, (size_t)(nl - comma));
        o += nl - comma;
        p = nl + 1;
    }
    *o = '\0';
    return out;
}

static void test_csv_book_same_as_ndjson(void **state)
{
    (void)state;
    char csv[96], ndjson[96];
    make_book(csv, sizeof csv, "book.csv",
              (const char *const[]){"--n", "400", "--seed", "5", "--format", "csv", NULL});
    make_book(ndjson, sizeof ndjson, "book5.ndjson",
              (const char *const[]){"--n", "400", "--seed", "5", NULL});
    run a = RUN("batch", "--plans", plans, csv);
    run b = RUN("batch", "--plans", plans, "--format", "csv", ndjson);
    assert_exit(&a, 0);
    assert_exit(&b, 0);
    assert_true(starts_with(
        a.out, "input_line,policy_id,carrier,plan_id,plan_version,status,"
               "total,premium,fees,term_months,tax_credit,net_premium,bi,pd,med,um,comp,coll,"
               "reason\n2,P00000001,"));
    char *ca = drop_first_column(a.out), *cb = drop_first_column(b.out);
    assert_string_equal(ca, cb);
    free(ca);
    free(cb);
    /* the same with 1 and 2 threads, and from stdin */
    run c = RUN("batch", "--plans", plans, "--threads", "1", csv);
    run d = RUN_STDIN(csv, "batch", "--plans", plans, "--threads", "2", "-");
    assert_exit(&c, 0);
    assert_exit(&d, 0);
    assert_string_equal(c.out, a.out);
    assert_string_equal(d.out, a.out);
    ts_result_free(&a);
    ts_result_free(&b);
    ts_result_free(&c);
    ts_result_free(&d);
}

/* CSV output of the other lines: each premium's period, and a health
 * plan's tax credit and what the shopper pays after it (the gross alone, in
 * total, was all a health book's CSV said). */
static void test_csv_output_of_other_lines(void **state)
{
    (void)state;
    char all_plans[600], book[96];
    assert_non_null(getcwd(all_plans, sizeof all_plans - 8));
    strcat(all_plans, "/plans");
    temp_path(book, sizeof book, "lines.ndjson");
    static const char *const shoppers[] = {"health-oh-single-40", "home-oh-columbus-frame",
                                           "life-oh-female-35-preferred"};
    FILE *f = fopen(book, "w");
    assert_non_null(f);
    for (size_t i = 0; i < sizeof shoppers / sizeof *shoppers; i++) {
        char path[128];
        snprintf(path, sizeof path, "tests/data/shoppers/%s.json", shoppers[i]);
        json_error_t je;
        json_t *req = json_load_file(path, 0, &je);
        assert_non_null(req);
        char *line = json_dumps(req, JSON_COMPACT);
        fprintf(f, "%s\n", line);
        free(line);
        json_decref(req);
    }
    assert_int_equal(fclose(f), 0);
    run r = RUN("batch", "--plans", all_plans, "--format", "csv", book);
    assert_exit(&r, 0);
    assert_true(starts_with(r.out, "input_line,policy_id,carrier,plan_id,plan_version,status,total,"
                                   "premium,fees,term_months,tax_credit,net_premium,bi,pd,med,um,"
                                   "comp,coll,reason\n"));
    /* a month's premium of 385.89, less the credit of 359.72 (income
     * 30,000 for one: 191.6% of the poverty line): 26.17 */
    assert_non_null(strstr(r.out, "\n1,,cardinalcare,cardinal-bronze-hsa,2026,quoted,385.89,385.89,"
                                  "0.00,1,359.72,26.17,,,,,,,\n"));
    assert_non_null(strstr(r.out, "\n2,,keystone,keystone-oh-home,2026-01-01,quoted,1206.00,"
                                  "1181.00,25.00,12,,,,,,,,,\n"));
    assert_non_null(strstr(r.out, "\n3,,beacon,beacon-term-life,2026-01-01,quoted,18.46,18.46,"
                                  "0.00,1,,,,,,,,,\n"));
    /* not quoted: no period, no credit */
    assert_non_null(strstr(r.out, "\n1,,beehivehealth,,,unavailable,,,,,,,,,,,,,"));
    ts_result_free(&r);
}

/* ---- Bad rows and headers ------------------------------------------------------------------ */

static void test_bad_rows(void **state)
{
    (void)state;
    char book[96];
    temp_path(book, sizeof book, "bad.csv");
    spill(book,
          "policy_id,effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,"
          "d1_gender,d1_marital_status,d1_first_licensed,v1_year,v1_symbol\n"
          "G1,2026-03-01,OH,43215,25000,50000,25000,1980-05-10,female,single,1998-06-01,2023,5\n"
          "B2,2026-03-01,OH,43215,25000,50000,25000,1980-05-10,female,singel,1998-06-01,2023,5\n"
          "B3,2026-03-31,OH,43215,25000,50000\n"
          "G4,2026-03-01,OH,43215,25000,50000,25000,1980-05-10,female,single,1998-06-01,2023,5\n");
    run r = RUN("batch", "--plans", plans, "--carrier", "keystone", book);
    assert_exit(&r, 2);
    assert_string_equal(
        r.out,
        "input_line,policy_id,carrier,plan_id,plan_version,status,total,premium,fees,term_months,"
        "tax_credit,net_premium,bi,pd,med,um,comp,coll,reason\n"
        /* 128 x 1.22 x 0.95 = 148.352 -> 148; 112 x 1.18 x 0.95 = 125.552 -> 126 */
        "2,G1,keystone,keystone-oh-auto,2026-01-01,quoted,294.00,274.00,20.00,6,,,148.00,126.00,,,,"
        ","
        "\n"
        "3,B2,,,,invalid,,,,,,,,,,,,,\"line 3: column d1_marital_status: \"\"singel\"\" is not one "
        "of single, married, civil_union, divorced, widowed\"\n"
        "4,,,,,invalid,,,,,,,,,,,,,\"line 4: has 6 fields, the header has 13\"\n"
        "5,G4,keystone,keystone-oh-auto,2026-01-01,quoted,294.00,274.00,20.00,6,,,148.00,126.00,,,,"
        ","
        "\n");
    char want[512]; /* the book, then its first bad row's line and column */
    snprintf(want, sizeof want,
             "multiquote batch: %s: 2 of 4 rows invalid; the first: line 3: column "
             "d1_marital_status: \"singel\" is not one of single, married, civil_union, "
             "divorced, widowed\n",
             book);
    assert_string_equal(r.err, want);
    ts_result_free(&r);
    /* NDJSON output names the field */
    r = RUN("batch", "--plans", plans, "--carrier", "keystone", "--format", "ndjson", book);
    assert_exit(&r, 2);
    assert_contains(r.out,
                    "\n{\"input_line\":3,\"policy_id\":\"B2\",\"status\":\"invalid\","
                    "\"errors\":[{\"field\":\"d1_marital_status\",\"message\":\"\\\"singel\\\" "
                    "is not one of single, married, civil_union, divorced, widowed\"}],"
                    "\"error_count\":1}\n");
    ts_result_free(&r);
}

static void test_bad_header_and_usage(void **state)
{
    (void)state;
    char book[96];
    temp_path(book, sizeof book, "header.csv");
    spill(book, "effective_date,state,zip,bi_per_persn\n2026-03-01,OH,43215,25000\n");
    run r = RUN("batch", "--plans", plans, book);
    assert_exit(&r, 2);
    char want[256];
    snprintf(want, sizeof want,
             "multiquote batch: %s: line 1: column \"bi_per_persn\": unknown column (see "
             "docs/batch.md; extra_* columns are ignored)\n",
             book);
    assert_string_equal(r.err, want);
    assert_string_equal(r.out, "");
    ts_result_free(&r);
    r = RUN("batch", "--plans", plans, "--carrier", "nobody", book);
    assert_exit(&r, 2);
    assert_string_equal(r.err, "multiquote batch: no carrier with id \"nobody\"\n");
    ts_result_free(&r);
    r = RUN("batch", "--plans", plans, "--format", "xml", book);
    assert_exit(&r, 2);
    ts_result_free(&r);
    r = RUN("batch", "--plans", plans, "--threads", "0", book);
    assert_exit(&r, 2);
    assert_string_equal(
        r.err, "multiquote batch: --threads takes a whole number from 1 to 256, not \"0\"\n");
    ts_result_free(&r);
    r = RUN("batch", "--plans", plans, "/nonexistent/book.csv");
    assert_exit(&r, 1);
    ts_result_free(&r);
    r = RUN("help", "batch");
    assert_exit(&r, 0);
    assert_true(starts_with(r.out, "usage: multiquote batch [--plans DIR]"));
    ts_result_free(&r);
}

/* A book holds single-line policies: a bundle row is invalid and says
 * so, and the rows around it are rated. */
static void test_bundle_row(void **state)
{
    (void)state;
    json_t *bundle = ts_load_json("examples/oh-bundle-auto-home.json");
    json_t *single = ts_load_json("examples/oh-single-driver.json");
    char *b = json_dumps(bundle, JSON_COMPACT), *g = json_dumps(single, JSON_COMPACT);
    assert_true(b && g);
    size_t n = strlen(b) + strlen(g) + 4;
    char *text = malloc(n), book[96];
    assert_non_null(text);
    snprintf(text, n, "%s\n%s\n", b, g);
    temp_path(book, sizeof book, "bundle.ndjson");
    spill(book, text);
    run r = RUN("batch", "--plans", plans, "--carrier", "harbor", book);
    assert_exit(&r, 2);
    assert_true(starts_with(
        r.out, "{\"input_line\":1,\"status\":\"invalid\",\"errors\":[{\"field\":\"line\","
               "\"message\":\"a bundle request; a book holds single-line policies (quote a "
               "bundle with multiquote quote)\"}],\"error_count\":1}\n{\"input_line\":2,"));
    assert_contains(r.out, "\"status\":\"quoted\"");
    char want[512];
    snprintf(want, sizeof want,
             "multiquote batch: %s: 1 of 2 rows invalid; the first: line 1: line: a bundle "
             "request; a book holds single-line policies (quote a bundle with multiquote quote)\n",
             book);
    assert_string_equal(r.err, want);
    ts_result_free(&r);
    free(text);
    free(b);
    free(g);
    json_decref(bundle);
    json_decref(single);
}

/* An empty book is bad input (exit 2) for batch and impact, with nothing
 * written: no CSV header, no empty report. */
static void test_empty_book(void **state)
{
    (void)state;
    char book[96], want[256];
    temp_path(book, sizeof book, "empty.csv");
    spill(book, "");
    run r = RUN("batch", "--plans", plans, "--format", "csv", book);
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    snprintf(want, sizeof want, "multiquote batch: %s: the book is empty (no policies)\n", book);
    assert_string_equal(r.err, want);
    ts_result_free(&r);
    r = RUN("impact", "--plans", plans, "--carrier", "keystone", "--from", "2026-01-01", "--to",
            "2026-07-01", book);
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    snprintf(want, sizeof want, "multiquote impact: %s: the book is empty (no policies)\n", book);
    assert_string_equal(r.err, want);
    ts_result_free(&r);
}

/* ---- impact ---------------------------------------------------------------------------- */

/* Policies A, B and C of tests/unit/test_batch.c, with their premiums under
 * both versions worked out by hand there: A 565.00 -> 588.00 (+4.0708%),
 * B 227.00 -> 220.00 (-3.0837%, the $200 minimum), C 368.00 -> 416.00
 * (+13.0435%, the multi-car discount cut from 15% to 12%); D is declined. */
static const char impact_book[] =
    "policy_id,effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,"
    "d1_gender,d1_marital_status,d1_first_licensed,d1_incidents,v1_year,v1_symbol,"
    "v1_comp_deductible,v1_coll_deductible,v2_year,v2_symbol\n"
    "A,2026-08-01,OH,43215,25000,50000,25000,1980-05-10,female,single,1998-06-01,,2023,5,500,500,,"
    "\n"
    "B,2026-08-01,OH,45701,25000,50000,25000,1980-05-10,male,single,1998-06-01,,2023,5,,,,\n"
    "C,2026-08-01,OH,43081,25000,50000,25000,1980-05-10,female,single,1998-06-01,,2023,5,,,2023,5\n"
    "D,2026-08-01,OH,43215,25000,50000,25000,1980-05-10,male,single,1998-06-01,dui:2024-01-15,"
    "2023,5,,,,\n"
    "E,2026-08-01,TX,75201,30000,60000,25000,1980-05-10,female,single,1998-06-01,,2023,5,,,,\n";

static void test_impact(void **state)
{
    (void)state;
    char book[96], csv[96], png[96];
    temp_path(book, sizeof book, "impact.csv");
    temp_path(csv, sizeof csv, "impact-out.csv");
    temp_path(png, sizeof png, "impact.png");
    spill(book, impact_book);
    run r = RUN("impact", "--plans", plans, "--carrier", "keystone", "--from", "2026-01-01", "--to",
                "2026-07-01", "--out-csv", csv, "--png", png, book);
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    const char *shown[] = {
        "Rate impact: Keystone Mutual Insurance Company (keystone), plan keystone-oh-auto\n"
        "  from version 2026-01-01 (effective 2026-01-01) to version 2026-07-01 (effective "
        "2026-07-01)\n",
        "  quoted                       3              3\n",
        "  declined                     1              1\n",
        "  written premium   1,160.00 -> 1,224.00  +5.52%\n",
        "  mean change          +4.68%  +21.33 per policy\n",
        "  median change        +4.07%  +23.00 per policy\n",
        "  smallest -3.08%, largest +13.04%\n",
        "  changing by more than 10%:         1 (33.3%): 1 up, 0 down\n",
        "  457              1           227.00           220.00    -3.08%    -3.08%\n",
        "  45-54            3         1,160.00         1,224.00    +5.52%    +4.68%\n",
        "  coll             1           211.00           220.00    +4.27%    +4.27%\n",
    };
    for (size_t i = 0; i < sizeof shown / sizeof *shown; i++)
        assert_contains(r.out, shown[i]);
    ts_result_free(&r);
    char *out = ts_read_file(csv, NULL);
    assert_true(starts_with(out, "input_line,policy_id,zip3,age_band,from_status,from_total,"));
    assert_contains(out, "\n4,C,430,45-54,quoted,368.00,quoted,416.00,48.00,13.04,184.00,210.00,"
                         "164.00,186.00,,,,,,,,,,\n");
    /* Keystone writes Texas auto, in another plan than the one compared */
    assert_contains(out, "\n6,E,752,45-54,unavailable,,unavailable,,,,,,,,,,,,,,,,\"plan "
                         "keystone-oh-auto rates OH, not TX\",\"plan keystone-oh-auto rates OH, "
                         "not TX\"\n");
    free(out);
    size_t n;
    char *image = ts_read_file(png, &n);
    assert_true(n > 10000);
    assert_memory_equal(image, "\x89PNG\r\n\x1a\n", 8);
    free(image);
    /* a version the carrier does not have */
    r = RUN("impact", "--plans", plans, "--carrier", "keystone", "--from", "2026-01-01", "--to",
            "2027-01-01", book);
    assert_exit(&r, 2);
    assert_contains(r.err, "multiquote impact: no plan of \"keystone\" has versions 2026-01-01 and "
                           "2027-01-01; its plans:\n");
    assert_contains(r.err, "  keystone-oh-auto version 2026-07-01\n");
    ts_result_free(&r);
    r = RUN("impact", "--plans", plans, "--carrier", "keystone", book);
    assert_exit(&r, 2);
    ts_result_free(&r);
    /* a chart that cannot be written fails before the book is rated */
    r = RUN("impact", "--plans", plans, "--carrier", "keystone", "--from", "2026-01-01", "--to",
            "2026-07-01", "--png", "/nonexistent-dir/x.png", book);
    assert_exit(&r, 1);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err,
                        "multiquote impact: /nonexistent-dir/x.png: No such file or directory\n");
    ts_result_free(&r);
}

/* Whether folder `dir` holds a file whose name starts with `prefix` other
 * than `except` (a temporary output left behind). */
static bool leftover(const char *dir, const char *prefix, const char *except)
{
    char pattern[256];
    snprintf(pattern, sizeof pattern, "%s/%s*", dir, prefix);
    glob_t g;
    bool found = false;
    if (glob(pattern, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            found |= strcmp(g.gl_pathv[i], except) != 0;
    globfree(&g);
    return found;
}

/* --out-csv and --png are written to temporary files renamed over them
 * when the run gives them: a failed run (a book that is not one) leaves
 * what they held, and no temporary file. They were emptied (the chart) or
 * cut to the header (the CSV) before the run. A good run replaces them. */
static void test_impact_outputs_kept_on_failure(void **state)
{
    (void)state;
    char book[96], bad[96], csv[96], png[96];
    temp_path(book, sizeof book, "kept-book.csv");
    temp_path(bad, sizeof bad, "kept-bad.csv");
    temp_path(csv, sizeof csv, "kept-out.csv");
    temp_path(png, sizeof png, "kept-out.png");
    spill(book, impact_book);
    spill(bad, "foo;bar\n1;2\n");
    spill(csv, "the previous run's rows\n");
    spill(png, "the previous run's chart\n");
    run r = RUN("impact", "--plans", plans, "--carrier", "keystone", "--from", "2026-01-01", "--to",
                "2026-07-01", "--out-csv", csv, "--png", png, bad);
    assert_exit(&r, 2);
    ts_result_free(&r);
    char *c = ts_read_file(csv, NULL), *p = ts_read_file(png, NULL);
    assert_string_equal(c, "the previous run's rows\n");
    assert_string_equal(p, "the previous run's chart\n");
    free(c);
    free(p);
    assert_false(leftover(tmp, "kept-out.csv", csv));
    assert_false(leftover(tmp, "kept-out.png", png));
    /* a good run replaces both, readable as a file the user created */
    r = RUN("impact", "--plans", plans, "--carrier", "keystone", "--from", "2026-01-01", "--to",
            "2026-07-01", "--out-csv", csv, "--png", png, book);
    assert_exit(&r, 0);
    ts_result_free(&r);
    size_t n = 0;
    c = ts_read_file(csv, NULL);
    p = ts_read_file(png, &n);
    assert_true(starts_with(c, "input_line,policy_id,zip3,"));
    assert_true(n > 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0);
    free(c);
    free(p);
    struct stat st;
    assert_int_equal(stat(png, &st), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0666 & ~mask);
    assert_false(leftover(tmp, "kept-out.csv", csv));
    assert_false(leftover(tmp, "kept-out.png", png));
}

/* ---- gen-book --------------------------------------------------------------------------- */

/* An output that names the book (or a link to it, or the book read from
 * stdin) is refused before anything is opened for writing: the book is
 * left as it was (it used to be emptied, then reported empty). Two
 * outputs naming one file are refused too. */
static void test_impact_output_is_book(void **state)
{
    (void)state;
    char book[96], link[96], out[96];
    temp_path(book, sizeof book, "mine.csv");
    temp_path(link, sizeof link, "mine-link.csv");
    temp_path(out, sizeof out, "twice.out");
    spill(book, impact_book);
    unlink(link);
    assert_int_equal(symlink(book, link), 0);
    char want[512];
    const char *const cases[][2] = {{"--out-csv", book}, {"--png", link}};
    for (size_t i = 0; i < 2; i++) {
        run r = RUN("impact", "--plans", plans, "--carrier", "keystone", "--from", "2026-01-01",
                    "--to", "2026-07-01", cases[i][0], cases[i][1], book);
        assert_exit(&r, 2);
        snprintf(want, sizeof want,
                 "multiquote impact: %s %s is the book itself: it would be overwritten (name "
                 "another file)\n",
                 cases[i][0], cases[i][1]);
        assert_string_equal(r.err, want);
        assert_string_equal(r.out, "");
        ts_result_free(&r);
        char *text = ts_read_file(book, NULL);
        assert_string_equal(text, impact_book);
        free(text);
    }
    run r = RUN_STDIN(book, "impact", "--plans", plans, "--carrier", "keystone", "--from",
                      "2026-01-01", "--to", "2026-07-01", "--out-csv", link, "-");
    assert_exit(&r, 2);
    snprintf(want, sizeof want,
             "multiquote impact: --out-csv %s is the book itself: it would be overwritten (name "
             "another file)\n",
             link);
    assert_string_equal(r.err, want);
    ts_result_free(&r);
    char *text = ts_read_file(book, NULL);
    assert_string_equal(text, impact_book);
    free(text);
    r = RUN("impact", "--plans", plans, "--carrier", "keystone", "--from", "2026-01-01", "--to",
            "2026-07-01", "--out-csv", out, "--png", out, book);
    assert_exit(&r, 2);
    snprintf(want, sizeof want, "multiquote impact: --out-csv and --png name the same file, %s\n",
             out);
    assert_string_equal(r.err, want);
    ts_result_free(&r);
}

static void test_gen_book(void **state)
{
    (void)state;
    run a = RUN("gen-book", "--line", "auto", "--n", "100", "--seed", "9", "--format", "csv",
                "--state", "TX");
    run b = RUN("gen-book", "--line", "auto", "--n", "100", "--seed", "9", "--format", "csv",
                "--state", "TX");
    assert_exit(&a, 0);
    assert_string_equal(a.out, b.out);
    assert_true(starts_with(a.out, "policy_id,effective_date,state,zip,applicant_dob,"));
    int rows = 0;
    for (const char *p = a.out; *p; p++)
        rows += *p == '\n';
    assert_int_equal(rows, 101);
    assert_contains(a.out, "\nP00000100,2026-");
    assert_null(strstr(a.out, ",OH,"));
    ts_result_free(&a);
    ts_result_free(&b);
    static const struct {
        const char *args[8];
        const char *err;
    } bad[] = {
        {{"gen-book", "--n", "0", NULL},
         "multiquote gen-book: --n takes a whole number from 1, not \"0\"\n"},
        {{"gen-book", NULL},
         "multiquote gen-book: needs --n N, the number of policies (1 or more)\n"},
        {{"gen-book", "--n", "5", "--line", "home", NULL},
         "multiquote gen-book: only --line auto books can be generated\n"},
        {{"gen-book", "--n", "5", "--state", "CA", NULL},
         "multiquote gen-book: --state takes OH, PA, TX or a list of them, not \"CA\"\n"},
        {{"gen-book", "--n", "5", "--format", "xml", NULL},
         "multiquote gen-book: --format is ndjson or csv, not \"xml\"\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        run r = run_with(NULL, bad[i].args);
        assert_exit(&r, 2);
        assert_string_equal(r.err, bad[i].err);
        ts_result_free(&r);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[1024];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(bin_default, sizeof bin_default, "%s/../multiquote", dirname(self));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_equals_quote),
        cmocka_unit_test(test_health_carrier_equals_quote),
        cmocka_unit_test(test_carrier_plan_until),
        cmocka_unit_test(test_csv_book_same_as_ndjson),
        cmocka_unit_test(test_csv_output_of_other_lines),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_bad_header_and_usage),
        cmocka_unit_test(test_empty_book),
        cmocka_unit_test(test_bundle_row),
        cmocka_unit_test(test_impact),
        cmocka_unit_test(test_impact_outputs_kept_on_failure),
        cmocka_unit_test(test_impact_output_is_book),
        cmocka_unit_test(test_gen_book),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_pipe_rated_as_it_comes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
