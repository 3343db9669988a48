/* codegen.c -- writes loaded plans as C functions: the native plans.
 *
 * mqcodegen (src/cli/codegen_main.c) calls mq_codegen_write at build time
 * on plans/; the C it writes is compiled into the engine (native.c says how
 * it is used), spread over several files that the build compiles in
 * parallel: each plan whole in one of them, its function external
 * (mq_native_plan<n>), its helpers static, and the list of them in the
 * first. Each plan becomes one function that does what rate.c does for it,
 * step for step, with everything the plan fixes written in:
 *
 *   - a program (a derived variable, a rule, a key, a discount) becomes a
 *     block of C, its stack slots locals (s<id>_<depth>: the depth of the
 *     stack at each instruction is known when the code is compiled), its
 *     jumps gotos, its constants literals (exact, in hexadecimal);
 *   - an aggregate becomes its loop, the condition and value inline; the
 *     cursor (which entity of each kind is current) is locals per kind;
 *   - each table gets a lookup function with its key maps written in;
 *   - each unit starts with a prologue that looks up each table row and
 *     works out each discount group's factor that its chosen coverages
 *     read, once (a policy slot once per rating); then its coverages are
 *     one block each, in rate.c's order, their steps straight-line code.
 *
 * Dates, table matrices and the order of every floating-point operation
 * are the interpreter's, so the results agree to the bit (test_native
 * checks it). What the interpreter reports with a text (a lookup with no
 * row, an unoffered coverage, an invalid premium) the function hands back
 * to it (MQ_NATIVE_INTERPRET), and so it does when it looked further ahead
 * than the interpreter would have (a row its prologue found missing): the
 * interpreter then rates from the start. A plan using something this file
 * does not compile is left out, and interpreted.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    NATIVE_VARS = 1024,   /* derived variable cells on the function's stack */
    NATIVE_PARENTS = 256, /* parent indexes */
    NATIVE_PREMIUMS = 96, /* coverage premiums */
    NATIVE_NOTES = 16
};

typedef struct gen {
    FILE *f;
    const mq_plan *p;
    const mq_line_def *l;
    int index;       /* the plan's number: its function and helpers are named by it */
    int uid;         /* the next unique number for a name */
    const char *why; /* set when the plan cannot be compiled */
    /* the constant month counts of the plan's within_months calls: their
     * windows are worked out once, at the start of the rating */
    int windows[8];
    int nwindows;
    /* what the body uses, so the start sets up only that: the kinds whose
     * cursor it reads (bit per kind), the effective date's parts, the VM
     * (for the builtins vm.c computes) */
    unsigned kinds;
    bool uses_eff, uses_vm;
    /* per table slot: its row's value in one column is tested where it is
     * looked up, and that vouches for every column the coverages read */
    bool slot_probed[64];
} gen;

__attribute__((format(printf, 2, 3))) static void emit(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(g->f, fmt, ap);
    va_end(ap);
}

static void fail(gen *g, const char *why)
{
    if (!g->why)
        g->why = why;
}

/* A double as an exact C expression. */
static const char *literal(char buf[48], double v)
{
    if (isnan(v))
        return "NAN";
    if (isinf(v))
        return v > 0 ? "INFINITY" : "(-INFINITY)";
    snprintf(buf, 48, v < 0 ? "(%a)" : "%a", v);
    return buf;
}

static int table_index(gen *g, const mq_table *t)
{
    for (int i = 0; i < g->p->ntables; i++)
        if (g->p->tables[i] == t)
            return i;
    fail(g, "a lookup of a table the plan does not list");
    return 0;
}

/* ---- Helpers of a plan: table rows and the cursor ---------------------- */

/* Key k of table t: its segment in `s` from the value `x`, or return -1. */
static void emit_segment(gen *g, const mq_table *t, int k)
{
    const mq_keymap *m = &t->maps[k];
    char lo[48], hi[48];
    /* a value equal to one of a few bounds (a limit, a deductible) is the
     * segment at that bound, 2i + 1, found by comparisons before the grid
     * or the search that would find it */
    bool exact = (m->how == MAP_GRID || m->how == MAP_SEARCH) && m->nbounds <= 8;
    if (exact) {
        for (int i = 0; i < m->nbounds; i++) {
            char b[48];
            emit(g, "%sif (x%d == %s)\ns = %d;\n", i ? "else " : "", k, literal(b, m->bounds[i]),
                 2 * i + 1);
        }
        emit(g, "else {\n");
    }
    switch (m->how) {
    case MAP_ENUM:
        emit(g,
             "if (!(x%d >= 0 && x%d < %d))\nreturn -1;\ns = (int32_t)x%d;\nif (x%d != s)\nreturn "
             "-1;\n",
             k, k, m->nsegs, k, k);
        break;
    case MAP_UNIT_GRID:
        literal(lo, m->dense_lo);
        literal(hi, m->dense_hi);
        emit(g,
             "if (isnan(x%d))\nreturn -1;\nif (x%d < %s)\ns = 0;\nelse if (x%d > %s)\ns = %d;\n"
             "else {\nint32_t j = (int32_t)(x%d - %s);\nint32_t seg = t->maps[%d].dense[j];\n"
             "s = %s + j == x%d || !(seg & 1) ? seg : seg + 1;\n}\n",
             k, k, lo, k, hi, 2 * m->nbounds, k, lo, k, lo, k);
        break;
    case MAP_GRID: {
        /* mq_keymap_grid, multiplying by the step's inverse: the quotient
         * may then be one off where the division's was exact, which the
         * two corrections after it put right as they do the division's */
        char step[48], inverse[48];
        literal(inverse, 1 / m->dense_step);
        literal(lo, m->dense_lo);
        literal(hi, m->dense_hi);
        literal(step, m->dense_step);
        emit(g,
             "if (isnan(x%d))\nreturn -1;\nif (x%d < %s)\ns = 0;\nelse if (x%d > %s)\ns = %d;\n"
             "else {\nint32_t j = (int32_t)((x%d - %s) * %s);\ndouble at = %s + j * %s;\n"
             "if (at > x%d)\nat = %s + --j * %s;\nelse if (j + 1 < %d && at + %s <= x%d)\n"
             "at = %s + ++j * %s;\nint32_t seg = t->maps[%d].dense[j];\n"
             "s = at == x%d || !(seg & 1) ? seg : seg + 1;\n}\n",
             k, k, lo, k, hi, 2 * m->nbounds, k, lo, inverse, lo, step, k, lo, step, (int)m->ndense,
             step, k, lo, step, k, k);
        break;
    }
    default:
        emit(g, "if (isnan(x%d))\nreturn -1;\ns = mq_keymap_search(&t->maps[%d], x%d);\n", k, k, k);
        break;
    }
    if (exact)
        emit(g, "}\n");
}

/* cell<plan>_<table>(t, keys...): mq_table_cell with the table's shape
 * written in; row<plan>_<table>: mq_table_row. */
