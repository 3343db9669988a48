/* test_lines_life.c -- the term-life carriers in plans/ against hand computations.
 *
 * Loads every plan under plans/ (mq_engine_load), parses each shopper request
 * tests/data/shoppers/life-*.json with mq_req_parse, rates it against every
 * term-life carrier (mq_rate_all) and checks, to the cent, the premium of one
 * payment, the class each carrier assumed (r->health_class), the payment
 * period shown as the term, and the declines and unavailable carriers. The
 * arithmetic is in the comments and, step by step, in the matching
 * life-*.expect.md. A premium is one payment: (rate per 1,000 x face/1,000 +
 * annual policy fee) x modal factor, rounded half up to the cent.
 * Run from the repository root (meson's workdir for tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PLANS
#define PLANS "plans"
#endif
#define SHOPPERS "tests/data/shoppers/"

/* Money in cents, reported in decimal (cmocka 1.1 prints integers in hex). */
#define assert_cents(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (a), b_ = (b);                                                              \
        if (a_ != b_)                                                                              \
            fail_msg("%s is %lld cents, expected %lld", #a, a_, b_);                               \
    } while (0)

static mq_engine *engine;

static int setup(void **state)
{
    (void)state;
    return ts_engine_setup(&engine, PLANS, stderr);
}

static int teardown(void **state)
{
    (void)state;
    return ts_engine_teardown(&engine);
}

/* ---- Helpers ---------------------------------------------------------- */

typedef struct rated {
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
} rated;

/* Parses tests/data/shoppers/NAME.json and rates it against every carrier. */
static void rate_shopper(const char *name, rated *x)
{
    char path[256];
    snprintf(path, sizeof path, SHOPPERS "%s.json", name);
    memset(x, 0, sizeof *x);
    mq_arena_init(&x->a, 0);
    ts_parse_request_file(path, &x->a, &x->in);
    assert_int_equal(x->in.line, MQ_LINE_TERM_LIFE);
    assert_true(mq_rate_all(engine, &x->in, &(mq_rate_opts){0}, &x->a, &x->res, &x->n));
}

static const mq_result *find(const rated *x, const char *carrier)
{
    for (int i = 0; i < x->n; i++)
        if (strcmp(x->res[i].carrier_id, carrier) == 0)
            return &x->res[i];
    fail_msg("no result for carrier %s", carrier);
    return NULL;
}

/* Position of `carrier` in the sorted results. */
static int index_of(const rated *x, const char *carrier)
{
    return (int)(find(x, carrier) - x->res);
}

static void print_reasons(const mq_result *r)
{
    for (int i = 0; i < r->nreasons; i++)
        print_error("%s: %s\n", r->carrier_id, r->reasons[i]);
}

/* A quoted result: one payment of `cents`, in `cls`, for a `months` period. */
static void expect_quote(const rated *x, const char *carrier, int64_t cents, const char *cls,
                         int months)
{
    const mq_result *r = find(x, carrier);
    if (r->status != MQ_QUOTED) {
        print_reasons(r);
        fail_msg("%s is %s, expected quoted", carrier, mq_status_name(r->status));
    }
    assert_cents(r->total_cents, cents);
    assert_cents(r->fees_cents, 0); /* the policy fee is inside the modal premium */
    assert_int_equal(r->ncoverages, 1);
    assert_non_null(r->health_class);
    assert_string_equal(r->health_class, cls);
    assert_int_equal(r->term_months, months);
    assert_true(r->nverifies >= 1);
}

/* A declined or unavailable result whose reason contains `word`. */
static void expect_status(const rated *x, const char *carrier, mq_status status, const char *word)
{
    const mq_result *r = find(x, carrier);
    if (r->status != status) {
        print_reasons(r);
        fail_msg("%s is %s, expected %s", carrier, mq_status_name(r->status),
                 mq_status_name(status));
    }
    assert_int_equal(r->nreasons, 1);
    if (!strstr(r->reasons[0], word))
        fail_msg("%s: reason \"%s\" does not mention \"%s\"", carrier, r->reasons[0], word);
    assert_null(r->health_class);
}

