/* bench_rating.c -- how fast the engine rates, measured against hand-written C.
 *
 * `build/bench/bench_rating [--plans DIR] [--iterations N] [--rounds R] [--request FILE]
 *                           [--line-requests DIR]`
 * loads the plans (default ./plans), takes the two-car family request
 * (example 2 of ../shared/reference/harbor-mutual-oh-auto.examples.json, or
 * the request in FILE) and parses it once. Before timing it checks that the
 * engine and harbor_direct (harbor_direct.c, the manual typed in as C) give
 * the same status, coverages and total for all four Harbor examples, and
 * that example 2 costs 1866.00; any difference aborts.
 *
 * It then times, N calls per round, R rounds after a warm-up round, and
 * reports the median round (with the fastest and slowest): (a) the engine
 * rating the Harbor plan alone (mq_rate_plan, no worksheet); (b) the full
 * comparison (mq_rate_all over every applicable auto plan, sorting included),
 * per call and per plan; (c) harbor_direct; (d) mq_req_parse + mq_rate_all,
 * JSON text included. After these auto figures it times (e)-(h) like (b):
 * one request per other line (home, renters, term_life, health, read from
 * tests/data/shoppers or --line-requests DIR and parsed once; a line whose
 * file is missing is skipped), mq_rate_all per call, with the number of
 * plans rated and the time per plan rating. Last, (i) and (j) time the
 * savings tips' kind of work: the Harbor plan rated again on four variants
 * of the request (deductibles raised, paperless, lower bi limits, the
 * multi-line bundle), plainly (i) and with a shared mq_rate_memo and
 * totals_only (j); the two must agree. Every engine call gets a fresh
 * arena that is freed right after, as a server would per request.
 * Everything runs on one thread (`taskset -c N` pins it) and the clock is
 * CLOCK_MONOTONIC. Each measured call is one non-inlined bench_* function;
 * under valgrind there is one round and no warm-up, so callgrind's inclusive
 * cost of each divided by N is the instruction count per call
 * (bench/README.md).
 */
#include "harbor_direct.h"
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#define DEFAULT_PLANS         "plans"
#define DEFAULT_EXAMPLES      "../shared/reference/harbor-mutual-oh-auto.examples.json"
#define DEFAULT_LINE_REQUESTS "tests/data/shoppers"
#define BENCH_CASE            "2-family-two-cars"
#define BENCH_CARRIER         "harbor"
#define BENCH_TOTAL           186600 /* example 2's Harbor total, in cents */
#define TARGET_PLAN_US        5.0
#define TARGET_RATIO          2.0
#define NOINLINE              __attribute__((noinline))

enum { DEFAULT_ITERATIONS = 20000, DEFAULT_ROUNDS = 7, MAX_ROUNDS = 99 };

static const char usage[] =
    "usage: bench_rating [--plans DIR] [--iterations N] [--rounds R] [--request FILE]\n"
    "                    [--line-requests DIR]\n"
    "\n"
    "Times the engine rating the two-car family request (Harbor example 2) against\n"
    "the Harbor plan and against every applicable auto plan, and a hand-written C\n"
    "function computing Harbor directly; then one request per other line (home,\n"
    "renters, term_life, health) against every applicable plan of its line. Run\n"
    "from the repository root.\n"
    "\n"
    "  --plans DIR       plans folder (default: " DEFAULT_PLANS ")\n"
    "  --iterations N    calls per round for each measurement (default: 20000)\n"
    "  --rounds R        timed rounds after the warm-up; the median is reported (default: 7)\n"
    "  --request FILE    a request JSON to time instead, or an examples file\n"
    "                    (its case " BENCH_CASE " is timed)\n"
    "                    (default: " DEFAULT_EXAMPLES ")\n"
    "  --line-requests DIR\n"
    "                    folder of the home, renters, term_life and health requests;\n"
    "                    a missing file skips its line (default: " DEFAULT_LINE_REQUESTS ")\n";

/* What every measured call needs. */
typedef struct bench {
    const mq_engine *e;
    const mq_plan *harbor;
    const mq_input *in; /* the request, parsed once */
    const char *text;   /* ... and its JSON text, for (d) */
    size_t len;
    mq_rate_opts opts;
    int64_t *cov;                           /* harbor_direct's coverage premiums */
    const mq_input *line_in[MQ_LINE_COUNT]; /* the other lines' requests, parsed once */
    mq_input variants[4];                   /* (i), (j): the request with one change each */
    int64_t sink;                           /* keeps every result observable */
} bench;

