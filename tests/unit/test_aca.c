/* test_aca.c -- ACA individual health plans and the premium tax credit, to the cent.
 *
 * Loads every plan under plans/ (the reference marketplace must hold its own
 * in the bundled sample data, where other plans serve other counties and
 * states) and rates every worked example of
 * ../shared/reference/aca-health.examples.json: for each expected plan the
 * gross premium, the credit used and the net premium; that no other plan is
 * quoted; the order (net, then gross); the members charged; the benchmark
 * (second-lowest-cost silver, priced without tobacco) and the credit note;
 * the reason when there is no credit. One test loops over every case and
 * names each failing one; one test per case index 0..3.
 *
 * Further tests use the shoppers in tests/data/shoppers/health-*.json, whose
 * premiums were worked out by hand from aca-health.md and the plans' README
 * (the arithmetic is in the comments): the three-oldest-children rule with
 * twins and a child of 21, tobacco only at 21 and over, a 29 February
 * birthday, Utah's own age curve, an issuer that does not serve a rating
 * area, a county no plan serves, the 100% and 400% ends, the 133% band edge,
 * and the Alaska and Hawaii poverty guidelines. Then the reference plans'
 * product facts, every row of the federal and the Utah age curve in every
 * plan and rating area, the worksheet, and that filtering the results by
 * metal or carrier does not move the benchmark. Last, the benchmark each
 * result records, and a quote re-rated with it (mq_rate_market_given): a
 * silver plan loaded since does not move its credit. Last, `check` refuses a
 * health plan beyond the ACA's rating limits (tobacco 1.5:1, age 3:1).
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
#include <sys/stat.h>
#include <unistd.h>

#ifndef PLANS
#define PLANS "plans"
#endif
#ifndef EXAMPLES
#define EXAMPLES "../shared/reference/aca-health.examples.json"
#endif
#define SHOPPERS "tests/data/shoppers/"

/* Money in cents, reported in decimal (cmocka 1.1 prints integers in hex). */
#define assert_cents(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (a), b_ = (b);                                                              \
        if (a_ != b_)                                                                              \
            fail_msg("%s is %lld cents, expected %lld", #a, a_, b_);                               \
    } while (0)

#define assert_int(a, b)                                                                           \
    do {                                                                                           \
        long long a_ = (a), b_ = (b);                                                              \
        if (a_ != b_)                                                                              \
            fail_msg("%s is %lld, expected %lld", #a, a_, b_);                                     \
    } while (0)

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_))                                                                \
            fail_msg("%s is \"%s\", expected it to contain \"%s\"", #hay, h_ ? h_ : "(null)", n_); \
    } while (0)

static mq_engine *engine;
static json_t *examples;
static mq_arena arena; /* one test's memory, freed by its teardown even when it fails */
static json_t *doc;    /* one test's request document, likewise */

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

static int test_setup(void **state)
{
    (void)state;
    mq_arena_init(&arena, 0);
    doc = NULL;
    return 0;
}

static int test_teardown(void **state)
{
    (void)state;
    mq_arena_free(&arena);
    json_decref(doc);
    doc = NULL;
    return 0;
}

static json_t *cases(void)
{
    json_t *c = json_object_get(examples, "cases");
    assert_true(json_is_array(c));
    return c;
}

static json_t *shopper(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, SHOPPERS "%s.json", name);
    return ts_load_json(path);
}

/* ---- Requests ---------------------------------------------------------- */

/* The request parser: a health request in the contract's shape. */
static bool make_input(json_t *req, mq_arena *a, mq_input *in, char *why, size_t nwhy)
{
    mq_req_errors errs = {0};
    if (!mq_req_from_json(req, a, in, &errs)) {
        snprintf(why, nwhy, "request rejected: %s (%d problems)",
                 errs.count ? mq_req_error_text(&errs.items[0], a) : "out of memory", errs.count);
        return false;
    }
    if (in->line != MQ_LINE_HEALTH) {
        snprintf(why, nwhy, "request parsed as line %d, not health", (int)in->line);
        return false;
    }
    return true;
}

typedef struct quote {
    mq_input in;
    mq_result *res;
    int n;
} quote;

/* Parses and rates `req` (every carrier), with a metal bit mask and
 * carriers to restrict to (NULL: all). False with `why` on failure. */
static bool try_quote(json_t *req, unsigned metals, const char **carriers, int ncarriers,
                      bool worksheet, mq_arena *a, quote *q, char *why, size_t nwhy)
{
    if (!make_input(req, a, &q->in, why, nwhy))
        return false;
    q->in.metals = metals;
    q->in.carriers = carriers;
    q->in.ncarriers = ncarriers;
    if (!mq_rate_all(engine, &q->in, &(mq_rate_opts){.worksheet = worksheet}, a, &q->res, &q->n)) {
        snprintf(why, nwhy, "mq_rate_all ran out of memory");
        return false;
    }
    return true;
}

static void rate(json_t *req, mq_arena *a, quote *q)
{
    char why[512];
    if (!try_quote(req, 0, NULL, 0, false, a, q, why, sizeof why))
        fail_msg("%s", why);
}

static int64_t cents_of(const json_t *v)
{
    return llround(json_number_value(v) * 100);
}

static const char *plan_id(const mq_result *r)
{
    mq_plan_info pi;
    if (!r->plan)
        return "-";
    mq_plan_get_info(r->plan, &pi);
    return pi.plan_id;
}

static mq_result *find(const quote *q, const char *id)
{
    for (int i = 0; i < q->n; i++)
        if (q->res[i].plan && strcmp(plan_id(&q->res[i]), id) == 0)
            return &q->res[i];
    return NULL;
}

static int quoted_count(const quote *q)
{
    int k = 0;
    for (int i = 0; i < q->n; i++)
        k += q->res[i].status == MQ_QUOTED;
    return k;
}

