/* test_harbor.c -- Harbor Mutual's Ohio auto plan against its rate manual, to the cent.
 *
 * Loads the engine from plans/harbor and rates, restricted to carrier
 * "harbor", every worked example of
 * ../shared/reference/harbor-mutual-oh-auto.examples.json (status, each
 * coverage premium by vehicle and code, fees, total, minimum premium, notes,
 * decline reason): one test loops over all cases and names each failing
 * case, one test per case index 0..3. Further tests build requests whose
 * premiums were worked out by hand from the manual (the numbers and their
 * arithmetic are in the comments): the worksheet of example 1, carriers
 * made unavailable by a ZIP, a limit, a deductible or a vehicle symbol
 * above the manual's 10, a 29 February
 * birthday, the 36-month window for incidents, halves rounded up, the
 * 30% discount cap, the 60-month DUI window, 12 points on a driver who is
 * no vehicle's principal, vehicle ages 20 and 21 and the ends of the
 * territory 5 ZIP band.
 * Run from the repository root (meson's workdir for tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PLANS /* overridable to check that the tests fail on a wrong plan */
#define PLANS "plans/harbor"
#endif
#ifndef EXAMPLES
#define EXAMPLES "../shared/reference/harbor-mutual-oh-auto.examples.json"
#endif

/* cmocka 1.1 compares floats only as float: doubles to within `eps`. */
#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s is %.12g, expected %.12g", #a, a_, b_);                                   \
    } while (0)

/* Money in cents, reported in decimal (cmocka 1.1 prints integers in hex). */
#define assert_cents(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (a), b_ = (b);                                                              \
        if (a_ != b_)                                                                              \
            fail_msg("%s is %lld cents, expected %lld", #a, a_, b_);                               \
    } while (0)

static mq_engine *engine;
static json_t *examples; /* the whole examples file */

/* ---- Fixture ----------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    int rc = ts_engine_setup(&engine, PLANS, stderr);
    return ts_json_setup(&examples, EXAMPLES) == 0 && rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ts_engine_teardown(&engine);
    json_decref(examples);
    return 0;
}

static json_t *cases(void)
{
    json_t *c = json_object_get(examples, "cases");
    assert_true(json_is_array(c));
    return c;
}

/* ---- Rating helpers ---------------------------------------------------- */

/* Parses `req` and rates it against harbor only. Returns harbor's result, or
 * NULL with `why` when the request is rejected or harbor is not the one
 * result. Everything lives in `a`. */
static mq_result *try_rate(json_t *req, bool worksheet, mq_arena *a, mq_input *in, char *why,
                           size_t nwhy)
{
    mq_req_errors errs = {0};
    if (!mq_req_from_json(req, a, in, &errs)) {
        snprintf(why, nwhy, "request rejected: %s (%d problems)",
                 errs.count ? mq_req_error_text(&errs.items[0], a) : "out of memory", errs.count);
        return NULL;
    }
    static const char *only[] = {"harbor"};
    in->carriers = only;
    in->ncarriers = 1;
    mq_result *res = NULL;
    int n = 0;
    if (!mq_rate_all(engine, in, &(mq_rate_opts){.worksheet = worksheet}, a, &res, &n)) {
        snprintf(why, nwhy, "mq_rate_all ran out of memory");
        return NULL;
    }
    if (n != 1 || strcmp(res[0].carrier_id, "harbor") != 0) {
        snprintf(why, nwhy, "%d results, expected harbor's only", n);
        return NULL;
    }
    return &res[0];
}

/* try_rate, failing the test when there is no result. */
static mq_result *rate(json_t *req, bool worksheet, mq_arena *a, mq_input *in)
{
    char why[512];
    mq_result *r = try_rate(req, worksheet, a, in, why, sizeof why);
    if (!r)
        fail_msg("%s", why);
    return r;
}

static int64_t cents_of(const json_t *v)
{
    return llround(json_number_value(v) * 100);
}

static int vehicle_index(const mq_input *in, const char *id)
{
    for (int v = 0; v < in->count[MQ_ENT_VEHICLE]; v++)
        if (strcmp(in->ids[MQ_ENT_VEHICLE][v], id) == 0)
            return v;
    return -1;
}

/* Premium in cents of coverage `code` on vehicle `vid`; -1 when absent, -2
 * when present more than once. */
