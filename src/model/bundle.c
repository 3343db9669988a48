/* bundle.c -- auto and home (or renters) quoted together.
 *
 * A bundle request (docs/bundles.md) is the contract's envelope with an
 * "auto" part and a "home" or "renters" part. Each part is turned into a
 * request of its own line (sharing effective date, applicant and carriers)
 * and parsed by the ordinary parser, so every rule and error message is the
 * same; errors are named by their path in the bundle ("home.dwelling...").
 * Rating quotes both lines separately, then, for every carrier that quotes
 * both, both again with the request's `bundle` fact set, which is what a
 * plan's multi-line discount reads. Bundles are compared by annual cost
 * (auto terms are often 6 months, home 12) beside the best separate quotes.
 */
#include "request_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const envelope_keys[] = {"line", "effective_date", "applicant", "carriers"};

bool mq_req_is_bundle(const json_t *doc)
{
    const char *line = json_string_value(json_object_get(doc, "line"));
    return line && strcmp(line, "bundle") == 0;
}

static void add_error(mq_req_errors *errs, mq_arena *a, const char *path, const char *message)
{
    if (errs->count < (int)(sizeof errs->items / sizeof errs->items[0]))
        errs->items[errs->count] =
            (mq_req_error){mq_arena_strdup(a, path), mq_arena_strdup(a, message)};
    errs->count++;
}

static bool is_envelope_key(const char *key)
{
    for (size_t i = 0; i < sizeof envelope_keys / sizeof envelope_keys[0]; i++)
        if (strcmp(key, envelope_keys[i]) == 0)
            return true;
    return false;
}

/* The request of one part: the envelope plus the part's own fields. */
static json_t *part_request(json_t *doc, const char *line, json_t *part, const char *name,
                            mq_arena *a, mq_req_errors *errs)
{
    json_t *r = json_object();
    bool ok = r && json_object_set_new(r, "line", json_string(line)) == 0;
    for (size_t i = 1; ok && i < sizeof envelope_keys / sizeof envelope_keys[0]; i++) {
        json_t *v = json_object_get(doc, envelope_keys[i]);
        if (v)
            ok = json_object_set(r, envelope_keys[i], v) == 0;
    }
    const char *key;
    json_t *v;
    json_object_foreach(part, key, v)
    {
        if (is_envelope_key(key)) {
            char *path = mq_arena_printf(a, "%s.%s", name, key);
            add_error(errs, a, path ? path : name, "belongs at the top of the bundle request");
            continue;
        }
        ok = ok && json_object_set(r, key, v) == 0;
    }
    if (!ok) { /* out of memory: not a request with a part missing */
        json_decref(r);
        return NULL;
    }
    return r;
}

/* Copies the errors of one part's request to errs with the part's name in
 * front, except the envelope's ("applicant.address.zip"), which are the
 * bundle's own and copied only once: `report_envelope` is false for the
 * second part. */
static void copy_part_errors(const mq_req_errors *mine, const char *name, bool report_envelope,
                             mq_arena *a, mq_req_errors *errs)
{
    int shown = mine->count < 32 ? mine->count : 32;
    for (int i = 0; i < shown; i++) {
        const char *p = mine->items[i].path;
        size_t klen = strcspn(p, ".[");
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(klen < 63 ? klen : 63), p);
        bool envelope = !*p || is_envelope_key(key);
        if (envelope && !report_envelope)
            continue;
        const char *path = envelope ? p : mq_arena_printf(a, "%s.%s", name, p);
        add_error(errs, a, path ? path : p, mine->items[i].message);
    }
}

/* Parses one part, its errors named by their path in the bundle. */
static bool parse_part(json_t *request, const char *name, bool report_envelope, mq_arena *a,
                       mq_input *in, mq_req_errors *errs)
{
    mq_req_errors mine = {0};
    if (mq_req_from_json(request, a, in, &mine))
        return true;
    copy_part_errors(&mine, name, report_envelope, a, errs); /* none: out of memory */
    return false;
}

