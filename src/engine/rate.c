/* rate.c -- rates one request against a plan, and against every carrier.
 *
 * Rating runs in a fixed order: derived variables (in dependency order, each
 * for every entity of its kind), eligibility rules, the check that every
 * chosen coverage is offered, then for each unit (a vehicle, or the policy)
 * and each chosen coverage: base rate, the plan's steps, rounding. Coverage
 * premiums are summed in whole cents, raised to the minimum premium, and the
 * fees added. A table lookup with no row stops rating with the table's
 * `missing:` status. The worksheet (every step with table, key, factor and
 * running value) is recorded only when asked for, so the hot path writes
 * nothing but the premiums.
 *
 * What is the same for every coverage of a unit is worked out once per unit,
 * on first use: a table step's row (steps with the same lookup share it, see
 * mq_step.slot; a lookup keyed by policy data only, such as the BI limits,
 * once per rating), each discount's condition and amount, and the discount
 * factor of each group of coverages that count the same discounts. A
 * coverage then runs its packed steps (mq_cov_op): a table step is a cached
 * row read at its column and one multiplication. The rating's own memory
 * (variables, caches) is a buffer on the C stack while it lasts; the caches
 * are one block of it, set by a few 16-byte stores rather than memset
 * calls, and the variables are not zeroed (each is computed before it is
 * read); the result (premiums, texts) comes from the caller's arena, the
 * premiums in one array sized for every coverage of every unit.
 *
 * Two options serve callers that rate one plan again and again on variants
 * of a request (the savings tips): totals_only leaves out the coverages,
 * notes and reasons and never formats their texts, and a memo (memo.c)
 * hands the derived variables of an earlier rating to a later one whose
 * request agrees on everything they read.
 */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SCRATCH_BYTES = 4096 };

typedef struct rating {
    const mq_plan *p;
    const mq_input *in;
    const mq_line_def *l;
    mq_arena *a;
    mq_result *out;
    bool worksheet;
    bool totals_only; /* mq_rate_opts.totals_only: no coverages, notes or reasons */
    bool oom;
    mq_rate_memo *memo;  /* mq_rate_opts.memo, or NULL */
    int64_t premium_sum; /* the coverage premiums so far, in cents */
    mq_vm vm;
    int nunits;
    int capsteps, capnotes;
    uint64_t policy_chosen; /* coverages chosen policy-wide (bit per coverage) */
    /* scratch memory that lives as long as the rating: a buffer on the C
     * stack, then the arena once that is full */
    unsigned char *scratch;
    size_t scratch_used;
    /* per-unit caches, computed on first use and reset for each unit: a
     * table step's keys and row are the same for every coverage of a unit
     * (only the column differs), and steps looking up the same table with
     * the same keys share a slot (mq_step.slot; slots below npolicy_slots
     * are kept for the whole rating); a discount's condition and
     * amount are the same for every coverage, and so is the factor of the
     * coverages that count the same discounts (mq_step.first_group) */
    const double **slot_row; /* per slot: NULL not yet, else mq_table_row */
    double *slot_keys;       /* per slot: 8 key values */
    signed char *item_on;    /* per discount item: -1 not yet, 0 or 1 */
    double *item_amount;
    signed char *group_done; /* per discount group: 0 not yet, 1 factor known */
    double *group_factor;
    /* per discount step with groups (mq_step.mask_index), as bit per item:
     * evaluated for this unit, and applies (its amount in item_amount);
     * such a step's items go by these, not by item_on */
    uint64_t *items_known, *items_on;
} rating;

const char *mq_status_name(mq_status s)
{
    static const char *const names[] = {"quoted", "declined", "unavailable", "error", "timeout"};
    return (s >= MQ_QUOTED && s <= MQ_TIMEOUT) ? names[s] : "error";
}

/* ---- Small helpers ------------------------------------------------------ */

static bool grow(rating *r, void **items, int count, int *cap, size_t size)
{
    if (count < *cap)
        return true;
    int ncap = *cap ? *cap * 2 : 8;
    void *n = mq_arena_alloc(r->a, (size_t)ncap * size);
    if (!n) {
        r->oom = true;
        return false;
    }
    if (count)
        memcpy(n, *items, (size_t)count * size);
    *items = n;
    *cap = ncap;
    return true;
}

static void add_note(rating *r, const char *text)
{
    if (text && grow(r, (void **)&r->out->notes, r->out->nnotes, &r->capnotes, sizeof(char *)))
        r->out->notes[r->out->nnotes++] = text;
}

static void set_status(rating *r, mq_status s, const char *reason)
{
    r->out->status = s;
    if (r->totals_only)
        return;
    r->out->reasons = mq_arena_alloc(r->a, sizeof(char *));
    if (!r->out->reasons || !reason) {
        r->oom = true;
        return;
    }
    r->out->reasons[0] = reason;
    r->out->nreasons = 1;
}

/* set_status with the reason printf formats, formatted only when the
 * caller wants reasons. */
