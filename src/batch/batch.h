/* batch.h -- batch rating, rate-impact analysis and synthetic books (prefix mq_batch_).
 *
 * A *book* is a file of quote requests, one policy per row: NDJSON (one
 * contract request per line) or CSV (one flat auto policy per row, columns
 * described in docs/batch.md). The pipeline (pipeline.c) streams a book
 * through the engine with constant memory: a reader thread cuts the input
 * into fixed-size chunks of rows, worker threads turn each row into an
 * mq_input and hand it to a row function that writes the row's output into
 * the chunk, and the calling thread passes each chunk's output, in input
 * order, to a sink. `batch` (rate.c) and `impact` (impact.c) are two pairs
 * of row function and sink; gen-book (book.c) writes synthetic books.
 *
 * Ownership: everything a row function gets (the input, its arena) lives
 * until the end of its chunk; what must outlive it is copied into the
 * output buffer. Buffers, layouts and impact reports are owned by the caller
 * and released with their _free function.
 */
#ifndef MQ_BATCH_H
#define MQ_BATCH_H

#include "engine.h"
#include "intake.h"
#include "model.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- Byte buffer ------------------------------------------------------ */

/* A growable byte buffer. Every append returns false (and sets oom) when
 * memory runs out or the buffer would pass MQ_BATCH_BUF_MAX; data is always
 * NUL-terminated when len > 0. */
typedef struct mq_batch_buf {
    char *data;
    size_t len, cap;
    bool oom;
} mq_batch_buf;

#define MQ_BATCH_BUF_MAX ((size_t)1 << 30)