/* Member `key` of the bundle; NULL when absent or null (an optional or
 * missing member given as null counts as absent, as in every request). */
static json_t *member(const json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);
    return json_is_null(v) ? NULL : v;
}

/* The name of the property part: "renters" when only that is given. */
static const char *property_name(const json_t *doc)
{
    return !member(doc, "home") && member(doc, "renters") ? "renters" : "home";
}

/* "expected an object, got <type>" for `v` (member `key`), as requests say it. */
static void not_an_object(mq_req_errors *errs, mq_arena *a, const char *key, const json_t *v)
{
    const char *msg = mq_arena_printf(a, "expected an object, got %s", rq_type_name(v));
    add_error(errs, a, key, msg ? msg : "expected an object");
}

/* The bundle's own members: the envelope, the parts and an "extra" object. */
static void check_top_keys(json_t *doc, mq_arena *a, mq_req_errors *errs)
{
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "extra") == 0) {
            if (!json_is_object(v))
                not_an_object(errs, a, key, v);
        } else if (!is_envelope_key(key) && strcmp(key, "auto") != 0 && strcmp(key, "home") != 0 &&
                   strcmp(key, "renters") != 0) {
            add_error(errs, a, key, "unknown field");
        }
    }
}

/* Whether the parts can be read: an auto object and one home or renters object. */
static bool check_parts(const json_t *doc, mq_arena *a, mq_req_errors *errs)
{
    json_t *autos = member(doc, "auto"), *home = member(doc, "home"),
           *renters = member(doc, "renters"), *prop = home ? home : renters;
    int before = errs->count;
    if (!autos)
        add_error(errs, a, "auto", "is required");
    else if (!json_is_object(autos))
        not_an_object(errs, a, "auto", autos);
    if (home && renters)
        add_error(errs, a, "renters", "give home or renters, not both");
    else if (!prop)
        add_error(errs, a, "home", "is required (or renters)");
    else if (!json_is_object(prop))
        not_an_object(errs, a, property_name(doc), prop);
    return errs->count == before;
}

bool mq_req_bundle_from_json(json_t *doc, mq_arena *a, mq_bundle_input *b, mq_req_errors *errs)
{
    memset(b, 0, sizeof(*b));
    check_top_keys(doc, a, errs);
    if (!check_parts(doc, a, errs))
        return false;
    const char *prop_name = property_name(doc);
    b->property_line = strcmp(prop_name, "home") == 0 ? MQ_LINE_HOME : MQ_LINE_RENTERS;
    json_t *ra = part_request(doc, "auto", member(doc, "auto"), "auto", a, errs);
    json_t *rp = part_request(doc, prop_name, member(doc, prop_name), prop_name, a, errs);
    /* both parts are read even after an error, so every problem is listed (the
     * envelope's once, with the auto part's) */
    bool ok = ra && rp && parse_part(ra, "auto", true, a, &b->auto_in, errs);
    ok = ra && rp && parse_part(rp, prop_name, false, a, &b->property_in, errs) && ok;
    json_decref(ra);
    json_decref(rp);
    return ok && errs->count == 0;
}

bool mq_req_bundle_check(const json_t *bundle, mq_req_part_check check, const void *arg,
                         mq_arena *a, mq_req_errors *errs)
{
    /* json_t is not const-correct: building a part only adds references */
    json_t *doc = (json_t *)bundle;
    const char *prop_name = property_name(doc);
    int before = errs->count;
    const char *names[] = {"auto", prop_name};
    json_t *parts[] = {member(doc, "auto"), member(doc, prop_name)};
    for (int i = 0; i < 2; i++) {
        mq_req_errors ignored = {0}, mine = {0};
        json_t *request = part_request(doc, names[i], parts[i], names[i], a, &ignored);
        if (!request)
            return false; /* out of memory */
        bool ok = check(arg, request, a, &mine);
        json_decref(request);
        if (!ok && mine.count == 0)
            return false;
        copy_part_errors(&mine, names[i], i == 0, a, errs);
    }
    return errs->count == before;
}