__attribute__((format(printf, 3, 4))) static void fail_with(rating *r, mq_status s, const char *fmt,
                                                            ...)
{
    if (r->totals_only) {
        set_status(r, s, NULL);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    const char *reason = mq_arena_vprintf(r->a, fmt, ap);
    va_end(ap);
    set_status(r, s, reason);
}

static void format_value(char *buf, size_t n, double v, mq_domain dom, bool boolean)
{
    if (boolean && (v == 0 || v == 1))
        snprintf(buf, n, "%s", v == 1 ? "true" : "false");
    else if (isnan(v))
        snprintf(buf, n, "(missing)");
    else if (dom != MQ_DOM_NONE)
        snprintf(buf, n, "%s", mq_symbol_name(dom, (int)v));
    else
        snprintf(buf, n, "%.10g", v);
}

static const char *format_keys(rating *r, const mq_table *t, const double *keys, int nkeys,
                               const char *sep, const mq_type *types)
{
    char buf[512] = "";
    size_t len = 0;
    for (int k = 0; k < nkeys && len < sizeof buf - 64; k++) {
        char one[64];
        /* a yes/no key reads true/false: the step's key type, else the
         * table's (a failed lookup's message named "35/1") */
        bool boolean = types ? types[k] == MQ_T_BOOL : t->maps && t->maps[k].type == MQ_T_BOOL;
        format_value(one, sizeof one, keys[k], t->maps ? t->maps[k].domain : MQ_DOM_NONE, boolean);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", k ? sep : "", one);
    }
    return mq_arena_strdup(r->a, buf);
}

/* The table's `missing:` rule, after a lookup found no row. */
static void apply_miss(rating *r)
{
    const mq_table *t = r->vm.miss_table;
    if (r->totals_only) {
        bool error = t->miss == MISS_ERROR || !t->miss_text;
        set_status(r,
                   error                     ? MQ_ERROR
                   : t->miss == MISS_DECLINE ? MQ_DECLINED
                                             : MQ_UNAVAILABLE,
                   NULL);
        return;
    }
    const char *keys = format_keys(r, t, r->vm.miss_keys, r->vm.miss_nkeys, "/", NULL);
    if (t->miss == MISS_ERROR || !t->miss_text) {
        fail_with(r, MQ_ERROR, "%s has no rate in table %s for %s", r->p->carrier_name, t->name,
                  keys ? keys : "?");
        return;
    }
    /* replace every {key} with the key values */
    char buf[1024];
    size_t len = 0;
    for (const char *s = t->miss_text; *s && len < sizeof buf - 1;) {
        if (strncmp(s, "{key}", 5) == 0) {
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", keys ? keys : "?");
            s += 5;
        } else {
            buf[len++] = *s++;
        }
    }
    buf[len < sizeof buf ? len : sizeof buf - 1] = '\0';
    set_status(r, t->miss == MISS_DECLINE ? MQ_DECLINED : MQ_UNAVAILABLE,
               mq_arena_strdup(r->a, buf));
}

static inline bool eval(rating *r, const mq_prog *p, double *out)
{
    return mq_vm_run(&r->vm, p, out);
}

/* ---- Worksheet --------------------------------------------------------- */

static void record(rating *r, int cov, int32_t unit, const char *name, const mq_table *table,
                   const char *key, const char *detail, char op, double factor, double running)
{
    mq_result *o = r->out;
    if (!grow(r, (void **)&o->steps, o->nsteps, &r->capsteps, sizeof(mq_work_step)))
        return;
    o->steps[o->nsteps++] = (mq_work_step){
        cov, unit, name, table ? table->name : NULL, key, detail, factor, op, running};
}

/* What a worksheet step that is an expression looked up. */
typedef struct looked_up {
    const mq_table *table; /* the one table, or NULL */
    const char *key;       /* its key values (arena), or NULL */
    const char *detail;    /* "interpolated", or every lookup when there were several */
} looked_up;

/* "table[key, key]" of one traced lookup, appended to buf. */
static size_t lookup_text(rating *r, const mq_vm_lookup *l, char *buf, size_t cap, size_t len)
{
    const char *keys = format_keys(r, l->table, l->keys, l->nkeys, ", ", NULL);
    if (len < cap)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s[%s]%s", len ? "; " : "", l->table->name,
                                keys ? keys : "", l->interpolated ? " interpolated" : "");
    return len;
}

/* Describes the trace of an expression's evaluation: one lookup as the
 * step's table and key (as a table step shows them), several in detail. */
static looked_up describe_trace(rating *r, const mq_vm_trace *tr)
{
    looked_up d = {0};
    if (tr->n == 1 && !tr->more) {
        const mq_vm_lookup *l = &tr->items[0];
        d.table = l->table;
        d.key = format_keys(r, l->table, l->keys, l->nkeys, ", ", NULL);
        d.detail = l->interpolated ? "interpolated" : NULL;
    } else if (tr->n > 1) {
        char buf[512];
        size_t len = 0;
        for (int i = 0; i < tr->n; i++)
            len = lookup_text(r, &tr->items[i], buf, sizeof buf, len);
        if (tr->more && len < sizeof buf)
            snprintf(buf + len, sizeof buf - len, "; %d more", tr->more);
        d.detail = mq_arena_strdup(r->a, buf);
    }
    return d;
}

/* eval, and for the worksheet what the expression looked up. */
static bool eval_seen(rating *r, const mq_prog *p, double *out, looked_up *seen)
{
    *seen = (looked_up){0};
    if (!r->worksheet)
        return eval(r, p, out);
    mq_vm_trace tr = {.n = 0};
    r->vm.trace = &tr;
    bool ok = eval(r, p, out);
    r->vm.trace = NULL;
    if (ok)
        *seen = describe_trace(r, &tr);
    return ok;
}

/* ---- Stages ------------------------------------------------------------ */

/* Memory for the rating's own use, not zeroed: from the stack buffer while
 * it lasts, then from the arena. NULL (and r->oom) when the arena is out. */
static inline void *scratch_alloc(rating *r, size_t size)
{
    size_t need = (size + 15) & ~(size_t)15;
    if (need >= size && need <= SCRATCH_BYTES - r->scratch_used) {
        void *mem = r->scratch + r->scratch_used;
        r->scratch_used += need;
        return mem;
    }
    void *mem = need >= size ? mq_arena_alloc(r->a, need) : NULL; /* need: see fill16 */
    r->oom |= !mem;
    return mem;
}

/* Sets the n bytes at p, from scratch_alloc, to byte b 16 at a time (its
 * blocks are multiples of 16 bytes): the few bytes of a rating's caches,
 * without a call to memset. The bytes past n up to the next multiple of 16
 * from p are set too, so p + n must not be more than 15 bytes short of
 * the block's end. */
static inline void fill16(void *p, int b, size_t n)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i += 16)
        memset(c + i, b, 16);
}

static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* The caches in one block from the scratch memory: each part rounded to 16
 * bytes, so fill16 can set it. */
static bool setup_caches(rating *r)
{
    const mq_plan *p = r->p;
    size_t slots = (size_t)p->nslots + 1, items = (size_t)p->nitems + 1;
    size_t groups = (size_t)p->ngroups + 1;
    size_t row_bytes = round16(sizeof(double *) * slots), keys_bytes = sizeof(double) * 8 * slots;
    size_t on_bytes = round16(items), amount_bytes = round16(sizeof(double) * items);
    size_t done_bytes = round16(groups), factor_bytes = round16(sizeof(double) * groups);
    size_t mask_bytes = round16(sizeof(uint64_t) * (size_t)p->nmasked);
    unsigned char *block = scratch_alloc(r, row_bytes + keys_bytes + on_bytes + amount_bytes +
                                                done_bytes + factor_bytes + 2 * mask_bytes);
    if (!block)
        return false;
    r->slot_row = (const double **)block;
    r->slot_keys = (double *)(block += row_bytes);
    r->item_on = (signed char *)(block += keys_bytes);
    r->item_amount = (double *)(block += on_bytes);
    r->group_done = (signed char *)(block += amount_bytes);
    r->group_factor = (double *)(block += done_bytes);
    r->items_known = (uint64_t *)(block += factor_bytes);
    r->items_on = (uint64_t *)(block + mask_bytes);
    fill16(r->items_known, 0, sizeof(uint64_t) * (size_t)p->nmasked);
    fill16(r->slot_row, 0, sizeof(double *) * (size_t)p->npolicy_slots);
    if (r->worksheet || p->ungrouped_items)          /* run_discounts reads item_on */
        fill16(r->item_on, 0xff, (size_t)p->nitems); /* all -1: not evaluated yet */
    return true;
}