static void money_text(int64_t cents, char out[32])
{
    snprintf(out, 32, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
}

/* The benchmark found independently of the market code: the request
 * re-rated with no tobacco use, the second-lowest silver gross (-1: none). */
static int64_t benchmark_by_rerating(json_t *req, mq_arena *a)
{
    json_t *plain = json_deep_copy(req);
    json_t *m;
    size_t i;
    json_array_foreach(json_object_get(plain, "members"), i, m)
        json_object_set_new(m, "tobacco", json_false());
    quote q;
    char why[512];
    bool ok = try_quote(plain, 0, NULL, 0, false, a, &q, why, sizeof why);
    json_decref(plain);
    if (!ok)
        fail_msg("%s", why);
    int64_t lo = -1, lo2 = -1;
    for (int k = 0; k < q.n; k++) {
        const mq_result *r = &q.res[k];
        if (r->status != MQ_QUOTED || r->metal != mq_symbol_find(MQ_DOM_METAL, "silver"))
            continue;
        if (lo < 0 || r->gross_cents < lo) {
            lo2 = lo;
            lo = r->gross_cents;
        } else if (lo2 < 0 || r->gross_cents < lo2) {
            lo2 = r->gross_cents;
        }
    }
    return lo2 >= 0 ? lo2 : lo;
}

/* ---- Reference cases ---------------------------------------------------- */

/* Checks one worked example; returns NULL when it matches, else what is wrong. */
static const char *check_case(json_t *c, mq_arena *a)
{
    static char why[1024];
    json_t *req = json_object_get(c, "request");
    json_t *exp = json_object_get(c, "expected");
    json_t *plans = json_object_get(exp, "plans");
    quote q;
    if (!try_quote(req, 0, NULL, 0, false, a, &q, why, sizeof why))
        return why;
    /* exactly the expected plans are quoted, first, the rest not quoted */
    if (quoted_count(&q) != (int)json_array_size(plans)) {
        snprintf(why, sizeof why, "%d plans quoted, expected %zu", quoted_count(&q),
                 json_array_size(plans));
        return why;
    }
    int64_t credit = cents_of(json_object_get(exp, "credit_monthly"));
    int charged = (int)json_integer_value(json_object_get(exp, "charged_members"));
    const char *reason = json_string_value(json_object_get(exp, "no_credit_reason"));
    json_t *p;
    size_t i;
    json_array_foreach(plans, i, p)
    {
        const char *id = json_string_value(json_object_get(p, "plan"));
        mq_result *r = find(&q, id);
        if (!r || r->status != MQ_QUOTED) {
            snprintf(why, sizeof why, "%s: not quoted (%s)", id,
                     r && r->nreasons ? r->reasons[0] : "no result");
            return why;
        }
        int64_t g = cents_of(json_object_get(p, "gross_premium"));
        int64_t t = cents_of(json_object_get(p, "tax_credit"));
        int64_t net = cents_of(json_object_get(p, "net_premium"));
        if (r->gross_cents != g || r->credit_cents != t || r->net_cents != net ||
            r->total_cents != g) {
            snprintf(why, sizeof why,
                     "%s: gross/credit/net/total %lld/%lld/%lld/%lld cents, expected "
                     "%lld/%lld/%lld/%lld",
                     id, (long long)r->gross_cents, (long long)r->credit_cents,
                     (long long)r->net_cents, (long long)r->total_cents, (long long)g, (long long)t,
                     (long long)net, (long long)g);
            return why;
        }
        if (t != (credit < g ? credit : g)) {
            snprintf(why, sizeof why, "%s: the example's credit is not min(credit, gross)", id);
            return why;
        }
        const char *metal = json_string_value(json_object_get(p, "metal"));
        if (r->metal != mq_symbol_find(MQ_DOM_METAL, metal)) {
            snprintf(why, sizeof why, "%s: metal %s, expected %s", id,
                     mq_symbol_name(MQ_DOM_METAL, r->metal), metal);
            return why;
        }
        if (r->ncoverages != charged) {
            snprintf(why, sizeof why, "%s: %d members charged, expected %d", id, r->ncoverages,
                     charged);
            return why;
        }
        if (r->term_months != 1) {
            snprintf(why, sizeof why, "%s: term %d months, expected 1", id, r->term_months);
            return why;
        }
        /* the credit note: the benchmark when there is a credit, else why not */
        char bench[32];
        money_text(cents_of(json_object_get(exp, "benchmark_monthly")), bench);
        const char *want = reason ? reason : bench;
        if (!r->credit_note || !strstr(r->credit_note, want) ||
            (!reason && !strstr(r->credit_note, "benchmark"))) {
            snprintf(why, sizeof why, "%s: credit note \"%s\" does not mention \"%s\"", id,
                     r->credit_note ? r->credit_note : "(none)", want);
            return why;
        }
    }
    /* order: quoted first, by net then gross (the examples file lists case 2's
     * two bronze plans, both net 0, in the other order: the rule decides) */
    for (int k = 0; k < q.n; k++) {
        const mq_result *r = &q.res[k];
        if ((k < quoted_count(&q)) != (r->status == MQ_QUOTED)) {
            snprintf(why, sizeof why, "result %d (%s) is out of place: %s", k, r->carrier_id,
                     mq_status_name(r->status));
            return why;
        }
        if (k && r->status == MQ_QUOTED) {
            const mq_result *o = &q.res[k - 1];
            if (o->net_cents > r->net_cents ||
                (o->net_cents == r->net_cents && o->gross_cents > r->gross_cents)) {
                snprintf(why, sizeof why, "%s (net %lld, gross %lld) comes after %s (%lld, %lld)",
                         plan_id(r), (long long)r->net_cents, (long long)r->gross_cents, plan_id(o),
                         (long long)o->net_cents, (long long)o->gross_cents);
                return why;
            }
        }
    }
    /* the benchmark, found again by re-rating without tobacco */
    int64_t b = benchmark_by_rerating(req, a);
    if (b != cents_of(json_object_get(exp, "benchmark_monthly"))) {
        snprintf(why, sizeof why, "benchmark by re-rating is %lld cents, expected %lld",
                 (long long)b, (long long)cents_of(json_object_get(exp, "benchmark_monthly")));
        return why;
    }
    return NULL;
}

static void test_all_cases(void **state)
{
    (void)state;
    json_t *cs = cases();
    assert_true(json_array_size(cs) >= 4);
    int failed = 0;
    json_t *c;
    size_t i;
    json_array_foreach(cs, i, c)
    {
        const char *why = check_case(c, &arena);
        if (why) {
            fprintf(stderr, "case %s: %s\n", json_string_value(json_object_get(c, "name")), why);
            failed++;
        }
    }
    assert_int(failed, 0);
}

static void run_case(size_t index)
{
    json_t *c = json_array_get(cases(), index);
    assert_non_null(c);
    const char *why = check_case(c, &arena);
    if (why)
        fail_msg("case %s: %s", json_string_value(json_object_get(c, "name")), why);
}

static void test_case_single_40(void **state)
{
    (void)state;
    run_case(0);
}
static void test_case_family_four_children(void **state)
{
    (void)state;
    run_case(1);
}
static void test_case_couple_tobacco(void **state)
{
    (void)state;
    run_case(2);
}
static void test_case_above_400_percent(void **state)
{
    (void)state;
    run_case(3);
}

/* Case 2 by member: the youngest child (m6, 5) is covered free with a note;
 * cardinal-silver-hsa in OH-B (465.03): m1 42 (1.325) 616.16, m2 40 (1.278)
 * 594.31, m3 17 (0.885) 411.55, m4 12 and m5 9 (0.765) 355.75 each. */
static void test_case_family_members(void **state)
{
    (void)state;
    quote q;
    rate(json_object_get(json_array_get(cases(), 1), "request"), &arena, &q);
    mq_result *r = find(&q, "cardinal-silver-hsa");
    assert_non_null(r);
    static const int64_t want[] = {61616, 59431, 41155, 35575, 35575, -1};
    assert_int(r->ncoverages, 5);
    for (int i = 0; i < r->ncoverages; i++) {
        int u = r->coverages[i].unit;
        assert_true(u >= 0 && u < 5);
        assert_cents(r->coverages[i].cents, want[u]);
    }
    assert_int(r->nnotes, 1);
    assert_contains(r->notes[0], "m6");
    assert_contains(r->notes[0], "three oldest children");
}

/* ---- The reference plans' product facts (aca-health.md section 4) -------- */

static void test_reference_plans(void **state)
{
    (void)state;
    static const struct {
        const char *id, *carrier, *metal;
        int64_t deductible, oop;
    } ref[] = {
        {"buckeye-bronze-7500", "Buckeye Health", "bronze", 750000, 920000},
        {"cardinal-bronze-hsa", "Cardinal Care", "bronze", 680000, 805000},
        {"lakeview-silver-4000", "Lakeview Mutual Health", "silver", 400000, 870000},
        {"buckeye-silver-3500", "Buckeye Health", "silver", 350000, 850000},
        {"cardinal-silver-hsa", "Cardinal Care", "silver", 330000, 750000},
        {"lakeview-gold-1500", "Lakeview Mutual Health", "gold", 150000, 600000},
    };
    quote q;
    rate(json_object_get(json_array_get(cases(), 0), "request"), &arena, &q);
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        mq_result *r = find(&q, ref[i].id);
        if (!r)
            fail_msg("no result for %s", ref[i].id);
        mq_plan_info pi;
        mq_plan_get_info(r->plan, &pi);
        assert_string_equal(pi.carrier_name, ref[i].carrier);
        assert_string_equal(pi.version, "2026");
        assert_int(pi.line, MQ_LINE_HEALTH);
        assert_int(pi.term_months, 1);
        assert_int(pi.nstates, 1);
        assert_string_equal(mq_symbol_name(MQ_DOM_STATE, pi.states[0]), "OH");
        assert_int(pi.effective, mq_date_from_ymd(2026, 1, 1));
        assert_int(pi.metal, mq_symbol_find(MQ_DOM_METAL, ref[i].metal));
        assert_non_null(pi.product_name);
        assert_non_null(r->plan_name);
        assert_cents(r->deductible_cents, ref[i].deductible);
        assert_cents(r->out_of_pocket_max_cents, ref[i].oop);
        /* health issuers must not reuse an auto carrier's id */
        for (int k = 0; k < mq_engine_plan_count(engine); k++) {
            mq_plan_info o;
            mq_plan_get_info(mq_engine_plan(engine, k), &o);
            if (strcmp(o.carrier_id, pi.carrier_id) == 0)
                assert_string_equal(o.carrier_name, pi.carrier_name);
        }
    }
}

/* The plans offered in the three reference counties are exactly the six. */
static void test_reference_counties_only_six(void **state)
{
    (void)state;
    static const char *const counties[] = {"39049", "39041", "39089"};
    for (int c = 0; c < 3; c++) {
        json_decref(doc);
        json_t *req = doc = json_deep_copy(json_object_get(json_array_get(cases(), 0), "request"));
        json_object_set_new(json_object_get(json_object_get(req, "applicant"), "address"),
                            "county_fips", json_string(counties[c]));
        quote q;
        rate(req, &arena, &q);
        assert_int(quoted_count(&q), 6);
    }
}

/* ---- Hand-worked shoppers ----------------------------------------------- */

typedef struct want_plan {
    const char *id;
    int64_t gross, credit, net;
} want_plan;