/* ---- Shoppers ---------------------------------------------------------- */

/* Female, born 1990-08-15, on 2026-04-01: 35 at the last birthday, 36 at the
 * nearest (7 whole months past). 500,000, 20 years, monthly; 66 in 140 lb, no
 * tobacco, no health history: every carrier's best class. */
static void test_female_35_preferred(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-oh-female-35-preferred", &x);
    assert_true(x.n >= 6); /* the six term-life carriers (and any added later) */
    /* Beacon (last birthday 35): 500 units x base_rate[35-39, female, 20] 0.505
     * x class preferred_plus 0.86 x band 500k 1.00 = 217.15, no policy fee;
     * monthly x 0.085 = 18.45775 -> 18.46. The cheapest, so listed first. */
    expect_quote(&x, "beacon", 1846, "preferred_plus", 1);
    /* Heartland (nearest birthday 36): age_curve.t20 between 35 (0.372) and
     * 40 (0.573) at 36 = 0.4122; x female 1 x preferred_plus 0.85 = 0.35037,
     * rounded to 0.35 per 1,000; 500 x 0.35 = 175.00 x band 1.00 + fee 55.00 =
     * 230.00; x 0.085 = 19.55. */
    expect_quote(&x, "heartland", 1955, "preferred_plus", 1);
    /* Meridian (nearest birthday 36): rates.csv band_3 [35-39, true,
     * preferred_plus, 20] = 0.39; 500 x 0.39 + 60.00 = 255.00; x 0.0875 =
     * 22.3125 -> 22.31. */
    expect_quote(&x, "meridian", 2231, "preferred_plus", 1);
    /* North Star (last birthday 35): 500 x 0.488 x 0.86 x 1.00 = 209.84 +
     * 75.00 = 284.84; x 0.090 = 25.6356 -> 25.64. */
    expect_quote(&x, "northstar", 2564, "preferred_plus", 1);
    /* Bluebonnet has three classes, the best is preferred: 500 x 0.51 x 1.00 +
     * 50.00 = 305.00 (over the 150.00 minimum); x 0.090 = 27.45. */
    expect_quote(&x, "bluebonnet", 2745, "preferred", 1);
    /* Laurel (nearest 36): 500 x 0.471 x term 1.00 x 0.83 x 1.00 = 195.465 +
     * 65.00 = 260.465; x 0.0865 = 22.5302225 -> 22.53. */
    expect_quote(&x, "laurel", 2253, "preferred_plus", 1);
    /* sorted by the payment, cheapest first */
    assert_true(index_of(&x, "beacon") < index_of(&x, "heartland"));
    assert_true(index_of(&x, "heartland") < index_of(&x, "meridian"));
    assert_true(index_of(&x, "meridian") < index_of(&x, "laurel"));
    assert_true(index_of(&x, "laurel") < index_of(&x, "northstar"));
    assert_true(index_of(&x, "northstar") < index_of(&x, "bluebonnet"));
    mq_arena_free(&x.a);
}

/* Male smoker, 45 at both bases (4 whole months past the birthday),
 * 1,000,000, 20 years, quarterly; 70 in 200 lb and treated blood pressure
 * allow Preferred, so Tobacco Preferred where the carrier has that class. */
