/* vm.c -- runs compiled plan expressions.
 *
 * A program is a short list of stack instructions over doubles (internal.h
 * documents each one). Loads read the current entity's row of the request or
 * of the derived variables; lookups index a compiled table matrix; aggregates
 * loop over a list, making each element current, and run their condition and
 * value sub-programs. Missing values are NaN and flow through arithmetic; a
 * lookup that finds no row stops the program and is reported to the caller,
 * which applies the table's `missing:` rule. Nothing here allocates.
 */
#include "internal.h"

#include <math.h>

static inline bool truth(double x)
{
    return x != 0 && !isnan(x);
}

void mq_vm_enter(mq_vm *vm, mq_entity_kind k, int32_t i)
{
    const mq_line_def *l = vm->line;
    vm->cur[k] = i;
    if (l->parent[k] != MQ_ENT_POLICY && vm->parent_of[k])
        vm->cur[l->parent[k]] = vm->parent_of[k][i];
    int f = l->link_plus1[k] - 1;
    if (f >= 0) {
        double v = vm->in->values[k][(size_t)i * l->nfields[k] + f];
        if (!isnan(v))
            vm->cur[l->fields[k][f].link] = (int32_t)v;
    }
}

static double call_builtin(const mq_vm *vm, mq_builtin fn, const double *a, int n)
{
    for (int i = 0; i < n; i++)
        if (isnan(a[i]) && fn != FN_HAS && fn != FN_DEFAULT)
            return NAN;
    int y, m, d;
    switch (fn) {
    case FN_AGE:
    case FN_YEARS_BETWEEN:
        return mq_date_age((int32_t)a[0], (int32_t)a[1]);
    case FN_MONTHS_BETWEEN:
        return mq_date_months_between((int32_t)a[0], (int32_t)a[1]);
    case FN_ADD_MONTHS:
        return fabs(a[1]) > 12000 ? NAN : mq_date_add_months((int32_t)a[0], (int)a[1]);
    case FN_WITHIN_MONTHS: {
        int32_t eff = vm->in->effective_date;
        if (fabs(a[1]) > 12000)
            return NAN;
        return a[0] > mq_date_add_months(eff, -(int)a[1]) && a[0] <= eff;
    }
    case FN_YEAR:
    case FN_MONTH:
    case FN_DAY:
        mq_date_to_ymd((int32_t)a[0], &y, &m, &d);
        return fn == FN_YEAR ? y : fn == FN_MONTH ? m : d;
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
    case FN_AGE_NEAREST: {
        /* age last birthday, plus one when the next birthday is nearer */
        int age = mq_date_age((int32_t)a[0], (int32_t)a[1]);
        int32_t last = mq_date_add_months((int32_t)a[0], 12 * age);
        return age + (mq_date_months_between(last, (int32_t)a[1]) >= 6);
    }
    }
    return NAN;
}

