/* test_lines_property.c -- the home (HO-3) and renters (HO-4) carriers in plans/, to the cent.
 *
 * Loads every plan under plans/ with mq_engine_load, parses the shopper
 * requests of tests/data/shoppers/home-*.json and renters-*.json with
 * mq_req_parse (as the front doors do), rates them with mq_rate_all and
 * checks statuses, totals and coverage premiums. The expected numbers were
 * worked out by hand from each plan's README.md and CSV tables, in exact
 * decimals, independently of the engine; the arithmetic is in the comments
 * here and in full in the shopper's .expect.md beside its request. Further
 * tests change one fact of a request (a ZIP outside the state, a Coverage A
 * or C beyond the tables, a deductible not offered, a third water claim) and
 * check each carrier's status and reason, or the minimum premium. Run from
 * the repository root (meson's workdir).
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

/* ---- Helpers ------------------------------------------------------------ */

/* One rated request: every carrier's result, in the contract's order. */
typedef struct quote {
    mq_arena arena;
    mq_input in;
    mq_result *res;
    int n;
} quote;

/* Replaces the first `from` in `text` by `to` (a one-fact change of a request). */
static char *replace(char *text, const char *from, const char *to)
{
    char *at = strstr(text, from);
    if (!at)
        fail_msg("\"%s\" is not in the request", from);
    size_t head = (size_t)(at - text), nfrom = strlen(from), nto = strlen(to);
    char *out = malloc(strlen(text) - nfrom + nto + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    memcpy(out + head, to, nto);
    strcpy(out + head + nto, at + nfrom);
    free(text);
    return out;
}

/* Parses `text` with mq_req_parse and rates it against every carrier. */
static void rate_text(quote *q, const char *text, size_t len, const char *what)
{
    mq_arena_init(&q->arena, 0);
    ts_parse_request(text, len, &q->arena, &q->in, what);
    assert_true(mq_rate_all(engine, &q->in, &(mq_rate_opts){0}, &q->arena, &q->res, &q->n));
}

/* Rates shopper `name` (tests/data/shoppers/NAME.json), optionally changed
 * by replacing `from` with `to`. */
static void rate_shopper(quote *q, const char *name, const char *from, const char *to)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof path, SHOPPERS "%s.json", name);
    char *text = ts_read_file(path, &len);
    if (from) {
        text = replace(text, from, to);
        len = strlen(text);
    }
    rate_text(q, text, len, path);
    free(text);
}

static void done(quote *q)
{
    mq_arena_free(&q->arena);
}

static const mq_result *result_of(const quote *q, const char *carrier)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->res[i].carrier_id, carrier) == 0)
            return &q->res[i];
    fail_msg("no result for carrier %s", carrier);
    return NULL;
}

static void print_reasons(const mq_result *r)
{
    for (int i = 0; i < r->nreasons; i++)
        print_error("%s: %s\n", r->carrier_id, r->reasons[i]);
}

/* The carrier's result, which must be quoted with this total. */
static const mq_result *quoted(const quote *q, const char *carrier, int64_t total_cents)
{
    const mq_result *r = result_of(q, carrier);
    if (r->status != MQ_QUOTED) {
        print_reasons(r);
        fail_msg("%s is %s, expected quoted", carrier, mq_status_name(r->status));
    }
    assert_int_equal(r->term_months, 12);
    assert_cents(r->total_cents, total_cents);
    return r;
}

/* The carrier's result, which must have this status and a reason containing `word`. */
static void not_quoted(const quote *q, const char *carrier, mq_status status, const char *word)
{
    const mq_result *r = result_of(q, carrier);
    if (r->status != status) {
        print_reasons(r);
        fail_msg("%s is %s, expected %s", carrier, mq_status_name(r->status),
                 mq_status_name(status));
    }
    assert_int_equal(r->nreasons, 1);
    if (!strstr(r->reasons[0], word))
        fail_msg("%s's reason \"%s\" does not say \"%s\"", carrier, r->reasons[0], word);
    assert_int_equal(r->ncoverages, 0);
}

/* Premium in cents of coverage `code` (property, liability, med_pay); -1 when absent. */
static int64_t premium_of(const quote *q, const mq_result *r, const char *code)
{
    int c = mq_coverage_find(mq_line_get(q->in.line), code);
    assert_true(c >= 0);
    for (int i = 0; i < r->ncoverages; i++)
        if (r->coverages[i].coverage == c)
            return r->coverages[i].cents;
    return -1;
}