/* Asserts the quoted results are exactly `want`, in that order. */
static void assert_quoted(const quote *q, const want_plan *want, int n)
{
    assert_int(quoted_count(q), n);
    for (int i = 0; i < n; i++) {
        const mq_result *r = &q->res[i];
        if (r->status != MQ_QUOTED || strcmp(plan_id(r), want[i].id) != 0)
            fail_msg("result %d is %s (%s), expected %s", i, plan_id(r), mq_status_name(r->status),
                     want[i].id);
        if (r->gross_cents != want[i].gross || r->credit_cents != want[i].credit ||
            r->net_cents != want[i].net)
            fail_msg("%s: gross/credit/net %lld/%lld/%lld, expected %lld/%lld/%lld", want[i].id,
                     (long long)r->gross_cents, (long long)r->credit_cents, (long long)r->net_cents,
                     (long long)want[i].gross, (long long)want[i].credit, (long long)want[i].net);
    }
}

static int64_t member_premium(const quote *q, const mq_result *r, const char *mid)
{
    for (int i = 0; i < r->ncoverages; i++)
        if (strcmp(q->in.ids[MQ_ENT_MEMBER][r->coverages[i].unit], mid) == 0)
            return r->coverages[i].cents;
    return -1;
}

/* health-oh-big-family: Franklin (OH-A), 7 people, income 95,000.
 * Ages on 2026-01-01: m1 45 (born 29 Feb 1980), m2 44 (birthday on the
 * effective date), m3 21 (a child, but 21: charged as an adult), m4 15,
 * m5 13, m6 and m7 twins of 11. Children under 21: m4, m5, m6, m7; the three
 * oldest are m4, m5 and m6 (listed before its twin), so m7 is free.
 * Tobacco: m2 (44) and m3 (21) pay the factor; m4 (15) does not.
 * cardinal-bronze-hsa (301.95, no tobacco factor): m1 301.95 x 1.444 = 436.02,
 * m2 x 1.397 = 421.82, m3 x 1.000 = 301.95, m4 x 0.833 = 251.52,
 * m5, m6 x 0.765 = 230.99 each: 1,873.29.
 * buckeye-bronze-7500 (318.40, tobacco 1.20): m1 459.77, m2 318.40 x 1.397 x
 * 1.20 = 533.77, m3 x 1.20 = 382.08, m4 265.23, m5, m6 243.58: 2,128.01.
 * Benchmark without tobacco: lakeview-silver-4000 561.86 + 543.57 + 389.10 +
 * 324.12 + 297.66 + 297.66 = 2,413.97; buckeye-silver-3500 581.57 + 562.64 +
 * 402.75 + 335.49 + 308.10 + 308.10 = 2,498.65 (second lowest; cardinal
 * 2,659.03). Ratio 95,000 / (15,650 + 6 x 5,500 = 48,650) = 1.95272...,
 * band 1.50-2.00: 4.19 + 2.41 x 0.45272.../0.50 = 6.37213%; annual 6,053.52,
 * monthly 504.46; credit 2,498.65 - 504.46 = 1,994.19. */
static void test_big_family(void **state)
{
    (void)state;
    json_t *req = doc = shopper("health-oh-big-family");
    quote q;
    rate(req, &arena, &q);
    static const want_plan want[] = {
        {"cardinal-bronze-hsa", 187329, 187329, 0},
        {"buckeye-bronze-7500", 212801, 199419, 13382},
        {"lakeview-silver-4000", 250724, 199419, 51305},
        {"buckeye-silver-3500", 264346, 199419, 64927},
        {"cardinal-silver-hsa", 265903, 199419, 66484},
        {"lakeview-gold-1500", 303661, 199419, 104242},
    };
    assert_quoted(&q, want, 6);
    const mq_result *r = find(&q, "buckeye-bronze-7500");
    assert_int(r->ncoverages, 6);
    assert_cents(member_premium(&q, r, "m1"), 45977);
    assert_cents(member_premium(&q, r, "m2"), 53377);
    assert_cents(member_premium(&q, r, "m3"), 38208);
    assert_cents(member_premium(&q, r, "m4"), 26523);
    assert_cents(member_premium(&q, r, "m5"), 24358);
    assert_cents(member_premium(&q, r, "m6"), 24358);
    assert_cents(member_premium(&q, r, "m7"), -1);
    assert_int(r->nnotes, 1);
    assert_contains(r->notes[0], "m7");
    assert_contains(r->credit_note, "2498.65");
    assert_contains(r->credit_note, "504.46");
    assert_cents(benchmark_by_rerating(req, &arena), 249865);
}

/* health-oh-below-poverty: Licking (OH-B), 2 people, income 20,000 against
 * 15,650 + 5,500 = 21,150: ratio 0.9456, below 100%: no credit, net = gross.
 * m1 33 (1.198), m2 a child of 4 (0.765); cardinal-bronze-hsa 327.62:
 * 392.49 + 250.63 = 643.12. */
static void test_below_poverty(void **state)
{
    (void)state;
    json_t *req = doc = shopper("health-oh-below-poverty");
    quote q;
    rate(req, &arena, &q);
    static const want_plan want[] = {
        {"cardinal-bronze-hsa", 64312, 0, 64312},  {"buckeye-bronze-7500", 67814, 0, 67814},
        {"lakeview-silver-4000", 82872, 0, 82872}, {"buckeye-silver-3500", 85779, 0, 85779},
        {"cardinal-silver-hsa", 91286, 0, 91286},  {"lakeview-gold-1500", 100370, 0, 100370},
    };
    assert_quoted(&q, want, 6);
    for (int i = 0; i < 6; i++)
        assert_contains(q.res[i].credit_note, "below 100% of the poverty guideline");
}

/* health-oh-cuyahoga: county 39035 is in no reference rating area: the six
 * plans are unavailable (with the county in the reason), the Utah issuers do
 * not write Ohio, and with no silver plan there is no credit. */
static void test_county_not_served(void **state)
{
    (void)state;
    json_t *req = doc = shopper("health-oh-cuyahoga");
    quote q;
    rate(req, &arena, &q);
    assert_int(quoted_count(&q), 0);
    static const char *const six[] = {"buckeye-bronze-7500",  "cardinal-bronze-hsa",
                                      "lakeview-silver-4000", "buckeye-silver-3500",
                                      "cardinal-silver-hsa",  "lakeview-gold-1500"};
    for (int i = 0; i < 6; i++) {
        mq_result *r = find(&q, six[i]);
        assert_non_null(r);
        assert_int(r->status, MQ_UNAVAILABLE);
        assert_int(r->nreasons, 1);
        assert_contains(r->reasons[0], "39035");
    }
    int utah = 0;
    for (int i = 0; i < q.n; i++) {
        if (strstr(q.res[i].carrier_id, "wasatch") || strstr(q.res[i].carrier_id, "beehive") ||
            strstr(q.res[i].carrier_id, "redrock")) {
            utah++;
            assert_int(q.res[i].status, MQ_UNAVAILABLE);
            assert_contains(q.res[i].reasons[0], "does not write health insurance in OH");
        }
        assert_contains(q.res[i].credit_note, "no silver plan");
    }
    assert_int(utah, 3);
}

/* health-ut-st-george: Washington County, Utah (UT-3), 3 people, income
 * 27,000 against 15,650 + 2 x 5,500 = 26,650: ratio 1.0131, below 1.33:
 * 2.10%; annual 567.00, monthly 47.25. Utah's curve: m1 35 (1.214, tobacco),
 * m2 7 and m3 5 (0.793). Beehive does not serve UT-3 (unavailable); Red Rock
 * serves only UT-3. Silver without tobacco: redrock 391.70 x 1.214 = 475.52
 * + 2 x 310.62 = 1,096.76; wasatch 398.15 x 1.214 = 483.35 + 2 x 315.73 =
 * 1,114.81, the benchmark. Credit 1,114.81 - 47.25 = 1,067.56.
 * With tobacco: redrock-bronze-9000 312.40 x 1.214 x 1.15 = 436.14 + 2 x
 * 247.73 = 931.60; wasatch-bronze-8000 305.80 x 1.214 x 1.25 = 464.05 + 2 x
 * 242.50 = 949.05; redrock-silver 546.85 + 621.24 = 1,168.09; wasatch-silver
 * 604.19 + 631.46 = 1,235.65; wasatch-gold 486.35 x 1.214 x 1.25 = 738.04 +
 * 2 x 385.68 = 1,509.40. */
