/* market.c -- public rules of a market that sit above carriers' plans.
 *
 * The ACA premium tax credit depends on every plan at once: the benchmark
 * is the second-lowest-cost silver plan in the household's area, priced
 * without tobacco surcharges. Its parameters (poverty guidelines, the
 * applicable-percentage bands, eligibility) change every year, so they are
 * data: a folder with market.yaml, chosen by the request's effective date.
 * After every health plan is rated, mq_market_apply re-rates the silver
 * plans without tobacco (totals only: no coverages, notes or reasons are
 * made, as only the totals are read), picks the benchmark, and sets each
 * result's gross premium, the credit it uses and the net premium (26
 * U.S.C. 36B as described in ../shared/reference/aca-health.md).
 */
#include "internal.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_GUIDELINE = 63 };

static double node_number(struct fy_node *n, bool *ok)
{
    size_t len;
    const char *s = n && fy_node_is_scalar(n) ? fy_node_get_scalar(n, &len) : NULL;
    char buf[64];
    if (!s || len == 0 || len >= sizeof buf) {
        *ok = false;
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno || !isfinite(v))
        *ok = false;
    return v;
}

static bool load_guidelines(mq_market *m, struct fy_node *g, mq_diags *d)
{
    for (int i = 0; i < 64; i++)
        m->guideline_first[i] = NAN;
    void *it = NULL;
    struct fy_node_pair *pair;
    bool ok = g && fy_node_is_mapping(g);
    while (ok && (pair = fy_node_mapping_iterate(g, &it))) {
        size_t len;
        const char *key = fy_node_get_scalar(fy_node_pair_key(pair), &len);
        char state[16];
        snprintf(state, sizeof state, "%.*s", (int)(len < 15 ? len : 15), key ? key : "");
        int code =
            strcmp(state, "default") == 0 ? DEFAULT_GUIDELINE : mq_symbol_find(MQ_DOM_STATE, state);
        struct fy_node *v = fy_node_pair_value(pair);
        bool num_ok = code >= 0;
        double first = node_number(fy_node_mapping_lookup_by_string(v, "first", 5), &num_ok);
        double add = node_number(fy_node_mapping_lookup_by_string(v, "additional", 10), &num_ok);
        if (!num_ok) {
            mq_diag_add(d, "%s:%d: poverty_guideline %s needs {first: N, additional: N}", m->file,
                        mq_yaml_line(fy_node_pair_key(pair)), state);
            return false;
        }
        m->guideline_first[code] = first;
        m->guideline_additional[code] = add;
    }
    if (!ok || isnan(m->guideline_first[DEFAULT_GUIDELINE])) {
        mq_diag_add(d, "%s: poverty_guideline needs a default entry", m->file);
        return false;
    }
    return true;
}

static bool load_bands(mq_market *m, struct fy_node *b, mq_diags *d)
{
    if (!b || !fy_node_is_sequence(b) || fy_node_sequence_item_count(b) < 1) {
        mq_diag_add(d, "%s: applicable_percentage must list [from, to, start, end] bands", m->file);
        return false;
    }
    m->nbands = fy_node_sequence_item_count(b);
    m->bands = calloc((size_t)m->nbands, sizeof(mq_band));
    if (!m->bands)
        return false;
    void *it = NULL;
    struct fy_node *row;
    for (int i = 0; (row = fy_node_sequence_iterate(b, &it)); i++) {
        bool ok = fy_node_is_sequence(row) && fy_node_sequence_item_count(row) == 4;
        double v[4] = {0};
        void *jt = NULL;
        struct fy_node *x;
        for (int j = 0; ok && (x = fy_node_sequence_iterate(row, &jt)); j++)
            v[j] = node_number(x, &ok);
        if (!ok || v[0] >= v[1] || (i && v[0] != m->bands[i - 1].to)) {
            mq_diag_add(d,
                        "%s:%d: band %d must be [from, to, start %%, end %%] following the "
                        "previous band",
                        m->file, mq_yaml_line(fy_node_sequence_get_by_index(row, 0)), i + 1);
            return false;
        }
        m->bands[i] = (mq_band){v[0], v[1], v[2], v[3]};
    }
    return true;
}

enum { MARKET_MAX_BYTES = 1024 * 1024 };

