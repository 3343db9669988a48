/* answer.c -- a remote carrier's answer, checked against the protocol.
 *
 * A carrier answers one result object of the contract (docs/
 * carrier-protocol.md). It is parsed with jansson and checked field by
 * field against the shopper's request: the status is one a carrier may
 * give, money is US dollars with whole cents (a quoted total above zero),
 * every coverage is one of the line's, sits on a vehicle the request has
 * and is listed once, the total is the coverages plus the fees, and a term
 * life premium is for the request's payment period, and a plan digest, when
 * sent, is hex. Anything else makes the result an error, so a broken
 * carrier never shows the shopper a wrong price: the shopper reads a
 * neutral reason, the operator (the server's log, the command line's
 * stderr) the field and what is wrong with it. The accepted answer becomes
 * an engine result (arena strings), written out like a local one.
 */
#include "remote.h"
#include "jsontext.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct checker {
    const mq_input *in;
    const mq_line_def *line;
    mq_arena *a;
    char *why;
    size_t whylen;
} checker;

static bool bad(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(checker *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->why, k->whylen, fmt, ap);
    va_end(ap);
    return false;
}

/* x as its shortest text that reads back as x (300.345, not
 * 300.34500000000003): the number as the carrier wrote it. */
static const char *number_text(double x, char buf[32])
{
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, 32, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return buf;
}

/* Whole cents from a JSON number of at most two decimals, 0..1e9. The
 * test is exact at every size: a number written with two decimals parses to
 * the double nearest it, which is what cents / 100.0 rounds to as well (a
 * tolerance on x * 100 refused 8% of the valid amounts over ten million). */
static bool money(checker *k, json_t *v, const char *path, int64_t *cents)
{
    if (!json_is_number(v))
        return bad(k, "%s: expected an amount in dollars", path);
    double x = json_number_value(v);
    double c = round(x * 100.0);
    char text[32];
    if (!(x >= 0 && x <= 1e9) || c / 100.0 != x)
        return bad(k, "%s: %s is not an amount of dollars and cents", path, number_text(x, text));
    *cents = (int64_t)c;
    return true;
}

/* A string of the carrier's answer, as the operator's message quotes it: a
 * JSON string literal (a line break as \\n, an escape as \\u001b, so the
 * log and the terminal show what was sent and it cannot start a line of its
 * own), its first 64 bytes (whole UTF-8 characters) then "...". */
static const char *quoted(checker *k, json_t *v)
{
    enum { SHOWN = 64 };
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0, cut = n;
    if (cut > SHOWN)
        for (cut = SHOWN; cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80; cut--)
            ;
    mq_jw w = {0};
    mq_jw_strn(&w, s ? s : "", cut);
    if (cut < n)
        mq_jw_raw(&w, "...");
    char *text = mq_jw_finish(&w);
    const char *out = text ? mq_arena_strdup(k->a, text) : NULL;
    free(text);
    return out ? out : "(out of memory)";
}

static const char *arena_str(checker *k, json_t *v)
{
    return mq_arena_strdup(k->a, json_string_value(v));
}

/* An array of strings (reasons, notes); absent is empty. */
static bool strings(checker *k, json_t *arr, const char *key, const char ***out, int *n)
{
    *n = 0;
    if (!arr)
        return true;
    if (!json_is_array(arr))
        return bad(k, "%s: expected a list of strings", key);
    size_t count = json_array_size(arr);
    *out = mq_arena_alloc(k->a, sizeof(char *) * (count ? count : 1));
    if (!*out)
        return bad(k, "out of memory");
    for (size_t i = 0; i < count; i++) {
        json_t *s = json_array_get(arr, i);
        if (!json_is_string(s) || !json_string_length(s))
            return bad(k, "%s[%zu]: expected a non-empty string", key, i);
        if (!((*out)[i] = arena_str(k, s)))
            return bad(k, "out of memory");
    }
    *n = (int)count;
    return true;
}

static int coverage_index(const mq_line_def *l, const char *code)
{
    for (int i = 0; i < l->ncoverages; i++)
        if (strcmp(l->coverages[i].code, code) == 0)
            return i;
    return -1;
}

