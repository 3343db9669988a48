/* response.c -- rating results (mq_result) written as the contract's response JSON.
 *
 * The quote response is written as text, in the contract's key order, by a
 * small writer that prints what jansson would (the tree versions parse that
 * text back); the worksheet is a jansson tree. Money stays in integer cents
 * until the last moment and is printed with exactly its cents (1018.67,
 * 714.0), as jansson prints cents / 100.0 with 15 significant digits.
 */
#include "jsontext.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static char *dump_pretty(const json_t *doc);

/* Not json_dumps: jansson 2.14 ignores a failure to write an object key
 * (dump.c, do_dump: dump_string's result unchecked), so under memory
 * pressure it returns text with a key missing. Writing through our own
 * buffer, whose failure sticks, gives NULL instead. Compact text comes from
 * src/json/jsontext.c, which prints the same bytes much faster. */
char *mq_resp_dump(const json_t *doc, bool pretty)
{
    return pretty ? dump_pretty(doc) : mq_jw_compact(doc, MQ_RESP_PRECISION);
}

/* total / months in cents, halves rounded up (floor((2t + m) / 2m)). */
static int64_t monthly_cents(int64_t total, int months)
{
    int64_t num = 2 * total + months, den = 2 * (int64_t)months;
    int64_t q = num / den;
    return (num % den != 0 && num < 0) ? q - 1 : q;
}

/* ---- Text writer ----------------------------------------------------------
 *
 * The quote response is written straight to text (src/json/jsontext.h): it is what
 * every POST answers and stores, and building a jansson tree to dump it cost
 * ten times the rating. The text is exactly what jansson would print for the
 * same document with mq_resp_dump (compact): keys in the contract's order,
 * money with its cents (714.0, 1018.67), strings escaped as jansson escapes
 * them. */