/* ---- Helpers ----------------------------------------------------------- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void money(char out[32], int64_t cents)
{
    snprintf(out, 32, "%s%lld.%02lld", cents < 0 ? "-" : "", llabs((long long)cents) / 100,
             llabs((long long)cents) % 100);
}

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        fprintf(stderr, "bench_rating: %s:%d: %s\n", path, je.line, je.text);
    return doc;
}

static json_t *find_case(json_t *examples, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(examples, "cases"), i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (n && strcmp(n, name) == 0)
            return c;
    }
    return NULL;
}

/* Parses request JSON text into *in (arena memory), printing the errors. */
static bool parse_request(const char *text, mq_arena *a, mq_input *in, const char *what)
{
    mq_req_errors errs;
    if (mq_req_parse(text, strlen(text), a, in, &errs))
        return true;
    fprintf(stderr, "bench_rating: %s: invalid request\n", what);
    for (int i = 0; i < errs.count && i < 32; i++)
        fprintf(stderr, "  %s\n", mq_req_error_text(&errs.items[i], a));
    return false;
}

/* The whole file as a NUL-terminated string (malloc), or NULL with errno set.
 * Stops reading once past MQ_REQ_MAX_BYTES, a size mq_req_parse rejects. */
static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = NULL;
    for (;;) {
        char *grown = realloc(buf, cap + 1);
        if (!grown) {
            free(buf);
            fclose(f);
            errno = ENOMEM;
            return NULL;
        }
        buf = grown;
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap > MQ_REQ_MAX_BYTES)
            break;
        cap *= 2;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The Harbor plan the engine would pick for this request, or NULL. */
static const mq_plan *harbor_plan(const mq_engine *e, const mq_input *in)
{
    enum { CAP = 256 };
    const mq_plan *plans[CAP];
    const char *ids[CAP];
    int n = mq_engine_select(e, in->line, in->state, in->effective_date, plans, ids, CAP);
    for (int i = 0; i < n; i++)
        if (strcmp(ids[i], BENCH_CARRIER) == 0)
            return plans[i];
    return NULL;
}

/* Room for harbor_direct's coverage premiums. */
static int64_t *cov_buffer(mq_arena *a, const mq_input *in)
{
    size_t n = (size_t)in->count[MQ_ENT_VEHICLE] * MQ_AUTO_NCOVERAGES + 1;
    int64_t *cov = mq_arena_alloc(a, n * sizeof *cov);
    if (!cov) {
        fprintf(stderr, "bench_rating: out of memory\n");
        exit(1);
    }
    return cov;
}

/* ---- Correctness: engine == hand-written (== expected) ------------------ */

/* Rates one request both ways and compares; `expected` (may be NULL) is an
 * example's expected object. Prints one line; false on any difference. */
static bool check_request(const mq_engine *e, const char *name, const char *text,
                          const json_t *expected, int64_t *engine_total)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_result r;
    bool ok = parse_request(text, &a, &in, name);
    const mq_plan *p = ok ? harbor_plan(e, &in) : NULL;
    if (ok && !p) {
        fprintf(stderr, "bench_rating: %s: no %s plan applies\n", name, BENCH_CARRIER);
        ok = false;
    }
    if (ok && !mq_rate_plan(p, &in, &(mq_rate_opts){.worksheet = false}, &a, &r)) {
        fprintf(stderr, "bench_rating: %s: out of memory\n", name);
        ok = false;
    }
    if (!ok) {
        mq_arena_free(&a);
        return false;
    }
    int64_t total, *cov = cov_buffer(&a, &in);
    int ncov;
    int status = harbor_direct(&in, &total, cov, &ncov);
    int64_t etotal = r.status == MQ_QUOTED ? r.total_cents : 0;
    char why[160] = "";
    if (status != (int)r.status)
        snprintf(why, sizeof why, "engine %s, hand-written %s", mq_status_name(r.status),
                 mq_status_name((mq_status)status));
    else if (etotal != total)
        snprintf(why, sizeof why, "engine total %lld, hand-written %lld cents", (long long)etotal,
                 (long long)total);
    else if (r.status == MQ_QUOTED && r.ncoverages != ncov)
        snprintf(why, sizeof why, "engine %d coverages, hand-written %d", r.ncoverages, ncov);
    for (int i = 0; !*why && r.status == MQ_QUOTED && i < ncov; i++)
        if (r.coverages[i].cents != cov[i])
            snprintf(why, sizeof why, "coverage %d (%s): engine %lld, hand-written %lld cents", i,
                     mq_line_get(in.line)->coverages[r.coverages[i].coverage].code,
                     (long long)r.coverages[i].cents, (long long)cov[i]);
    const char *want = json_string_value(json_object_get(expected, "status"));
    const json_t *want_total = json_object_get(json_object_get(expected, "premium"), "total");
    if (!*why && want && strcmp(want, mq_status_name(r.status)) != 0)
        snprintf(why, sizeof why, "expected %s, engine %s", want, mq_status_name(r.status));
    else if (!*why && json_is_number(want_total) &&
             llround(json_number_value(want_total) * 100) != etotal)
        snprintf(why, sizeof why, "expected total %.2f", json_number_value(want_total));
    char t[32];
    money(t, etotal);
    printf("  %-28s %-11s %10s  %s%s\n", name, mq_status_name(r.status),
           r.status == MQ_QUOTED ? t : "-", *why ? "MISMATCH: " : "engine = hand-written",
           *why       ? why
           : expected ? " = expected"
                      : "");
    *engine_total = etotal;
    mq_arena_free(&a);
    return !*why;
}

