/* rate.c -- `multiquote batch`: each row of a book rated as `quote` would, written as NDJSON or
 * CSV.
 *
 * The row function runs on the pipeline's worker threads: it rates the
 * row's input with mq_rate_all (every applicable carrier, or the one the job
 * restricts to) and writes the row's output into the chunk. NDJSON output is
 * the contract's response as src/model writes it (mq_resp_text, compact),
 * with the row's input line and policy id in front, so a line of batch
 * output is the document `quote --json` prints for that request. CSV output is one row per carrier
 * result (premiums summed per coverage code over the vehicles), formatted here without JSON. The
 * sink writes chunks to the output file in order.
 */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool put_policy_id_json(mq_batch_buf *out, const char *id)
{
    return !id || (mq_batch_buf_puts(out, "\"policy_id\":") && mq_batch_buf_json_str(out, id) &&
                   mq_batch_buf_puts(out, ","));
}

static bool invalid_json(const mq_batch_row *row, mq_batch_buf *out)
{
    bool ok = mq_batch_buf_printf(out, "{\"input_line\":%ld,", row->line) &&
              put_policy_id_json(out, row->policy_id) &&
              mq_batch_buf_puts(out, "\"status\":\"invalid\",\"errors\":[");
    int shown = row->errs->count < 32 ? row->errs->count : 32;
    for (int i = 0; ok && i < shown; i++) {
        const mq_req_error *e = &row->errs->items[i];
        ok = mq_batch_buf_puts(out, i ? ",{\"field\":" : "{\"field\":") &&
             mq_batch_buf_json_str(out, e->path ? e->path : "") &&
             mq_batch_buf_puts(out, ",\"message\":") &&
             mq_batch_buf_json_str(out, e->message ? e->message : "") &&
             mq_batch_buf_puts(out, "}");
    }
    return ok && mq_batch_buf_printf(out, "],\"error_count\":%d}\n", row->errs->count);
}

static bool invalid_csv(const mq_batch_row *row, mq_batch_buf *out)
{
    mq_batch_buf text = {0};
    bool ok = mq_batch_error_text(row, &text);
    ok = ok && mq_batch_buf_int(out, row->line) && mq_batch_buf_puts(out, ",") &&
         mq_batch_buf_csv(out, row->policy_id) &&
         mq_batch_buf_puts(out, ",,,,invalid,,,,,,,,,,,,,") && mq_batch_buf_csv(out, text.data) &&
         mq_batch_buf_puts(out, "\n");
    mq_batch_buf_free(&text);
    return ok;
}

static bool result_json(const mq_batch_row *row, const mq_result *res, int n, mq_batch_buf *out)
{
    char *text = mq_resp_text(row->in, res, n, &(mq_resp_meta){0}, NULL);
    if (!text || text[0] != '{') {
        free(text);
        return false;
    }
    bool ok = mq_batch_buf_printf(out, "{\"input_line\":%ld,", row->line) &&
              put_policy_id_json(out, row->policy_id) && mq_batch_buf_puts(out, text + 1) &&
              mq_batch_buf_puts(out, "\n");
    free(text);
    return ok;
}

static bool money_or_empty(mq_batch_buf *out, bool has, int64_t cents)
{
    return mq_batch_buf_puts(out, ",") && (!has || mq_batch_buf_money(out, cents));
}

/* A health result's tax_credit and net_premium columns, as the response
 * has them: without a market in effect, no credit and the net is the total.
 * Empty for other lines and results not quoted. */
static bool health_credit_csv(bool health_quoted, const mq_result *r, mq_batch_buf *out)
{
    bool market = r->credit_note != NULL; /* the market notes every result it worked on */
    return money_or_empty(out, health_quoted, market ? r->credit_cents : 0) &&
           money_or_empty(out, health_quoted, market ? r->net_cents : r->total_cents);
}

static bool result_csv(const mq_batch_row *row, const mq_result *r, mq_batch_buf *out)
{
    mq_plan_info pi = {0};
    if (r->plan)
        mq_plan_get_info(r->plan, &pi);
    bool quoted = r->status == MQ_QUOTED;
    bool ok = mq_batch_buf_int(out, row->line) && mq_batch_buf_puts(out, ",") &&
              mq_batch_buf_csv(out, row->policy_id) && mq_batch_buf_puts(out, ",") &&
              mq_batch_buf_csv(out, r->carrier_id) && mq_batch_buf_puts(out, ",") &&
              mq_batch_buf_csv(out, pi.plan_id) && mq_batch_buf_puts(out, ",") &&
              mq_batch_buf_csv(out, pi.version) && mq_batch_buf_puts(out, ",") &&
              mq_batch_buf_puts(out, mq_status_name(r->status)) &&
              money_or_empty(out, quoted, r->total_cents) &&
              money_or_empty(out, quoted, r->premium_cents) &&
              money_or_empty(out, quoted, r->fees_cents) && mq_batch_buf_puts(out, ",") &&
              (!quoted || mq_batch_buf_int(out, r->term_months)) &&
              health_credit_csv(row->in->line == MQ_LINE_HEALTH && quoted, r, out);
    int64_t cov[MQ_AUTO_NCOVERAGES] = {0};
    bool has[MQ_AUTO_NCOVERAGES] = {false};
    for (int i = 0; row->in->line == MQ_LINE_AUTO && i < r->ncoverages; i++) {
        int k = r->coverages[i].coverage;
        if (k >= 0 && k < MQ_AUTO_NCOVERAGES) {
            cov[k] += r->coverages[i].cents;
            has[k] = true;
        }
    }
    for (int k = 0; ok && k < MQ_AUTO_NCOVERAGES; k++)
        ok = money_or_empty(out, quoted && has[k], cov[k]);
    ok = ok && mq_batch_buf_puts(out, ",");
    if (ok && r->nreasons) {
        mq_batch_buf reasons = {0};
        for (int i = 0; ok && i < r->nreasons; i++)
            ok = (!i || mq_batch_buf_puts(&reasons, "; ")) &&
                 mq_batch_buf_puts(&reasons, r->reasons[i] ? r->reasons[i] : "");
        ok = ok && mq_batch_buf_csv(out, reasons.data);
        mq_batch_buf_free(&reasons);
    }
    return ok && mq_batch_buf_puts(out, "\n");
}

