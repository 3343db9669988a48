/* impact.c -- `multiquote impact`: a book rated under two versions of one plan, and what changed.
 *
 * The row function (worker threads) rates each row with both plan versions
 * (mq_rate_plan: the version is chosen explicitly, not by effective date)
 * and writes one fixed-size binary record -- statuses, totals, coverage
 * premiums and the row's segments -- followed by the row's line of the
 * per-policy CSV. The sink (calling thread, input order) writes that line
 * and adds the record to the figures: status counts under each version,
 * every per-policy change (kept, 16 bytes a policy, so that medians and
 * percentiles are exact), and sums by segment: the garaging ZIP prefix of
 * the first vehicle (the engine's API does not expose a plan's territory
 * variable), the age band of that vehicle's principal driver (both auto
 * only), and coverage, named as the plan's line names its coverages.
 */
#include "batch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rec {
    uint32_t size;    /* this record with its CSV text */
    uint32_t csv_len; /* bytes of CSV text after the record */
    int8_t status[2]; /* mq_status under each version; -1: invalid row */
    int8_t age_band;  /* -1 when unknown */
    int16_t zip3;     /* -1 when unknown */
    int64_t total[2];
    int64_t cov[2][MQ_AUTO_NCOVERAGES]; /* summed over vehicles; -1 when not carried */
} rec;

static const char *const age_bands[MQ_BATCH_AGE_BANDS] = {"16-24", "25-34", "35-44", "45-54",
                                                          "55-64", "65-74", "75+"};

const char *mq_batch_age_band_name(int band)
{
    return band >= 0 && band < MQ_BATCH_AGE_BANDS ? age_bands[band] : "?";
}

int mq_batch_age_band(int age)
{
    if (age < 16)
        return -1;
    if (age < 25)
        return 0;
    int band = (age - 25) / 10 + 1;
    return band < MQ_BATCH_AGE_BANDS ? band : MQ_BATCH_AGE_BANDS - 1;
}

/* ---- Row function (worker threads) --------------------------------------------- */

/* Segments of a request: ZIP prefix and driver age band of the first vehicle. */
static void segments(const mq_input *in, rec *r)
{
    r->zip3 = -1;
    r->age_band = -1;
    if (in->line != MQ_LINE_AUTO || in->count[MQ_ENT_VEHICLE] < 1)
        return;
    const double *v = mq_input_row(in, MQ_ENT_VEHICLE, 0);
    double zip = v[MQ_AV_GARAGING_ZIP], d = v[MQ_AV_PRINCIPAL_DRIVER];
    if (zip >= 0 && zip <= 99999)
        r->zip3 = (int16_t)(zip / 100);
    if (d >= 0 && d < in->count[MQ_ENT_DRIVER]) {
        double dob = mq_input_row(in, MQ_ENT_DRIVER, (int32_t)d)[MQ_AD_DATE_OF_BIRTH];
        if (!isnan(dob))
            r->age_band = (int8_t)mq_batch_age_band(mq_date_age((int32_t)dob, in->effective_date));
    }
}

static void coverages(const mq_result *res, int64_t cov[MQ_AUTO_NCOVERAGES])
{
    for (int k = 0; k < MQ_AUTO_NCOVERAGES; k++)
        cov[k] = -1;
    for (int i = 0; res->status == MQ_QUOTED && i < res->ncoverages; i++) {
        int k = res->coverages[i].coverage;
        if (k >= 0 && k < MQ_AUTO_NCOVERAGES)
            cov[k] = (cov[k] < 0 ? 0 : cov[k]) + res->coverages[i].cents;
    }
}

static bool reasons_csv(mq_batch_buf *out, const mq_result *r)
{
    if (!r->nreasons)
        return true;
    mq_batch_buf text = {0};
    bool ok = true;
    for (int i = 0; ok && i < r->nreasons; i++)
        ok = (!i || mq_batch_buf_puts(&text, "; ")) &&
             mq_batch_buf_puts(&text, r->reasons[i] ? r->reasons[i] : "");
    ok = ok && mq_batch_buf_csv(out, text.data);
    mq_batch_buf_free(&text);
    return ok;
}

/* The coverages of the line the plans rate (the two versions' line). */
static const mq_line_def *impact_line(const mq_batch_impact *im)
{
    mq_plan_info pi;
    mq_plan_get_info(im->plan[0], &pi);
    return mq_line_get(pi.line);
}