static void reset_caches(rating *r)
{
    int kept = r->p->npolicy_slots; /* the same for every unit */
    fill16(r->slot_row + kept, 0, sizeof(double *) * (size_t)(r->p->nslots - kept));
    for (int m = 0; m < r->p->nmasked; m++) /* the items that read unit data */
        r->items_known[m] &= ~r->p->masked_unit_bits[m];
    if (r->worksheet || r->p->ungrouped_items) /* the same for run_discounts */
        for (int i = 0; i < r->p->nunit_items; i++)
            r->item_on[r->p->unit_items[i]] = -1;
    fill16(r->group_done, 0, (size_t)r->p->ngroups);
}

/* Index of each child entity's parent, for kinds listed under a non-policy
 * parent (incidents under drivers). */
static int32_t *parent_index(rating *r, mq_entity_kind k)
{
    const mq_input *in = r->in;
    int32_t *parent = scratch_alloc(r, sizeof(int32_t) * (size_t)(in->count[k] + 1));
    if (!parent)
        return NULL;
    int np = in->count[r->l->parent[k]];
    for (int32_t p = 0; p < np; p++)
        for (int32_t i = in->start[k][p]; i < in->start[k][p + 1]; i++)
            parent[i] = p;
    return parent;
}

static bool setup_vm(rating *r)
{
    const mq_input *in = r->in;
    if (!setup_caches(r))
        return false;
    r->vm.in = in; /* vars and parent_of are NULL (start_rating) */
    r->vm.line = r->l;
    for (int k = 0; k < MQ_ENT_COUNT; k++) {
        r->vm.nvars[k] = r->p->nvars_of[k];
        size_t cells = (size_t)in->count[k] * (size_t)r->p->nvars_of[k];
        /* not zeroed: every variable is computed (or copied from a memo)
         * before anything reads it, in the plan's dependency order */
        if (cells && !(r->vm.vars[k] = scratch_alloc(r, cells * sizeof(double))))
            return false;
        if (k != MQ_ENT_POLICY && r->l->parent[k] != MQ_ENT_POLICY && in->start[k] &&
            !(r->vm.parent_of[k] = parent_index(r, (mq_entity_kind)k)))
            return false;
    }
    mq_vm_start_shaped(&r->vm, &r->p->vm_shape);
    if (r->totals_only)
        return true;
    /* room for every coverage premium the rating can give */
    size_t ncov = (size_t)r->nunits * (size_t)(r->p->ncodes ? r->p->ncodes : 1);
    r->out->coverages = mq_arena_alloc_uninit(r->a, ncov * sizeof(mq_cov_premium));
    r->oom |= !r->out->coverages;
    return r->out->coverages != NULL;
}

/* Variables [v, end) of kind k, one entity after the other. */
static bool compute_run(rating *r, int v, int end)
{
    const mq_var_decl *first = &r->p->vars[v], *last = &r->p->vars[end];
    mq_entity_kind k = first->kind;
    size_t nv = (size_t)r->vm.nvars[k];
    int32_t n = r->in->count[k];
    double *vars = r->vm.vars[k];
    for (int32_t i = 0; i < n; i++, vars += nv) {
        r->vm.self[k] = i;
        if (k != MQ_ENT_POLICY)
            mq_vm_focus(&r->vm, k, i);
        for (const mq_var_decl *d = first; d < last; d++)
            if (!eval(r, d->prog, vars + d->slot)) {
                apply_miss(r);
                return false;
            }
    }
    return true;
}

/* Every variable in dependency order; a run of variables the plan grouped
 * (mq_var_decl.with_previous, run_end) in one pass over its entities. */
static bool compute_variables(rating *r)
{
    for (int v = 0; v < r->p->nvars; v = r->p->vars[v].run_end)
        if (!compute_run(r, v, r->p->vars[v].run_end))
            return false;
    return true;
}

/* The derived variables: copied from the caller's memo when it holds them
 * for this plan and what they read of this request, else computed (and
 * kept in the memo when it is empty). */
static bool derive_variables(rating *r)
{
    if (r->memo && mq_memo_restore(r->memo, r->p, r->in, &r->vm))
        return true;
    if (!compute_variables(r))
        return false;
    if (r->memo && !mq_memo_keep(r->memo, r->p, r->in, &r->vm))
        r->oom = true;
    return !r->oom;
}

static bool check_eligibility(rating *r)
{
    for (int i = 0; i < r->p->nrules; i++) {
        const mq_rule *rule = &r->p->rules[i];
        double v;
        if (!eval(r, rule->when, &v)) {
            apply_miss(r);
            return false;
        }
        if (v != 0 && !isnan(v)) {
            set_status(r, rule->status, rule->reason);
            return false;
        }
    }
    return true;
}

/* Whether the shopper chose coverage `cov` on `unit`: a policy-wide choice,
 * or one made on the unit (a vehicle's comp), or a coverage always rated. */
static bool chosen_on(const rating *r, int cov, int32_t unit)
{
    const mq_coverage_def *cd = &r->l->coverages[cov];
    if (cd->presence_field < 0)
        return cd->scope == MQ_ENT_POLICY || cd->scope == r->l->unit;
    if (cd->scope == MQ_ENT_POLICY)
        return !isnan(r->in->values[MQ_ENT_POLICY][cd->presence_field]);
    if (cd->scope != r->l->unit)
        return false;
    return !isnan(r->in->values[cd->scope][(size_t)unit * (size_t)r->l->nfields[cd->scope] +
                                           (size_t)cd->presence_field]);
}

/* The coverages chosen on `unit` (bit per coverage), as chosen_on says,
 * from the plan's settled choices; the policy-wide ones are the same for
 * every unit and were found once (policy_chosen). */
static uint64_t chosen_mask(const rating *r, int32_t unit)
{
    const mq_choices *ch = &r->p->choices;
    uint64_t mask = r->policy_chosen;
    mq_entity_kind k = r->l->unit;
    const double *row = r->in->values[k] + (size_t)unit * (size_t)r->l->nfields[k];
    for (int i = 0; i < ch->nunit; i++)
        if (!isnan(row[ch->unit_field[i]]))
            mask |= 1ull << ch->unit_cov[i];
    return mask;
}

static uint64_t policy_mask(const rating *r)
{
    const mq_choices *ch = &r->p->choices;
    uint64_t mask = ch->always;
    const double *policy = r->in->values[MQ_ENT_POLICY];
    for (int i = 0; i < ch->npolicy; i++)
        if (!isnan(policy[ch->policy_field[i]]))
            mask |= 1ull << ch->policy_cov[i];
    return mask;
}

static bool check_offered(rating *r)
{
    for (uint64_t left = r->p->choices.unoffered; left; left &= left - 1) {
        int c = __builtin_ctzll(left);
        for (int32_t u = 0; u < r->nunits; u++)
            if (chosen_on(r, c, u)) {
                set_status(r, MQ_UNAVAILABLE,
                           r->totals_only ? NULL : mq_rate_unoffered_text(r->p, c, r->a));
                return false;
            }
    }
    return true;
}

