/* native.c -- runs the plans compiled into C (codegen.c writes them).
 *
 * At build time mqcodegen loads plans/ and writes each plan's rating as a C
 * function (build/native_plans.c and native_plans_1.c... _3.c, compiled in
 * parallel), listed in the first with the digest of the plan's files. When
 * an engine is indexed, mq_native_attach gives every plan whose digest (and
 * compiled sizes) a function of this build matches that function;
 * mq_rate_plan then calls it instead of interpreting the plan, unless the
 * worksheet is asked for or the caller wants the interpreter.
 *
 * A compiled function does what rate.c does, in the same order, with the
 * same arithmetic, so its results are the interpreter's to the bit (the
 * native tests compare the two on every bundled plan). It only finishes
 * the common outcomes itself: a quote (with its notes) and a decline by an
 * eligibility rule. Anything else, a lookup with no row, a coverage not
 * offered, a premium that is not a valid amount, a request too large for
 * its stack buffers, it hands back (MQ_NATIVE_INTERPRET) and the
 * interpreter rates the request from the start, producing the reason text.
 * The helpers below are the parts of a rating that are the same for every
 * plan: writing the result.
 */
#include "internal.h"

#include <string.h>

void mq_native_attach(mq_plan *p)
{
    p->native = NULL;
    for (int i = 0; i < mq_native_nplans; i++) {
        const mq_native *n = &mq_native_plans[i];
        if (strcmp(n->digest, p->digest) == 0 && n->ntables == p->ntables && n->nvars == p->nvars &&
            n->nsteps == p->nsteps && n->nslots == p->nslots && n->nitems == p->nitems &&
            n->nrules == p->nrules) {
            p->native = n;
            return;
        }
    }
}

/* A result that is not a quote: status s and, unless totals_only, its one
 * reason (NULL: out of memory). */
static int answer_status(const mq_plan *p, mq_status s, const char *reason, bool totals_only,
                         mq_arena *a, mq_result *out)
{
    const char **reasons = totals_only ? NULL : mq_arena_alloc(a, sizeof(char *));
    if (!totals_only && (!reasons || !reason))
        return MQ_NATIVE_OOM;
    mq_result_begin(p, out);
    out->status = s;
    if (reasons) {
        reasons[0] = reason;
        out->reasons = reasons;
        out->nreasons = 1;
    }
    return MQ_NATIVE_DONE;
}

int mq_native_decline(const mq_plan *p, int i, bool totals_only, mq_arena *a, mq_result *out)
{
    const mq_rule *rule = &p->rules[i];
    if (!rule->reason && !totals_only)
        return MQ_NATIVE_INTERPRET;
    return answer_status(p, rule->status, rule->reason, totals_only, a, out);
}

int mq_native_unoffered(const mq_plan *p, int cov, bool totals_only, mq_arena *a, mq_result *out)
{
    const char *reason = totals_only ? NULL : mq_rate_unoffered_text(p, cov, a);
    return answer_status(p, MQ_UNAVAILABLE, reason, totals_only, a, out);
}

int mq_native_finish(const mq_plan *p, const mq_cov_premium *premiums, int npremiums,
                     const char *const *notes, int nnotes, int64_t sum, const char *health_class,
                     bool totals_only, mq_arena *a, mq_result *out)
{
    mq_cov_premium *coverages = NULL;
    const char **copied = NULL;
    if (!totals_only) {
        size_t n = (size_t)(npremiums ? npremiums : 1);
        coverages = mq_arena_alloc_uninit(a, n * sizeof(mq_cov_premium));
        if (!coverages)
            return MQ_NATIVE_OOM;
        memcpy(coverages, premiums, (size_t)npremiums * sizeof(mq_cov_premium));
        if (nnotes && !(copied = mq_arena_alloc_uninit(a, (size_t)nnotes * sizeof(char *))))
            return MQ_NATIVE_OOM;
        if (nnotes)
            memcpy(copied, notes, (size_t)nnotes * sizeof(char *));
    }
    mq_result_begin(p, out);
    if (!totals_only) {
        out->coverages = coverages;
        out->ncoverages = npremiums;
        out->notes = copied;
        out->nnotes = copied ? nnotes : 0;
    }
    out->health_class = health_class;
    mq_result_total(p, out, sum);
    return MQ_NATIVE_DONE;
}