static void emit_table_helpers(gen *g, int ti)
{
    const mq_table *t = g->p->tables[ti];
    if (!t->compiled || !t->maps || t->nkeys < 1 || t->nkeys > 8)
        return;
    emit(g, "static inline int64_t cell%d_%d(const mq_table *t", g->index, ti);
    for (int k = 0; k < t->nkeys; k++)
        emit(g, ", double x%d", k);
    emit(g, ")\n{\nint32_t s;\n(void)t;\n");
    if (t->nkeys > 1)
        emit(g, "int64_t cell = 0;\n");
    for (int k = 0; k < t->nkeys; k++) {
        emit(g, "{\n");
        emit_segment(g, t, k);
        if (t->nkeys > 1)
            emit(g, "cell += (int64_t)s * %d;\n", (int)t->maps[k].stride);
        emit(g, "}\n");
    }
    emit(g, "return %s;\n}\n", t->nkeys > 1 ? "cell" : "s");
    emit(g, "static inline const double *row%d_%d(const mq_table *t", g->index, ti);
    for (int k = 0; k < t->nkeys; k++)
        emit(g, ", double x%d", k);
    emit(g, ")\n{\nint64_t c = cell%d_%d(t", g->index, ti);
    for (int k = 0; k < t->nkeys; k++)
        emit(g, ", x%d", k);
    emit(g, ");\nreturn c < 0 ? NULL : t->matrix + c * %d;\n}\n", t->nvalues);
}

/* The row of table `ti` for the key expressions keys[0..n): a call of its
 * helper, or of mq_table_row for a table without one. */
static void emit_row_call(gen *g, int ti, const char *const *keys, int n)
{
    const mq_table *t = g->p->tables[ti];
    if (!t->compiled || !t->maps || t->nkeys != n || n > 8) {
        emit(g, "native_row(p->tables[%d], (const double[]){", ti);
        for (int k = 0; k < n; k++)
            emit(g, "%s%s", k ? ", " : "", keys[k]);
        emit(g, "})");
        return;
    }
    emit(g, "row%d_%d(p->tables[%d]", g->index, ti, ti);
    for (int k = 0; k < n; k++)
        emit(g, ", %s", keys[k]);
    emit(g, ")");
}

/* Whether every cell of table ti without a value in column col has none
 * in column probe either: a row with a value at probe has one at col. */
static bool gaps_within(gen *g, int ti, int col, int probe)
{
    const mq_table *t = g->p->tables[ti];
    if (!t->compiled || !t->matrix)
        return false;
    for (int64_t c = 0; c < t->ncells; c++)
        if (isnan(t->matrix[c * t->nvalues + col]) && !isnan(t->matrix[c * t->nvalues + probe]))
            return false;
    return true;
}

/* Whether value column col of table ti has a row without a value: a
 * lookup there must test the value (a missing row is NULL, tested once). */
static bool column_has_gaps(gen *g, int ti, int col)
{
    const mq_table *t = g->p->tables[ti];
    if (!t->compiled || !t->matrix)
        return true;
    for (int64_t c = 0; c < t->ncells; c++)
        if (isnan(t->matrix[c * t->nvalues + col]))
            return true;
    return false;
}

/* The cursor is locals of the function, per kind k: at_k (the current
 * entity), frow_k and vrow_k (its input row and its variables), from the
 * bases fbase_k and vbase_k, parent_k (parent indexes) and self_k (whose
 * variable is being computed). The name of mq_cursor.rows[r]: */
static const char *row_name(gen *g, char buf[24], int r)
{
    g->kinds |= 1u << (r < MQ_ENT_COUNT ? r : r - MQ_ENT_COUNT);
    if (r < MQ_ENT_COUNT)
        snprintf(buf, 24, "frow_%d", r);
    else
        snprintf(buf, 24, "vrow_%d", r - MQ_ENT_COUNT);
    return buf;
}

/* mq_vm_set_current(k, index): `index` is a name or a constant. A kind with
 * no rows in the request is only ever made current at 0, where its bases
 * (the NaN row) give the VM's rows whatever the counts. */
static void emit_set(gen *g, int k, const char *index)
{
    g->kinds |= 1u << k;
    emit(g,
         "at_%d = %s;\nfrow_%d = fbase_%d + (size_t)at_%d * %d;\nvrow_%d = vbase_%d + "
         "(size_t)at_%d * %d;\n",
         k, index, k, k, k, g->l->nfields[k], k, k, k, g->p->nvars_of[k]);
}

/* mq_vm_enter_as(k, index, alone) with the line's shape written in. */
static void emit_enter(gen *g, int k, const char *index, bool alone)
{
    const mq_vm_shape *sh = &g->p->vm_shape;
    emit_set(g, k, index);
    if (sh->up[k] >= 0) {
        char parent[32];
        snprintf(parent, sizeof parent, "parent_%d[at_%d]", k, k);
        emit(g, "if (parent_%d) {\n", k);
        emit_set(g, sh->up[k], parent);
        emit(g, "}\n");
        if (alone) {
            emit(g, "else {\n");
            emit_set(g, sh->up[k], "0");
            emit(g, "}\n");
        }
    }
    if (sh->link_field[k] >= 0) {
        emit(g, "if (!isnan(frow_%d[%d])) {\nconst int32_t link = (int32_t)frow_%d[%d];\n", k,
             sh->link_field[k], k, sh->link_field[k]);
        emit_set(g, sh->link_kind[k], "link");
        emit(g, "}\n");
        if (alone) {
            emit(g, "else {\n");
            emit_set(g, sh->link_kind[k], "0");
            emit(g, "}\n");
        }
    }
}

/* The kinds entering an entity of kind k changes (mq_vm_enter_as): k, its
 * parent, the kind it links to; bit per kind. */
static unsigned entered_kinds(gen *g, int k)
{
    const mq_vm_shape *sh = &g->p->vm_shape;
    unsigned kinds = 1u << k;
    if (sh->up[k] >= 0)
        kinds |= 1u << sh->up[k];
    if (sh->link_kind[k] >= 0 && sh->link_field[k] >= 0)
        kinds |= 1u << sh->link_kind[k];
    return kinds;
}

/* ---- Programs ---------------------------------------------------------- */

/* The stack depth before each instruction (and at the end, depth[ncode]);
 * -1 where no path reaches. Jumps only go forward. False when the code's
 * paths disagree. */