static void test_male_45_smoker(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-tx-male-45-smoker", &x);
    /* Heartland: age_curve.t20 at 45 = 0.939 x male_factor 1.34 x
     * tobacco_preferred 3.50 = 4.40391 -> 4.40 per 1,000; 1000 x 4.40 x band
     * 0.95 = 4180.00 + 55.00 = 4235.00; x 0.260 = 1101.10. The cheapest. */
    expect_quote(&x, "heartland", 110110, "tobacco_preferred", 3);
    assert_true(index_of(&x, "heartland") < index_of(&x, "meridian"));
    /* Meridian: rates.csv band_4 [45-49, false, tobacco_preferred, 20] = 5.27;
     * 1000 x 5.27 + 60.00 = 5330.00; x 0.2625 = 1399.125 -> 1399.13 (half up). */
    expect_quote(&x, "meridian", 139913, "tobacco_preferred", 3);
    /* North Star: 1000 x base_rate[45-49, false, 20] 1.577 x
     * class_factor[tobacco_preferred, 45-59] 3.30 x band 0.94 = 4891.854 +
     * 75.00 = 4966.854; x 0.265 = 1316.21631 -> 1316.22. */
    expect_quote(&x, "northstar", 131622, "tobacco_preferred", 3);
    /* Beacon has only Tobacco Standard: 1000 x 1.789 x 4.20 x 0.96 =
     * 7213.248, no fee; x 0.255 = 1839.37824 -> 1839.38. */
    expect_quote(&x, "beacon", 183938, "tobacco_standard", 3);
    /* Bluebonnet likewise: 1000 x rates[45-49, false, tobacco_standard, 20]
     * 6.12 x 0.96 = 5875.20 + 50.00 = 5925.20; x 0.270 = 1599.804 -> 1599.80. */
    expect_quote(&x, "bluebonnet", 159980, "tobacco_standard", 3);
    mq_arena_free(&x.a);
}

/* Male, 55 last birthday / 56 nearest, diabetes with treated blood
 * pressure, 250,000, 10 years, annual. */
static void test_diabetes_with_blood_pressure(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-pa-male-55-diabetes", &x);
    /* North Star rates diabetes Standard: 250 x base_rate[55-59, false, 10]
     * 2.827 x class_factor[standard] 1.45 x band 250k 1.06 = 1086.27475 +
     * 75.00 = 1161.27475 -> 1161.27 a year. */
    expect_quote(&x, "northstar", 116127, "standard", 12);
    /* Bluebonnet too: 250 x rates[55-59, false, standard, 10] 4.78 x 1.05 =
     * 1254.75 + 50.00 = 1304.75. */
    expect_quote(&x, "bluebonnet", 130475, "standard", 12);
    expect_status(&x, "meridian", MQ_DECLINED, "diabetes");
    expect_status(&x, "heartland", MQ_DECLINED, "diabetes");
    expect_status(&x, "laurel", MQ_DECLINED, "diabetes");
    expect_status(&x, "beacon", MQ_DECLINED, "diabetes");
    /* quoted first, cheapest first, then the declines */
    assert_true(index_of(&x, "northstar") < index_of(&x, "bluebonnet"));
    assert_true(index_of(&x, "bluebonnet") < index_of(&x, "beacon"));
    mq_arena_free(&x.a);
}

/* Self-declared preferred_plus at 70 in 212 lb (male, 40, 750,000, 25 years,
 * monthly): honoured as given, capped at the carrier's own class, or ignored. */
static void test_self_declared_class(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-oh-male-40-self-declared", &x);
    /* Heartland takes it as given (it agrees with tobacco false) although its
     * build chart says standard_plus: age_curve.t25 at 40 = 0.75 x male 1.28
     * (interpolated between 35 and 45) x 0.85 = 0.816 -> 0.82; 750 x 0.82 x
     * 1.00 + 55.00 = 670.00; x 0.085 = 56.95. */
    expect_quote(&x, "heartland", 5695, "preferred_plus", 1);
    /* Meridian honours it only when no better than its own standard_plus
     * (212 lb is over 209 for preferred, within 223): standard_plus.
     * rates.csv band_3 [40-44, false, standard_plus, 25] = 1.50; 750 x 1.50 +
     * 60.00 = 1185.00; x 0.0875 = 103.6875 -> 103.69. */
    expect_quote(&x, "meridian", 10369, "standard_plus", 1);
    /* Laurel likewise, its chart gives preferred (212 lb is its limit):
     * 750 x 0.946 x term[25, 18-44] 1.30 x 1.00 x 1.00 = 922.35 + 65.00 =
     * 987.35; x 0.0865 = 85.405775 -> 85.41. */
    expect_quote(&x, "laurel", 8541, "preferred", 1);
    /* North Star ignores it: preferred. 750 x 1.232 x 1.00 x 1.00 + 75.00 =
     * 999.00; x 0.090 = 89.91. */
    expect_quote(&x, "northstar", 8991, "preferred", 1);
    /* Beacon ignores it: standard (212 lb is over its 209 for preferred). */
    expect_quote(&x, "beacon", 13043, "standard", 1);
    expect_status(&x, "bluebonnet", MQ_UNAVAILABLE, "not 25 years");
    mq_arena_free(&x.a);
}

