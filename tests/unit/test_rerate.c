/* test_rerate.c -- the engine's re-rating options and the result sort.
 *
 * mq_rate_opts.memo and .totals_only must never change an amount: for
 * every plan of every sample request's line, each field of each entity
 * kind is changed (in every entity, then in the first alone) and the
 * variant is rated plainly and with a memo the unchanged request filled,
 * asking for totals only; status, premium, fees, total and the minimum
 * must agree, and a totals-only result holds no coverages, notes or
 * reasons. A memo filled by one plan is harmless to another, and the
 * worksheet is the same with a memo. mq_results_sort is checked against
 * the contract's order, ties kept in their order (a stable sort), below
 * and above the size it sorts by insertion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mq_engine *engine;

static int setup(void **state)
{
    (void)state;
    return ts_engine_setup(&engine, "plans", stderr);
}

static int teardown(void **state)
{
    (void)state;
    return ts_engine_teardown(&engine);
}

static const char *const requests[] = {
    "examples/oh-family-two-cars.json",
    "examples/oh-single-driver.json",
    "examples/oh-two-dui.json",
    "tests/data/shoppers/home-oh-columbus-frame.json",
    "tests/data/shoppers/home-pa-pittsburgh-water.json",
    "tests/data/shoppers/renters-oh-columbus.json",
    "tests/data/shoppers/life-oh-male-40-self-declared.json",
    "tests/data/shoppers/life-tx-male-45-smoker.json",
    "tests/data/shoppers/health-oh-single-40.json",
};

static void assert_same_amounts(const mq_result *plain, const mq_result *quick, const char *what)
{
    if (plain->status != quick->status || plain->total_cents != quick->total_cents ||
        plain->premium_cents != quick->premium_cents || plain->fees_cents != quick->fees_cents ||
        plain->minimum_applied != quick->minimum_applied)
        fail_msg("%s: %s %lld plainly, %s %lld with memo and totals only", what,
                 mq_status_name(plain->status), (long long)plain->total_cents,
                 mq_status_name(quick->status), (long long)quick->total_cents);
    if (quick->ncoverages || quick->coverages || quick->nnotes || quick->nreasons)
        fail_msg("%s: totals only, yet coverages, notes or reasons", what);
}

/* Every field of every kind changed, for plan p, rated with one memo. */
static int check_variants(const mq_plan *p, const mq_input *in, mq_arena *a)
{
    const mq_line_def *l = mq_line_get(in->line);
    mq_plan_info info;
    mq_plan_get_info(p, &info);
    mq_rate_opts fast = {.totals_only = true, .memo = mq_rate_memo_new(a)};
    assert_non_null(fast.memo);
    mq_result plain, quick;
    assert_true(mq_rate_plan(p, in, &(mq_rate_opts){0}, a, &plain));
    assert_true(mq_rate_plan(p, in, &fast, a, &quick)); /* fills the memo */
    assert_same_amounts(&plain, &quick, info.plan_id);
    int checked = 0;
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        for (int f = 0; f < l->nfields[k] && in->count[k] > 0; f++)
            for (int first_only = 0; first_only < 2; first_only++) {
                mq_input x = ts_with_field_changed(in, (mq_entity_kind)k, f, first_only, a);
                assert_true(mq_rate_plan(p, &x, &(mq_rate_opts){0}, a, &plain));
                assert_true(mq_rate_plan(p, &x, &fast, a, &quick));
                char what[256];
                snprintf(what, sizeof what, "%s %s, %s.%s%s", info.plan_id, info.version,
                         l->entity_names[k] ? l->entity_names[k] : "?", l->fields[k][f].name,
                         first_only ? " (first only)" : "");
                assert_same_amounts(&plain, &quick, what);
                /* the other way round: a memo the variant filled, then
                 * the unchanged request */
                mq_rate_opts back = {.totals_only = true, .memo = mq_rate_memo_new(a)};
                assert_true(mq_rate_plan(p, &x, &back, a, &quick));
                assert_true(mq_rate_plan(p, in, &(mq_rate_opts){0}, a, &plain));
                assert_true(mq_rate_plan(p, in, &back, a, &quick));
                assert_same_amounts(&plain, &quick, what);
                checked++;
            }
    return checked;
}

static void memo_and_totals_only_change_no_amount(void **state)
{
    (void)state;
    int checked = ts_each_plan_of_line(engine, requests, sizeof requests / sizeof requests[0],
                                       check_variants);
    assert_true(checked > 1000);
}

/* A memo filled by one plan, then used by every other plan of the line:
 * ignored, so the amounts are as without it. */
static void a_memo_of_another_plan_is_ignored(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    ts_parse_request_file("examples/oh-family-two-cars.json", &a, &in);
    mq_rate_opts fast = {.totals_only = true, .memo = mq_rate_memo_new(&a)};
    int rated = 0;
    for (int i = 0; i < mq_engine_plan_count(engine); i++) {
        const mq_plan *p = mq_engine_plan(engine, i);
        mq_plan_info info;
        mq_plan_get_info(p, &info);
        if (info.line != MQ_LINE_AUTO)
            continue;
        mq_result plain, quick;
        assert_true(mq_rate_plan(p, &in, &(mq_rate_opts){0}, &a, &plain));
        assert_true(mq_rate_plan(p, &in, &fast, &a, &quick));
        assert_same_amounts(&plain, &quick, info.plan_id);
        rated++;
    }
    assert_true(rated > 2);
    mq_arena_free(&a);
}