/* Evaluates discount item i of step st (plan-wide gi) for discount_item. */
static __attribute__((noinline)) bool evaluate_item(rating *r, const mq_step *st, int i, int gi)
{
    double when, amount;
    if (!eval(r, st->items[i].when, &when) || !eval(r, st->items[i].amount, &amount))
        return false;
    r->item_on[gi] = when != 0 && !isnan(when);
    r->item_amount[gi] = amount;
    return true;
}

/* Discount item i of step st (plan-wide gi): whether it applies and its
 * amount, evaluated once per unit (or per rating when it reads only policy
 * data); a known item costs no call. False when a lookup failed. */
static inline bool discount_item(rating *r, const mq_step *st, int i)
{
    int gi = st->first_item + i;
    return r->item_on[gi] >= 0 || evaluate_item(r, st, i, gi);
}

/* An applying item's amount that mq_discount_amount_ok refuses: the
 * result is an error naming the item and its step. Always false. */
static __attribute__((noinline)) bool bad_amount(rating *r, const mq_step *st, int i, double amount)
{
    char value[32];
    if (isnan(amount))
        snprintf(value, sizeof value, "missing");
    else
        snprintf(value, sizeof value, "%.10g", amount);
    fail_with(r, MQ_ERROR,
              "%s: the amount of discount %s (step %s) is %s, not a fraction from 0 to 1",
              r->p->carrier_name, st->items[i].name, st->name, value);
    return false;
}

/* Discounts that add up to 100% or more under a cap of 1 (or no cap):
 * the premium would be 0, quoted as a price; the result is an error
 * naming the step. Always false. */
static __attribute__((noinline)) bool all_off(rating *r, const mq_step *st, double sum)
{
    fail_with(r, MQ_ERROR,
              "%s: the discounts of step %s add up to %.10g%%, which leaves no premium (give the "
              "step a cap: below 1)",
              r->p->carrier_name, st->name, sum * 100);
    return false;
}

/* 1 - min(cap, sum of the amounts of the items of `cov` that apply), the
 * sum taken in the items' order; with the worksheet, *detail says which. */
static bool run_discounts(rating *r, const mq_step *st, int cov, double *factor,
                          const char **detail)
{
    double sum = 0;
    char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < st->nitems; i++) {
        const mq_discount *d = &st->items[i];
        int gi = st->first_item + i;
        if (!(d->coverages & (1ull << cov)))
            continue;
        if (!discount_item(r, st, i))
            return false;
        if (!r->item_on[gi])
            continue;
        double amount = r->item_amount[gi];
        if (!mq_discount_amount_ok(amount))
            return bad_amount(r, st, i, amount);
        sum += amount;
        if (r->worksheet && len < sizeof buf - 80)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s %.10g%%", len ? " + " : "",
                                    d->name, amount * 100);
    }
    double applied = sum < st->cap ? sum : st->cap;
    if (!(applied < 1))
        return all_off(r, st, sum);
    *factor = 1 - applied;
    if (r->worksheet) {
        if (!len)
            snprintf(buf, sizeof buf, "none applies");
        else if (sum > st->cap)
            snprintf(buf + len, sizeof buf - len, " = %.10g%%, capped at %.10g%%", sum * 100,
                     st->cap * 100);
        *detail = mq_arena_strdup(r->a, buf);
    }
    return true;
}

/* Evaluates item i of a step with groups for settle_group: its bits in
 * items_known and items_on, its amount. False when a lookup failed. */
static __attribute__((noinline)) bool evaluate_masked(rating *r, const mq_step *st, int i)
{
    double when, amount;
    if (!eval(r, st->items[i].when, &when) || !eval(r, st->items[i].amount, &amount))
        return false;
    uint64_t bit = 1ull << i;
    r->items_known[st->mask_index] |= bit;
    if (when != 0 && !isnan(when))
        r->items_on[st->mask_index] |= bit;
    else
        r->items_on[st->mask_index] &= ~bit;
    r->item_amount[st->first_item + i] = amount;
    return true;
}

/* Works out the discount factor of op's group (op->slot >= 0) for the
 * unit, as run_discounts does for any coverage of the group, by bit masks:
 * the group's items (mq_step.group_items) not yet evaluated are, in the
 * items' order, then the amounts of those that apply are summed in that
 * order. */
static bool settle_group(rating *r, const mq_cov_op *op)
{
    const mq_step *st = op->step;
    uint64_t items = st->group_items[op->slot - st->first_group];
    for (uint64_t need = items & ~r->items_known[st->mask_index]; need; need &= need - 1)
        if (!evaluate_masked(r, st, __builtin_ctzll(need)))
            return false;
    double sum = 0;
    for (uint64_t on = items & r->items_on[st->mask_index]; on; on &= on - 1) {
        int i = __builtin_ctzll(on);
        double amount = r->item_amount[st->first_item + i];
        if (!mq_discount_amount_ok(amount))
            return bad_amount(r, st, i, amount);
        sum += amount;
    }
    if (!((sum < st->cap ? sum : st->cap) < 1))
        return all_off(r, st, sum);
    r->group_factor[op->slot] = 1 - (sum < st->cap ? sum : st->cap);
    r->group_done[op->slot] = 1;
    return true;
}

/* The discount factor of op's group, computed for the first coverage of
 * the unit that needs it and reused by the others in the group. */
static bool group_discounts(rating *r, const mq_cov_op *op, int cov, double *factor)
{
    if (op->slot < 0 || r->worksheet)
        return run_discounts(r, op->step, cov, factor, NULL);
    if (!r->group_done[op->slot] && !settle_group(r, op))
        return false;
    *factor = r->group_factor[op->slot];
    return true;
}

/* Looks up the row of a table step for the current unit, for its first
 * use (the caller found slot_row[slot] NULL); NULL when a key's program
 * failed. Keys that are loads (mq_step.key_loads) are read directly. */
static const double *step_row(rating *r, const mq_step *st)
{
    double *keys = &r->slot_keys[(size_t)st->slot * 8];
    if (st->key_loads) {
        for (int k = 0; k < st->nkeys; k++)
            keys[k] = r->vm.cur.rows[st->key_rows[k]][st->key_index[k]];
    } else {
        for (int k = 0; k < st->nkeys; k++)
            if (!eval(r, st->keys[k], &keys[k]))
                return NULL;
    }
    return r->slot_row[st->slot] = mq_table_row(st->table, keys);
}

/* A table step found no value: report its keys as the failed lookup. */
static bool step_missed(rating *r, const mq_step *st)
{
    r->vm.miss_table = st->table;
    r->vm.miss_nkeys = st->nkeys;
    memcpy(r->vm.miss_keys, &r->slot_keys[(size_t)st->slot * 8],
           sizeof(double) * (size_t)st->nkeys);
    return false;
}

