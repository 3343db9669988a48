/* tips.c -- savings tips: what the shopper could change to pay less.
 *
 * For the cheapest quotes, each plausible change that the carrier's own plan
 * prices is tried by re-rating a copy of the request with that plan. Auto:
 * comprehensive and collision deductibles below 1,000 raised to 1,000 (the
 * tip names the ones it raises), paperless documents, a
 * bundle (the plan's multi-line discount, only from a carrier that writes
 * the other policy in the shopper's state on the effective date: a home or
 * renters policy as the applicant owns a home or not, or an auto policy
 * for a home or renters quote), dropping collision on an old
 * car, the next lower bodily injury limits when they stay at or above the
 * state's legal minimum. Home and renters: the next higher all-peril
 * deductible the carrier offers (500, 1,000 or 2,500), paperless documents, a
 * bundle. The cheapest are the three that cost least a month (terms of 6
 * and 12 months differ), as the shopper compares them. A tip is kept when
 * the plan still quotes and the total falls; it names the change and the
 * saving in dollars. A change to fields the plan
 * never reads (mq_plan_reads) cannot change its total and is not rated.
 * Term life and health have none: their prices follow from who is insured.
 * What a tip changes is read back from its words (mq_tip_change_read), in
 * every wording a program has written, so that requote can tell a tip that
 * moved from one only said otherwise.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { TIPS_FOR_CHEAPEST = MQ_TIPS_FOR_CHEAPEST, OLD_CAR_YEARS = 10, TIP_DEDUCTIBLE = 1000 };

/* A copy of the request whose policy and vehicle rows may be changed. */
static bool copy_input(const mq_input *in, mq_arena *a, mq_input *out)
{
    *out = *in;
    const mq_line_def *l = mq_line_get(in->line);
    mq_entity_kind kinds[2] = {MQ_ENT_POLICY, MQ_ENT_VEHICLE};
    for (int i = 0; i < 2; i++) {
        mq_entity_kind k = kinds[i];
        size_t cells = (size_t)in->count[k] * (size_t)l->nfields[k];
        out->values[k] = mq_arena_alloc(a, (cells ? cells : 1) * sizeof(double));
        if (!out->values[k])
            return false;
        memcpy(out->values[k], in->values[k], cells * sizeof(double));
    }
    return true;
}

typedef enum {
    TIP_DEDUCTIBLES, /* auto: comprehensive and collision */
    TIP_PAPERLESS,
    TIP_DROP_COLLISION,
    TIP_LOWER_BI,
    TIP_BUNDLE,
    TIP_PROPERTY_DEDUCTIBLE /* home, renters: the all-peril deductible, to v */
} tip_kind;

/* Home and renters share one policy row (engine.h). */
static bool is_property(mq_line line)
{
    return line == MQ_LINE_HOME || line == MQ_LINE_RENTERS;
}

/* The policy fields of paperless documents and the multi-line discount. */
static int paperless_field(mq_line line)
{
    return is_property(line) ? MQ_HP_PAPERLESS : MQ_AP_PAPERLESS;
}

static int bundle_field(mq_line line)
{
    return is_property(line) ? MQ_HP_BUNDLE : MQ_AP_BUNDLE;
}

/* The all-peril deductibles a tip may suggest, lowest first: the next one
 * above the shopper's that the carrier offers. */
static const int property_deductibles[] = {500, 1000, 2500};
enum { PROPERTY_STEPS = sizeof property_deductibles / sizeof property_deductibles[0] };

/* Common split limits, per person / per accident, lowest first, and as a
 * tip says them. */
static const struct {
    int per_person, per_accident;
    const char *text;
} bi_ladder[] = {
    {15000, 30000, "15,000/30,000"},     {20000, 40000, "20,000/40,000"},
    {25000, 50000, "25,000/50,000"},     {30000, 60000, "30,000/60,000"},
    {50000, 100000, "50,000/100,000"},   {100000, 300000, "100,000/300,000"},
    {250000, 500000, "250,000/500,000"}, {500000, 1000000, "500,000/1,000,000"},
};
enum { BI_STEPS = sizeof bi_ladder / sizeof bi_ladder[0] };