static void assert_fees(const mq_result *r, int64_t fees_cents)
{
    assert_cents(r->fees_cents, fees_cents);
    assert_false(r->minimum_applied);
}

/* The quoted results come first, in ascending total. */
static void assert_order(const quote *q, const char *const *carriers, int n)
{
    assert_true(q->n >= n);
    for (int i = 0; i < n; i++) {
        if (strcmp(q->res[i].carrier_id, carriers[i]) != 0)
            fail_msg("result %d is %s, expected %s", i, q->res[i].carrier_id, carriers[i]);
        assert_int_equal(q->res[i].status, MQ_QUOTED);
    }
    if (q->n > n)
        assert_int_not_equal(q->res[n].status, MQ_QUOTED);
}

/* ---- Home (HO-3) ---------------------------------------------------------- */

/* 300,000 frame home in Upper Arlington (43221, territory 1), built 1998 (age
 * 28), roof 2015 (age 11), protection class 3, smoke detectors and alarm,
 * paperless, no claims; liability 300,000, med pay 5,000, 1,000 deductible. */
static void test_home_oh_columbus_frame(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-oh-columbus-frame", NULL, NULL);

    /* The parser fills B, C, D at 10%, 50%, 20% of A. */
    const double *pol = mq_input_row(&q.in, MQ_ENT_POLICY, 0);
    assert_true(pol[MQ_HP_COV_B] == 30000 && pol[MQ_HP_COV_C] == 150000 &&
                pol[MQ_HP_COV_D] == 60000);

    /* Keystone (keystone-oh-home):
     *   property 1380.00 (base_rate[1]) x 1.000 (AOI at 300,000, a table point)
     *     x 0.95 (class 1-3 frame) x 1.06 (home 21-30) x 1.06 (roof 11-15)
     *     x 1.00 (asphalt shingle) x 1.00 (1,000 deductible) x 1.00 (no claims)
     *     + 0 (C is exactly 50% of A)
     *     x (1 - 0.23) (loss-free 10 + smoke 4 + alarm 6 + paperless 3; cap 25)
     *     = 1134.240492 -> 1134.00
     *   liability 300,000: 32.00; med pay 5,000: 15.00
     *   1181.00 (minimum 350 not applied) + 25.00 policy fee = 1206.00 */
    const mq_result *k = quoted(&q, "keystone", 120600);
    assert_cents(premium_of(&q, k, "property"), 113400);
    assert_cents(premium_of(&q, k, "liability"), 3200);
    assert_cents(premium_of(&q, k, "med_pay"), 1500);
    assert_fees(k, 2500);

    /* Summit Direct (summit-oh-home, to the cent, no fee):
     *   property 1050.00 x 1.12 (territory 1) x 1.13 (AOI 300,000) x 0.94 (class 3)
     *     x 1.00 (frame) x 1.05 (home 26-40) x 1.08 (roof 10-14) x 1.00 x 1.00
     *     x 1.00 (claims [0, 0]) x (1 - 0.15) (paperless 5 + smoke 3 + alarm 7)
     *     = 1204.052986 -> 1204.05
     *   liability 27.00 x 0.95 (paperless) = 25.65; med pay 13.00
     *   total 1242.70 */
    const mq_result *s = quoted(&q, "summit", 124270);
    assert_cents(premium_of(&q, s, "property"), 120405);
    assert_cents(premium_of(&q, s, "liability"), 2565);
    assert_fees(s, 0);

    /* Hearthstone 1105 + 30 + 13 + 20 fee = 1168.00; Buckeye 1476 + 26 + 10
     * + 15 membership fee = 1527.00 (see the .expect.md). */
    quoted(&q, "hearthstone", 116800);
    quoted(&q, "buckeye", 152700);
    not_quoted(&q, "lonestar", MQ_UNAVAILABLE, "does not write home insurance in OH");
    static const char *const order[] = {"hearthstone", "keystone", "summit", "buckeye"};
    assert_order(&q, order, 4);
    done(&q);
}

/* 300,000 frame home in Houston (77096: territory 1, wind zone 2), built 2006,
 * roof 2013, class 2, 2,500 deductible, one hail claim 2022-04-20 (4 whole
 * years before 2026-05-01). */