/* The unit (vehicle) a coverage sits on: its index in the request. */
static bool coverage_unit(checker *k, json_t *cov, size_t i, int32_t *unit)
{
    *unit = 0;
    if (k->line->unit == MQ_ENT_POLICY)
        return true;
    const char *key = k->line->entity_names[k->line->unit];
    json_t *v = json_object_get(cov, key);
    if (!json_is_string(v))
        return bad(k, "coverages[%zu].%s: expected the id of a %s in the request", i, key, key);
    for (int32_t u = 0; u < k->in->count[k->line->unit]; u++)
        if (strcmp(k->in->ids[k->line->unit][u], json_string_value(v)) == 0) {
            *unit = u;
            return true;
        }
    return bad(k, "coverages[%zu].%s: the request has no %s %s", i, key, key, quoted(k, v));
}

static bool coverages(checker *k, json_t *arr, mq_result *r, int64_t *sum)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad(k, "coverages: a quoted result lists its coverages");
    size_t n = json_array_size(arr);
    r->coverages = mq_arena_alloc(k->a, sizeof(mq_cov_premium) * n);
    if (!r->coverages)
        return bad(k, "out of memory");
    *sum = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *cov = json_array_get(arr, i);
        json_t *code_v = json_object_get(cov, "code");
        const char *code = json_string_value(code_v);
        if (!json_is_object(cov) || !code)
            return bad(k, "coverages[%zu]: expected {\"code\", \"premium\", ...}", i);
        mq_cov_premium *cp = &r->coverages[i];
        if ((cp->coverage = coverage_index(k->line, code)) < 0)
            return bad(k, "coverages[%zu].code: unknown coverage %s for %s", i, quoted(k, code_v),
                       k->line->name);
        char path[48];
        snprintf(path, sizeof path, "coverages[%zu].premium", i);
        if (!coverage_unit(k, cov, i, &cp->unit) ||
            !money(k, json_object_get(cov, "premium"), path, &cp->cents))
            return false;
        for (size_t j = 0; j < i; j++)
            if (r->coverages[j].coverage == cp->coverage && r->coverages[j].unit == cp->unit)
                return bad(
                    k, "coverages[%zu]: %s is listed twice%s%s (coverages[%zu])", i, code,
                    k->line->unit == MQ_ENT_POLICY ? "" : " for ",
                    k->line->unit == MQ_ENT_POLICY ? "" : k->in->ids[k->line->unit][cp->unit], j);
        *sum += cp->cents;
    }
    r->ncoverages = (int)n;
    return true;
}

static bool fees(checker *k, json_t *arr, mq_result *r, int64_t *sum)
{
    *sum = 0;
    if (!arr)
        return true;
    if (!json_is_array(arr))
        return bad(k, "fees: expected a list of {\"name\", \"amount\"}");
    size_t n = json_array_size(arr);
    r->fees = mq_arena_alloc(k->a, sizeof(mq_fee) * (n ? n : 1));
    if (!r->fees)
        return bad(k, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(arr, i);
        json_t *name = json_object_get(f, "name");
        char path[48];
        snprintf(path, sizeof path, "fees[%zu].amount", i);
        /* shown to the shopper as the fee's name (openapi.yaml's Fee: minLength 1) */
        if (!json_is_string(name) || !json_string_length(name))
            return bad(k, "fees[%zu].name: expected a non-empty string", i);
        if (!money(k, json_object_get(f, "amount"), path, &r->fees[i].cents))
            return false;
        if (!(r->fees[i].name = arena_str(k, name)))
            return bad(k, "out of memory");
        *sum += r->fees[i].cents;
    }
    r->nfees = (int)n;
    return true;
}

/* Money is US dollars (contract): a currency, where an answer names one,
 * is "USD"; any other would be shown as dollars. */
static bool currency(checker *k, json_t *v, const char *path)
{
    if (!v)
        return true;
    const char *code = json_string_value(v);
    if (code && strcmp(code, "USD") == 0)
        return true;
    return bad(k, "%s: amounts are US dollars (\"USD\"), not %s", path,
               code ? quoted(k, v) : "a string");
}

/* term_life premiums are per payment: the term is the request's payment
 * period (12 annual ... 1 monthly), as local plans give it; another would
 * be compared with the others' premiums as if it were one. */
static bool term_fits(checker *k, int months)
{
    static const int period[] = {12, 6, 3, 1};
    static const char *const mode[] = {"annual", "semiannual", "quarterly", "monthly"};
    if (k->in->line != MQ_LINE_TERM_LIFE)
        return true;
    double m = k->in->values[MQ_ENT_POLICY][MQ_LP_PAYMENT_MODE];
    if (!(m >= 0 && m < 4) || period[(int)m] == months)
        return true;
    return bad(k, "premium.term_months: %d, but the request pays %s (%d)", months, mode[(int)m],
               period[(int)m]);
}

