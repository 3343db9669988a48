/* response.c -- rating results (mq_result) written as the contract's response JSON.
 *
 * Builds jansson trees in the contract's key order (dumped with
 * JSON_PRESERVE_ORDER). Money stays in integer cents until the last moment:
 * it becomes a JSON real cents/100.0 and is printed with 15 significant
 * digits, which gives back exactly its cents (1018.67, 714.0) for any amount
 * below 10^13 dollars. Every builder returns NULL when jansson runs out of
 * memory, having released what it built.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>

/* Steals `v`; false when `v` is NULL or the set fails. */
static bool put(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0;
}

static bool push(json_t *arr, json_t *v)
{
    return v && json_array_append_new(arr, v) == 0;
}

/* Returns obj, or NULL (releasing obj) when a step failed. */
static json_t *done(json_t *obj, bool ok)
{
    if (ok)
        return obj;
    json_decref(obj);
    return NULL;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A factor or running value: rounded to 6 decimals; null when not finite. */
static json_t *step_number(double x)
{
    return isfinite(x) ? json_real(round(x * 1e6) / 1e6) : json_null();
}

json_t *mq_resp_money(int64_t cents)
{
    return json_real((double)cents / 100.0);
}

char *mq_resp_dump(const json_t *doc, bool pretty)
{
    size_t flags = JSON_REAL_PRECISION(15) | JSON_PRESERVE_ORDER;
    flags |= pretty ? JSON_INDENT(2) : JSON_COMPACT;
    return json_dumps(doc, flags);
}

/* total / months in cents, halves rounded up (floor((2t + m) / 2m)). */
static int64_t monthly_cents(int64_t total, int months)
{
    int64_t num = 2 * total + months, den = 2 * (int64_t)months;
    int64_t q = num / den;
    return (num % den != 0 && num < 0) ? q - 1 : q;
}

static json_t *carrier_json(const mq_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "id", str_or_null(r->carrier_id));
    ok = put(o, "name", str_or_null(r->carrier_name)) && ok;
    ok = put(o, "rating", str_or_null(r->carrier_rating)) && ok;
    return done(o, ok);
}

static json_t *plan_json(const mq_result *r)
{
    if (!r->plan)
        return json_null();
    mq_plan_info info;
    mq_plan_get_info(r->plan, &info);
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "id", str_or_null(info.plan_id));
    ok = put(o, "version", str_or_null(info.version)) && ok;
    return done(o, ok);
}

static json_t *premium_json(const mq_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "total", mq_resp_money(r->total_cents));
    ok = put(o, "fees", mq_resp_money(r->fees_cents)) && ok;
    ok = put(o, "term_months", json_integer(r->term_months)) && ok;
    if (r->term_months > 0)
        ok = put(o, "monthly", mq_resp_money(monthly_cents(r->total_cents, r->term_months))) && ok;
    ok = put(o, "minimum_premium_applied", json_boolean(r->minimum_applied)) && ok;
    return done(o, ok);
}

/* The member name of a line's premium unit in coverage entries and worksheet
 * steps ("vehicle", "member"), or NULL when the unit is the policy. */
static const char *unit_key(const mq_input *in)
{
    const mq_line_def *l = mq_line_get(in->line);
    return l && l->unit != MQ_ENT_POLICY ? l->entity_names[l->unit] : NULL;
}

/* The id of vehicle-like unit `unit`, or NULL when the line is not rated per entity. */
static const char *unit_id(const mq_input *in, int32_t unit)
{
    const mq_line_def *l = mq_line_get(in->line);
    if (!l || l->unit == MQ_ENT_POLICY || unit < 0 || unit >= in->count[l->unit])
        return NULL;
    return in->ids[l->unit][unit];
}

/* {per_person, per_accident} / {limit} / {deductible} as the request chose them;
 * NULL into *out when the coverage has no limit given. */
