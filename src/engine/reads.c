/* reads.c -- which input fields rating a plan can read (mq_plan_reads).
 *
 * Worked out once, when the engine is indexed, as one bit per field of each
 * entity kind (mq_plan.reads). A plan reads a field through its compiled
 * programs, and the engine reads some for every plan of a line. So the set
 * is the union of: every field load (OP_FIELD, OP_SELF) in every program the
 * plan holds -- derived variables, eligibility rules, coverage bases and
 * omit_when, step expressions, table-step keys, discount conditions and
 * amounts, the term life class -- and in the condition and value of every
 * aggregate inside them (table lookups take their keys from those loads);
 * and the fields the engine reads itself: the effective date and state
 * (plan selection and calendar functions), each coverage's presence field
 * (what is rated), each link field (which entity is current), term life's
 * payment mode. A health plan's net premium also depends on the market's
 * benchmark plan, so it reads every field. A variable nothing uses still
 * counts: the answer errs on the side of true.
 *
 * The same walk over the derived variables' programs alone, plus the link
 * fields that say which entity is current, gives mq_plan.var_reads: what a
 * re-rating memo (memo.c) compares to know the variables are unchanged.
 */
#include "internal.h"

/* Sets the bit of `field` of `kind` in a set (a bit set per kind). */
static void mark_in(uint64_t *set, int kind, int field)
{
    if (kind >= 0 && kind < MQ_ENT_COUNT && field >= 0 && field < 64)
        set[kind] |= 1ull << field;
}

static void mark(mq_plan *p, int kind, int field)
{
    mark_in(p->reads, kind, field);
}

/* Every field prog loads, with its aggregates' conditions and values. */
static void mark_prog_in(uint64_t *set, const mq_prog *prog)
{
    if (!prog)
        return;
    for (int i = 0; i < prog->ncode; i++) {
        const mq_ins *in = &prog->code[i];
        if (in->op == OP_FIELD || in->op == OP_SELF)
            mark_in(set, in->a, in->b);
    }
    for (int g = 0; g < prog->naggs; g++) {
        mark_prog_in(set, prog->aggs[g].cond);
        mark_prog_in(set, prog->aggs[g].value);
    }
}

static void mark_prog(mq_plan *p, const mq_prog *prog)
{
    mark_prog_in(p->reads, prog);
}

/* What computing the derived variables reads: their programs' loads and
 * the link fields entering an entity follows. */
static void index_var_reads(mq_plan *p, const mq_line_def *l)
{
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        p->var_reads[k] = 0;
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        mark_in(p->var_reads, k, l->link_plus1[k] - 1);
    for (int v = 0; v < p->nvars; v++)
        mark_prog_in(p->var_reads, p->vars[v].prog);
}

static void mark_step(mq_plan *p, const mq_step *st)
{
    mark_prog(p, st->expr);
    for (int k = 0; k < st->nkeys; k++)
        mark_prog(p, st->keys[k]);
    for (int i = 0; i < st->nitems; i++) {
        mark_prog(p, st->items[i].amount);
        mark_prog(p, st->items[i].when);
    }
}

/* What every plan of the line reads, whatever its programs say. */
static void mark_engine_reads(mq_plan *p, const mq_line_def *l)
{
    mark(p, MQ_ENT_POLICY, mq_field_find(l, MQ_ENT_POLICY, "effective_date"));
    mark(p, MQ_ENT_POLICY, mq_field_find(l, MQ_ENT_POLICY, "state"));
    for (int c = 0; c < l->ncoverages; c++)
        mark(p, l->coverages[c].scope, l->coverages[c].presence_field);
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        mark(p, k, l->link_plus1[k] - 1);
    if (p->line == MQ_LINE_TERM_LIFE)
        mark(p, MQ_ENT_POLICY, MQ_LP_PAYMENT_MODE);
}

void mq_plan_index_reads(mq_plan *p)
{
    const mq_line_def *l = mq_line_get(p->line);
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        p->reads[k] = p->line == MQ_LINE_HEALTH ? ~0ull : 0;
    mark_engine_reads(p, l);
    for (int v = 0; v < p->nvars; v++)
        mark_prog(p, p->vars[v].prog);
    for (int r = 0; r < p->nrules; r++)
        mark_prog(p, p->rules[r].when);
    for (int c = 0; c < l->ncoverages; c++) {
        mark_prog(p, p->cov[c].base);
        mark_prog(p, p->cov[c].omit_when);
    }
    for (int s = 0; s < p->nsteps; s++)
        mark_step(p, &p->steps[s]);
    mark_prog(p, p->class_expr);
    index_var_reads(p, l);
}

bool mq_plan_reads(const mq_plan *p, mq_entity_kind kind, int field)
{
    const mq_line_def *l = mq_line_get(p->line);
    if ((int)kind < 0 || kind >= MQ_ENT_COUNT || field < 0 || field >= l->nfields[kind] ||
        field >= 64)
        return true; /* not a field of the line, or past the bit set: in doubt */
    return (p->reads[kind] >> field & 1) != 0;
}