/* Whether ladder step i keeps the legal minimums. */
static bool step_is_legal(int i, const mq_tip_minimums *min)
{
    return bi_ladder[i].per_person >= min->bi_per_person &&
           bi_ladder[i].per_accident >= min->bi_per_accident;
}

/* The next lower ladder step below the request's bi limits that is still at
 * or above the minimums; -1 when there is none. */
static int lower_bi_step(const mq_input *in, const mq_tip_minimums *min)
{
    const double *pol = in->values[MQ_ENT_POLICY];
    int best = -1;
    for (int i = 0; i < BI_STEPS; i++)
        if (bi_ladder[i].per_person < pol[MQ_AP_BI_PER_PERSON] &&
            bi_ladder[i].per_accident < pol[MQ_AP_BI_PER_ACCIDENT] && step_is_legal(i, min))
            best = i;
    return best;
}

/* Applies change `kind` (for TIP_DROP_COLLISION to vehicle `v`); false when
 * it does not apply to this request. */
static bool apply_change(mq_input *x, tip_kind kind, int32_t v)
{

    double *pol = x->values[MQ_ENT_POLICY];
    bool changed = false;
    switch (kind) {
    case TIP_DEDUCTIBLES:
        for (int32_t i = 0; i < x->count[MQ_ENT_VEHICLE]; i++) {
            double *row = mq_input_row(x, MQ_ENT_VEHICLE, i);
            int fields[2] = {MQ_AV_COMP_DEDUCTIBLE, MQ_AV_COLL_DEDUCTIBLE};
            for (int f = 0; f < 2; f++)
                if (!isnan(row[fields[f]]) && row[fields[f]] < TIP_DEDUCTIBLE) {
                    row[fields[f]] = TIP_DEDUCTIBLE;
                    changed = true;
                }
        }
        return changed;
    case TIP_LOWER_BI: /* v is the ladder step */
        pol[MQ_AP_BI_PER_PERSON] = bi_ladder[v].per_person;
        pol[MQ_AP_BI_PER_ACCIDENT] = bi_ladder[v].per_accident;
        /* uninsured motorist may not exceed bodily injury */
        if (pol[MQ_AP_UM_PER_PERSON] > bi_ladder[v].per_person)
            pol[MQ_AP_UM_PER_PERSON] = bi_ladder[v].per_person;
        if (pol[MQ_AP_UM_PER_ACCIDENT] > bi_ladder[v].per_accident)
            pol[MQ_AP_UM_PER_ACCIDENT] = bi_ladder[v].per_accident;
        return true;
    case TIP_BUNDLE: /* the plan's multi-line discount, if it has one */
        if (pol[bundle_field(x->line)] == 1)
            return false;
        pol[bundle_field(x->line)] = 1;
        return true;
    case TIP_PAPERLESS:
        if (pol[paperless_field(x->line)] == 1)
            return false;
        pol[paperless_field(x->line)] = 1;
        return true;
    case TIP_PROPERTY_DEDUCTIBLE: /* v is the deductible */
        if (isnan(pol[MQ_HP_DEDUCTIBLE]) || pol[MQ_HP_DEDUCTIBLE] >= v)
            return false;
        pol[MQ_HP_DEDUCTIBLE] = v;
        return true;
    case TIP_DROP_COLLISION: {
        double *row = mq_input_row(x, MQ_ENT_VEHICLE, v);
        int year_now = 0, m, d;
        mq_date_to_ymd(x->effective_date, &year_now, &m, &d);
        if (isnan(row[MQ_AV_COLL_DEDUCTIBLE]) || year_now - row[MQ_AV_YEAR] < OLD_CAR_YEARS)
            return false;
        row[MQ_AV_COLL_DEDUCTIBLE] = NAN;
        return true;
    }
    }
    return false;
}

/* What lowering bodily injury to ladder step v does to uninsured motorist
 * limits, which may not exceed it (apply_change): the words that say so, or
 * "" when they stay as they are. The tip must say everything it changes. */