mq_market *mq_market_load(const char *dir, mq_diags *d)
{
    char file[4096];
    snprintf(file, sizeof file, "%s/market.yaml", dir);
    mq_market *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->file = strdup(file);
    char why[4200], *text;
    struct fy_document *doc = mq_yaml_load(file, MARKET_MAX_BYTES, &text, why, sizeof why);
    struct fy_node *root = doc ? fy_document_root(doc) : NULL;
    bool ok = root && fy_node_is_mapping(root);
    if (!doc)
        mq_diag_add(d, "%s", why);
    else if (!ok)
        mq_diag_add(d, "%s: not a valid market file (YAML mapping)", file);
    struct fy_node *hdr = ok ? fy_node_by_path(root, "/market", FY_NT, FYNWF_DONT_FOLLOW) : NULL;
    const char *id = hdr ? fy_node_get_scalar0(fy_node_by_path(hdr, "/id", FY_NT, 0)) : NULL;
    const char *line = hdr ? fy_node_get_scalar0(fy_node_by_path(hdr, "/line", FY_NT, 0)) : NULL;
    const char *eff =
        hdr ? fy_node_get_scalar0(fy_node_by_path(hdr, "/effective", FY_NT, 0)) : NULL;
    if (ok &&
        (!id || !line || mq_line_find(line) < 0 || !eff || !mq_date_parse(eff, &m->effective))) {
        mq_diag_add(d, "%s: market needs id, line and effective (YYYY-MM-DD)", file);
        ok = false;
    }
    const char *until = ok ? fy_node_get_scalar0(fy_node_by_path(hdr, "/until", FY_NT, 0)) : NULL;
    if (until && (!mq_date_parse(until, &m->until) || m->until < m->effective)) {
        mq_diag_add(d, "%s: market.until must be a date YYYY-MM-DD on or after market.effective",
                    file);
        ok = false;
    }
    if (ok) {
        m->id = strdup(id);
        m->line = (mq_line)mq_line_find(line);
        ok = load_guidelines(m, fy_node_by_path(root, "/poverty_guideline", FY_NT, 0), d) &&
             load_bands(m, fy_node_by_path(root, "/applicable_percentage", FY_NT, 0), d);
    }
    if (ok) {
        bool num_ok = true;
        struct fy_node *el = fy_node_by_path(root, "/eligible_ratio", FY_NT, 0);
        m->eligible_from = node_number(fy_node_sequence_get_by_index(el, 0), &num_ok);
        m->eligible_to = node_number(fy_node_sequence_get_by_index(el, 1), &num_ok);
        struct fy_node *bm = fy_node_by_path(root, "/benchmark", FY_NT, 0);
        const char *metal = fy_node_get_scalar0(fy_node_by_path(bm, "/metal", FY_NT, 0));
        m->benchmark_metal = metal ? mq_symbol_find(MQ_DOM_METAL, metal) : -1;
        m->benchmark_rank = (int)node_number(fy_node_by_path(bm, "/rank", FY_NT, 0), &num_ok);
        if (!num_ok || m->benchmark_metal < 0 || m->benchmark_rank < 1) {
            mq_diag_add(d, "%s: needs eligible_ratio [from, to] and benchmark {metal, rank}", file);
            ok = false;
        }
    }
    /* fy_node_get_scalar0 returns strings owned by the document */
    if (doc)
        fy_document_destroy(doc);
    free(text); /* after the document, which points into it */
    if (!ok) {
        mq_market_free(m);
        return NULL;
    }
    return m;
}

void mq_market_free(mq_market *m)
{
    if (!m)
        return;
    free(m->file);
    free(m->id);
    free(m->bands);
    free(m);
}

/* Applicable percentage (in percent) for an income ratio inside the bands. */
static double applicable_percentage(const mq_market *m, double ratio)
{
    for (int i = 0; i < m->nbands; i++) {
        const mq_band *b = &m->bands[i];
        bool last = i == m->nbands - 1;
        if (ratio >= b->from && (ratio < b->to || (last && ratio <= b->to)))
            return b->start + (b->end - b->start) * (ratio - b->from) / (b->to - b->from);
    }
    return NAN;
}