static int64_t premium_of(const mq_input *in, const mq_result *r, const char *vid, const char *code)
{
    int v = vehicle_index(in, vid);
    int c = mq_coverage_find(mq_line_get(MQ_LINE_AUTO), code);
    int64_t found = -1;
    for (int i = 0; i < r->ncoverages; i++)
        if (r->coverages[i].unit == v && r->coverages[i].coverage == c)
            found = found == -1 ? r->coverages[i].cents : -2;
    return found;
}

static bool has_reason(const mq_result *r, const char *word)
{
    for (int i = 0; i < r->nreasons; i++)
        if (strcasestr(r->reasons[i], word))
            return true;
    return false;
}

static void print_reasons(const mq_result *r)
{
    for (int i = 0; i < r->nreasons; i++)
        print_error("reason: %s\n", r->reasons[i]);
}

/* ---- Worked examples --------------------------------------------------- */

#define MISMATCH(...)                                                                              \
    do {                                                                                           \
        snprintf(why, nwhy, __VA_ARGS__);                                                          \
        return false;                                                                              \
    } while (0)

/* Compares harbor's result with what the case expects. False with `why` on
 * the first difference. Every key of "expected" must be one this test knows,
 * so a new kind of expectation is not silently skipped. */
static bool check_premium(const json_t *prem, const mq_result *r, char *why, size_t nwhy)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)prem, key, v)
    {
        if (strcmp(key, "total") == 0) {
            if (r->total_cents != cents_of(v))
                MISMATCH("total %lld cents, expected %lld", (long long)r->total_cents,
                         (long long)cents_of(v));
        } else if (strcmp(key, "fees") == 0) {
            if (r->fees_cents != cents_of(v))
                MISMATCH("fees %lld cents, expected %lld", (long long)r->fees_cents,
                         (long long)cents_of(v));
        } else if (strcmp(key, "term_months") == 0) {
            if (r->term_months != json_integer_value(v))
                MISMATCH("term_months %d, expected %lld", r->term_months,
                         (long long)json_integer_value(v));
        } else {
            MISMATCH("expected.premium.%s is not checked by this test", key);
        }
    }
    return true;
}

static bool check_coverages(const json_t *covs, const mq_input *in, const mq_result *r, char *why,
                            size_t nwhy)
{
    if ((size_t)r->ncoverages != json_array_size(covs))
        MISMATCH("%d coverage premiums, expected %zu", r->ncoverages, json_array_size(covs));
    size_t i;
    json_t *c;
    json_array_foreach(covs, i, c)
    {
        const char *vid = json_string_value(json_object_get(c, "vehicle"));
        const char *code = json_string_value(json_object_get(c, "code"));
        if (!vid || !code || vehicle_index(in, vid) < 0)
            MISMATCH("expected.coverages[%zu] names no vehicle of the request", i);
        int64_t want = cents_of(json_object_get(c, "premium"));
        int64_t got = premium_of(in, r, vid, code);
        if (got != want)
            MISMATCH("%s %s premium %lld cents, expected %lld (-1: absent)", vid, code,
                     (long long)got, (long long)want);
    }
    return true;
}

static bool check_case(const json_t *c, char *why, size_t nwhy)
{
    json_t *expected = json_object_get(c, "expected");
    json_t *req = json_deep_copy(json_object_get(c, "request"));
    if (!expected || !req) {
        json_decref(req);
        MISMATCH("case has no request or no expected result");
    }
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_result *r = try_rate(req, false, &a, &in, why, nwhy);
    json_decref(req);
    bool ok = r != NULL;
    const char *key;
    json_t *v;
    json_object_foreach(expected, key, v)
    {
        if (!ok)
            break;
        if (strcmp(key, "status") == 0) {
            if (strcmp(mq_status_name(r->status), json_string_value(v)) != 0) {
                snprintf(why, nwhy, "status %s (%s), expected %s", mq_status_name(r->status),
                         r->nreasons ? r->reasons[0] : "no reason", json_string_value(v));
                ok = false;
            } else if (r->status != MQ_QUOTED && r->ncoverages != 0) {
                snprintf(why, nwhy, "status %s with %d coverage premiums",
                         mq_status_name(r->status), r->ncoverages);
                ok = false;
            }
        } else if (strcmp(key, "premium") == 0) {
            ok = check_premium(v, r, why, nwhy);
        } else if (strcmp(key, "coverages") == 0) {
            ok = check_coverages(v, &in, r, why, nwhy);
        } else if (strcmp(key, "minimum_premium_applied") == 0) {
            if (r->minimum_applied != json_is_true(v)) {
                snprintf(why, nwhy, "minimum_premium_applied %d, expected %d", r->minimum_applied,
                         json_is_true(v));
                ok = false;
            }
        } else if (strcmp(key, "notes") == 0) {
            if (r->nnotes != json_integer_value(v)) {
                snprintf(why, nwhy, "%d notes, expected %lld", r->nnotes,
                         (long long)json_integer_value(v));
                ok = false;
            }
        } else if (strcmp(key, "reason_mentions") == 0) {
            if (!has_reason(r, json_string_value(v))) {
                snprintf(why, nwhy, "no reason mentions \"%s\" (first reason: %s)",
                         json_string_value(v), r->nreasons ? r->reasons[0] : "none");
                ok = false;
            }
        } else {
            snprintf(why, nwhy, "expected.%s is not checked by this test", key);
            ok = false;
        }
    }
    mq_arena_free(&a);
    return ok;
}