static void test_home_tx_houston_hail(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-tx-houston-hail", NULL, NULL);

    /* Lone Star (lonestar-tx-home), the wind/hail deductible surcharge:
     *   property 2400.00 (base_rate[1]) x 1.150 (AOI 300,000) x 1.00 (class 1-4 frame)
     *     x 1.00 (home 15-29) x 1.10 (roof 11-15) x 1.00 (asphalt shingle)
     *     x 0.88 (2,500 deductible) x 1.20 (wind_hail[zone 2, 2,500])
     *     x 1.10 (hail claim 3-4 years: 10%) x (1 - 0.10) (smoke 3 + alarm 5 + paperless 2)
     *     = 3173.95584 -> 3174.00
     *   liability 300,000: 42.00; med pay 1,000: 7.00
     *   3223.00 + 40.00 policy fee = 3263.00 */
    const mq_result *l = quoted(&q, "lonestar", 326300);
    assert_cents(premium_of(&q, l, "property"), 317400);
    assert_cents(premium_of(&q, l, "liability"), 4200);
    assert_cents(premium_of(&q, l, "med_pay"), 700);
    assert_fees(l, 4000);

    /* Keystone Texas: 3150 x 1.000 x 0.95 x 1.00 x 1.06 x 1.00 x 0.88 x 1.08 (hail 3-4
     * years: 8% in Texas) x 0.87 = 2622.803198 -> 2623; + 40 + 6 + 25 = 2694.00.
     * Summit: hail 37-60 months ago is claims_factor[0, 1] = 1.08; total 3023.32. */
    quoted(&q, "keystone", 269400);
    quoted(&q, "summit", 302332);
    static const char *const order[] = {"keystone", "summit", "lonestar"};
    assert_order(&q, order, 3);
    done(&q);
}

/* Rural Ohio (43907, territory 5), 1972 frame home, 1999 roof (27 years),
 * protection class 10, Coverage A 180,000 (between the AOI table's points). */
static void test_home_oh_rural_old_roof(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-oh-rural-old-roof", NULL, NULL);
    not_quoted(&q, "summit", MQ_DECLINED, "more than 20 years old");
    not_quoted(&q, "hearthstone", MQ_DECLINED, "protection class 10");

    /* Buckeye (writes class 10 and roofs up to 30 years):
     *   property 980.00 x 0.92 (territory 5)
     *     x 0.916 (AOI: 0.790 + (180,000 - 150,000) / 50,000 x (1.000 - 0.790), unrounded)
     *     x 1.48 (class 10 frame) x 1.10 (home 40-59) x 1.32 (roof 26-30)
     *     x 1.00 (asphalt) x 1.00 (1,000 deductible) x 1.00 (no claims)
     *     x (1 - 0.05) (smoke detectors) = 1686.014533 -> 1686.00
     *   liability 100,000: 18.00; med pay 1,000: 5.00
     *   1709.00 + 15.00 membership fee = 1724.00 */
    const mq_result *b = quoted(&q, "buckeye", 172400);
    assert_cents(premium_of(&q, b, "property"), 168600);
    assert_fees(b, 1500);

    /* Keystone: 1210 x 0.744 (AOI 0.660 + 0.6 x 0.140) x 1.62 (class 10 frame) x 1.20
     * (home 51+) x 1.40 (roof 26+) x 1.00 x 1.00 x 1.00 x (1 - 0.14) (loss-free 10 +
     * smoke 4) = 2107.080138 -> 2107; + 22 + 6 + 25 = 2160.00 */
    const mq_result *k = quoted(&q, "keystone", 216000);
    assert_cents(premium_of(&q, k, "property"), 210700);
    done(&q);
}

/* Pittsburgh (15217, territory 3) masonry home, 1955, Coverage A 350,000 and
 * C 200,000 (above the 50% default), liability 500,000; water claim
 * 2024-02-10 (2 years) and theft 2021-09-03 (4 years); applicant 64, 65 at
 * the nearest birthday. */
