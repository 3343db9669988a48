/* test_reads.c -- mq_plan_reads against the bundled plans: a plan whose
 * plan.yaml never mentions a field does not read it, one that does reads
 * it; the fields the engine reads for every plan (effective date, state,
 * coverage presence, principal driver, payment mode) and every field of a
 * health plan count as read; a field outside the line is "in doubt", so
 * true. Then the property the savings tips rely on: for every plan of every
 * sample request's line, changing a field the plan does not read, in every
 * entity at once, leaves the plan's result exactly as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine.h"
#include "support.h"

#include <math.h>
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

static const mq_plan *plan_named(const char *plan_id, const char *version)
{
    const mq_plan *p = mq_engine_find_version(engine, plan_id, version);
    assert_non_null(p);
    return p;
}

static void fields_a_plan_never_names_are_not_read(void **state)
{
    (void)state;
    const mq_plan *pioneer = plan_named("pioneer-oh-auto", "2026-02-01");
    const mq_plan *harbor = plan_named("harbor-oh-auto", "2026-01-01");
    const mq_plan *prairie = plan_named("prairie-oh-auto", "2026-01-15");
    const mq_plan *summit = plan_named("summit-oh-auto", "2025-11-15");
    /* pioneer's plan.yaml never says paperless; harbor's discounts it */
    assert_false(mq_plan_reads(pioneer, MQ_ENT_POLICY, MQ_AP_PAPERLESS));
    assert_true(mq_plan_reads(harbor, MQ_ENT_POLICY, MQ_AP_PAPERLESS));
    /* annual miles: prairie rates them, harbor does not */
    assert_true(mq_plan_reads(prairie, MQ_ENT_VEHICLE, MQ_AV_ANNUAL_MILES));
    assert_false(mq_plan_reads(harbor, MQ_ENT_VEHICLE, MQ_AV_ANNUAL_MILES));
    /* good student: harbor's discount condition; pioneer has none */
    assert_true(mq_plan_reads(harbor, MQ_ENT_DRIVER, MQ_AD_STUDENT_GPA));
    assert_false(mq_plan_reads(pioneer, MQ_ENT_DRIVER, MQ_AD_STUDENT_GPA));
    /* inside an aggregate's condition: harbor's points count mph over */
    assert_true(mq_plan_reads(harbor, MQ_ENT_INCIDENT, MQ_AI_MPH_OVER));
    assert_false(mq_plan_reads(summit, MQ_ENT_INCIDENT, MQ_AI_MPH_OVER));
    assert_false(mq_plan_reads(harbor, MQ_ENT_INCIDENT, MQ_AI_AMOUNT));
    /* a table key: harbor's territory is keyed by the garaging ZIP */
    assert_true(mq_plan_reads(harbor, MQ_ENT_VEHICLE, MQ_AV_GARAGING_ZIP));
}

static void what_the_engine_reads_counts_for_every_plan(void **state)
{
    (void)state;
    for (int i = 0; i < mq_engine_plan_count(engine); i++) {
        const mq_plan *p = mq_engine_plan(engine, i);
        mq_plan_info info;
        mq_plan_get_info(p, &info);
        const mq_line_def *l = mq_line_get(info.line);
        assert_true(mq_plan_reads(p, MQ_ENT_POLICY, 0)); /* effective_date */
        assert_true(mq_plan_reads(p, MQ_ENT_POLICY, 1)); /* state */
        for (int c = 0; c < l->ncoverages; c++)
            if (l->coverages[c].presence_field >= 0)
                assert_true(
                    mq_plan_reads(p, l->coverages[c].scope, l->coverages[c].presence_field));
        if (info.line == MQ_LINE_AUTO)
            assert_true(mq_plan_reads(p, MQ_ENT_VEHICLE, MQ_AV_PRINCIPAL_DRIVER));
        if (info.line == MQ_LINE_TERM_LIFE)
            assert_true(mq_plan_reads(p, MQ_ENT_POLICY, MQ_LP_PAYMENT_MODE));
        for (int k = 0; info.line == MQ_LINE_HEALTH && k < MQ_ENT_COUNT; k++)
            for (int f = 0; f < l->nfields[k]; f++)
                assert_true(mq_plan_reads(p, (mq_entity_kind)k, f));
        /* not a field of the line: in doubt */
        assert_true(mq_plan_reads(p, MQ_ENT_POLICY, l->nfields[MQ_ENT_POLICY]));
        assert_true(mq_plan_reads(p, MQ_ENT_POLICY, -1));
        assert_true(mq_plan_reads(p, MQ_ENT_COUNT, 0));
    }
}