bool mq_batch_rate_init(mq_batch_rate_ctx *rc, const mq_engine *e, const char *carrier, int out,
                        FILE *to)
{
    *rc = (mq_batch_rate_ctx){.engine = e, .out = out, .to = to, .carrier = carrier};
    if (!carrier)
        return true;
    size_t n = (size_t)mq_engine_plan_count(e) + 1;
    rc->plans = calloc(n, sizeof *rc->plans);
    rc->plan = calloc(n, sizeof *rc->plan);
    if (!rc->plans || !rc->plan) {
        mq_batch_rate_free(rc);
        return false;
    }
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        rc->plan[rc->nplans] = mq_engine_plan(e, i);
        mq_plan_get_info(rc->plan[rc->nplans], &rc->plans[rc->nplans]);
        if (strcmp(rc->plans[rc->nplans].carrier_id, carrier) == 0)
            rc->nplans++;
    }
    return true;
}

void mq_batch_rate_free(mq_batch_rate_ctx *rc)
{
    free(rc->plans);
    free(rc->plan);
    rc->plans = NULL;
    rc->plan = NULL;
    rc->nplans = 0;
}

/* The one plan mq_rate_all would rate for the context's carrier, picked as
 * mq_engine_pick picks: for the request's line and state, the latest
 * version of its plan id effective on or before the request's date (the
 * first of equals), if that version's `until` has not passed. NULL --
 * mq_rate_all then rates the row, and says why when nothing applies -- when
 * the request asks for other carriers, when the carrier has no such plan or
 * its latest has ended, when it has several plan ids (mq_rate_all rates
 * each in effect: health issuers offer several, and a plan id may end where
 * a new one begins), or
 * for a health plan (metal filters and the market's tax credit, which
 * takes every silver plan of the area, are mq_rate_all's). */
static const mq_plan *select_plan(const mq_batch_rate_ctx *rc, const mq_input *in)
{
    if (!rc->carrier || in->ncarriers != 1 || strcmp(in->carriers[0], rc->carrier) != 0)
        return NULL;
    int best = -1;
    for (int i = 0; i < rc->nplans; i++) {
        const mq_plan_info *pi = &rc->plans[i];
        if (pi->line != in->line || pi->effective > in->effective_date)
            continue;
        bool writes = false;
        for (int k = 0; k < pi->nstates && !writes; k++)
            writes = pi->states[k] == in->state;
        if (!writes)
            continue;
        if (pi->metal >= 0 || (best >= 0 && strcmp(pi->plan_id, rc->plans[best].plan_id) != 0))
            return NULL;
        if (best < 0 || pi->effective > rc->plans[best].effective)
            best = i;
    }
    /* the latest version, as mq_engine_pick takes it: when its last day
     * has passed the carrier has no rates then (the one it replaced does
     * not rate again), which mq_rate_all says */
    if (best < 0 || (rc->plans[best].until && in->effective_date > rc->plans[best].until))
        return NULL;
    return rc->plan[best];
}

bool mq_batch_rate_row(void *ctx, const mq_batch_row *row, mq_arena *a, mq_batch_buf *out)
{
    const mq_batch_rate_ctx *rc = ctx;
    if (!row->in)
        return rc->out == MQ_BATCH_CSV ? invalid_csv(row, out) : invalid_json(row, out);
    mq_result *res = NULL;
    int n = 0;
    const mq_plan *plan = select_plan(rc, row->in);
    if (plan) {
        res = mq_arena_alloc(a, sizeof *res);
        n = 1;
        if (!res || !mq_rate_plan(plan, row->in, &(mq_rate_opts){0}, a, res))
            return false;
    } else if (!mq_rate_all(rc->engine, row->in, &(mq_rate_opts){0}, a, &res, &n)) {
        return false;
    }
    if (rc->out != MQ_BATCH_CSV)
        return result_json(row, res, n, out);
    bool ok = true;
    for (int i = 0; ok && i < n; i++)
        ok = result_csv(row, &res[i], out);
    return ok;
}

bool mq_batch_rate_start(void *ctx, mq_batch_format format)
{
    mq_batch_rate_ctx *rc = ctx;
    if (rc->out < 0)
        rc->out = format;
    rc->header_due = rc->out == MQ_BATCH_CSV;
    return true;
}

bool mq_batch_rate_sink(void *ctx, const char *data, size_t len)
{
    mq_batch_rate_ctx *rc = ctx;
    size_t header = rc->header_due ? strlen(MQ_BATCH_RESULT_HEADER) : 0;
    rc->header_due = false;
    /* flushed with every chunk: a book fed through a pipe a row at a time
     * gets each row's results as they are worked out (the pipeline passes
     * on what it holds before it waits for more) */
    if (fwrite(MQ_BATCH_RESULT_HEADER, 1, header, rc->to) == header &&
        fwrite(data, 1, len, rc->to) == len && fflush(rc->to) == 0)
        return true;
    fprintf(stderr, "multiquote batch: cannot write the output: %s\n", strerror(errno));
    return false;
}