static void test_home_pa_pittsburgh_water(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-pa-pittsburgh-water", NULL, NULL);

    /* Summit Direct (summit-pa-home):
     *   property 1000.00 x 1.08 (territory 3) x 1.255 (AOI half way from 300,000 at 1.130
     *     to 400,000 at 1.380) x 0.92 (class 2) x 0.92 (masonry) x 1.16 (home 41-70)
     *     x 1.08 (roof 10-14) x 0.97 (architectural shingle) x 1.00 (1,000 deductible)
     *     x 1.30 (claims_factor[1 in 36 months, 1 in 37-60 months])
     *     x (1 - 0.09) (mature homeowner 6, age_nearest 65 >= 55; smoke 3)
     *     = 1649.230507 -> 1649.23
     *   liability 500,000: 34.00 x 0.94 (mature homeowner) = 31.96; med pay 13.00
     *   total 1694.19 */
    const mq_result *s = quoted(&q, "summit", 169419);
    assert_cents(premium_of(&q, s, "property"), 164923);
    assert_cents(premium_of(&q, s, "liability"), 3196);
    assert_cents(premium_of(&q, s, "med_pay"), 1300);

    /* Keystone (keystone-pa-home), increased contents and claims by type and age:
     *   property 1300.00 (base_rate[3]) x 1.090 (AOI 350,000) x 0.88 (class 1-3 masonry)
     *     x 1.20 (home 51+) x 1.06 (roof 11-15) x 0.98 (architectural shingle) x 1.00
     *     x 1.28 (1 + water 0-2 years 0.20 + theft 3-4 years 0.08) = 1989.645386
     *     + 87.50 (C 200,000 - 175,000 = 25,000 over 50% of A, at 3.50 per 1,000)
     *     = 2077.145386 x (1 - 0.04) (smoke; no loss-free discount) = 1994.059570 -> 1994.00
     *   liability 500,000: 41.00; med pay 15.00; 2050.00 + 25.00 = 2075.00 */
    const mq_result *k = quoted(&q, "keystone", 207500);
    assert_cents(premium_of(&q, k, "property"), 199400);
    assert_cents(premium_of(&q, k, "liability"), 4100);

    /* Hearthstone: water 40% (0-2 years) + theft 8% (3-4 years); total 2144.00. */
    quoted(&q, "hearthstone", 214400);
    done(&q);
}

/* Philadelphia row home effective 2026-02-15, two water claims in 36 months. */
static void test_home_pa_philadelphia_rowhome(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-pa-philadelphia-rowhome", NULL, NULL);
    /* Hearthstone's first Pennsylvania plan starts 2026-03-01. */
    not_quoted(&q, "hearthstone", MQ_UNAVAILABLE, "no home rates in effect on 2026-02-15");
    not_quoted(&q, "summit", MQ_DECLINED, "two or more claims in the last three years");

    /* Keystone (keystone-pa-home), no med pay chosen:
     *   property 1520.00 (base_rate[1]) x 0.846 (AOI 0.800 + 0.4 x 0.115)
     *     x 0.88 (class 1-3 masonry) x 1.20 (home 101: 51+) x 1.00 (roof 7)
     *     x 1.08 (flat roof) x 1.10 (500 deductible) x 1.40 (two water claims, 20% each)
     *     x (1 - 0.04) (smoke detectors) = 2168.171236 -> 2168.00
     *   liability 100,000: 22.00; 2190.00 + 25.00 = 2215.00 */
    const mq_result *k = quoted(&q, "keystone", 221500);
    assert_cents(premium_of(&q, k, "property"), 216800);
    assert_cents(premium_of(&q, k, "med_pay"), -1);
    assert_int_equal(k->ncoverages, 2);
    done(&q);
}

/* New (2025) masonry-veneer home in Dallas with a metal roof, liability 500,000. */
static void test_home_tx_dallas_new(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-tx-dallas-new", NULL, NULL);
    not_quoted(&q, "lonestar", MQ_UNAVAILABLE, "personal liability of 500000");

    /* Summit Direct's new-home discount and Texas hail credit:
     *   property 2300.00 x 1.30 (territory 3) x 1.50 (AOI 400,000-500,000 half way)
     *     x 0.94 (class 3) x 0.94 (masonry veneer) x 0.80 (home age 1) x 0.94 (roof 0-4)
     *     x 0.80 (metal) x 0.90 (2,500) x 1.00 x (1 - 0.25) (paperless 5 + smoke 3 +
     *     alarm 7 + sprinklers 10) = 1609.273112 -> 1609.27
     *   liability 41.00 x 0.95 = 38.95; med pay 13.00; total 1661.22 */
    const mq_result *s = quoted(&q, "summit", 166122);
    assert_cents(premium_of(&q, s, "property"), 160927);

    /* Keystone: AOI 1.175 + 0.5 x 0.165 = 1.2575, rounded half up to 1.258; discounts
     * 31% capped at 25%; property 1563, total 1653.00. */
    const mq_result *k = quoted(&q, "keystone", 165300);
    assert_cents(premium_of(&q, k, "property"), 156300);
    done(&q);
}

/* ---- Renters (HO-4) ------------------------------------------------------- */

