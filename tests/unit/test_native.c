/* test_native.c -- the plans compiled into C rate exactly as the interpreter.
 *
 * The build compiles every bundled plan into a C function (codegen.c,
 * native.c); mq_rate_plan runs it unless asked to interpret. For every
 * plan of the line of every sample request (tests/data/shoppers, examples),
 * the request and hundreds of variants of it (each field of each kind
 * changed in every entity and in the first alone, made missing, doubled,
 * halved) are rated both ways, with and without totals_only, and the two
 * results must be the same in everything: status, reasons and notes (the
 * texts), every coverage premium, the minimum, fees and total, the
 * underwriting class. Variants reach the outcomes a compiled function
 * hands back to the interpreter too (a lookup with no row, a limit not
 * offered, an invalid premium). Every bundled plan must be compiled, or
 * this test would prove nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine.h"
#include "support.h"

#include <dirent.h>
#include <math.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mq_engine *engine;
static char *files[256];
static size_t nfiles;

static void add_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 || strstr(de->d_name, "bundle"))
            continue; /* a bundle is several requests (test_bundle) */
        assert_true(nfiles < sizeof files / sizeof files[0]);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        files[nfiles++] = strdup(path);
    }
    closedir(d);
}

static int setup(void **state)
{
    (void)state;
    add_dir("tests/data/shoppers");
    add_dir("examples");
    return ts_engine_setup(&engine, "plans", stderr);
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    return ts_engine_teardown(&engine);
}

static void same_text(const char *n, const char *i, const char *what, const char *field)
{
    if ((n == NULL) != (i == NULL) || (n && strcmp(n, i) != 0))
        fail_msg("%s: %s \"%s\" compiled, \"%s\" interpreted", what, field, n ? n : "(none)",
                 i ? i : "(none)");
}

static void same_int(long long n, long long i, const char *what, const char *field)
{
    if (n != i)
        fail_msg("%s: %s %lld compiled, %lld interpreted", what, field, n, i);
}

static void assert_same_result(const mq_result *n, const mq_result *i, const char *what)
{
    same_text(mq_status_name(n->status), mq_status_name(i->status), what, "status");
    same_int(n->nreasons, i->nreasons, what, "reasons");
    for (int k = 0; k < i->nreasons; k++)
        same_text(n->reasons[k], i->reasons[k], what, "reason");
    same_int(n->nnotes, i->nnotes, what, "notes");
    for (int k = 0; k < i->nnotes; k++)
        same_text(n->notes[k], i->notes[k], what, "note");
    same_int(n->ncoverages, i->ncoverages, what, "coverages");
    for (int k = 0; k < i->ncoverages; k++) {
        same_int(n->coverages[k].coverage, i->coverages[k].coverage, what, "coverage");
        same_int(n->coverages[k].unit, i->coverages[k].unit, what, "unit");
        same_int(n->coverages[k].cents, i->coverages[k].cents, what, "coverage premium");
    }
    same_int(n->premium_cents, i->premium_cents, what, "premium");
    same_int(n->minimum_applied, i->minimum_applied, what, "minimum applied");
    same_int(n->nfees, i->nfees, what, "fees");
    same_int(n->fees_cents, i->fees_cents, what, "fees total");
    same_int(n->total_cents, i->total_cents, what, "total");
    same_int(n->term_months, i->term_months, what, "term");
    same_int(n->nverifies, i->nverifies, what, "verifies");
    same_text(n->health_class, i->health_class, what, "class");
    same_text(n->carrier_id, i->carrier_id, what, "carrier");
    same_int(n->metal, i->metal, what, "metal");
    same_int(n->gross_cents, i->gross_cents, what, "gross");
    same_int(n->credit_cents, i->credit_cents, what, "credit");
    same_int(n->net_cents, i->net_cents, what, "net");
    same_text(n->credit_note, i->credit_note, what, "credit note");
}