static void test_utah_st_george(void **state)
{
    (void)state;
    json_t *req = doc = shopper("health-ut-st-george");
    quote q;
    rate(req, &arena, &q);
    static const want_plan want[] = {
        {"redrock-bronze-9000", 93160, 93160, 0},
        {"wasatch-bronze-8000", 94905, 94905, 0},
        {"redrock-silver-5000", 116809, 106756, 10053},
        {"wasatch-silver-4500", 123565, 106756, 16809},
        {"wasatch-gold-2000", 150940, 106756, 44184},
    };
    assert_quoted(&q, want, 5);
    assert_contains(q.res[0].credit_note, "1114.81");
    assert_contains(q.res[0].credit_note, "47.25");
    static const char *const beehive[] = {"beehive-bronze-6500", "beehive-silver-3000",
                                          "beehive-gold-750"};
    for (int i = 0; i < 3; i++) {
        mq_result *r = find(&q, beehive[i]);
        assert_non_null(r);
        assert_int(r->status, MQ_UNAVAILABLE);
        assert_contains(r->reasons[0], "Beehive");
    }
}

/* health-ut-salt-lake-senior: Salt Lake (UT-1), 1 person of 67 (Utah 64+:
 * 3.000), income 62,600 = exactly 400% of 15,650: still eligible; 9.96%:
 * annual 6,234.96, monthly 519.58. Silver: wasatch 371.25 x 3 = 1,113.75,
 * beehive 384.60 x 3 = 1,153.80 (benchmark); credit 634.22. Red Rock does
 * not serve UT-1. */
static void test_utah_exactly_400_percent(void **state)
{
    (void)state;
    json_t *req = doc = shopper("health-ut-salt-lake-senior");
    quote q;
    rate(req, &arena, &q);
    static const want_plan want[] = {
        {"wasatch-bronze-8000", 85920, 63422, 22498},
        {"beehive-bronze-6500", 89625, 63422, 26203},
        {"wasatch-silver-4500", 111375, 63422, 47953},
        {"beehive-silver-3000", 115380, 63422, 51958},
        {"wasatch-gold-2000", 135840, 63422, 72418},
        {"beehive-gold-750", 140460, 63422, 77038},
    };
    assert_quoted(&q, want, 6);
    assert_contains(q.res[0].credit_note, "1153.80");
    assert_contains(q.res[0].credit_note, "519.58");
    /* one dollar more is above 400% */
    json_object_set_new(json_object_get(req, "household"), "income", json_integer(62601));
    rate(req, &arena, &q);
    assert_int(quoted_count(&q), 6);
    for (int i = 0; i < 6; i++) {
        assert_cents(q.res[i].credit_cents, 0);
        assert_contains(q.res[i].credit_note, "above 400% of the poverty guideline");
    }
}

/* health-ut-provo-family: Utah County (UT-2), 4 people, income 42,759.50 =
 * exactly 1.33 x (15,650 + 3 x 5,500 = 32,150): the 1.33-1.50 band starts,
 * 3.14%: annual 1,342.65, monthly 111.89. Utah curve: m1 39 (1.292; born
 * 2 Jan, not yet 40), m2 38 (1.272, tobacco), m3 9 and m4 6 (0.793).
 * Benchmark without tobacco: wasatch 362.40: 468.22 + 460.97 + 2 x 287.38 =
 * 1,503.95; beehive 369.95: 477.98 + 470.58 + 2 x 293.37 = 1,535.30, the
 * benchmark; credit 1,423.41. With tobacco m2 pays 1.25 at Wasatch (576.22)
 * and 1.50 at Beehive (705.86). */
static void test_utah_provo_band_edge(void **state)
{
    (void)state;
    json_t *req = doc = shopper("health-ut-provo-family");
    quote q;
    rate(req, &arena, &q);
    static const want_plan want[] = {
        {"wasatch-bronze-8000", 124703, 124703, 0},
        {"beehive-bronze-6500", 139416, 139416, 0},
        {"wasatch-silver-4500", 161920, 142341, 19579},
        {"beehive-silver-3000", 177058, 142341, 34717},
        {"wasatch-gold-2000", 197441, 142341, 55100},
        {"beehive-gold-750", 218122, 142341, 75781},
    };
    assert_quoted(&q, want, 6);
    assert_contains(q.res[0].credit_note, "1535.30");
    assert_contains(q.res[0].credit_note, "111.89");
    const mq_result *r = find(&q, "beehive-silver-3000");
    assert_cents(member_premium(&q, r, "m2"), 70586);
    r = find(&q, "wasatch-silver-4500");
    assert_cents(member_premium(&q, r, "m2"), 57622);
}

/* Alaska and Hawaii have their own guidelines. No sample plan is sold there,
 * but the credit note still says the household is below 100%: Alaska 17,000
 * / 19,550 = 0.87 (0.99 above the 48-state 15,650); Hawaii 2 people 23,000 /
 * (17,990 + 6,330 = 24,320) = 0.95 (21,150 elsewhere: 1.09). */
static void test_alaska_hawaii_guidelines(void **state)
{
    (void)state;
    static const char *const names[] = {"health-ak-anchorage", "health-hi-honolulu"};
    for (int k = 0; k < 2; k++) {
        json_decref(doc);
        json_t *req = doc = shopper(names[k]);
        quote q;
        rate(req, &arena, &q);
        assert_int(quoted_count(&q), 0);
        assert_true(q.n > 0);
        for (int i = 0; i < q.n; i++)
            assert_contains(q.res[i].credit_note, "below 100% of the poverty guideline");
    }
}

/* ---- Age curves, row by row --------------------------------------------- */

/* Federal default curve, ages 0..64+ (aca-health.md section 2), in thousandths. */
static const int federal_curve[65] = {
    765,  765,  765,  765,  765,  765,  765,  765,  765,  765,  765,  765,  765,
    765,  765,  833,  859,  885,  913,  941,  970,  1000, 1000, 1000, 1000, 1004,
    1024, 1048, 1087, 1119, 1135, 1159, 1183, 1198, 1214, 1222, 1230, 1238, 1246,
    1262, 1278, 1302, 1325, 1357, 1397, 1444, 1500, 1563, 1635, 1706, 1786, 1865,
    1952, 2040, 2135, 2230, 2333, 2437, 2548, 2603, 2714, 2810, 2873, 2952, 3000};

/* The Utah curve of the sample plans (invented factors, see their README). */
static const int utah_curve[65] = {793,  793,  793,  793,  793,  793,  793,  793,  793,  793,  793,
                                   793,  793,  793,  793,  793,  793,  793,  793,  793,  793,  1000,
                                   1012, 1024, 1037, 1050, 1063, 1077, 1092, 1107, 1123, 1140, 1158,
                                   1176, 1195, 1214, 1233, 1252, 1272, 1292, 1313, 1340, 1368, 1400,
                                   1436, 1476, 1520, 1568, 1621, 1678, 1740, 1806, 1876, 1950, 2028,
                                   2110, 2196, 2286, 2380, 2478, 2580, 2686, 2796, 2896, 3000};

/* Every plan, in one county, with its base rate there (cents). */
static const struct {
    const char *id, *state, *county;
    int64_t base;
    const int *curve;
} curve_plans[] = {
    {"buckeye-bronze-7500", "OH", "39049", 31840, federal_curve},
    {"cardinal-bronze-hsa", "OH", "39049", 30195, federal_curve},
    {"lakeview-silver-4000", "OH", "39049", 38910, federal_curve},
    {"buckeye-silver-3500", "OH", "39049", 40275, federal_curve},
    {"cardinal-silver-hsa", "OH", "39049", 42860, federal_curve},
    {"lakeview-gold-1500", "OH", "39049", 47125, federal_curve},
    {"buckeye-bronze-7500", "OH", "39089", 34546, federal_curve},
    {"cardinal-bronze-hsa", "OH", "39089", 32762, federal_curve},
    {"lakeview-silver-4000", "OH", "39089", 42217, federal_curve},
    {"buckeye-silver-3500", "OH", "39089", 43698, federal_curve},
    {"cardinal-silver-hsa", "OH", "39089", 46503, federal_curve},
    {"lakeview-gold-1500", "OH", "39089", 51131, federal_curve},
    {"wasatch-bronze-8000", "UT", "49035", 28640, utah_curve},
    {"wasatch-silver-4500", "UT", "49035", 37125, utah_curve},
    {"wasatch-gold-2000", "UT", "49035", 45280, utah_curve},
    {"beehive-bronze-6500", "UT", "49035", 29875, utah_curve},
    {"beehive-silver-3000", "UT", "49035", 38460, utah_curve},
    {"beehive-gold-750", "UT", "49035", 46820, utah_curve},
    {"wasatch-bronze-8000", "UT", "49049", 27910, utah_curve},
    {"wasatch-silver-4500", "UT", "49049", 36240, utah_curve},
    {"wasatch-gold-2000", "UT", "49049", 44190, utah_curve},
    {"beehive-bronze-6500", "UT", "49049", 29130, utah_curve},
    {"beehive-silver-3000", "UT", "49049", 36995, utah_curve},
    {"beehive-gold-750", "UT", "49049", 45575, utah_curve},
    {"wasatch-bronze-8000", "UT", "49053", 30580, utah_curve},
    {"wasatch-silver-4500", "UT", "49053", 39815, utah_curve},
    {"wasatch-gold-2000", "UT", "49053", 48635, utah_curve},
    {"redrock-bronze-9000", "UT", "49053", 31240, utah_curve},
    {"redrock-silver-5000", "UT", "49053", 39170, utah_curve},
};

