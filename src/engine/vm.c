/* vm.c -- runs compiled plan expressions.
 *
 * A program is a short list of stack instructions over doubles (internal.h
 * documents each one). When expr.c finishes a program (mq_prog_finish) its
 * shape is settled once: one constant, one load, or one load compared with
 * a constant runs inline in mq_vm_run without entering the interpreter loop
 * (FORM_*); one aggregate goes straight to its loop (FORM_AGG), and a
 * lookup keyed by one load, within_months of a field, the age between two
 * fields and tests joined by `and` only or `or` only each to a small
 * function of its own (mq_vm_eval jumps there before the interpreter's
 * costly set-up); everything else runs here, directly threaded (each
 * instruction's handler jumps to the next one's; an OP_END closes the
 * code). The stack is a pointer to its next free place, not an index.
 *
 * Before running, mq_prog_finish rewrites a copy of the code (mq_prog.run,
 * the same length, so jumps land where they did): a call of a common
 * builtin (age, within_months, year, max and min of two, default) gets its
 * own handler without call_builtin's argument loop and switch, and a few
 * common sequences are one instruction that skips the rest of its slots,
 * the second of which holds what the first cannot: a load compared with a
 * constant (`incident.type == "dui"`) or with the same field of the entity
 * whose variable is computed (`member.date_of_birth < self.date_of_birth`),
 * with the OP_TRUTH after it when there is one, or with the OP_AND, OP_OR
 * or OP_JFALSE that takes its 0 or 1 (one test and a jump instead of a
 * push, a dispatch and a test of the pushed value), within_months of a
 * field and a constant, the age between two fields, and a lookup keyed by
 * one field or variable. The compiled code stays as it was for the
 * analyses that read it (reads.c, mq_prog_policy_only).
 *
 * Loads read the current entity's row of the request or of the derived
 * variables through the cursor (mq_cursor, kept by mq_vm_enter), so a load is
 * one indexed read; lookups index a compiled table matrix; aggregates loop
 * over a list, making each element current, and run their condition and
 * value sub-programs. Missing values are NaN and flow through arithmetic; a
 * lookup that finds no row stops the program and is reported to the caller,
 * which applies the table's `missing:` rule. The effective date's year,
 * month and day and the within_months windows are worked out once per
 * rating (mq_vm_start), not at every use. Nothing here allocates.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline bool truth(double x)
{
    return x != 0 && !isnan(x);
}

void mq_vm_shape_of(const mq_line_def *l, mq_vm_shape *shape)
{
    for (int k = 0; k < MQ_ENT_COUNT; k++) {
        int f = l->link_plus1[k] - 1;
        shape->up[k] = (int8_t)(l->parent[k] != MQ_ENT_POLICY ? (int)l->parent[k] : -1);
        shape->link_field[k] = (int16_t)f;
        shape->link_kind[k] = (int8_t)(f >= 0 ? (int)l->fields[k][f].link : -1);
    }
}

const double mq_vm_none[MQ_ROW_MAX] = {[0 ... MQ_ROW_MAX - 1] = NAN};

_Static_assert(MQ_AUTO_POLICY_NFIELDS <= MQ_ROW_MAX && MQ_AUTO_DRIVER_NFIELDS <= MQ_ROW_MAX &&
                   MQ_AUTO_VEHICLE_NFIELDS <= MQ_ROW_MAX &&
                   MQ_AUTO_INCIDENT_NFIELDS <= MQ_ROW_MAX && MQ_HOME_POLICY_NFIELDS <= MQ_ROW_MAX &&
                   MQ_CLAIM_NFIELDS <= MQ_ROW_MAX && MQ_LIFE_POLICY_NFIELDS <= MQ_ROW_MAX &&
                   MQ_HEALTH_POLICY_NFIELDS <= MQ_ROW_MAX && MQ_MEMBER_NFIELDS <= MQ_ROW_MAX,
               "a line's fields per kind fit in mq_vm_none");

void mq_vm_start(mq_vm *vm)
{
    mq_vm_shape shape;
    mq_vm_shape_of(vm->line, &shape);
    mq_vm_start_shaped(vm, &shape);
}

void mq_vm_start_shaped(mq_vm *vm, const mq_vm_shape *shape)
{
    mq_ymd eff = mq_date_ymd(vm->in->effective_date);
    vm->eff_y = eff.y;
    vm->eff_m = eff.m;
    vm->eff_d = eff.d;
    vm->nwindows = 0;
    vm->shape = *shape;
    for (int k = 0; k < MQ_ENT_COUNT; k++) {
        vm->values[k] = vm->in->values[k] ? vm->in->values[k] : mq_vm_none;
        vm->nfields[k] = vm->in->values[k] ? vm->line->nfields[k] : 0;
        if (!vm->vars[k]) {
            vm->vars[k] = (double *)mq_vm_none; /* never written: see internal.h */
            vm->nvars[k] = 0;
        }
        mq_vm_set_current(vm, k, 0);
    }
}