static const char *um_follows(const mq_input *in, int32_t v)
{
    const double *pol = in->values[MQ_ENT_POLICY];
    double pp = pol[MQ_AP_UM_PER_PERSON], pa = pol[MQ_AP_UM_PER_ACCIDENT];
    bool over_pp = pp > bi_ladder[v].per_person, over_pa = pa > bi_ladder[v].per_accident;
    if (!over_pp && !over_pa)
        return "";
    if ((over_pp || pp == bi_ladder[v].per_person) && (over_pa || pa == bi_ladder[v].per_accident))
        return ", and uninsured motorist limits with them";
    return ", and uninsured motorist limits down to no more than them";
}

/* The deductibles the TIP_DEDUCTIBLES change raises (those below 1,000),
 * named as they are: a vehicle whose collision deductible is 1,000 already,
 * or that has no collision, is not told to raise it, nor one at 2,000 to
 * lower it. */
static const char *deductibles_raised(const mq_input *in)
{
    int comp = 0, coll = 0;
    for (int32_t i = 0; i < in->count[MQ_ENT_VEHICLE]; i++) {
        const double *row = mq_input_row(in, MQ_ENT_VEHICLE, i);
        comp += !isnan(row[MQ_AV_COMP_DEDUCTIBLE]) && row[MQ_AV_COMP_DEDUCTIBLE] < TIP_DEDUCTIBLE;
        coll += !isnan(row[MQ_AV_COLL_DEDUCTIBLE]) && row[MQ_AV_COLL_DEDUCTIBLE] < TIP_DEDUCTIBLE;
    }
    if (comp && coll)
        return "Raise comprehensive and collision deductibles to 1,000";
    if (comp)
        return comp == 1 ? "Raise the comprehensive deductible to 1,000"
                         : "Raise comprehensive deductibles to 1,000";
    return coll == 1 ? "Raise the collision deductible to 1,000"
                     : "Raise collision deductibles to 1,000";
}

/* What trying a change needs (the minimums, for a bundle the other
 * policies the carrier writes) and what its rating gave: for the lower
 * limits, whether to try the next step down (the carrier did not offer
 * this one). */
typedef struct tip_try {
    const mq_tip_minimums *min;
    const mq_engine *e; /* the plans, for which other policies a carrier writes */
    unsigned partners;  /* bit per mq_line: those policies (bundle; set when tried) */
    mq_status status;   /* of the changed request; MQ_ERROR when not rated */
} tip_try;

/* The bundle tip's words: the policy to add, as the carrier writes it. */
static const char *bundle_words(const mq_input *in, unsigned partners)
{
    if (is_property(in->line))
        return "Insure your car with the same carrier too (its multi-line discount on this "
               "policy)";
    if (!(partners & (1u << MQ_LINE_RENTERS)))
        return "Insure your home with the same carrier too (its multi-line discount on this "
               "policy)";
    if (!(partners & (1u << MQ_LINE_HOME)))
        return "Insure your rented home with the same carrier too (its multi-line discount on "
               "this policy)";
    return "Insure your home or rented home with the same carrier too (its multi-line discount "
           "on this policy)";
}

static const char *describe(const mq_input *in, const tip_try *t, tip_kind kind, int32_t v,
                            mq_arena *a)
{
    const mq_tip_minimums *min = t->min;
    switch (kind) {
    case TIP_DEDUCTIBLES:
        return deductibles_raised(in);
    case TIP_PAPERLESS:
        return "Choose paperless documents";
    case TIP_BUNDLE:
        return bundle_words(in, t->partners);
    case TIP_PROPERTY_DEDUCTIBLE:
        return v < 1000 ? mq_arena_printf(a, "Raise the all-peril deductible to %d", v)
                        : mq_arena_printf(a, "Raise the all-peril deductible to %d,%03d", v / 1000,
                                          v % 1000);
    case TIP_LOWER_BI: {
        bool at_minimum = bi_ladder[v].per_person == min->bi_per_person &&
                          bi_ladder[v].per_accident == min->bi_per_accident;
        const char *parts[] = {"Lower bodily injury limits to ", bi_ladder[v].text,
                               at_minimum ? ", the legal minimum"
                                          : ", still above the legal minimum",
                               um_follows(in, v)};
        return mq_arena_concat(a, parts, 4);
    }
    case TIP_DROP_COLLISION: {
        const double *row = mq_input_row(in, MQ_ENT_VEHICLE, v);
        int y, m, d;
        mq_date_to_ymd(in->effective_date, &y, &m, &d);
        return mq_arena_printf(a, "Drop collision on %s (%d years old)", in->ids[MQ_ENT_VEHICLE][v],
                               y - (int)row[MQ_AV_YEAR]);
    }
    }
    return "";
}