static bool premium(checker *k, json_t *doc, mq_result *r)
{
    json_t *p = json_object_get(doc, "premium");
    if (!json_is_object(p))
        return bad(k, "premium: a quoted result has {\"total\", \"fees\", \"term_months\"}");
    if (!currency(k, json_object_get(doc, "currency"), "currency") ||
        !currency(k, json_object_get(p, "currency"), "premium.currency"))
        return false;
    int64_t cov_sum = 0, fee_sum = 0;
    json_t *term = json_object_get(p, "term_months");
    if (!money(k, json_object_get(p, "total"), "premium.total", &r->total_cents) ||
        !money(k, json_object_get(p, "fees"), "premium.fees", &r->fees_cents) ||
        !coverages(k, json_object_get(doc, "coverages"), r, &cov_sum) ||
        !fees(k, json_object_get(doc, "fees"), r, &fee_sum))
        return false;
    if (!json_is_integer(term) || json_integer_value(term) < 1 || json_integer_value(term) > 120)
        return bad(k, "premium.term_months: expected a whole number of months (1 to 120)");
    r->term_months = (int)json_integer_value(term);
    if (!term_fits(k, r->term_months))
        return false;
    if (r->total_cents == 0)
        return bad(k, "premium.total: a quoted premium is more than 0.00");
    r->minimum_applied = json_is_true(json_object_get(p, "minimum_premium_applied"));
    if (json_object_get(doc, "fees") && fee_sum != r->fees_cents)
        return bad(k, "premium.fees: %.2f is not the sum of fees, %.2f",
                   (double)r->fees_cents / 100, (double)fee_sum / 100);
    r->premium_cents = r->total_cents - r->fees_cents;
    bool adds_up = r->minimum_applied ? cov_sum <= r->premium_cents : cov_sum == r->premium_cents;
    if (!adds_up)
        return bad(k, "premium.total: %.2f is not the coverages (%.2f) plus fees (%.2f)",
                   (double)r->total_cents / 100, (double)cov_sum / 100,
                   (double)r->fees_cents / 100);
    return true;
}

static bool verifies(checker *k, json_t *arr, mq_result *r)
{
    if (!arr)
        return true;
    if (!json_is_array(arr))
        return bad(k, "verifies: expected a list of {\"check\", \"text\"}");
    size_t n = json_array_size(arr);
    mq_verify *v = mq_arena_alloc(k->a, sizeof(mq_verify) * (n ? n : 1));
    if (!v)
        return bad(k, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        json_t *check = json_object_get(e, "check"), *text = json_object_get(e, "text");
        if (!json_is_object(e))
            return bad(k, "verifies[%zu]: expected {\"check\", \"text\"}", i);
        /* both shown to the shopper (openapi.yaml's Verify: minLength 1) */
        if (!json_is_string(check) || !json_string_length(check))
            return bad(k, "verifies[%zu].check: expected a non-empty string", i);
        if (!json_is_string(text) || !json_string_length(text))
            return bad(k, "verifies[%zu].text: expected a non-empty string", i);
        if (!(v[i].check = arena_str(k, check)) || !(v[i].text = arena_str(k, text)))
            return bad(k, "out of memory");
    }
    r->verifies = v;
    r->nverifies = (int)n;
    return true;
}

static bool status_of(checker *k, json_t *v, mq_status *out)
{
    static const struct {
        const char *name;
        mq_status s;
    } allowed[] = {{"quoted", MQ_QUOTED},
                   {"declined", MQ_DECLINED},
                   {"unavailable", MQ_UNAVAILABLE},
                   {"error", MQ_ERROR}};
    const char *s = json_string_value(v);
    for (size_t i = 0; s && i < sizeof allowed / sizeof allowed[0]; i++)
        if (strcmp(s, allowed[i].name) == 0) {
            *out = allowed[i].s;
            return true;
        }
    return bad(k, "status: expected quoted, declined, unavailable or error");
}

/* plan.digest, when the carrier sends one (a multiquote node does: the
 * start of the SHA-256 of its plan version's files): MIN_DIGEST to
 * MAX_DIGEST lowercase hex digits, kept so that the carrier's operator can
 * later tell which files priced a saved quote. */
enum { MIN_DIGEST = 16, MAX_DIGEST = 64 };