static int months_between(const mq_vm *vm, int32_t from, int32_t to)
{
    if (to < from)
        return -months_between(vm, to, from);
    return mq_ymd_months_between(mq_vm_ymd(vm, from), mq_vm_ymd(vm, to));
}

/* The first day after "effective date minus `months` months", remembered
 * for the rating (plans ask for the same few windows over and over). */
static int32_t window_start(mq_vm *vm, int months)
{
    for (int i = 0; i < vm->nwindows; i++)
        if (vm->window_months[i] == months)
            return vm->window_start[i];
    int32_t start = mq_ymd_add_months(mq_vm_ymd(vm, vm->in->effective_date), -months);
    if (vm->nwindows < (int)(sizeof vm->window_months / sizeof vm->window_months[0])) {
        vm->window_months[vm->nwindows] = months;
        vm->window_start[vm->nwindows++] = start;
    }
    return start;
}

/* within_months(day, months): NaN when either is missing or the window
 * is beyond 1,000 years. */
static inline double within_months(mq_vm *vm, double day, double months)
{
    if (isnan(day) || isnan(months) || fabs(months) > 12000)
        return NAN;
    return day > window_start(vm, (int)months) && day <= vm->in->effective_date;
}

static double call_builtin(mq_vm *vm, mq_builtin fn, const double *a, int n)
{
    for (int i = 0; i < n; i++)
        if (isnan(a[i]) && fn != FN_HAS && fn != FN_DEFAULT)
            return NAN;
    mq_ymd ymd;
    switch (fn) {
    case FN_AGE:
    case FN_YEARS_BETWEEN:
        return mq_ymd_age(mq_vm_ymd(vm, (int32_t)a[0]), mq_vm_ymd(vm, (int32_t)a[1]));
    case FN_MONTHS_BETWEEN:
        return months_between(vm, (int32_t)a[0], (int32_t)a[1]);
    case FN_ADD_MONTHS:
        return fabs(a[1]) > 12000 ? NAN
                                  : mq_ymd_add_months(mq_vm_ymd(vm, (int32_t)a[0]), (int)a[1]);
    case FN_WITHIN_MONTHS:
        return within_months(vm, a[0], a[1]);
    case FN_YEAR:
    case FN_MONTH:
    case FN_DAY:
        ymd = mq_vm_ymd(vm, (int32_t)a[0]);
        return fn == FN_YEAR ? ymd.y : fn == FN_MONTH ? ymd.m : ymd.d;
    case FN_MIN:
    case FN_MAX: {
        double r = a[0];
        for (int i = 1; i < n; i++)
            r = (fn == FN_MIN) == (a[i] < r) ? a[i] : r;
        return r;
    }
    case FN_ABS:
        return fabs(a[0]);
    case FN_FLOOR:
        return floor(a[0]);
    case FN_CEIL:
        return ceil(a[0]);
    case FN_ROUND:
        return a[1] > 0 ? floor(a[0] / a[1] + 0.5 + 1e-9) * a[1] : NAN;
    case FN_HAS:
        return !isnan(a[0]);
    case FN_DEFAULT:
        return isnan(a[0]) ? a[1] : a[0];
    case FN_AGE_NEAREST:
        return mq_date_age_nearest((int32_t)a[0], (int32_t)a[1]);
    }
    return NAN;
}

double mq_vm_builtin(mq_vm *vm, int fn, const double *args, int n)
{
    return call_builtin(vm, (mq_builtin)fn, args, n);
}

double mq_vm_within(mq_vm *vm, double day, double months)
{
    return within_months(vm, day, months);
}

/* Records a failed lookup for the caller's `missing:` rule. */
static void missed(mq_vm *vm, const mq_table *t, const double *keys, int nkeys)
{
    vm->miss_table = t;
    vm->miss_nkeys = nkeys < 8 ? nkeys : 8;
    for (int k = 0; k < vm->miss_nkeys; k++)
        vm->miss_keys[k] = keys[k];
}

/* The trace already holds this lookup (an expression may look the same
 * row up in each of its branches). */
static bool trace_has(const mq_vm_trace *tr, const mq_table *t, const double *keys, int nkeys,
                      bool interpolated)
{
    for (int i = 0; i < tr->n; i++) {
        const mq_vm_lookup *l = &tr->items[i];
        bool same = l->table == t && l->nkeys == nkeys && l->interpolated == interpolated;
        for (int k = 0; same && k < nkeys; k++)
            same = l->keys[k] == keys[k] || (isnan(l->keys[k]) && isnan(keys[k]));
        if (same)
            return true;
    }
    return false;
}