/* ---- Measured calls (one each, never inlined: see the top comment) ----- */

NOINLINE static void bench_engine_harbor(bench *b)
{
    mq_arena a;
    mq_result r;
    mq_arena_init(&a, 0);
    if (!mq_rate_plan(b->harbor, b->in, &b->opts, &a, &r))
        abort();
    b->sink += r.total_cents;
    mq_arena_free(&a);
}

/* (a'): the same, the plan interpreted (mq_rate_opts.interpreted). */
NOINLINE static void bench_interpreted_harbor(bench *b)
{
    mq_arena a;
    mq_result r;
    mq_arena_init(&a, 0);
    if (!mq_rate_plan(b->harbor, b->in, &(mq_rate_opts){.interpreted = true}, &a, &r))
        abort();
    b->sink += r.total_cents;
    mq_arena_free(&a);
}

NOINLINE static void bench_direct_harbor(bench *b)
{
    int64_t total;
    int ncov;
    b->sink += harbor_direct(b->in, &total, b->cov, &ncov) + total;
}

NOINLINE static void bench_compare(bench *b)
{
    mq_arena a;
    mq_result *res;
    int n;
    mq_arena_init(&a, 0);
    if (!mq_rate_all(b->e, b->in, &b->opts, &a, &res, &n))
        abort();
    b->sink += res[0].total_cents + n;
    mq_arena_free(&a);
}

NOINLINE static void bench_parse_compare(bench *b)
{
    mq_arena a;
    mq_input in;
    mq_req_errors errs;
    mq_result *res;
    int n;
    mq_arena_init(&a, 0);
    if (!mq_req_parse(b->text, b->len, &a, &in, &errs) ||
        !mq_rate_all(b->e, &in, &b->opts, &a, &res, &n))
        abort();
    b->sink += res[0].total_cents + n;
    mq_arena_free(&a);
}

/* (i): the tips' re-ratings of the Harbor plan, as tips.c made them. */
NOINLINE static void bench_rerate_plain(bench *b)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    for (int v = 0; v < 4; v++) {
        mq_result r;
        if (!mq_rate_plan(b->harbor, &b->variants[v], &(mq_rate_opts){0}, &a, &r))
            abort();
        b->sink += r.total_cents;
    }
    mq_arena_free(&a);
}

/* (j): the same, sharing a memo and asking for totals only. */
NOINLINE static void bench_rerate_memo(bench *b)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_rate_opts opts = {.totals_only = true, .memo = mq_rate_memo_new(&a)};
    for (int v = 0; v < 4; v++) {
        mq_result r;
        if (!opts.memo || !mq_rate_plan(b->harbor, &b->variants[v], &opts, &a, &r))
            abort();
        b->sink += r.total_cents;
    }
    mq_arena_free(&a);
}

/* Variant v of the request (values copied into arena a): comp and coll
 * deductibles at 1000, paperless, bi 50/100 (um no higher), bundled. */