static bool stack_depths(const mq_prog *pr, int *depth, int *max)
{
    int n = pr->ncode;
    for (int i = 0; i <= n; i++)
        depth[i] = -1;
    depth[0] = 0;
    *max = 0;
    for (int pc = 0; pc < n; pc++) {
        const mq_ins *c = &pr->code[pc];
        int d = depth[pc], next = d, jump = -1, at = -1;
        if (d < 0)
            continue;
        switch ((mq_opcode)c->op) {
        case OP_CONST:
        case OP_FIELD:
        case OP_VAR:
        case OP_AGG:
        case OP_SELF:
        case OP_INDEX:
        case OP_SELF_INDEX:
            next = d + 1;
            break;
        case OP_NEG:
        case OP_NOT:
        case OP_TRUTH:
        case OP_INTERP:
            break;
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
        case OP_EQ:
        case OP_NE:
            next = d - 1;
            break;
        case OP_AND:
        case OP_OR:
            at = c->b, jump = d, next = d - 1;
            break;
        case OP_JFALSE:
            at = c->b, jump = d - 1, next = d - 1;
            break;
        case OP_JUMP:
            at = c->b, jump = d, next = -1;
            break;
        case OP_CALL:
            next = d - c->b + 1;
            break;
        case OP_LOOKUP:
            next = d - c->a + 1;
            break;
        default:
            return false;
        }
        if (next < -1 || jump < -1)
            return false; /* the stack would underflow */
        if (at >= 0) {
            if (at <= pc || at > n || (depth[at] >= 0 && depth[at] != jump))
                return false;
            depth[at] = jump;
        }
        if (next >= 0) {
            if (depth[pc + 1] >= 0 && depth[pc + 1] != next)
                return false;
            depth[pc + 1] = next;
        }
        if (d + 1 > *max)
            *max = d + 1;
        if (next > *max)
            *max = next;
    }
    return depth[n] >= 0;
}

static bool is_jump_target(const mq_prog *pr, int at)
{
    for (int pc = 0; pc < pr->ncode; pc++) {
        int op = pr->code[pc].op;
        if ((op == OP_AND || op == OP_OR || op == OP_JFALSE || op == OP_JUMP) &&
            pr->code[pc].b == at)
            return true;
    }
    return false;
}

static void emit_prog(gen *g, const mq_prog *pr, const char *dest);

/* count/sum/max/min/any/all over a list, as mq_vm_aggregate. */
static void emit_agg(gen *g, const mq_agg *ag, const char *dest)
{
    int id = g->uid++;
    char k[48];
    emit(g, "{\nint32_t from%d = 0, to%d = in->count[%d];\n", id, id, (int)ag->over);
    if (ag->children_of_current)
        g->kinds |= 1u << g->l->parent[ag->over];
    if (ag->children_of_current)
        emit(g,
             "int32_t owner%d = at_%d;\nfrom%d = in->start[%d][owner%d];\n"
             "to%d = in->start[%d][owner%d + 1];\n",
             id, (int)g->l->parent[ag->over], id, (int)ag->over, id, id, (int)ag->over, id);
    if (ag->sized) {
        emit(g, "int32_t n%d = to%d > from%d ? to%d - from%d : 0;\n", id, id, id, id, id);
        if (ag->kind == AGG_COUNT)
            emit(g, "%s = n%d;\n}\n", dest, id);
        else if (ag->kind == AGG_ANY)
            emit(g, "%s = n%d > 0;\n}\n", dest, id);
        else
            emit(g, "%s = 1;\n}\n", dest);
        return;
    }
    unsigned kinds = entered_kinds(g, ag->over);
    for (int e = 0; e < MQ_ENT_COUNT; e++) /* what the loop changes of the cursor */
        if (kinds >> e & 1)
            emit(g,
                 "const int32_t at%d_%d = at_%d;\nconst double *field%d_%d = frow_%d, "
                 "*var%d_%d = vrow_%d;\n",
                 id, e, e, id, e, e, id, e, e);
    emit(g, "double acc%d = %s;\n", id, literal(k, ag->start));
    emit(g, "for (int32_t i%d = from%d; i%d < to%d; i%d++) {\n", id, id, id, id, id);
    char index[32];
    snprintf(index, sizeof index, "i%d", id);
    emit_enter(g, ag->over, index, false);
    emit(g, "double c%d = 1;\n", id);
    char c[32], v[32];
    snprintf(c, sizeof c, "c%d", id);
    snprintf(v, sizeof v, "v%d", id);
    if (ag->cond)
        emit_prog(g, ag->cond, c);
    if (ag->kind == AGG_ALL) {
        emit(g, "if (!mq_truth(c%d)) {\nacc%d = 0;\nbreak;\n}\n}\n", id, id);
    } else {
        emit(g, "if (!mq_truth(c%d))\ncontinue;\n", id);
        emit(g, "double v%d = 0;\n", id);
        if (ag->value)
            emit_prog(g, ag->value, v);
        switch (ag->kind) {
        case AGG_COUNT:
            emit(g, "acc%d += 1;\n", id);
            break;
        case AGG_SUM:
            emit(g, "acc%d += v%d;\n", id, id);
            break;
        case AGG_MAX:
            emit(g, "acc%d = (isnan(acc%d) || v%d > acc%d) ? v%d : acc%d;\n", id, id, id, id, id,
                 id);
            break;
        case AGG_MIN:
            emit(g, "acc%d = (isnan(acc%d) || v%d < acc%d) ? v%d : acc%d;\n", id, id, id, id, id,
                 id);
            break;
        case AGG_ANY:
            emit(g, "acc%d = 1;\nbreak;\n", id);
            break;
        case AGG_ALL:
            break;
        }
        emit(g, "}\n");
    }
    for (int e = 0; e < MQ_ENT_COUNT; e++)
        if (kinds >> e & 1)
            emit(g, "at_%d = at%d_%d;\nfrow_%d = field%d_%d;\nvrow_%d = var%d_%d;\n", e, id, e, e,
                 id, e, e, id, e);
    emit(g, "%s = acc%d;\n}\n", dest, id);
}