static void check_case_index(size_t i)
{
    json_t *c = json_array_get(cases(), i);
    if (!c)
        fail_msg("the examples file has no case %zu", i);
    char why[512] = "";
    if (!check_case(c, why, sizeof why))
        fail_msg("case %s: %s", json_string_value(json_object_get(c, "name")), why);
}

/* Every case in the file, including any added later; reports all that fail. */
static void test_all_examples(void **state)
{
    (void)state;
    json_t *list = cases();
    assert_true(json_array_size(list) >= 4);
    int failed = 0;
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        char why[512] = "";
        if (!check_case(c, why, sizeof why)) {
            print_error("case %s: %s\n", json_string_value(json_object_get(c, "name")), why);
            failed++;
        }
    }
    if (failed)
        fail_msg("%d of %zu worked examples differ", failed, json_array_size(list));
}

static void test_example_0(void **state)
{
    (void)state;
    check_case_index(0);
}

static void test_example_1(void **state)
{
    (void)state;
    check_case_index(1);
}

static void test_example_2(void **state)
{
    (void)state;
    check_case_index(2);
}

static void test_example_3(void **state)
{
    (void)state;
    check_case_index(3);
}

/* ---- Worksheet ------------------------------------------------------------ */

static json_t *example_request(size_t i)
{
    json_t *req = json_deep_copy(json_object_get(json_array_get(cases(), i), "request"));
    assert_non_null(req);
    return req;
}

/* The worksheet lines of coverage `code` on vehicle 0, in order. */
static int steps_of(const mq_result *r, const char *code, const mq_work_step **out, int cap)
{
    int c = mq_coverage_find(mq_line_get(MQ_LINE_AUTO), code);
    int n = 0;
    for (int i = 0; i < r->nsteps; i++)
        if (r->steps[i].coverage == c && r->steps[i].unit == 0 && n < cap)
            out[n++] = &r->steps[i];
    return n;
}

/* Asserts the table lookups of a coverage, in order, between "Base rate"
 * and "Discounts", "Round". */
static void assert_tables(const mq_result *r, const char *code, const char *const *tables,
                          int ntables)
{
    const mq_work_step *s[32];
    int n = steps_of(r, code, s, 32);
    assert_int_equal(n, ntables + 3);
    assert_string_equal(s[0]->name, "Base rate");
    assert_null(s[0]->table);
    for (int i = 0; i < ntables; i++) {
        if (!s[i + 1]->table || strcmp(s[i + 1]->table, tables[i]) != 0)
            fail_msg("%s step %d looks up %s, expected %s", code, i + 1,
                     s[i + 1]->table ? s[i + 1]->table : "no table", tables[i]);
        assert_int_equal(s[i + 1]->op, '*');
    }
    assert_string_equal(s[n - 2]->name, "Discounts");
    assert_string_equal(s[n - 1]->name, "Round");
}

