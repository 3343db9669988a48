/* test_bundle.c -- auto and home quoted together: the parts parse with the
 * ordinary rules and name their errors by their path in the bundle; every
 * carrier writing both lines is re-rated with its multi-line discount; the
 * bundles and the best separate quotes are compared by annual cost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "model.h"

#include <stdlib.h>
#include <string.h>

static mq_engine *engine;

static int load(void **state)
{
    (void)state;
    return ts_engine_setup(&engine, "plans", NULL);
}

static int unload(void **state)
{
    (void)state;
    return ts_engine_teardown(&engine);
}

static int64_t annual(const mq_result *r)
{
    return r->total_cents * 12 / r->term_months;
}

static void example_bundle_compares_by_annual_cost(void **state)
{
    (void)state;
    json_error_t e;
    json_t *doc = json_load_file("examples/oh-bundle-auto-home.json", 0, &e);
    assert_non_null(doc);
    assert_true(mq_req_is_bundle(doc));
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_bundle_input b;
    mq_req_errors errs = {0};
    assert_true(mq_req_bundle_from_json(doc, &a, &b, &errs));
    assert_int_equal(b.property_line, MQ_LINE_HOME);
    mq_bundle_result r;
    assert_true(mq_bundle_rate(engine, &b, &a, &r));

    /* the carriers writing both lines in Ohio, cheapest bundle first */
    assert_int_equal(r.nbundles, 3);
    assert_string_equal(r.bundles[0].auto_r.carrier_id, "summit");
    assert_string_equal(r.bundles[1].auto_r.carrier_id, "keystone");
    assert_string_equal(r.bundles[2].auto_r.carrier_id, "buckeye");
    for (int i = 0; i < r.nbundles; i++) {
        const mq_bundle_quote *q = &r.bundles[i];
        assert_int_equal(q->annual_cents, annual(&q->auto_r) + annual(&q->property_r));
        assert_true(q->annual_cents < q->separate_annual_cents); /* the discount is real */
        if (i)
            assert_true(q->annual_cents >= r.bundles[i - 1].annual_cents);
    }
    /* Keystone's separate auto quote is Harbor example 1's shopper at 585.00; its
     * 10% multi-line item takes the discount sum from 17% (homeowner 8, paperless 4,
     * claims-free 5) to 27%, capped at 25%: 535.00. Home 1206.00 -> 1177.00. */
    assert_int_equal(r.bundles[1].auto_r.total_cents, 53500);
    assert_int_equal(r.bundles[1].property_r.total_cents, 117700);
    assert_int_equal(r.bundles[1].separate_annual_cents, 2 * 58500 + 120600);
    /* the best separate quotes may come from two carriers: Summit's auto, Hearthstone's home */
    assert_string_equal(r.best_auto->carrier_id, "summit");
    assert_string_equal(r.best_property->carrier_id, "hearthstone");
    assert_int_equal(r.best_separate_cents, 2 * 54298 + 116800);

    char *text = mq_resp_bundle_text(&b, &r, &(mq_resp_meta){"q_X", "2026-01-01T00:00:00Z"});
    json_t *out = json_loads(text, 0, NULL);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "line")), "bundle");
    json_t *first = json_array_get(json_object_get(out, "bundles"), 0);
    assert_true(json_real_value(json_object_get(first, "annual_total")) == 2184.31);
    assert_true(json_real_value(json_object_get(first, "saving_vs_best_separate")) == 69.65);
    assert_int_equal(json_array_size(json_object_get(json_object_get(out, "home"), "results")),
                     (size_t)r.nproperty);
    free(text);
    json_decref(out);
    json_decref(doc);
    mq_arena_free(&a);
}

static void assert_bundle_errors(const char *text, const char *const *want, int nwant)
{
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_bundle_input b;
    mq_req_errors errs = {0};
    assert_false(mq_req_bundle_from_json(doc, &a, &b, &errs));
    assert_int_equal(errs.count, nwant);
    for (int i = 0; i < nwant; i++)
        assert_string_equal(mq_req_error_text(&errs.items[i], &a), want[i]);
    mq_arena_free(&a);
    json_decref(doc);
}

