/* memo.c -- derived variables kept between ratings of one plan on variants
 * of a request (mq_rate_memo, mq_rate_opts.memo).
 *
 * The savings tips rate a plan again on copies of the request with one
 * field changed (deductibles, paperless, limits): the derived variables,
 * nearly half of a rating, mostly do not read that field. A memo keeps the
 * variables of the first rating, with copies of everything they were
 * computed from: the effective date, the list sizes, which parent each
 * child has, and the value of every field the variables can read
 * (mq_plan.var_reads, worked out at load by reads.c). A later rating of the
 * same plan compares those with its own request, bit for bit, and copies
 * the variables only when all are equal, so a memo never changes a result:
 * the engine, not the caller, decides when it applies.
 */
#include "internal.h"

#include <string.h>

struct mq_rate_memo {
    mq_arena *a;         /* where the copies below come from */
    const mq_plan *plan; /* NULL while empty */
    int32_t effective_date;
    int32_t count[MQ_ENT_COUNT];
    int32_t *start[MQ_ENT_COUNT]; /* children's offsets (kinds with a non-policy parent) */
    /* per kind: the fields the variables read (mq_plan.var_reads), and
     * their values, entity by entity, as bits */
    int nread[MQ_ENT_COUNT];
    uint8_t read_field[MQ_ENT_COUNT][64];
    int nfields[MQ_ENT_COUNT];
    uint64_t *read[MQ_ENT_COUNT];
    double *vars[MQ_ENT_COUNT];
    int32_t at[MQ_ENT_COUNT], self[MQ_ENT_COUNT]; /* the VM's entities after the variables */
};

mq_rate_memo *mq_rate_memo_new(mq_arena *a)
{
    mq_rate_memo *m = mq_arena_alloc_uninit(a, sizeof(*m));
    if (m) {
        m->a = a;
        m->plan = NULL;
    }
    return m;
}

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* Whether the values the variables read of kind k's entities are the
 * memo's, bit for bit. */
static bool same_values(const mq_rate_memo *m, const mq_input *in, int k)
{
    int n = m->nread[k];
    if (!n)
        return true;
    const uint8_t *field = m->read_field[k];
    const uint64_t *kept = m->read[k];
    const double *row = in->values[k];
    if (!row)
        return false;
    for (int32_t i = 0; i < in->count[k]; i++, row += m->nfields[k], kept += n)
        for (int j = 0; j < n; j++)
            if (bits_of(row[field[j]]) != kept[j])
                return false;
    return true;
}

/* Whether the children of kind k are grouped under their parents as the
 * memo's were (the list sizes are already the same). */
static bool same_start(const mq_rate_memo *m, const mq_line_def *l, const mq_input *in, int k)
{
    if (k == MQ_ENT_POLICY || l->parent[k] == MQ_ENT_POLICY)
        return true; /* a list of the policy: its size says it all */
    if (!in->start[k] || !m->start[k])
        return !in->start[k] && !m->start[k];
    size_t n = (size_t)in->count[l->parent[k]] + 1;
    return memcmp(in->start[k], m->start[k], n * sizeof(int32_t)) == 0;
}

static bool memo_applies(const mq_rate_memo *m, const mq_plan *p, const mq_input *in)
{
    if (m->plan != p || m->effective_date != in->effective_date)
        return false;
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        if (m->count[k] != in->count[k])
            return false;
    const mq_line_def *l = mq_line_get(p->line);
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        if (!same_start(m, l, in, k) || !same_values(m, in, k))
            return false;
    return true;
}

bool mq_memo_restore(const mq_rate_memo *m, const mq_plan *p, const mq_input *in, mq_vm *vm)
{
    if (!memo_applies(m, p, in))
        return false;
    for (int k = 0; k < MQ_ENT_COUNT; k++) {
        size_t cells = (size_t)in->count[k] * (size_t)p->nvars_of[k];
        if (cells)
            memcpy(vm->vars[k], m->vars[k], cells * sizeof(double));
    }
    for (int k = 0; k < MQ_ENT_COUNT; k++) {
        mq_vm_set_current(vm, k, m->at[k]);
        vm->self[k] = m->self[k];
    }
    return true;
}

/* A copy of n bytes from the memo's arena (NULL for none, or out of
 * memory: *ok says which). */
static void *copy_of(mq_rate_memo *m, const void *from, size_t n, bool *ok)
{
    if (!n || !from)
        return NULL;
    void *to = mq_arena_alloc_uninit(m->a, n);
    *ok &= to != NULL;
    if (to)
        memcpy(to, from, n);
    return to;
}

/* Keeps which fields of kind k the variables read, and their values for
 * every entity. False when out of memory. */
static bool keep_values(mq_rate_memo *m, const mq_plan *p, const mq_input *in, int k)
{
    uint64_t fields = in->values[k] && in->count[k] ? p->var_reads[k] : 0;
    int n = 0;
    for (; fields; fields &= fields - 1)
        m->read_field[k][n++] = (uint8_t)__builtin_ctzll(fields);
    m->nread[k] = n;
    m->read[k] = NULL;
    if (!n)
        return true;
    uint64_t *kept =
        mq_arena_alloc_uninit(m->a, sizeof(uint64_t) * (size_t)n * (size_t)in->count[k]);
    if (!kept)
        return false;
    m->read[k] = kept;
    const double *row = in->values[k];
    for (int32_t i = 0; i < in->count[k]; i++, row += m->nfields[k])
        for (int j = 0; j < n; j++)
            *kept++ = bits_of(row[m->read_field[k][j]]);
    return true;
}

bool mq_memo_keep(mq_rate_memo *m, const mq_plan *p, const mq_input *in, const mq_vm *vm)
{
    const mq_line_def *l = mq_line_get(p->line);
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        if (l->nfields[k] > 64)
            return true; /* var_reads cannot name every field: keep nothing */
    if (m->plan)
        return true;
    bool ok = true;
    m->effective_date = in->effective_date;
    for (int k = 0; k < MQ_ENT_COUNT && ok; k++) {
        m->count[k] = in->count[k];
        m->nfields[k] = l->nfields[k];
        m->at[k] = vm->cur.at[k];
        m->self[k] = vm->self[k];
        m->start[k] = NULL;
        if (k != MQ_ENT_POLICY && l->parent[k] != MQ_ENT_POLICY)
            m->start[k] = copy_of(m, in->start[k],
                                  ((size_t)in->count[l->parent[k]] + 1) * sizeof(int32_t), &ok);
        m->vars[k] = copy_of(m, vm->vars[k],
                             (size_t)in->count[k] * (size_t)p->nvars_of[k] * sizeof(double), &ok);
        ok = ok && keep_values(m, p, in, k);
    }
    if (ok)
        m->plan = p; /* filled: from now on it applies to matching requests */
    return ok;
}