/* Example 1: steps in the manual's order; bi 142 x territory 1.25 = 177.5. */
static void test_worksheet_example1(void **state)
{
    (void)state;
    json_t *req = example_request(0);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_result *r = rate(req, true, &a, &in);
    assert_int_equal(r->status, MQ_QUOTED);
    assert_true(r->nsteps > 0);

    static const char *const bi[] = {"territory_factor", "driver_class", "points_factor",
                                     "bi_um_limits"};
    static const char *const coll[] = {"territory_factor", "driver_class",       "points_factor",
                                       "symbol_factor",    "vehicle_age_factor", "deductible"};
    static const char *const comp[] = {"territory_factor", "driver_class", "symbol_factor",
                                       "vehicle_age_factor", "deductible"};
    assert_tables(r, "bi", bi, 4);
    assert_tables(r, "coll", coll, 6);
    assert_tables(r, "comp", comp, 5); /* no driving-record factor on comp */

    const mq_work_step *s[32];
    int n = steps_of(r, "bi", s, 32);
    assert_int_equal(n, 7);
    assert_int_equal(s[0]->op, '=');
    assert_near(s[0]->running, 142.0, 1e-9);
    assert_string_equal(s[1]->key, "1"); /* territory of ZIP 43215 */
    assert_near(s[1]->factor, 1.25, 1e-12);
    assert_near(s[1]->running, 177.5, 1e-9);
    /* 177.5 x 0.95 (35, married) = 168.625; x 1.00 points; x 1.45 (100/300) =
     * 244.50625; x 0.92 (homeowner 5% + paperless 3%) = 224.945750 -> 225 */
    assert_near(s[2]->running, 168.625, 1e-9);
    assert_near(s[4]->running, 244.50625, 1e-9);
    assert_near(s[5]->factor, 0.92, 1e-12);
    assert_near(s[5]->running, 224.94575, 1e-9);
    assert_near(s[6]->running, 225.0, 1e-9);

    /* coverages in the line's order (bi pd med um comp coll), then the policy lines */
    int last = -1;
    for (int i = 0; i < r->nsteps; i++) {
        int c = r->steps[i].coverage < 0 ? MQ_AUTO_NCOVERAGES : r->steps[i].coverage;
        if (c < last)
            fail_msg("worksheet line %d (%s) is out of order", i, r->steps[i].name);
        last = c;
    }
    const mq_work_step *total = &r->steps[r->nsteps - 1];
    assert_int_equal(total->coverage, -1);
    assert_string_equal(total->name, "Total");
    assert_near(total->running, 714.0, 1e-9);
    mq_arena_free(&a);
    json_decref(req);
}

/* The policy lines of example 1: sum 696, the 18.00 fee, total 714, each
 * with its running value (the fee line's running value is 696 + 18). */
static void test_worksheet_policy_lines(void **state)
{
    (void)state;
    json_t *req = example_request(0);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_result *r = rate(req, true, &a, &in);
    const mq_work_step *p[8];
    int n = 0;
    for (int i = 0; i < r->nsteps; i++)
        if (r->steps[i].coverage == -1 && n < 8)
            p[n++] = &r->steps[i];
    assert_int_equal(n, 3);
    assert_string_equal(p[0]->name, "Sum of coverage premiums");
    assert_near(p[0]->running, 696.0, 1e-9);
    assert_string_equal(p[1]->name, "Policy fee");
    assert_int_equal(p[1]->op, '+');
    assert_near(p[1]->factor, 18.0, 1e-9);
    assert_near(p[1]->running, 714.0, 1e-9);
    assert_string_equal(p[2]->name, "Total");
    assert_near(p[2]->running, 714.0, 1e-9);
    mq_arena_free(&a);
    json_decref(req);
}

/* ---- Unavailable -------------------------------------------------------- */

/* Rates a modified example 1 (and frees it) and asserts harbor's status is
 * `want` (not quoted: no coverage) with a reason containing `word`. */
static void assert_not_quoted(json_t *req, mq_status want, const char *word)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_result *r = rate(req, false, &a, &in);
    if (r->status != want || !has_reason(r, word)) {
        print_reasons(r);
        fail_msg("status %s, expected %s with a reason containing \"%s\"",
                 mq_status_name(r->status), mq_status_name(want), word);
    }
    if (want == MQ_UNAVAILABLE)
        assert_int_equal(r->nreasons, 1);
    assert_int_equal(r->ncoverages, 0);
    mq_arena_free(&a);
    json_decref(req);
}

static void assert_unavailable(json_t *req, const char *word)
{
    assert_not_quoted(req, MQ_UNAVAILABLE, word);
}

static json_t *vehicle0(json_t *req)
{
    return json_array_get(json_object_get(req, "vehicles"), 0);
}

/* An Ohio applicant garaging the car at a Texas ZIP: outside 43001-45999. */
static void test_unavailable_texas_zip(void **state)
{
    (void)state;
    json_t *req = example_request(0);
    json_object_set_new(vehicle0(req), "garaging_zip", json_string("75201"));
    assert_unavailable(req, "does not write");
}

