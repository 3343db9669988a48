/* fuzz_expr.c -- libFuzzer target: the plan expression compiler and its stack machine.
 *
 * The input's first byte picks the scope the expression is written in
 * (policy, driver, vehicle or incident of the auto line, as a plan's
 * variables and steps are); the rest is the expression text. It is compiled
 * with mq_expr_compile against two declared variables (driver.age,
 * vehicle_count) and, when it compiles, run by the VM on a small request
 * (two drivers, one vehicle, two incidents), as tests/unit/test_expr.c does.
 */
#include "internal.h"

#include "fuzz_util.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool build_input(mq_arena *a, mq_input *in)
{
    int32_t count[MQ_ENT_COUNT] = {1, 2, 1, 2};
    if (!mq_input_alloc(in, a, MQ_LINE_AUTO, count))
        return false;
    in->effective_date = mq_date_from_ymd(2026, 3, 1);
    in->state = mq_symbol_find(MQ_DOM_STATE, "OH");
    double *p = mq_input_row(in, MQ_ENT_POLICY, 0);
    p[MQ_AP_EFFECTIVE_DATE] = in->effective_date;
    p[MQ_AP_BI_PER_PERSON] = 100000;
    double *d0 = mq_input_row(in, MQ_ENT_DRIVER, 0), *d1 = mq_input_row(in, MQ_ENT_DRIVER, 1);
    d0[MQ_AD_DATE_OF_BIRTH] = mq_date_from_ymd(1990, 6, 15);
    d0[MQ_AD_MARITAL] = mq_symbol_find(MQ_DOM_MARITAL, "married");
    d1[MQ_AD_DATE_OF_BIRTH] = mq_date_from_ymd(2008, 2, 29);
    d1[MQ_AD_STUDENT_GPA] = 3.4;
    double *v = mq_input_row(in, MQ_ENT_VEHICLE, 0);
    v[MQ_AV_YEAR] = 2004;
    v[MQ_AV_PRINCIPAL_DRIVER] = 1;
    in->start[MQ_ENT_INCIDENT][0] = 0;
    in->start[MQ_ENT_INCIDENT][1] = 0;
    in->start[MQ_ENT_INCIDENT][2] = 2;
    double *i0 = mq_input_row(in, MQ_ENT_INCIDENT, 0), *i1 = mq_input_row(in, MQ_ENT_INCIDENT, 1);
    i0[MQ_AI_TYPE] = mq_symbol_find(MQ_DOM_INCIDENT, "speeding");
    i0[MQ_AI_DATE] = mq_date_from_ymd(2025, 8, 10);
    i0[MQ_AI_MPH_OVER] = 18;
    i1[MQ_AI_TYPE] = mq_symbol_find(MQ_DOM_INCIDENT, "dui");
    i1[MQ_AI_DATE] = mq_date_from_ymd(2023, 3, 1);
    return true;
}

static void run(const mq_input *in, const mq_line_def *line, mq_entity_kind kind, const mq_prog *p)
{
    double drv_vars[2] = {35, 17}, pol_vars[1] = {1};
    mq_vm vm = {.in = in, .line = line};
    vm.vars[MQ_ENT_DRIVER] = drv_vars;
    vm.nvars[MQ_ENT_DRIVER] = 1;
    vm.vars[MQ_ENT_POLICY] = pol_vars;
    vm.nvars[MQ_ENT_POLICY] = 1;
    int32_t parents[2] = {1, 1};
    vm.parent_of[MQ_ENT_INCIDENT] = parents;
    mq_vm_start(&vm);
    if (kind != MQ_ENT_POLICY)
        mq_vm_enter(&vm, kind, 0);
    double out;
    (void)mq_vm_eval(&vm, p, &out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return -1;
    static const mq_entity_kind kinds[] = {MQ_ENT_POLICY, MQ_ENT_DRIVER, MQ_ENT_VEHICLE,
                                           MQ_ENT_INCIDENT};
    mq_entity_kind kind = kinds[data[0] % 4];
    char *text = fz_strndup(data + 1, size - 1);
    if (!text)
        return 0;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_diags d = {0};
    mq_var_decl vars[2] = {{.name = "age", .kind = MQ_ENT_DRIVER, .slot = 0},
                           {.name = "vehicle_count", .kind = MQ_ENT_POLICY, .slot = 0}};
    mq_compile_env env = {.line = mq_line_get(MQ_LINE_AUTO),
                          .vars = vars,
                          .nvars = 2,
                          .file = "plan.yaml",
                          .diags = &d};
    mq_scope s = {.line = env.line};
    s.bound[MQ_ENT_POLICY] = true;
    if (kind != MQ_ENT_POLICY)
        mq_scope_enter(&s, kind);
    mq_prog *p = mq_expr_compile(&env, &s, text, 1, 1, NULL, NULL);
    if (p && build_input(&a, &in))
        run(&in, env.line, kind, p);
    mq_prog_free(p);
    free(env.deps);
    mq_diags_free(&d);
    mq_arena_free(&a);
    free(text);
    return 0;
}
