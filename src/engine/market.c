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
 * U.S.C. 36B as described in ../shared/reference/aca-health.md); a plan of
 * a metal level the credit cannot be used for (catastrophic) gets none.
 * Each result records the benchmark plan version and its premium, so that
 * a saved quote is re-rated with that version (mq_rate_market_given)
 * rather than with whatever silver plans are loaded by then, and the
 * market's id and the digest of its market.yaml, so that requote can name
 * a market file edited since.
 * mq_market_load refuses parameters that cannot price every eligible
 * household (bands with gaps, a guideline of 0, ...), naming file:line.
 */
#include "internal.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_GUIDELINE = 63, MARKET_AT = 4200 };

/* The expected contribution is worked out exactly, in integers: income and
 * guideline in cents, band ratios and percentages in ten-thousandths (the
 * loader allows no more decimals), products in 128 bits. In doubles, an
 * annual contribution a hair below half a cent (52,342.09 for 3 people:
 * 3,363.89499999934) rounded up, and the credit was a cent off. */
__extension__ typedef __int128 wide;

enum { SCALE = 10000 }; /* band values in ten-thousandths */

static int64_t scaled(double v)
{
    return llround(v * SCALE);
}

/* Whether v has at most four decimals (a band or ratio value). */
static bool four_decimals(double v)
{
    return fabs(v * SCALE - (double)scaled(v)) < 1e-6;
}

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

/* "file:line" of node n in the market file, or just the file when the
 * node is missing (a section left out has no line). */
static const char *where(const mq_market *m, struct fy_node *n, char *buf, size_t size)
{
    int line = n ? mq_yaml_line(n) : 0;
    if (line > 0)
        snprintf(buf, size, "%s:%d", m->file, line);
    else
        snprintf(buf, size, "%s", m->file);
    return buf;
}

/* One poverty_guideline entry: the state (or "default") and its amounts,
 * the first person's above 0 and each additional person's 0 or more. */
static bool load_guideline(mq_market *m, struct fy_node_pair *pair, mq_diags *d)
{
    char at[MARKET_AT];
    struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
    size_t len = 0;
    const char *key = fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
    char state[16];
    snprintf(state, sizeof state, "%.*s", (int)(len < 15 ? len : 15), key ? key : "");
    int code =
        strcmp(state, "default") == 0 ? DEFAULT_GUIDELINE : mq_symbol_find(MQ_DOM_STATE, state);
    if (code < 0) {
        mq_diag_add(d, "%s: poverty_guideline: \"%s\" is not a state code (or default)",
                    where(m, k, at, sizeof at), state);
        return false;
    }
    bool ok = fy_node_is_mapping(v) && fy_node_mapping_item_count(v) == 2;
    double first = node_number(fy_node_mapping_lookup_by_string(v, "first", 5), &ok);
    double add = node_number(fy_node_mapping_lookup_by_string(v, "additional", 10), &ok);
    /* at most a million: the exact contribution's products stay in 128 bits */
    if (!ok || !(first > 0 && first <= 1e6) || !(add >= 0 && add <= 1e6)) {
        mq_diag_add(d,
                    "%s: poverty_guideline %s needs {first: N, additional: N}, first above "
                    "0 and additional 0 or more",
                    where(m, k, at, sizeof at), state);
        return false;
    }
    m->guideline_first[code] = first;
    m->guideline_additional[code] = add;
    return true;
}

static bool load_guidelines(mq_market *m, struct fy_node *g, mq_diags *d)
{
    char at[MARKET_AT];
    for (int i = 0; i < 64; i++)
        m->guideline_first[i] = NAN;
    void *it = NULL;
    struct fy_node_pair *pair;
    bool ok = g && fy_node_is_mapping(g);
    while (ok && (pair = fy_node_mapping_iterate(g, &it)))
        if (!load_guideline(m, pair, d))
            return false;
    if (!ok || isnan(m->guideline_first[DEFAULT_GUIDELINE])) {
        mq_diag_add(d, "%s: poverty_guideline needs a default entry", where(m, g, at, sizeof at));
        return false;
    }
    return true;
}

/* eligible_ratio: [from, to], 0 <= from < to (inclusive at both ends). */
static bool load_eligible(mq_market *m, struct fy_node *el, mq_diags *d)
{
    char at[MARKET_AT];
    bool ok = el && fy_node_is_sequence(el) && fy_node_sequence_item_count(el) == 2;
    m->eligible_from = node_number(fy_node_sequence_get_by_index(el, 0), &ok);
    m->eligible_to = node_number(fy_node_sequence_get_by_index(el, 1), &ok);
    if (!ok || !(m->eligible_from >= 0) || !(m->eligible_from < m->eligible_to)) {
        mq_diag_add(d,
                    "%s: eligible_ratio must be [from, to]: the income ratios that get a "
                    "credit, 0 <= from < to",
                    where(m, el, at, sizeof at));
        return false;
    }
    return true;
}