/* 75/150 is not in the bi table (um lowered to 25/50 so the request is valid). */
static void test_unavailable_bi_limit(void **state)
{
    (void)state;
    json_t *req = example_request(0);
    json_t *covs = json_object_get(req, "coverages");
    json_object_set_new(covs, "bi",
                        json_pack("{s:i, s:i}", "per_person", 75000, "per_accident", 150000));
    json_object_set_new(covs, "um",
                        json_pack("{s:i, s:i}", "per_person", 25000, "per_accident", 50000));
    assert_unavailable(req, "75000/150000");
}

/* Collision is not offered with a 100 deductible. */
static void test_unavailable_coll_deductible_100(void **state)
{
    (void)state;
    json_t *req = example_request(0);
    json_t *coll = json_object_get(json_object_get(vehicle0(req), "coverages"), "coll");
    json_object_set_new(coll, "deductible", json_integer(100));
    assert_unavailable(req, "deductible of 100");
}

/* Section 5 rates symbols 1 to 10 only; the request contract allows up to
 * 27. A higher symbol is not rated (never an invented factor, never an
 * error): the carrier is unavailable, naming the symbol. */
static void test_unavailable_symbol_above_10(void **state)
{
    (void)state;
    const int symbols[] = {11, 27};
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        json_t *req = example_request(0);
        json_object_set_new(vehicle0(req), "symbol", json_integer(symbols[i]));
        char word[64];
        snprintf(word, sizeof word, "does not rate vehicle symbol %d ", symbols[i]);
        assert_unavailable(req, word);
    }
}

/* ---- Hand-computed requests ---------------------------------------------- */

/* One single driver garaged at `zip` (43004: territory 2, every territory
 * factor 1.00), a 2020 car with symbol 5, bi 25/50 and pd 25,000 (limit factors 1.00), no
 * physical damage, no discounts. So bi = 142 x class x points and
 * pd = 118 x class x points. */
static json_t *one_driver_at(const char *zip, const char *effective, const char *dob,
                             const char *licensed, const char *incidents)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"line\": \"auto\", \"effective_date\": \"%s\","
             " \"applicant\": {\"address\": {\"state\": \"OH\", \"zip\": \"%s\"}},"
             " \"drivers\": [{\"id\": \"d1\", \"date_of_birth\": \"%s\", \"gender\": \"female\","
             "   \"marital_status\": \"single\","
             "   \"license\": {\"state\": \"OH\", \"first_licensed\": \"%s\"},"
             "   \"incidents\": %s}],"
             " \"vehicles\": [{\"id\": \"v1\", \"year\": 2020, \"symbol\": 5,"
             "   \"principal_driver\": \"d1\"}],"
             " \"coverages\": {\"bi\": {\"per_person\": 25000, \"per_accident\": 50000},"
             "   \"pd\": {\"limit\": 25000}}}",
             effective, zip, dob, licensed, incidents);
    json_error_t je;
    json_t *req = json_loads(text, 0, &je);
    if (!req)
        fail_msg("bad test JSON: %s", je.text);
    return req;
}

static json_t *one_driver(const char *effective, const char *dob, const char *licensed,
                          const char *incidents)
{
    return one_driver_at("43004", effective, dob, licensed, incidents);
}

/* Asserts a quoted result with exactly bi and pd on v1 and the total. */
static void assert_bi_pd(json_t *req, int64_t bi, int64_t pd, int64_t total)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_result *r = rate(req, false, &a, &in);
    if (r->status != MQ_QUOTED) {
        print_reasons(r);
        fail_msg("status %s, expected quoted", mq_status_name(r->status));
    }
    assert_int_equal(r->ncoverages, 2);
    assert_cents(premium_of(&in, r, "v1", "bi"), bi);
    assert_cents(premium_of(&in, r, "v1", "pd"), pd);
    assert_false(r->minimum_applied);
    assert_cents(r->fees_cents, 1800);
    assert_cents(r->total_cents, total);
    mq_arena_free(&a);
    json_decref(req);
}

/* Born 2008-02-29: the birthday of a common year is 1 March. On 2026-02-28
 * the driver is 17 (single 16-17: 2.60): bi 142 x 2.60 = 369.2 -> 369,
 * pd 118 x 2.60 = 306.8 -> 307, total 676 + 18 = 694. On 2026-03-01 she is
 * 18 (18-20: 2.15): bi 305.3 -> 305, pd 253.7 -> 254, total 559 + 18 = 577. */
