/* select.c -- the engine's carrier index and plan selection.
 *
 * Which plan rates a request depends on the carrier, the line, the state
 * and the effective date. Carrier and plan ids are strings in the plan
 * files; comparing them for every request cost a string comparison per plan
 * and carrier. So once, when the engine is loaded (mq_engine_index), every
 * plan gets the index of its carrier and of its plan id, and the bit set of
 * the states it writes; every line gets its plans and its carriers in load
 * order; every carrier gets, per line, the plan that names it when it has no
 * plan for a request and the states its plans of that line write. Selecting
 * plans and explaining a missing one are then integer work. The only string
 * comparisons left per request are for carriers the request names by id
 * (a binary search of the ids, once per name).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- Building the index (once, at load) -------------------------------- */

static uint64_t state_bit(int state)
{
    return state >= 0 && state < 64 ? 1ull << state : 0;
}

static uint64_t states_mask(const mq_plan *p)
{
    uint64_t mask = 0;
    for (int i = 0; i < p->nstates; i++)
        mask |= state_bit(p->states[i]);
    return mask;
}

/* The carrier named `id` among the first n, or -1. */
static int carrier_of(const mq_engine *e, int n, const char *id)
{
    for (int c = 0; c < n; c++)
        if (strcmp(e->carriers[c].id, id) == 0)
            return c;
    return -1;
}

/* The first plan (index) with the same plan id as plan i. */
static int plan_key_of(const mq_engine *e, int i)
{
    for (int j = 0; j < i; j++)
        if (strcmp(e->plans[j]->plan_id, e->plans[i]->plan_id) == 0)
            return e->plans[j]->plan_key;
    return i;
}

/* Gives every plan its carrier, plan key and states, and every carrier
 * its plans' facts, in load order. */
static void index_plans(mq_engine *e)
{
    for (int i = 0; i < e->nplans; i++) {
        mq_plan *p = e->plans[i];
        int c = carrier_of(e, e->ncarriers, p->carrier_id);
        if (c < 0) {
            c = e->ncarriers++;
            e->carriers[c] = (mq_carrier){.id = p->carrier_id, .first = p};
        }
        p->carrier = c;
        p->plan_key = plan_key_of(e, i);
        p->state_mask = states_mask(p);
        mq_plan_index_reads(p);
        mq_native_attach(p);
        e->carriers[c].last_of[p->line] = p; /* any_plan_of kept the last */
        e->carriers[c].states_of[p->line] |= p->state_mask;
    }
}

/* The plans of `line` in load order, and its carriers in the order of
 * their first plan of the line. */
static void index_line(mq_engine *e, mq_line line)
{
    mq_line_index *li = &e->lines[line];
    for (int i = 0; i < e->nplans; i++) {
        const mq_plan *p = e->plans[i];
        if (p->line != line)
            continue;
        li->plans[li->nplans++] = p;
        bool seen = false;
        for (int j = 0; j < li->ncarriers && !seen; j++)
            seen = li->carriers[j] == p->carrier;
        if (!seen)
            li->carriers[li->ncarriers++] = p->carrier;
    }
}

static int compare_carrier_ids(const void *x, const void *y, void *arg)
{
    const mq_engine *e = arg;
    return strcmp(e->carriers[*(const int *)x].id, e->carriers[*(const int *)y].id);
}

bool mq_engine_index(mq_engine *e)
{
    size_t n = (size_t)(e->nplans ? e->nplans : 1);
    e->carriers = calloc(n, sizeof(*e->carriers));
    e->by_id = calloc(n, sizeof(int));
    if (!e->carriers || !e->by_id)
        return false;
    index_plans(e);
    for (int line = 0; line < MQ_LINE_COUNT; line++) {
        e->lines[line].plans = calloc(n, sizeof(mq_plan *));
        e->lines[line].carriers = calloc(n, sizeof(int));
        if (!e->lines[line].plans || !e->lines[line].carriers)
            return false;
        index_line(e, (mq_line)line);
    }
    for (int c = 0; c < e->ncarriers; c++)
        e->by_id[c] = c;
    qsort_r(e->by_id, (size_t)e->ncarriers, sizeof(int), compare_carrier_ids, e);
    return true;
}