static bool plan_digest(checker *k, json_t *digest, mq_result *r)
{
    if (!digest)
        return true;
    const char *s = json_string_value(digest);
    size_t n = s ? strlen(s) : 0;
    bool hex = s && n == json_string_length(digest) && n >= MIN_DIGEST && n <= MAX_DIGEST;
    for (size_t i = 0; hex && i < n; i++)
        hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (!hex)
        return bad(k,
                   "plan.digest: expected %d to %d lowercase hex digits (the digest of the "
                   "plan version's files)",
                   MIN_DIGEST, MAX_DIGEST);
    r->remote_plan_digest = arena_str(k, digest);
    return r->remote_plan_digest ? true : bad(k, "out of memory");
}

static bool plan_of(checker *k, json_t *plan, mq_result *r)
{
    if (!plan || json_is_null(plan)) {
        if (r->status == MQ_QUOTED)
            return bad(k, "plan: a quoted result names its plan {\"id\", \"version\"}");
        return true;
    }
    json_t *id = json_object_get(plan, "id"), *version = json_object_get(plan, "version");
    /* both name what rated the quote (the response's plan, docs/openapi.yaml:
     * non-empty strings): an empty version names no version */
    if (!json_is_string(id) || !json_is_string(version) || !json_string_length(id) ||
        !json_string_length(version))
        return bad(k, "plan: expected {\"id\", \"version\"} non-empty strings");
    r->remote_plan_id = arena_str(k, id);
    r->remote_plan_version = arena_str(k, version);
    if (!r->remote_plan_id || !r->remote_plan_version)
        return bad(k, "out of memory");
    return plan_digest(k, json_object_get(plan, "digest"), r);
}

static bool result_fields(checker *k, json_t *doc, const mq_remote_carrier *c, mq_result *r)
{
    if (!json_is_object(doc))
        return bad(k, "expected one result object");
    /* carrier and its id are optional (the name and rating shown are the
     * registry's); an id, when sent, is the one the registry gives */
    json_t *carrier = json_object_get(doc, "carrier");
    if (carrier && !json_is_null(carrier) && !json_is_object(carrier))
        return bad(k, "carrier: expected {\"id\": \"%s\", ...}", c->id);
    json_t *said = json_object_get(carrier, "id");
    if (said && !json_is_string(said))
        return bad(k, "carrier.id: expected the string \"%s\"", c->id);
    if (said && strcmp(json_string_value(said), c->id) != 0)
        return bad(k, "carrier.id: answered as %s, asked \"%s\"", quoted(k, said), c->id);
    if (!status_of(k, json_object_get(doc, "status"), &r->status) ||
        !plan_of(k, json_object_get(doc, "plan"), r) ||
        !strings(k, json_object_get(doc, "reasons"), "reasons", &r->reasons, &r->nreasons) ||
        !strings(k, json_object_get(doc, "notes"), "notes", &r->notes, &r->nnotes) ||
        !verifies(k, json_object_get(doc, "verifies"), r))
        return false;
    if (r->status != MQ_QUOTED) {
        if (r->nreasons == 0)
            return bad(k, "reasons: a %s result says why", mq_status_name(r->status));
        return true;
    }
    if (!premium(k, doc, r))
        return false;
    json_t *hc = json_object_get(doc, "health_class");
    if (k->in->line != MQ_LINE_TERM_LIFE || !hc || json_is_null(hc))
        return true;
    /* shown to the shopper as the class they were placed in: one of the
     * contract's, or the answer is not one */
    if (!json_is_string(hc) || mq_symbol_find(MQ_DOM_HEALTH_CLASS, json_string_value(hc)) < 0)
        return bad(k,
                   "health_class: %s is not a class of the contract (preferred_plus, "
                   "preferred, standard_plus, standard, tobacco_preferred, tobacco_standard)",
                   json_is_string(hc) ? quoted(k, hc) : "a non-string");
    r->health_class = arena_str(k, hc);
    return true;
}

/* A result naming the carrier (copies in the arena: results outlive a
 * registry, e.g. on the command line). */
static bool blank_result(const mq_remote_carrier *c, mq_arena *a, mq_result *out)
{
    *out = (mq_result){.carrier_id = mq_arena_strdup(a, c->id),
                       .carrier_name = mq_arena_strdup(a, c->name),
                       .carrier_rating = mq_arena_strdup(a, c->rating),
                       .metal = -1};
    return out->carrier_id && out->carrier_name && out->carrier_rating;
}