static void test_leap_day_birthday(void **state)
{
    (void)state;
    assert_bi_pd(one_driver("2026-02-28", "2008-02-29", "2024-06-01", "[]"), 36900, 30700, 69400);
    assert_bi_pd(one_driver("2026-03-01", "2008-02-29", "2024-06-01", "[]"), 30500, 25400, 57700);
}

/* Effective 2026-03-01: an incident counts when 2023-03-01 < date. An
 * at-fault accident on 2023-03-01 adds no points: bi 142, pd 118, total 278.
 * One day later it adds 3 points (1.40): bi 198.8 -> 199, pd 165.2 -> 165,
 * total 364 + 18 = 382. The driver is 45, single (class 1.00). */
static void test_36_month_window(void **state)
{
    (void)state;
    assert_bi_pd(one_driver("2026-03-01", "1980-05-05", "1998-06-01",
                            "[{\"type\": \"at_fault_accident\", \"date\": \"2023-03-01\", "
                            "\"amount\": 2500}]"),
                 14200, 11800, 27800);
    assert_bi_pd(one_driver("2026-03-01", "1980-05-05", "1998-06-01",
                            "[{\"type\": \"at_fault_accident\", \"date\": \"2023-03-02\", "
                            "\"amount\": 2500}]"),
                 19900, 16500, 38200);
}

/* Halves round up, also when the binary product falls just below the half.
 * A 40-year-old single driver (1.00) in territory 1 (ZIP 43215; bi 1.25, pd
 * 1.20): bi 142 x 1.25 = 177.5 -> 178, pd 141.6 -> 142, total 320 + 18 = 338.
 * With an at-fault accident a year ago (3 points, 1.40): bi 142 x 1.25 x
 * 1.40 = 248.5 exactly, 248.49999999999997 in doubles -> 249; pd 198.24 ->
 * 198; total 447 + 18 = 465. */
static void test_half_up_rounding(void **state)
{
    (void)state;
    assert_bi_pd(one_driver_at("43215", "2026-03-01", "1985-09-01", "2003-10-01", "[]"), 17800,
                 14200, 33800);
    assert_bi_pd(one_driver_at("43215", "2026-03-01", "1985-09-01", "2003-10-01",
                               "[{\"type\": \"at_fault_accident\", \"date\": \"2025-03-01\"}]"),
                 24900, 19800, 46500);
}

/* Two cars (multi-car 12%), a homeowner (5%) on paperless (3%). v1: a 2023
 * car (age 3: 1.00), symbol 5, anti-theft (10% on comp), comp 500, driven by
 * a 21-year-old single student with a 3.5 GPA (good student 8%; class 1.55
 * liability, 1.40 physical damage). v2: a 2023 car driven by a 56-year-old
 * single driver (0.92). Territory 2, basic limits.
 *   v1 comp: 62 x 1.40 x (1 - min(0.30, 0.38)) = 60.76 -> 61 (uncapped: 54)
 *   v1 bi:   142 x 1.55 x (1 - 0.28) = 158.472 -> 158
 *   v1 pd:   118 x 1.55 x 0.72 = 131.688 -> 132
 *   v2 bi:   142 x 0.92 x (1 - 0.20) = 104.512 -> 105
 *   v2 pd:   118 x 0.92 x 0.80 = 86.848 -> 87
 *   total:   543 + 18 = 561 */