/* One band of applicable_percentage: [from, to, start %, end %], from < to,
 * starting where the previous band ends, each percentage 0 to 100. */
static bool load_band(mq_market *m, struct fy_node *row, int i, mq_diags *d)
{
    char at[MARKET_AT];
    bool ok = fy_node_is_sequence(row) && fy_node_sequence_item_count(row) == 4;
    double v[4] = {0};
    void *jt = NULL;
    struct fy_node *x;
    for (int j = 0; ok && (x = fy_node_sequence_iterate(row, &jt)); j++)
        v[j] = node_number(x, &ok);
    bool follows = i == 0 ? v[0] >= 0 : v[0] == m->bands[i - 1].to;
    for (int j = 0; j < 4; j++)
        ok = ok && four_decimals(v[j]) && fabs(v[j]) < 1e6;
    if (!ok || !(v[0] < v[1]) || !follows || !(v[2] >= 0 && v[2] <= 100) ||
        !(v[3] >= 0 && v[3] <= 100)) {
        mq_diag_add(d,
                    "%s: band %d must be [from, to, start %%, end %%] following the "
                    "previous band, from < to, the percentages 0 to 100, at most 4 decimals",
                    where(m, row, at, sizeof at), i + 1);
        return false;
    }
    m->bands[i] = (mq_band){v[0], v[1], v[2], v[3]};
    return true;
}

/* applicable_percentage: the bands, which must cover every eligible ratio
 * (load_eligible first): a ratio in no band would have no percentage. */
static bool load_bands(mq_market *m, struct fy_node *b, mq_diags *d)
{
    char at[MARKET_AT];
    if (!b || !fy_node_is_sequence(b) || fy_node_sequence_item_count(b) < 1) {
        mq_diag_add(d, "%s: applicable_percentage must list [from, to, start, end] bands",
                    where(m, b, at, sizeof at));
        return false;
    }
    m->nbands = fy_node_sequence_item_count(b);
    m->bands = calloc((size_t)m->nbands, sizeof(mq_band));
    if (!m->bands)
        return false;
    void *it = NULL;
    struct fy_node *row;
    for (int i = 0; (row = fy_node_sequence_iterate(b, &it)); i++)
        if (!load_band(m, row, i, d))
            return false;
    double from = m->bands[0].from, to = m->bands[m->nbands - 1].to;
    if (from > m->eligible_from || to < m->eligible_to) {
        mq_diag_add(d,
                    "%s: applicable_percentage covers ratios %g to %g, but eligible_ratio is "
                    "[%g, %g]: every eligible ratio needs a band",
                    where(m, b, at, sizeof at), from, to, m->eligible_from, m->eligible_to);
        return false;
    }
    return true;
}

/* benchmark: {metal, rank}, the rank a whole number from 1. */
static bool load_benchmark(mq_market *m, struct fy_node *bm, mq_diags *d)
{
    char at[MARKET_AT];
    const char *metal = fy_node_get_scalar0(fy_node_by_path(bm, "/metal", FY_NT, 0));
    m->benchmark_metal = metal ? mq_symbol_find(MQ_DOM_METAL, metal) : -1;
    bool ok = bm && fy_node_is_mapping(bm) && fy_node_mapping_item_count(bm) == 2;
    double rank = node_number(fy_node_by_path(bm, "/rank", FY_NT, 0), &ok);
    if (!ok || m->benchmark_metal < 0 || !(rank >= 1 && rank <= 100) || rank != floor(rank)) {
        mq_diag_add(d,
                    "%s: benchmark must be {metal: M, rank: N}: a metal level (bronze, "
                    "silver, ...) and a whole rank from 1",
                    where(m, bm, at, sizeof at));
        return false;
    }
    m->benchmark_rank = (int)rank;
    return true;
}

/* no_credit_metals: the metal levels the credit cannot be used for; when
 * left out, catastrophic (26 U.S.C. 36B(c)(3)(A) counts no month of a
 * catastrophic plan, 42 U.S.C. 18022(e)); [] lets it be used for every one. */