/* p on `in` both ways, with and without totals_only. */
static void check_both_ways(const mq_plan *p, const mq_input *in, mq_arena *a, const char *what)
{
    for (int totals = 0; totals < 2; totals++) {
        mq_result n, i;
        assert_true(mq_rate_plan(p, in, &(mq_rate_opts){.totals_only = totals}, a, &n));
        assert_true(mq_rate_plan(p, in, &(mq_rate_opts){.totals_only = totals, .interpreted = true},
                                 a, &i));
        assert_same_result(&n, &i, what);
    }
}

enum { MISSING, DOUBLED, HALVED };

/* `in` with field f of kind k missing, doubled or halved in the first entity. */
static mq_input with_first_value(const mq_input *in, mq_entity_kind k, int f, int how, mq_arena *a)
{
    mq_input out = *in;
    if (mq_line_get(in->line)->fields[k][f].type == MQ_T_LINK && how != MISSING)
        return out; /* a link to an entity that is not there: never validated */
    double *values = ts_copy_values(in, k, a), *v = &values[f];
    *v = how == MISSING ? NAN : how == DOUBLED ? *v * 2 : *v / 2;
    out.values[k] = values;
    return out;
}

static int check_variants(const mq_plan *p, const mq_input *in, mq_arena *a)
{
    const mq_line_def *l = mq_line_get(in->line);
    mq_plan_info info;
    mq_plan_get_info(p, &info);
    char what[256];
    snprintf(what, sizeof what, "%s %s", info.plan_id, info.version);
    check_both_ways(p, in, a, what);
    int checked = 1;
    static const char *const hows[] = {"missing", "doubled", "halved"};
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        for (int f = 0; f < l->nfields[k] && in->count[k] > 0; f++) {
            const char *field = l->fields[k][f].name, *kind = l->entity_names[k];
            for (int first_only = 0; first_only < 2; first_only++) {
                mq_input x = ts_with_field_changed(in, (mq_entity_kind)k, f, first_only, a);
                snprintf(what, sizeof what, "%s %s, %s.%s changed%s", info.plan_id, info.version,
                         kind ? kind : "?", field, first_only ? " (first only)" : "");
                check_both_ways(p, &x, a, what);
                checked++;
            }
            for (int how = MISSING; how <= HALVED; how++) {
                mq_input x = with_first_value(in, (mq_entity_kind)k, f, how, a);
                snprintf(what, sizeof what, "%s %s, %s.%s %s", info.plan_id, info.version,
                         kind ? kind : "?", field, hows[how]);
                check_both_ways(p, &x, a, what);
                checked++;
            }
        }
    return checked;
}

static void every_bundled_plan_is_compiled(void **state)
{
    (void)state;
    int n = mq_engine_plan_count(engine);
    assert_true(n > 40);
    for (int i = 0; i < n; i++) {
        mq_plan_info info;
        mq_plan_get_info(mq_engine_plan(engine, i), &info);
        if (!mq_plan_native(mq_engine_plan(engine, i)))
            fail_msg("%s %s is interpreted: mqcodegen did not compile it", info.plan_id,
                     info.version);
    }
}

static void compiled_plans_rate_as_the_interpreter(void **state)
{
    (void)state;
    assert_true(nfiles > 30);
    int checked = ts_each_plan_of_line(engine, (const char *const *)files, nfiles, check_variants);
    assert_true(checked > 20000);
}

/* Whole comparisons (selection, market rules, the sort) both ways. */
static void comparisons_are_the_same_both_ways(void **state)
{
    (void)state;
    for (size_t r = 0; r < nfiles; r++) {
        mq_arena a;
        mq_arena_init(&a, 0);
        mq_input in;
        ts_parse_request_file(files[r], &a, &in);
        mq_result *n, *i;
        int nn, ni;
        assert_true(mq_rate_all(engine, &in, &(mq_rate_opts){0}, &a, &n, &nn));
        assert_true(mq_rate_all(engine, &in, &(mq_rate_opts){.interpreted = true}, &a, &i, &ni));
        same_int(nn, ni, files[r], "results");
        for (int k = 0; k < ni; k++)
            assert_same_result(&n[k], &i[k], files[r]);
        mq_arena_free(&a);
    }
}