/* Columbus (43201, territory 1), frame, class 3, floor 2, smoke detectors,
 * paperless; personal property 30,000, liability 100,000, med pay 1,000. */
static void test_renters_oh_columbus(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "renters-oh-columbus", NULL, NULL);
    const double *pol = mq_input_row(&q.in, MQ_ENT_POLICY, 0);
    assert_true(pol[MQ_HP_COV_D] == 6000); /* loss of use: 20% of C by default */

    /* Keystone (keystone-oh-renters):
     *   property 118.00 x 1.110 (AOI 30,000) x 1.00 (class 1-6 frame) x 1.00 (500)
     *     x 1.00 (no claims) x (1 - 0.16) (loss-free 8 + smoke 5 + paperless 3)
     *     = 110.0232 -> 110.00
     *   liability 14.00, med pay 4.00; 128.00 + 10.00 policy fee = 138.00 */
    const mq_result *k = quoted(&q, "keystone", 13800);
    assert_cents(premium_of(&q, k, "property"), 11000);
    assert_cents(premium_of(&q, k, "liability"), 1400);
    assert_cents(premium_of(&q, k, "med_pay"), 400);
    assert_fees(k, 1000);

    /* Hearthstone: 105 x 1.100 x 1.00 x 1.00 x 1.00 x (1 - 0.07) = 107.415 -> 107;
     * + 13 + 4 + 10 = 134.00.
     * Summit: 128 x 1.05 x 1.000 x 1.00 (floor 2) x 1.00 x 1.00 x 1.00 x (1 - 0.08)
     * = 123.648 -> 123.65; liability 12 x 0.95 = 11.40; med 3.00; 138.05. */
    quoted(&q, "hearthstone", 13400);
    const mq_result *s = quoted(&q, "summit", 13805);
    assert_cents(premium_of(&q, s, "property"), 12365);
    static const char *const order[] = {"hearthstone", "keystone", "summit"};
    assert_order(&q, order, 3);
    not_quoted(&q, "lonestar", MQ_UNAVAILABLE, "does not write renters insurance in OH");
    done(&q);
}

/* Cleveland (44113, territory 2), masonry, class 4, ground floor, 250 deductible;
 * water claims 2022-06-10 (3 years) and 2025-03-02 (1 year, a repeat water loss). */
static void test_renters_oh_cleveland_water(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "renters-oh-cleveland-water", NULL, NULL);

    /* Hearthstone (hearthstone-oh-renters), water claims weighed hardest:
     *   claim 2022-06-10: water 3-4 years 0.20, no earlier water claim
     *   claim 2025-03-02: water 0-2 years 0.35 + 0.25 repeat (an earlier water claim
     *     within five years, found through self.date) = 0.60
     *   property 120.00 x 1.200 (AOI half way from 30,000 at 1.100 to 40,000 at 1.300)
     *     x 0.95 (class 1-6 masonry) x 1.10 (250 deductible) x 1.80 (1 + 0.80)
     *     x (1 - 0.07) (smoke 4 + paperless 3) = 251.90352 -> 252.00
     *   liability 300,000: 19.00; med pay 4.00; 275.00 + 10.00 = 285.00 */
    const mq_result *h = quoted(&q, "hearthstone", 28500);
    assert_cents(premium_of(&q, h, "property"), 25200);

    /* Keystone: 132 x 1.215 x 0.95 x 1.12 x 1.30 (10% + 20%) x 0.92 = 204.09 -> 204;
     * + 21 + 4 + 10 = 239.00. Summit: claims_factor[1, 1] = 1.30, floor 1.10; 251.76. */
    quoted(&q, "keystone", 23900);
    quoted(&q, "summit", 25176);
    done(&q);
}

/* Austin (78704: territory 4, wind zone 4), frame, class 3, floor 3, smoke
 * detectors and sprinklers, applicant 56; personal property 40,000. */