static void make_variant(const mq_input *in, int v, mq_arena *a, mq_input *out)
{
    const mq_line_def *l = mq_line_get(in->line);
    *out = *in;
    for (int k = MQ_ENT_POLICY; k <= MQ_ENT_VEHICLE; k += MQ_ENT_VEHICLE) {
        size_t cells = (size_t)in->count[k] * (size_t)l->nfields[k];
        double *values = mq_arena_alloc(a, (cells ? cells : 1) * sizeof(double));
        if (!values)
            abort();
        memcpy(values, in->values[k], cells * sizeof(double));
        out->values[k] = values;
    }
    double *pol = out->values[MQ_ENT_POLICY];
    for (int32_t i = 0; v == 0 && i < in->count[MQ_ENT_VEHICLE]; i++) {
        double *row = mq_input_row(out, MQ_ENT_VEHICLE, i);
        if (!isnan(row[MQ_AV_COMP_DEDUCTIBLE]))
            row[MQ_AV_COMP_DEDUCTIBLE] = 1000;
        if (!isnan(row[MQ_AV_COLL_DEDUCTIBLE]))
            row[MQ_AV_COLL_DEDUCTIBLE] = 1000;
    }
    if (v == 1)
        pol[MQ_AP_PAPERLESS] = 1;
    if (v == 2) {
        pol[MQ_AP_BI_PER_PERSON] = 50000;
        pol[MQ_AP_BI_PER_ACCIDENT] = 100000;
        pol[MQ_AP_UM_PER_PERSON] = fmin(pol[MQ_AP_UM_PER_PERSON], 50000);
        pol[MQ_AP_UM_PER_ACCIDENT] = fmin(pol[MQ_AP_UM_PER_ACCIDENT], 100000);
    }
    if (v == 3)
        pol[MQ_AP_BUNDLE] = 1;
}

/* (i) and (j) must give the same status and total for every variant. */
static bool check_variants(bench *b)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_rate_opts fast = {.totals_only = true, .memo = mq_rate_memo_new(&a)};
    bool same = fast.memo != NULL;
    for (int v = 0; same && v < 4; v++) {
        mq_result plain, quick;
        same = mq_rate_plan(b->harbor, &b->variants[v], &(mq_rate_opts){0}, &a, &plain) &&
               mq_rate_plan(b->harbor, &b->variants[v], &fast, &a, &quick) &&
               plain.status == quick.status && plain.total_cents == quick.total_cents;
    }
    mq_arena_free(&a);
    if (!same)
        fprintf(stderr, "bench_rating: re-rating with a memo gave another total: MISMATCH\n");
    return same;
}

/* (e)-(h): mq_rate_all on one other line's request. Inlined into one
 * bench_compare_<line> per line, so callgrind counts each line apart. */
static inline void compare_line(bench *b, const mq_input *in)
{
    mq_arena a;
    mq_result *res;
    int n;
    mq_arena_init(&a, 0);
    if (!mq_rate_all(b->e, in, &b->opts, &a, &res, &n))
        abort();
    b->sink += (n > 0 ? res[0].total_cents : 0) + n;
    mq_arena_free(&a);
}

NOINLINE static void bench_compare_home(bench *b)
{
    compare_line(b, b->line_in[MQ_LINE_HOME]);
}

NOINLINE static void bench_compare_renters(bench *b)
{
    compare_line(b, b->line_in[MQ_LINE_RENTERS]);
}

NOINLINE static void bench_compare_term_life(bench *b)
{
    compare_line(b, b->line_in[MQ_LINE_TERM_LIFE]);
}

NOINLINE static void bench_compare_health(bench *b)
{
    compare_line(b, b->line_in[MQ_LINE_HEALTH]);
}

/* The other lines' requests, in the order they are reported. */
static const struct line_request {
    mq_line line;
    const char *label; /* row label in the table */
    const char *file;  /* in --line-requests DIR */
    void (*fn)(bench *);
} line_requests[] = {
    {MQ_LINE_HOME, "(e)", "home-oh-columbus-frame.json", bench_compare_home},
    {MQ_LINE_RENTERS, "(f)", "renters-oh-columbus.json", bench_compare_renters},
    {MQ_LINE_TERM_LIFE, "(g)", "life-oh-female-35-preferred.json", bench_compare_term_life},
    {MQ_LINE_HEALTH, "(h)", "health-oh-family-four-children.json", bench_compare_health},
};
enum { NLINE_REQUESTS = sizeof line_requests / sizeof line_requests[0] };

/* ---- Timing ----------------------------------------------------------- */