static void bundle_errors_name_their_path(void **state)
{
    (void)state;
    const char *parts[] = {"auto.drivers: must list 1 to 20 drivers, got 0",
                           "auto.vehicles: is required",
                           "auto.coverages: is required",
                           "home.dwelling.construction: is required",
                           "home.dwelling.protection_class: is required",
                           "home.coverages: is required"};
    assert_bundle_errors("{\"line\":\"bundle\",\"effective_date\":\"2026-03-01\",\"applicant\":"
                         "{\"address\":{\"state\":\"OH\",\"zip\":\"43215\"}},\"auto\":{\"drivers\":"
                         "[]},\"home\":{\"dwelling\":{\"year_built\":1990}}}",
                         parts, 6);
    const char *both[] = {"renters: give home or renters, not both"};
    assert_bundle_errors("{\"line\":\"bundle\",\"auto\":{},\"home\":{},\"renters\":{}}", both, 1);
    const char *none[] = {"pets: unknown field", "home: is required (or renters)"};
    assert_bundle_errors("{\"line\":\"bundle\",\"pets\":1,\"auto\":{}}", none, 2);
    /* a misplaced member does not hide the other problems: the envelope's and
     * the auto part's are listed too */
    const char *misplaced[] = {"home.applicant: belongs at the top of the bundle request",
                               "effective_date: is required",
                               "applicant: is required",
                               "auto.drivers: is required",
                               "auto.vehicles: is required",
                               "auto.coverages: is required",
                               "home.dwelling: is required",
                               "home.coverages: is required"};
    assert_bundle_errors("{\"line\":\"bundle\",\"auto\":{},\"home\":{\"applicant\":{}}}", misplaced,
                         8);
}

/* The parts and "extra" are read as in every request: null counts as absent,
 * a value of another type is named, and "extra" may be any object. */
static void bundle_members_read_as_in_every_request(void **state)
{
    (void)state;
    const char *nulls[] = {"auto: is required", "home: is required (or renters)"};
    assert_bundle_errors("{\"line\":\"bundle\",\"auto\":null,\"home\":null}", nulls, 2);
    const char *types[] = {"extra: expected an object, got a number",
                           "auto: expected an object, got an array",
                           "renters: expected an object, got a number"};
    assert_bundle_errors("{\"line\":\"bundle\",\"auto\":[],\"renters\":5,\"extra\":1}", types, 3);
    /* "home": null with a renters part is a renters bundle */
    const char *renters[] = {"effective_date: is required",   "applicant: is required",
                             "auto.drivers: is required",     "auto.vehicles: is required",
                             "auto.coverages: is required",   "renters.unit: is required",
                             "renters.coverages: is required"};
    assert_bundle_errors("{\"line\":\"bundle\",\"auto\":{},\"home\":null,\"renters\":{},"
                         "\"extra\":{\"channel\":\"partner\"}}",
                         renters, 7);

    /* the example with an "extra" object of the bundle's own is rated as it is */
    json_error_t e;
    json_t *doc = json_load_file("examples/oh-bundle-auto-home.json", 0, &e);
    assert_non_null(doc);
    json_object_set_new(doc, "extra", json_pack("{s:s}", "channel", "partner"));
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_bundle_input b;
    mq_req_errors errs = {0};
    assert_true(mq_req_bundle_from_json(doc, &a, &b, &errs));
    assert_int_equal(errs.count, 0);
    assert_int_equal(b.property_line, MQ_LINE_HOME);
    mq_bundle_result r;
    assert_true(mq_bundle_rate(engine, &b, &a, &r));
    assert_int_equal(r.nbundles, 3);
    assert_int_equal(r.bundles[0].annual_cents, 218431); /* Summit, as without "extra" */
    mq_arena_free(&a);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_bundle_compares_by_annual_cost),
        cmocka_unit_test(bundle_errors_name_their_path),
        cmocka_unit_test(bundle_members_read_as_in_every_request),
    };
    return cmocka_run_group_tests_name("bundle", tests, load, unload);
}