static int ncoverages(const mq_batch_impact *im)
{
    int n = impact_line(im)->ncoverages;
    return n < MQ_AUTO_NCOVERAGES ? n : MQ_AUTO_NCOVERAGES;
}

bool mq_batch_impact_header(const mq_batch_impact *im, FILE *f)
{
    const mq_line_def *l = impact_line(im);
    bool ok = fputs("input_line,policy_id,zip3,age_band,from_status,from_total,to_status,to_total,"
                    "change,change_pct",
                    f) >= 0;
    for (int k = 0; ok && k < ncoverages(im); k++)
        ok = fprintf(f, ",%s_from,%s_to", l->coverages[k].code, l->coverages[k].code) > 0;
    return ok && fputs(",from_reason,to_reason\n", f) >= 0;
}

static bool csv_line(mq_batch_buf *out, const mq_batch_row *row, const rec *r,
                     const mq_result res[2], int ncov)
{
    bool ok = mq_batch_buf_int(out, row->line) && mq_batch_buf_puts(out, ",") &&
              mq_batch_buf_csv(out, row->policy_id) && mq_batch_buf_puts(out, ",");
    if (ok && r->zip3 >= 0)
        ok = mq_batch_buf_printf(out, "%03d", r->zip3);
    ok = ok && mq_batch_buf_printf(out, ",%s,", r->age_band >= 0 ? age_bands[r->age_band] : "");
    if (!row->in) { /* invalid row: the error as from_reason */
        mq_batch_buf text = {0};
        /* to_total, change, change_pct, the coverages, then from_reason */
        ok = ok && mq_batch_error_text(row, &text) && mq_batch_buf_puts(out, "invalid,,invalid,,,");
        for (int k = 0; ok && k < ncov; k++)
            ok = mq_batch_buf_puts(out, ",,");
        ok = ok && mq_batch_buf_puts(out, ",") && mq_batch_buf_csv(out, text.data) &&
             mq_batch_buf_puts(out, ",\n");
        mq_batch_buf_free(&text);
        return ok;
    }
    bool both = r->status[0] == MQ_QUOTED && r->status[1] == MQ_QUOTED;
    for (int v = 0; ok && v < 2; v++) {
        ok = mq_batch_buf_puts(out, mq_status_name(res[v].status)) && mq_batch_buf_puts(out, ",");
        if (ok && r->status[v] == MQ_QUOTED)
            ok = mq_batch_buf_money(out, r->total[v]);
        ok = ok && mq_batch_buf_puts(out, ",");
    }
    if (ok && both) {
        int64_t d = r->total[1] - r->total[0];
        double pct = r->total[0] > 0 ? 100.0 * (double)d / (double)r->total[0] : 0;
        ok = mq_batch_buf_money(out, d) &&
             mq_batch_buf_printf(out, ",%.2f", mq_batch_pct_shown(pct));
    } else {
        ok = ok && mq_batch_buf_puts(out, ",");
    }
    for (int k = 0; ok && k < ncov; k++)
        for (int v = 0; ok && v < 2; v++)
            ok = mq_batch_buf_puts(out, ",") &&
                 (r->cov[v][k] < 0 || mq_batch_buf_money(out, r->cov[v][k]));
    ok = ok && mq_batch_buf_puts(out, ",") && reasons_csv(out, &res[0]) &&
         mq_batch_buf_puts(out, ",") && reasons_csv(out, &res[1]);
    return ok && mq_batch_buf_puts(out, "\n");
}

/* A row of a state plan p is not filed in: the engine's reason says the
 * carrier does not write the line there, which is not so when another of
 * its plans does (Keystone's Texas auto beside keystone-oh-auto); impact
 * compares p's versions only, so the reason names p and its states. False
 * when memory ran out. */