/* A builtin call on the n slots from `first`. */
static void emit_call(gen *g, int id, int fn, int n, int first)
{
    int r = first;
    g->uses_eff = true;
    g->uses_vm |= !(((fn == FN_MAX || fn == FN_MIN || fn == FN_DEFAULT || fn == FN_AGE ||
                      fn == FN_YEARS_BETWEEN) &&
                     n == 2) ||
                    (fn == FN_YEAR && n == 1));
    if ((fn == FN_MAX || fn == FN_MIN) && n == 2) {
        emit(g,
             "s%d_%d = isnan(s%d_%d) || isnan(s%d_%d) ? NAN : s%d_%d < s%d_%d ? s%d_%d : "
             "s%d_%d;\n",
             id, r, id, r, id, r + 1, id, r + 1, id, r, id, fn == FN_MAX ? r : r + 1, id,
             fn == FN_MAX ? r + 1 : r);
    } else if (fn == FN_DEFAULT && n == 2) {
        emit(g, "s%d_%d = isnan(s%d_%d) ? s%d_%d : s%d_%d;\n", id, r, id, r, id, r + 1, id, r);
    } else if ((fn == FN_AGE || fn == FN_YEARS_BETWEEN) && n == 2) {
        emit(g,
             "s%d_%d = isnan(s%d_%d) || isnan(s%d_%d) ? NAN : mq_ymd_age(native_ymd(in, eff, "
             "(int32_t)s%d_%d), native_ymd(in, eff, (int32_t)s%d_%d));\n",
             id, r, id, r, id, r + 1, id, r, id, r + 1);
    } else if (fn == FN_YEAR && n == 1) {
        emit(g, "s%d_%d = isnan(s%d_%d) ? NAN : native_ymd(in, eff, (int32_t)s%d_%d).y;\n", id, r,
             id, r, id, r);
    } else if (fn == FN_WITHIN_MONTHS && n == 2) {
        emit(g, "s%d_%d = mq_vm_within(&vm, s%d_%d, s%d_%d);\n", id, r, id, r, id, r + 1);
    } else if (n == 0) {
        emit(g, "s%d_%d = mq_vm_builtin(&vm, %d, NULL, 0);\n", id, r, fn);
    } else {
        emit(g, "{\nconst double a%d[] = {", id);
        for (int i = 0; i < n; i++)
            emit(g, "%ss%d_%d", i ? ", " : "", id, first + i);
        emit(g, "};\ns%d_%d = mq_vm_builtin(&vm, %d, a%d, %d);\n}\n", id, r, fn, id, n);
    }
}

/* within_months(slot, m) for a constant m: the window's first day is a
 * local the rating's start works out (emit_start). False when m is not a
 * whole number of months the VM would take (or too many windows). */
static bool emit_window(gen *g, int id, int slot, double m)
{
    if (!(fabs(m) <= 12000) || m != (int)m)
        return false;
    int w = 0;
    while (w < g->nwindows && g->windows[w] != (int)m)
        w++;
    if (w == g->nwindows) {
        if (w == (int)(sizeof g->windows / sizeof g->windows[0]))
            return false;
        g->windows[g->nwindows++] = (int)m;
    }
    g->uses_eff = true;
    emit(g, "s%d_%d = isnan(s%d_%d) ? NAN : s%d_%d > window%d && s%d_%d <= in->effective_date;\n",
         id, slot, id, slot, id, slot, w, id, slot);
    return true;
}

static const char *const binary_c[] = {
    [OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_LT] = "<",
    [OP_LE] = "<=", [OP_GT] = ">",  [OP_GE] = ">=", [OP_EQ] = "==",
};

/* One instruction at depth d of program `id`. */
static void emit_ins(gen *g, const mq_prog *pr, int id, const mq_ins *c, int d)
{
    char k[48];
    int t = d - 1, u = d - 2; /* the top, and the slot below it */
    switch ((mq_opcode)c->op) {
    case OP_CONST:
        emit(g, "s%d_%d = %s;\n", id, d, literal(k, pr->k[c->b]));
        break;
    case OP_FIELD:
        g->kinds |= 1u << c->a;
        emit(g, "s%d_%d = frow_%d[%d];\n", id, d, c->a, (int)c->b);
        break;
    case OP_VAR:
        g->kinds |= 1u << c->a;
        emit(g, "s%d_%d = vrow_%d[%d];\n", id, d, c->a, (int)c->b);
        break;
    case OP_NEG:
        emit(g, "s%d_%d = -s%d_%d;\n", id, t, id, t);
        break;
    case OP_NOT:
        emit(g, "s%d_%d = !mq_truth(s%d_%d);\n", id, t, id, t);
        break;
    case OP_TRUTH:
        emit(g, "s%d_%d = mq_truth(s%d_%d);\n", id, t, id, t);
        break;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
    case OP_EQ:
        emit(g, "s%d_%d = s%d_%d %s s%d_%d;\n", id, u, id, u, binary_c[c->op], id, t);
        break;
    case OP_DIV:
        emit(g, "s%d_%d = s%d_%d == 0 ? NAN : s%d_%d / s%d_%d;\n", id, u, id, t, id, u, id, t);
        break;
    case OP_NE:
        emit(g, "s%d_%d = !isnan(s%d_%d) && !isnan(s%d_%d) && s%d_%d != s%d_%d;\n", id, u, id, u,
             id, t, id, u, id, t);
        break;
    case OP_AND:
        emit(g, "if (!mq_truth(s%d_%d)) {\ns%d_%d = 0;\ngoto L%d_%d;\n}\n", id, t, id, t, id,
             (int)c->b);
        break;
    case OP_OR:
        emit(g, "if (mq_truth(s%d_%d)) {\ns%d_%d = 1;\ngoto L%d_%d;\n}\n", id, t, id, t, id,
             (int)c->b);
        break;
    case OP_JFALSE:
        emit(g, "if (!mq_truth(s%d_%d))\ngoto L%d_%d;\n", id, t, id, (int)c->b);
        break;
    case OP_JUMP:
        emit(g, "goto L%d_%d;\n", id, (int)c->b);
        break;
    case OP_CALL:
        if (c->a == FN_WITHIN_MONTHS && c->b == 2 && c > pr->code && c[-1].op == OP_CONST &&
            emit_window(g, id, d - 2, pr->k[c[-1].b]))
            break;
        emit_call(g, id, c->a, c->b, d - c->b);
        break;
    case OP_LOOKUP: {
        const mq_lookup *lk = &pr->lookups[c->b];
        int first = d - c->a;
        char names[8][32];
        const char *keys[8];
        if (c->a > 8) {
            fail(g, "a lookup of more than 8 keys");
            break;
        }
        for (int i = 0; i < c->a; i++) {
            snprintf(names[i], sizeof names[i], "s%d_%d", id, first + i);
            keys[i] = names[i];
        }
        int ti = table_index(g, lk->table);
        emit(g, "{\nconst double *r%d = ", id);
        emit_row_call(g, ti, keys, c->a);
        emit(g, ";\nif (!r%d)\nreturn native_interpret();\ns%d_%d = r%d[%d];\n}\n", id, id, first,
             id, lk->column);
        if (column_has_gaps(g, ti, lk->column))
            emit(g, "if (isnan(s%d_%d))\nreturn native_interpret();\n", id, first);
        break;
    }
    case OP_INTERP: {
        const mq_lookup *lk = &pr->lookups[c->b];
        emit(g,
             "s%d_%d = mq_table_interpolate(p->tables[%d], s%d_%d, %d);\nif (isnan(s%d_%d))\n"
             "return native_interpret();\n",
             id, t, table_index(g, lk->table), id, t, lk->column, id, t);
        break;
    }
    case OP_AGG: {
        char dest[32];
        snprintf(dest, sizeof dest, "s%d_%d", id, d);
        emit_agg(g, &pr->aggs[c->b], dest);
        break;
    }
    case OP_SELF:
        g->kinds |= 1u << c->a;
        emit(g, "s%d_%d = fbase_%d[(size_t)self_%d * %d + %d];\n", id, d, c->a, c->a,
             g->l->nfields[c->a], (int)c->b);
        break;
    case OP_INDEX:
        g->kinds |= 1u << c->a;
        emit(g, "s%d_%d = at_%d;\n", id, d, c->a);
        break;
    case OP_SELF_INDEX:
        g->kinds |= 1u << c->a;
        emit(g, "s%d_%d = self_%d;\n", id, d, c->a);
        break;
    default:
        fail(g, "an instruction codegen.c does not know");
        break;
    }
}

