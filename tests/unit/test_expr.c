/* test_expr.c -- the expression language end to end: compile a text against
 * the auto schema, run it on a small hand-built request, check the value;
 * and the compile errors, each with its column and message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    mq_arena arena;
    mq_input in;
    mq_compile_env env;
    mq_diags diags;
    mq_var_decl vars[2];
} fixture;

static int32_t D(const char *s)
{
    int32_t d = 0;
    assert_true(mq_date_parse(s, &d));
    return d;
}

/* Two drivers (35 married; 17 single with a speeding ticket and a DUI),
 * one vehicle driven by the second, effective 2026-03-01. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    mq_arena_init(&f->arena, 0);
    int32_t count[MQ_ENT_COUNT] = {1, 2, 1, 2};
    assert_true(mq_input_alloc(&f->in, &f->arena, MQ_LINE_AUTO, count));
    mq_input *in = &f->in;
    in->effective_date = D("2026-03-01");
    in->state = mq_symbol_find(MQ_DOM_STATE, "OH");
    double *p = mq_input_row(in, MQ_ENT_POLICY, 0);
    p[MQ_AP_EFFECTIVE_DATE] = in->effective_date;
    p[MQ_AP_HOMEOWNER] = 1;
    p[MQ_AP_BI_PER_PERSON] = 100000;
    double *d0 = mq_input_row(in, MQ_ENT_DRIVER, 0), *d1 = mq_input_row(in, MQ_ENT_DRIVER, 1);
    d0[MQ_AD_DATE_OF_BIRTH] = D("1990-06-15");
    d0[MQ_AD_MARITAL] = mq_symbol_find(MQ_DOM_MARITAL, "married");
    d1[MQ_AD_DATE_OF_BIRTH] = D("2008-02-29");
    d1[MQ_AD_MARITAL] = mq_symbol_find(MQ_DOM_MARITAL, "single");
    d1[MQ_AD_STUDENT_GPA] = 3.4;
    double *v = mq_input_row(in, MQ_ENT_VEHICLE, 0);
    v[MQ_AV_YEAR] = 2004;
    v[MQ_AV_PRINCIPAL_DRIVER] = 1;
    in->start[MQ_ENT_INCIDENT][0] = 0;
    in->start[MQ_ENT_INCIDENT][1] = 0;
    in->start[MQ_ENT_INCIDENT][2] = 2;
    double *i0 = mq_input_row(in, MQ_ENT_INCIDENT, 0), *i1 = mq_input_row(in, MQ_ENT_INCIDENT, 1);
    i0[MQ_AI_TYPE] = mq_symbol_find(MQ_DOM_INCIDENT, "speeding");
    i0[MQ_AI_DATE] = D("2025-08-10");
    i0[MQ_AI_MPH_OVER] = 18;
    i1[MQ_AI_TYPE] = mq_symbol_find(MQ_DOM_INCIDENT, "dui");
    i1[MQ_AI_DATE] = D("2023-03-01");
    f->vars[0] = (mq_var_decl){.name = "age", .kind = MQ_ENT_DRIVER, .slot = 0};
    f->vars[1] = (mq_var_decl){.name = "vehicle_count", .kind = MQ_ENT_POLICY, .slot = 0};
    f->env = (mq_compile_env){.line = mq_line_get(MQ_LINE_AUTO),
                              .vars = f->vars,
                              .nvars = 2,
                              .file = "plan.yaml",
                              .diags = &f->diags};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mq_diags_free(&f->diags);
    free(f->env.deps);
    mq_arena_free(&f->arena);
    free(f);
    return 0;
}

/* Compiles `text` with the vehicle (and so its principal driver) current. */
static mq_prog *compile_for_vehicle(fixture *f, const char *text)
{
    mq_scope s = {.line = f->env.line};
    s.bound[MQ_ENT_POLICY] = true;
    mq_scope_enter(&s, MQ_ENT_VEHICLE);
    mq_prog *p = mq_expr_compile(&f->env, &s, text, 1, 1, NULL, NULL);
    if (!p)
        fail_msg("did not compile: %s", f->diags.count ? f->diags.items[0].text : "?");
    return p;
}