static bool say_plan_not_filed(const mq_plan *p, const mq_input *in, mq_arena *a, mq_result *r)
{
    mq_plan_info pi;
    mq_plan_get_info(p, &pi);
    for (int i = 0; i < pi.nstates; i++)
        if (pi.states[i] == in->state)
            return true;
    mq_batch_buf states = {0};
    bool ok = true;
    for (int i = 0; ok && i < pi.nstates; i++)
        ok = (!i || mq_batch_buf_puts(&states, ", ")) &&
             mq_batch_buf_puts(&states, mq_symbol_name(MQ_DOM_STATE, pi.states[i]));
    const char **reasons = ok ? mq_arena_alloc(a, sizeof *reasons) : NULL;
    const char *reason = reasons ? mq_arena_printf(a, "plan %s rates %s, not %s", pi.plan_id,
                                                   states.data ? states.data : "no state",
                                                   mq_symbol_name(MQ_DOM_STATE, in->state))
                                 : NULL;
    mq_batch_buf_free(&states);
    if (!reason)
        return false;
    reasons[0] = reason;
    r->reasons = reasons;
    r->nreasons = 1;
    return true;
}

bool mq_batch_impact_row(void *ctx, const mq_batch_row *row, mq_arena *a, mq_batch_buf *out)
{
    const mq_batch_impact *im = ctx;
    rec r = {.status = {-1, -1}, .zip3 = -1, .age_band = -1};
    mq_result res[2];
    if (row->in) {
        segments(row->in, &r);
        for (int v = 0; v < 2; v++) {
            if (!mq_rate_plan(im->plan[v], row->in, &(mq_rate_opts){0}, a, &res[v]))
                return false;
            if (res[v].status == MQ_UNAVAILABLE &&
                !say_plan_not_filed(im->plan[v], row->in, a, &res[v]))
                return false;
            r.status[v] = (int8_t)res[v].status;
            r.total[v] = res[v].total_cents;
            coverages(&res[v], r.cov[v]);
        }
    }
    size_t at = out->len;
    if (!mq_batch_buf_put(out, &r, sizeof r) || !csv_line(out, row, &r, res, ncoverages(im)))
        return false;
    r.csv_len = (uint32_t)(out->len - at - sizeof r);
    r.size = (uint32_t)(out->len - at);
    memcpy(out->data + at, &r, sizeof r);
    return true;
}

/* ---- Sink (calling thread, input order) --------------------------------------------- */

static void add_segment(mq_batch_segment *s, int64_t from, int64_t to, double pct)
{
    s->policies++;
    s->premium[0] += from;
    s->premium[1] += to;
    s->pct_sum += pct;
}

static bool add(mq_batch_impact *im, const rec *r)
{
    im->rows++;
    if (r->status[0] < 0) {
        im->invalid++;
        return true;
    }
    im->status[0][r->status[0]]++;
    im->status[1][r->status[1]]++;
    im->moved[r->status[0]][r->status[1]]++;
    if (r->status[0] != MQ_QUOTED || r->status[1] != MQ_QUOTED)
        return true;
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 4096;
        double *pct = realloc(im->pct, cap * sizeof *pct);
        if (pct)
            im->pct = pct;
        int64_t *diff = pct ? realloc(im->diff, cap * sizeof *diff) : NULL;
        if (!diff)
            return false;
        im->diff = diff;
        im->cap = cap;
    }
    int64_t d = r->total[1] - r->total[0];
    double pct = r->total[0] > 0 ? 100.0 * (double)d / (double)r->total[0] : 0;
    im->pct[im->n] = pct;
    im->diff[im->n++] = d;
    im->premium[0] += r->total[0];
    im->premium[1] += r->total[1];
    if (r->zip3 >= 0 && r->zip3 < 1000)
        add_segment(&im->zip3[r->zip3], r->total[0], r->total[1], pct);
    if (r->age_band >= 0)
        add_segment(&im->age[r->age_band], r->total[0], r->total[1], pct);
    for (int k = 0; k < MQ_AUTO_NCOVERAGES; k++)
        if (r->cov[0][k] >= 0 && r->cov[1][k] >= 0)
            add_segment(&im->coverage[k], r->cov[0][k], r->cov[1][k],
                        r->cov[0][k] > 0
                            ? 100.0 * (double)(r->cov[1][k] - r->cov[0][k]) / (double)r->cov[0][k]
                            : 0);
    return true;
}

bool mq_batch_impact_sink(void *ctx, const char *data, size_t len)
{
    mq_batch_impact *im = ctx;
    size_t at = 0;
    while (at + sizeof(rec) <= len) {
        rec r;
        memcpy(&r, data + at, sizeof r);
        if (r.size < sizeof r || r.size > len - at)
            break;
        if (im->csv && fwrite(data + at + sizeof r, 1, r.csv_len, im->csv) != r.csv_len) {
            im->write_failed = true;
            return false;
        }
        if (!add(im, &r)) {
            fprintf(stderr, "multiquote impact: out of memory\n");
            return false;
        }
        at += r.size;
    }
    return true;
}