/* The program as a block of C that leaves its value in `dest`. */
static void emit_prog(gen *g, const mq_prog *pr, const char *dest)
{
    int id = g->uid++, max = 0;
    int *depth = malloc(sizeof(int) * (size_t)(pr->ncode + 1));
    if (!depth || !stack_depths(pr, depth, &max)) {
        fail(g, depth ? "a program whose stack depth is not fixed" : "out of memory");
        free(depth);
        return;
    }
    emit(g, "{\n");
    if (max > 0) {
        emit(g, "double ");
        for (int i = 0; i < max; i++)
            emit(g, "%ss%d_%d = 0", i ? ", " : "", id, i);
        emit(g, ";\n");
    }
    for (int pc = 0; pc < pr->ncode; pc++) {
        if (is_jump_target(pr, pc))
            emit(g, "L%d_%d:;\n", id, pc);
        if (depth[pc] >= 0)
            emit_ins(g, pr, id, &pr->code[pc], depth[pc]);
    }
    if (is_jump_target(pr, pr->ncode))
        emit(g, "L%d_%d:;\n", id, pr->ncode);
    int end = depth[pr->ncode];
    if (end > 0)
        emit(g, "%s = s%d_%d;\n", dest, id, end - 1);
    else
        emit(g, "%s = NAN;\n", dest);
    emit(g, "}\n");
    free(depth);
}

/* ---- A plan ------------------------------------------------------------- */

/* The number of premium units of a request: the unit kind's count, or 1. */
static const char *nunits_expr(gen *g, char buf[48])
{
    if (g->l->unit == MQ_ENT_POLICY)
        return "1";
    snprintf(buf, 48, "in->count[%d]", (int)g->l->unit);
    return buf;
}

/* Derived variables, run by run, as compute_variables. */
static void emit_variables(gen *g)
{
    const mq_plan *p = g->p;
    for (int v = 0; v < p->nvars; v = p->vars[v].run_end) {
        int k = p->vars[v].kind, id = g->uid++;
        emit(g, "for (int32_t e%d = 0; e%d < in->count[%d]; e%d++) {\n", id, id, k, id);
        g->kinds |= 1u << k;
        emit(g, "double *vars%d = vbase_%d + (size_t)e%d * %d;\nself_%d = e%d;\n", id, k, id,
             p->nvars_of[k], k, id);
        if (k != MQ_ENT_POLICY) {
            char index[32];
            snprintf(index, sizeof index, "e%d", id);
            emit_enter(g, k, index, true);
        }
        for (int d = v; d < p->vars[v].run_end; d++) {
            char dest[48];
            snprintf(dest, sizeof dest, "vars%d[%d]", id, p->vars[d].slot);
            emit_prog(g, p->vars[d].prog, dest);
        }
        emit(g, "}\n");
    }
}

static void emit_rules(gen *g)
{
    for (int i = 0; i < g->p->nrules; i++) {
        emit(g, "{\ndouble rule = 0;\n");
        emit_prog(g, g->p->rules[i].when, "rule");
        emit(g, "if (mq_truth(rule))\nreturn mq_native_decline(p, %d, totals_only, a, out);\n}\n",
             i);
    }
}

/* A chosen coverage the plan does not offer makes the result unavailable,
 * as check_offered: the same coverage first, after the same variables and
 * rules. */
static void emit_offered(gen *g)
{
    char n[48], unoffered[96];
    for (uint64_t left = g->p->choices.unoffered; left; left &= left - 1) {
        int c = __builtin_ctzll(left);
        const mq_coverage_def *cd = &g->l->coverages[c];
        snprintf(unoffered, sizeof unoffered,
                 "return mq_native_unoffered(p, %d, totals_only, a, out);\n", c);
        if (cd->presence_field < 0) {
            if (cd->scope == MQ_ENT_POLICY || cd->scope == g->l->unit)
                emit(g, "if (%s > 0)\n%s", nunits_expr(g, n), unoffered);
        } else if (cd->scope == MQ_ENT_POLICY) {
            emit(g, "if (%s > 0 && !isnan(in->values[0][%d]))\n%s", nunits_expr(g, n),
                 cd->presence_field, unoffered);
        } else if (cd->scope == g->l->unit) {
            emit(g,
                 "for (int32_t u = 0; u < %s; u++)\nif (!isnan(in->values[%d][(size_t)u * %d + "
                 "%d]))\n%s",
                 nunits_expr(g, n), (int)cd->scope, g->l->nfields[cd->scope], cd->presence_field,
                 unoffered);
        }
    }
}

/* The underwriting class (term life), kept for mq_native_finish. */
static void emit_classify(gen *g)
{
    emit(g, "const char *health_class = NULL;\n");
    if (!g->p->class_expr)
        return;
    emit(g, "{\ndouble cls = 0;\n");
    emit_prog(g, g->p->class_expr, "cls");
    emit(g, "health_class = isnan(cls) ? NULL : mq_symbol_name(MQ_DOM_HEALTH_CLASS, "
            "(int)cls);\n}\n");
}

static bool is_unit_item(const mq_plan *p, int gi)
{
    for (int i = 0; i < p->nunit_items; i++)
        if (p->unit_items[i] == gi)
            return true;
    return false;
}

/* The caches of a rating (unit false: kept for every unit) or of a unit:
 * table rows, discount items, discount groups. */
static void emit_caches(gen *g, bool unit)
{
    const mq_plan *p = g->p;
    for (int s = 0; s < p->nslots; s++)
        if ((s >= p->npolicy_slots) == unit)
            emit(g, "const double *row%d = NULL;\n", s);
    for (int i = 0; i < p->nitems; i++)
        if (is_unit_item(p, i) == unit)
            emit(g, "bool known%d = false, on%d = false;\ndouble amount%d = 0;\n", i, i, i);
    if (unit)
        for (int i = 0; i < p->ngroups; i++)
            emit(g, "double factor%d = 1;\n", i);
}

/* Discount item i of step st, evaluated on its first use. */
static void emit_item(gen *g, const mq_step *st, int i)
{
    int gi = st->first_item + i;
    emit(g, "if (!known%d) {\ndouble when = 0, amount = 0;\n", gi);
    emit_prog(g, st->items[i].when, "when");
    emit_prog(g, st->items[i].amount, "amount");
    /* an amount the interpreter refuses is the interpreter's to report */
    emit(g,
         "on%d = mq_truth(when);\nif (on%d && !mq_discount_amount_ok(amount))\nreturn "
         "native_interpret();\namount%d = amount;\nknown%d = true;\n}\n",
         gi, gi, gi, gi);
}