typedef struct timing {
    double median, min, max; /* microseconds per call */
} timing;

static timing measure(bench *b, void (*fn)(bench *), long iterations, int rounds, bool warm_up)
{
    double us[MAX_ROUNDS];
    long warm = !warm_up ? 0 : iterations / 5 > 0 ? iterations / 5 : 1;
    for (long i = 0; i < warm; i++)
        fn(b);
    for (int r = 0; r < rounds; r++) {
        double t0 = now_us();
        for (long i = 0; i < iterations; i++)
            fn(b);
        us[r] = (now_us() - t0) / (double)iterations;
    }
    qsort(us, (size_t)rounds, sizeof us[0], compare_doubles);
    return (timing){us[rounds / 2], us[0], us[rounds - 1]};
}

/* fa and fb in alternating rounds, so both meet the machine at the same
 * speed: their timings in *ta and *tb, and the median of the rounds'
 * ratios fa / fb, which a machine whose speed drifts during the run
 * leaves alone (the ratio of two medians taken apart does not). */
static double measure_paired(bench *b, void (*fa)(bench *), void (*fb)(bench *), long iterations,
                             int rounds, bool warm_up, timing *ta, timing *tb)
{
    double ua[MAX_ROUNDS], ub[MAX_ROUNDS], ratio[MAX_ROUNDS];
    long warm = !warm_up ? 0 : iterations / 5 > 0 ? iterations / 5 : 1;
    for (long i = 0; i < warm; i++) {
        fa(b);
        fb(b);
    }
    for (int r = 0; r < rounds; r++) {
        double t0 = now_us();
        for (long i = 0; i < iterations; i++)
            fa(b);
        double t1 = now_us();
        for (long i = 0; i < iterations; i++)
            fb(b);
        ua[r] = (t1 - t0) / (double)iterations;
        ub[r] = (now_us() - t1) / (double)iterations;
        ratio[r] = ua[r] / ub[r];
    }
    qsort(ua, (size_t)rounds, sizeof ua[0], compare_doubles);
    qsort(ub, (size_t)rounds, sizeof ub[0], compare_doubles);
    qsort(ratio, (size_t)rounds, sizeof ratio[0], compare_doubles);
    *ta = (timing){ua[rounds / 2], ua[0], ua[rounds - 1]};
    *tb = (timing){ub[rounds / 2], ub[0], ub[rounds - 1]};
    return ratio[rounds / 2];
}

/* What became of one other line's request. */
typedef struct line_run {
    char path[512];
    char skipped[600]; /* why the line is not timed; "" when it is */
    size_t bytes;
    int rated, quoted; /* results with a plan, and the quoted ones */
    timing t;
} line_run;

/* Reads and parses lr's request from `dir` into *in (arena memory) and counts
 * the plans mq_rate_all rates for it. A missing file, or no plan rated, only
 * fills run->skipped; false on anything else (printed), which stops the run. */
static bool load_line_request(const mq_engine *e, const char *dir, const struct line_request *lr,
                              mq_arena *a, mq_input *in, line_run *run)
{
    const char *name = mq_line_get(lr->line)->name;
    snprintf(run->path, sizeof run->path, "%s/%s", dir, lr->file);
    char *text = read_text(run->path, &run->bytes);
    if (!text && errno == ENOENT) {
        snprintf(run->skipped, sizeof run->skipped, "skipped: no file %s", run->path);
        return true;
    }
    if (!text) {
        fprintf(stderr, "bench_rating: %s: %s\n", run->path, strerror(errno));
        return false;
    }
    bool ok = parse_request(text, a, in, run->path);
    free(text);
    if (!ok)
        return false;
    if (in->line != lr->line) {
        fprintf(stderr, "bench_rating: %s: a %s request, not %s\n", run->path,
                mq_line_get(in->line)->name, name);
        return false;
    }
    mq_arena probe;
    mq_arena_init(&probe, 0);
    mq_result *res;
    int n;
    ok = mq_rate_all(e, in, &(mq_rate_opts){.worksheet = false}, &probe, &res, &n);
    for (int k = 0; ok && k < n; k++) {
        run->rated += res[k].plan != NULL;
        run->quoted += res[k].status == MQ_QUOTED;
    }
    mq_arena_free(&probe);
    if (!ok) {
        fprintf(stderr, "bench_rating: %s: out of memory\n", run->path);
        return false;
    }
    if (run->rated == 0)
        snprintf(run->skipped, sizeof run->skipped,
                 "skipped: no %s plan in the plans folder applies to %s", name, run->path);
    return true;
}