/* The fields each change sets, by line (property: home and renters). */
static const struct {
    tip_kind kind;
    bool property;
    mq_entity_kind entity;
    int field;
} changed_fields[] = {
    {TIP_DEDUCTIBLES, false, MQ_ENT_VEHICLE, MQ_AV_COMP_DEDUCTIBLE},
    {TIP_DEDUCTIBLES, false, MQ_ENT_VEHICLE, MQ_AV_COLL_DEDUCTIBLE},
    {TIP_PAPERLESS, false, MQ_ENT_POLICY, MQ_AP_PAPERLESS},
    {TIP_DROP_COLLISION, false, MQ_ENT_VEHICLE, MQ_AV_COLL_DEDUCTIBLE},
    {TIP_LOWER_BI, false, MQ_ENT_POLICY, MQ_AP_BI_PER_PERSON},
    {TIP_LOWER_BI, false, MQ_ENT_POLICY, MQ_AP_BI_PER_ACCIDENT},
    {TIP_LOWER_BI, false, MQ_ENT_POLICY, MQ_AP_UM_PER_PERSON},
    {TIP_LOWER_BI, false, MQ_ENT_POLICY, MQ_AP_UM_PER_ACCIDENT},
    {TIP_BUNDLE, false, MQ_ENT_POLICY, MQ_AP_BUNDLE},
    {TIP_PAPERLESS, true, MQ_ENT_POLICY, MQ_HP_PAPERLESS},
    {TIP_BUNDLE, true, MQ_ENT_POLICY, MQ_HP_BUNDLE},
    {TIP_PROPERTY_DEDUCTIBLE, true, MQ_ENT_POLICY, MQ_HP_DEDUCTIBLE},
};

/* True when plan p (of `line`) reads a field that change `kind` sets:
 * otherwise rating it again would give the same total, and is skipped. */
static bool plan_prices(const mq_plan *p, mq_line line, tip_kind kind)
{
    for (size_t i = 0; i < sizeof changed_fields / sizeof changed_fields[0]; i++)
        if (changed_fields[i].kind == kind && changed_fields[i].property == is_property(line) &&
            mq_plan_reads(p, changed_fields[i].entity, changed_fields[i].field))
            return true;
    return false;
}

/* Whether the carrier has a plan of `line` for the request's state on its
 * effective date; false too when memory runs out (*oom set). */
static bool carrier_writes(const mq_engine *e, const char *carrier, mq_line line,
                           const mq_input *in, mq_arena *a, bool *oom)
{
    int cap = mq_engine_plan_count(e);
    if (cap <= 0)
        return false;
    const mq_plan **plans = mq_arena_alloc(a, (size_t)cap * sizeof *plans);
    const char **ids = mq_arena_alloc(a, (size_t)cap * sizeof *ids);
    if (!plans || !ids) {
        *oom = true;
        return false;
    }
    int n = mq_engine_select(e, line, in->state, in->effective_date, plans, ids, cap);
    for (int i = 0; i < n; i++)
        if (plans[i] && strcmp(ids[i], carrier) == 0)
            return true;
    return false;
}

/* The other policies (bit per mq_line) a multi-line discount could come
 * from that the carrier writes for this shopper: auto for a home or
 * renters quote; for an auto quote a home policy for a homeowner, a renters
 * policy for an applicant who is not one, either when the request does not
 * say. */