/* Adds a lookup to the worksheet's trace (vm->trace set), once. */
static __attribute__((noinline)) void traced(mq_vm *vm, const mq_table *t, const double *keys,
                                             int nkeys, bool interpolated)
{
    mq_vm_trace *tr = vm->trace;
    if (nkeys > 8)
        nkeys = 8;
    if (trace_has(tr, t, keys, nkeys, interpolated))
        return;
    if (tr->n == MQ_VM_TRACE_MAX) {
        tr->more++;
        return;
    }
    mq_vm_lookup *l = &tr->items[tr->n++];
    l->table = t;
    l->nkeys = nkeys;
    for (int k = 0; k < l->nkeys; k++)
        l->keys[k] = keys[k];
    l->interpolated = interpolated;
}

/* count/sum/max/min/any/all over a list; false on a failed lookup. Kept
 * out of mq_vm_eval: inlined, it made every program dearer (health's
 * comparison by 2%). A program that is one aggregate (FORM_AGG) comes
 * here from mq_vm_run without entering the interpreter. */
__attribute__((noinline)) bool mq_vm_aggregate(mq_vm *vm, const mq_agg *g, double *out)
{
    const mq_line_def *l = vm->line;
    mq_entity_kind k = g->over;
    int32_t from = 0, to = vm->in->count[k];
    if (g->children_of_current) {
        int32_t owner = vm->cur.at[l->parent[k]];
        from = vm->in->start[k][owner];
        to = vm->in->start[k][owner + 1];
    }
    if (g->sized) { /* `count(vehicles)`: how many there are */
        int32_t n = to > from ? to - from : 0;
        *out = g->kind == AGG_COUNT ? n : g->kind == AGG_ANY ? n > 0 : 1;
        return true;
    }
    mq_cursor saved = vm->cur;
    double acc = g->start;
    bool ok = true;
    for (int32_t i = from; i < to && ok; i++) {
        mq_vm_enter(vm, k, i);
        double c = 1, v = 0;
        if (g->cond && !(ok = mq_vm_run(vm, g->cond, &c)))
            break;
        if (g->kind == AGG_ALL) {
            if (!truth(c)) {
                acc = 0;
                break;
            }
            continue;
        }
        if (!truth(c))
            continue;
        if (g->value && !(ok = mq_vm_run(vm, g->value, &v)))
            break;
        switch (g->kind) {
        case AGG_COUNT:
            acc += 1;
            break;
        case AGG_SUM:
            acc += v;
            break;
        case AGG_MAX:
            acc = (isnan(acc) || v > acc) ? v : acc;
            break;
        case AGG_MIN:
            acc = (isnan(acc) || v < acc) ? v : acc;
            break;
        case AGG_ANY:
            acc = 1;
            i = to;
            break;
        case AGG_ALL:
            break;
        }
    }
    vm->cur = saved;
    *out = acc;
    return ok;
}

/* The interpreter is directly threaded: each handler jumps straight to the
 * next instruction's handler through `handler` (labels as values, a GNU C
 * extension of GCC and Clang), with no loop test or switch bounds check per
 * instruction. The OP_END that mq_prog_finish puts after the code stops it. */
#define DISPATCH() goto *handler[in->op]
#define NEXT()                                                                                     \
    do {                                                                                           \
        in++;                                                                                      \
        DISPATCH();                                                                                \
    } while (0)
#define JUMP_TO(target)                                                                            \
    do {                                                                                           \
        in = code + (target);                                                                      \
        DISPATCH();                                                                                \
    } while (0)
#define BINARY(EXPR)                                                                               \
    do {                                                                                           \
        double b = *--sp, a = sp[-1];                                                              \
        sp[-1] = (EXPR);                                                                           \
        NEXT();                                                                                    \
    } while (0)

/* A load compared with a constant (in[1]: the comparison and the constant)
 * and the OP_AND, OP_OR or OP_JFALSE in in[3] that takes its 0 or 1, as
 * that instruction would: the first two push the value that decides and
 * jump, or go on with nothing pushed; the last jumps when false. */
#define CMP_AND(LOAD)                                                                              \
    do {                                                                                           \
        if (!mq_vm_compare(in[1].op, (LOAD), p->k[in[1].b])) {                                     \
            *sp++ = 0;                                                                             \
            JUMP_TO(in[3].b);                                                                      \
        }                                                                                          \
        in += 4;                                                                                   \
        DISPATCH();                                                                                \
    } while (0)
#define CMP_OR(LOAD)                                                                               \
    do {                                                                                           \
        if (mq_vm_compare(in[1].op, (LOAD), p->k[in[1].b])) {                                      \
            *sp++ = 1;                                                                             \
            JUMP_TO(in[3].b);                                                                      \
        }                                                                                          \
        in += 4;                                                                                   \
        DISPATCH();                                                                                \
    } while (0)
#define CMP_JFALSE(LOAD)                                                                           \
    do {                                                                                           \
        if (!mq_vm_compare(in[1].op, (LOAD), p->k[in[1].b]))                                       \
            JUMP_TO(in[3].b);                                                                      \
        in += 4;                                                                                   \
        DISPATCH();                                                                                \
    } while (0)