/* A household with one member of `age` on 2026-01-01 (born 1 June): the
 * self when 21 or over, else a child beside a self of 30. */
static json_t *age_request(const char *state, const char *county, int age)
{
    char dob[32], self_dob[32];
    snprintf(dob, sizeof dob, "%04d-06-01", 2025 - age);
    snprintf(self_dob, sizeof self_dob, "%04d-06-01", 2025 - (age >= 21 ? age : 30));
    json_t *members = json_pack("[{s:s, s:s, s:s, s:b}]", "id", "m1", "relationship", "self",
                                "date_of_birth", self_dob, "tobacco", 0);
    if (age < 21)
        json_array_append_new(members, json_pack("{s:s, s:s, s:s, s:b}", "id", "m2", "relationship",
                                                 "child", "date_of_birth", dob, "tobacco", 0));
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}, s:{s:i, s:i}, s:o}",
                     "line", "health", "effective_date", "2026-01-01", "applicant", "first_name",
                     "Age", "last_name", "Curve", "address", "street", "1 Main St", "city",
                     "Capital", "state", state, "zip", state[0] == 'O' ? "43215" : "84111",
                     "county_fips", county, "household", "size", age < 21 ? 2 : 1, "income", 50000,
                     "members", members);
}

/* Every row of both curves, in every plan and rating area: the member's
 * premium is the base rate x the factor, to the cent (exact in integers:
 * cents x thousandths, half up). Ages 65 and 70 use the 64+ row. */
static void test_age_curves(void **state)
{
    (void)state;
    static const int ages[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                               17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
                               34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
                               51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 70};
    const char *county = NULL;
    for (size_t p = 0; p < sizeof curve_plans / sizeof curve_plans[0]; p++) {
        if (county && strcmp(county, curve_plans[p].county) == 0)
            continue; /* one request per county and age rates every plan there */
        county = curve_plans[p].county;
        for (size_t k = 0; k < sizeof ages / sizeof ages[0]; k++) {
            int age = ages[k];
            json_decref(doc);
            doc = age_request(curve_plans[p].state, county, age);
            assert_non_null(doc);
            quote q;
            rate(doc, &arena, &q);
            for (size_t j = p; j < sizeof curve_plans / sizeof curve_plans[0] &&
                               strcmp(curve_plans[j].county, county) == 0;
                 j++) {
                const mq_result *r = find(&q, curve_plans[j].id);
                if (!r || r->status != MQ_QUOTED)
                    fail_msg("%s in %s: not quoted", curve_plans[j].id, county);
                int64_t want =
                    (curve_plans[j].base * curve_plans[j].curve[age < 64 ? age : 64] + 500) / 1000;
                int64_t got = member_premium(&q, r, age >= 21 ? "m1" : "m2");
                if (got != want)
                    fail_msg("%s in %s, age %d: %lld cents, expected %lld", curve_plans[j].id,
                             county, age, (long long)got, (long long)want);
            }
        }
    }
}

/* ---- Worksheet ----------------------------------------------------------- */

/* Case 1 at cardinal-bronze-hsa: base 301.95 for OH-A, age 40 x 1.278 =
 * 385.8921, rounded 385.89; no tobacco step. */
static void test_worksheet(void **state)
{
    (void)state;
    quote q;
    char why[512];
    if (!try_quote(json_object_get(json_array_get(cases(), 0), "request"), 0, NULL, 0, true, &arena,
                   &q, why, sizeof why))
        fail_msg("%s", why);
    const mq_result *r = find(&q, "cardinal-bronze-hsa");
    assert_non_null(r);
    bool base = false, age = false;
    for (int i = 0; i < r->nsteps; i++) {
        const mq_work_step *s = &r->steps[i];
        if (s->op == '=' && s->coverage == MQ_COV_PREMIUM && fabs(s->running - 301.95) < 1e-9)
            base = true;
        if (s->name && strcmp(s->name, "Age") == 0) {
            assert_string_equal(s->table, "age_curve");
            assert_string_equal(s->key, "40");
            assert_true(fabs(s->factor - 1.278) < 1e-12);
            age = true;
        }
    }
    assert_true(base);
    assert_true(age);
}

/* ---- Filters do not move the benchmark ---------------------------------- */

/* The benchmark is the second-lowest silver plan offered in the area, not
 * the second-lowest the shopper chose to see: case 1 shown as bronze only,
 * or as Cardinal Care only, still credits 359.72 (benchmark 514.71). */
static void test_filters_keep_benchmark(void **state)
{
    (void)state;
    json_t *req = json_object_get(json_array_get(cases(), 0), "request");
    quote q;
    char why[512];
    unsigned bronze = 1u << mq_symbol_find(MQ_DOM_METAL, "bronze");
    if (!try_quote(req, bronze, NULL, 0, false, &arena, &q, why, sizeof why))
        fail_msg("%s", why);
    static const want_plan bronzes[] = {{"cardinal-bronze-hsa", 38589, 35972, 2617},
                                        {"buckeye-bronze-7500", 40692, 35972, 4720}};
    assert_quoted(&q, bronzes, 2);
    assert_contains(q.res[0].credit_note, "514.71");

    static const char *cardinal[] = {"cardinalcare"};
    if (!try_quote(req, 0, cardinal, 1, false, &arena, &q, why, sizeof why))
        fail_msg("%s", why);
    static const want_plan cards[] = {{"cardinal-bronze-hsa", 38589, 35972, 2617},
                                      {"cardinal-silver-hsa", 54775, 35972, 18803}};
    assert_quoted(&q, cards, 2);
    assert_contains(q.res[0].credit_note, "514.71");
}

/* An issuer asked for by id whose plans are all of metal levels the filter
 * leaves out still has its entry (one per carrier asked): unavailable,
 * saying why; the other issuer asked keeps its plans of those levels. */
static void test_filtered_out_issuer_is_unavailable(void **state)
{
    (void)state;
    json_t *req = json_object_get(json_array_get(cases(), 0), "request");
    quote q;
    char why[512];
    unsigned gold_platinum =
        1u << mq_symbol_find(MQ_DOM_METAL, "gold") | 1u << mq_symbol_find(MQ_DOM_METAL, "platinum");
    static const char *cardinal[] = {"cardinalcare"};
    if (!try_quote(req, gold_platinum, cardinal, 1, false, &arena, &q, why, sizeof why))
        fail_msg("%s", why);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.res[0].carrier_id, "cardinalcare");
    assert_int_equal(q.res[0].status, MQ_UNAVAILABLE);
    assert_int_equal(q.res[0].nreasons, 1);
    assert_string_equal(q.res[0].reasons[0],
                        "Cardinal Care has no plan of the metal levels asked for (gold, platinum)");

    unsigned bronze = 1u << mq_symbol_find(MQ_DOM_METAL, "bronze");
    static const char *both[] = {"cardinalcare", "buckeyehealth"};
    if (!try_quote(req, bronze, both, 2, false, &arena, &q, why, sizeof why))
        fail_msg("%s", why);
    static const want_plan bronzes[] = {{"cardinal-bronze-hsa", 38589, 35972, 2617},
                                        {"buckeye-bronze-7500", 40692, 35972, 4720}};
    assert_quoted(&q, bronzes, 2);
    assert_int_equal(q.n, 2);
}

/* The expected contribution is rounded to the cent from its exact value.
 * Case 1's Franklin County single of 40, in a household of 3 with income
 * 52,342.09: guideline 15,650 + 2 x 5,500 = 26,650, ratio 1.9640559...,
 * in the 1.50-2.00 band: 4.19 + 2.41 x (ratio - 1.5) / 0.5 = 6.4267494...%;
 * annual 52,342.09 x that = 4,482,390,087,499,121 / 1,332,500,000,000 =
 * 3,363.89499999934, a hair below the half cent: 3,363.89; monthly
 * 3,363.89 / 12 = 280.324 -> 280.32. Benchmark 514.71 (Buckeye Silver
 * 3500, age 40), credit 514.71 - 280.32 = 234.39. In doubles the annual
 * came out 3,363.90, monthly 280.33 and the credit 234.38. */