/* Applies one step to the running premium. False when a lookup failed. */
static bool run_step(rating *r, const mq_cov_op *op, int cov, int32_t unit, double *running)
{
    const mq_step *st = op->step;
    double v = NAN;
    const char *key = NULL, *detail = NULL;
    const mq_table *table = st->kind == STEP_TABLE ? st->table : NULL;
    looked_up seen;
    char sign = '*';
    switch ((mq_step_kind)op->kind) {
    case STEP_TABLE: {
        const double *row = r->slot_row[st->slot];
        if (!row && !(row = step_row(r, st)))
            return false;
        v = row[op->column];
        if (isnan(v))
            return step_missed(r, st);
        *running *= v;
        if (r->worksheet)
            key = format_keys(r, st->table, &r->slot_keys[(size_t)st->slot * 8], st->nkeys, ", ",
                              st->key_types);
        break;
    }
    case STEP_FACTOR:
        if (!eval_seen(r, st->expr, &v, &seen))
            return false;
        table = seen.table, key = seen.key, detail = seen.detail;
        *running *= v;
        break;
    case STEP_ADD:
        if (!eval_seen(r, st->expr, &v, &seen))
            return false;
        table = seen.table, key = seen.key, detail = seen.detail;
        *running += v;
        sign = '+';
        break;
    case STEP_ROUND:
        if (!eval(r, st->expr, &v))
            return false;
        if (!mq_round_step_ok(v)) {
            fail_with(r, MQ_ERROR,
                      "%s: step %s rounds to %.10g, not a whole number of cents from 0.01 to 100",
                      r->p->carrier_name, st->name, v);
            return false;
        }
        *running = mq_round_step(*running, v);
        sign = 'r';
        break;
    case STEP_MINIMUM:
        if (!eval_seen(r, st->expr, &v, &seen))
            return false;
        table = seen.table, key = seen.key, detail = seen.detail;
        if (*running < v || isnan(v)) /* a missing minimum makes the premium missing */
            *running = v;
        sign = 'm';
        break;
    case STEP_DISCOUNTS:
        if (!(r->worksheet ? run_discounts(r, st, cov, &v, &detail)
                           : group_discounts(r, op, cov, &v)))
            return false;
        *running *= v;
        break;
    }
    if (r->worksheet)
        record(r, cov, unit, st->name, table, key, detail, sign, v, *running);
    return true;
}

/* Runs a coverage's steps on the running premium. Without the worksheet a
 * table step (most of them) is a cached row and one multiplication, and so
 * is a discount step whose group's factor is known. */
static bool run_ops(rating *r, const mq_plan_cov *pc, int cov, int32_t unit, double *running)
{
    const mq_cov_op *op = pc->ops, *end = pc->ops + pc->nsteps;
    if (r->worksheet) {
        for (; op < end; op++)
            if (!run_step(r, op, cov, unit, running))
                return false;
        return true;
    }
    double x = *running;
    for (; op < end; op++) {
        if (op->kind == STEP_TABLE) { /* the most common step first */
            const double *row = r->slot_row[op->slot];
            if (!row && !(row = step_row(r, op->step)))
                return false;
            double v = row[op->column];
            if (isnan(v))
                return step_missed(r, op->step);
            x *= v;
        } else if (op->kind == STEP_DISCOUNTS && op->slot >= 0) {
            /* found once per unit for the coverages of the group */
            if (!r->group_done[op->slot] && !settle_group(r, op))
                return false;
            x *= r->group_factor[op->slot];
        } else if (!run_step(r, op, cov, unit, &x)) {
            return false;
        }
    }
    *running = x;
    return true;
}

/* "v1: Comprehensive left off: <the plan's note>", as printf wrote it,
 * put together without printf (a health comparison leaves off a dozen
 * coverages; printf was a fifth of its cost). Out of the hot path. */
const char *mq_rate_note_text(const mq_plan *p, const mq_input *in, int cov, int32_t unit,
                              mq_arena *a)
{
    const mq_line_def *l = mq_line_get(p->line);
    const char *who = l->unit == MQ_ENT_POLICY ? "" : in->ids[l->unit][unit];
    const char *parts[] = {who, *who ? ": " : "", l->coverages[cov].name,
                           " left off: ", p->cov[cov].note};
    return mq_arena_concat(a, parts, 5);
}

const char *mq_rate_unoffered_text(const mq_plan *p, int cov, mq_arena *a)
{
    const mq_coverage_def *cd = &mq_line_get(p->line)->coverages[cov];
    const char *parts[] = {p->carrier_name, " does not offer ", cd->name, " (", cd->code, ")"};
    return mq_arena_concat(a, parts, 6);
}

__attribute__((noinline)) static void note_left_off(rating *r, int cov, int32_t unit)
{
    add_note(r, mq_rate_note_text(r->p, r->in, cov, unit, r->a));
}

/* A coverage premium rate_coverage can round and sum (NaN is not). */
static bool premium_ok(double x)
{
    return x >= 0 && x <= 1e9;
}

/* The step after which the premium of coverage cov on unit u last turned
 * into one premium_ok refuses ("Base rate" when it started so), found by
 * running the steps again without the worksheet: only on this error path.
 * NULL when it cannot be told. */
static const char *spoiling_step(rating *r, const mq_plan_cov *pc, int cov, int32_t unit)
{
    bool worksheet = r->worksheet;
    const char *culprit = NULL;
    double x;
    r->worksheet = false;
    if (eval(r, pc->base, &x)) {
        culprit = premium_ok(x) ? NULL : "Base rate";
        for (int i = 0; i < pc->nsteps; i++) {
            bool was_ok = premium_ok(x);
            if (!run_step(r, &pc->ops[i], cov, unit, &x))
                break;
            if (was_ok && !premium_ok(x))
                culprit = pc->ops[i].step->name;
        }
    }
    r->worksheet = worksheet;
    return culprit;
}

/* The result is an error: the premium of coverage cov came out as x, which
 * is missing, negative or too large, and the reason names the step that
 * made it so. */
static __attribute__((noinline)) void bad_premium(rating *r, const mq_plan_cov *pc, int cov,
                                                  int32_t unit, double x)
{
    if (r->totals_only) {
        set_status(r, MQ_ERROR, NULL);
        return;
    }
    char what[64];
    if (isnan(x))
        snprintf(what, sizeof what, "missing (a value it needs is missing)");
    else if (x < 0)
        snprintf(what, sizeof what, "negative (%.4f)", x);
    else
        snprintf(what, sizeof what, "more than 1000000000 (%.10g)", x);
    const char *step = spoiling_step(r, pc, cov, unit);
    fail_with(r, MQ_ERROR, "%s: the %s premium is %s%s%s", r->p->carrier_name,
              r->l->coverages[cov].code, what, step ? " after step " : "", step ? step : "");
}