/* "OH, 6 members, 812 bytes of JSON": the request's state and lists. */
static void describe_request(const mq_input *in, size_t bytes, char *out, size_t size)
{
    const mq_line_def *l = mq_line_get(in->line);
    int at = snprintf(out, size, "%s", mq_symbol_name(MQ_DOM_STATE, in->state));
    for (int k = MQ_ENT_POLICY + 1; k < MQ_ENT_COUNT; k++)
        if (l->collection_names[k] && at >= 0 && (size_t)at < size)
            at += snprintf(out + at, size - (size_t)at, ", %d %s", (int)in->count[k],
                           l->collection_names[k]);
    if (at >= 0 && (size_t)at < size)
        snprintf(out + at, size - (size_t)at, ", %zu bytes of JSON", bytes);
}

static void print_row(const char *what, timing t, int per)
{
    printf("  %-44s %9.3f  %9.3f-%-9.3f", what, t.median, t.min, t.max);
    if (per > 0)
        printf(" %9.3f\n", t.median / per);
    else
        printf("\n");
}

/* Under valgrind only instruction counts matter: one round, no warm-up,
 * so the bench_* functions are each called exactly N times. */
static bool under_valgrind(void)
{
#ifdef RUNNING_ON_VALGRIND
    if (RUNNING_ON_VALGRIND)
        return true;
#endif
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "vgpreload");
}

/* ---- Main ------------------------------------------------------------- */