static unsigned partner_lines(const mq_engine *e, const char *carrier, const mq_input *in,
                              mq_arena *a, bool *oom)
{
    mq_line wanted[2];
    int nwanted = 0;
    if (is_property(in->line)) {
        wanted[nwanted++] = MQ_LINE_AUTO;
    } else {
        double owner = in->values[MQ_ENT_POLICY][MQ_AP_HOMEOWNER];
        if (isnan(owner) || owner == 1)
            wanted[nwanted++] = MQ_LINE_HOME;
        if (isnan(owner) || owner == 0)
            wanted[nwanted++] = MQ_LINE_RENTERS;
    }
    unsigned lines = 0;
    for (int i = 0; i < nwanted; i++)
        if (carrier_writes(e, carrier, wanted[i], in, a, oom))
            lines |= 1u << wanted[i];
    return lines;
}

/* Tries change `kind` on r's plan and appends a tip to `list` when it
 * saves money; false only when memory ran out, so a tip is never dropped
 * silently. */
static bool try_change(const mq_result *r, const mq_input *in, tip_kind kind, int32_t v,
                       const mq_rate_opts *opts, mq_arena *a, mq_tip_list *list, tip_try *t)
{
    t->status = MQ_ERROR;
    if (!plan_prices(r->plan, in->line, kind))
        return true;
    if (kind == TIP_BUNDLE) {
        bool oom = false;
        t->partners = partner_lines(t->e, r->carrier_id, in, a, &oom);
        if (oom)
            return false;
        if (!t->partners)
            return true; /* no other policy for the discount to come from */
    }
    mq_input x;
    if (!copy_input(in, a, &x))
        return false;
    if (!apply_change(&x, kind, v))
        return true;
    mq_result alt;
    if (!mq_rate_plan(r->plan, &x, opts, a, &alt))
        return false;
    t->status = alt.status;
    if (alt.status != MQ_QUOTED || alt.total_cents >= r->total_cents)
        return true;
    mq_plan_info pi;
    mq_plan_get_info(r->plan, &pi);
    const char *change = describe(in, t, kind, v, a);
    if (!change)
        return false;
    list->items[list->count++] = (mq_tip){.carrier = r->carrier_id,
                                          .plan = pi.plan_id,
                                          .change = change,
                                          .saving_cents = r->total_cents - alt.total_cents,
                                          .new_total_cents = alt.total_cents};
    return true;
}

/* The tips of one of the cheapest quotes, r, into `out`, trying each change
 * with t; false only when memory ran out. */
typedef bool (*plan_tips_fn)(const mq_result *r, const mq_input *in, tip_try *t,
                             const mq_rate_opts *opts, mq_arena *a, mq_tip_list *out);

static bool auto_tips(const mq_result *r, const mq_input *in, tip_try *t, const mq_rate_opts *opts,
                      mq_arena *a, mq_tip_list *out)
{
    const mq_tip_minimums *min = t->min;
    bool ok = try_change(r, in, TIP_DEDUCTIBLES, 0, opts, a, out, t) &&
              try_change(r, in, TIP_PAPERLESS, 0, opts, a, out, t) &&
              try_change(r, in, TIP_BUNDLE, 0, opts, a, out, t);
    for (int32_t v = 0; ok && v < in->count[MQ_ENT_VEHICLE]; v++)
        ok = try_change(r, in, TIP_DROP_COLLISION, v, opts, a, out, t);
    /* the next lower limits; where the carrier does not offer them
     * (unavailable), the next lower that it does, down to the minimum */
    for (int step = min ? lower_bi_step(in, min) : -1; ok && step >= 0; step--) {
        ok = try_change(r, in, TIP_LOWER_BI, step, opts, a, out, t);
        if (t->status != MQ_UNAVAILABLE || step == 0 || !step_is_legal(step - 1, min))
            break;
    }
    return ok;
}

/* Home and renters: the next higher deductible (one the carrier does not
 * offer, unavailable, gives way to the next one up), paperless, bundle. */
static bool property_tips(const mq_result *r, const mq_input *in, tip_try *t,
                          const mq_rate_opts *opts, mq_arena *a, mq_tip_list *out)
{
    bool ok = true;
    for (int step = 0; ok && step < PROPERTY_STEPS; step++) {
        int before = out->count;
        ok =
            try_change(r, in, TIP_PROPERTY_DEDUCTIBLE, property_deductibles[step], opts, a, out, t);
        if (out->count > before || (t->status != MQ_UNAVAILABLE && t->status != MQ_ERROR))
            break; /* a tip, or a deductible offered that saves nothing */
    }
    return ok && try_change(r, in, TIP_PAPERLESS, 0, opts, a, out, t) &&
           try_change(r, in, TIP_BUNDLE, 0, opts, a, out, t);
}