static bool rate_coverage(rating *r, int cov, int32_t unit)
{
    const mq_plan_cov *pc = &r->p->cov[cov];
    double omit = 0, running;
    if (pc->omit_when && !eval(r, pc->omit_when, &omit))
        return false;
    if (omit != 0 && !isnan(omit)) {
        if (!r->totals_only)
            note_left_off(r, cov, unit);
        return true;
    }
    looked_up seen;
    if (!eval_seen(r, pc->base, &running, &seen))
        return false;
    if (r->worksheet)
        record(r, cov, unit, "Base rate", seen.table, seen.key, seen.detail, '=', running, running);
    if (!run_ops(r, pc, cov, unit, &running))
        return false;
    if (!premium_ok(running)) {
        bad_premium(r, pc, cov, unit, running);
        return true;
    }
    int64_t cents = mq_round_to_cents(running, r->p->round_step);
    if (r->worksheet)
        record(r, cov, unit, "Round", NULL, NULL, NULL, 'r', r->p->round_step, cents / 100.0);
    r->premium_sum += cents;
    mq_result *o = r->out; /* setup_vm made room for every premium */
    if (!r->totals_only)
        o->coverages[o->ncoverages++] = (mq_cov_premium){cov, unit, cents};
    return true;
}

static bool rate_units(rating *r)
{
    r->policy_chosen = policy_mask(r);
    for (int32_t u = 0; u < r->nunits; u++) {
        reset_caches(r);
        if (r->l->unit != MQ_ENT_POLICY)
            mq_vm_focus(&r->vm, r->l->unit, u);
        /* the chosen coverages in their order, bit by bit */
        for (uint64_t chosen = chosen_mask(r, u); chosen; chosen &= chosen - 1) {
            int c = __builtin_ctzll(chosen);
            if (!rate_coverage(r, c, u)) {
                if (r->out->status == MQ_QUOTED) /* else a step said what is wrong */
                    apply_miss(r);
                return false;
            }
            if (r->out->status != MQ_QUOTED || r->oom)
                return false;
        }
    }
    return true;
}

static void total_up(rating *r)
{
    mq_result *o = r->out;
    int64_t sum = r->premium_sum;
    mq_result_total(r->p, o, sum);
    if (r->worksheet) {
        record(r, -1, 0, "Sum of coverage premiums", NULL, NULL, NULL, '=', sum / 100.0,
               sum / 100.0);
        if (o->minimum_applied)
            record(r, -1, 0, "Minimum premium", NULL, NULL, NULL, 'm', r->p->minimum_cents / 100.0,
                   o->premium_cents / 100.0);
        int64_t running = o->premium_cents;
        for (int i = 0; i < r->p->nfees; i++) {
            running += r->p->fees[i].cents;
            record(r, -1, 0, r->p->fees[i].name, NULL, NULL, NULL, '+', r->p->fees[i].cents / 100.0,
                   running / 100.0);
        }
        record(r, -1, 0, "Total", NULL, NULL, NULL, '=', o->total_cents / 100.0,
               o->total_cents / 100.0);
    }
}

/* term_life: premiums are per payment; the term shown is the payment period. */
static int payment_months(const mq_input *in)
{
    static const int months[] = {12, 6, 3, 1}; /* annual, semiannual, quarterly, monthly */
    double mode = in->values[MQ_ENT_POLICY][MQ_LP_PAYMENT_MODE];
    return (mode >= 0 && mode < 4) ? months[(int)mode] : 12;
}

/* The underwriting class a term life plan assigns, named in the result. */
static bool classify(rating *r)
{
    if (!r->p->class_expr)
        return true;
    double v;
    if (!eval(r, r->p->class_expr, &v)) {
        apply_miss(r);
        return false;
    }
    r->out->health_class = isnan(v) ? NULL : mq_symbol_name(MQ_DOM_HEALTH_CLASS, (int)v);
    return true;
}

/* What every rating's result gets last, interpreted or native. */
static void finish_result(const mq_plan *p, const mq_input *in, mq_result *out)
{
    if (p->line == MQ_LINE_TERM_LIFE)
        out->term_months = payment_months(in);
    if (out->status != MQ_QUOTED) {
        out->ncoverages = 0;
        out->nfees = 0;
    }
}

/* Sets r up for rating p on `in`, field by field: the VM's state, most of
 * r's size, is written by setup_vm and mq_vm_start_shaped before anything
 * reads it, so of it only what they test (the variables and parents, NULL
 * when a kind has none) and the entity each variable is computed for are
 * zeroed, not all of it. */
static void start_rating(rating *r, const mq_plan *p, const mq_input *in, const mq_rate_opts *opts,
                         mq_arena *a, mq_result *out, unsigned char *scratch)
{
    r->p = p;
    r->in = in;
    r->l = mq_line_get(p->line);
    r->a = a;
    r->out = out;
    r->worksheet = opts && opts->worksheet;
    r->totals_only = opts && opts->totals_only && !opts->worksheet;
    r->oom = false;
    r->memo = opts ? opts->memo : NULL;
    r->premium_sum = 0;
    r->nunits = r->l->unit == MQ_ENT_POLICY ? 1 : in->count[r->l->unit];
    r->capsteps = r->capnotes = 0;
    r->policy_chosen = 0;
    r->scratch = scratch;
    r->scratch_used = 0;
    r->slot_row = NULL;
    r->slot_keys = r->item_amount = r->group_factor = NULL;
    r->item_on = r->group_done = NULL;
    r->items_known = r->items_on = NULL;
    memset(r->vm.vars, 0, sizeof r->vm.vars);
    memset(r->vm.parent_of, 0, sizeof r->vm.parent_of);
    memset(r->vm.self, 0, sizeof r->vm.self);
    r->vm.trace = NULL;
}

bool mq_rate_plan(const mq_plan *p, const mq_input *in, const mq_rate_opts *opts, mq_arena *a,
                  mq_result *out)
{
    if (p->native && !(opts && (opts->worksheet || opts->interpreted))) {
        /* the compiled plan writes the whole result when it has one */
        switch (p->native->rate(p, in, opts && opts->totals_only, a, out)) {
        case MQ_NATIVE_DONE:
            finish_result(p, in, out);
            return true;
        case MQ_NATIVE_OOM:
            mq_result_begin(p, out);
            return false;
        default: /* the interpreter rates it from the start */
            break;
        }
    }
    mq_result_begin(p, out);
    _Alignas(16) unsigned char scratch[SCRATCH_BYTES];
    rating r;
    start_rating(&r, p, in, opts, a, out, scratch);
    if (in->line != p->line) {
        fail_with(&r, MQ_ERROR, "plan %s rates %s, not this line", p->plan_id, r.l->name);
    } else if (!mq_plan_writes(p, in->state)) {
        fail_with(&r, MQ_UNAVAILABLE, "%s does not write %s insurance in %s", p->carrier_name,
                  r.l->words, mq_symbol_name(MQ_DOM_STATE, in->state));
    } else if (!setup_vm(&r)) {
        return false;
    } else if (derive_variables(&r) && check_eligibility(&r) && check_offered(&r) && classify(&r) &&
               rate_units(&r)) {
        total_up(&r);
    }
    finish_result(p, in, out);
    return !r.oom;
}

