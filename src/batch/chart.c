/* chart.c -- the histogram of premium changes of `impact`, drawn with cairo into a PNG.
 *
 * The bins (mq_batch_impact_bins) are centred on whole multiples of a round
 * width (0.5, 1, 2, 5, 10, 20, 50... points, the smallest giving at most
 * MQ_BATCH_MAX_BINS bins), so one bin is centred on no change and drawn
 * grey, decreases green and increases red. They cover the 0.5th to 99.5th
 * percentile of the changes, and at least two bins either side of 0; changes
 * beyond either end are counted in the end bins, whose outer edges are left
 * unlabelled. However far the changes spread (a mistyped rate can move a
 * policy by thousands of percent), the width grows and the bins stay within
 * their fixed array. Bars are drawn to scale on a count axis with round
 * gridlines and room above the tallest bar for the legend; dashed lines
 * mark no change, the mean and the median. Only cairo's own text (the "toy"
 * font API) is used, so the chart needs no font library beyond what cairo
 * brings. The PNG goes to a stream the caller opened, so a path that cannot
 * be written is found before the book is rated, not after.
 */
#include "batch.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { WIDTH = 1000, HEIGHT = 560, MIN_SIDE_BINS = 2 };

static const double LEFT = 80, RIGHT = 30, TOP = 78, BOTTOM = 70;

/* The i-th round width: 0.5, 1, 2, 5, 10, 20, 50, ... points. */
static double round_step(int i)
{
    static const double mult[] = {1, 2, 5};
    return mult[(i + 2) % 3] * pow(10, (i + 2) / 3 - 1);
}

/* The centre index (of step-wide bins centred on multiples of step) of x. */
static double centre_of(double x, double step)
{
    return floor(x / step + 0.5);
}

void mq_batch_impact_bins(const mq_batch_impact *im, mq_batch_bins *b)
{
    *b = (mq_batch_bins){0};
    double p_lo = im->n ? mq_batch_percentile(im->pct, im->n, 0.5) : 0;
    double p_hi = im->n ? mq_batch_percentile(im->pct, im->n, 99.5) : 0;
    double lo = 0, hi = 0, step = 0.5;
    for (int i = 0; i < 3 * 40; i++) { /* 0.5 to 1e39 points: past any change of int64 cents */
        step = round_step(i);
        lo = fmin(-MIN_SIDE_BINS, centre_of(p_lo, step));
        hi = fmax(MIN_SIDE_BINS, centre_of(p_hi, step));
        if (hi - lo + 1 <= MQ_BATCH_MAX_BINS)
            break;
    }
    if (hi - lo + 1 > MQ_BATCH_MAX_BINS) /* not reached for finite changes */
        hi = lo + MQ_BATCH_MAX_BINS - 1;
    b->step = step;
    b->first = (long)lo;
    b->n = (int)(hi - lo) + 1;
    for (size_t i = 0; i < im->n; i++) {
        double k = centre_of(im->pct[i], step) - lo;
        k = k < 0 ? 0 : k > b->n - 1 ? b->n - 1 : k;
        b->count[(int)k]++;
    }
}

/* A round tick spacing, a multiple of the bin width, giving at most 12 ticks. */
static double tick_step(double range, double step)
{
    for (int i = 0; i < 3 * 40; i++) {
        double t = round_step(i);
        if (t >= step && range / t <= 12)
            return t;
    }
    return range;
}

static double nice_count_step(long max)
{
    double raw = (double)max / 5, p = pow(10, floor(log10(raw > 1 ? raw : 1)));
    return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double align)
{
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - te.width * align - te.x_bearing * (1 - align), y);
    cairo_show_text(cr, s);
}

/* Text at (x, y) in `size` points, smaller when it would be wider than `width`. */
static void fit_text(cairo_t *cr, double x, double y, const char *s, double size, double width)
{
    cairo_text_extents_t te;
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, s, &te);
    if (te.x_advance > width)
        cairo_set_font_size(cr, size * width / te.x_advance);
    text_at(cr, x, y, s, 0);
}

static void dashed_line(cairo_t *cr, double x, double y0, double y1, double r, double g, double b)
{
    static const double dash[] = {6, 4};
    cairo_save(cr);
    cairo_set_source_rgb(cr, r, g, b);
    cairo_set_line_width(cr, 2);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, x, y0);
    cairo_line_to(cr, x, y1);
    cairo_stroke(cr);
    cairo_restore(cr);
}

/* Where cairo writes the PNG, with the reason of a failed write. */
typedef struct png_out {
    FILE *to;
    int error; /* errno of the first failed write, 0 when none */
} png_out;

static cairo_status_t write_png(void *arg, const unsigned char *data, unsigned int len)
{
    png_out *out = arg;
    if (fwrite(data, 1, len, out->to) == len)
        return CAIRO_STATUS_SUCCESS;
    out->error = errno;
    return CAIRO_STATUS_WRITE_ERROR;
}

void mq_batch_impact_subtitle(const mq_batch_impact *im, char *out, size_t n)
{
    mq_plan_info pi[2];
    mq_plan_get_info(im->plan[0], &pi[0]);
    mq_plan_get_info(im->plan[1], &pi[1]);
    if (im->n == 0) /* a mean or median of nothing is not 0% */
        snprintf(out, n,
                 "%s: no policy quoted under both versions (%ld quoted under %s, %ld under %s)",
                 pi[0].carrier_name, im->status[0][MQ_QUOTED], pi[0].version,
                 im->status[1][MQ_QUOTED], pi[1].version);
    else
        snprintf(out, n, "%s: %zu %s quoted under both versions; mean %+.2f%%, median %+.2f%%",
                 pi[0].carrier_name, im->n, im->n == 1 ? "policy" : "policies",
                 mq_batch_pct_shown(mq_batch_impact_mean(im)),
                 mq_batch_pct_shown(mq_batch_percentile(im->pct, im->n, 50)));
}