static bool limits_json(const mq_input *in, const mq_coverage_def *def, int32_t unit, json_t **out)
{
    int32_t row = def->scope == MQ_ENT_POLICY ? 0 : unit;
    *out = NULL;
    if (row < 0 || row >= in->count[def->scope])
        return true;
    const double *v = mq_input_row(in, def->scope, row);
    json_t *o = json_object();
    bool ok = o != NULL;
    for (int i = 0; ok && i < 2; i++)
        if (def->limit_fields[i] >= 0 && fabs(v[def->limit_fields[i]]) < 1e15)
            ok = put(o, def->limit_names[i], json_integer((json_int_t)v[def->limit_fields[i]]));
    if (ok && json_object_size(o) == 0) {
        json_decref(o);
        return true;
    }
    *out = done(o, ok);
    return *out != NULL;
}

static json_t *coverage_json(const mq_input *in, const mq_cov_premium *cp)
{
    const mq_line_def *l = mq_line_get(in->line);
    if (!l || cp->coverage < 0 || cp->coverage >= l->ncoverages)
        return NULL;
    const mq_coverage_def *def = &l->coverages[cp->coverage];
    json_t *o = json_object(), *limits;
    if (!o)
        return NULL;
    bool ok = put(o, "code", json_string(def->code));
    const char *unit = unit_id(in, cp->unit);
    if (unit)
        ok = put(o, unit_key(in), json_string(unit)) && ok;
    ok = put(o, "premium", mq_resp_money(cp->cents)) && ok;
    ok = limits_json(in, def, cp->unit, &limits) && ok;
    if (limits)
        ok = put(o, "limits", limits) && ok;
    return done(o, ok);
}

static json_t *strings_json(const char *const *s, int n)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (int i = 0; ok && i < n; i++)
        ok = push(a, str_or_null(s[i]));
    return done(a, ok);
}

static json_t *fees_json(const mq_result *r)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (int i = 0; ok && i < r->nfees; i++) {
        json_t *f = json_object();
        ok = f && put(f, "name", str_or_null(r->fees[i].name)) &&
             put(f, "amount", mq_resp_money(r->fees[i].cents));
        ok = push(a, done(f, ok)) && ok;
    }
    return done(a, ok);
}

static json_t *verifies_json(const mq_result *r)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (int i = 0; ok && i < r->nverifies; i++) {
        json_t *v = json_object();
        ok = v && put(v, "check", str_or_null(r->verifies[i].check)) &&
             put(v, "text", str_or_null(r->verifies[i].text));
        ok = push(a, done(v, ok)) && ok;
    }
    return done(a, ok);
}

static json_t *coverages_json(const mq_input *in, const mq_result *r)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (int i = 0; ok && i < r->ncoverages; i++)
        ok = push(a, coverage_json(in, &r->coverages[i]));
    return done(a, ok);
}

static json_t *money_if(bool known, int64_t cents)
{
    return known ? mq_resp_money(cents) : json_null();
}

/* The per-line result extras of the contract: the class a term life carrier
 * assumed; a health plan's product facts and its premium tax credit. Amounts
 * that do not exist for a result (not quoted, no plan) are null. */
static bool extras_json(json_t *o, const mq_input *in, const mq_result *r)
{
    bool quoted = r->status == MQ_QUOTED, ok = true;
    if (in->line == MQ_LINE_TERM_LIFE)
        ok = put(o, "health_class", str_or_null(quoted ? r->health_class : NULL));
    if (in->line != MQ_LINE_HEALTH)
        return ok;
    bool product = r->plan_name || r->metal >= 0; /* a health plan's facts are known */
    ok = put(o, "plan_name", str_or_null(r->plan_name)) && ok;
    ok = put(o, "metal",
             str_or_null(r->metal >= 0 ? mq_symbol_name(MQ_DOM_METAL, r->metal) : NULL)) &&
         ok;
    /* The market sets a credit note on every result; without one no credit was estimated. */
    bool market = r->credit_note != NULL;
    ok = put(o, "gross_premium", money_if(quoted, market ? r->gross_cents : r->total_cents)) && ok;
    ok = put(o, "tax_credit", money_if(quoted, market ? r->credit_cents : 0)) && ok;
    ok = put(o, "net_premium", money_if(quoted, market ? r->net_cents : r->total_cents)) && ok;
    ok = put(o, "deductible", money_if(product, r->deductible_cents)) && ok;
    ok = put(o, "out_of_pocket_max", money_if(product, r->out_of_pocket_max_cents)) && ok;
    if (r->credit_note)
        ok = put(o, "credit_note", json_string(r->credit_note)) && ok;
    return ok;
}