static void test_renters_tx_austin(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "renters-tx-austin", NULL, NULL);

    /* Lone Star (lonestar-tx-renters):
     *   property 125.00 x 1.00 (wind zone 4)
     *     x 1.293 (AOI 1.200 + (40,000 - 35,000) / 15,000 x 0.280 = 1.29333..., rounded)
     *     x 1.00 (frame) x 1.00 (class 1-8) x 0.88 (1,000 deductible) x 1.00
     *     x (1 - 0.08) (sprinklers 5 + smoke 3) = 130.8516 -> 131.00
     *   liability 300,000: 24.00; med pay 5.00; 160.00 + 20.00 = 180.00 */
    const mq_result *l = quoted(&q, "lonestar", 18000);
    assert_cents(premium_of(&q, l, "property"), 13100);
    assert_fees(l, 2000);

    /* Summit Direct: 150 x 1.00 x 1.175 (AOI 30,000-50,000) x 1.00 (floor 3) x 1.00
     * x 0.85 (1,000) x 1.00 x (1 - 0.22) (paperless 5 + mature 6 + smoke 3 + sprinklers
     * 8) = 116.85375 -> 116.85; liability 21 x 0.89 = 18.69; med 3.00; total 138.54. */
    const mq_result *s = quoted(&q, "summit", 13854);
    assert_cents(premium_of(&q, s, "property"), 11685);
    assert_cents(premium_of(&q, s, "liability"), 1869);
    quoted(&q, "keystone", 16600);
    not_quoted(&q, "hearthstone", MQ_UNAVAILABLE, "does not write renters insurance in TX");
    done(&q);
}

/* Houston ground floor, water and theft claims both within 36 months, no med pay. */
static void test_renters_tx_houston_ground(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "renters-tx-houston-ground", NULL, NULL);
    not_quoted(&q, "summit", MQ_DECLINED, "two or more claims in the last three years");

    /* Keystone Texas: 168.00 x 0.870 (AOI 20,000) x 1.00 (class 1-6 frame) x 1.00 (500)
     * x 1.40 (water 0-2 years 20% + theft 0-2 years 20%) x 1.00 (no discount)
     * = 204.624 -> 205.00; liability 16.00; 221.00 + 10.00 = 231.00 */
    const mq_result *k = quoted(&q, "keystone", 23100);
    assert_cents(premium_of(&q, k, "property"), 20500);
    assert_cents(premium_of(&q, k, "med_pay"), -1);

    /* Lone Star: 150 x 1.10 (zone 2) x 0.900 x 1.00 x 1.00 x 1.00 x 1.40 (water 15% +
     * theft 25%) = 207.9 -> 208; + 16 + 20 = 244.00 */
    const mq_result *l = quoted(&q, "lonestar", 24400);
    assert_cents(premium_of(&q, l, "property"), 20800);
    done(&q);
}

/* ---- One changed fact ------------------------------------------------------ */

/* An Ohio address with a Pennsylvania ZIP: no Ohio territory, every Ohio plan unavailable. */
static void test_zip_outside_state(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "renters-oh-columbus", "\"zip\": \"43201\"", "\"zip\": \"15217\"");
    not_quoted(&q, "keystone", MQ_UNAVAILABLE, "ZIP 15217, outside Ohio");
    not_quoted(&q, "summit", MQ_UNAVAILABLE, "ZIP 15217, outside Ohio");
    not_quoted(&q, "hearthstone", MQ_UNAVAILABLE, "ZIP 15217, outside Ohio");
    done(&q);
}

/* Coverage A 1,200,000: beyond Summit's, Hearthstone's (1,000,000) and Buckeye's
 * (750,000) AOI tables -- declined -- and between Keystone's last two points. */
static void test_coverage_a_outside_tables(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-oh-columbus-frame", "\"dwelling\": 300000", "\"dwelling\": 1200000");
    not_quoted(&q, "summit", MQ_DECLINED, "100,000 to 1,000,000");
    not_quoted(&q, "hearthstone", MQ_DECLINED, "150,000 to 1,000,000");
    not_quoted(&q, "buckeye", MQ_DECLINED, "75,000 to 750,000");
    /* Keystone: AOI 2.150 + (1,200,000 - 1,000,000) / 500,000 x (2.900 - 2.150) = 2.450;
     * 1380 x 2.450 x 0.95 x 1.06 x 1.06 x 0.77 = 2778.889205 -> 2779; C is 600,000, exactly
     * 50% of A: no increased-contents charge. 2779 + 32 + 15 + 25 = 2851.00 */
    const mq_result *k = quoted(&q, "keystone", 285100);
    assert_cents(premium_of(&q, k, "property"), 277900);
    done(&q);
}

/* A 500 deductible in Texas: Keystone's and Lone Star's Texas manuals start at 1,000. */
static void test_deductible_not_offered(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-tx-houston-hail", "\"deductible\": 2500", "\"deductible\": 500");
    not_quoted(&q, "keystone", MQ_UNAVAILABLE, "500 all-peril deductible in Texas");
    not_quoted(&q, "lonestar", MQ_UNAVAILABLE, "500 deductible");
    not_quoted(&q, "summit", MQ_UNAVAILABLE, "500 deductible");
    done(&q);
}