void mq_engine_index_free(mq_engine *e)
{
    free(e->carriers);
    free(e->by_id);
    for (int line = 0; line < MQ_LINE_COUNT; line++) {
        free(e->lines[line].plans);
        free(e->lines[line].carriers);
    }
}

/* ---- Using it (per request) ------------------------------------------- */

int mq_engine_carrier_find(const mq_engine *e, const char *id)
{
    int lo = 0, hi = e->ncarriers;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(e->carriers[e->by_id[mid]].id, id);
        if (c == 0)
            return e->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Whether carrier c's plan slot is among the first n, all holding plans. */
static bool carrier_selected(const mq_plan **plans, int n, int c)
{
    for (int j = 0; j < n; j++)
        if (plans[j]->carrier == c)
            return true;
    return false;
}

/* Fills slot n with plan p (NULL: none) of carrier c; either output may be
 * NULL. */
static void fill_slot(const mq_engine *e, int n, const mq_plan *p, int c, const mq_plan **plans,
                      int *carriers, const char **ids)
{
    plans[n] = p;
    if (carriers)
        carriers[n] = c;
    if (ids)
        ids[n] = e->carriers[c].id;
}

/* Keeps, in order, the first n slots whose version has not ended by `on`
 * (its `until` not passed); either output may be NULL. The number kept. */
static int drop_ended(const mq_plan **plans, int *carriers, const char **ids, int n, int32_t on)
{
    int kept = 0;
    for (int j = 0; j < n; j++) {
        if (plans[j]->until && on > plans[j]->until)
            continue;
        plans[kept] = plans[j];
        if (carriers)
            carriers[kept] = carriers[j];
        if (ids)
            ids[kept] = ids[j];
        kept++;
    }
    return kept;
}

int mq_engine_pick(const mq_engine *e, mq_line line, int state, int32_t on, const mq_plan **plans,
                   int *carriers, const char **ids, int cap)
{
    /* one slot per plan id in effect (a carrier may offer several plans, as
     * health issuers do), and one empty slot per carrier with none. The
     * version in effect is the latest that took effect on or before `on`;
     * when its `until` has passed the plan has none: an older version it
     * replaced does not rate again. */
    const mq_line_index *li = &e->lines[line];
    int n = 0;
    for (int i = 0; i < li->nplans; i++) {
        const mq_plan *p = li->plans[i];
        if (!mq_plan_writes(p, state) || p->effective > on)
            continue;
        int slot = -1;
        for (int j = 0; j < n && slot < 0; j++)
            if (plans[j]->plan_key == p->plan_key)
                slot = j;
        if (slot < 0 && n < cap)
            fill_slot(e, n++, p, p->carrier, plans, carriers, ids);
        else if (slot >= 0 && p->effective > plans[slot]->effective)
            plans[slot] = p;
    }
    n = drop_ended(plans, carriers, ids, n, on);
    int with_plan = n;
    for (int i = 0; i < li->ncarriers && n < cap; i++) {
        int c = li->carriers[i];
        if (!carrier_selected(plans, with_plan, c))
            fill_slot(e, n++, NULL, c, plans, carriers, ids);
    }
    return n;
}

int mq_engine_select(const mq_engine *e, mq_line line, int state, int32_t on, const mq_plan **plans,
                     const char **carrier_ids, int cap)
{
    return mq_engine_pick(e, line, state, on, plans, NULL, carrier_ids, cap);
}

const mq_carrier *mq_engine_carrier(const mq_engine *e, int c)
{
    return c >= 0 && c < e->ncarriers ? &e->carriers[c] : NULL;
}