/* The interpreter proper, for FORM_VM programs (mq_vm_eval). */
static __attribute__((noinline)) bool interpret(mq_vm *vm, const mq_prog *p, double *out)
{
    static const void *const handler[] = {
        [OP_CONST] = &&op_const,
        [OP_FIELD] = &&op_field,
        [OP_VAR] = &&op_var,
        [OP_NEG] = &&op_neg,
        [OP_NOT] = &&op_not,
        [OP_ADD] = &&op_add,
        [OP_SUB] = &&op_sub,
        [OP_MUL] = &&op_mul,
        [OP_DIV] = &&op_div,
        [OP_LT] = &&op_lt,
        [OP_LE] = &&op_le,
        [OP_GT] = &&op_gt,
        [OP_GE] = &&op_ge,
        [OP_EQ] = &&op_eq,
        [OP_NE] = &&op_ne,
        [OP_TRUTH] = &&op_truth,
        [OP_AND] = &&op_and,
        [OP_OR] = &&op_or,
        [OP_JFALSE] = &&op_jfalse,
        [OP_JUMP] = &&op_jump,
        [OP_CALL] = &&op_call,
        [OP_LOOKUP] = &&op_lookup,
        [OP_AGG] = &&op_agg,
        [OP_SELF] = &&op_self,
        [OP_INDEX] = &&op_index,
        [OP_SELF_INDEX] = &&op_self_index,
        [OP_INTERP] = &&op_interp,
        [OP_END] = &&op_end,
        [OP_AGE] = &&op_age,
        [OP_WITHIN] = &&op_within,
        [OP_YEAR] = &&op_year,
        [OP_MAX2] = &&op_max2,
        [OP_MIN2] = &&op_min2,
        [OP_DEFAULT] = &&op_default,
        [OP_FIELD_CMP] = &&op_field_cmp,
        [OP_VAR_CMP] = &&op_var_cmp,
        [OP_FIELD_WITHIN] = &&op_field_within,
        [OP_FIELD_SELF_CMP] = &&op_field_self_cmp,
        [OP_LOAD_LOOKUP] = &&op_load_lookup,
        [OP_FIELD_CMP_AND] = &&op_field_cmp_and,
        [OP_VAR_CMP_AND] = &&op_var_cmp_and,
        [OP_FIELD_CMP_OR] = &&op_field_cmp_or,
        [OP_VAR_CMP_OR] = &&op_var_cmp_or,
        [OP_FIELD_CMP_JFALSE] = &&op_field_cmp_jfalse,
        [OP_VAR_CMP_JFALSE] = &&op_var_cmp_jfalse,
        [OP_FIELDS_AGE] = &&op_fields_age,
    };
    _Static_assert(sizeof handler / sizeof handler[0] == OP_RUN_COUNT, "a handler per opcode");
    double stack[64], *sp = stack; /* the next free place */
    const mq_ins *code = p->run, *in = code;
    DISPATCH();
op_const:
    *sp++ = p->k[in->b];
    NEXT();
op_field:
    *sp++ = vm->cur.rows[mq_row_of_field(in->a)][in->b];
    NEXT();
op_var:
    *sp++ = vm->cur.rows[mq_row_of_var(in->a)][in->b];
    NEXT();
op_neg:
    sp[-1] = -sp[-1];
    NEXT();
op_not:
    sp[-1] = !truth(sp[-1]);
    NEXT();
op_truth:
    sp[-1] = truth(sp[-1]);
    NEXT();
op_add:
    BINARY(a + b);
op_sub:
    BINARY(a - b);
op_mul:
    BINARY(a * b);
op_div:
    BINARY(b == 0 ? NAN : a / b);
op_lt:
    BINARY(a < b);
op_le:
    BINARY(a <= b);
op_gt:
    BINARY(a > b);
op_ge:
    BINARY(a >= b);
op_eq:
    BINARY(a == b);
op_ne:
    BINARY(!isnan(a) && !isnan(b) && a != b);
op_and:
    if (!truth(sp[-1])) {
        sp[-1] = 0;
        JUMP_TO(in->b);
    }
    sp--;
    NEXT();
op_or:
    if (truth(sp[-1])) {
        sp[-1] = 1;
        JUMP_TO(in->b);
    }
    sp--;
    NEXT();
op_jfalse:
    if (!truth(*--sp))
        JUMP_TO(in->b);
    NEXT();
op_jump:
    JUMP_TO(in->b);
op_call:
    sp -= in->b;
    *sp = call_builtin(vm, (mq_builtin)in->a, sp, in->b);
    sp++;
    NEXT();
op_lookup : {
    const mq_lookup *lk = &p->lookups[in->b];
    sp -= in->a;
    double v = mq_table_lookup(lk->table, sp, lk->column);
    if (__builtin_expect(vm->trace != NULL, 0))
        traced(vm, lk->table, sp, in->a, false);
    if (isnan(v)) {
        missed(vm, lk->table, sp, in->a);
        return false;
    }
    *sp++ = v;
    NEXT();
}
op_agg:
    if (!mq_vm_aggregate(vm, &p->aggs[in->b], sp))
        return false;
    sp++;
    NEXT();
op_self:
    *sp++ = vm->values[in->a][(size_t)vm->self[in->a] * (size_t)vm->nfields[in->a] + in->b];
    NEXT();
op_index:
    *sp++ = vm->cur.at[in->a];
    NEXT();
op_self_index:
    *sp++ = vm->self[in->a];
    NEXT();
op_interp : {
    const mq_lookup *lk = &p->lookups[in->b];
    double x = sp[-1];
    double v = mq_table_interpolate(lk->table, x, lk->column);
    if (__builtin_expect(vm->trace != NULL, 0))
        traced(vm, lk->table, &x, 1, true);
    if (isnan(v)) {
        missed(vm, lk->table, &x, 1);
        return false;
    }
    sp[-1] = v;
    NEXT();
}
op_age:
    sp--;
    sp[-1] = isnan(sp[-1]) || isnan(sp[0])
                 ? NAN
                 : mq_ymd_age(mq_vm_ymd(vm, (int32_t)sp[-1]), mq_vm_ymd(vm, (int32_t)sp[0]));
    NEXT();
op_within:
    sp--;
    sp[-1] = within_months(vm, sp[-1], sp[0]);
    NEXT();
op_year:
    sp[-1] = isnan(sp[-1]) ? NAN : mq_vm_ymd(vm, (int32_t)sp[-1]).y;
    NEXT();
op_max2:
    sp--;
    sp[-1] = isnan(sp[-1]) || isnan(sp[0]) ? NAN : sp[0] < sp[-1] ? sp[-1] : sp[0];
    NEXT();
op_min2:
    sp--;
    sp[-1] = isnan(sp[-1]) || isnan(sp[0]) ? NAN : sp[0] < sp[-1] ? sp[0] : sp[-1];
    NEXT();
op_default:
    sp--;
    sp[-1] = isnan(sp[-1]) ? sp[0] : sp[-1];
    NEXT();
op_field_cmp:
    *sp++ = mq_vm_compare(in[1].op, vm->cur.rows[mq_row_of_field(in->a)][in->b], p->k[in[1].b]);
    in += in[1].a; /* 3, or 4 over an OP_TRUTH of the 0 or 1 it gives */
    DISPATCH();
op_var_cmp:
    *sp++ = mq_vm_compare(in[1].op, vm->cur.rows[mq_row_of_var(in->a)][in->b], p->k[in[1].b]);
    in += in[1].a;
    DISPATCH();
op_field_cmp_and:
    CMP_AND(vm->cur.rows[mq_row_of_field(in->a)][in->b]);
op_var_cmp_and:
    CMP_AND(vm->cur.rows[mq_row_of_var(in->a)][in->b]);
op_field_cmp_or:
    CMP_OR(vm->cur.rows[mq_row_of_field(in->a)][in->b]);
op_var_cmp_or:
    CMP_OR(vm->cur.rows[mq_row_of_var(in->a)][in->b]);
op_field_cmp_jfalse:
    CMP_JFALSE(vm->cur.rows[mq_row_of_field(in->a)][in->b]);
op_var_cmp_jfalse:
    CMP_JFALSE(vm->cur.rows[mq_row_of_var(in->a)][in->b]);
op_field_self_cmp : {
    const mq_ins *self = &in[1]; /* the OP_SELF */
    double mine = vm->values[self->a][(size_t)vm->self[self->a] * (size_t)vm->nfields[self->a] +
                                      (size_t)self->b];
    *sp++ = mq_vm_compare(in[2].op, vm->cur.rows[mq_row_of_field(in->a)][in->b], mine);
    in += in[2].a;
    DISPATCH();
}
op_load_lookup : {
    const mq_lookup *lk = &p->lookups[in[1].b];
    double key = vm->cur.rows[in->a][in->b];
    double v = mq_table_lookup(lk->table, &key, lk->column);
    if (__builtin_expect(vm->trace != NULL, 0))
        traced(vm, lk->table, &key, 1, false);
    if (isnan(v)) {
        missed(vm, lk->table, &key, 1);
        return false;
    }
    *sp++ = v;
    in += 2;
    DISPATCH();
}
op_field_within:
    *sp++ = within_months(vm, vm->cur.rows[mq_row_of_field(in->a)][in->b], p->k[in[1].b]);
    in += 3;
    DISPATCH();
op_fields_age : {
    double birth = vm->cur.rows[mq_row_of_field(in->a)][in->b],
           on = vm->cur.rows[mq_row_of_field(in[1].a)][in[1].b];
    *sp++ = isnan(birth) || isnan(on)
                ? NAN
                : mq_ymd_age(mq_vm_ymd(vm, (int32_t)birth), mq_vm_ymd(vm, (int32_t)on));
    in += 3;
    DISPATCH();
}
op_end:
    *out = sp > stack ? sp[-1] : NAN;
    return true;
}