/* ---- Figures -------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void mq_batch_impact_finish(mq_batch_impact *im)
{
    if (im->sorted)
        return;
    if (im->n) {
        qsort(im->pct, im->n, sizeof *im->pct, cmp_double);
        qsort(im->diff, im->n, sizeof *im->diff, cmp_int64);
    }
    im->sorted = true;
}

double mq_batch_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    double h = (double)(n - 1) * p / 100.0;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

double mq_batch_impact_mean(const mq_batch_impact *im)
{
    double sum = 0;
    for (size_t i = 0; i < im->n; i++)
        sum += im->pct[i];
    return im->n ? sum / (double)im->n : NAN;
}

long mq_batch_impact_beyond(const mq_batch_impact *im, double pct, int sign)
{
    long n = 0;
    for (size_t i = 0; i < im->n; i++)
        n += sign > 0 ? im->pct[i] > pct : im->pct[i] < -pct;
    return n;
}

void mq_batch_impact_free(mq_batch_impact *im)
{
    free(im->pct);
    free(im->diff);
    im->pct = NULL;
    im->diff = NULL;
    im->n = im->cap = 0;
}

/* ---- Text summary ------------------------------------------------------------------------ */

/* Money with thousands separators, "1,234,567.89" (sign when `sign`). */
static const char *money(int64_t cents, bool sign, char out[40])
{
    uint64_t u = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)(u / 100));
    size_t o = 0;
    if (cents < 0)
        out[o++] = '-';
    else if (sign)
        out[o++] = cents > 0 ? '+' : ' ';
    for (int i = 0; i < n; i++) {
        out[o++] = digits[i];
        if ((n - i - 1) % 3 == 0 && i < n - 1)
            out[o++] = ',';
    }
    snprintf(out + o, 40 - o, ".%02u", (unsigned)(u % 100));
    return out;
}

double mq_batch_pct_shown(double pct)
{
    char text[32];
    if (isnan(pct) || snprintf(text, sizeof text, "%.2f", pct) < 0)
        return pct;
    return strcmp(text, "-0.00") == 0 ? 0.0 : pct;
}

static const char *pct_text(double x, char out[24])
{
    if (isnan(x))
        snprintf(out, 24, "-");
    else
        snprintf(out, 24, "%+.2f%%", mq_batch_pct_shown(x));
    return out;
}

static double weighted(const int64_t premium[2])
{
    return premium[0] > 0 ? 100.0 * (double)(premium[1] - premium[0]) / (double)premium[0] : NAN;
}

static void segment_line(FILE *f, const char *name, const mq_batch_segment *s)
{
    char a[40], b[40], p1[24], p2[24];
    fprintf(f, "  %-9s %8ld %16s %16s %9s %9s\n", name, s->policies, money(s->premium[0], false, a),
            money(s->premium[1], false, b), pct_text(weighted(s->premium), p1),
            pct_text(s->policies ? s->pct_sum / (double)s->policies : NAN, p2));
}

static void segment_header(FILE *f, const char *title, const char *col)
{
    fprintf(f, "\n%s\n  %-9s %8s %16s %16s %9s %9s\n", title, col, "policies", "premium from",
            "premium to", "change", "mean");
}