/* A third water claim in five years: Hearthstone declines; Keystone declines
 * three claims of any kind; Summit two in 36 months. */
static void test_three_water_claims(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "renters-oh-cleveland-water", "\"claims\": [",
                 "\"claims\": [{\"type\": \"water\", \"date\": \"2024-01-05\"},");
    not_quoted(&q, "hearthstone", MQ_DECLINED, "three or more water claims");
    not_quoted(&q, "keystone", MQ_DECLINED, "three or more property claims");
    not_quoted(&q, "summit", MQ_DECLINED, "two or more claims in the last three years");
    done(&q);
}

/* A wood shake roof in Houston: Lone Star's manual declines it ("Wood shake
 * roofs ... are declined"); its roof_covering table has no wood_shake row,
 * and the variables are worked out before the eligibility rules, so the
 * missing row must decline with that reason, not fail as an error. Keystone
 * Texas rates wood shake at 1.30: 3150 x 1.000 x 0.95 x 1.00 x 1.06 x 1.30
 * x 0.88 x 1.08 x 0.87 = 3409.644157 -> 3410; + 40 + 6 + 25 = 3481.00. */
static void test_wood_shake_roof(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "home-tx-houston-hail", "\"roof_type\": \"asphalt_shingle\"",
                 "\"roof_type\": \"wood_shake\"");
    not_quoted(&q, "lonestar", MQ_DECLINED,
               "Lone Star County Mutual does not write homes with a wood shake roof.");
    quoted(&q, "keystone", 348100);
    done(&q);
}

/* Personal property 10,000: the lowest point of Keystone's and Summit's tables,
 * below Hearthstone's (15,000); the minimum premiums apply. */
static void test_minimum_premium(void **state)
{
    (void)state;
    quote q;
    rate_shopper(&q, "renters-oh-columbus", "\"personal_property\": 30000",
                 "\"personal_property\": 10000");
    not_quoted(&q, "hearthstone", MQ_DECLINED, "15,000 to 100,000");

    /* Keystone: 118.00 x 0.620 x 1.00 x 1.00 x 1.00 x (1 - 0.16) = 61.4544 -> 61.00;
     * 61 + 14 + 4 = 79.00, raised to the 100.00 minimum; + 10.00 fee = 110.00 */
    const mq_result *k = result_of(&q, "keystone");
    assert_int_equal(k->status, MQ_QUOTED);
    assert_cents(premium_of(&q, k, "property"), 6100);
    assert_true(k->minimum_applied);
    assert_cents(k->premium_cents, 10000);
    assert_cents(k->total_cents, 11000);

    /* Summit: 128.00 x 1.05 x 0.600 x 1.00 x 1.00 x 1.00 x 1.00 x (1 - 0.08) = 74.1888
     * -> 74.19; + 11.40 + 3.00 = 88.59, raised to the 90.00 minimum; no fee. */
    const mq_result *s = result_of(&q, "summit");
    assert_int_equal(s->status, MQ_QUOTED);
    assert_cents(premium_of(&q, s, "property"), 7419);
    assert_true(s->minimum_applied);
    assert_cents(s->total_cents, 9000);
    done(&q);
}

/* ---- The manuals' own amount-of-insurance examples ------------------------- */

/* Each README works one amount-of-insurance relativity by hand; the shopper of
 * home-oh-columbus-frame (territory 1, class 3 frame, home 28, roof 11,
 * smoke + alarm + paperless, liability 300,000, med pay 5,000) rated at that
 * Coverage A shows it in the premium. */