/* A value different from v whatever v is (a missing value becomes 1). */
static double other_value(double v)
{
    return isnan(v) ? 1 : v == 0 ? 1 : v + 1;
}

/* `in` with field f of every entity of kind k changed; values from `a`. */
static mq_input with_field_changed(const mq_input *in, mq_entity_kind k, int f, mq_arena *a)
{
    const mq_line_def *l = mq_line_get(in->line);
    mq_input out = *in;
    double *values = ts_copy_values(in, k, a);
    for (int32_t i = 0; i < in->count[k]; i++)
        values[(size_t)i * (size_t)l->nfields[k] + (size_t)f] =
            other_value(values[(size_t)i * (size_t)l->nfields[k] + (size_t)f]);
    out.values[k] = values;
    return out;
}

static void assert_same_result(const mq_result *x, const mq_result *y, const char *what)
{
    if (x->status != y->status || x->total_cents != y->total_cents ||
        x->ncoverages != y->ncoverages || x->nnotes != y->nnotes)
        fail_msg("%s: the result changed", what);
    for (int i = 0; i < x->ncoverages; i++)
        if (x->coverages[i].cents != y->coverages[i].cents)
            fail_msg("%s: coverage %d changed", what, i);
}

/* Every unread field of every entity kind, changed, for plan p. */
static int check_unread_fields(const mq_plan *p, const mq_input *in, mq_arena *a)
{
    const mq_line_def *l = mq_line_get(in->line);
    mq_plan_info info;
    mq_plan_get_info(p, &info);
    mq_result base;
    assert_true(mq_rate_plan(p, in, &(mq_rate_opts){0}, a, &base));
    int checked = 0;
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        for (int f = 0; f < l->nfields[k]; f++) {
            if (in->count[k] == 0 || mq_plan_reads(p, (mq_entity_kind)k, f))
                continue;
            mq_input changed = with_field_changed(in, (mq_entity_kind)k, f, a);
            mq_result r;
            assert_true(mq_rate_plan(p, &changed, &(mq_rate_opts){0}, a, &r));
            char what[256];
            snprintf(what, sizeof what, "%s %s, %s.%s", info.plan_id, info.version,
                     l->entity_names[k] ? l->entity_names[k] : "?", l->fields[k][f].name);
            assert_same_result(&base, &r, what);
            checked++;
        }
    return checked;
}

static void unread_fields_do_not_change_the_result(void **state)
{
    (void)state;
    static const char *const requests[] = {
        "examples/oh-family-two-cars.json",
        "examples/oh-single-driver.json",
        "examples/oh-two-dui.json",
        "tests/data/shoppers/home-oh-columbus-frame.json",
        "tests/data/shoppers/home-pa-pittsburgh-water.json",
        "tests/data/shoppers/renters-oh-columbus.json",
        "tests/data/shoppers/life-oh-male-40-self-declared.json",
        "tests/data/shoppers/life-tx-male-45-smoker.json",
    };
    int checked = ts_each_plan_of_line(engine, requests, sizeof requests / sizeof requests[0],
                                       check_unread_fields);
    assert_true(checked > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_a_plan_never_names_are_not_read),
        cmocka_unit_test(what_the_engine_reads_counts_for_every_plan),
        cmocka_unit_test(unread_fields_do_not_change_the_result),
    };
    return cmocka_run_group_tests_name("reads", tests, setup, teardown);
}