/* Female, 52, a 30-year term, 300,000, semiannual: only Laurel issues
 * 30-year term past 50; her declared preferred_plus is better than Laurel's
 * preferred (165 lb at 64 in, preferred_plus ends at 163). */
static void test_thirty_year_at_52(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-pa-female-52-thirty-year", &x);
    /* 300 x base_rate[50-54, true] 2.013 x term[30, 45-55] 1.78 x 1.00 x band
     * 250k-499,999 1.10 = 1182.4362 + 65.00 = 1247.4362; x 0.5200 =
     * 648.666824 -> 648.67 each half year. */
    expect_quote(&x, "laurel", 64867, "preferred", 6);
    static const char *const others[] = {"meridian", "northstar", "heartland", "bluebonnet",
                                         "beacon"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        expect_status(&x, others[i], MQ_UNAVAILABLE, "30-year");
    mq_arena_free(&x.a);
}

/* Male, born 1955-08-01: 70 at the last birthday, 71 at the nearest.
 * 100,000, 10 years, annual; treated cholesterol: preferred at best. */
static void test_age_basis_at_70(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-oh-male-70-ten-year", &x);
    /* Heartland (nearest, 71) issues 10-year only to 70. */
    expect_status(&x, "heartland", MQ_UNAVAILABLE, "10-year term to age 70");
    expect_status(&x, "beacon", MQ_UNAVAILABLE, "to age 60");
    /* North Star (last birthday, 70): 100 x base_rate[70-75, false, 10]
     * 20.819 x 1.00 x band 100k-249,999 1.20 = 2498.28 + 75.00 = 2573.28. */
    expect_quote(&x, "northstar", 257328, "preferred", 12);
    /* Meridian (nearest, 71): rates.csv band_1 [70-75, false, preferred, 10]
     * = 27.47; 100 x 27.47 + 60.00 = 2807.00. */
    expect_quote(&x, "meridian", 280700, "preferred", 12);
    /* Laurel (nearest, 71): 100 x base_rate[70-75, false] 43.131 x term[10,
     * 60-75] 0.54 x 1.00 x band 1.30 = 3027.7962 + 65.00 = 3092.7962 ->
     * 3092.80. */
    expect_quote(&x, "laurel", 309280, "preferred", 12);
    mq_arena_free(&x.a);
}

/* Female, born 2008-09-15, on 2026-04-01: 17 at the last birthday, 18 at the
 * nearest (6 whole months past). The carriers that count the nearest birthday
 * and issue from 18 quote her; the last-birthday ones are unavailable. The
 * request used to be refused outright ("the applicant is 17"). 500,000, 20
 * years, monthly; 66 in 140 lb, no tobacco, no health history. */
static void test_nearest_birthday_at_18(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-oh-female-17-nearest-18", &x);
    /* Heartland: curve t20 at 18 0.159 x 0.85 = 0.13515 -> 0.14 per 1,000;
     * 500 x 0.14 + 55.00 = 125.00 x 0.085 = 10.625 -> 10.63. */
    expect_quote(&x, "heartland", 1063, "preferred_plus", 1);
    /* Meridian: rates.csv band_3 [18-24, female, preferred_plus, 20] 0.17;
     * 500 x 0.17 + 60.00 = 145.00 x 0.0875 = 12.6875 -> 12.69. */
    expect_quote(&x, "meridian", 1269, "preferred_plus", 1);
    /* Laurel: 500 x 0.202 x 1.00 x 0.83 x 1.00 = 83.83 + 65.00 = 148.83
     * x 0.0865 = 12.873795 -> 12.87. */
    expect_quote(&x, "laurel", 1287, "preferred_plus", 1);
    expect_status(&x, "beacon", MQ_UNAVAILABLE, "from age 20");
    expect_status(&x, "bluebonnet", MQ_UNAVAILABLE, "(age last birthday), from age 18");
    expect_status(&x, "northstar", MQ_UNAVAILABLE, "(age last birthday), from age 18");
    assert_int_equal(index_of(&x, "heartland"), 0);
    assert_int_equal(index_of(&x, "meridian"), 1);
    assert_int_equal(index_of(&x, "laurel"), 2);
    mq_arena_free(&x.a);
}

/* Female, born 1992-02-29, on 2026-08-31: 34 at the last birthday (1 March
 * 2026, a common year) and 34 at the nearest too: six whole months past
 * 1 March is 1 September. The nearest-birthday carriers used to count from
 * 28 February and rate her at 35. Otherwise as the 35-year-old above. */
static void test_nearest_birthday_29_february(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-oh-female-29-february", &x);
    /* Beacon (last 34): 500 x base_rate[30-34, female, 20] 0.348 x 0.86 =
     * 149.64; x 0.085 = 12.7194 -> 12.72. */
    expect_quote(&x, "beacon", 1272, "preferred_plus", 1);
    /* Meridian (nearest 34): band_3 [30-34, true, preferred_plus, 20] 0.27;
     * 500 x 0.27 + 60.00 = 195.00; x 0.0875 = 17.0625 -> 17.06. */
    expect_quote(&x, "meridian", 1706, "preferred_plus", 1);
    /* Heartland (nearest 34): t20 between 30 (0.263) and 35 (0.372) at 34 =
     * 0.3502 x 0.85 = 0.29767 -> 0.30; 500 x 0.30 + 55.00 = 205.00; x 0.085 =
     * 17.425 -> 17.43. */
    expect_quote(&x, "heartland", 1743, "preferred_plus", 1);
    /* Laurel (nearest 34): 500 x 0.329 x 1.00 x 0.83 x 1.00 = 136.535 + 65.00
     * = 201.535; x 0.0865 = 17.4327775 -> 17.43. */
    expect_quote(&x, "laurel", 1743, "preferred_plus", 1);
    /* North Star (last 34): 500 x 0.345 x 0.86 = 148.35 + 75.00 = 223.35;
     * x 0.090 = 20.1015 -> 20.10. */
    expect_quote(&x, "northstar", 2010, "preferred_plus", 1);
    /* Bluebonnet: 500 x 0.36 + 50.00 = 230.00; x 0.090 = 20.70. */
    expect_quote(&x, "bluebonnet", 2070, "preferred", 1);
    mq_arena_free(&x.a);
}

/* Female, 48, 65 in 235 lb: beyond every build chart but Bluebonnet's
 * (standard to 240 lb at 65 in). 250,000, 20 years, monthly. */
static void test_heavy_build(void **state)
{
    (void)state;
    rated x;
    rate_shopper("life-tx-female-48-heavy-build", &x);
    /* 250 x rates[45-49, true, standard, 20] 1.90 x band 1.05 = 498.75 +
     * 50.00 = 548.75; x 0.090 = 49.3875 -> 49.39. */
    expect_quote(&x, "bluebonnet", 4939, "standard", 1);
    static const char *const others[] = {"meridian", "northstar", "heartland", "laurel", "beacon"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        expect_status(&x, others[i], MQ_DECLINED, "build chart");
    mq_arena_free(&x.a);
}

/* Parses the 35-year-old's request with its address moved to `state` (and
 * a ZIP code of that state), its effective date set to `effective` and the
 * carriers asked limited to `carriers` (a JSON array, or NULL for all). */
static void rate_moved(const char *state, const char *zip, const char *effective,
                       const char *carriers, rated *x)
{
    memset(x, 0, sizeof *x);
    mq_arena_init(&x->a, 0);
    json_t *req = ts_load_json(SHOPPERS "life-oh-female-35-preferred.json");
    ts_set_path(req, "applicant.address.state", json_string(state));
    ts_set_path(req, "applicant.address.zip", json_string(zip));
    ts_set_path(req, "effective_date", json_string(effective));
    if (carriers)
        ts_set_path(req, "carriers", ts_json(carriers));
    char *text = json_dumps(req, 0);
    assert_non_null(text);
    ts_parse_request(text, strlen(text), &x->a, &x->in, "moved request");
    free(text);
    json_decref(req);
    assert_true(mq_rate_all(engine, &x->in, &(mq_rate_opts){0}, &x->a, &x->res, &x->n));
}

static void expect_reason(const rated *x, const char *carrier, const char *reason)
{
    const mq_result *r = find(x, carrier);
    assert_int_equal(r->status, MQ_UNAVAILABLE);
    assert_int_equal(r->nreasons, 1);
    assert_string_equal(r->reasons[0], reason);
}

/* A carrier that does not write term life where or when the shopper asks
 * says so in words ("term life"), not with the request's line code
 * ("term_life"), as the other lines' reasons read "home insurance". */
static void test_not_written_reasons(void **state)
{
    (void)state;
    rated x;
    rate_moved("NY", "10001", "2026-04-01", NULL, &x);
    expect_reason(&x, "beacon",
                  "Beacon Direct Life Insurance Company does not write term life insurance in NY");
    mq_arena_free(&x.a);

    rate_moved("OH", "43215", "2026-04-01", "[\"harbor\", \"meridian\"]", &x);
    expect_reason(&x, "harbor", "Harbor Mutual does not write term life insurance in OH");
    expect_quote(&x, "meridian", 2231, "preferred_plus", 1);
    mq_arena_free(&x.a);

    rate_moved("OH", "43215", "2025-12-31", NULL, &x);
    expect_reason(&x, "northstar",
                  "North Star Mutual Life Insurance Company has no term life "
                  "rates in effect on 2025-12-31");
    mq_arena_free(&x.a);

    /* A plan rated directly (as a saved quote's plan version is) in a state
     * it does not write. */
    rate_moved("NY", "10001", "2026-04-01", NULL, &x);
    const mq_plan *p = mq_engine_find_version(engine, "laurel-term-life", "2026-01-01");
    assert_non_null(p);
    mq_result r;
    assert_true(mq_rate_plan(p, &x.in, &(mq_rate_opts){0}, &x.a, &r));
    assert_int_equal(r.status, MQ_UNAVAILABLE);
    assert_int_equal(r.nreasons, 1);
    assert_string_equal(r.reasons[0],
                        "Laurel Highlands Life Insurance Company does not write term life "
                        "insurance in NY");
    mq_arena_free(&x.a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_female_35_preferred),
        cmocka_unit_test(test_male_45_smoker),
        cmocka_unit_test(test_diabetes_with_blood_pressure),
        cmocka_unit_test(test_self_declared_class),
        cmocka_unit_test(test_thirty_year_at_52),
        cmocka_unit_test(test_age_basis_at_70),
        cmocka_unit_test(test_nearest_birthday_at_18),
        cmocka_unit_test(test_nearest_birthday_29_february),
        cmocka_unit_test(test_heavy_build),
        cmocka_unit_test(test_not_written_reasons),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