/* The sum of the amounts of `items` (bit per item of st) that apply, in
 * the items' order, and the factor 1 - min(cap, sum) in `dest`. */
static void emit_discount_factor(gen *g, const mq_step *st, uint64_t items, const char *dest)
{
    char cap[48];
    for (uint64_t left = items; left; left &= left - 1)
        emit_item(g, st, __builtin_ctzll(left));
    emit(g, "{\ndouble dsum = 0;\n");
    for (uint64_t left = items; left; left &= left - 1) {
        int gi = st->first_item + __builtin_ctzll(left);
        emit(g, "if (on%d)\ndsum += amount%d;\n", gi, gi);
    }
    literal(cap, st->cap);
    emit(g, "%s = 1 - (dsum < %s ? dsum : %s);\n", dest, cap, cap);
    /* no premium left: the interpreter reports it */
    emit(g, "if (!(%s > 0))\nreturn native_interpret();\n}\n", dest);
}

/* The row of a table step's slot, for the unit: looked up once, in the
 * unit's prologue (emit_unit_rows). */
static void emit_slot_lookup(gen *g, const mq_step *st, int probe)
{
    int s = st->slot;
    char names[8][48];
    const char *keys[8];
    for (int k = 0; k < st->nkeys && k < 8; k++) {
        keys[k] = names[k];
        if (st->key_loads) {
            char row[24];
            snprintf(names[k], sizeof names[k], "%s[%d]", row_name(g, row, st->key_rows[k]),
                     (int)st->key_index[k]);
        } else {
            snprintf(names[k], sizeof names[k], "key%d_%d", s, k);
            emit(g, "double %s = 0;\n", names[k]);
            emit_prog(g, st->keys[k], names[k]);
        }
    }
    /* no row: the interpreter's first use of it fails (a missing row
     * reads NaN in every column), and so does this */
    int ti = table_index(g, st->table);
    emit(g, "if (!(row%d = ", s);
    emit_row_call(g, ti, keys, st->nkeys);
    emit(g, "))\nreturn native_interpret();\n");
    /* a row without a value at the probe column: its first use may fail
     * in the interpreter, and whether it does is the interpreter's to say */
    if (probe >= 0)
        emit(g, "if (isnan(row%d[%d]))\nreturn native_interpret();\n", s, probe);
}

static void emit_table_step(gen *g, const mq_cov_op *op)
{
    int s = op->step->slot, ti = table_index(g, op->step->table);
    if (!g->slot_probed[s] && column_has_gaps(g, ti, (int)op->column))
        emit(g, "if (isnan(row%d[%d]))\nreturn native_interpret();\n", s, (int)op->column);
    emit(g, "x *= row%d[%d];\n", s, (int)op->column);
}

/* One step on the running premium x, as run_ops and run_step. */
static void emit_step(gen *g, const mq_cov_op *op, int cov)
{
    const mq_step *st = op->step;
    switch ((mq_step_kind)op->kind) {
    case STEP_TABLE:
        emit_table_step(g, op);
        return;
    case STEP_DISCOUNTS:
        if (op->slot >= 0) {
            emit(g, "x *= factor%d;\n", op->slot); /* emit_unit_rows */
        } else {
            uint64_t items = 0;
            if (st->nitems > 64) {
                fail(g, "a discount step of more than 64 items");
                return;
            }
            for (int i = 0; i < st->nitems; i++)
                if (st->items[i].coverages & (1ull << cov))
                    items |= 1ull << i;
            emit(g, "{\ndouble f = 1;\n");
            emit_discount_factor(g, st, items, "f");
            emit(g, "x *= f;\n}\n");
        }
        return;
    default:
        break;
    }
    emit(g, "{\ndouble v = 0;\n");
    emit_prog(g, st->expr, "v");
    switch ((mq_step_kind)op->kind) {
    case STEP_FACTOR:
        emit(g, "x *= v;\n");
        break;
    case STEP_ADD:
        emit(g, "x += v;\n");
        break;
    case STEP_ROUND:
        emit(g, "if (!mq_round_step_ok(v))\nreturn native_interpret();\n"
                "x = mq_round_step(x, v);\n");
        break;
    case STEP_MINIMUM:
        emit(g, "if (x < v || isnan(v))\nx = v;\n");
        break;
    default:
        break;
    }
    emit(g, "}\n");
}

/* Coverage c on unit u, as rate_coverage. */
static void emit_coverage(gen *g, int c)
{
    const mq_plan_cov *pc = &g->p->cov[c];
    char step[48];
    emit(g, "if (chosen >> %d & 1) {\n", c);
    if (pc->omit_when) {
        emit(g, "double omit = 0;\n");
        emit_prog(g, pc->omit_when, "omit");
        emit(g,
             "if (mq_truth(omit)) {\nif (!totals_only) {\nif (nnotes == %d)\n"
             "return native_interpret();\nif (!(notes[nnotes++] = mq_rate_note_text(p, in, %d, "
             "u, a)))\nreturn MQ_NATIVE_OOM;\n}\n} else {\n",
             NATIVE_NOTES, c);
    } else {
        emit(g, "{\n");
    }
    emit(g, "double x = 0;\n");
    emit_prog(g, pc->base, "x");
    for (int i = 0; i < pc->nsteps; i++)
        emit_step(g, &pc->ops[i], c);
    emit(g,
         "if (!(x >= 0 && x <= 1e9))\nreturn native_interpret();\n"
         "int64_t cents = mq_round_to_cents(x, %s);\nsum += cents;\n"
         "if (!totals_only)\npremiums[npremiums++] = (mq_cov_premium){%d, u, cents};\n}\n}\n",
         literal(step, g->p->round_step), c);
}

/* The unit's prologue: the row of each table slot and the factor of each
 * discount group the chosen coverages (of `rated`) read, each once, in the
 * order of their first use. rate.c works them out on first use; they are
 * pure, so doing it before gives the same values (a lookup that fails
 * where the interpreter would not have looked is handed to it). A policy
 * slot is looked up once per rating. */