bool mq_batch_impact_png(const mq_batch_impact *im, FILE *to, const char *name, char *err,
                         size_t errlen)
{
    mq_batch_bins bins;
    mq_batch_impact_bins(im, &bins);
    int nbins = bins.n;
    double step = bins.step;
    double lo = ((double)bins.first - 0.5) * step; /* the first bin's lower edge */
    double hi = lo + nbins * step;
    long max = 1;
    for (int b = 0; b < nbins; b++)
        max = bins.count[b] > max ? bins.count[b] : max;

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, WIDTH, HEIGHT);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    mq_plan_info pi[2];
    mq_plan_get_info(im->plan[0], &pi[0]);
    mq_plan_get_info(im->plan[1], &pi[1]);
    char title[256], sub[256];
    snprintf(title, sizeof title, "Premium change: %s %s -> %s", pi[0].plan_id, pi[0].version,
             pi[1].version);
    double mean = mq_batch_impact_mean(im), median = mq_batch_percentile(im->pct, im->n, 50);
    mq_batch_impact_subtitle(im, sub, sizeof sub);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    fit_text(cr, LEFT, 32, title, 18, WIDTH - LEFT - RIGHT);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    fit_text(cr, LEFT, 54, sub, 13, WIDTH - LEFT - RIGHT);
    cairo_set_font_size(cr, 13);

    double pw = WIDTH - LEFT - RIGHT, ph = HEIGHT - TOP - BOTTOM, y0 = TOP + ph;
    /* a seventh of the height above the tallest bar, for the legend */
    double ystep = nice_count_step((long)ceil((double)max * 7 / 6));
    double ymax = ceil((double)max * 7 / 6 / ystep) * ystep;
    /* gridlines and count labels */
    cairo_set_line_width(cr, 1);
    for (double y = 0; y <= ymax + 0.5; y += ystep) {
        double py = y0 - ph * y / ymax;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, LEFT, py);
        cairo_line_to(cr, LEFT + pw, py);
        cairo_stroke(cr);
        char lab[32];
        snprintf(lab, sizeof lab, "%.0f", y);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        text_at(cr, LEFT - 8, py + 4, lab, 1);
    }
    /* bars */
    double bw = pw / nbins;
    for (int b = 0; b < nbins; b++) {
        double h = ph * (double)bins.count[b] / ymax;
        long centre = bins.first + b;
        if (centre < 0)
            cairo_set_source_rgb(cr, 0.20, 0.55, 0.35);
        else if (centre == 0)
            cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
        else
            cairo_set_source_rgb(cr, 0.80, 0.33, 0.20);
        cairo_rectangle(cr, LEFT + b * bw + 1, y0 - h, bw - 2 > 1 ? bw - 2 : 1, h);
        cairo_fill(cr);
    }
    /* x axis: tick labels at round values */
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, LEFT, y0);
    cairo_line_to(cr, LEFT + pw, y0);
    cairo_stroke(cr);
    double tick = tick_step(hi - lo, step);
    for (double v = ceil(lo / tick) * tick; v <= hi + 1e-9; v += tick) {
        if (v < lo + step || v > hi - step)
            continue; /* the end bins are open: they hold everything beyond */
        double px = LEFT + (v - lo) / step * bw;
        char lab[32];
        if (fabs(v) < 1e-9)
            snprintf(lab, sizeof lab, "0%%");
        else
            snprintf(lab, sizeof lab, "%+g%%", v);
        cairo_move_to(cr, px, y0);
        cairo_line_to(cr, px, y0 + 5);
        cairo_stroke(cr);
        text_at(cr, px, y0 + 20, lab, 0.5);
    }
    char xlabel[160];
    snprintf(xlabel, sizeof xlabel,
             "change in the policy's total premium, percent (bins of %g centred on 0; the end "
             "bins hold everything beyond)",
             step);
    text_at(cr, LEFT + pw / 2, HEIGHT - 18, xlabel, 0.5);
    cairo_save(cr);
    cairo_translate(cr, 22, TOP + ph / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, "policies", 0.5);
    cairo_restore(cr);
    /* no change, mean, median */
    if (im->n) {
        dashed_line(cr, LEFT + (0 - lo) / step * bw, TOP, y0, 0.4, 0.4, 0.4);
        dashed_line(cr, LEFT + (fmin(fmax(mean, lo), hi) - lo) / step * bw, TOP, y0, 0.15, 0.35,
                    0.75);
        dashed_line(cr, LEFT + (fmin(fmax(median, lo), hi) - lo) / step * bw, TOP, y0, 0.55, 0.25,
                    0.65);
        cairo_set_font_size(cr, 12);
        cairo_set_source_rgb(cr, 0.15, 0.35, 0.75);
        text_at(cr, LEFT + pw - 4, TOP + 14, "--- mean", 1);
        cairo_set_source_rgb(cr, 0.55, 0.25, 0.65);
        text_at(cr, LEFT + pw - 4, TOP + 30, "--- median", 1);
        cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
        text_at(cr, LEFT + pw - 4, TOP + 46, "--- no change", 1);
    } else {
        cairo_set_font_size(cr, 16);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        text_at(cr, LEFT + pw / 2, TOP + ph / 3, "no policy is quoted under both versions", 0.5);
    }
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    png_out out = {.to = to};
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_write_to_png_stream(s, write_png, &out);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "%s: %s", name,
                 out.error ? strerror(out.error) : cairo_status_to_string(st));
        return false;
    }
    return true;
}