static int64_t cents_half_up(double dollars)
{
    return (int64_t)floor(dollars * 100 + 0.5 + 1e-7);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The benchmark: every plan of the benchmark metal in effect for this
 * household -- whatever the shopper filtered out of the results -- rated
 * without tobacco use; the rank-th cheapest that quotes (or the dearest). */
static bool benchmark(const mq_market *m, const mq_engine *e, const mq_input *in, mq_arena *a,
                      int64_t *out)
{
    mq_input plain = *in;
    int k = MQ_ENT_MEMBER;
    size_t cells = (size_t)in->count[k] * MQ_MEMBER_NFIELDS;
    int cap = mq_engine_plan_count(e) + 1;
    const mq_plan **plans = mq_arena_alloc(a, sizeof(*plans) * (size_t)cap);
    const char **ids = mq_arena_alloc(a, sizeof(*ids) * (size_t)cap);
    int64_t *prices = mq_arena_alloc(a, sizeof(int64_t) * (size_t)cap);
    plain.values[k] = mq_arena_alloc(a, (cells ? cells : 1) * sizeof(double));
    if (!plain.values[k] || !prices || !plans || !ids)
        return false;
    memcpy(plain.values[k], in->values[k], cells * sizeof(double));
    for (int32_t i = 0; i < in->count[k]; i++)
        plain.values[k][(size_t)i * MQ_MEMBER_NFIELDS + MQ_XM_TOBACCO] = 0;
    int n = mq_engine_select(e, in->line, in->state, in->effective_date, plans, ids, cap);
    int np = 0;
    for (int i = 0; i < n; i++) {
        if (!plans[i] || plans[i]->metal != m->benchmark_metal)
            continue;
        mq_result r;
        /* only the status and total are read: no coverages, notes or reasons */
        if (!mq_rate_plan(plans[i], &plain, &(mq_rate_opts){.totals_only = true}, a, &r))
            return false;
        if (r.status == MQ_QUOTED)
            prices[np++] = r.total_cents;
    }
    if (np == 0) {
        *out = -1;
        return true;
    }
    qsort(prices, (size_t)np, sizeof(int64_t), cmp_i64);
    *out = prices[(np < m->benchmark_rank ? np : m->benchmark_rank) - 1];
    return true;
}

bool mq_market_apply(const mq_market *m, const mq_engine *e, const mq_input *in, mq_result *res,
                     int n, mq_arena *a)
{
    const double *pol = in->values[MQ_ENT_POLICY];
    double size = pol[MQ_XP_HOUSEHOLD_SIZE], income = pol[MQ_XP_INCOME];
    int g = in->state >= 0 && in->state < 63 && !isnan(m->guideline_first[in->state])
                ? in->state
                : DEFAULT_GUIDELINE;
    double guideline = m->guideline_first[g] + m->guideline_additional[g] * (size - 1);
    double ratio = income / guideline;
    int64_t bench = -1, credit = 0;
    if (!benchmark(m, e, in, a, &bench))
        return false;
    const char *note = NULL;
    if (isnan(ratio) || size < 1) {
        note = "no premium tax credit: household size and income are needed";
    } else if (ratio < m->eligible_from) {
        note = mq_arena_printf(a,
                               "no premium tax credit: income is below %.0f%% of the poverty "
                               "guideline",
                               m->eligible_from * 100);
    } else if (ratio > m->eligible_to) {
        note = mq_arena_printf(a,
                               "no premium tax credit: income is above %.0f%% of the poverty "
                               "guideline",
                               m->eligible_to * 100);
    } else if (bench < 0) {
        note = "no premium tax credit: no silver plan is offered in this area";
    } else {
        double pct = applicable_percentage(m, ratio);
        int64_t annual = cents_half_up(income * pct / 100);
        int64_t monthly = (annual * 2 + 12) / 24; /* half up */
        credit = bench > monthly ? bench - monthly : 0;
        note = mq_arena_printf(a,
                               "benchmark (second-lowest silver) %lld.%02lld; expected "
                               "contribution %lld.%02lld a month (%.4f%% of income)",
                               (long long)(bench / 100), (long long)(bench % 100),
                               (long long)(monthly / 100), (long long)(monthly % 100), pct);
    }
    for (int i = 0; i < n; i++) {
        mq_result *r = &res[i];
        r->credit_note = note;
        if (r->status != MQ_QUOTED)
            continue;
        r->gross_cents = r->total_cents;
        r->credit_cents = credit < r->gross_cents ? credit : r->gross_cents;
        r->net_cents = r->gross_cents - r->credit_cents;
    }
    return true;
}