bool mq_remote_result_parse(const char *body, size_t len, const mq_input *in,
                            const mq_remote_carrier *c, mq_arena *a, mq_result *out, char *why,
                            size_t whylen)
{
    checker k = {.in = in, .line = mq_line_get(in->line), .a = a, .why = why, .whylen = whylen};
    if (!blank_result(c, a, out))
        return bad(&k, "out of memory");
    json_error_t je;
    json_t *doc = mq_jr_load(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        /* jansson's text quotes the token it stopped at, a control
         * character included: shown as '?', as quoted() would escape it */
        for (char *p = je.text; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        return bad(&k, "not JSON (%d:%d: %s)", je.line, je.column, je.text);
    }
    bool ok = result_fields(&k, doc, c, out);
    json_decref(doc);
    if (!ok)
        blank_result(c, a, out);
    return ok;
}

bool mq_remote_result_status(const mq_remote_carrier *c, mq_status status, const char *reason,
                             mq_arena *a, mq_result *out)
{
    if (!blank_result(c, a, out))
        return false;
    out->status = status;
    out->reasons = mq_arena_alloc(a, sizeof(char *));
    if (!out->reasons || !(out->reasons[0] = mq_arena_strdup(a, reason)))
        return false;
    out->nreasons = 1;
    return true;
}

int mq_remote_not_quoting(const mq_remote_registry *reg, const mq_input *in, mq_arena *a,
                          mq_result *out)
{
    int n = 0;
    if (!reg || in->ncarriers == 0)
        return 0;
    /* each carrier once, however often the request names it: out has room
     * for the registry's carriers, not for the request's list */
    bool *named = mq_arena_alloc(a, (size_t)reg->ncarriers);
    if (!named)
        return -1;
    memset(named, 0, (size_t)reg->ncarriers);
    for (int i = 0; i < in->ncarriers; i++) {
        const mq_remote_carrier *c = mq_remote_registry_find(reg, in->carriers[i]);
        if (!c || !c->remote || (c->lines & (1u << in->line)) || named[c - reg->carriers])
            continue;
        named[c - reg->carriers] = true;
        if (!out) {
            n++;
            continue;
        }
        const char *reason = mq_arena_printf(a, "%s does not quote %s insurance", c->name,
                                             mq_line_get(in->line)->words);
        if (!reason || !mq_remote_result_status(c, MQ_UNAVAILABLE, reason, a, &out[n]))
            return -1;
        n++;
    }
    return n;
}

bool mq_remote_plan_is_its_own(const mq_engine *e, const mq_remote_carrier *c, const mq_result *r,
                               char *why, size_t whylen)
{
    for (int i = 0; e && r->remote_plan_id && i < mq_engine_plan_count(e); i++) {
        mq_plan_info info;
        mq_plan_get_info(mq_engine_plan(e, i), &info);
        if (strcmp(info.plan_id, r->remote_plan_id) == 0 && strcmp(info.carrier_id, c->id) != 0) {
            snprintf(why, whylen, "plan.id: \"%s\" is a plan of carrier \"%s\", not of \"%s\"",
                     r->remote_plan_id, info.carrier_id, c->id);
            return false;
        }
    }
    return true;
}

bool mq_remote_answer_result(const mq_remote_answer *ans, const mq_input *in,
                             const mq_remote_carrier *c, const mq_engine *e, mq_arena *a,
                             mq_result *out)
{
    bool ok = true;
    if (ans->status == MQ_QUOTED) {
        char why[300];
        ok = mq_remote_result_parse(ans->body, ans->body_len, in, c, a, out, why, sizeof why) &&
             mq_remote_plan_is_its_own(e, c, out, why, sizeof why);
        if (!ok) {
            /* the field path and parser message are the operator's: they
             * tell a shopper nothing but that this carrier gave no quote */
            mq_remote_result_status(c, MQ_ERROR, MQ_REMOTE_NEUTRAL_REASON, a, out);
            if (ans->broke && ans->brokelen)
                snprintf(ans->broke, ans->brokelen, "the carrier's answer breaks the protocol: %s",
                         why);
        }
    } else {
        mq_remote_result_status(c, ans->status, ans->reason, a, out);
    }
    out->elapsed_ns = ans->elapsed_ns;
    return ok;
}

const char *mq_remote_answer_detail(const mq_remote_answer *ans)
{
    if (ans->detail)
        return ans->detail;
    return ans->broke && *ans->broke ? ans->broke : NULL;
}