json_t *mq_resp_result(const mq_input *in, const mq_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "carrier", carrier_json(r));
    ok = put(o, "plan", plan_json(r)) && ok;
    ok = put(o, "status", json_string(mq_status_name(r->status))) && ok;
    if (r->status == MQ_QUOTED)
        ok = put(o, "premium", premium_json(r)) && ok;
    ok = extras_json(o, in, r) && ok;
    ok = put(o, "coverages", coverages_json(in, r)) && ok;
    ok = put(o, "fees", fees_json(r)) && ok;
    ok = put(o, "reasons", strings_json(r->reasons, r->nreasons)) && ok;
    ok = put(o, "notes", strings_json(r->notes, r->nnotes)) && ok;
    ok = put(o, "verifies", verifies_json(r)) && ok;
    return done(o, ok);
}

json_t *mq_resp_build(const mq_input *in, const mq_result *results, int nresults,
                      const mq_resp_meta *meta)
{
    json_t *o = json_object(), *list = json_array();
    const mq_line_def *l = mq_line_get(in->line);
    char eff[11];
    mq_date_format(in->effective_date, eff);
    bool ok = o && list && l;
    if (ok && meta && meta->quote_id)
        ok = put(o, "quote_id", json_string(meta->quote_id));
    ok = ok && put(o, "line", json_string(l->name));
    ok = ok && put(o, "effective_date", json_string(eff));
    if (ok && meta && meta->created_at)
        ok = put(o, "created_at", json_string(meta->created_at));
    for (int i = 0; ok && i < nresults; i++)
        ok = push(list, mq_resp_result(in, &results[i]));
    if (ok) {
        ok = put(o, "results", list);
        list = NULL;
    }
    json_decref(list);
    return done(o, ok);
}

static json_t *step_json(const mq_input *in, const mq_work_step *s)
{
    const mq_line_def *l = mq_line_get(in->line);
    bool per_cov = l && s->coverage >= 0 && s->coverage < l->ncoverages;
    const char *unit = per_cov ? unit_id(in, s->unit) : NULL;
    char op[2] = {s->op, '\0'};
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = put(o, "coverage", str_or_null(per_cov ? l->coverages[s->coverage].code : NULL));
    if (unit_key(in))
        ok = put(o, unit_key(in), str_or_null(unit)) && ok;
    ok = put(o, "name", str_or_null(s->name)) && ok;
    ok = put(o, "table", str_or_null(s->table)) && ok;
    ok = put(o, "key", str_or_null(s->key)) && ok;
    ok = put(o, "detail", str_or_null(s->detail)) && ok;
    ok = put(o, "op", json_string(op)) && ok;
    ok = put(o, "factor", step_number(s->factor)) && ok;
    ok = put(o, "running", step_number(s->running)) && ok;
    return done(o, ok);
}

json_t *mq_resp_worksheet(const mq_input *in, const mq_result *r)
{
    json_t *o = json_object(), *steps = json_array();
    bool ok = o && steps;
    for (int i = 0; ok && i < r->nsteps; i++)
        ok = push(steps, step_json(in, &r->steps[i]));
    if (!ok) {
        json_decref(steps);
        return done(o, false);
    }
    ok = put(o, "carrier", carrier_json(r));
    ok = put(o, "plan", plan_json(r)) && ok;
    ok = put(o, "status", json_string(mq_status_name(r->status))) && ok;
    ok = put(o, "steps", steps) && ok;
    return done(o, ok);
}