static void test_discount_cap(void **state)
{
    (void)state;
    const char *text =
        "{\"line\": \"auto\", \"effective_date\": \"2026-03-01\","
        " \"applicant\": {\"address\": {\"state\": \"OH\", \"zip\": \"43004\"},"
        "   \"homeowner\": true, \"paperless\": true},"
        " \"drivers\": ["
        "  {\"id\": \"d1\", \"date_of_birth\": \"2004-06-15\", \"gender\": \"male\","
        "   \"marital_status\": \"single\", \"student_gpa\": 3.5,"
        "   \"license\": {\"state\": \"OH\", \"first_licensed\": \"2020-07-01\"}},"
        "  {\"id\": \"d2\", \"date_of_birth\": \"1970-01-10\", \"gender\": \"female\","
        "   \"marital_status\": \"single\","
        "   \"license\": {\"state\": \"OH\", \"first_licensed\": \"1988-02-01\"}}],"
        " \"vehicles\": ["
        "  {\"id\": \"v1\", \"year\": 2023, \"symbol\": 5, \"principal_driver\": \"d1\","
        "   \"anti_theft\": true, \"coverages\": {\"comp\": {\"deductible\": 500}}},"
        "  {\"id\": \"v2\", \"year\": 2023, \"symbol\": 5, \"principal_driver\": \"d2\"}],"
        " \"coverages\": {\"bi\": {\"per_person\": 25000, \"per_accident\": 50000},"
        "   \"pd\": {\"limit\": 25000}}}";
    json_error_t je;
    json_t *req = json_loads(text, 0, &je);
    if (!req)
        fail_msg("bad test JSON: %s", je.text);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_result *r = rate(req, true, &a, &in);
    if (r->status != MQ_QUOTED) {
        print_reasons(r);
        fail_msg("status %s, expected quoted", mq_status_name(r->status));
    }
    assert_cents(premium_of(&in, r, "v1", "comp"), 6100);
    assert_cents(premium_of(&in, r, "v1", "bi"), 15800);
    assert_cents(premium_of(&in, r, "v1", "pd"), 13200);
    assert_cents(premium_of(&in, r, "v2", "bi"), 10500);
    assert_cents(premium_of(&in, r, "v2", "pd"), 8700);
    assert_int_equal(r->ncoverages, 5);
    assert_cents(r->total_cents, 56100);

    /* the worksheet's discount line on v1 comp shows the cap */
    const mq_work_step *s[32];
    int n = steps_of(r, "comp", s, 32);
    assert_true(n >= 2);
    const mq_work_step *disc = s[n - 2];
    assert_string_equal(disc->name, "Discounts");
    assert_near(disc->factor, 0.70, 1e-12);
    assert_non_null(disc->detail);
    assert_non_null(strstr(disc->detail, "capped at 30%"));
    mq_arena_free(&a);
    json_decref(req);
}

/* ---- Boundaries of sections 2, 5 and 9 ----------------------------------- */

/* Asserts harbor declines `req` with a reason containing `word`. */
static void assert_declined(json_t *req, const char *word)
{
    assert_not_quoted(req, MQ_DECLINED, word);
}

/* Section 9: two DUIs count when both are dated after 2021-03-01 for a
 * policy effective 2026-03-01 (effective date - 60 months < d). With DUIs on
 * 2024-05-01 and 2021-03-01 only the first is in the window: quoted. The
 * 2024 DUI is in the 36-month window (6 points, 2.00) and the 2021 one is
 * not: bi 142 x 2.00 = 284, pd 118 x 2.00 = 236, total 520 + 18 = 538. One
 * day later, 2021-03-02, both count and the policy is declined. */
static void test_dui_60_month_window(void **state)
{
    (void)state;
    assert_bi_pd(one_driver("2026-03-01", "1980-05-05", "1998-06-01",
                            "[{\"type\": \"dui\", \"date\": \"2024-05-01\"},"
                            " {\"type\": \"dui\", \"date\": \"2021-03-01\"}]"),
                 28400, 23600, 53800);
    assert_declined(one_driver("2026-03-01", "1980-05-05", "1998-06-01",
                               "[{\"type\": \"dui\", \"date\": \"2024-05-01\"},"
                               " {\"type\": \"dui\", \"date\": \"2021-03-02\"}]"),
                    "DUI");
}

/* one_driver's request with a second, listed driver d2 (no vehicle of her
 * own) whose incidents are `incidents`. */
static json_t *with_second_driver(json_t *req, const char *incidents)
{
    json_error_t je;
    json_t *inc = json_loads(incidents, 0, &je);
    if (!inc)
        fail_msg("bad test JSON: %s", je.text);
    json_t *d2 = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o}", "id", "d2", "date_of_birth",
                           "1985-01-20", "gender", "female", "marital_status", "single", "license",
                           "state", "OH", "first_licensed", "2003-02-01", "incidents", inc);
    json_array_append_new(json_object_get(req, "drivers"), d2);
    return req;
}

/* Section 9: 12 points on any listed driver, principal or not, decline. d2
 * drives no vehicle; four at-fault accidents in the 36 months (3 each) are
 * 12 points: declined. Three and a speeding ticket 15 mph over are 3 x 3 + 1
 * = 10: quoted, on d1's clean record alone: bi 142, pd 118, total 278. */