bool mq_plan_native(const mq_plan *p)
{
    return p->native != NULL;
}

/* ---- Every carrier ---------------------------------------------------- */

static int status_rank(mq_status s)
{
    return s == MQ_QUOTED ? 0 : s == MQ_DECLINED ? 1 : s == MQ_UNAVAILABLE ? 2 : 3;
}

/* What a quote costs for comparison: health by net then gross premium, the
 * other lines by premium.total as the contract says (totals are for each
 * carrier's own term; the web page can also sort by the monthly figure). */
static int compare_quoted(const mq_result *x, const mq_result *y)
{
    if (x->metal >= 0 || y->metal >= 0) {
        if (x->net_cents != y->net_cents)
            return x->net_cents < y->net_cents ? -1 : 1;
        if (x->gross_cents != y->gross_cents)
            return x->gross_cents < y->gross_cents ? -1 : 1;
        return 0;
    }
    return x->total_cents < y->total_cents ? -1 : x->total_cents > y->total_cents ? 1 : 0;
}

static int compare_results(const void *a, const void *b)
{
    const mq_result *x = a, *y = b;
    int rx = status_rank(x->status), ry = status_rank(y->status);
    if (rx != ry)
        return rx - ry;
    int c = x->status == MQ_QUOTED ? compare_quoted(x, y) : 0;
    if (c)
        return c;
    c = strcmp(x->carrier_id, y->carrier_id);
    if (c || !x->plan || !y->plan)
        return c;
    return strcmp(x->plan->plan_id, y->plan->plan_id);
}

/* Health results with no market in effect (a plans folder without one,
 * or plan versions loaded before their year's market): no credit, and
 * gross = net = the premium, which the results are sorted by. */
static void no_market(const mq_input *in, mq_result *results, int n, mq_arena *a)
{
    char day[11];
    mq_date_format(in->effective_date, day);
    const char *note = mq_arena_printf(
        a, "no premium tax credit: no marketplace parameters are in effect on %s", day);
    for (int i = 0; i < n; i++) {
        mq_result *r = &results[i];
        if (r->metal < 0)
            continue;
        r->credit_note = note ? note : "no premium tax credit: no marketplace parameters";
        if (r->status != MQ_QUOTED)
            continue;
        r->gross_cents = r->net_cents = r->total_cents;
        r->credit_cents = 0;
    }
}

bool mq_rate_market(const mq_engine *e, const mq_input *in, mq_result *results, int n, mq_arena *a)
{
    return mq_rate_market_given(e, in, NULL, results, n, a);
}

/* The market whose rules apply: the one a re-rated quote recorded
 * (given->market_id) while it is loaded, as a plan version it recorded is;
 * else the one in effect on the date. */
static const mq_market *market_for(const mq_engine *e, const mq_input *in,
                                   const mq_benchmark *given)
{
    const mq_market *m = NULL;
    if (given && given->market_id)
        m = mq_engine_market_named(e, in->line, given->market_id);
    return m ? m : mq_engine_market(e, in->line, in->effective_date);
}

bool mq_rate_market_given(const mq_engine *e, const mq_input *in, const mq_benchmark *given,
                          mq_result *results, int n, mq_arena *a)
{
    const mq_market *m = market_for(e, in, given);
    if (m)
        return mq_market_apply(m, e, in, given, results, n, a);
    no_market(in, results, n, a); /* health results only: other lines have no metal */
    return true;
}

/* A result's place in the contract's order before the ids decide: its
 * status rank, then for a quote what it costs (compare_quoted). */
typedef struct sort_key {
    int rank;
    int64_t cost, cost2;
} sort_key;

static sort_key sort_key_of(const mq_result *r)
{
    sort_key k = {status_rank(r->status), 0, 0};
    if (r->status == MQ_QUOTED) {
        bool health = r->metal >= 0;
        k.cost = health ? r->net_cents : r->total_cents;
        k.cost2 = health ? r->gross_cents : 0;
    }
    return k;
}

/* compare_results, with the keys worked out once. A health quote is
 * compared with a quote of another line by net and gross premium in
 * compare_quoted; results of one comparison never mix lines, but such a
 * pair goes to compare_results to keep its answer. */
static int compare_keyed(const sort_key *kx, const sort_key *ky, const mq_result *x,
                         const mq_result *y)
{
    if (kx->rank != ky->rank)
        return kx->rank - ky->rank;
    if (kx->rank == 0 && (x->metal >= 0) != (y->metal >= 0))
        return compare_results(x, y);
    if (kx->cost != ky->cost)
        return kx->cost < ky->cost ? -1 : 1;
    if (kx->cost2 != ky->cost2)
        return kx->cost2 < ky->cost2 ? -1 : 1;
    return compare_results(x, y); /* the same cost: by carrier and plan id */
}

/* Moves results into `order` (order[i]: the index of the result that goes
 * to place i), each moved result copied once, cycle by cycle. */
static void permute_results(mq_result *results, int *order, int n)
{
    for (int start = 0; start < n; start++) {
        if (order[start] == start)
            continue;
        mq_result held = results[start];
        int at = start;
        while (order[at] != start) {
            int from = order[at];
            results[at] = results[from];
            order[at] = at;
            at = from;
        }
        results[at] = held;
        order[at] = at;
    }
}

/* A stable insertion sort of the results' indexes on keys worked out once
 * per result, then each result moved into place once: the order glibc's
 * stable merge sort gave, for the few dozen results of a comparison. */