static bool load_no_credit(mq_market *m, struct fy_node *n, mq_diags *d)
{
    char at[MARKET_AT];
    m->no_credit_metals = n ? 0 : 1u << mq_symbol_find(MQ_DOM_METAL, "catastrophic");
    if (!n)
        return true;
    bool ok = fy_node_is_sequence(n);
    void *it = NULL;
    struct fy_node *x;
    while (ok && (x = fy_node_sequence_iterate(n, &it))) {
        const char *metal = fy_node_is_scalar(x) ? fy_node_get_scalar0(x) : NULL;
        int code = metal ? mq_symbol_find(MQ_DOM_METAL, metal) : -1;
        if (code < 0 || code == m->benchmark_metal) {
            mq_diag_add(d,
                        "%s: no_credit_metals must list metal levels (catastrophic, bronze, "
                        "...), not the benchmark's",
                        where(m, x, at, sizeof at));
            return false;
        }
        m->no_credit_metals |= 1u << code;
    }
    if (!ok)
        mq_diag_add(d, "%s: no_credit_metals must be a list of metal levels, e.g. [catastrophic]",
                    where(m, n, at, sizeof at));
    return ok;
}

/* Every top-level key is one the market knows: a misspelt one would be
 * ignored, and an optional rule lost with it. */
static bool known_keys(mq_market *m, struct fy_node *root, mq_diags *d)
{
    static const char *const keys[] = {"market",
                                       "poverty_guideline",
                                       "eligible_ratio",
                                       "applicable_percentage",
                                       "benchmark",
                                       "no_credit_metals",
                                       NULL};
    char at[MARKET_AT];
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(root, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        size_t len = 0;
        const char *key = fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
        bool known = false;
        for (int i = 0; key && keys[i] && !known; i++)
            known = strlen(keys[i]) == len && memcmp(keys[i], key, len) == 0;
        if (!known) {
            mq_diag_add(d,
                        "%s: unknown key \"%.*s\" (market, poverty_guideline, "
                        "eligible_ratio, applicable_percentage, benchmark, no_credit_metals)",
                        where(m, k, at, sizeof at), key ? (int)(len < 64 ? len : 64) : 0,
                        key ? key : "");
            return false;
        }
    }
    return true;
}

enum { MARKET_MAX_BYTES = 1024 * 1024 };

/* m->digest: the SHA-256 of the market file's text as read, in hex, as
 * `sha256sum market.yaml` prints it. A saved health quote records it, so
 * that a file edited in place since is named when the quote is re-rated. */