/* ---- What a tip changes, read from its words (requote) ---------------- */

/* Whether s starts with prefix. */
static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A whole number as a tip writes it ("500", "1,000", "100,000") at *s: its
 * value, *s moved past it; -1 when there is none. Digits group by three
 * after a comma only ("50,000, still" ends at the second comma). */
static int64_t read_amount(const char **s)
{
    const char *p = *s;
    int64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
        v = v * 10 + (*p - '0');
    if (digits == 0 || digits > 3 + 6)
        return -1;
    while (p[0] == ',' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' && p[3] >= '0' &&
           p[3] <= '9' && !(p[4] >= '0' && p[4] <= '9') && v < 1000000000) {
        v = v * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
        p += 4;
    }
    *s = p;
    return v;
}

/* "Drop collision on v2 (12 years old)": the vehicle id, before the last
 * " (" that its age follows; false when the words are not so. */
static bool read_vehicle(const char *s, mq_tip_change *out)
{
    const char *open = NULL;
    for (const char *p = strstr(s, " ("); p; p = strstr(p + 1, " ("))
        open = p;
    if (!open || open == s || !strstr(open, " years old)"))
        return false;
    out->vehicle = s;
    out->vehicle_len = (size_t)(open - s);
    return true;
}

/* "Lower bodily injury limits to 50,000/100,000, ...": the two limits. */
static bool read_limits(const char *s, mq_tip_change *out)
{
    out->amount[0] = read_amount(&s);
    if (out->amount[0] < 0 || *s++ != '/')
        return false;
    out->amount[1] = read_amount(&s);
    return out->amount[1] >= 0 && (*s == '\0' || *s == ',');
}

void mq_tip_change_read(const char *text, mq_tip_change *out)
{
    static const char all_peril[] = "Raise the all-peril deductible to ";
    static const char drop[] = "Drop collision on ";
    static const char lower[] = "Lower bodily injury limits to ";
    *out = (mq_tip_change){.kind = MQ_TIP_UNKNOWN, .text = text ? text : ""};
    const char *s = out->text;
    bool known = true;
    if (starts(s, all_peril)) {
        const char *p = s + strlen(all_peril);
        out->amount[0] = read_amount(&p);
        known = out->amount[0] >= 0 && *p == '\0';
        out->kind = MQ_TIP_PROPERTY_DEDUCTIBLE;
    } else if (starts(s, drop)) { /* before the words below: a vehicle id may hold them */
        known = read_vehicle(s + strlen(drop), out);
        out->kind = MQ_TIP_DROP_COLLISION;
    } else if (starts(s, lower)) {
        known = read_limits(s + strlen(lower), out);
        out->kind = MQ_TIP_LOWER_BI;
    } else if (starts(s, "Raise ") && strstr(s, "deductible")) {
        out->kind = MQ_TIP_DEDUCTIBLES;
    } else if (starts(s, "Insure your ") && strstr(s, "multi-line discount")) {
        out->kind = MQ_TIP_BUNDLE;
    } else if (strstr(s, "paperless")) {
        out->kind = MQ_TIP_PAPERLESS;
    }
    if (!known) /* the words of a known change, but not what it names */
        out->kind = MQ_TIP_UNKNOWN;
}

bool mq_tip_change_same(const mq_tip_change *x, const mq_tip_change *y)
{
    if (x->kind != y->kind)
        return false;
    switch (x->kind) {
    case MQ_TIP_UNKNOWN:
        return strcmp(x->text, y->text) == 0;
    case MQ_TIP_DROP_COLLISION:
        return x->vehicle_len == y->vehicle_len &&
               memcmp(x->vehicle, y->vehicle, x->vehicle_len) == 0;
    case MQ_TIP_LOWER_BI:
        return x->amount[0] == y->amount[0] && x->amount[1] == y->amount[1];
    case MQ_TIP_PROPERTY_DEDUCTIBLE:
        return x->amount[0] == y->amount[0];
    default: /* what they change follows from the request */
        return true;
    }
}