static bool parse_count(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    const char *plans_dir = DEFAULT_PLANS, *request_path = NULL;
    const char *line_dir = DEFAULT_LINE_REQUESTS;
    long iterations = DEFAULT_ITERATIONS, rounds = DEFAULT_ROUNDS;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        bool known = strcmp(arg, "--plans") == 0 || strcmp(arg, "--iterations") == 0 ||
                     strcmp(arg, "--rounds") == 0 || strcmp(arg, "--request") == 0 ||
                     strcmp(arg, "--line-requests") == 0;
        if (!known || !val) {
            fprintf(stderr, "bench_rating: %s %s\n%s", arg, known ? "needs a value" : "unknown",
                    usage);
            return 2;
        }
        i++;
        if (strcmp(arg, "--plans") == 0)
            plans_dir = val;
        else if (strcmp(arg, "--request") == 0)
            request_path = val;
        else if (strcmp(arg, "--line-requests") == 0)
            line_dir = val;
        else if (!parse_count(val, 1, 1000000000,
                              strcmp(arg, "--rounds") == 0 ? &rounds : &iterations) ||
                 rounds > MAX_ROUNDS) {
            fprintf(stderr, "bench_rating: %s: not a count from 1 to %d: %s\n", arg,
                    strcmp(arg, "--rounds") == 0 ? MAX_ROUNDS : 1000000000, val);
            return 2;
        }
    }
    if (!harbor_direct_codes_ok()) {
        fprintf(stderr, "bench_rating: harbor_direct's enum codes differ from the schema's\n");
        return 1;
    }

    /* Plans. */
    mq_diags diags = {0};
    mq_engine *e = mq_engine_load(plans_dir, &diags);
    for (int i = 0; i < diags.count; i++)
        fprintf(stderr, "%s\n", diags.items[i].text);
    mq_diags_free(&diags);
    if (!e) {
        fprintf(stderr,
                "bench_rating: cannot load plans from %s (run from the repository root "
                "or pass --plans DIR)\n",
                plans_dir);
        return 1;
    }

    /* The request: a plain request file, or an examples file's case 2. The
     * examples file also drives the correctness check. */
    json_t *examples = NULL, *timed = NULL;
    const char *timed_name = BENCH_CASE;
    bool timed_is_case = true;
    if (request_path) {
        json_t *doc = load_json(request_path);
        if (!doc)
            return 1;
        if (json_object_get(doc, "cases")) {
            examples = doc;
        } else {
            timed = doc;
            timed_name = request_path;
            timed_is_case = false;
            examples = load_json(DEFAULT_EXAMPLES);
            if (!examples)
                fprintf(stderr, "bench_rating: checking only the timed request\n");
        }
    } else if (!(examples = load_json(DEFAULT_EXAMPLES))) {
        fprintf(stderr, "bench_rating: run from the repository root or pass --request FILE\n");
        return 1;
    }
    if (!timed) {
        json_t *c = find_case(examples, BENCH_CASE);
        if (!c || !json_is_object(json_object_get(c, "request"))) {
            fprintf(stderr, "bench_rating: no case %s in the examples\n", BENCH_CASE);
            return 1;
        }
        timed = json_incref(json_object_get(c, "request"));
    }
    char *text = json_dumps(timed, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return 1;

    /* Correctness first: every example, then the timed request. */
    printf("Correctness (Harbor Mutual, engine vs harbor_direct):\n");
    bool ok = true;
    int64_t total = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(examples, "cases"), i, c)
    {
        char *t = json_dumps(json_object_get(c, "request"), JSON_COMPACT | JSON_PRESERVE_ORDER);
        const char *name = json_string_value(json_object_get(c, "name"));
        ok = t && check_request(e, name ? name : "?", t, json_object_get(c, "expected"), &total) &&
             ok;
        free(t);
    }
    /* the text that is timed, once more; example 2 must cost 1866.00 */
    char label[96];
    snprintf(label, sizeof label, "%.80s (timed)", timed_name);
    ok = check_request(e, label, text, NULL, &total) && ok;
    if (timed_is_case && total != BENCH_TOTAL) {
        fprintf(stderr, "bench_rating: %s: Harbor total is %lld cents, not %d\n", BENCH_CASE,
                (long long)total, BENCH_TOTAL);
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "bench_rating: engine and hand-written function disagree; not timing\n");
        return 1;
    }

    /* The timed request, parsed once. */
    mq_arena req_arena;
    mq_arena_init(&req_arena, 0);
    mq_input in;
    if (!parse_request(text, &req_arena, &in, timed_name))
        return 1;
    bench b = {.e = e, .in = &in, .text = text, .len = strlen(text), .opts = {.worksheet = false}};
    b.harbor = harbor_plan(e, &in);
    b.cov = cov_buffer(&req_arena, &in);
    if (!b.harbor)
        return 1;
    for (int v = 0; v < 4; v++)
        make_variant(&in, v, &req_arena, &b.variants[v]);
    if (!check_variants(&b))
        return 1;
    mq_arena probe;
    mq_arena_init(&probe, 0);
    mq_result *res;
    int nres, rated = 0, quoted = 0;
    if (!mq_rate_all(e, &in, &b.opts, &probe, &res, &nres))
        return 1;
    for (int k = 0; k < nres; k++) {
        rated += res[k].plan != NULL;
        quoted += res[k].status == MQ_QUOTED;
    }
    mq_arena_free(&probe);

    /* The other lines' requests, each parsed once (into req_arena too). */
    mq_input line_in[NLINE_REQUESTS];
    line_run runs[NLINE_REQUESTS] = {0};
    for (int k = 0; k < NLINE_REQUESTS; k++) {
        if (!load_line_request(e, line_dir, &line_requests[k], &req_arena, &line_in[k], &runs[k]))
            return 1;
        if (!runs[k].skipped[0])
            b.line_in[line_requests[k].line] = &line_in[k];
    }

    bool valgrind = under_valgrind();
    if (valgrind)
        rounds = 1;
    printf("\nRequest   %s: %s, %d drivers, %d vehicles, %d incidents, %zu bytes of JSON\n",
           timed_name, mq_symbol_name(MQ_DOM_STATE, in.state), in.count[MQ_ENT_DRIVER],
           in.count[MQ_ENT_VEHICLE], in.count[MQ_ENT_INCIDENT], b.len);
    printf("Plans     %s: %d loaded, %d auto plans rated for the request (%d quoted)\n", plans_dir,
           mq_engine_plan_count(e), rated, quoted);
    if (valgrind)
        printf("Timing    under valgrind: 1 round of %ld calls, no warm-up; the times below mean\n"
               "          nothing, read Ir per call from callgrind_annotate (bench/README.md)\n",
               iterations);
    else
        printf("Timing    %ld rounds of %ld calls after a warm-up, median round, one thread\n",
               rounds, iterations);

    timing engine, direct, interpreted, direct2;
    double ratio = measure_paired(&b, bench_engine_harbor, bench_direct_harbor, iterations,
                                  (int)rounds, !valgrind, &engine, &direct);
    double interpreted_ratio;
    if (valgrind) { /* each bench_* function called N times: (c) not again */
        interpreted = measure(&b, bench_interpreted_harbor, iterations, (int)rounds, false);
        interpreted_ratio = interpreted.median / direct.median;
    } else {
        interpreted_ratio = measure_paired(&b, bench_interpreted_harbor, bench_direct_harbor,
                                           iterations, (int)rounds, true, &interpreted, &direct2);
    }
    timing all = measure(&b, bench_compare, iterations, (int)rounds, !valgrind);
    timing parse = measure(&b, bench_parse_compare, iterations, (int)rounds, !valgrind);
    double per_plan = all.median / (rated ? rated : 1);

    printf("\n  %-44s %9s  %-19s %9s\n", "microseconds", "per call", "   (fastest-slowest)",
           "per plan");
    print_row("(a) engine, Harbor plan (mq_rate_plan)", engine, 1);
    print_row("(c) hand-written harbor_direct", direct, 1);
    printf("      ratio engine / hand-written               %8.2fx  (median of paired rounds)\n",
           ratio);
    print_row("(a') the same, interpreted", interpreted, 1);
    printf("      ratio interpreted / hand-written          %8.2fx\n", interpreted_ratio);
    char what[64];
    snprintf(what, sizeof what, "(b) full comparison, %d plans (mq_rate_all)", rated);
    print_row(what, all, rated);
    print_row("(d) parse + full comparison (JSON included)", parse, 0);
    printf("      of which parsing (d - b)                  %9.3f\n", parse.median - all.median);

    printf("\nTargets\n");
    printf("  <= %.0f us per plan rating, Harbor plan       %9.3f   %s\n", TARGET_PLAN_US,
           engine.median, engine.median <= TARGET_PLAN_US ? "met" : "MISSED");
    printf("  <= %.0f us per plan rating, %2d-plan average   %9.3f   %s\n", TARGET_PLAN_US, rated,
           per_plan, per_plan <= TARGET_PLAN_US ? "met" : "MISSED");
    printf("  engine within %.0fx of hand-written           %8.2fx   %s\n", TARGET_RATIO, ratio,
           ratio <= TARGET_RATIO ? "met" : "MISSED");

    /* (e)-(h): the other lines, after the auto figures. */
    printf("\nOther lines, one request each from %s, timed like (b):\n", line_dir);
    for (int k = 0; k < NLINE_REQUESTS; k++) {
        const char *name = mq_line_get(line_requests[k].line)->name;
        if (runs[k].skipped[0]) {
            printf("  %-10s %s\n", name, runs[k].skipped);
            continue;
        }
        char desc[160];
        describe_request(&line_in[k], runs[k].bytes, desc, sizeof desc);
        printf("  %-10s %s: %s; %d plans rated (%d quoted)\n", name, line_requests[k].file, desc,
               runs[k].rated, runs[k].quoted);
    }
    fflush(stdout);
    int ntimed = 0;
    for (int k = 0; k < NLINE_REQUESTS; k++)
        if (!runs[k].skipped[0]) {
            runs[k].t = measure(&b, line_requests[k].fn, iterations, (int)rounds, !valgrind);
            ntimed++;
        }
    if (ntimed > 0)
        printf("\n  %-44s %9s  %-19s %9s\n", "microseconds", "per call", "   (fastest-slowest)",
               "per plan");
    for (int k = 0; k < NLINE_REQUESTS; k++) {
        if (runs[k].skipped[0])
            continue;
        snprintf(what, sizeof what, "%s %s, %d plans (mq_rate_all)", line_requests[k].label,
                 mq_line_get(line_requests[k].line)->name, runs[k].rated);
        print_row(what, runs[k].t, runs[k].rated);
    }

    timing plain = measure(&b, bench_rerate_plain, iterations, (int)rounds, !valgrind);
    timing memo = measure(&b, bench_rerate_memo, iterations, (int)rounds, !valgrind);
    printf("\nThe tips' kind of work: Harbor rated again on 4 variants of the request\n");
    printf("\n  %-44s %9s  %-19s %9s\n", "microseconds", "per call", "   (fastest-slowest)",
           "per plan");
    print_row("(i) 4 re-ratings (mq_rate_plan)", plain, 4);
    print_row("(j) the same, memo + totals_only", memo, 4);

    if (b.sink == 42) /* never; keeps the results live */
        printf(" \n");

    free(text);
    json_decref(timed);
    json_decref(examples);
    mq_arena_free(&req_arena);
    mq_engine_free(e);
    return 0;
}