/* ---- Rating ----------------------------------------------------------- */

static int64_t annual_cents(const mq_result *r)
{
    return r->term_months > 0 ? r->total_cents * 12 / r->term_months : r->total_cents;
}

/* A copy of `in` whose policy row says the request is a bundle. */
static bool bundled(const mq_input *in, int field, mq_arena *a, mq_input *out)
{
    *out = *in;
    size_t n = (size_t)mq_line_get(in->line)->nfields[MQ_ENT_POLICY];
    out->values[MQ_ENT_POLICY] = mq_arena_alloc(a, n * sizeof(double));
    if (!out->values[MQ_ENT_POLICY])
        return false;
    memcpy(out->values[MQ_ENT_POLICY], in->values[MQ_ENT_POLICY], n * sizeof(double));
    out->values[MQ_ENT_POLICY][field] = 1;
    return true;
}

bool mq_bundle_parts(const mq_bundle_input *b, mq_arena *a, mq_input *auto_in,
                     mq_input *property_in)
{
    return bundled(&b->auto_in, MQ_AP_BUNDLE, a, auto_in) &&
           bundled(&b->property_in, MQ_HP_BUNDLE, a, property_in);
}

static const mq_result *quoted_by(const mq_result *res, int n, const char *carrier)
{
    for (int i = 0; i < n; i++)
        if (res[i].status == MQ_QUOTED && strcmp(res[i].carrier_id, carrier) == 0)
            return &res[i];
    return NULL;
}

static int compare_bundles(const void *x, const void *y)
{
    const mq_bundle_quote *a = x, *b = y;
    if (a->annual_cents != b->annual_cents)
        return a->annual_cents < b->annual_cents ? -1 : 1;
    return strcmp(a->auto_r.carrier_id, b->auto_r.carrier_id);
}

static const mq_result *cheapest(const mq_result *res, int n)
{
    const mq_result *best = NULL;
    for (int i = 0; i < n; i++)
        if (res[i].status == MQ_QUOTED && (!best || annual_cents(&res[i]) < annual_cents(best)))
            best = &res[i];
    return best;
}

bool mq_bundle_rate(const mq_engine *e, const mq_bundle_input *b, mq_arena *a,
                    mq_bundle_result *out)
{
    return mq_bundle_rate_with(e, b, &(mq_rate_opts){0}, a, out);
}

bool mq_bundle_rate_with(const mq_engine *e, const mq_bundle_input *b, const mq_rate_opts *opts,
                         mq_arena *a, mq_bundle_result *out)
{
    memset(out, 0, sizeof(*out));
    mq_input ai, pi;
    if (!mq_bundle_parts(b, a, &ai, &pi))
        return false;
    /* which local carriers are compared: only the carrier selection's
     * (rate_here, asked_elsewhere); never a worksheet or totals only */
    mq_rate_opts which = {.rate_here = opts->rate_here,
                          .asked_elsewhere = opts->asked_elsewhere,
                          .carrier_arg = opts->carrier_arg};
    if (!mq_rate_all(e, &b->auto_in, &which, a, &out->auto_res, &out->nauto) ||
        !mq_rate_all(e, &b->property_in, &which, a, &out->property_res, &out->nproperty))
        return false;
    out->bundles = mq_arena_alloc(a, sizeof(mq_bundle_quote) * (size_t)(out->nauto + 1));
    if (!out->bundles)
        return false;
    for (int i = 0; i < out->nauto; i++) {
        const mq_result *ar = &out->auto_res[i];
        const mq_result *pr = quoted_by(out->property_res, out->nproperty, ar->carrier_id);
        if (ar->status != MQ_QUOTED || !pr)
            continue;
        mq_bundle_quote *q = &out->bundles[out->nbundles];
        if (!mq_rate_plan(ar->plan, &ai, &(mq_rate_opts){0}, a, &q->auto_r) ||
            !mq_rate_plan(pr->plan, &pi, &(mq_rate_opts){0}, a, &q->property_r))
            return false;
        if (q->auto_r.status != MQ_QUOTED || q->property_r.status != MQ_QUOTED)
            continue;
        q->annual_cents = annual_cents(&q->auto_r) + annual_cents(&q->property_r);
        q->separate_annual_cents = annual_cents(ar) + annual_cents(pr);
        out->nbundles++;
    }
    qsort(out->bundles, (size_t)out->nbundles, sizeof(mq_bundle_quote), compare_bundles);
    out->best_auto = cheapest(out->auto_res, out->nauto);
    out->best_property = cheapest(out->property_res, out->nproperty);
    if (out->best_auto && out->best_property)
        out->best_separate_cents = annual_cents(out->best_auto) + annual_cents(out->best_property);
    return true;
}