/* Whether quote x costs less a month than y (totals over terms of 6 and 12
 * months compared as x.total / x.term < y.total / y.term, in whole cents,
 * exactly); equal ones keep the results' order. */
static bool cheaper_a_month(const mq_result *x, const mq_result *y)
{
    int64_t tx = x->term_months > 0 ? x->term_months : 1;
    int64_t ty = y->term_months > 0 ? y->term_months : 1;
    return x->total_cents * ty < y->total_cents * tx;
}

/* The indexes of the (at most) TIPS_FOR_CHEAPEST quotes that cost least a
 * month, cheapest first, into pick[]; returns how many. The results come
 * sorted by total, and a 12-month policy's total is a year's: by totals, a
 * carrier cheapest by the month (as the web page and a shopper compare)
 * would come last and get no tips. */
static int cheapest_quotes(const mq_result *res, int n, int pick[TIPS_FOR_CHEAPEST])
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (res[i].status != MQ_QUOTED || !res[i].plan)
            continue;
        int at = count < TIPS_FOR_CHEAPEST ? count++ : TIPS_FOR_CHEAPEST;
        while (at > 0 && cheaper_a_month(&res[i], &res[pick[at - 1]])) {
            if (at < TIPS_FOR_CHEAPEST)
                pick[at] = pick[at - 1];
            at--;
        }
        if (at < TIPS_FOR_CHEAPEST)
            pick[at] = i;
    }
    return count;
}

int mq_resp_tip_cheapest(const mq_result *res, int n, int pick[MQ_TIPS_FOR_CHEAPEST])
{
    return cheapest_quotes(res, n, pick);
}

bool mq_resp_tip_list(const mq_engine *e, const mq_input *in, const mq_result *res, int n,
                      const mq_tip_minimums *min, mq_arena *a, mq_tip_list *out)
{
    out->items = NULL;
    out->count = 0;
    plan_tips_fn tips_of;
    int per_plan; /* at most */
    if (in->line == MQ_LINE_AUTO) {
        tips_of = auto_tips; /* deductibles, paperless, bundle, limits, one per vehicle */
        per_plan = 4 + in->count[MQ_ENT_VEHICLE];
    } else if (is_property(in->line)) {
        tips_of = property_tips; /* deductible, paperless, bundle */
        per_plan = 3;
    } else {
        return true;
    }
    out->items = mq_arena_alloc(a, (size_t)(TIPS_FOR_CHEAPEST * per_plan) * sizeof(mq_tip));
    if (!out->items)
        return false;
    int pick[TIPS_FOR_CHEAPEST];
    int npick = cheapest_quotes(res, n, pick);
    bool ok = true;
    for (int i = 0; ok && i < npick; i++) {
        const mq_result *r = &res[pick[i]];
        /* the plan's variants: totals only, and what their changes leave
         * alone (the drivers' variables) worked out once (mq_rate_memo) */
        mq_rate_opts opts = {.totals_only = true, .memo = mq_rate_memo_new(a)};
        if (!opts.memo)
            return false;
        tip_try t = {.min = min, .e = e};
        ok = tips_of(r, in, &t, &opts, a, out);
    }
    return ok; /* out of memory: the caller answers an error, not fewer tips */
}

json_t *mq_resp_tips(const mq_engine *e, const mq_input *in, const mq_result *res, int n,
                     const mq_tip_minimums *min, mq_arena *a)
{
    mq_tip_list list;
    if (!mq_resp_tip_list(e, in, res, n, min, a, &list))
        return NULL;
    json_t *tips = json_array();
    for (int i = 0; tips && i < list.count; i++) {
        const mq_tip *t = &list.items[i];
        json_t *tip = json_pack("{s:s, s:s, s:s, s:o, s:o}", "carrier", t->carrier, "plan", t->plan,
                                "change", t->change, "saving", mq_resp_money(t->saving_cents),
                                "new_total", mq_resp_money(t->new_total_cents));
        if (!tip || json_array_append_new(tips, tip) != 0) {
            json_decref(tips);
            return NULL;
        }
    }
    return tips;
}