void mq_batch_impact_print(FILE *f, const mq_batch_impact *im, const char *book)
{
    mq_plan_info pi[2];
    mq_plan_get_info(im->plan[0], &pi[0]);
    mq_plan_get_info(im->plan[1], &pi[1]);
    char e0[11], e1[11];
    mq_date_format(pi[0].effective, e0);
    mq_date_format(pi[1].effective, e1);
    fprintf(f, "Rate impact: %s (%s), plan %s\n", pi[0].carrier_name, pi[0].carrier_id,
            pi[0].plan_id);
    fprintf(f, "  from version %s (effective %s) to version %s (effective %s)\n", pi[0].version, e0,
            pi[1].version, e1);
    fprintf(f, "  book %s: %ld rows, %ld invalid\n", book, im->rows, im->invalid);

    fprintf(f, "\nPolicies %21s %14s\n", pi[0].version, pi[1].version);
    static const mq_status shown[] = {MQ_QUOTED, MQ_DECLINED, MQ_UNAVAILABLE, MQ_ERROR};
    for (size_t i = 0; i < sizeof shown / sizeof *shown; i++)
        fprintf(f, "  %-12s %17ld %14ld\n", mq_status_name(shown[i]), im->status[0][shown[i]],
                im->status[1][shown[i]]);
    long newly_out = 0, newly_in = 0;
    for (int s = MQ_DECLINED; s <= MQ_TIMEOUT; s++) {
        newly_out += im->moved[MQ_QUOTED][s];
        newly_in += im->moved[s][MQ_QUOTED];
    }
    fprintf(f,
            "  quoted under both: %zu; quoted before but not after: %ld; after but not before: "
            "%ld\n",
            im->n, newly_out, newly_in);
    if (im->n == 0) {
        fprintf(f, "\nNo policy is quoted under both versions: no premium change to report.\n");
        return;
    }
    char a[40], b[40], p[24];
    fprintf(f, "\nPremium change, the %zu policies quoted under both\n", im->n);
    fprintf(f, "  written premium   %s -> %s  %s\n", money(im->premium[0], false, a),
            money(im->premium[1], false, b), pct_text(weighted(im->premium), p));
    int64_t sum = 0;
    for (size_t i = 0; i < im->n; i++)
        sum += im->diff[i];
    double mean_d = (double)sum / (double)im->n;
    fprintf(f, "  mean change       %9s  %s per policy\n", pct_text(mq_batch_impact_mean(im), p),
            money((int64_t)llround(mean_d), true, a));
    size_t n = im->n; /* the median of the sorted cent changes */
    double med_d = n % 2 ? (double)im->diff[n / 2]
                         : ((double)im->diff[n / 2 - 1] + (double)im->diff[n / 2]) / 2;
    fprintf(f, "  median change     %9s  %s per policy\n",
            pct_text(mq_batch_percentile(im->pct, im->n, 50), p),
            money((int64_t)llround(med_d), true, a));
    static const double ps[] = {1, 5, 10, 25, 50, 75, 90, 95, 99};
    fprintf(f, "  percentiles      ");
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++)
        fprintf(f, " p%g %s", ps[i], pct_text(mq_batch_percentile(im->pct, im->n, ps[i]), p));
    fprintf(f, "\n  smallest %s, largest %s\n", pct_text(im->pct[0], a),
            pct_text(im->pct[im->n - 1], b));
    static const double th[] = {5, 10, 25};
    for (size_t i = 0; i < sizeof th / sizeof *th; i++) {
        long up = mq_batch_impact_beyond(im, th[i], 1),
             down = mq_batch_impact_beyond(im, th[i], -1);
        fprintf(f, "  changing by more than %2g%%: %9ld (%.1f%%): %ld up, %ld down\n", th[i],
                up + down, 100.0 * (double)(up + down) / (double)im->n, up, down);
    }

    bool auto_line = pi[0].line == MQ_LINE_AUTO; /* the territory and age segments' */
    if (auto_line) {
        segment_header(f, "By territory (garaging ZIP prefix of the first vehicle)", "zip3");
        for (int z = 0; z < 1000; z++)
            if (im->zip3[z].policies) {
                char name[12]; /* any int: z is 0..999, which gcc -O1 cannot see */
                snprintf(name, sizeof name, "%03d", z);
                segment_line(f, name, &im->zip3[z]);
            }
        segment_header(f, "By driver age band (principal driver of the first vehicle)", "age");
        for (int i = 0; i < MQ_BATCH_AGE_BANDS; i++)
            if (im->age[i].policies)
                segment_line(f, age_bands[i], &im->age[i]);
    }
    segment_header(f,
                   auto_line ? "By coverage (policies carrying it under both; premium summed over "
                               "vehicles)"
                             : "By coverage (policies carrying it under both)",
                   "coverage");
    const mq_line_def *l = mq_line_get(pi[0].line);
    for (int k = 0; k < ncoverages(im); k++)
        if (im->coverage[k].policies)
            segment_line(f, l->coverages[k].code, &im->coverage[k]);
    fprintf(f, "\n(change: of the segment's premium; mean: of the policies' own changes)\n");
}