/* The worksheet is always the interpreter's: the same with either option. */
static void the_worksheet_is_interpreted(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    ts_parse_request_file("examples/oh-family-two-cars.json", &a, &in);
    const mq_plan *harbor = mq_engine_find_version(engine, "harbor-oh-auto", "2026-01-01");
    assert_non_null(harbor);
    mq_result w, plain;
    assert_true(mq_rate_plan(harbor, &in, &(mq_rate_opts){.worksheet = true}, &a, &w));
    assert_true(mq_rate_plan(harbor, &in, &(mq_rate_opts){0}, &a, &plain));
    assert_true(w.nsteps > 20);
    assert_int_equal(w.total_cents, 186600);
    assert_same_result(&plain, &w, "harbor with and without the worksheet");
    mq_arena_free(&a);
}

/* Harbor's plan folder copied to `dir`, its plan.yaml with `from` replaced
 * by `to` (as long; the same: unchanged), loaded alone. */
static mq_engine *load_harbor_copy(const char *dir, const char *from, const char *to)
{
    const char *src_dir = "plans/harbor/oh-auto-2026-01-01";
    DIR *d = opendir(src_dir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        char src[512], dst[512];
        snprintf(src, sizeof src, "%s/%s", src_dir, de->d_name);
        snprintf(dst, sizeof dst, "%s/%s", dir, de->d_name);
        size_t len;
        char *text = ts_read_file(src, &len);
        if (strcmp(de->d_name, "plan.yaml") == 0) {
            char *at = strstr(text, from);
            assert_non_null(at);
            assert_int_equal(strlen(from), strlen(to));
            memcpy(at, to, strlen(to));
        }
        ts_write_file(dst, text, len);
        free(text);
    }
    closedir(d);
    mq_diags diags = {0};
    mq_engine *e = mq_engine_load(dir, &diags);
    mq_diags_free(&diags);
    assert_non_null(e);
    assert_int_equal(mq_engine_plan_count(e), 1);
    return e;
}

/* A plan edited after the build is interpreted, never rated by the
 * function compiled from its old files; the same files anywhere else are
 * compiled (the digest, not the folder, decides). */
static void an_edited_plan_is_interpreted(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-native-XXXXXX";
    assert_non_null(mkdtemp(dir));
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    ts_parse_request_file("examples/oh-family-two-cars.json", &a, &in);
    mq_result same, edited;
    mq_engine *e = load_harbor_copy(dir, "bi:   {base: 142.00}", "bi:   {base: 142.00}");
    assert_true(mq_plan_native(mq_engine_plan(e, 0)));
    assert_true(mq_rate_plan(mq_engine_plan(e, 0), &in, NULL, &a, &same));
    assert_int_equal(same.total_cents, 186600);
    mq_engine_free(e);
    e = load_harbor_copy(dir, "bi:   {base: 142.00}", "bi:   {base: 152.00}");
    assert_false(mq_plan_native(mq_engine_plan(e, 0)));
    assert_true(mq_rate_plan(mq_engine_plan(e, 0), &in, NULL, &a, &edited));
    assert_true(edited.total_cents > same.total_cents); /* a higher BI base rate */
    mq_engine_free(e);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    mq_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_bundled_plan_is_compiled),
        cmocka_unit_test(compiled_plans_rate_as_the_interpreter),
        cmocka_unit_test(comparisons_are_the_same_both_ways),
        cmocka_unit_test(the_worksheet_is_interpreted),
        cmocka_unit_test(an_edited_plan_is_interpreted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