/* The forms mq_vm_eval runs without the interpreter, each a function of
 * its own that mq_vm_eval jumps to (a tail call), so that none of them, nor
 * the interpreter, pays for the registers another needs. */
#define FORM_RUNNER static __attribute__((noinline)) bool

/* FORM_ALL, FORM_ANY: whether every test holds, or one does. The tests
 * are pure, so stopping at the first that decides gives what the code's
 * jumps give. */
FORM_RUNNER run_tests(mq_vm *vm, const mq_prog *p, double *out)
{
    bool any = p->form == FORM_ANY;
    for (int i = 0; i < p->ntests; i++) {
        const mq_test *t = &p->tests[i];
        if ((mq_vm_compare(t->cmp, vm->cur.rows[t->rows][t->index], t->k) != 0) == any) {
            *out = any;
            return true;
        }
    }
    *out = !any;
    return true;
}

/* FORM_LOOKUP: what OP_LOAD_LOOKUP does. */
FORM_RUNNER run_lookup(mq_vm *vm, const mq_prog *p, double *out)
{
    double key = vm->cur.rows[p->rows][p->index];
    *out = mq_table_lookup(p->lookups[0].table, &key, p->lookups[0].column);
    if (__builtin_expect(vm->trace != NULL, 0))
        traced(vm, p->lookups[0].table, &key, 1, false);
    if (isnan(*out)) {
        missed(vm, p->lookups[0].table, &key, 1);
        return false;
    }
    return true;
}