static void test_readme_aoi_examples_home(void **state)
{
    (void)state;
    quote q;

    /* Keystone (keystone-*-home README): 320,000 is two fifths of the way from
     * 300,000 (1.000) to 350,000 (1.090): 1.036 (the README said "one fifth ...
     * 1.018"). 1380 x 1.036 x 0.95 x 1.06 x 1.06 x 0.77 = 1175.073150 -> 1175;
     * 1175 + 32 + 15 + 25 fee = 1247.00.
     * Summit (summit-*-home README): 320,000 is 1.130 + 0.2 x 0.250 = 1.180,
     * unrounded. 1050 x 1.12 x 1.18 x 0.94 x 1.00 x 1.05 x 1.08 x 0.85
     * = 1257.329667 -> 1257.33; + 25.65 + 13.00 = 1295.98. */
    rate_shopper(&q, "home-oh-columbus-frame", "\"dwelling\": 300000", "\"dwelling\": 320000");
    const mq_result *k = quoted(&q, "keystone", 124700);
    assert_cents(premium_of(&q, k, "property"), 117500);
    const mq_result *s = quoted(&q, "summit", 129598);
    assert_cents(premium_of(&q, s, "property"), 125733);
    done(&q);

    /* Hearthstone (hearthstone-*-home README): 350,000 is half way from 1.000 to
     * 1.210: 1.105. 1290 x 1.105 x 0.94 x 1.00 x 1.06 x 1.00 x 1.00 x 0.86
     * = 1221.473807 -> 1221; + 30 + 13 + 20 fee = 1284.00. */
    rate_shopper(&q, "home-oh-columbus-frame", "\"dwelling\": 300000", "\"dwelling\": 350000");
    const mq_result *h = quoted(&q, "hearthstone", 128400);
    assert_cents(premium_of(&q, h, "property"), 122100);
    done(&q);

    /* Buckeye (buckeye-oh-home README): 180,000 is three fifths of the way from
     * 150,000 (0.790) to 200,000 (1.000): 0.916 (the README said "four
     * fifths", which would be 0.958). 980 x 1.15 x 0.916 x 1.00 x 1.05 x 1.05
     * x 1.00 x 1.00 x 1.00 x 0.88 = 1001.568506 -> 1002; + 26 + 10 + 15 fee
     * = 1053.00. */
    rate_shopper(&q, "home-oh-columbus-frame", "\"dwelling\": 300000", "\"dwelling\": 180000");
    const mq_result *b = quoted(&q, "buckeye", 105300);
    assert_cents(premium_of(&q, b, "property"), 100200);
    done(&q);
}

/* The renters manuals' examples, on renters-oh-columbus (territory 1, class 3
 * frame, floor 2, 500 deductible, smoke detectors, paperless, no claims,
 * liability 100,000, med pay 1,000). */
static void test_readme_aoi_examples_renters(void **state)
{
    (void)state;
    quote q;

    /* Keystone (keystone-*-renters README): 35,000 lies half way from 30,000
     * (1.110) to 40,000 (1.320): 1.215. 118 x 1.215 x 1.00 x 1.00 x 1.00
     * x (1 - 0.16) = 120.4308 -> 120; + 14 + 4 + 10 fee = 148.00. */
    rate_shopper(&q, "renters-oh-columbus", "\"personal_property\": 30000",
                 "\"personal_property\": 35000");
    const mq_result *k = quoted(&q, "keystone", 14800);
    assert_cents(premium_of(&q, k, "property"), 12000);
    done(&q);

    /* Summit (summit-*-renters README): 40,000 lies half way from 30,000
     * (1.000) to 50,000 (1.350): 1.175, unrounded. 128 x 1.05 x 1.175 x 1.00
     * x 1.00 x 1.00 x 1.00 x (1 - 0.08) = 145.2864 -> 145.29; liability
     * 12.00 x 0.95 = 11.40; + 3.00 = 159.69, no fee. */
    rate_shopper(&q, "renters-oh-columbus", "\"personal_property\": 30000",
                 "\"personal_property\": 40000");
    const mq_result *s = quoted(&q, "summit", 15969);
    assert_cents(premium_of(&q, s, "property"), 14529);
    done(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_home_oh_columbus_frame),
        cmocka_unit_test(test_home_tx_houston_hail),
        cmocka_unit_test(test_home_oh_rural_old_roof),
        cmocka_unit_test(test_home_pa_pittsburgh_water),
        cmocka_unit_test(test_home_pa_philadelphia_rowhome),
        cmocka_unit_test(test_home_tx_dallas_new),
        cmocka_unit_test(test_renters_oh_columbus),
        cmocka_unit_test(test_renters_oh_cleveland_water),
        cmocka_unit_test(test_renters_tx_austin),
        cmocka_unit_test(test_renters_tx_houston_ground),
        cmocka_unit_test(test_zip_outside_state),
        cmocka_unit_test(test_coverage_a_outside_tables),
        cmocka_unit_test(test_deductible_not_offered),
        cmocka_unit_test(test_three_water_claims),
        cmocka_unit_test(test_wood_shake_roof),
        cmocka_unit_test(test_minimum_premium),
        cmocka_unit_test(test_readme_aoi_examples_home),
        cmocka_unit_test(test_readme_aoi_examples_renters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