/* Evaluates `text` with the vehicle (and so its principal driver) current. */
static double run(fixture *f, const char *text)
{
    mq_prog *p = compile_for_vehicle(f, text);
    double drv_vars[2] = {35, 17}, pol_vars[1] = {1};
    mq_vm vm = {.in = &f->in, .line = f->env.line};
    vm.vars[MQ_ENT_DRIVER] = drv_vars;
    vm.nvars[MQ_ENT_DRIVER] = 1;
    vm.vars[MQ_ENT_POLICY] = pol_vars;
    vm.nvars[MQ_ENT_POLICY] = 1;
    int32_t parents[2] = {1, 1};
    vm.parent_of[MQ_ENT_INCIDENT] = parents;
    mq_vm_start(&vm);
    mq_vm_enter(&vm, MQ_ENT_VEHICLE, 0);
    double out = -12345;
    assert_true(mq_vm_eval(&vm, p, &out));
    mq_prog_free(p);
    return out;
}

static const char *compile_error(fixture *f, const char *text)
{
    mq_scope s = {.line = f->env.line};
    s.bound[MQ_ENT_POLICY] = true;
    mq_scope_enter(&s, MQ_ENT_VEHICLE);
    mq_diags_free(&f->diags);
    mq_prog *p = mq_expr_compile(&f->env, &s, text, 7, 10, NULL, NULL);
    assert_null(p);
    assert_int_equal(f->diags.count, 1);
    return f->diags.items[0].text;
}

static void arithmetic_and_precedence(void **state)
{
    fixture *f = *state;
    assert_true(run(f, "1 + 2 * 3") == 7);
    assert_true(run(f, "(1 + 2) * 3") == 9);
    assert_true(run(f, "-2 * -3") == 6);
    assert_true(run(f, "10 / 4") == 2.5);
    assert_true(isnan(run(f, "1 / 0")));
    assert_true(run(f, "1 < 2 and 2 < 3") == 1);
    assert_true(run(f, "1 > 2 or not (3 < 2)") == 1);
    assert_true(run(f, "2 > 1 ? 10 : 20") == 10);
    assert_true(run(f, "2 < 1 ? 10 : 1 < 2 ? 30 : 40") == 30);
}

/* The interpreter runs a rewritten copy of the code in which a load, a
 * constant and a comparison (and the AND, OR, JFALSE or TRUTH after it)
 * are one instruction (vm.c, build_run): the same answers, and no fusion
 * across a place a jump lands on. */
static void fused_sequences_answer_as_the_code(void **state)
{
    fixture *f = *state;
    assert_true(run(f, "driver.age < 18 and vehicle.year > 2000") == 1);
    assert_true(run(f, "driver.age > 18 and vehicle.year > 2000") == 0);
    assert_true(run(f, "driver.age > 18 or vehicle.year > 2000") == 1);
    assert_true(run(f, "driver.age > 18 or vehicle.year < 2000") == 0);
    assert_true(run(f, "driver.age < 18 ? 5 : 6") == 5);
    assert_true(run(f, "driver.age > 18 ? 5 : 6") == 6);
    assert_true(run(f, "med.limit > 0 and 1 < 2") == 0);
    assert_true(run(f, "med.limit != 5 or vehicle.year == 2004") == 1);
    assert_true(run(f, "(driver.marital_status == \"single\" and vehicle.year < 2000) < 1") == 1);
    /* the ternary's jump lands on the constant 2000, so the load before
     * it is not fused with it */
    assert_true(run(f, "(driver.age > 30 ? 1 : vehicle.year) > 2000") == 1);
    assert_true(run(f, "(driver.age < 30 ? 1 : vehicle.year) > 2000") == 0);
    assert_true(run(f, "max(vehicle.year, 2010) - min(vehicle.year, 2010)") == 6);
    assert_true(run(f, "default(med.limit, vehicle.year)") == 2004);
    assert_true(isnan(run(f, "year(driver.license.first_licensed)")));
    assert_true(isnan(run(f, "age(driver.date_of_birth, driver.license.first_licensed)")));
}