/* FORM_WITHIN: what OP_FIELD_WITHIN does. */
FORM_RUNNER run_within(mq_vm *vm, const mq_prog *p, double *out)
{
    *out = within_months(vm, vm->cur.rows[p->rows][p->index], p->k0);
    return true;
}

/* FORM_AGE: what OP_FIELDS_AGE does. */
FORM_RUNNER run_age(mq_vm *vm, const mq_prog *p, double *out)
{
    double birth = vm->cur.rows[p->rows][p->index], on = vm->cur.rows[p->rows2][p->index2];
    *out = isnan(birth) || isnan(on)
               ? NAN
               : mq_ymd_age(mq_vm_ymd(vm, (int32_t)birth), mq_vm_ymd(vm, (int32_t)on));
    return true;
}

#undef FORM_RUNNER

bool mq_vm_eval(mq_vm *vm, const mq_prog *p, double *out)
{
    switch ((mq_form)p->form) {
    case FORM_AGG:
        return mq_vm_aggregate(vm, p->aggs, out);
    case FORM_LOOKUP:
        return run_lookup(vm, p, out);
    case FORM_WITHIN:
        return run_within(vm, p, out);
    case FORM_AGE:
        return run_age(vm, p, out);
    case FORM_ALL:
    case FORM_ANY:
        return run_tests(vm, p, out);
    default:
        return interpret(vm, p, out);
    }
}

#undef CMP_JFALSE
#undef CMP_OR
#undef CMP_AND
#undef BINARY
#undef JUMP_TO
#undef NEXT
#undef DISPATCH

/* ---- Finishing a program ---------------------------------------------- */

static uint16_t call_opcode(int fn, int n);

static bool is_load(const mq_ins *c)
{
    return c->op == OP_FIELD || c->op == OP_VAR;
}

/* Where a load (is_load) finds its row in mq_cursor.rows. */
static uint16_t row_of_load(const mq_ins *c)
{
    return (uint16_t)(c->op == OP_FIELD ? mq_row_of_field(c->a) : mq_row_of_var(c->a));
}

/* Whether the code at i is a load compared with a constant, and the
 * position after it (and after an OP_TRUTH that follows it) in *next. */
static bool is_test(const mq_prog *p, int i, int *next)
{
    const mq_ins *c = &p->code[i];
    if (i + 2 >= p->ncode || !is_load(c) || c[1].op != OP_CONST || c[2].op < OP_LT ||
        c[2].op > OP_NE)
        return false;
    *next = i + 3 < p->ncode && c[3].op == OP_TRUTH ? i + 4 : i + 3;
    return true;
}

/* FORM_ALL or FORM_ANY when the code is tests joined by OP_AND only, or by
 * OP_OR only, each jumping to the end or to a later join of its kind (which
 * takes the 0 or 1 on to the end): `(a and b) and c` compiles so. A test
 * gives 0 or 1, as does the chain. False when out of memory. */