/* ---- Response ----------------------------------------------------------- */

static json_t *part_json(const mq_input *in, const mq_result *res, int n)
{
    char *text = mq_resp_text(in, res, n, NULL, NULL);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return doc;
}

static json_t *side(const mq_result *r)
{
    return json_pack("{s:s, s:o, s:i, s:o}", "carrier", r->carrier_id, "total",
                     mq_resp_money(r->total_cents), "term_months", r->term_months, "annual",
                     mq_resp_money(annual_cents(r)));
}

char *mq_resp_bundle_text(const mq_bundle_input *b, const mq_bundle_result *r,
                          const mq_resp_meta *meta)
{
    const char *prop = mq_line_get(b->property_line)->name;
    char eff[11];
    mq_date_format(b->auto_in.effective_date, eff);
    json_t *doc = json_object();
    bool ok = doc != NULL; /* every set checked: no answer with a part missing */
    if (ok && meta && meta->quote_id)
        ok = json_object_set_new(doc, "quote_id", json_string(meta->quote_id)) == 0;
    ok = ok && json_object_set_new(doc, "line", json_string("bundle")) == 0 &&
         json_object_set_new(doc, "effective_date", json_string(eff)) == 0;
    if (ok && meta && meta->created_at)
        ok = json_object_set_new(doc, "created_at", json_string(meta->created_at)) == 0;
    ok = ok &&
         json_object_set_new(doc, "auto", part_json(&b->auto_in, r->auto_res, r->nauto)) == 0 &&
         json_object_set_new(doc, prop,
                             part_json(&b->property_in, r->property_res, r->nproperty)) == 0;
    json_t *list = json_array();
    for (int i = 0; ok && list && i < r->nbundles; i++) {
        const mq_bundle_quote *q = &r->bundles[i];
        json_t *one = json_pack(
            "{s:{s:s, s:s, s:s}, s:o, s:o, s:o, s:o, s:o}", "carrier", "id", q->auto_r.carrier_id,
            "name", q->auto_r.carrier_name, "rating", q->auto_r.carrier_rating, "auto",
            side(&q->auto_r), prop, side(&q->property_r), "annual_total",
            mq_resp_money(q->annual_cents), "saving_vs_same_carrier_separately",
            mq_resp_money(q->separate_annual_cents - q->annual_cents), "saving_vs_best_separate",
            mq_resp_money(r->best_separate_cents - q->annual_cents));
        ok = json_array_append_new(list, one) == 0;
    }
    ok = json_object_set_new(doc, "bundles", list) == 0 && ok;
    json_t *best = json_null();
    if (r->best_auto && r->best_property)
        best =
            json_pack("{s:o, s:o, s:o}", "auto", side(r->best_auto), prop, side(r->best_property),
                      "annual_total", mq_resp_money(r->best_separate_cents));
    ok = json_object_set_new(doc, "best_separate", best) == 0 && ok;
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    char *text = mq_resp_dump(doc, false);
    json_decref(doc);
    return text;
}