static bool run_aggregate(mq_vm *vm, const mq_agg *g, double *out)
{
    const mq_line_def *l = vm->line;
    mq_entity_kind k = g->over;
    int32_t from = 0, to = vm->in->count[k];
    if (g->children_of_current) {
        int32_t owner = vm->cur[l->parent[k]];
        from = vm->in->start[k][owner];
        to = vm->in->start[k][owner + 1];
    }
    int32_t saved[MQ_ENT_COUNT];
    for (int i = 0; i < MQ_ENT_COUNT; i++)
        saved[i] = vm->cur[i];
    double acc = g->kind == AGG_ALL ? 1 : (g->kind == AGG_MAX || g->kind == AGG_MIN) ? NAN : 0;
    bool ok = true;
    for (int32_t i = from; i < to && ok; i++) {
        mq_vm_enter(vm, k, i);
        double c = 1, v = 0;
        if (g->cond && !(ok = mq_vm_eval(vm, g->cond, &c)))
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
        if (g->value && !(ok = mq_vm_eval(vm, g->value, &v)))
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
    for (int i = 0; i < MQ_ENT_COUNT; i++)
        vm->cur[i] = saved[i];
    *out = acc;
    return ok;
}

bool mq_vm_eval(mq_vm *vm, const mq_prog *p, double *out)
{
    double stack[64];
    int sp = 0;
    const mq_ins *code = p->code;
    const mq_line_def *l = vm->line;
    for (int pc = 0; pc < p->ncode; pc++) {
        const mq_ins *in = &code[pc];
        double a, b;
        switch ((mq_opcode)in->op) {
        case OP_CONST:
            stack[sp++] = p->k[in->b];
            break;
        case OP_FIELD:
            stack[sp++] = vm->in->values[in->a][(size_t)vm->cur[in->a] * l->nfields[in->a] + in->b];
            break;
        case OP_VAR:
            stack[sp++] = vm->vars[in->a][(size_t)vm->cur[in->a] * vm->nvars[in->a] + in->b];
            break;
        case OP_NEG:
            stack[sp - 1] = -stack[sp - 1];
            break;
        case OP_NOT:
            stack[sp - 1] = !truth(stack[sp - 1]);
            break;
        case OP_TRUTH:
            stack[sp - 1] = truth(stack[sp - 1]);
            break;
#define BINARY(OP, EXPR)                                                                           \
    case OP:                                                                                       \
        b = stack[--sp];                                                                           \
        a = stack[sp - 1];                                                                         \
        stack[sp - 1] = (EXPR);                                                                    \
        break;
            BINARY(OP_ADD, a + b)
            BINARY(OP_SUB, a - b)
            BINARY(OP_MUL, a * b)
            BINARY(OP_DIV, b == 0 ? NAN : a / b)
            BINARY(OP_LT, a < b)
            BINARY(OP_LE, a <= b)
            BINARY(OP_GT, a > b)
            BINARY(OP_GE, a >= b)
            BINARY(OP_EQ, a == b)
            BINARY(OP_NE, !isnan(a) && !isnan(b) && a != b)
#undef BINARY
        case OP_AND:
            if (!truth(stack[sp - 1])) {
                stack[sp - 1] = 0;
                pc = in->b - 1;
            } else {
                sp--;
            }
            break;
        case OP_OR:
            if (truth(stack[sp - 1])) {
                stack[sp - 1] = 1;
                pc = in->b - 1;
            } else {
                sp--;
            }
            break;
        case OP_JFALSE:
            if (!truth(stack[--sp]))
                pc = in->b - 1;
            break;
        case OP_JUMP:
            pc = in->b - 1;
            break;
        case OP_CALL:
            sp -= in->b;
            stack[sp] = call_builtin(vm, (mq_builtin)in->a, &stack[sp], in->b);
            sp++;
            break;
        case OP_LOOKUP: {
            const mq_lookup *lk = &p->lookups[in->b];
            sp -= in->a;
            double v = mq_table_lookup(lk->table, &stack[sp], lk->column);
            if (isnan(v)) {
                vm->miss_table = lk->table;
                vm->miss_nkeys = in->a;
                for (int k = 0; k < in->a && k < 8; k++)
                    vm->miss_keys[k] = stack[sp + k];
                return false;
            }
            stack[sp++] = v;
            break;
        }
        case OP_AGG:
            if (!run_aggregate(vm, &p->aggs[in->b], &stack[sp]))
                return false;
            sp++;
            break;
        case OP_SELF:
            stack[sp++] =
                vm->in->values[in->a][(size_t)vm->self[in->a] * l->nfields[in->a] + in->b];
            break;
        case OP_INDEX:
            stack[sp++] = vm->cur[in->a];
            break;
        case OP_SELF_INDEX:
            stack[sp++] = vm->self[in->a];
            break;
        case OP_INTERP: {
            const mq_lookup *lk = &p->lookups[in->b];
            double x = stack[sp - 1];
            double v = mq_table_interpolate(lk->table, x, lk->column);
            if (isnan(v)) {
                vm->miss_table = lk->table;
                vm->miss_nkeys = 1;
                vm->miss_keys[0] = x;
                return false;
            }
            stack[sp - 1] = v;
            break;
        }
        }
    }
    *out = sp ? stack[sp - 1] : NAN;
    return true;
}