static void test_contribution_rounding_exact(void **state)
{
    (void)state;
    json_t *req = doc = json_deep_copy(json_object_get(json_array_get(cases(), 0), "request"));
    ts_set_path(req, "household.size", json_integer(3));
    ts_set_path(req, "household.income", json_real(52342.09));
    quote q;
    rate(req, &arena, &q);
    const mq_result *r = find(&q, "cardinal-bronze-hsa");
    assert_non_null(r);
    assert_cents(r->gross_cents, 38589);
    assert_cents(r->credit_cents, 23439);
    assert_cents(r->net_cents, 38589 - 23439);
    assert_contains(r->credit_note, "benchmark (second-lowest silver) 514.71; expected "
                                    "contribution 280.32 a month (6.4267% of income)");
}

/* ---- The market file ----------------------------------------------------- */

#define MARKET PLANS "/_markets/aca-individual-2026/market.yaml"

/* Loads a plans folder holding only the bundled market.yaml with `from`
 * replaced by `to` (the text must be there); the engine must not load and a
 * message must contain `want`. */
static void expect_market_error(const char *from, const char *to, const char *want)
{
    char *text = ts_read_file(MARKET, NULL);
    char *at = strstr(text, from);
    if (!at)
        fail_msg("\"%s\" is not in " MARKET, from);
    size_t head = (size_t)(at - text), nfrom = strlen(from), nto = strlen(to);
    size_t rest = strlen(at + nfrom);
    char *edited = malloc(head + nto + rest + 1);
    assert_non_null(edited);
    memcpy(edited, text, head);
    memcpy(edited + head, to, nto);
    memcpy(edited + head + nto, at + nfrom, rest + 1);
    free(text);
    char dir[] = "/tmp/mq-aca-market-XXXXXX", sub[64], file[96];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/m", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(file, sizeof file, "%s/market.yaml", sub);
    ts_write_file(file, edited, strlen(edited));
    free(edited);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    unlink(file);
    rmdir(sub);
    rmdir(dir);
    bool found = false;
    for (int i = 0; i < d.count && !found; i++)
        found = strstr(d.items[i].text, want) != NULL;
    if (e || !found)
        fail_msg("%s -> %s: loaded %s, first message \"%s\", expected one containing \"%s\"", from,
                 to, e ? "yes" : "no", d.count ? d.items[0].text : "(none)", want);
    mq_diags_free(&d);
}

/* A market file whose parameters cannot give every eligible household a
 * credit, or give a wrong one, is refused at load (multiquote check) with
 * its file:line, rather than quoting a nonsense credit: bands that stop
 * short of the eligible ratios (a household at 350% then got its whole
 * premium as credit, "contribution -7686143364045646.-50 a month"), a
 * guideline of 0, percentages above 100, a fractional rank. */
static void test_market_file_errors(void **state)
{
    (void)state;
    expect_market_error("  - [3.00, 4.00, 9.96, 9.96]\n", "",
                        "market.yaml:27: applicable_percentage covers ratios 0 to 3, but "
                        "eligible_ratio is [1, 4]: every eligible ratio needs a band");
    expect_market_error("[0.00, 1.33, 2.10, 2.10]", "[1.10, 1.33, 2.10, 2.10]",
                        "market.yaml:27: applicable_percentage covers ratios 1.1 to 4");
    expect_market_error("[1.33, 1.50, 3.14, 4.19]", "[1.33, 1.50, 3.14, 419]",
                        "market.yaml:28: band 2 must be [from, to, start %, end %] following "
                        "the previous band, from < to, the percentages 0 to 100, at most 4 "
                        "decimals");
    expect_market_error("[1.33, 1.50, 3.14, 4.19]", "[1.33, 1.50, 3.14, 4.191234]",
                        "market.yaml:28: band 2 must be");
    expect_market_error("[1.33, 1.50, 3.14, 4.19]", "7", "market.yaml:28: band 2 must be");
    expect_market_error("{first: 15650, additional: 5500}", "{first: 0, additional: 5500}",
                        "market.yaml:15: poverty_guideline default needs {first: N, "
                        "additional: N}, first above 0 and additional 0 or more");
    expect_market_error("{first: 15650, additional: 5500}", "{first: 15650, additional: -5500}",
                        "market.yaml:15: poverty_guideline default needs");
    expect_market_error("{first: 15650, additional: 5500}", "{first: 1e300, additional: 5500}",
                        "market.yaml:15: poverty_guideline default needs");
    expect_market_error("  AK: {", "  ZZ: {",
                        "market.yaml:16: poverty_guideline: \"ZZ\" is not a state code");
    expect_market_error("[1.00, 4.00]", "[4.00, 1.00]",
                        "market.yaml:20: eligible_ratio must be [from, to]: the income ratios "
                        "that get a credit, 0 <= from < to");
    expect_market_error("eligible_ratio: [1.00, 4.00]", "",
                        "market.yaml: eligible_ratio must be [from, to]");
    expect_market_error("rank: 2", "rank: 2.5",
                        "market.yaml:36: benchmark must be {metal: M, rank: N}: a metal level "
                        "(bronze, silver, ...) and a whole rank from 1");
    expect_market_error("metal: silver", "metal: silverr", "market.yaml:36: benchmark must be");
    expect_market_error("rank: 2}", "rank: 2}\nno_credit_metals: [catastrophic, silver]",
                        "market.yaml:37: no_credit_metals must list metal levels (catastrophic, "
                        "bronze, ...), not the benchmark's");
    expect_market_error("rank: 2}", "rank: 2}\nno_credit_metal: [catastrophic]",
                        "market.yaml:37: unknown key \"no_credit_metal\" (market, "
                        "poverty_guideline, eligible_ratio, applicable_percentage, benchmark, "
                        "no_credit_metals)");
}

/* Runs shell command `fmt` (printf-style); fails the test if it fails. */
static void shell(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("failed: %s", cmd);
}

/* Case 1 (single, 40, OH-A, credit 359.72) against the six reference plans,
 * the market (its last line `extra`, "" for none) and a catastrophic plan
 * with Cardinal Bronze HSA's rates (301.95 x 1.278 = 385.89): that plan's
 * result in *out (copied: the engine is freed). */