static void test_points_decline_any_driver(void **state)
{
    (void)state;
    const char *twelve = "[{\"type\": \"at_fault_accident\", \"date\": \"2024-01-10\"},"
                         " {\"type\": \"at_fault_accident\", \"date\": \"2024-06-10\"},"
                         " {\"type\": \"at_fault_accident\", \"date\": \"2025-01-10\"},"
                         " {\"type\": \"at_fault_accident\", \"date\": \"2025-06-10\"}]";
    const char *ten = "[{\"type\": \"at_fault_accident\", \"date\": \"2024-01-10\"},"
                      " {\"type\": \"at_fault_accident\", \"date\": \"2024-06-10\"},"
                      " {\"type\": \"at_fault_accident\", \"date\": \"2025-01-10\"},"
                      " {\"type\": \"speeding\", \"date\": \"2025-06-10\", \"mph_over\": 15}]";
    assert_declined(
        with_second_driver(one_driver("2026-03-01", "1980-05-05", "1998-06-01", "[]"), twelve),
        "12 or more");
    assert_bi_pd(
        with_second_driver(one_driver("2026-03-01", "1980-05-05", "1998-06-01", "[]"), ten), 14200,
        11800, 27800);
}

/* Section 5: comprehensive is offered up to 20 years of vehicle age. In
 * 2026 a 2006 car is 20 (13+: 0.72): comp 62 x 0.72 = 44.64 -> 45, with
 * bi 142 and pd 118 (driver 45, single, territory 2): total 305 + 18 =
 * 323. A 2005 car is 21: comp is left off with one note, total 278. */
static void test_vehicle_age_20_and_21(void **state)
{
    (void)state;
    const int years[] = {2006, 2005};
    const int64_t comp[] = {4500, -1}, total[] = {32300, 27800};
    for (int i = 0; i < 2; i++) {
        json_t *req = one_driver("2026-03-01", "1980-05-05", "1998-06-01", "[]");
        json_object_set_new(vehicle0(req), "year", json_integer(years[i]));
        json_object_set_new(vehicle0(req), "coverages",
                            json_pack("{s:{s:i}}", "comp", "deductible", 500));
        mq_arena a;
        mq_arena_init(&a, 0);
        mq_input in;
        mq_result *r = rate(req, false, &a, &in);
        if (r->status != MQ_QUOTED) {
            print_reasons(r);
            fail_msg("year %d: status %s, expected quoted", years[i], mq_status_name(r->status));
        }
        assert_cents(premium_of(&in, r, "v1", "comp"), comp[i]);
        assert_int_equal(r->ncoverages, comp[i] < 0 ? 2 : 3);
        assert_int_equal(r->nnotes, comp[i] < 0 ? 1 : 0);
        assert_cents(r->total_cents, total[i]);
        mq_arena_free(&a);
        json_decref(req);
    }
}

/* Section 2: the rest-of-state band is 43001 to 45999, both ends included
 * (territory 5: bi 142 x 0.92 = 130.64 -> 131, pd 118 x 0.94 = 110.92 ->
 * 111, total 242 + 18 = 260); 43000 and 46000 are outside it. */
static void test_territory_band_edges(void **state)
{
    (void)state;
    const char *in_band[] = {"43001", "45999"};
    for (int i = 0; i < 2; i++)
        assert_bi_pd(one_driver_at(in_band[i], "2026-03-01", "1980-05-05", "1998-06-01", "[]"),
                     13100, 11100, 26000);
    const char *outside[] = {"43000", "46000"};
    for (int i = 0; i < 2; i++) {
        json_t *req = example_request(0);
        json_object_set_new(vehicle0(req), "garaging_zip", json_string(outside[i]));
        assert_unavailable(req, outside[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_examples),
        cmocka_unit_test(test_example_0),
        cmocka_unit_test(test_example_1),
        cmocka_unit_test(test_example_2),
        cmocka_unit_test(test_example_3),
        cmocka_unit_test(test_worksheet_example1),
        cmocka_unit_test(test_worksheet_policy_lines),
        cmocka_unit_test(test_unavailable_texas_zip),
        cmocka_unit_test(test_unavailable_bi_limit),
        cmocka_unit_test(test_unavailable_coll_deductible_100),
        cmocka_unit_test(test_unavailable_symbol_above_10),
        cmocka_unit_test(test_leap_day_birthday),
        cmocka_unit_test(test_36_month_window),
        cmocka_unit_test(test_half_up_rounding),
        cmocka_unit_test(test_discount_cap),
        cmocka_unit_test(test_dui_60_month_window),
        cmocka_unit_test(test_points_decline_any_driver),
        cmocka_unit_test(test_vehicle_age_20_and_21),
        cmocka_unit_test(test_territory_band_edges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