/* With the worksheet, a memo changes no step; totals_only is ignored. */
static void the_worksheet_is_the_same_with_a_memo(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    ts_parse_request_file("examples/oh-family-two-cars.json", &a, &in);
    const mq_plan *harbor = mq_engine_find_version(engine, "harbor-oh-auto", "2026-01-01");
    assert_non_null(harbor);
    mq_rate_opts memo = {.worksheet = true, .totals_only = true, .memo = mq_rate_memo_new(&a)};
    mq_result plain, first, again;
    assert_true(mq_rate_plan(harbor, &in, &(mq_rate_opts){.worksheet = true}, &a, &plain));
    assert_true(mq_rate_plan(harbor, &in, &memo, &a, &first));
    assert_true(mq_rate_plan(harbor, &in, &memo, &a, &again)); /* from the memo */
    const mq_result *both[] = {&first, &again};
    for (int w = 0; w < 2; w++) {
        const mq_result *r = both[w];
        assert_int_equal(r->total_cents, plain.total_cents);
        assert_int_equal(r->ncoverages, plain.ncoverages);
        assert_int_equal(r->nsteps, plain.nsteps);
        for (int i = 0; i < plain.nsteps; i++) {
            assert_string_equal(r->steps[i].name, plain.steps[i].name);
            assert_true(r->steps[i].factor == plain.steps[i].factor);
            assert_true(r->steps[i].running == plain.steps[i].running);
            if (plain.steps[i].key)
                assert_string_equal(r->steps[i].key, plain.steps[i].key);
        }
    }
    mq_arena_free(&a);
}

/* ---- The sort ------------------------------------------------------------ */

static const char *const sort_ids[] = {"alpha", "bravo", "charlie", "delta"};

/* n results with few distinct totals, statuses and ids, so ties abound;
 * elapsed_ns remembers each one's first place. */
static void make_results(mq_result *res, int n, unsigned seed)
{
    static const mq_status statuses[] = {MQ_QUOTED,   MQ_QUOTED,      MQ_QUOTED,
                                         MQ_DECLINED, MQ_UNAVAILABLE, MQ_ERROR};
    srand(seed);
    for (int i = 0; i < n; i++)
        res[i] = (mq_result){.carrier_id = sort_ids[rand() % 4],
                             .status = statuses[rand() % 6],
                             .total_cents = 100 * (rand() % 5),
                             .metal = -1,
                             .elapsed_ns = i};
}

/* The contract's order, and equal results in their first order. */
static void assert_sorted(const mq_result *res, int n)
{
    for (int i = 1; i < n; i++) {
        const mq_result *x = &res[i - 1], *y = &res[i];
        int rx = x->status == MQ_QUOTED        ? 0
                 : x->status == MQ_DECLINED    ? 1
                 : x->status == MQ_UNAVAILABLE ? 2
                                               : 3;
        int ry = y->status == MQ_QUOTED        ? 0
                 : y->status == MQ_DECLINED    ? 1
                 : y->status == MQ_UNAVAILABLE ? 2
                                               : 3;
        assert_true(rx <= ry);
        if (rx != ry)
            continue;
        if (rx == 0 && x->total_cents != y->total_cents) {
            assert_true(x->total_cents < y->total_cents);
            continue;
        }
        int c = strcmp(x->carrier_id, y->carrier_id);
        assert_true(c <= 0);
        if (c == 0)
            assert_true(x->elapsed_ns < y->elapsed_ns); /* stable */
    }
}

static void results_sort_in_the_contract_order_stably(void **state)
{
    (void)state;
    enum { MOST = 200 };
    static mq_result res[MOST];
    static const int sizes[] = {0, 1, 2, 3, 14, 63, 64, 65, MOST};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (unsigned seed = 1; seed <= 20; seed++) {
            make_results(res, sizes[s], seed);
            mq_results_sort(res, sizes[s]);
            assert_sorted(res, sizes[s]);
        }
}

/* Health quotes go by net, then gross premium. */
static void health_results_sort_by_net_then_gross(void **state)
{
    (void)state;
    mq_result res[4] = {
        {.carrier_id = "a", .status = MQ_QUOTED, .metal = 1, .net_cents = 500, .gross_cents = 900},
        {.carrier_id = "b", .status = MQ_QUOTED, .metal = 1, .net_cents = 500, .gross_cents = 800},
        {.carrier_id = "c", .status = MQ_QUOTED, .metal = 2, .net_cents = 100, .gross_cents = 990},
        {.carrier_id = "d", .status = MQ_DECLINED, .metal = 1},
    };
    mq_results_sort(res, 4);
    assert_string_equal(res[0].carrier_id, "c");
    assert_string_equal(res[1].carrier_id, "b");
    assert_string_equal(res[2].carrier_id, "a");
    assert_string_equal(res[3].carrier_id, "d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memo_and_totals_only_change_no_amount),
        cmocka_unit_test(a_memo_of_another_plan_is_ignored),
        cmocka_unit_test(the_worksheet_is_the_same_with_a_memo),
        cmocka_unit_test(results_sort_in_the_contract_order_stably),
        cmocka_unit_test(health_results_sort_by_net_then_gross),
    };
    return cmocka_run_group_tests_name("rerate", tests, setup, teardown);
}