static bool classify_tests(mq_prog *p)
{
    int n = 0, join = -1, i = 0, next = -1;
    while (is_test(p, i, &next)) {
        n++;
        if (next == p->ncode)
            break;
        int op = p->code[next].op;
        if ((op != OP_AND && op != OP_OR) || (join >= 0 && op != join))
            return true;
        join = op;
        i = next + 1;
    }
    if (n < 2 || next != p->ncode)
        return true;
    for (int j = 0; j < p->ncode; j++) { /* every join jumps forward to a join or the end */
        const mq_ins *c = &p->code[j];
        if (c->op == OP_JFALSE || c->op == OP_JUMP)
            return true;
        if ((c->op == OP_AND || c->op == OP_OR) &&
            (c->b <= j || (c->b < p->ncode && p->code[c->b].op != join)))
            return true;
    }
    mq_test *tests = malloc(sizeof(mq_test) * (size_t)n);
    if (!tests)
        return false;
    for (int t = 0, at = 0; t < n; t++) {
        const mq_ins *c = &p->code[at];
        tests[t] = (mq_test){row_of_load(c), (uint8_t)c[2].op, c->b, p->k[c[1].b]};
        is_test(p, at, &next);
        at = next + 1;
    }
    free(p->tests);
    p->tests = tests;
    p->ntests = n;
    p->form = join == OP_AND ? FORM_ALL : FORM_ANY;
    return true;
}

/* The shape of the code (FORM_*), or FORM_VM. False when out of memory. */
static bool classify(mq_prog *p)
{
    const mq_ins *c = p->code;
    p->form = FORM_VM;
    if (p->ncode == 1 && c[0].op == OP_CONST) {
        p->form = FORM_CONST;
        p->k0 = p->k[c[0].b];
    } else if (p->ncode == 1 && (c[0].op == OP_FIELD || c[0].op == OP_VAR)) {
        p->form = FORM_LOAD;
        p->rows = (uint16_t)(c[0].op == OP_FIELD ? mq_row_of_field(c[0].a) : mq_row_of_var(c[0].a));
        p->index = c[0].b;
    } else if (p->ncode == 3 && (c[0].op == OP_FIELD || c[0].op == OP_VAR) && c[1].op == OP_CONST &&
               c[2].op >= OP_LT && c[2].op <= OP_NE) {
        p->form = FORM_CMP; /* `driver.points >= 12`, `incident.type == "dui"` */
        p->rows = (uint16_t)(c[0].op == OP_FIELD ? mq_row_of_field(c[0].a) : mq_row_of_var(c[0].a));
        p->index = c[0].b;
        p->k0 = p->k[c[1].b];
        p->cmp = (uint8_t)c[2].op;
    } else if (p->ncode == 1 && c[0].op == OP_AGG && c[0].b == 0) {
        p->form = FORM_AGG;
    } else if (p->ncode == 2 && is_load(c) && c[1].op == OP_LOOKUP && c[1].a == 1 && c[1].b == 0) {
        p->form = FORM_LOOKUP;
        p->rows = row_of_load(c);
        p->index = c[0].b;
    } else if (p->ncode == 3 && c[0].op == OP_FIELD && c[1].op == OP_CONST && c[2].op == OP_CALL &&
               call_opcode(c[2].a, c[2].b) == OP_WITHIN) {
        p->form = FORM_WITHIN;
        p->rows = row_of_load(c);
        p->index = c[0].b;
        p->k0 = p->k[c[1].b];
    } else if (p->ncode == 3 && c[0].op == OP_FIELD && c[1].op == OP_FIELD && c[2].op == OP_CALL &&
               call_opcode(c[2].a, c[2].b) == OP_AGE) {
        p->form = FORM_AGE;
        p->rows = row_of_load(&c[0]);
        p->index = c[0].b;
        p->rows2 = row_of_load(&c[1]);
        p->index2 = c[1].b;
    } else {
        return classify_tests(p);
    }
    return true;
}

/* The run-only opcode of a call to builtin `fn` with n arguments, or
 * OP_CALL. Each does what call_builtin does for it. */
static uint16_t call_opcode(int fn, int n)
{
    switch (fn) {
    case FN_AGE:
    case FN_YEARS_BETWEEN:
        return n == 2 ? OP_AGE : OP_CALL;
    case FN_WITHIN_MONTHS:
        return n == 2 ? OP_WITHIN : OP_CALL;
    case FN_YEAR:
        return n == 1 ? OP_YEAR : OP_CALL;
    case FN_MAX:
        return n == 2 ? OP_MAX2 : OP_CALL;
    case FN_MIN:
        return n == 2 ? OP_MIN2 : OP_CALL;
    case FN_DEFAULT:
        return n == 2 ? OP_DEFAULT : OP_CALL;
    default:
        return OP_CALL;
    }
}

/* Whether instruction i is where a jump lands (then it cannot be the
 * middle of a fused sequence). */
static bool jump_target(const mq_prog *p, int i)
{
    for (int j = 0; j < p->ncode; j++) {
        int op = p->code[j].op;
        if ((op == OP_AND || op == OP_OR || op == OP_JFALSE || op == OP_JUMP) && p->code[j].b == i)
            return true;
    }
    return false;
}

/* Whether code[i] is `op`, with no jump landing on it. */
static bool fusable(const mq_prog *p, int i, int op)
{
    return i < p->ncode && p->code[i].op == op && !jump_target(p, i);
}

