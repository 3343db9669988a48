/* health_limits.c -- `multiquote check`: a health plan keeps to the ACA's
 * rating limits (45 CFR 147.102; ../shared/reference/aca-health.md section 1).
 *
 * An individual-market premium may vary by age at most 3:1 for adults and
 * by tobacco use at most 1.5:1. A plan writes its age curve as a table and
 * its tobacco factor as an expression, so neither is checked by reading
 * them: the plan is rated on probe households of one adult ("self") aged
 * 21 to 64 on the plan's effective date, with and without tobacco, in every
 * county its tables list by county_fips (where the plan does not quote, a
 * county is skipped). Each member's premium is rounded to the cent, so the
 * ratios are allowed what that rounding can add: 1.5 cents over 1.5 times
 * the non-tobacco premium, 2 cents over 3 times the lowest adult premium.
 * Each limit is reported once per plan, at the first age and county that
 * breaks it.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { ADULT = 21, OLDEST = 64, MAX_COUNTIES = 256 };

/* The county FIPS codes plan p's tables list (key county_fips, exact
 * cells), distinct, at most `cap`; how many. */
static int plan_counties(const mq_plan *p, double *out, int cap)
{
    int n = 0;
    for (int t = 0; t < p->ntables; t++) {
        const mq_table *tb = p->tables[t];
        for (int k = 0; k < tb->nkeys; k++) {
            if (strcmp(tb->key_names[k], "county_fips") != 0)
                continue;
            for (int r = 0; r < tb->nrows && n < cap; r++) {
                const mq_cell *c = &tb->cells[(size_t)r * (size_t)tb->nkeys + (size_t)k];
                bool seen = c->kind != CELL_EXACT;
                for (int i = 0; i < n && !seen; i++)
                    seen = out[i] == c->lo;
                if (!seen)
                    out[n++] = c->lo;
            }
        }
    }
    return n;
}

/* The premium in cents of one adult `age` on p's effective date in
 * `county` of `state`, tobacco user or not; -1 when p does not quote it,
 * -2 when memory ran out. */
static int64_t probe(const mq_plan *p, int state, double county, int age, bool tobacco, mq_arena *a)
{
    int32_t count[MQ_ENT_COUNT] = {0};
    count[MQ_ENT_POLICY] = 1;
    count[MQ_ENT_MEMBER] = 1;
    mq_input in;
    if (!mq_input_alloc(&in, a, MQ_LINE_HEALTH, count))
        return -2;
    in.effective_date = p->effective;
    in.state = state;
    double *pol = mq_input_row(&in, MQ_ENT_POLICY, 0);
    pol[MQ_XP_EFFECTIVE_DATE] = p->effective;
    pol[MQ_XP_STATE] = state;
    pol[MQ_XP_COUNTY] = county;
    double *m = mq_input_row(&in, MQ_ENT_MEMBER, 0);
    m[MQ_XM_RELATIONSHIP] = mq_symbol_find(MQ_DOM_RELATIONSHIP, "self");
    m[MQ_XM_DATE_OF_BIRTH] = mq_date_add_months(p->effective, -12 * age);
    m[MQ_XM_TOBACCO] = tobacco;
    in.ids[MQ_ENT_MEMBER][0] = "m1";
    mq_result r;
    if (!mq_rate_plan(p, &in, &(mq_rate_opts){.totals_only = true}, a, &r))
        return -2;
    return r.status == MQ_QUOTED ? r.total_cents : -1;
}

/* Dollars and cents of `c` for a message. */
static void money(int64_t c, char out[32])
{
    snprintf(out, 32, "%lld.%02lld", (long long)(c / 100), (long long)(c % 100));
}

/* The limits in one county; a breach is reported unless one of its kind
 * was (*tobacco_done, *age_done: once per plan). False when memory ran out. */
static bool check_county(const mq_plan *p, int state, double county, mq_arena *a,
                         bool *tobacco_done, bool *age_done, mq_diags *errors)
{
    int64_t lo = -1, hi = -1;
    int lo_age = 0, hi_age = 0;
    char where[32] = "";
    if (!isnan(county))
        snprintf(where, sizeof where, " in county %05.0f", county);
    for (int age = ADULT; age <= OLDEST; age++) {
        int64_t plain = probe(p, state, county, age, false, a);
        int64_t smoker = plain >= 0 ? probe(p, state, county, age, true, a) : plain;
        if (plain == -2 || smoker == -2)
            return false;
        if (plain < 0 || smoker < 0)
            continue;
        if (lo < 0 || plain < lo)
            lo = plain, lo_age = age;
        if (hi < 0 || plain > hi)
            hi = plain, hi_age = age;
        if (!*tobacco_done && 2 * smoker > 3 * plain + 3) {
            char s[32], n[32];
            money(smoker, s);
            money(plain, n);
            mq_diag_add(errors,
                        "%s: a tobacco user aged %d%s pays %s a month against %s without "
                        "tobacco (%.3f times): the ACA allows a tobacco factor of at most 1.5",
                        p->file, age, where, s, n, (double)smoker / (double)plain);
            *tobacco_done = true;
        }
    }
    if (!*age_done && lo > 0 && hi > 3 * lo + 2) {
        *age_done = true;
        char h[32], l[32];
        money(hi, h);
        money(lo, l);
        mq_diag_add(errors,
                    "%s: an adult aged %d%s pays %s a month, %.3f times the %s of one aged %d: "
                    "the ACA allows adults' premiums to vary by age at most 3:1",
                    p->file, hi_age, where, h, (double)hi / (double)lo, l, lo_age);
    }
    return true;
}

void mq_lint_health_limits(const mq_plan *p, mq_diags *errors)
{
    if (p->line != MQ_LINE_HEALTH)
        return;
    double counties[MAX_COUNTIES];
    int n = plan_counties(p, counties, MAX_COUNTIES);
    if (n == 0)
        counties[n++] = NAN; /* a plan that does not rate by county */
    mq_arena a;
    mq_arena_init(&a, 0);
    bool ok = true, tobacco_done = false, age_done = false;
    for (int s = 0; ok && s < p->nstates; s++)
        for (int c = 0; ok && c < n; c++)
            ok = check_county(p, p->states[s], counties[c], &a, &tobacco_done, &age_done, errors);
    if (!ok)
        mq_diag_add(errors, "%s: out of memory checking the ACA rating limits", p->file);
    mq_arena_free(&a);
}