static void rate_with_catastrophic(const char *extra, mq_result *out, mq_result *bronze)
{
    char dir[] = "/tmp/mq-aca-cat-XXXXXX";
    assert_non_null(mkdtemp(dir));
    shell("cp -r " PLANS "/buckeyehealth " PLANS "/cardinalcare " PLANS "/lakeviewhealth " PLANS
          "/_markets %s/ && cp -r %s/cardinalcare/oh-health-bronze-hsa-2026 %s/cardinalcare/cat && "
          "sed -i -e 's/id: cardinal-bronze-hsa/id: cardinal-catastrophic/' -e 's/metal: "
          "bronze/metal: catastrophic/' %s/cardinalcare/cat/plan.yaml && printf '%%s' '%s' >> "
          "%s/_markets/aca-individual-2026/market.yaml",
          dir, dir, dir, dir, extra, dir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    shell("rm -rf %s", dir);
    if (!e)
        fail_msg("%s", d.count ? d.items[0].text : "no engine");
    mq_diags_free(&d);
    mq_input in;
    mq_result *res;
    int n;
    char why[512];
    if (!make_input(json_object_get(json_array_get(cases(), 0), "request"), &arena, &in, why,
                    sizeof why) ||
        !mq_rate_all(e, &in, &(mq_rate_opts){0}, &arena, &res, &n))
        fail_msg("not rated: %s", why);
    quote q = {in, res, n};
    mq_result *cat = find(&q, "cardinal-catastrophic"), *b = find(&q, "cardinal-bronze-hsa");
    assert_non_null(cat);
    assert_non_null(b);
    *out = *cat;
    *bronze = *b;
    mq_engine_free(e);
}

/* The credit cannot be used for a catastrophic plan (26 U.S.C.
 * 36B(c)(3)(A)): gross 385.89, credit 0, net 385.89, saying why, while the
 * bronze plan of the same rates nets 385.89 - 359.72 = 26.17. A market may
 * say otherwise with no_credit_metals: []. */
static void test_no_credit_for_catastrophic(void **state)
{
    (void)state;
    mq_result cat, bronze;
    rate_with_catastrophic("", &cat, &bronze);
    assert_int(cat.status, MQ_QUOTED);
    assert_cents(cat.gross_cents, 38589);
    assert_cents(cat.credit_cents, 0);
    assert_cents(cat.net_cents, 38589);
    assert_string_equal(cat.credit_note,
                        "no premium tax credit: it cannot be used for a catastrophic plan");
    assert_cents(bronze.credit_cents, 35972);
    assert_cents(bronze.net_cents, 2617);
    assert_contains(bronze.credit_note, "benchmark (second-lowest silver) 514.71");

    rate_with_catastrophic("no_credit_metals: []\n", &cat, &bronze);
    assert_cents(cat.gross_cents, 38589);
    assert_cents(cat.credit_cents, 35972);
    assert_cents(cat.net_cents, 2617);
    assert_contains(cat.credit_note, "benchmark (second-lowest silver) 514.71");
}

/* Rates reference case `which` against an engine loaded from a temporary
 * folder that `copy` (a cp command, %s the folder) fills; the engine in
 * *e, to free once the results (which point into it) are checked. */
static void rate_case_in_folder(const char *copy, int which, quote *q, mq_engine **e)
{
    char dir[] = "/tmp/mq-aca-folder-XXXXXX";
    assert_non_null(mkdtemp(dir));
    shell(copy, dir);
    mq_diags d = {0};
    *e = mq_engine_load(dir, &d);
    shell("rm -rf %s", dir);
    if (!*e)
        fail_msg("%s", d.count ? d.items[0].text : "no engine");
    mq_diags_free(&d);
    char why[512];
    bool ok = make_input(json_object_get(json_array_get(cases(), (size_t)which), "request"), &arena,
                         &q->in, why, sizeof why) &&
              mq_rate_all(*e, &q->in, &(mq_rate_opts){0}, &arena, &q->res, &q->n);
    if (!ok)
        fail_msg("not rated: %s", why);
}

/* One silver plan in the area: it is the benchmark (26 CFR 1.36B-3(f)),
 * and the note says so rather than "second-lowest silver". Case 3's couple
 * (OH-A, 2 people, 52,000: contribution 359.14 a month) with Cardinal
 * Care's two plans alone: Cardinal Silver HSA 428.60 x (1.786 + 1.635) =
 * 765.48 + 700.76 = 1,466.24 (no tobacco factor), the benchmark; credit
 * 1,466.24 - 359.14 = 1,107.10; the bronze plan (1,032.97) nets 0. */
static void test_only_silver_plan_is_the_benchmark(void **state)
{
    (void)state;
    quote q;
    mq_engine *e;
    rate_case_in_folder("cp -r " PLANS "/cardinalcare " PLANS "/_markets %s/", 2, &q, &e);
    static const want_plan want[] = {{"cardinal-bronze-hsa", 103297, 103297, 0},
                                     {"cardinal-silver-hsa", 146624, 110710, 35914}};
    assert_quoted(&q, want, 2);
    assert_string_equal(q.res[0].credit_note,
                        "benchmark (the only silver plan) 1466.24; expected contribution 359.14 "
                        "a month (8.2878% of income)");
    mq_engine_free(e);
}

/* Health plans with no market in effect (a plans folder without one, or a
 * plan year's versions loaded before its market): no credit, gross and net
 * the premium, the results sorted by it, and the note says why. Before,
 * gross and net stayed 0 and the results came in carrier-id order. Case 3's
 * couple with Cardinal Care's two plans and no _markets. */
static void test_no_market_prices_without_credit(void **state)
{
    (void)state;
    quote q;
    mq_engine *e;
    rate_case_in_folder("cp -r " PLANS "/cardinalcare %s/", 2, &q, &e);
    static const want_plan want[] = {{"cardinal-bronze-hsa", 103297, 0, 103297},
                                     {"cardinal-silver-hsa", 146624, 0, 146624}};
    assert_quoted(&q, want, 2);
    assert_string_equal(q.res[0].credit_note,
                        "no premium tax credit: no marketplace parameters are in effect on "
                        "2026-01-01");
    mq_engine_free(e);
}

/* ---- The benchmark a quote records, and re-rating with it ---------------- */

/* Every result of every worked example records the benchmark its credit
 * came from -- also case 4's, which gets no credit: Buckeye Silver 3500
 * (version 2026), the second-lowest of the 3 silver plans, at the
 * example's benchmark premium. */
static void test_benchmark_recorded(void **state)
{
    (void)state;
    json_t *c;
    size_t i;
    json_array_foreach(cases(), i, c)
    {
        quote q;
        rate(json_object_get(c, "request"), &arena, &q);
        int64_t want =
            cents_of(json_object_get(json_object_get(c, "expected"), "benchmark_monthly"));
        for (int k = 0; k < q.n; k++) {
            const mq_benchmark *b = q.res[k].benchmark;
            assert_non_null(b);
            assert_non_null(b->plan);
            mq_plan_info pi;
            mq_plan_get_info(b->plan, &pi);
            assert_string_equal(pi.plan_id, "buckeye-silver-3500");
            assert_string_equal(pi.version, "2026");
            assert_cents(b->cents, want);
            assert_int(b->candidates, 3);
            assert_ptr_equal(b, q.res[0].benchmark); /* one for the quote */
        }
    }
}

/* The six reference plans and the market in a temporary folder, with a
 * seventh: Cardinal Bronze HSA's rates as a silver plan (385.89 for case
 * 1's single of 40), the cheapest silver; the engine to free. */
static mq_engine *engine_with_cheap_silver(void)
{
    char dir[] = "/tmp/mq-aca-silver-XXXXXX";
    assert_non_null(mkdtemp(dir));
    shell(
        "cp -r " PLANS "/buckeyehealth " PLANS "/cardinalcare " PLANS "/lakeviewhealth " PLANS
        "/_markets %s/ && cp -r %s/cardinalcare/oh-health-bronze-hsa-2026 %s/cardinalcare/cheap && "
        "sed -i -e 's/id: cardinal-bronze-hsa/id: cardinal-silver-cheap/' -e 's/metal: "
        "bronze/metal: silver/' %s/cardinalcare/cheap/plan.yaml",
        dir, dir, dir, dir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    shell("rm -rf %s", dir);
    if (!e)
        fail_msg("%s", d.count ? d.items[0].text : "no engine");
    mq_diags_free(&d);
    return e;
}

/* Case 1's results re-rated one by one on engine e, as requote does, the
 * market applied with benchmark `given` (NULL: chosen from e's plans). */
static void rerate_with(const mq_engine *e, const quote *q, const mq_benchmark *given,
                        mq_result *out)
{
    for (int i = 0; i < q->n; i++)
        assert_true(mq_rate_plan(q->res[i].plan, &q->in, &(mq_rate_opts){0}, &arena, &out[i]));
    assert_true(mq_rate_market_given(e, &q->in, given, out, q->n, &arena));
}

/* A cheaper silver plan loaded after a quote moves the benchmark of a new
 * quote (Lakeview Silver 4000, 497.27: credit 497.27 - 154.99 = 342.28),
 * but not the quote's re-rated with the benchmark it recorded (Buckeye
 * Silver 3500 2026, one of 3 silver plans then): the credit stays 359.72
 * and the note names "second-lowest silver" 514.71 as before. */
static void test_given_benchmark_outlasts_new_plans(void **state)
{
    (void)state;
    json_t *req = json_object_get(json_array_get(cases(), 0), "request");
    quote then;
    rate(req, &arena, &then);
    int n = 0;
    for (int i = 0; i < then.n; i++)
        if (then.res[i].status == MQ_QUOTED)
            then.res[n++] = then.res[i];
    then.n = n;
    assert_int(n, 6);
    mq_engine *e = engine_with_cheap_silver();
    mq_result now[6], again[6];
    rerate_with(e, &then, NULL, now);
    assert_cents(now[0].benchmark->cents, 49727);
    assert_int(now[0].benchmark->candidates, 4);
    assert_cents(now[0].credit_cents, 34228);

    mq_benchmark given = {mq_engine_find_version(e, "buckeye-silver-3500", "2026"), -1, 3};
    assert_non_null(given.plan);
    rerate_with(e, &then, &given, again);
    for (int i = 0; i < n; i++) {
        assert_cents(again[i].gross_cents, then.res[i].gross_cents);
        assert_cents(again[i].credit_cents, then.res[i].credit_cents);
        assert_cents(again[i].net_cents, then.res[i].net_cents);
        assert_string_equal(again[i].credit_note, then.res[i].credit_note);
        assert_ptr_equal(again[i].benchmark->plan, given.plan);
        assert_cents(again[i].benchmark->cents, 51471);
        assert_int(again[i].benchmark->candidates, 3);
    }
    assert_cents(again[0].credit_cents, 35972);
    mq_engine_free(e);
}

/* A quote that recorded no benchmark (no silver plan quoted then) gets no
 * credit when re-rated, though silver plans are loaded now; and one whose
 * given count of candidates is below its rank is named the rules' way. */
static void test_given_no_benchmark(void **state)
{
    (void)state;
    quote q;
    rate(json_object_get(json_array_get(cases(), 0), "request"), &arena, &q);
    mq_result *r = find(&q, "cardinal-bronze-hsa");
    assert_non_null(r);
    quote one = {q.in, r, 1};
    mq_result again;
    rerate_with(engine, &one, &(mq_benchmark){NULL, -1, 0}, &again);
    assert_non_null(again.benchmark);
    assert_null(again.benchmark->plan);
    assert_cents(again.credit_cents, 0);
    assert_cents(again.net_cents, 38589);
    assert_string_equal(again.credit_note,
                        "no premium tax credit: no silver plan is offered in this area");

    const mq_plan *bench = mq_engine_find_version(engine, "buckeye-silver-3500", "2026");
    rerate_with(engine, &one, &(mq_benchmark){bench, -1, 1}, &again);
    assert_contains(again.credit_note, "benchmark (the only silver plan) 514.71");
    assert_cents(again.credit_cents, 35972);
}

/* A market's until ends the parameters of its line, not only its own: an
 * older market it replaced does not apply again after it. A market of
 * 2025-01-01 (no until) replaced by one of 2025-12-01 that ends on
 * 2025-12-31: on 2026-01-01 no parameters are in effect, and case 3's
 * couple gets no credit rather than one worked out from the replaced
 * market (1,107.10 on the silver plan). */
static void test_ended_market_does_not_revive_an_older_one(void **state)
{
    (void)state;
    quote q;
    mq_engine *e;
    rate_case_in_folder(
        "D=%s && cp -r " PLANS "/cardinalcare " PLANS "/_markets $D/ && cd $D/_markets && "
        "mv aca-individual-2026 old && sed -i -e 's/id: aca-individual-2026/id: aca-old/' "
        "-e 's/effective: 2026-01-01/effective: 2025-01-01/' -e '/^  until:/d' old/market.yaml && "
        "cp -r old new && sed -i -e 's/id: aca-old/id: aca-new/' "
        "-e 's/effective: 2025-01-01/effective: 2025-12-01\\n  until: 2025-12-31/' new/market.yaml",
        2, &q, &e);
    static const want_plan want[] = {{"cardinal-bronze-hsa", 103297, 0, 103297},
                                     {"cardinal-silver-hsa", 146624, 0, 146624}};
    assert_quoted(&q, want, 2);
    assert_string_equal(q.res[0].credit_note,
                        "no premium tax credit: no marketplace parameters are in effect on "
                        "2026-01-01");
    mq_engine_free(e);
}

/* A plan year's market folder copied for the next, its effective date
 * left as it was: two health markets of 2026-01-01, the one applied being
 * whichever folder loads first. Refused, naming both market.effective
 * lines; before, the copy was loaded and never used. */
static void test_two_markets_on_one_day_are_an_error(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-aca-twomarkets-XXXXXX";
    assert_non_null(mkdtemp(dir));
    shell("cp -r " PLANS "/cardinalcare " PLANS "/_markets/aca-individual-2026 %s/ && cd %s && "
          "mv aca-individual-2026 a && cp -r a b && "
          "sed -i 's/id: aca-individual-2026/id: aca-individual-2027/' b/market.yaml",
          dir, dir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    char want[512];
    snprintf(want, sizeof want,
             "%s/b/market.yaml:9: markets aca-individual-2027 and aca-individual-2026 "
             "(%s/a/market.yaml:9) of the health line both take effect on 2026-01-01: give each "
             "plan year its own market.effective",
             dir, dir);
    shell("rm -rf %s", dir);
    assert_null(e);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].text, want);
    mq_diags_free(&d);
}

/* ---- The ACA's rating limits (multiquote check) --------------------------- */

/* The errors `multiquote check` (mq_engine_lint) gives for Buckeye Health's
 * two Ohio plans copied to a temporary folder and edited by `sed` (a sed
 * script; %s the folder); each error's text after the folder, in *out
 * (at most `cap`), how many. */
static int limit_errors(const char *sed, char out[][512], int cap)
{
    char dir[] = "/tmp/mq-aca-limits-XXXXXX";
    assert_non_null(mkdtemp(dir));
    shell("cp -r " PLANS "/buckeyehealth " PLANS "/_markets %s/ && cd %s/buckeyehealth && %s", dir,
          dir, sed);
    mq_diags d = {0}, errors = {0}, warnings = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    if (!e) {
        shell("rm -rf %s", dir);
        fail_msg("%s", d.count ? d.items[0].text : "no engine");
    }
    mq_engine_lint(e, &(mq_lint_states){0}, &errors, &warnings);
    shell("rm -rf %s", dir);
    int n = 0;
    for (int i = 0; i < errors.count && n < cap; i++) {
        const char *t = errors.items[i].text;
        snprintf(out[n++], 512, "%s", strncmp(t, dir, strlen(dir)) == 0 ? t + strlen(dir) : t);
    }
    mq_engine_free(e);
    mq_diags_free(&d);
    mq_diags_free(&errors);
    mq_diags_free(&warnings);
    return n;
}

/* A premium may vary by tobacco use at most 1.5:1 and by age at most 3:1
 * for adults (aca-health.md section 1). Buckeye Bronze 7500 with a tobacco
 * factor of 1.51: a tobacco user of 21 in Franklin (OH-A, 318.40) pays
 * 318.40 x 1.51 = 480.78, 1.510 times; Buckeye Silver 3500 with 3.400 at
 * 64+: 402.75 x 3.4 = 1369.35, 3.400 times the 402.75 of age 21. Both were
 * valid plans to `check`, and quoted. The limits themselves pass (1.50 and
 * the federal curve's 3.000), as do the bundled plans (Beehive's 1.50). */
static void test_rating_limits_checked(void **state)
{
    (void)state;
    char err[8][512];
    int n = limit_errors("sed -i 's/? 1.20 : 1.00/? 1.51 : 1.00/' "
                         "oh-health-bronze-7500-2026/plan.yaml && sed -i 's/^64+,3.000/64+,3.400/' "
                         "oh-health-silver-3500-2026/age_curve.csv",
                         err, 8);
    assert_int(n, 2);
    const char *want[] = {
        "/buckeyehealth/oh-health-bronze-7500-2026/plan.yaml: a tobacco user aged 21 in county "
        "39049 pays 480.78 a month against 318.40 without tobacco (1.510 times): the ACA allows a "
        "tobacco factor of at most 1.5",
        "/buckeyehealth/oh-health-silver-3500-2026/plan.yaml: an adult aged 64 in county 39049 "
        "pays 1369.35 a month, 3.400 times the 402.75 of one aged 21: the ACA allows adults' "
        "premiums to vary by age at most 3:1",
    };
    for (int i = 0; i < 2; i++) {
        bool found = strcmp(err[0], want[i]) == 0 || strcmp(err[1], want[i]) == 0;
        if (!found)
            fail_msg("no error \"%s\"; got \"%s\" and \"%s\"", want[i], err[0], err[1]);
    }
    /* at the limits: no error */
    assert_int(limit_errors("sed -i 's/? 1.20 : 1.00/? 1.50 : 1.00/' "
                            "oh-health-bronze-7500-2026/plan.yaml",
                            err, 8),
               0);
    /* the bundled plans */
    mq_diags errors = {0}, warnings = {0};
    mq_engine_lint(engine, &(mq_lint_states){0}, &errors, &warnings);
    for (int i = 0; i < errors.count; i++)
        if (strstr(errors.items[i].text, "the ACA allows"))
            fail_msg("%s", errors.items[i].text);
    mq_diags_free(&errors);
    mq_diags_free(&warnings);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_all_cases),
        T(test_case_single_40),
        T(test_case_family_four_children),
        T(test_case_couple_tobacco),
        T(test_case_above_400_percent),
        T(test_case_family_members),
        T(test_reference_plans),
        T(test_reference_counties_only_six),
        T(test_big_family),
        T(test_below_poverty),
        T(test_county_not_served),
        T(test_utah_st_george),
        T(test_utah_exactly_400_percent),
        T(test_utah_provo_band_edge),
        T(test_alaska_hawaii_guidelines),
        T(test_age_curves),
        T(test_worksheet),
        T(test_filters_keep_benchmark),
        T(test_filtered_out_issuer_is_unavailable),
        T(test_contribution_rounding_exact),
        T(test_market_file_errors),
        T(test_no_credit_for_catastrophic),
        T(test_only_silver_plan_is_the_benchmark),
        T(test_no_market_prices_without_credit),
        T(test_benchmark_recorded),
        T(test_given_benchmark_outlasts_new_plans),
        T(test_given_no_benchmark),
        T(test_ended_market_does_not_revive_an_older_one),
        T(test_two_markets_on_one_day_are_an_error),
        T(test_rating_limits_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