static void fields_variables_and_links(void **state)
{
    fixture *f = *state;
    assert_true(run(f, "vehicle.year") == 2004);
    assert_true(run(f, "driver.age") == 17); /* the vehicle's principal driver */
    assert_true(run(f, "vehicle_count") == 1);
    assert_true(run(f, "applicant.homeowner") == 1);
    assert_true(run(f, "bi.per_person / 1000") == 100);
    assert_true(run(f, "driver.marital_status == \"single\"") == 1);
    assert_true(run(f, "driver.marital_status != \"married\"") == 1);
}

static void missing_values(void **state)
{
    fixture *f = *state;
    assert_true(isnan(run(f, "med.limit")));
    assert_true(run(f, "has(med.limit)") == 0);
    assert_true(run(f, "default(med.limit, 1000)") == 1000);
    assert_true(run(f, "med.limit > 0") == 0);
    assert_true(run(f, "med.limit != 5") == 0); /* a comparison with a missing value is false */
    assert_true(isnan(run(f, "med.limit * 2")));
    assert_true(run(f, "applicant.paperless") != 1); /* NaN: not set */
}

static void dates_and_functions(void **state)
{
    fixture *f = *state;
    assert_true(run(f, "age(driver.date_of_birth, effective_date)") == 18);
    assert_true(run(f, "age(driver.date_of_birth, date(\"2026-02-28\"))") == 17);
    assert_true(run(f, "months_between(date(\"2025-08-10\"), effective_date)") == 6);
    assert_true(run(f, "year(effective_date) - vehicle.year") == 22);
    assert_true(run(f, "max(0, 2020 - vehicle.year)") == 16);
    assert_true(run(f, "min(3, 1, 2)") == 1);
    assert_true(run(f, "round(2.5, 1)") == 3);
    assert_true(run(f, "round(621.585, 1)") == 622);
    assert_true(run(f, "round(0.125, 0.01)") == 0.13);
    assert_true(run(f, "within_months(date(\"2023-03-01\"), 36)") == 0);
    assert_true(run(f, "within_months(date(\"2023-03-02\"), 36)") == 1);
    assert_true(run(f, "within_months(date(\"2026-03-02\"), 36)") == 0);
}

static void aggregates(void **state)
{
    fixture *f = *state;
    assert_true(run(f, "count(drivers)") == 2);
    assert_true(run(f, "count(incidents)") == 2);
    assert_true(run(f, "count(driver.incidents where incident.type == \"dui\")") == 1);
    assert_true(run(f, "sum(driver.incidents of incident.mph_over where has(incident.mph_over))") ==
                18);
    assert_true(run(f, "max(drivers of driver.age)") == 35);
    assert_true(run(f, "min(drivers of driver.age)") == 17);
    assert_true(isnan(run(f, "max(vehicles of vehicle.year where vehicle.year > 3000)")));
    assert_true(run(f, "any(drivers where driver.age < 18)") == 1);
    assert_true(run(f, "all(drivers where driver.age < 18)") == 0);
    assert_true(run(f, "count(incidents where within_months(incident.date, 36))") == 1);
    assert_true(run(f, "sum(incidents of 1 where driver.age == 17)") == 2);
}

/* Whether `text`, compiled with the vehicle current, reads only policy data. */
static bool policy_only(fixture *f, const char *text)
{
    mq_prog *p = compile_for_vehicle(f, text);
    bool only = mq_prog_policy_only(p, f->env.line);
    mq_prog_free(p);
    return only;
}

/* The lookups kept for a whole rating (BI limits) are the ones whose keys
 * read only policy data; anything of the unit, its driver or `self` is not. */
static void policy_only_programs(void **state)
{
    fixture *f = *state;
    assert_true(policy_only(f, "bi.per_person"));
    assert_true(policy_only(f, "vehicle_count >= 2 and applicant.homeowner"));
    assert_true(policy_only(f, "count(vehicles)"));
    assert_true(policy_only(f, "any(drivers where driver.age < 25)"));
    assert_true(policy_only(f, "count(incidents where driver.age < 25)")); /* incident's driver */
    assert_false(policy_only(f, "vehicle.year"));
    assert_false(policy_only(f, "driver.age"));
    assert_false(policy_only(f, "count(driver.incidents)"));
    assert_false(policy_only(f, "any(vehicles where driver.age < 25)")); /* a link may be missing */
    assert_false(policy_only(f, "count(drivers where driver.age < vehicle.year)"));
}