static void jw_money_or_null(mq_jw *w, bool known, int64_t cents)
{
    if (known)
        mq_jw_cents(w, cents);
    else
        mq_jw_raw(w, "null");
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

static void write_carrier(mq_jw *w, const mq_result *r)
{
    mq_jw_raw(w, "{\"id\":");
    mq_jw_str(w, r->carrier_id);
    mq_jw_raw(w, ",\"name\":");
    mq_jw_str(w, r->carrier_name);
    mq_jw_raw(w, ",\"rating\":");
    mq_jw_str(w, r->carrier_rating);
    mq_jw_raw(w, "}");
}

/* ,"digest":"<16 hex digits>": the start of the digest of a local plan
 * version's files (plan.c, computed at load; MQ_RESP_DIGEST_CHARS), so that
 * a saved quote says which files priced it, not only their version's name;
 * nothing when the plan has none. The digest is hex, written as it is (no
 * escaping to do). */
static void write_digest(mq_jw *w, const char *digest)
{
    if (!digest || !*digest)
        return;
    mq_jw_raw(w, ",\"digest\":\"");
    mq_jw_mem(w, digest, strnlen(digest, MQ_RESP_DIGEST_CHARS));
    mq_jw_raw(w, "\"");
}

bool mq_resp_digest_same(const char *recorded, const char *now)
{
    size_t n = strlen(recorded);
    return n > 0 && now && strncmp(recorded, now, n) == 0;
}

/* {id, version, digest} of a local plan; {id, version} of a remote
 * carrier's own, with the digest of its files when the carrier sent one (a
 * multiquote node does: its operator can check its files with it; as a
 * local one, its first MQ_RESP_DIGEST_CHARS digits); null for none. */
static void write_plan(mq_jw *w, const mq_result *r)
{
    mq_plan_info info = {.plan_id = r->remote_plan_id, .version = r->remote_plan_version};
    if (r->plan)
        mq_plan_get_info(r->plan, &info);
    if (!info.plan_id) {
        mq_jw_raw(w, "null");
        return;
    }
    mq_jw_raw(w, "{\"id\":");
    mq_jw_str(w, info.plan_id);
    mq_jw_raw(w, ",\"version\":");
    mq_jw_str(w, info.version);
    write_digest(w, r->plan ? info.digest : r->remote_plan_digest);
    mq_jw_raw(w, "}");
}

/* A result a remote carrier rated itself with its own plan: it has no
 * local plan (r->plan NULL) but names the carrier's (src/remote/answer.c).
 * The response records it as "remote": true so that what reads the saved
 * quote later (requote, worksheets) knows from the quote itself, not from
 * the carrier registry of that day, that the price was not worked out here. */
static bool rated_remotely(const mq_result *r)
{
    return !r->plan && r->remote_plan_id;
}

static void write_premium(mq_jw *w, const mq_result *r)
{
    mq_jw_raw(w, "{\"total\":");
    mq_jw_cents(w, r->total_cents);
    mq_jw_raw(w, ",\"fees\":");
    mq_jw_cents(w, r->fees_cents);
    mq_jw_raw(w, ",\"term_months\":");
    mq_jw_int(w, r->term_months);
    if (r->term_months > 0) {
        mq_jw_raw(w, ",\"monthly\":");
        mq_jw_cents(w, monthly_cents(r->total_cents, r->term_months));
    }
    mq_jw_raw(w, r->minimum_applied ? ",\"minimum_premium_applied\":true}"
                                    : ",\"minimum_premium_applied\":false}");
}

/* The parts of coverage entries that every result of a response repeats,
 * written once per response and copied in after: per coverage of the line
 * {"code":"bi" and its limits' names as the first (,"limits":{"per_person":)
 * and as a later member (,"per_accident":); per unit ,"vehicle":"v1". The
 * same writer functions make them, so the text is the same byte for byte;
 * a response has some hundred coverage entries. */
enum {
    PIECE_CODE,
    PIECE_LIMIT_FIRST,
    PIECE_LIMIT_NEXT = PIECE_LIMIT_FIRST + 2,
    PIECES_PER_COV = 5
};

typedef struct resp_pieces {
    mq_jw text;    /* every piece, back to back */
    size_t *spans; /* start and length of each piece: coverages' first, then units' */
    int ncov, nunits;
} resp_pieces;

/* Ends the piece begun at text.len == start: its span goes to spans[2 * i]. */
static void end_piece(resp_pieces *p, int i, size_t start)
{
    p->spans[2 * i] = start;
    p->spans[2 * i + 1] = p->text.len - start;
}

/* Copies piece i in; nothing once w failed (as when the pieces could not
 * be written: the caller then marks w failed). */
static void put_piece(mq_jw *w, const resp_pieces *p, int i)
{
    if (!w->oom && p->spans && !p->text.oom)
        mq_jw_mem(w, p->text.buf + p->spans[2 * i], p->spans[2 * i + 1]);
}

/* Writes the pieces of `in`'s line and units; false when memory ran out. */
static bool pieces_init(resp_pieces *p, const mq_input *in)
{
    const mq_line_def *l = mq_line_get(in->line);
    *p = (resp_pieces){0};
    if (!l)
        return false;
    p->ncov = l->ncoverages;
    p->nunits = l->unit == MQ_ENT_POLICY ? 0 : in->count[l->unit];
    size_t n = (size_t)p->ncov * PIECES_PER_COV + (size_t)p->nunits;
    p->spans = calloc(2 * (n ? n : 1), sizeof(size_t));
    if (!p->spans)
        return false;
    for (int c = 0; c < p->ncov; c++) {
        const mq_coverage_def *def = &l->coverages[c];
        int at = c * PIECES_PER_COV;
        size_t start = p->text.len;
        mq_jw_raw(&p->text, "{\"code\":");
        mq_jw_name(&p->text, def->code);
        end_piece(p, at + PIECE_CODE, start);
        for (int i = 0; i < 2; i++) {
            start = p->text.len;
            if (def->limit_names[i]) {
                mq_jw_raw(&p->text, ",\"limits\":{");
                mq_jw_name_key(&p->text, def->limit_names[i], true);
            }
            end_piece(p, at + PIECE_LIMIT_FIRST + i, start);
            start = p->text.len;
            if (def->limit_names[i])
                mq_jw_name_key(&p->text, def->limit_names[i], false);
            end_piece(p, at + PIECE_LIMIT_NEXT + i, start);
        }
    }
    for (int u = 0; u < p->nunits; u++) {
        size_t start = p->text.len;
        mq_jw_name_key(&p->text, unit_key(in), false);
        mq_jw_str(&p->text, unit_id(in, u));
        end_piece(p, p->ncov * PIECES_PER_COV + u, start);
    }
    return !p->text.oom;
}

static void pieces_free(resp_pieces *p)
{
    free(p->text.buf);
    free(p->spans);
}

/* {per_person, per_accident} / {limit} / {deductible}... as the request chose
 * them; nothing when the coverage has no limit given. */
static void write_limits(mq_jw *w, const resp_pieces *p, const mq_input *in, int cov,
                         const mq_coverage_def *def, int32_t unit)
{
    int32_t row = def->scope == MQ_ENT_POLICY ? 0 : unit;
    if (row < 0 || row >= in->count[def->scope])
        return;
    const double *v = mq_input_row(in, def->scope, row);
    int n = 0;
    for (int i = 0; i < 2; i++) {
        if (def->limit_fields[i] < 0 || !(fabs(v[def->limit_fields[i]]) < 1e15))
            continue;
        put_piece(w, p,
                  cov * PIECES_PER_COV + (n++ == 0 ? PIECE_LIMIT_FIRST : PIECE_LIMIT_NEXT) + i);
        mq_jw_int(w, (long long)v[def->limit_fields[i]]);
    }
    if (n)
        mq_jw_raw(w, "}");
}

static void write_coverage(mq_jw *w, const resp_pieces *p, const mq_input *in,
                           const mq_cov_premium *cp)
{
    const mq_line_def *l = mq_line_get(in->line);
    if (!l || cp->coverage < 0 || cp->coverage >= l->ncoverages || cp->coverage >= p->ncov) {
        w->oom = true; /* cannot happen: the engine only rates the line's coverages */
        return;
    }
    const mq_coverage_def *def = &l->coverages[cp->coverage];
    put_piece(w, p, cp->coverage * PIECES_PER_COV + PIECE_CODE);
    if (unit_id(in, cp->unit))
        put_piece(w, p, p->ncov * PIECES_PER_COV + cp->unit);
    mq_jw_raw(w, ",\"premium\":");
    mq_jw_cents(w, cp->cents);
    write_limits(w, p, in, cp->coverage, def, cp->unit);
    mq_jw_raw(w, "}");
}

static void write_strings(mq_jw *w, const char *const *s, int n)
{
    mq_jw_raw(w, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            mq_jw_raw(w, ",");
        mq_jw_str(w, s[i]);
    }
    mq_jw_raw(w, "]");
}

/* The benchmark a health result's credit came from, as requote and the
 * worksheet re-rate it later: {plan: {id, version, digest}, premium,
 * candidates}, or null when no plan of the benchmark metal quoted. */
static void write_benchmark(mq_jw *w, const mq_benchmark *b)
{
    mq_plan_info info;
    if (!b->plan) {
        mq_jw_raw(w, "null");
        return;
    }
    mq_plan_get_info(b->plan, &info);
    mq_jw_raw(w, "{\"plan\":{\"id\":");
    mq_jw_str(w, info.plan_id);
    mq_jw_raw(w, ",\"version\":");
    mq_jw_str(w, info.version);
    write_digest(w, info.digest);
    mq_jw_raw(w, "},\"premium\":");
    mq_jw_cents(w, b->cents);
    mq_jw_raw(w, ",\"candidates\":");
    mq_jw_int(w, b->candidates);
    mq_jw_raw(w, "}");
}

/* The per-line result extras of the contract: the class a term life carrier
 * assumed; a health plan's product facts and its premium tax credit. Amounts
 * that do not exist for a result (not quoted, no plan) are null. */
static void write_extras(mq_jw *w, const mq_input *in, const mq_result *r)
{
    bool quoted = r->status == MQ_QUOTED;
    if (in->line == MQ_LINE_TERM_LIFE) {
        mq_jw_raw(w, ",\"health_class\":");
        mq_jw_str(w, quoted ? r->health_class : NULL);
    }
    if (in->line != MQ_LINE_HEALTH)
        return;
    bool product = r->plan_name || r->metal >= 0; /* a health plan's facts are known */
    mq_jw_raw(w, ",\"plan_name\":");
    mq_jw_str(w, r->plan_name);
    mq_jw_raw(w, ",\"metal\":");
    mq_jw_str(w, r->metal >= 0 ? mq_symbol_name(MQ_DOM_METAL, r->metal) : NULL);
    /* The market sets a credit note on every result; without one no credit was estimated. */
    bool market = r->credit_note != NULL;
    mq_jw_raw(w, ",\"gross_premium\":");
    jw_money_or_null(w, quoted, market ? r->gross_cents : r->total_cents);
    mq_jw_raw(w, ",\"tax_credit\":");
    jw_money_or_null(w, quoted, market ? r->credit_cents : 0);
    mq_jw_raw(w, ",\"net_premium\":");
    jw_money_or_null(w, quoted, market ? r->net_cents : r->total_cents);
    mq_jw_raw(w, ",\"deductible\":");
    jw_money_or_null(w, product, r->deductible_cents);
    mq_jw_raw(w, ",\"out_of_pocket_max\":");
    jw_money_or_null(w, product, r->out_of_pocket_max_cents);
    if (r->credit_note) {
        mq_jw_raw(w, ",\"credit_note\":");
        mq_jw_str(w, r->credit_note);
    }
    if (r->benchmark) { /* the market was applied (a health quote since it is recorded) */
        mq_jw_raw(w, ",\"benchmark\":");
        write_benchmark(w, r->benchmark);
    }
    if (r->benchmark && r->benchmark->market_id) { /* and the market file it applied */
        mq_jw_raw(w, ",\"market\":{\"id\":");
        mq_jw_str(w, r->benchmark->market_id);
        write_digest(w, r->benchmark->market_digest);
        mq_jw_raw(w, "}");
    }
}

static void write_result(mq_jw *w, const resp_pieces *p, const mq_input *in, const mq_result *r,
                         bool elapsed)
{
    mq_jw_raw(w, "{\"carrier\":");
    write_carrier(w, r);
    mq_jw_raw(w, ",\"plan\":");
    write_plan(w, r);
    if (rated_remotely(r)) /* absent otherwise: local results print as before */
        mq_jw_raw(w, ",\"remote\":true");
    mq_jw_raw(w, ",\"status\":");
    mq_jw_name(w, mq_status_name(r->status));
    if (r->status == MQ_QUOTED) {
        mq_jw_raw(w, ",\"premium\":");
        write_premium(w, r);
    }
    write_extras(w, in, r);
    mq_jw_raw(w, ",\"coverages\":[");
    for (int i = 0; i < r->ncoverages; i++) {
        if (i)
            mq_jw_raw(w, ",");
        write_coverage(w, p, in, &r->coverages[i]);
    }
    mq_jw_raw(w, "],\"fees\":[");
    for (int i = 0; i < r->nfees; i++) {
        mq_jw_raw(w, i ? ",{\"name\":" : "{\"name\":");
        mq_jw_str(w, r->fees[i].name);
        mq_jw_raw(w, ",\"amount\":");
        mq_jw_cents(w, r->fees[i].cents);
        mq_jw_raw(w, "}");
    }
    mq_jw_raw(w, "],\"reasons\":");
    write_strings(w, r->reasons, r->nreasons);
    mq_jw_raw(w, ",\"notes\":");
    write_strings(w, r->notes, r->nnotes);
    mq_jw_raw(w, ",\"verifies\":[");
    for (int i = 0; i < r->nverifies; i++) {
        mq_jw_raw(w, i ? ",{\"check\":" : "{\"check\":");
        mq_jw_str(w, r->verifies[i].check);
        mq_jw_raw(w, ",\"text\":");
        mq_jw_str(w, r->verifies[i].text);
        mq_jw_raw(w, "}");
    }
    mq_jw_raw(w, "]");
    if (elapsed) {
        mq_jw_raw(w, ",\"elapsed_ms\":");
        mq_jw_int(w, (long long)((r->elapsed_ns + 500000) / 1000000));
    }
    mq_jw_raw(w, "}");
}

static int dump_to_jw(const char *s, size_t n, void *data)
{
    mq_jw *w = data;
    mq_jw_mem(w, s, n);
    return w->oom ? -1 : 0;
}

/* Pretty text, through jansson. */
static char *dump_pretty(const json_t *doc)
{
    mq_jw w = {0};
    size_t flags = JSON_REAL_PRECISION(MQ_RESP_PRECISION) | JSON_INDENT(2);
    if (json_dump_callback(doc, dump_to_jw, &w, flags) != 0 || !w.buf)
        w.oom = true;
    return mq_jw_finish(&w);
}

/* "tips": as mq_resp_tips' tree would print. */
static void write_tips(mq_jw *w, const mq_tip_list *tips)
{
    mq_jw_raw(w, ",\"tips\":[");
    for (int i = 0; i < tips->count; i++) {
        const mq_tip *t = &tips->items[i];
        mq_jw_raw(w, i ? ",{\"carrier\":" : "{\"carrier\":");
        mq_jw_str(w, t->carrier);
        mq_jw_raw(w, ",\"plan\":");
        mq_jw_str(w, t->plan);
        mq_jw_raw(w, ",\"change\":");
        mq_jw_str(w, t->change);
        mq_jw_raw(w, ",\"saving\":");
        mq_jw_cents(w, t->saving_cents);
        mq_jw_raw(w, ",\"new_total\":");
        mq_jw_cents(w, t->new_total_cents);
        mq_jw_raw(w, "}");
    }
    mq_jw_raw(w, "]");
}

char *mq_resp_text(const mq_input *in, const mq_result *results, int nresults,
                   const mq_resp_meta *meta, const mq_tip_list *tips)
{
    mq_jw w = {0};
    /* room for the usual answer at once (an auto result is about 1.5 KB)
     * rather than growing through 4, 8 and 16 KB */
    mq_jw_reserve(&w, 1000 + (size_t)(nresults > 0 ? nresults : 0) * 1500);
    const mq_line_def *l = mq_line_get(in->line);
    char eff[11];
    mq_date_format(in->effective_date, eff);
    mq_jw_raw(&w, "{");
    bool first = true;
    if (meta && meta->quote_id) {
        mq_jw_key(&w, "quote_id", first);
        mq_jw_str(&w, meta->quote_id);
        first = false;
    }
    mq_jw_key(&w, "line", first);
    mq_jw_str(&w, l ? l->name : NULL);
    mq_jw_raw(&w, ",\"effective_date\":");
    mq_jw_str(&w, eff);
    if (meta && meta->created_at) {
        mq_jw_raw(&w, ",\"created_at\":");
        mq_jw_str(&w, meta->created_at);
    }
    mq_jw_raw(&w, ",\"results\":[");
    resp_pieces pieces;
    if (!pieces_init(&pieces, in))
        w.oom = true;
    for (int i = 0; i < nresults; i++) {
        if (i)
            mq_jw_raw(&w, ",");
        write_result(&w, &pieces, in, &results[i], meta && meta->elapsed_ms);
    }
    pieces_free(&pieces);
    mq_jw_raw(&w, "]");
    if (tips)
        write_tips(&w, tips);
    mq_jw_raw(&w, "}");
    return mq_jw_finish(&w);
}

/* One result's text (elapsed_ms included when `elapsed`). */
static char *result_text(const mq_input *in, const mq_result *r, bool elapsed)
{
    mq_jw w = {0};
    resp_pieces pieces;
    if (pieces_init(&pieces, in))
        write_result(&w, &pieces, in, r, elapsed);
    else
        w.oom = true;
    pieces_free(&pieces);
    return mq_jw_finish(&w);
}

char *mq_resp_result_text(const mq_input *in, const mq_result *r)
{
    return result_text(in, r, true);
}

/* Tree versions of the same text, for callers that want to look inside. */
json_t *mq_resp_result(const mq_input *in, const mq_result *r)
{
    char *text = result_text(in, r, false);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return doc;
}

json_t *mq_resp_build(const mq_input *in, const mq_result *results, int nresults,
                      const mq_resp_meta *meta)
{
    char *text = mq_resp_text(in, results, nresults, meta, NULL);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return doc;
}

static const char *arena_string(mq_arena *a, json_t *v)
{
    const char *s = json_string_value(v);
    return mq_arena_strdup(a, s ? s : "");
}

int mq_resp_saved_results(const char *response, mq_arena *a, mq_saved_result **out)
{
    json_t *doc = json_loads(response, 0, NULL);
    json_t *results = json_object_get(doc, "results");
    int n = json_is_array(results) ? (int)json_array_size(results) : -1;
    *out = n > 0 ? mq_arena_alloc(a, sizeof(mq_saved_result) * (size_t)n) : NULL;
    if (n > 0 && !*out)
        n = -1;
    for (int i = 0; i < n; i++) {
        json_t *r = json_array_get(results, (size_t)i);
        json_t *plan = json_object_get(r, "plan");
        json_t *total = json_object_get(json_object_get(r, "premium"), "total");
        json_t *bench = json_object_get(r, "benchmark");
        json_t *bplan = json_object_get(bench, "plan");
        json_t *among = json_object_get(bench, "candidates");
        json_t *market = json_object_get(r, "market");
        json_t *credit = json_object_get(r, "tax_credit");
        json_t *term = json_object_get(json_object_get(r, "premium"), "term_months");
        (*out)[i] = (mq_saved_result){
            .carrier = arena_string(a, json_object_get(json_object_get(r, "carrier"), "id")),
            .plan_id = arena_string(a, json_object_get(plan, "id")),
            .version = arena_string(a, json_object_get(plan, "version")),
            .status = arena_string(a, json_object_get(r, "status")),
            .total_cents =
                json_is_number(total) ? (int64_t)llround(json_number_value(total) * 100) : -1,
            .remote = json_is_true(json_object_get(r, "remote")),
            .benchmark_recorded = bench != NULL,
            .benchmark_plan_id = arena_string(a, json_object_get(bplan, "id")),
            .benchmark_version = arena_string(a, json_object_get(bplan, "version")),
            .benchmark_candidates = json_is_integer(among) ? (int)json_integer_value(among) : 0,
            .digest = arena_string(a, json_object_get(plan, "digest")),
            .benchmark_digest = arena_string(a, json_object_get(bplan, "digest")),
            .market_id = arena_string(a, json_object_get(market, "id")),
            .market_digest = arena_string(a, json_object_get(market, "digest")),
            .credit_cents = json_is_number(credit) && bench
                                ? (int64_t)llround(json_number_value(credit) * 100)
                                : -1,
            .term_months = json_is_integer(term) ? (int)json_integer_value(term) : 0};
        const mq_saved_result *row = &(*out)[i];
        if (!row->carrier || !row->plan_id || !row->version || !row->status ||
            !row->benchmark_plan_id || !row->benchmark_version || !row->digest ||
            !row->benchmark_digest || !row->market_id || !row->market_digest)
            n = -1; /* out of memory */
    }
    json_decref(doc);
    return n;
}

/* An amount of money in whole cents; -1 when v is not a number of dollars
 * from 0 to a trillion (a database edited by hand). */
static int64_t saved_cents(json_t *v)
{
    double x = json_number_value(v);
    return json_is_number(v) && x >= 0 && x < 1e12 ? (int64_t)llround(x * 100) : -1;
}

int mq_resp_saved_tips(const char *response, mq_arena *a, mq_saved_tip **out)
{
    json_t *doc = json_loads(response, 0, NULL);
    json_t *tips = json_object_get(doc, "tips");
    int n = !doc ? -2 : json_is_array(tips) ? (int)json_array_size(tips) : -1;
    *out = mq_arena_alloc(a, sizeof(mq_saved_tip) * (size_t)(n > 0 ? n : 1));
    if (!*out)
        n = -2;
    for (int i = 0; i < n; i++) {
        json_t *t = json_array_get(tips, (size_t)i);
        mq_saved_tip *tip = &(*out)[i];
        *tip = (mq_saved_tip){.carrier = arena_string(a, json_object_get(t, "carrier")),
                              .plan = arena_string(a, json_object_get(t, "plan")),
                              .change = arena_string(a, json_object_get(t, "change")),
                              .saving_cents = saved_cents(json_object_get(t, "saving")),
                              .new_total_cents = saved_cents(json_object_get(t, "new_total"))};
        if (!tip->carrier || !tip->plan || !tip->change)
            n = -2; /* out of memory */
    }
    json_decref(doc);
    return n;
}

void mq_resp_strip_identity(json_t *r)
{
    json_object_del(json_object_get(r, "plan"), "digest");
    json_object_del(json_object_get(json_object_get(r, "benchmark"), "plan"), "digest");
    json_object_del(r, "market");
}

int mq_resp_saved_benchmark(const mq_engine *e, const mq_saved_result *row, mq_benchmark *out)
{
    *out = (mq_benchmark){.plan = NULL, .cents = -1, .candidates = 0};
    if (!row->benchmark_recorded)
        return 0;
    out->market_id = *row->market_id ? row->market_id : NULL; /* the market it used */
    if (!*row->benchmark_plan_id) /* null: no plan of the benchmark metal quoted */
        return 1;
    out->plan = mq_engine_find_version(e, row->benchmark_plan_id, row->benchmark_version);
    out->candidates = row->benchmark_candidates;
    return out->plan ? 1 : -1;
}

/* ---- Worksheet (a jansson tree: only `explain` and its route use it) ---- */

static json_t *carrier_json(const mq_result *r)
{
    return json_pack("{s:s?, s:s?, s:s?}", "id", r->carrier_id, "name", r->carrier_name, "rating",
                     r->carrier_rating);
}

/* The worksheet's plan: {id, version, digest}, the start of the digest of
 * the files its steps were worked out from (MQ_RESP_DIGEST_CHARS; a
 * worksheet is always of a local plan). */
static json_t *plan_json(const mq_result *r)
{
    mq_plan_info info = {.plan_id = r->remote_plan_id, .version = r->remote_plan_version};
    if (r->plan)
        mq_plan_get_info(r->plan, &info);
    if (!info.plan_id)
        return json_null();
    if (!r->plan || !info.digest || !*info.digest)
        return json_pack("{s:s?, s:s?}", "id", info.plan_id, "version", info.version);
    /* as the quote's results record it, so the two compare equal */
    return json_pack("{s:s?, s:s?, s:s%}", "id", info.plan_id, "version", info.version, "digest",
                     info.digest, strnlen(info.digest, MQ_RESP_DIGEST_CHARS));
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

/* A policy-level step the rating program did not record: the premium tax
 * credit and the net premium a health plan's shopper pays, worked out by the
 * market after the plan's total (src/engine/market.c). */
static json_t *market_step(const mq_input *in, const char *name, const char *detail, char op,
                           int64_t amount_cents, int64_t running_cents)
{
    mq_work_step s = {.coverage = -1,
                      .unit = -1,
                      .name = name,
                      .detail = detail,
                      .op = op,
                      .factor = (double)amount_cents / 100.0,
                      .running = (double)running_cents / 100.0};
    return step_json(in, &s);
}

/* A quoted health plan's worksheet goes on past its total (the gross
 * premium) as the text worksheet does: the credit, with the benchmark and
 * the expected contribution it came from (or why there is none), taken
 * off, then the net premium the shopper pays. Only when the market was
 * applied: it sets a credit note on every result. */
static bool push_market_steps(json_t *steps, const mq_input *in, const mq_result *r)
{
    if (r->status != MQ_QUOTED || r->metal < 0 || !r->credit_note)
        return true;
    return push(steps, market_step(in, "Premium tax credit", r->credit_note, '-', r->credit_cents,
                                   r->net_cents)) &&
           push(steps, market_step(in, "Net premium", NULL, '=', r->net_cents, r->net_cents));
}

json_t *mq_resp_worksheet(const mq_input *in, const mq_result *r)
{
    json_t *o = json_object(), *steps = json_array();
    bool ok = o && steps;
    for (int i = 0; ok && i < r->nsteps; i++)
        ok = push(steps, step_json(in, &r->steps[i]));
    ok = ok && push_market_steps(steps, in, r);
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