static void emit_unit_rows(gen *g, uint64_t rated)
{
    const mq_plan *p = g->p;
    uint64_t slot_covs[64] = {0}, group_covs[64] = {0};
    const mq_cov_op *slot_op[64] = {0}, *group_op[64] = {0};
    int order[128], norder = 0; /* slots (s) and groups (64 + g), first use first */
    if (p->nslots > 64 || p->ngroups > 64) {
        fail(g, "more than 64 table slots or discount groups");
        return;
    }
    for (uint64_t left = rated; left; left &= left - 1) {
        int c = __builtin_ctzll(left);
        for (int i = 0; i < p->cov[c].nsteps; i++) {
            const mq_cov_op *op = &p->cov[c].ops[i];
            bool table = op->kind == STEP_TABLE;
            if (!table && !(op->kind == STEP_DISCOUNTS && op->slot >= 0))
                continue;
            int at = table ? op->step->slot : op->slot;
            uint64_t *covs = table ? &slot_covs[at] : &group_covs[at];
            if (!*covs) {
                order[norder++] = table ? at : 64 + at;
                if (table)
                    slot_op[at] = op;
                else
                    group_op[at] = op;
            }
            *covs |= 1ull << c;
        }
    }
    for (int i = 0; i < norder; i++) {
        int at = order[i] % 64;
        if (order[i] < 64) {
            /* probe the first use's column when its values vouch for
             * every other column read from the slot */
            int ti = table_index(g, slot_op[at]->step->table), probe = (int)slot_op[at]->column;
            bool vouches = column_has_gaps(g, ti, probe);
            for (uint64_t left = slot_covs[at]; left && vouches; left &= left - 1) {
                const mq_plan_cov *pc = &p->cov[__builtin_ctzll(left)];
                for (int j = 0; j < pc->nsteps; j++)
                    if (pc->ops[j].kind == STEP_TABLE && pc->ops[j].step->slot == at)
                        vouches &= gaps_within(g, ti, (int)pc->ops[j].column, probe);
            }
            g->slot_probed[at] = vouches;
            if (at < p->npolicy_slots) /* kept from an earlier unit */
                emit(g, "if (!row%d && (chosen & UINT64_C(%" PRIu64 "))) {\n", at, slot_covs[at]);
            else
                emit(g, "if (chosen & UINT64_C(%" PRIu64 ")) {\n", slot_covs[at]);
            emit_slot_lookup(g, slot_op[at]->step, vouches ? probe : -1);
            emit(g, "}\n");
        } else {
            const mq_step *st = group_op[at]->step;
            char dest[32];
            snprintf(dest, sizeof dest, "factor%d", at);
            emit(g, "if (chosen & UINT64_C(%" PRIu64 ")) {\n", group_covs[at]);
            emit_discount_factor(g, st, st->group_items[at - st->first_group], dest);
            emit(g, "}\n");
        }
    }
}

/* Every unit's chosen coverages, as rate_units. */
static void emit_units(gen *g)
{
    const mq_plan *p = g->p;
    const mq_choices *ch = &p->choices;
    char n[48];
    emit(g, "uint64_t policy_chosen = UINT64_C(%" PRIu64 ");\n", ch->always);
    for (int i = 0; i < ch->npolicy; i++)
        emit(g, "if (!isnan(in->values[0][%d]))\npolicy_chosen |= UINT64_C(1) << %d;\n",
             ch->policy_field[i], ch->policy_cov[i]);
    emit(g, "mq_cov_premium premiums[%d];\nint npremiums = 0;\n", NATIVE_PREMIUMS);
    emit(g, "const char *notes[%d];\nint nnotes = 0;\nint64_t sum = 0;\n", NATIVE_NOTES);
    emit_caches(g, false);
    emit(g, "for (int32_t u = 0; u < %s; u++) {\n", nunits_expr(g, n));
    emit_caches(g, true);
    if (g->l->unit != MQ_ENT_POLICY)
        emit_enter(g, g->l->unit, "u", true);
    emit(g, "uint64_t chosen = policy_chosen;\n");
    if (ch->nunit) {
        emit(g, "const double *unit_row = in->values[%d] + (size_t)u * %d;\n", (int)g->l->unit,
             g->l->nfields[g->l->unit]);
        for (int i = 0; i < ch->nunit; i++)
            emit(g, "if (!isnan(unit_row[%d]))\nchosen |= UINT64_C(1) << %d;\n", ch->unit_field[i],
                 ch->unit_cov[i]);
    }
    uint64_t possible = ch->always;
    for (int i = 0; i < ch->npolicy; i++)
        possible |= 1ull << ch->policy_cov[i];
    for (int i = 0; i < ch->nunit; i++)
        possible |= 1ull << ch->unit_cov[i];
    /* room for every coverage of the unit (a request of more units than
     * the array holds is interpreted) */
    emit(g, "if (npremiums > %d)\nreturn native_interpret();\n",
         NATIVE_PREMIUMS - __builtin_popcountll(possible));
    uint64_t rated = 0;
    for (int c = 0; c < 64; c++)
        if ((possible >> c & 1) && p->cov[c].offered && p->cov[c].base)
            rated |= 1ull << c;
    emit_unit_rows(g, rated);
    for (uint64_t left = rated; left; left &= left - 1)
        emit_coverage(g, __builtin_ctzll(left));
    emit(g, "}\n");
    emit(g, "return mq_native_finish(p, premiums, npremiums, notes, nnotes, sum, health_class, "
            "totals_only, a, out);\n");
}

/* The start of a rating, as setup_vm and mq_vm_start_shaped: the VM's
 * entities, variables and parents, entity 0 of every kind current; the
 * effective date's parts and the plan's within_months windows. */
static void emit_start(gen *g)
{
    const mq_plan *p = g->p;
    emit(g, "double vars[%d];\nint32_t parents[%d];\nint vars_used = 0, parents_used = 0;\n",
         NATIVE_VARS, NATIVE_PARENTS);
    emit(g, "if (in->line != %d || !mq_plan_writes(p, in->state))\nreturn native_interpret();\n",
         (int)p->line);
    if (g->uses_eff || g->uses_vm || g->nwindows)
        emit(g, "const mq_ymd eff = mq_date_ymd(in->effective_date);\n");
    if (g->uses_vm)
        emit(g,
             "mq_vm vm;\nvm.in = in;\nvm.line = mq_line_get(%d);\nvm.nwindows = 0;\n"
             "vm.trace = NULL;\n"
             "vm.eff_y = eff.y;\nvm.eff_m = eff.m;\nvm.eff_d = eff.d;\n",
             (int)p->line);
    for (int w = 0; w < g->nwindows; w++)
        emit(g, "const int32_t window%d = mq_ymd_add_months(eff, %d);\n", w, -g->windows[w]);
    for (int k = 0; k < MQ_ENT_COUNT; k++) {
        if (!(g->kinds >> k & 1))
            continue; /* the body reads nothing of this kind */
        int nv = p->nvars_of[k];
        emit(g,
             "int32_t at_%d, self_%d = 0;\nconst double *frow_%d, *vrow_%d;\n"
             "const double *fbase_%d = in->values[%d] ? in->values[%d] : mq_vm_none;\n"
             "double *vbase_%d = (double *)mq_vm_none;\nint32_t *parent_%d = NULL;\n",
             k, k, k, k, k, k, k, k, k);
        if (nv)
            emit(g,
                 "{\nint64_t cells = (int64_t)in->count[%d] * %d;\nif (cells > %d - vars_used)\n"
                 "return native_interpret();\nif (cells)\nvbase_%d = vars + vars_used;\n"
                 "vars_used += (int)cells;\n}\n",
                 k, nv, NATIVE_VARS, k);
        if (k != MQ_ENT_POLICY && g->l->parent[k] != MQ_ENT_POLICY)
            emit(g,
                 "if (in->start[%d]) {\n"
                 "if (in->count[%d] + 1 > %d - parents_used)\nreturn native_interpret();\n"
                 "parent_%d = parents + parents_used;\nparents_used += in->count[%d] + 1;\n"
                 "for (int32_t o = 0; o < in->count[%d]; o++)\n"
                 "for (int32_t i = in->start[%d][o]; i < in->start[%d][o + 1]; i++)\n"
                 "parent_%d[i] = o;\n}\n",
                 k, k, NATIVE_PARENTS, k, k, (int)g->l->parent[k], k, k, k);
        emit_set(g, k, "0");
    }
}