/* The number of slots the fused instruction at i covers (0: none) and its
 * run form in run[i] and run[i + 1] (the data slot). */
static int fuse(const mq_prog *p, int i, mq_ins *run)
{
    const mq_ins *c = &p->code[i];
    if ((c->op == OP_FIELD || c->op == OP_VAR) && fusable(p, i + 1, OP_LOOKUP) && c[1].a == 1) {
        /* `territory[vehicle.garaging_zip]`: run[i + 1] is the OP_LOOKUP */
        run[i].op = OP_LOAD_LOOKUP;
        run[i].a = (uint16_t)(c->op == OP_FIELD ? mq_row_of_field(c->a) : mq_row_of_var(c->a));
        return 2;
    }
    if (i + 2 >= p->ncode || jump_target(p, i + 1) || jump_target(p, i + 2))
        return 0;
    if ((c->op == OP_FIELD || c->op == OP_VAR) && c[1].op == OP_CONST && c[2].op >= OP_LT &&
        c[2].op <= OP_NE) {
        /* a comparison gives 0 or 1 (never NaN), which an OP_TRUTH leaves */
        bool field = c->op == OP_FIELD;
        int n = fusable(p, i + 3, OP_TRUTH) ? 4 : 3;
        run[i + 1] = (mq_ins){c[2].op, (uint16_t)n, c[1].b};
        run[i].op = field ? OP_FIELD_CMP : OP_VAR_CMP;
        if (fusable(p, i + 3, OP_AND))
            run[i].op = field ? OP_FIELD_CMP_AND : OP_VAR_CMP_AND;
        else if (fusable(p, i + 3, OP_OR))
            run[i].op = field ? OP_FIELD_CMP_OR : OP_VAR_CMP_OR;
        else if (fusable(p, i + 3, OP_JFALSE))
            run[i].op = field ? OP_FIELD_CMP_JFALSE : OP_VAR_CMP_JFALSE;
        else
            return n;
        return 4; /* run[i + 3] is the OP_AND, OP_OR or OP_JFALSE */
    }
    if (c->op == OP_FIELD && c[1].op == OP_SELF && c[2].op >= OP_LT && c[2].op <= OP_NE) {
        /* `member.date_of_birth < self.date_of_birth` */
        int n = fusable(p, i + 3, OP_TRUTH) ? 4 : 3;
        run[i].op = OP_FIELD_SELF_CMP; /* run[i + 1] is the OP_SELF */
        run[i + 2].a = (uint16_t)n;
        return n;
    }
    if (c->op == OP_FIELD && c[1].op == OP_CONST && c[2].op == OP_CALL &&
        call_opcode(c[2].a, c[2].b) == OP_WITHIN) {
        run[i].op = OP_FIELD_WITHIN; /* run[i + 1] is the OP_CONST */
        return 3;
    }
    if (c->op == OP_FIELD && c[1].op == OP_FIELD && c[2].op == OP_CALL &&
        call_opcode(c[2].a, c[2].b) == OP_AGE) {
        run[i].op = OP_FIELDS_AGE; /* run[i + 1] is the second OP_FIELD */
        return 3;
    }
    return 0;
}

/* p->run: the code with the run-only opcodes (internal.h). A fused
 * instruction keeps the slots of its sequence, the second holding what
 * the first cannot (the comparison and the constant, the second field),
 * so every jump still lands where it did; a sequence a jump lands inside
 * is left as it is. */
static bool build_run(mq_prog *p)
{
    mq_ins *run = malloc(sizeof(mq_ins) * (size_t)(p->ncode + 1));
    if (!run)
        return false;
    memcpy(run, p->code, sizeof(mq_ins) * (size_t)(p->ncode + 1));
    for (int i = 0; i < p->ncode; i++) {
        int n = fuse(p, i, run);
        if (n)
            i += n - 1;
        else if (p->code[i].op == OP_CALL)
            run[i].op = call_opcode(p->code[i].a, p->code[i].b);
    }
    free(p->run);
    p->run = run;
    return true;
}

/* What each aggregate of p starts from (mq_agg.start, sized). */
static void settle_aggregates(mq_prog *p)
{
    for (int i = 0; i < p->naggs; i++) {
        mq_agg *g = &p->aggs[i];
        g->start = g->kind == AGG_ALL ? 1 : (g->kind == AGG_MAX || g->kind == AGG_MIN) ? NAN : 0;
        g->sized = !g->cond && (g->kind == AGG_COUNT || g->kind == AGG_ANY || g->kind == AGG_ALL);
    }
}

bool mq_prog_finish(mq_prog *p)
{
    mq_ins *code = realloc(p->code, sizeof(mq_ins) * (size_t)(p->ncode + 1));
    if (!code)
        return false;
    code[p->ncode] = (mq_ins){OP_END, 0, 0};
    p->code = code;
    if (!classify(p))
        return false;
    settle_aggregates(p);
    return build_run(p);
}