static void compile_errors_name_line_and_column(void **state)
{
    fixture *f = *state;
    assert_string_equal(compile_error(f, "driver.agee + 1"),
                        "plan.yaml:7:10: unknown driver field or variable \"agee\" (in "
                        "\"driver.agee + 1\")");
    assert_string_equal(compile_error(f, "1 + "),
                        "plan.yaml:7:14: unexpected end of expression (in \"1 + \")");
    assert_string_equal(compile_error(f, "driver.marital_status == \"maried\""),
                        "plan.yaml:7:35: \"maried\" is not one of: single, married, civil_union, "
                        "divorced, widowed (in \"driver.marital_status == \"maried\"\")");
    assert_string_equal(compile_error(f, "foo(1)"),
                        "plan.yaml:7:10: unknown function \"foo\" (in \"foo(1)\")");
    assert_string_equal(compile_error(f, "age(1, 2)"),
                        "plan.yaml:7:14: age() argument 1 must be a date (in \"age(1, 2)\")");
    assert_string_equal(compile_error(f, "nosuch[1]"),
                        "plan.yaml:7:10: unknown table \"nosuch\" (in \"nosuch[1]\")");
    assert_string_equal(compile_error(f, "incident.date"),
                        "plan.yaml:7:10: no current incident here (use it inside an aggregate "
                        "over incidents) (in \"incident.date\")");
    assert_string_equal(compile_error(f, "1 < 2 < 3"),
                        "plan.yaml:7:16: comparisons do not chain; use \"and\" (in \"1 < 2 < 3\")");
    assert_string_equal(compile_error(f, "2 # 3"),
                        "plan.yaml:7:12: unexpected character (in \"2 # 3\")");
    assert_string_equal(compile_error(f, "sum(drivers)"),
                        "plan.yaml:7:21: expected \"of\" and the value to aggregate (in "
                        "\"sum(drivers)\")");
}

static void deep_nesting_is_refused_not_crashed(void **state)
{
    fixture *f = *state;
    char text[2100];
    memset(text, '(', 1000);
    text[1000] = '1';
    memset(text + 1001, ')', 1000);
    text[2001] = '\0';
    mq_scope s = {.line = f->env.line};
    s.bound[MQ_ENT_POLICY] = true;
    mq_diags_free(&f->diags);
    assert_null(mq_expr_compile(&f->env, &s, text, 1, 1, NULL, NULL));
    assert_non_null(strstr(f->diags.items[0].text, "nested too deeply"));
}

/* 1 + 1 + ... nests a level per operator with no parenthesis: a chain
 * of 100000 crashed the compiler's recursion (a stack overflow in check);
 * it is refused at the 512th level, and the message quotes only the first
 * 100 bytes of the text. A chain of 500 still compiles and runs. */
static void long_operator_chains_are_refused_not_crashed(void **state)
{
    fixture *f = *state;
    enum { TERMS = 100000 };
    char *text = malloc(4 * TERMS + 2);
    assert_non_null(text);
    for (int i = 0; i < TERMS; i++)
        memcpy(text + 4 * i, "1 + ", 4);
    strcpy(text + 4 * TERMS, "1");
    assert_string_equal(compile_error(f, text),
                        "plan.yaml:7:2056: expression too deep: more than 512 levels of operators "
                        "and calls (in \"1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 "
                        "+ 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + ...\")");
    strcpy(text + 4 * 500, "1");
    assert_true(run(f, text) == 501);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(arithmetic_and_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(fields_variables_and_links, setup, teardown),
        cmocka_unit_test_setup_teardown(fused_sequences_answer_as_the_code, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_values, setup, teardown),
        cmocka_unit_test_setup_teardown(dates_and_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(aggregates, setup, teardown),
        cmocka_unit_test_setup_teardown(policy_only_programs, setup, teardown),
        cmocka_unit_test_setup_teardown(compile_errors_name_line_and_column, setup, teardown),
        cmocka_unit_test_setup_teardown(deep_nesting_is_refused_not_crashed, setup, teardown),
        cmocka_unit_test_setup_teardown(long_operator_chains_are_refused_not_crashed, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("expr", tests, NULL, NULL);
}