bool mq_batch_buf_put(mq_batch_buf *b, const void *p, size_t n);
bool mq_batch_buf_puts(mq_batch_buf *b, const char *s);
bool mq_batch_buf_printf(mq_batch_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool mq_batch_buf_int(mq_batch_buf *b, int64_t v);
bool mq_batch_buf_money(mq_batch_buf *b, int64_t cents); /* "714.00", "-3.05" */
/* A CSV field: written as is, or in double quotes (quotes doubled) when it
 * holds a comma, quote, CR or LF. NULL writes nothing. */
bool mq_batch_buf_csv(mq_batch_buf *b, const char *s);
/* A JSON string literal with its quotes; bytes that are not UTF-8 (a CSV
 * book saved as Windows-1252) are written as \ufffd, so the JSON stays valid. */
bool mq_batch_buf_json_str(mq_batch_buf *b, const char *s);
void mq_batch_buf_free(mq_batch_buf *b);

/* ---- Books ---------------------------------------------------------------- */

typedef enum { MQ_BATCH_NDJSON, MQ_BATCH_CSV } mq_batch_format;

const char *mq_batch_format_name(mq_batch_format f); /* "ndjson", "csv" */
int mq_batch_format_find(const char *name);          /* -1 when unknown */

/* ---- CSV books (csvbook.c) -------------------------------------------------
 * The header row names the columns (docs/batch.md): policy columns
 * (effective_date, state, zip, bi_per_person, ...), driver N columns dN_*
 * and vehicle N columns vN_*, N from 1 to 20; extra_* columns are ignored. */

typedef struct mq_batch_layout mq_batch_layout;

/* The layout of a header row. NULL on an unknown, duplicate or missing
 * column, with "column X: message" in err. */
mq_batch_layout *mq_batch_layout_new(const char *const *names, int n, char *err, size_t errlen);
void mq_batch_layout_free(mq_batch_layout *l);
int mq_batch_layout_columns(const mq_batch_layout *l);

/* Converts one data row (n fields, NUL-terminated, as libcsv gave them)
 * into *in, allocated from `a`. With `ik`, a row that converts is then
 * checked against the reference data as mq_intake_check checks a JSON
 * request (ZIP codes in the state, the state's minimum limits, VINs), with
 * the same messages. On success returns true; *policy_id is the policy_id
 * cell (NULL when the layout has none or it is empty). On a bad row returns
 * false with errs->count > 0, each error's path the column name ("d1_dob");
 * with errs->count == 0 when the arena ran out. */
bool mq_batch_csv_row(const mq_batch_layout *l, const char *const *fields, int n,
                      const mq_intake *ik, mq_arena *a, mq_input *in, mq_req_errors *errs,
                      const char **policy_id);

/* ---- Pipeline (pipeline.c) -------------------------------------------------- */

/* One row of a book, as a row function sees it. */
typedef struct mq_batch_row {
    long line;                 /* input line the row starts on, 1-based */
    mq_batch_format format;    /* the book's format */
    const char *policy_id;     /* CSV policy_id, NDJSON extra.policy_id; NULL when none */
    const mq_input *in;        /* NULL when the row is invalid */
    const mq_req_errors *errs; /* the row's problems when invalid (paths: column or JSON path) */
} mq_batch_row;

/* Writes the output of one row into `out`; runs on a worker thread, rows of
 * a chunk in order, chunks in any order. `a` is the worker's arena (freed
 * after the chunk). Returns false only when out of memory. */
typedef bool (*mq_batch_row_fn)(void *ctx, const mq_batch_row *row, mq_arena *a, mq_batch_buf *out);
/* Called once on the calling thread, after the book's format is known and
 * before any sink call. Returns false to stop. */
typedef bool (*mq_batch_start_fn)(void *ctx, mq_batch_format format);
/* Receives each chunk's output, in input order, on the calling thread.
 * Returns false to stop (a write error); the sink reports it. */
typedef bool (*mq_batch_sink_fn)(void *ctx, const char *data, size_t len);

typedef struct mq_batch_job {
    FILE *in;                /* the book, read from its current position */
    const char *name;        /* for messages */
    int64_t size;            /* bytes, for the progress ETA; 0 when unknown */
    int threads;             /* rating threads (>= 1) */
    bool progress;           /* draw a progress line on stderr */
    const char *label;       /* progress line prefix, e.g. "batch" */
    const char *carrier;     /* when set, every request is restricted to this carrier */
    const mq_intake *intake; /* when set, rows are checked as `quote` checks a request */
    mq_batch_row_fn row;
    mq_batch_start_fn start; /* may be NULL */
    mq_batch_sink_fn sink;
    void *ctx;
    /* When set and it becomes non-zero (a signal handler's flag: a lock-free
     * atomic, so that the threads read it without a race), reading stops:
     * the rows already read are rated and written, nothing after them, and
     * the run returns MQ_BATCH_INTERRUPTED. May be NULL. */
    const atomic_int *cancel;
} mq_batch_job;

typedef struct mq_batch_stats {
    long rows;             /* data rows read (blank lines not counted) */
    long invalid;          /* rows that were not valid requests */
    long first_invalid;    /* line of the first invalid row, 0 when none */
    char first_error[400]; /* "line 7: column d1_dob: not a valid date ..." */
    long last_line;        /* line the last row written starts on, 0 when none */
    mq_batch_format format;
    double seconds; /* wall time */
} mq_batch_stats;

enum { MQ_BATCH_OK = 0, MQ_BATCH_FAIL = 1, MQ_BATCH_BAD_INPUT = 2, MQ_BATCH_INTERRUPTED = 3 };

/* Runs the book through the pipeline. Returns MQ_BATCH_OK, MQ_BATCH_FAIL
 * (read error, out of memory, a sink or start that returned false),
 * MQ_BATCH_BAD_INPUT (a CSV header that is not a valid layout, or a book
 * without a single policy: "NAME: the book is empty (no policies)"), with
 * a message in err, or MQ_BATCH_INTERRUPTED (job->cancel became true: the
 * sink got every row up to st->last_line, in order, and none after). Bad rows do not stop the
 * batch: they reach the row function with in == NULL, and are counted in *st. */
int mq_batch_run(const mq_batch_job *job, mq_batch_stats *st, char *err, size_t errlen);

/* "line 7: column d1_dob: not a valid date \"1990-02-30\"; column v1_year: ..."
 * (CSV rows name columns, NDJSON rows JSON paths). */
bool mq_batch_error_text(const mq_batch_row *row, mq_batch_buf *out);

/* Largest number of rows per chunk, and chunks per rating thread. */
enum { MQ_BATCH_CHUNK_ROWS = 256, MQ_BATCH_CHUNKS_PER_THREAD = 2 };

/* ---- Batch rating (rate.c) ------------------------------------------------------ */

typedef struct mq_batch_rate_ctx {
    const mq_engine *engine;
    int out;  /* an mq_batch_format, or -1: the book's own (set by the start function) */
    FILE *to; /* where the sink writes */
    /* CSV output: the header is yet to be written, before the first row's
     * (so a book without a row writes nothing) */
    bool header_due;
    /* set by mq_batch_rate_init when the batch is for one carrier */
    const char *carrier;
    mq_plan_info *plans;  /* that carrier's plans, in the engine's order */
    const mq_plan **plan; /* plan[i] is the plan plans[i] describes */
    int nplans;
} mq_batch_rate_ctx;

/* Prepares the context; `carrier` (may be NULL) is the job's carrier. With
 * a carrier, each row's plan is picked among that carrier's plans only (as
 * mq_engine_select would pick it) instead of scanning every plan per row.
 * False when out of memory. */
bool mq_batch_rate_init(mq_batch_rate_ctx *rc, const mq_engine *e, const char *carrier, int out,
                        FILE *to);
void mq_batch_rate_free(mq_batch_rate_ctx *rc);

/* The batch row function: rates the row with mq_rate_all (as `quote` does)
 * and writes one NDJSON line {"input_line", "policy_id", ...the contract's
 * response...}, or one CSV row per carrier result (columns in
 * MQ_BATCH_RESULT_HEADER). An invalid row becomes {"input_line", "status":
 * "invalid", "errors": [{"field", "message"}]} or a CSV row with status
 * "invalid" and the error text as its reason. */
bool mq_batch_rate_row(void *ctx, const mq_batch_row *row, mq_arena *a, mq_batch_buf *out);
/* Picks the output format (the book's, unless set); a CSV output's header
 * is written before the first row's output. */
bool mq_batch_rate_start(void *ctx, mq_batch_format format);
bool mq_batch_rate_sink(void *ctx, const char *data, size_t len);

#define MQ_BATCH_RESULT_HEADER                                                                     \
    "input_line,policy_id,carrier,plan_id,plan_version,status,total,premium,fees,term_months,"     \
    "tax_credit,net_premium,bi,pd,med,um,comp,coll,reason\n"

/* ---- Rate impact (impact.c, chart.c) --------------------------------------------- */

/* Driver age bands of the principal driver of the first vehicle. */
enum { MQ_BATCH_AGE_BANDS = 7 };
const char *mq_batch_age_band_name(int band); /* "16-24" ... "75+" */
int mq_batch_age_band(int age);               /* -1 below 16 */

typedef struct mq_batch_segment {
    long policies;      /* quoted under both versions */
    int64_t premium[2]; /* sum of totals (coverage premiums for coverages), cents */
    double pct_sum;     /* sum of per-policy changes, percent */
} mq_batch_segment;

typedef struct mq_batch_impact {
    const mq_plan *plan[2]; /* from, to */
    /* filled by the sink */
    long rows, invalid;
    long status[2][MQ_TIMEOUT + 1];             /* policies per status under each version */
    long moved[MQ_TIMEOUT + 1][MQ_TIMEOUT + 1]; /* status from -> status to */
    double *pct;   /* per-policy change in percent, quoted under both */
    int64_t *diff; /* per-policy change in cents */
    size_t n, cap;
    int64_t premium[2];          /* total premium of the policies quoted under both */
    mq_batch_segment zip3[1000]; /* by the first vehicle's garaging ZIP prefix */
    mq_batch_segment age[MQ_BATCH_AGE_BANDS];
    mq_batch_segment coverage[MQ_AUTO_NCOVERAGES]; /* policies carrying it under both */
    FILE *csv;                                     /* per-policy CSV, or NULL */
    bool sorted, write_failed;
} mq_batch_impact;

/* The per-policy CSV's header: a from and a to column for each coverage
 * of the plan's line (bi_from, bi_to ... coll_to for auto; property_from
 * ... med_pay_to for home and renters). false when it cannot be written. */
bool mq_batch_impact_header(const mq_batch_impact *im, FILE *f);

/* Row function and sink of `impact` (ctx is the mq_batch_impact). The row
 * function rates the row with both plans (mq_rate_plan); the sink writes
 * the per-policy CSV line and adds the row to the figures. */
bool mq_batch_impact_row(void *ctx, const mq_batch_row *row, mq_arena *a, mq_batch_buf *out);
bool mq_batch_impact_sink(void *ctx, const char *data, size_t len);

/* Sorts the changes; call once after the run, before the figures below. */
void mq_batch_impact_finish(mq_batch_impact *im);
/* Percentile p (0..100) of the sorted changes, by linear interpolation
 * between closest ranks (Excel's PERCENTILE.INC); NaN when n == 0. */
double mq_batch_percentile(const double *sorted, size_t n, double p);
double mq_batch_impact_mean(const mq_batch_impact *im); /* mean change, percent */
/* A percent change to print with 2 decimals: pct, but 0 when it would
 * print as -0.00 (a cent off 1,000.00 is -0.001%, shown 0.00). */
double mq_batch_pct_shown(double pct);
/* Policies whose change is more than `pct` percent up (sign > 0) or down. */
long mq_batch_impact_beyond(const mq_batch_impact *im, double pct, int sign);
/* The text summary (stdout in `impact`). */
void mq_batch_impact_print(FILE *f, const mq_batch_impact *im, const char *book);
/* The histogram's bins (chart.c): `n` bins `step` points wide, bin i
 * centred on (first + i) * step, so that one is centred on no change; they
 * span the 0.5th to 99.5th percentile of the changes and at least two bins
 * either side of 0, the end bins counting everything beyond. */
enum { MQ_BATCH_MAX_BINS = 60 };
typedef struct mq_batch_bins {
    double step; /* percent points: 0.5, 1, 2, 5, 10, 20, 50, ... */
    long first;  /* the first bin's centre, in steps */
    int n;       /* 5 to MQ_BATCH_MAX_BINS */
    long count[MQ_BATCH_MAX_BINS];
} mq_batch_bins;
/* Bins the sorted changes (after mq_batch_impact_finish). */
void mq_batch_impact_bins(const mq_batch_impact *im, mq_batch_bins *b);
/* The chart's subtitle: "CARRIER: N policies quoted under both versions;
 * mean +x%, median +y%", or, when none is, how many each version quoted. */
void mq_batch_impact_subtitle(const mq_batch_impact *im, char *out, size_t n);
/* The histogram of changes, drawn with cairo as a PNG written to `to`
 * (opened by the caller; `name` names it in messages). False with
 * "NAME: reason" in err. */
bool mq_batch_impact_png(const mq_batch_impact *im, FILE *to, const char *name, char *err,
                         size_t errlen);
void mq_batch_impact_free(mq_batch_impact *im);

/* ---- Synthetic books (book.c) ------------------------------------------------------ */

typedef struct mq_batch_gen {
    long n;        /* policies */
    uint64_t seed; /* the same seed gives the same book */
    mq_batch_format format;
    const int *states; /* MQ_DOM_STATE codes to draw from (OH, PA, TX supported) */
    int nstates;       /* 0: OH, PA and TX, weighted by population */
} mq_batch_gen;

/* Writes n synthetic auto policies: ages, vehicles, ZIPs, incidents and
 * coverages drawn from plausible distributions; effective dates from
 * 2026-07-01 to 2026-12-31. CSV books carry up to 4 drivers and 4 vehicles.
 * Returns false on a write error (errno set) or an unsupported state. */
bool mq_batch_gen_book(FILE *out, const mq_batch_gen *g);
bool mq_batch_gen_supports(int state);

#endif