/* The prototype of plan number `index`'s function (no terminator): what
 * the registry declares and the plan's file defines. */
static void emit_prototype(FILE *f, int index)
{
    fprintf(f,
            "int mq_native_plan%d(const mq_plan *p, const mq_input *in, bool totals_only, "
            "mq_arena *a, mq_result *out)",
            index);
}

/* The whole function of plan number `index`: its helpers (static, named by
 * the number), then the function, mq_native_plan<index>, external since the
 * list of plans may be in another file; its start is written after its body
 * (the body finds the windows the start works out). False when the plan
 * uses something this file does not compile (the reason in *why). */
static bool emit_plan(FILE *f, const mq_plan *p, int index, const char **why)
{
    gen g = {.f = f, .p = p, .l = mq_line_get(p->line), .index = index};
    fprintf(f, "\n/* %s %s (%s) */\n", p->plan_id, p->version, p->dir);
    for (int t = 0; t < p->ntables; t++)
        emit_table_helpers(&g, t);
    char *body = NULL;
    size_t len = 0;
    g.f = open_memstream(&body, &len);
    if (!g.f) {
        *why = "out of memory";
        return false;
    }
    emit_variables(&g);
    emit_rules(&g);
    emit_offered(&g);
    emit_classify(&g);
    emit_units(&g);
    bool ok = fclose(g.f) == 0;
    g.f = f;
    emit_prototype(f, index);
    fputs("\n{\n", f);
    emit_start(&g);
    if (ok)
        fwrite(body, 1, len, f);
    free(body);
    emit(&g, "}\n");
    *why = ok ? g.why : "out of memory";
    return ok && !g.why;
}

int mq_codegen_write(const mq_engine *e, FILE **out, int nout, FILE *log)
{
    if (nout < 1)
        return -1;
    for (int s = 0; s < nout; s++)
        fprintf(out[s],
                "/* The bundled plans compiled into C by mqcodegen (src/engine/codegen.c):\n"
                " * file %d of %d%s. Generated at build time: do not edit. */\n"
                "#include \"internal.h\"\n\n"
                "/* Generated code declares what it may not use (locals, helpers). */\n"
                "#pragma GCC diagnostic ignored \"-Wunused-label\"\n"
                "#pragma GCC diagnostic ignored \"-Wunused-variable\"\n"
                "#pragma GCC diagnostic ignored \"-Wunused-but-set-variable\"\n"
                "#pragma GCC diagnostic ignored \"-Wunused-function\"\n"
                "#ifndef __clang__\n"
                "/* each variable is written before it is read, which GCC cannot follow */\n"
                "#pragma GCC diagnostic ignored \"-Wmaybe-uninitialized\"\n"
                "#endif\n"
                "\n/* What a compiled plan answers when the interpreter must rate: on a path\n"
                " * marked cold, so GCC lays the rating's usual path out straight. */\n"
                "static __attribute__((cold, noinline)) int native_interpret(void)\n"
                "{\n    return MQ_NATIVE_INTERPRET;\n}\n"
                "\n/* mq_table_row, NULL when no row matches. */\n"
                "static inline const double *native_row(const mq_table *t, const double *keys)\n"
                "{\n    int64_t c = mq_table_cell(t, keys);\n"
                "    return c < 0 ? NULL : t->matrix + c * t->nvalues;\n}\n"
                "\n/* The parts of a day, the effective date's worked out once (mq_vm_ymd). */\n"
                "static inline mq_ymd native_ymd(const mq_input *in, mq_ymd eff, int32_t day)\n"
                "{\n    return day == in->effective_date ? eff : mq_date_ymd(day);\n}\n",
                s + 1, nout, s == 0 ? ", which lists them all (mq_native_plans)" : "");
    bool *done = calloc((size_t)e->nplans + 1, sizeof(bool));
    size_t *bytes = calloc((size_t)nout, sizeof(size_t)); /* plan text in each file so far */
    if (!done || !bytes) {
        free(done);
        free(bytes);
        return -1;
    }
    int n = 0;
    for (int i = 0; i < e->nplans; i++) {
        const mq_plan *p = e->plans[i];
        const char *why = "out of memory";
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len); /* kept only when the whole plan compiles */
        bool ok = m && emit_plan(m, p, i, &why);
        if (m && fclose(m) != 0)
            ok = false;
        if (ok) {
            /* to the file with the least so far, so that the files take
             * about as long to compile, in parallel */
            int s = 0;
            for (int t = 1; t < nout; t++)
                if (bytes[t] < bytes[s])
                    s = t;
            fwrite(text, 1, len, out[s]);
            bytes[s] += len;
            done[i] = true;
            n++;
        } else {
            fprintf(out[0], "\n/* %s %s: not compiled (%s) */\n", p->plan_id, p->version, why);
            if (log)
                fprintf(log, "mqcodegen: %s: left to the interpreter: %s\n", p->dir, why);
        }
        free(text);
    }
    fprintf(out[0], "\n/* The compiled plans, each defined in one of the files. */\n");
    for (int i = 0; i < e->nplans; i++)
        if (done[i]) {
            emit_prototype(out[0], i);
            fputs(";\n", out[0]);
        }
    fprintf(out[0], "\nconst mq_native mq_native_plans[] = {\n");
    for (int i = 0; i < e->nplans; i++) {
        const mq_plan *p = e->plans[i];
        if (done[i])
            fprintf(out[0], "    {\"%s\", mq_native_plan%d, %d, %d, %d, %d, %d, %d},\n", p->digest,
                    i, p->ntables, p->nvars, p->nsteps, p->nslots, p->nitems, p->nrules);
    }
    if (!n)
        fprintf(out[0], "    {\"\", NULL, 0, 0, 0, 0, 0, 0},\n");
    fprintf(out[0], "};\nconst int mq_native_nplans = %d;\n", n);
    free(done);
    free(bytes);
    for (int s = 0; s < nout; s++)
        if (ferror(out[s]))
            return -1;
    return n;
}