static bool market_digest(mq_market *m, const char *text, mq_diags *d)
{
    unsigned char sum[crypto_hash_sha256_BYTES];
    if (sodium_init() < 0) {
        mq_diag_add(d, "%s: libsodium did not initialise", m->file);
        return false;
    }
    crypto_hash_sha256(sum, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(m->digest, sizeof m->digest, sum, sizeof sum);
    return true;
}

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
        ok = market_digest(m, text, d) && known_keys(m, root, d) &&
             load_guidelines(m, fy_node_by_path(root, "/poverty_guideline", FY_NT, 0), d) &&
             load_eligible(m, fy_node_by_path(root, "/eligible_ratio", FY_NT, 0), d) &&
             load_bands(m, fy_node_by_path(root, "/applicable_percentage", FY_NT, 0), d) &&
             load_benchmark(m, fy_node_by_path(root, "/benchmark", FY_NT, 0), d) &&
             load_no_credit(m, fy_node_by_path(root, "/no_credit_metals", FY_NT, 0), d);
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

/* The band holding ratio income / guideline (both in cents, guideline > 0):
 * from <= ratio < to, the last band including its upper end; -1 if none. */
static int band_of(const mq_market *m, int64_t income, int64_t guideline)
{
    wide x = (wide)income * SCALE;
    for (int i = 0; i < m->nbands; i++) {
        const mq_band *b = &m->bands[i];
        wide lo = (wide)scaled(b->from) * guideline, hi = (wide)scaled(b->to) * guideline;
        if (x >= lo && (x < hi || (i == m->nbands - 1 && x <= hi)))
            return i;
    }
    return -1;
}

/* Annual expected contribution in cents, half up: income x the applicable
 * percentage, which rises linearly in band b from start to end; that
 * percentage in *pct (for the note only). */
static int64_t annual_contribution(const mq_band *b, int64_t income, int64_t guideline, double *pct)
{
    wide from = scaled(b->from), width = scaled(b->to) - from;
    wide start = scaled(b->start), rise = scaled(b->end) - start;
    /* percentage x SCALE = start + rise x (income x SCALE / guideline - from) / width */
    wide den = (wide)guideline * width;
    wide num = start * den + rise * ((wide)income * SCALE - from * guideline);
    *pct = (double)num / (double)den / SCALE;
    /* cents = income x percentage / 100 = income x num / (den x SCALE x 100) */
    wide q = den * SCALE * 100;
    return (int64_t)(((wide)income * num * 2 + q) / (q * 2));
}

/* A plan of the benchmark metal that quoted, and its premium. */
typedef struct priced {
    const mq_plan *plan;
    int64_t cents;
} priced;

/* Cheapest first; equal premiums by plan id, then version, so the plan
 * recorded as the benchmark is the same on every run. */
static int cmp_priced(const void *a, const void *b)
{
    const priced *x = a, *y = b;
    if (x->cents != y->cents)
        return (x->cents > y->cents) - (x->cents < y->cents);
    int c = strcmp(x->plan->plan_id, y->plan->plan_id);
    return c ? c : strcmp(x->plan->version, y->plan->version);
}

/* The request as the benchmark is priced: every member without tobacco
 * use (the members' values copied into the arena). */
static bool without_tobacco(const mq_input *in, mq_arena *a, mq_input *plain)
{
    *plain = *in;
    int k = MQ_ENT_MEMBER;
    size_t cells = (size_t)in->count[k] * MQ_MEMBER_NFIELDS;
    plain->values[k] = mq_arena_alloc(a, (cells ? cells : 1) * sizeof(double));
    if (!plain->values[k])
        return false;
    memcpy(plain->values[k], in->values[k], cells * sizeof(double));
    for (int32_t i = 0; i < in->count[k]; i++)
        plain->values[k][(size_t)i * MQ_MEMBER_NFIELDS + MQ_XM_TOBACCO] = 0;
    return true;
}

/* Plan p's premium for `plain` in *cents, -1 when it does not quote. Only
 * the status and total are read: no coverages, notes or reasons are made. */
static bool price(const mq_plan *p, const mq_input *plain, mq_arena *a, int64_t *cents)
{
    mq_result r;
    if (!mq_rate_plan(p, plain, &(mq_rate_opts){.totals_only = true}, a, &r))
        return false;
    *cents = r.status == MQ_QUOTED ? r.total_cents : -1;
    return true;
}

/* The benchmark chosen: every plan of the benchmark metal in effect for
 * this household -- whatever the shopper filtered out of the results --
 * rated without tobacco use; the rank-th cheapest that quotes (or the
 * dearest). */
static bool choose_benchmark(const mq_market *m, const mq_engine *e, const mq_input *plain,
                             mq_arena *a, mq_benchmark *out)
{
    int cap = mq_engine_plan_count(e) + 1;
    const mq_plan **plans = mq_arena_alloc(a, sizeof(*plans) * (size_t)cap);
    const char **ids = mq_arena_alloc(a, sizeof(*ids) * (size_t)cap);
    priced *quoted = mq_arena_alloc(a, sizeof(*quoted) * (size_t)cap);
    if (!plans || !ids || !quoted)
        return false;
    int n = mq_engine_select(e, plain->line, plain->state, plain->effective_date, plans, ids, cap);
    int np = 0;
    for (int i = 0; i < n; i++) {
        if (!plans[i] || plans[i]->metal != m->benchmark_metal)
            continue;
        int64_t cents;
        if (!price(plans[i], plain, a, &cents))
            return false;
        if (cents >= 0)
            quoted[np++] = (priced){plans[i], cents};
    }
    *out = (mq_benchmark){.plan = NULL, .cents = -1, .candidates = np};
    if (np == 0)
        return true;
    qsort(quoted, (size_t)np, sizeof(*quoted), cmp_priced);
    const priced *b = &quoted[(np < m->benchmark_rank ? np : m->benchmark_rank) - 1];
    out->plan = b->plan;
    out->cents = b->cents;
    return true;
}

/* The benchmark a saved quote recorded, rated again: the same plan
 * version, whatever was loaded since. When it no longer quotes (it cannot,
 * rated on the same request) there is no benchmark, and the result says
 * so rather than keeping a premium not worked out here. */
static bool given_benchmark(const mq_benchmark *given, const mq_input *plain, mq_arena *a,
                            mq_benchmark *out)
{
    *out = (mq_benchmark){.plan = NULL, .cents = -1, .candidates = 0};
    int64_t cents;
    if (!given->plan)
        return true;
    if (!price(given->plan, plain, a, &cents))
        return false;
    if (cents >= 0) /* it was one of them: at least 1 */
        *out = (mq_benchmark){.plan = given->plan,
                              .cents = cents,
                              .candidates = given->candidates > 1 ? given->candidates : 1};
    return true;
}

/* The benchmark of this quote, chosen or given, in arena memory that
 * every result points at; NULL when memory ran out. */
static const mq_benchmark *find_benchmark(const mq_market *m, const mq_engine *e,
                                          const mq_input *in, const mq_benchmark *given,
                                          mq_arena *a)
{
    mq_benchmark *b = mq_arena_alloc(a, sizeof(*b));
    mq_input plain;
    if (!b || !without_tobacco(in, a, &plain))
        return NULL;
    bool ok = given ? given_benchmark(given, &plain, a, b) : choose_benchmark(m, e, &plain, a, b);
    if (!ok)
        return NULL;
    b->market_id = m->id;
    b->market_digest = m->digest;
    return b;
}

/* Which plan the benchmark is, for the note: "second-lowest silver", or,
 * when fewer than `rank` plans of the metal quote (n of them, n > 0), "the
 * only silver plan" or "dearest of 2 silver plans" (the rules' fallback). */
static const char *benchmark_name(const mq_market *m, int n, mq_arena *a)
{
    static const char *const ordinal[] = {"", "lowest", "second-lowest", "third-lowest"};
    const char *metal = mq_symbol_name(MQ_DOM_METAL, m->benchmark_metal), *name;
    if (n == 1 && m->benchmark_rank > 1)
        name = mq_arena_printf(a, "the only %s plan", metal);
    else if (n < m->benchmark_rank)
        name = mq_arena_printf(a, "dearest of %d %s plans", n, metal);
    else if (m->benchmark_rank < 4)
        name = mq_arena_printf(a, "%s %s", ordinal[m->benchmark_rank], metal);
    else
        name = mq_arena_printf(a, "%s plan %d from the lowest", metal, m->benchmark_rank);
    return name ? name : metal; /* out of memory: the note still names the metal */
}

/* The note of a plan whose metal level the credit cannot be used for. */
static const char *no_credit_note(int metal, mq_arena *a)
{
    return mq_arena_printf(a, "no premium tax credit: it cannot be used for a %s plan",
                           mq_symbol_name(MQ_DOM_METAL, metal));
}

bool mq_market_apply(const mq_market *m, const mq_engine *e, const mq_input *in,
                     const mq_benchmark *given, mq_result *res, int n, mq_arena *a)
{
    const double *pol = in->values[MQ_ENT_POLICY];
    double size = pol[MQ_XP_HOUSEHOLD_SIZE], income = pol[MQ_XP_INCOME];
    int g = in->state >= 0 && in->state < 63 && !isnan(m->guideline_first[in->state])
                ? in->state
                : DEFAULT_GUIDELINE;
    double guideline = m->guideline_first[g] + m->guideline_additional[g] * (size - 1);
    double ratio = income / guideline;
    const mq_benchmark *found = find_benchmark(m, e, in, given, a);
    if (!found)
        return false;
    int64_t bench = found->cents, credit = 0;
    const char *note = NULL;
    int64_t income_c = isnan(ratio) ? 0 : llround(income * 100);
    int64_t guideline_c = isnan(ratio) ? 0 : llround(guideline * 100);
    int band = isnan(ratio) ? -1 : band_of(m, income_c, guideline_c);
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
    } else if (band < 0) {
        /* mq_market_load lets no eligible ratio fall outside the bands */
        note = "no premium tax credit: the market has no applicable percentage for this income";
    } else {
        double pct;
        int64_t annual = annual_contribution(&m->bands[band], income_c, guideline_c, &pct);
        int64_t monthly = (annual * 2 + 12) / 24; /* half up */
        credit = bench > monthly ? bench - monthly : 0;
        note = mq_arena_printf(a,
                               "benchmark (%s) %lld.%02lld; expected "
                               "contribution %lld.%02lld a month (%.4f%% of income)",
                               benchmark_name(m, found->candidates, a), (long long)(bench / 100),
                               (long long)(bench % 100), (long long)(monthly / 100),
                               (long long)(monthly % 100), pct);
    }
    for (int i = 0; i < n; i++) {
        mq_result *r = &res[i];
        bool barred = r->metal >= 0 && (m->no_credit_metals & (1u << r->metal));
        r->credit_note = barred ? no_credit_note(r->metal, a) : note;
        r->benchmark = found;
        if (r->status != MQ_QUOTED)
            continue;
        int64_t usable = barred ? 0 : credit;
        r->gross_cents = r->total_cents;
        r->credit_cents = usable < r->gross_cents ? usable : r->gross_cents;
        r->net_cents = r->gross_cents - r->credit_cents;
    }
    return true;
}