void mq_results_sort(mq_result *results, int n)
{
    enum { SORT_INLINE = 64 };
    if (n > SORT_INLINE) {
        qsort(results, (size_t)n, sizeof(*results), compare_results);
        return;
    }
    sort_key keys[SORT_INLINE];
    int order[SORT_INLINE];
    for (int i = 0; i < n; i++) {
        keys[i] = sort_key_of(&results[i]);
        int j = i;
        while (j > 0 && compare_keyed(&keys[order[j - 1]], &keys[i], &results[order[j - 1]],
                                      &results[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    permute_results(results, order, n);
}

/* The carriers the request names (in->carriers), each resolved once to
 * its index (-1: no carrier with that id). NULL when out of memory. */
static int *resolve_asked(const mq_engine *e, const mq_input *in, mq_arena *a)
{
    int *asked = mq_arena_alloc(a, sizeof(int) * (size_t)(in->ncarriers + 1));
    for (int c = 0; asked && c < in->ncarriers; c++)
        asked[c] = mq_engine_carrier_find(e, in->carriers[c]);
    return asked;
}

static bool asked_for(const mq_input *in, const int *asked, int carrier)
{
    if (!in->carriers)
        return true;
    for (int i = 0; i < in->ncarriers; i++)
        if (asked[i] == carrier)
            return true;
    return false;
}

/* Whether request-named carrier c was named before (an unknown id is
 * compared by its text). */
static bool asked_before(const mq_input *in, const int *asked, int c)
{
    for (int j = 0; j < c; j++)
        if (asked[j] == asked[c] &&
            (asked[c] >= 0 || strcmp(in->carriers[j], in->carriers[c]) == 0))
            return true;
    return false;
}

/* The result of a carrier with no plan for the request: unavailable, with
 * why (no rates in effect yet, or not written in the state), or an error
 * for an id no plan has (carrier < 0). */
static void no_plan_result(const mq_engine *e, const mq_input *in, int carrier, const char *id,
                           mq_arena *a, mq_result *out)
{
    const mq_carrier *c = mq_engine_carrier(e, carrier);
    *out = (mq_result){.carrier_id = id, .status = MQ_UNAVAILABLE, .metal = -1};
    const char *reason;
    if (!c) {
        out->status = MQ_ERROR;
        out->carrier_name = id;
        out->carrier_rating = "";
        reason = mq_arena_printf(a, "no carrier with id \"%s\"", id);
    } else {
        const mq_plan *p = c->last_of[in->line] ? c->last_of[in->line] : c->first;
        out->carrier_name = p->carrier_name;
        out->carrier_rating = p->carrier_rating;
        const char *line = mq_line_get(in->line)->words; /* "term life", not "term_life" */
        if (mq_carrier_writes(c, in->line, in->state)) {
            char day[11];
            mq_date_format(in->effective_date, day);
            const char *parts[] = {p->carrier_name, " has no ", line, " rates in effect on ", day};
            reason = mq_arena_concat(a, parts, 5);
        } else {
            const char *parts[] = {p->carrier_name, " does not write ", line, " insurance in ",
                                   mq_symbol_name(MQ_DOM_STATE, in->state)};
            reason = mq_arena_concat(a, parts, 5);
        }
    }
    out->reasons = mq_arena_alloc(a, sizeof(char *));
    if (out->reasons && reason) {
        out->reasons[0] = reason;
        out->nreasons = 1;
    }
}

/* The result of a carrier asked for by id whose every plan for the request
 * is of a metal level the request's filters leave out: unavailable, saying
 * so, rather than no result at all (one entry per carrier asked). */
static void filtered_out_result(const mq_input *in, const mq_plan *p, const char *id, mq_arena *a,
                                mq_result *out)
{
    *out = (mq_result){.carrier_id = id,
                       .carrier_name = p->carrier_name,
                       .carrier_rating = p->carrier_rating,
                       .status = MQ_UNAVAILABLE,
                       .metal = -1};
    const char *asked = "";
    for (int m = 0; m < mq_symbol_count(MQ_DOM_METAL); m++)
        if (in->metals & (1u << m)) {
            const char *parts[] = {asked, *asked ? ", " : "", mq_symbol_name(MQ_DOM_METAL, m)};
            asked = mq_arena_concat(a, parts, 3);
            if (!asked)
                return;
        }
    const char *parts[] = {p->carrier_name, " has no plan of the metal levels asked for (", asked,
                           ")"};
    const char *reason = mq_arena_concat(a, parts, 4);
    out->reasons = mq_arena_alloc(a, sizeof(char *));
    if (out->reasons && reason) {
        out->reasons[0] = reason;
        out->nreasons = 1;
    }
}

/* Whether the pick's entry i is left out by the request's metal filter. */
static bool metal_filtered(const mq_input *in, const mq_plan *p)
{
    return in->metals && p && p->metal >= 0 && !(in->metals & (1u << p->metal));
}

bool mq_rate_all(const mq_engine *e, const mq_input *in, const mq_rate_opts *opts, mq_arena *a,
                 mq_result **results, int *nresults)
{
    int cap = mq_engine_plan_count(e) + in->ncarriers + 1;
    const mq_plan **plans = mq_arena_alloc_uninit(a, sizeof(*plans) * (size_t)cap);
    const char **ids = mq_arena_alloc_uninit(a, sizeof(*ids) * (size_t)cap);
    int *carriers = mq_arena_alloc_uninit(a, sizeof(*carriers) * (size_t)cap);
    int *asked = in->carriers ? resolve_asked(e, in, a) : NULL;
    if (!plans || !ids || !carriers || (in->carriers && !asked))
        return false;
    int n = mq_engine_pick(e, in->line, in->state, in->effective_date, plans, carriers, ids, cap);
    /* one result per carrier selected, and per carrier asked for by id,
     * each written whole by mq_rate_plan or no_plan_result */
    mq_result *res = mq_arena_alloc_uninit(a, sizeof(*res) * (size_t)(n + in->ncarriers + 1));
    if (!res)
        return false;
    int nr = 0;
    for (int i = 0; i < n; i++) {
        if (!asked_for(in, asked, carriers[i]) ||
            (opts->rate_here && !opts->rate_here(opts->carrier_arg, ids[i])))
            continue;
        if (metal_filtered(in, plans[i]))
            continue;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (plans[i]) {
            if (!mq_rate_plan(plans[i], in, opts, a, &res[nr]))
                return false;
        } else {
            no_plan_result(e, in, carriers[i], ids[i], a, &res[nr]);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        res[nr++].elapsed_ns =
            (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
    }
    /* carriers asked for by id that write nothing of this line, or nothing
     * of the metal levels asked for */
    for (int c = 0; in->carriers && c < in->ncarriers; c++) {
        bool seen = asked_before(in, asked, c);
        const mq_plan *filtered = NULL;
        for (int i = 0; i < n && !seen && asked[c] >= 0; i++)
            if (carriers[i] == asked[c]) {
                if (metal_filtered(in, plans[i]))
                    filtered = plans[i];
                else
                    seen = true;
            }
        if (!seen && opts->asked_elsewhere)
            seen = opts->asked_elsewhere(opts->carrier_arg, in->carriers[c]);
        if (seen)
            continue;
        if (filtered)
            filtered_out_result(in, filtered, in->carriers[c], a, &res[nr++]);
        else
            no_plan_result(e, in, asked[c], in->carriers[c], a, &res[nr++]);
    }
    if (!mq_rate_market(e, in, res, nr, a))
        return false;
    mq_results_sort(res, nr);
    *results = res;
    *nresults = nr;
    return true;
}
