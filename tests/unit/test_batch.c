/* test_batch.c -- src/batch: CSV books, the pipeline, rate impact and synthetic books.
 *
 * Books are built in memory (fmemopen) and run through mq_batch_run with
 * test row functions and sinks that collect the output. Checked: buffer
 * formatting (money, CSV quoting, JSON strings); CSV header errors; that a
 * CSV row and the same policy as a JSON request give the same mq_input bit
 * for bit, over a generated book of 600 policies (more than two chunks) on
 * 3 threads; that lines without quotes, split without libcsv, give the
 * fields libcsv gives; every kind of bad row with its exact line number and
 * message, including a quoted newline before it; the reference data checks
 * (src/intake) on CSV and JSON rows; that output order does not depend
 * on the thread count; that a cancelled run writes every row read and
 * nothing after; percentiles; the chart's bins and pixels (no change,
 * changes of thousands of percent); a rate impact on a five-row book whose
 * premiums under both Keystone Ohio versions are worked out by hand in the
 * comments; and that gen-book is deterministic per seed.
 * Run from the repository root (meson's workdir for tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "batch.h"
#include "support.h"

#include <cairo.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYSTONE_OLD "plans/keystone/oh-auto-2026-01-01"
#define KEYSTONE_NEW "plans/keystone/oh-auto-2026-07-01"

#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s is %.12g, expected %.12g", #a, a_, b_);                                   \
    } while (0)

#define assert_long(a, b)                                                                          \
    do {                                                                                           \
        long long a_ = (a), b_ = (b);                                                              \
        if (a_ != b_)                                                                              \
            fail_msg("%s is %lld, expected %lld", #a, a_, b_);                                     \
    } while (0)

/* LeakSanitizer: fontconfig (cairo's text, for the chart) keeps its cache to the end. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

/* ---- Helpers ------------------------------------------------------------- */

typedef struct collect {
    mq_batch_buf out;
    mq_batch_format format;
    bool started;
} collect;

static bool collect_start(void *ctx, mq_batch_format format)
{
    collect *c = ctx;
    c->format = format;
    c->started = true;
    return true;
}

static bool collect_sink(void *ctx, const char *data, size_t len)
{
    collect *c = ctx;
    return mq_batch_buf_put(&c->out, data, len);
}

/* Row function: the row's line, then its input serialised, or its errors. */
static bool dump_row(void *ctx, const mq_batch_row *row, mq_arena *a, mq_batch_buf *out)
{
    (void)ctx;
    (void)a;
    bool ok = mq_batch_buf_printf(out, "%ld %s ", row->line, row->policy_id ? row->policy_id : "-");
    if (!row->in)
        return ok && mq_batch_error_text(row, out) && mq_batch_buf_puts(out, "\n");
    const mq_input *in = row->in;
    const mq_line_def *l = mq_line_get(in->line);
    ok = ok && mq_batch_buf_printf(out, "eff=%d state=%d", in->effective_date, in->state);
    for (int k = 0; ok && k < MQ_ENT_COUNT; k++) {
        ok = mq_batch_buf_printf(out, " n%d=%d", k, in->count[k]);
        size_t cells = (size_t)in->count[k] * (size_t)l->nfields[k];
        for (size_t i = 0; ok && i < cells; i++) { /* the bits, so NaN and -0 count */
            uint64_t bits;
            memcpy(&bits, &in->values[k][i], sizeof bits);
            ok = mq_batch_buf_printf(out, ",%llx", (unsigned long long)bits);
        }
        for (int i = 0; ok && i < in->count[k]; i++)
            ok = mq_batch_buf_printf(out, " id=%s", in->ids[k][i] ? in->ids[k][i] : "(null)");
        if (ok && in->start[k])
            for (int i = 0; ok && i <= in->count[MQ_ENT_DRIVER]; i++)
                ok = mq_batch_buf_printf(out, " s=%d", in->start[k][i]);
    }
    return ok && mq_batch_buf_puts(out, "\n");
}

/* The reference data (./data), as `quote` uses it. */
static const mq_intake *intake(void)
{
    char err[256];
    const mq_intake *ik = mq_intake_default(err, sizeof err);
    if (!ik)
        fail_msg("reference data: %s", err);
    return ik;
}

/* Runs `text` as a book through `row`, collecting the output. */
static int run_book(const char *text, int threads, mq_batch_row_fn row, void *row_ctx, collect *c,
                    mq_batch_stats *st, char *err, size_t errlen)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    *c = (collect){0};
    /* the row function's ctx is separate from the sink's when given */
    (void)row_ctx;
    mq_batch_job job = {.in = f,
                        .name = "book",
                        .threads = threads,
                        .intake = intake(),
                        .row = row,
                        .start = collect_start,
                        .sink = collect_sink,
                        .ctx = c};
    int rc = mq_batch_run(&job, st, err, errlen);
    fclose(f);
    return rc;
}

/* A generated book as text (caller frees). */
static char *gen_book(long n, uint64_t seed, mq_batch_format format, const char *state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    int st = state ? mq_symbol_find(MQ_DOM_STATE, state) : -1;
    mq_batch_gen g = {
        .n = n, .seed = seed, .format = format, .states = &st, .nstates = state ? 1 : 0};
    assert_true(mq_batch_gen_book(f, &g));
    assert_int_equal(fclose(f), 0);
    return text;
}

/* ---- Buffers ------------------------------------------------------------- */

static void test_buf_formats(void **state)
{
    (void)state;
    mq_batch_buf b = {0};
    assert_true(mq_batch_buf_money(&b, 71400) && mq_batch_buf_puts(&b, "|") &&
                mq_batch_buf_money(&b, -305) && mq_batch_buf_puts(&b, "|") &&
                mq_batch_buf_money(&b, 7) && mq_batch_buf_puts(&b, "|") &&
                mq_batch_buf_int(&b, -1234567890123LL));
    assert_string_equal(b.data, "714.00|-3.05|0.07|-1234567890123");
    b.len = 0;
    assert_true(mq_batch_buf_csv(&b, "plain") && mq_batch_buf_puts(&b, ",") &&
                mq_batch_buf_csv(&b, "a,b") && mq_batch_buf_puts(&b, ",") &&
                mq_batch_buf_csv(&b, "say \"hi\"\nthere") && mq_batch_buf_csv(&b, NULL));
    assert_string_equal(b.data, "plain,\"a,b\",\"say \"\"hi\"\"\nthere\"");
    b.len = 0;
    assert_true(mq_batch_buf_json_str(&b, "q\"b\\\x01"));
    assert_string_equal(b.data, "\"q\\\"b\\\\\\u0001\"");
    /* text that is not UTF-8 (a Windows-1252 book's "\xE9") cannot reach the
     * JSON: each bad byte is U+FFFD; valid sequences of 2 to 4 bytes stay */
    b.len = 0;
    assert_true(mq_batch_buf_json_str(&b, "caf\xE9|\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80|"
                                          "\xED\xA0\x80|\xC0\xAF|\xF4\x90\x80\x80|\xE2\x82"));
    assert_string_equal(b.data, "\"caf\\ufffd|\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80|"
                                "\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd|"
                                "\\ufffd\\ufffd\"");
    mq_batch_buf_free(&b);
    assert_int_equal(mq_batch_format_find("csv"), MQ_BATCH_CSV);
    assert_int_equal(mq_batch_format_find("ndjson"), MQ_BATCH_NDJSON);
    assert_int_equal(mq_batch_format_find("xml"), -1);
}

/* ---- CSV layout -------------------------------------------------------------- */

static void layout_error(const char *const *names, int n, const char *want)
{
    char err[256] = "";
    mq_batch_layout *l = mq_batch_layout_new(names, n, err, sizeof err);
    if (l) {
        mq_batch_layout_free(l);
        fail_msg("layout accepted, expected \"%s\"", want);
    }
    assert_string_equal(err, want);
}

static void test_layout_errors(void **state)
{
    (void)state;
    const char *ok[] = {
        "effective_date", "state",     "zip",       "bi_per_person",     "bi_per_accident",
        "pd_limit",       "d1_dob",    "d1_gender", "d1_marital_status", "d1_first_licensed",
        "v1_year",        "v1_symbol", "extra_note"};
    char err[256];
    mq_batch_layout *l = mq_batch_layout_new(ok, 13, err, sizeof err);
    assert_non_null(l);
    assert_int_equal(mq_batch_layout_columns(l), 13);
    mq_batch_layout_free(l);
    const char *unknown[] = {"effective_date", "stat"};
    layout_error(
        unknown, 2,
        "column \"stat\": unknown column (see docs/batch.md; extra_* columns are ignored)");
    const char *dup[] = {"effective_date", "zip", "zip"};
    layout_error(dup, 3, "column zip: appears twice (columns 2 and 3)");
    layout_error(ok, 5, "column pd_limit: is required");
    const char *no_gender[] = {"effective_date",    "state",    "zip",      "bi_per_person",
                               "bi_per_accident",   "pd_limit", "d1_dob",   "d1_marital_status",
                               "d1_first_licensed", "v1_year",  "v1_symbol"};
    layout_error(no_gender, 11, "column d1_gender: is required");
    const char *far[] = {"d21_dob"};
    layout_error(far, 1, "column d21_dob: at most 20 drivers");
    const char *um[] = {"um_per_person"};
    layout_error(um, 1, "column effective_date: is required");
}

/* A spreadsheet's empty trailing columns (",," after the last name, and
 * on every row) are no error: the rows give the input they give without
 * them. A value under a column the header leaves unnamed is one. */
static void test_unnamed_columns(void **state)
{
    (void)state;
    const char *row = "2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,"
                      "2008-07-01,2022,5";
    const char *names = "effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,"
                        "d1_gender,d1_marital_status,d1_first_licensed,v1_year,v1_symbol";
    char plain[1024], wide[1024];
    snprintf(plain, sizeof plain, "%s\n%s\n", names, row);
    snprintf(wide, sizeof wide, "%s,,\r\n%s,,\r\n%s,,\"a note\"\r\n", names, row, row);
    collect a, b;
    mq_batch_stats sa, sb;
    char err[256];
    assert_int_equal(run_book(plain, 1, dump_row, NULL, &a, &sa, err, sizeof err), MQ_BATCH_OK);
    assert_int_equal(run_book(wide, 1, dump_row, NULL, &b, &sb, err, sizeof err), MQ_BATCH_OK);
    assert_long(sb.rows, 2);
    assert_long(sb.invalid, 1);
    const char *second = strchr(b.out.data, '\n') + 1;
    assert_true((size_t)(second - b.out.data) == a.out.len);
    assert_memory_equal(b.out.data, a.out.data, a.out.len);
    assert_string_equal(second, "3 - line 3: column #14: has a value, but the header names no "
                                "column here (name it; extra_* columns are ignored)\n");
    mq_batch_buf_free(&a.out);
    mq_batch_buf_free(&b.out);
}

/* Lines that end in a bare CR (CSV as old Mac spreadsheets save it) are
 * lines: every row is read, none lost with the header, and each is named
 * by its own line number, as with LF or CR LF endings, mixed or not. */
static void test_cr_line_endings(void **state)
{
    (void)state;
    const char *row = "2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,"
                      "2008-07-01,2022,5";
    const char *bad = "2026-03-01,OH,43215,100000,300000,100000,1990-02-30,female,married,"
                      "2008-07-01,2022,5";
    const char *names = "effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,"
                        "d1_gender,d1_marital_status,d1_first_licensed,v1_year,v1_symbol";
    const char *want = "line 3: column d1_dob: not a valid date \"1990-02-30\"";
    char book[2048];
    const char *const endings[][5] = {{"\r", "\r", "\r", "\r", ""},
                                      {"\r\n", "\r", "\n", "\r", "\r\n"}};
    for (size_t k = 0; k < 2; k++) {
        const char *const *e = endings[k];
        snprintf(book, sizeof book, "%s%s%s%s%s%s%s%s\"%s\"%s", names, e[0], row, e[1], bad, e[2],
                 row, e[3], "x", e[4]);
        /* the last row: a quoted lone field, too few fields (line 5) */
        collect c;
        mq_batch_stats st;
        char err[256];
        assert_int_equal(run_book(book, 2, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
        assert_long(st.rows, 4);
        assert_long(st.invalid, 2);
        assert_string_equal(st.first_error, want);
        assert_true(strncmp(c.out.data, "2 - eff=", 8) == 0);
        assert_non_null(strstr(c.out.data, "\n3 - line 3: column d1_dob: not a valid date"));
        assert_non_null(strstr(c.out.data, "\n4 - eff="));
        assert_non_null(strstr(c.out.data, "\n5 - line 5: has 1 field, the header has 12\n"));
        mq_batch_buf_free(&c.out);
    }
}

/* Books joined with `cat`, each with its header (and byte order mark): the
 * header again is one invalid row saying so, not a list of a cell's errors
 * per column; the rows around it are read as usual. */
static void test_header_again(void **state)
{
    (void)state;
    const char *names = "policy_id,effective_date,state,zip,bi_per_person,bi_per_accident,"
                        "pd_limit,d1_dob,d1_gender,d1_marital_status,d1_first_licensed,v1_year,"
                        "v1_symbol,";
    const char *row = "P1,2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,"
                      "2008-07-01,2022,5,";
    char book[2048];
    snprintf(book, sizeof book, "\xEF\xBB\xBF%s\r\n%s\r\n\xEF\xBB\xBF%s\r\n%s\r\n", names, row,
             names, row);
    collect c;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(book, 2, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.rows, 3);
    assert_long(st.invalid, 1);
    assert_string_equal(st.first_error,
                        "line 3: the header row again (books joined with their headers?)");
    assert_true(strncmp(c.out.data, "2 P1 eff=", 9) == 0);
    assert_non_null(strstr(c.out.data, "\n3 - line 3: the header row again (books joined with "
                                       "their headers?)\n4 P1 eff="));
    mq_batch_buf_free(&c.out);
}

/* ---- CSV rows and JSON requests give the same input ------------------------------ */

static void test_csv_equals_json(void **state)
{
    (void)state;
    char *csv = gen_book(600, 42, MQ_BATCH_CSV, NULL);
    char *ndjson = gen_book(600, 42, MQ_BATCH_NDJSON, NULL);
    collect a, b;
    mq_batch_stats sa, sb;
    char err[256];
    assert_int_equal(run_book(csv, 3, dump_row, NULL, &a, &sa, err, sizeof err), MQ_BATCH_OK);
    assert_int_equal(run_book(ndjson, 3, dump_row, NULL, &b, &sb, err, sizeof err), MQ_BATCH_OK);
    assert_int_equal(a.format, MQ_BATCH_CSV);
    assert_int_equal(b.format, MQ_BATCH_NDJSON);
    assert_long(sa.rows, 600);
    assert_long(sb.rows, 600);
    assert_long(sa.invalid, 0);
    assert_long(sb.invalid, 0);
    /* the same lines but for the line numbers: CSV row i is on line i + 1 */
    assert_non_null(a.out.data);
    assert_non_null(b.out.data);
    char *pa = a.out.data, *pb = b.out.data;
    for (long i = 1; i <= 600; i++) {
        long la = strtol(pa, &pa, 10), lb = strtol(pb, &pb, 10);
        assert_long(la, i + 1);
        assert_long(lb, i);
        char *ea = strchr(pa, '\n'), *eb = strchr(pb, '\n');
        assert_non_null(ea);
        assert_non_null(eb);
        if (ea - pa != eb - pb || memcmp(pa, pb, (size_t)(ea - pa)) != 0)
            fail_msg("policy %ld differs:\ncsv:  %.*s\njson: %.*s", i, (int)(ea - pa), pa,
                     (int)(eb - pb), pb);
        pa = ea + 1;
        pb = eb + 1;
    }
    char want[32];
    snprintf(want, sizeof want, " P%08d ", 600);
    assert_non_null(strstr(a.out.data, want)); /* policy ids come through */
    mq_batch_buf_free(&a.out);
    mq_batch_buf_free(&b.out);
    free(csv);
    free(ndjson);
}

/* ---- Bad rows -------------------------------------------------------------------- */

#define HEADER                                                                                     \
    "policy_id,effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,"            \
    "d1_gender,d1_marital_status,d1_first_licensed,d1_incidents,v1_year,v1_symbol,"                \
    "v1_principal_driver,v1_comp_deductible,v1_coll_deductible\n"

static void test_bad_rows(void **state)
{
    (void)state;
    const char *book =
        "\xEF\xBB\xBF" HEADER /* line 1, after a byte order mark */
        "A1,2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,,"
        "2022,5,,500,500\n" /* 2: good */
        "A2,2026-03-01,OH,43215,100000,300000,100000,1990-02-30,female,married,2008-07-01,,"
        "2022,5,,500,500\n" /* 3: a date */
        "\n"                /* 4: blank, skipped */
        "\"A5,\nsplit\",2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,"
        "2008-07-01,\"speeding:2025-01-10:12;\n at_fault_accident:2024-06-02:4200\",2022,5,1,,"
        "\n" /* 5-7: good, quoted newlines */
        "A8,2026-03-01,OH,4321,100000,50000,100000,1990-06-15,femme,married,1989-01-01,"
        "speeding:2025-01-01,2022,30,2,,500\n" /* 8: many problems */
        "A9,2026-03-01,OH\n"                   /* 9: too few fields */
        "A10,2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,,"
        "2022,5,,\"5\"00\",500\n" /* 10: malformed quote */
        "A11,2026-03-01,OH,43215,100000,300000,100000,2012-06-15,female,single,2028-07-01,"
        "dui:2027-01-01;bogus,2028,5,1.5,100,\n"; /* 11 */
    collect c;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(book, 2, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.rows, 7);
    assert_long(st.invalid, 5);
    assert_long(st.first_invalid, 3);
    assert_string_equal(st.first_error, "line 3: column d1_dob: not a valid date \"1990-02-30\"");
    const char *want[] = {
        "3 A2 line 3: column d1_dob: not a valid date \"1990-02-30\"",
        "8 A8 line 8: column zip: not a 5-digit ZIP code \"4321\"; column bi_per_accident: must "
        "be at least per_person (100000); column d1_gender: \"femme\" is not one of female, male, "
        "nonbinary, unspecified; column d1_first_licensed: is before the date of birth; column "
        "d1_incidents: incident 1: speeding needs the mph over the limit (speeding:DATE:MPH); "
        "column v1_symbol: must be from 1 to 27, got 30; column v1_principal_driver: no driver 2 "
        "in this row (its d2_* cells are empty); column v1_coll_deductible: requires comp on the "
        "same vehicle (v1_comp_deductible)",
        "9 - line 9: has 3 fields, the header has 17",
        "10 - line 10: malformed CSV (a quote inside an unquoted field, or text after a closing "
        "quote)",
        "11 A11 line 11: column d1_incidents: incident 1: date 2027-01-01 is after the effective "
        "date 2026-03-01; column d1_incidents: incident 2: expected TYPE:YYYY-MM-DD or "
        "TYPE:YYYY-MM-DD:NUMBER, got \"bogus\"; column v1_year: must be from 1900 to 2027, got "
        "2028; column v1_principal_driver: expected a driver number (1 for d1_*), got \"1.5\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(c.out.data, want[i]))
            fail_msg("missing:\n%s\nin:\n%s", want[i], c.out.data);
    /* the good rows: line 2, and the row of lines 5-7 with its id and two incidents */
    assert_true(strncmp(c.out.data, "2 A1 eff=", 9) == 0);
    const char *r5 = strstr(c.out.data, "\n5 A5,\nsplit eff=");
    assert_non_null(r5);
    assert_non_null(strstr(r5, " n3=2,"));
    assert_non_null(strstr(r5, "id=drivers[0].incidents[1]"));
    mq_batch_buf_free(&c.out);
}

/* A line of more than 1 MiB (before its ending) is refused the same way
 * whether or not the reader's buffer happened to hold all of it: in a CSV
 * book as "line longer than 1048576 bytes" on its line, in an NDJSON book
 * as a request larger than that; the rows around it are rated. A line of
 * 1.1 MB was read as a row when it fitted in the buffer, and refused as
 * "row longer than 1048578 bytes" when it did not (from a pipe, by
 * where the reads fell). A line of exactly 1 MiB is not too long. */
static void test_long_lines(void **state)
{
    (void)state;
#define ROW(id)                                                                                    \
    id ",2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,,2022,5,,"  \
       "500,500\n"
    static const char head[] = HEADER ROW("A2");
    const size_t big = 1100000, exact = MQ_REQ_MAX_BYTES;
    char *book = malloc(sizeof head + big + exact + 256);
    assert_non_null(book);
    char *o = book + sprintf(book, "%s", head);
    memset(o, 'x', big); /* line 3: 1.1 MB of one field */
    o += big;
    o += sprintf(o, "\r\n");
    memset(o, 'y', exact); /* line 4: exactly 1 MiB, CR LF after */
    o += exact;
    o += sprintf(o, "\r\n%s", ROW("A5"));
#undef ROW
    collect c;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(book, 2, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.rows, 4);
    assert_long(st.invalid, 2);
    assert_string_equal(st.first_error, "line 3: line longer than 1048576 bytes");
    assert_true(strncmp(c.out.data, "2 A2 eff=", 9) == 0);
    assert_non_null(strstr(c.out.data, "\n3 - line 3: line longer than 1048576 bytes\n4 "));
    assert_null(strstr(c.out.data, "\n4 - line 4: line longer"));
    assert_non_null(strstr(c.out.data, "\n5 A5 eff="));
    mq_batch_buf_free(&c.out);
    /* NDJSON: the same limit, the request's */
    o = book + sprintf(book, "{\"line\": \"auto\"}\n\"");
    memset(o, 'x', big);
    o += big;
    sprintf(o, "\"\n{\"line\": \"auto\"}\n");
    assert_int_equal(run_book(book, 2, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.rows, 3);
    assert_non_null(strstr(c.out.data, "\n2 - line 2: request is larger than 1048576 bytes\n"));
    mq_batch_buf_free(&c.out);
    free(book);
}

/* A quote left open swallows the lines after it into one broken record:
 * its error says which lines it took, so that rows missing from the output
 * are not missed (closed by a later quote, or never). */
static void test_open_quote_span(void **state)
{
    (void)state;
#define ROW(id)                                                                                    \
    id ",2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,,2022,5,,"  \
       "500,500\n"
    const char *book = HEADER ROW("A2") "\"" ROW("A3") ROW("A4") "\"A5\"" ROW("")
        ROW("A6") "\"" ROW("A7") ROW("A8");
#undef ROW
    collect c;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(book, 2, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.rows, 4);
    assert_long(st.invalid, 2);
    const char *want[] = {
        "2 A2 eff=",
        "3 - line 3: malformed CSV (a quote inside an unquoted field, or text after a closing "
        "quote) (lines 3 to 5 are this one record: is a quote left open?)\n",
        "6 A6 eff=",
        "7 - line 7: a quoted field is not closed (lines 7 to 8 are this one record: is a quote "
        "left open?)\n"};
    const char *p = c.out.data;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        if (strncmp(p, want[i], strlen(want[i])) != 0)
            fail_msg("row %zu:\n%s\nexpected:\n%s", i, p, want[i]);
        p = strchr(p, '\n') + 1;
    }
    assert_string_equal(p, "");
    mq_batch_buf_free(&c.out);
}

/* A line without quotes is split without libcsv: the same fields either way,
 * spaces and tabs around unquoted fields trimmed, empty fields kept. */
static void test_plain_lines_as_libcsv(void **state)
{
    (void)state;
    static const char *const rows[] = {
        " P1 , 2026-03-01 ,OH,\t43215\t,100000, 300000 ,100000,1990-06-15,female,married, "
        "2008-07-01 ,,2022 , 5,,500,500",
        "P2,2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female , married,2008-07-01,"
        "speeding:2025-01-10:12 ; dui:2024-01-01,2022,5,1,,",
        "P3,2026-03-01,OH,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,,2022,"
        "5,,,",
        "P4,2026-03-01 , OH ,43215,100000,300000,100000,1990-06-15,female,married,2008-07-01,,"
        "2022,5,,\t,  ",
    };
    mq_batch_buf plain = {0}, quoted = {0};
    assert_true(mq_batch_buf_puts(&plain, HEADER));
    assert_true(mq_batch_buf_put(&quoted, HEADER, strlen(HEADER) - 1));
    assert_true(mq_batch_buf_puts(&quoted, ",extra_q\n"));
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        assert_true(mq_batch_buf_printf(&plain, "%s\r\n", rows[i]));
        assert_true(mq_batch_buf_printf(&quoted, "%s,\"q\"\r\n", rows[i]));
    }
    collect a, b;
    mq_batch_stats sa, sb;
    char err[256];
    assert_int_equal(run_book(plain.data, 1, dump_row, NULL, &a, &sa, err, sizeof err),
                     MQ_BATCH_OK);
    assert_int_equal(run_book(quoted.data, 1, dump_row, NULL, &b, &sb, err, sizeof err),
                     MQ_BATCH_OK);
    assert_long(sa.rows, 4);
    assert_long(sa.invalid, 0);
    assert_string_equal(a.out.data, b.out.data);
    assert_non_null(strstr(a.out.data, "2 P1 eff="));
    assert_non_null(strstr(a.out.data, " n3=2,")); /* P2's two incidents */
    mq_batch_buf_free(&a.out);
    mq_batch_buf_free(&b.out);
    mq_batch_buf_free(&plain);
    mq_batch_buf_free(&quoted);
}

/* Rows the reference data rejects, as `quote` would: the same messages from
 * a CSV row (at its columns) and from the JSON request (at its paths). */
static void test_intake_checks(void **state)
{
    (void)state;
    const char *csv = HEADER
        "I2,2026-03-01,OH,10001,20000,40000,20000,1990-06-15,female,married,2008-07-01,,2022,5,"
        ",500,500\n"
        "I3,2026-03-01,TX,75201,30000,60000,25000,1990-06-15,female,married,2008-07-01,,2022,5,"
        ",500,500\n";
    const char *ndjson =
        "{\"line\":\"auto\",\"effective_date\":\"2026-03-01\",\"applicant\":{\"address\":"
        "{\"state\":\"OH\",\"zip\":\"10001\"}},\"drivers\":[{\"id\":\"d1\",\"date_of_birth\":"
        "\"1990-06-15\",\"gender\":\"female\",\"marital_status\":\"married\",\"license\":"
        "{\"first_licensed\":\"2008-07-01\"}}],\"vehicles\":[{\"id\":\"v1\",\"year\":2022,"
        "\"symbol\":5,\"principal_driver\":\"d1\",\"garaging_zip\":\"19129\"}],\"coverages\":"
        "{\"bi\":{\"per_person\":20000,\"per_accident\":40000},\"pd\":{\"limit\":20000}}}\n";
    collect c;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(csv, 1, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.invalid, 1);
    const char *want =
        "2 I2 line 2: column zip: ZIP code 10001 is in New York, but the address "
        "is in Ohio; column bi_per_person: 20000/40000 is below Ohio's minimum "
        "25000/50000; column pd_limit: 20000 is below Ohio's minimum 25000\n3 I3 eff=";
    if (strncmp(c.out.data, want, strlen(want)) != 0)
        fail_msg("got:\n%s\nexpected:\n%s", c.out.data, want);
    mq_batch_buf_free(&c.out);
    assert_int_equal(run_book(ndjson, 1, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    want = "1 - line 1: applicant.address.zip: ZIP code 10001 is in New York, but the address is "
           "in Ohio; coverages.bi: 20000/40000 is below Ohio's minimum 25000/50000; coverages.pd: "
           "20000 is below Ohio's minimum 25000";
    if (strncmp(c.out.data, want, strlen(want)) != 0)
        fail_msg("got:\n%s\nexpected:\n%s", c.out.data, want);
    mq_batch_buf_free(&c.out);
}

/* Pennsylvania's required $5,000 of first-party medical benefits and the
 * IRS's ZIP codes, and uninsured motorist below the state's bodily injury
 * minimum, in a CSV row: refused as quote refuses the same JSON request,
 * naming the columns. The CSV screen passed a PA row without
 * med_limit (its limits met the minimums), so it was rated while the same
 * NDJSON request was refused. */
static void test_intake_checks_medical_and_irs_zip(void **state)
{
    (void)state;
    const char *csv =
        "policy_id,effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,med_limit,"
        "d1_dob,d1_gender,d1_marital_status,d1_first_licensed,v1_year,v1_symbol,um_per_person,"
        "um_per_accident\n"
        "P1,2026-03-01,PA,19103,15000,30000,5000,,1990-06-15,female,married,2008-07-01,2022,5,,\n"
        "P2,2026-03-01,PA,19103,15000,30000,5000,2000,1990-06-15,female,married,2008-07-01,2022,5,,"
        "\n"
        "P3,2026-03-01,PA,19103,15000,30000,5000,5000,1990-06-15,female,married,2008-07-01,2022,5,,"
        "\n"
        "P4,2026-03-01,TX,73301,30000,60000,25000,,1990-06-15,female,married,2008-07-01,2022,5,,\n"
        "P5,2026-03-01,TX,77002,30000,60000,25000,,1990-06-15,female,married,2008-07-01,2022,5,"
        "25000,50000\n";
    collect c;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(csv, 1, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.rows, 5);
    assert_long(st.invalid, 4);
    const char *want[] = {
        "2 P1 line 2: column med_limit: is required in Pennsylvania: every policy carries "
        "first-party medical benefits of at least 5000\n",
        "3 P2 line 3: column med_limit: 2000 is below Pennsylvania's minimum 5000\n", "4 P3 eff=",
        "5 P4 line 5: column zip: ZIP code 73301 belongs to the IRS in Austin, not to a street "
        "address\n",
        "6 P5 line 6: column um_per_person: 25000/50000 is below Texas's minimum 30000/60000 "
        "(uninsured motorist coverage is at least the bodily injury minimum)\n"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(c.out.data, want[i]))
            fail_msg("\"%s\" not in:\n%s", want[i], c.out.data);
    mq_batch_buf_free(&c.out);
}

/* The request parser's rules that a CSV cell must meet as its JSON field
 * does, with the same messages: birth dates of people at most 120 years old,
 * incidents not before the driver's birth, VINs in either case, and why a
 * date cannot be read ("3/1/2026", as spreadsheets write dates). */
#define RULES_HEADER                                                                               \
    "policy_id,effective_date,state,zip,applicant_dob,bi_per_person,bi_per_accident,pd_limit,"     \
    "d1_dob,d1_gender,d1_marital_status,d1_first_licensed,d1_incidents,v1_year,v1_symbol,v1_vin,"  \
    "v1_make\n"

/* A JSON request of the same policy as a RULES_HEADER row. */
static void json_request(mq_batch_buf *b, const char *eff, const char *applicant_dob,
                         const char *dob, const char *first, const char *incidents, int year,
                         const char *vin)
{
    assert_true(mq_batch_buf_printf(
        b,
        "{\"line\":\"auto\",\"effective_date\":\"%s\",\"applicant\":{%s%s%s\"address\":"
        "{\"state\":\"OH\",\"zip\":\"43215\"}},\"drivers\":[{\"id\":\"d1\",\"date_of_birth\":"
        "\"%s\",\"gender\":\"female\",\"marital_status\":\"married\",\"license\":"
        "{\"first_licensed\":\"%s\"},\"incidents\":[%s]}],\"vehicles\":[{\"id\":\"v1\","
        "\"year\":%d,\"symbol\":5,\"principal_driver\":\"d1\"%s%s%s}],\"coverages\":{\"bi\":"
        "{\"per_person\":100000,\"per_accident\":300000},\"pd\":{\"limit\":100000}}}\n",
        eff, applicant_dob ? "\"date_of_birth\":\"" : "", applicant_dob ? applicant_dob : "",
        applicant_dob ? "\"," : "", dob, first, incidents, year,
        vin ? ",\"make\":\"honda\",\"vin\":\"" : "", vin ? vin : "", vin ? "\"" : ""));
}

static void test_rules_as_json(void **state)
{
    (void)state;
    const char *csv = RULES_HEADER
        "R2,2026-03-01,OH,43215,1890-01-01,100000,300000,100000,1890-06-15,female,married,"
        "1908-07-01,,2022,5,,\n"
        "R3,2026-03-01,OH,43215,,100000,300000,100000,1990-06-15,female,married,2008-07-01,"
        "at_fault_accident:1980-01-01:5000,2022,5,,\n"
        "R4,2026-03-01,OH,43215,,100000,300000,100000,1990-06-15,female,married,2008-07-01,,"
        "2003,5,1hgcm82633a004352,honda\n"
        "R5,3/1/2026,OH,43215,,100000,300000,100000,1990-06-15,female,married,2008-07-01,"
        "dui:2024-1-5,2022,5,,\n";
    mq_batch_buf nd = {0};
    json_request(&nd, "2026-03-01", "1890-01-01", "1890-06-15", "1908-07-01", "", 2022, NULL);
    json_request(&nd, "2026-03-01", NULL, "1990-06-15", "2008-07-01",
                 "{\"type\":\"at_fault_accident\",\"date\":\"1980-01-01\",\"amount\":5000}", 2022,
                 NULL);
    json_request(&nd, "2026-03-01", NULL, "1990-06-15", "2008-07-01", "", 2003,
                 "1hgcm82633a004352");
    json_request(&nd, "3/1/2026", NULL, "1990-06-15", "2008-07-01",
                 "{\"type\":\"dui\",\"date\":\"2024-1-5\"}", 2022, NULL);
    collect c, j;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(csv, 2, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.invalid, 3);
    assert_int_equal(run_book(nd.data, 2, dump_row, NULL, &j, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.invalid, 3);
    const char *want_csv[] = {
        "2 R2 line 2: column applicant_dob: a person born then is 136 on the effective date; at "
        "most 120 is plausible; column d1_dob: a person born then is 135 on the effective date; at "
        "most 120 is plausible\n",
        "3 R3 line 3: column d1_incidents: incident 1: date 1980-01-01 is before the driver's date "
        "of birth\n",
        "4 R4 eff=",
        "5 R5 line 5: column effective_date: not a valid date \"3/1/2026\": write it as "
        "YYYY-MM-DD; column d1_incidents: incident 1: not a valid date \"2024-1-5\": write it as "
        "YYYY-MM-DD\n"};
    const char *want_json[] = {
        "1 - line 1: applicant.date_of_birth: a person born then is 136 on the effective date; at "
        "most 120 is plausible; drivers[0].date_of_birth: a person born then is 135 on the "
        "effective date; at most 120 is plausible\n",
        "2 - line 2: drivers[0].incidents[0].date: is before the driver's date of birth\n",
        "3 - eff=",
        "4 - line 4: effective_date: not a valid date \"3/1/2026\": write it as YYYY-MM-DD; "
        "drivers[0].incidents[0].date: not a valid date \"2024-1-5\": write it as YYYY-MM-DD\n"};
    const char *pc = c.out.data, *pj = j.out.data;
    for (size_t i = 0; i < sizeof want_csv / sizeof *want_csv; i++) {
        if (strncmp(pc, want_csv[i], strlen(want_csv[i])) != 0)
            fail_msg("CSV row %zu:\n%s\nexpected:\n%s", i + 2, pc, want_csv[i]);
        if (strncmp(pj, want_json[i], strlen(want_json[i])) != 0)
            fail_msg("JSON row %zu:\n%s\nexpected:\n%s", i + 1, pj, want_json[i]);
        pc = strchr(pc, '\n') + 1;
        pj = strchr(pj, '\n') + 1;
    }
    mq_batch_buf_free(&c.out);
    mq_batch_buf_free(&j.out);
    mq_batch_buf_free(&nd);
}

static void test_bad_header(void **state)
{
    (void)state;
    collect c;
    mq_batch_stats st;
    char err[256];
    const char *book = "effective_date,state,zip,bi_per_person,bi_per_acident\n2026-01-01,OH\n";
    assert_int_equal(run_book(book, 1, dump_row, NULL, &c, &st, err, sizeof err),
                     MQ_BATCH_BAD_INPUT);
    assert_string_equal(err, "book: line 1: column \"bi_per_acident\": unknown column (see "
                             "docs/batch.md; extra_* columns are ignored)");
    assert_false(c.started);
    mq_batch_buf_free(&c.out);
    book = "\n\n  \"effective_date,state\n";
    assert_int_equal(run_book(book, 1, dump_row, NULL, &c, &st, err, sizeof err),
                     MQ_BATCH_BAD_INPUT);
    assert_string_equal(err, "book: line 3: header: a quoted field is not closed");
    mq_batch_buf_free(&c.out);
    /* a spreadsheet's other list separator, and UTF-16 text, are named */
    book = "effective_date;state;zip\n2026-01-01;OH;43215\n";
    assert_int_equal(run_book(book, 1, dump_row, NULL, &c, &st, err, sizeof err),
                     MQ_BATCH_BAD_INPUT);
    assert_string_equal(err, "book: line 1: column \"effective_date;state;zip\": unknown column "
                             "(see docs/batch.md; extra_* columns are ignored) (columns are "
                             "separated by commas, not semicolons)");
    mq_batch_buf_free(&c.out);
    static const char utf16[] = "\xFF\xFE"
                                "e\0f\0f\0e\0c\0t\0";
    FILE *f = fmemopen((void *)utf16, sizeof utf16 - 1, "r");
    collect u = {0};
    mq_batch_job job = {
        .in = f, .name = "book", .threads = 1, .row = dump_row, .sink = collect_sink, .ctx = &u};
    assert_int_equal(mq_batch_run(&job, &st, err, sizeof err), MQ_BATCH_BAD_INPUT);
    fclose(f);
    assert_string_equal(
        err, "book: the book is UTF-16 text; save it as UTF-8 (\"CSV UTF-8\" in a spreadsheet)");
    assert_int_equal(u.out.len, 0);
    /* an export as one JSON array, not one request per line */
    book = "\n  [\n  {\"line\": \"auto\"}\n]\n";
    assert_int_equal(run_book(book, 1, dump_row, NULL, &c, &st, err, sizeof err),
                     MQ_BATCH_BAD_INPUT);
    assert_string_equal(err, "book: the book is a JSON array; a book holds one JSON request per "
                             "line (NDJSON: jq -c '.[]' writes an array that way)");
    assert_false(c.started);
    mq_batch_buf_free(&c.out);
    /* one request pretty-printed over several lines */
    book = "{\r\n  \"line\": \"auto\",\r\n  \"effective_date\": \"2026-03-01\"\r\n}\r\n";
    assert_int_equal(run_book(book, 1, dump_row, NULL, &c, &st, err, sizeof err),
                     MQ_BATCH_BAD_INPUT);
    assert_string_equal(err, "book: the first request is written over several lines (its line "
                             "holds only \"{\"); a book holds one request per line (jq -c . "
                             "writes it so)");
    assert_false(c.started);
    mq_batch_buf_free(&c.out);
}

/* A book without a single policy is bad input, not an empty success:
 * nothing at all, blank lines, a CSV header alone. */
static void test_empty_book(void **state)
{
    (void)state;
    static const char *const books[] = {
        "", " \n\r\n\t\n",
        "effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,d1_gender,"
        "d1_marital_status,d1_first_licensed,v1_year,v1_symbol\n\n"};
    for (size_t i = 0; i < sizeof books / sizeof books[0]; i++) {
        collect c;
        mq_batch_stats st;
        char err[256];
        assert_int_equal(run_book(books[i], 2, dump_row, NULL, &c, &st, err, sizeof err),
                         MQ_BATCH_BAD_INPUT);
        assert_string_equal(err, "book: the book is empty (no policies)");
        assert_int_equal(c.out.len, 0);
        assert_long(st.rows, 0);
        mq_batch_buf_free(&c.out);
    }
}

static void test_bad_ndjson(void **state)
{
    (void)state;
    char *good = gen_book(1, 3, MQ_BATCH_NDJSON, "OH");
    size_t n = strlen(good);
    char *book = malloc(3 * n + 200);
    assert_non_null(book);
    char *bad_date = strdup(good);
    char *dob = strstr(bad_date, "\"date_of_birth\":\"");
    assert_non_null(dob);
    memcpy(dob + 17, "1990-02-30", 10);
    snprintf(book, 3 * n + 200, "%s\n{\"line\": \"auto\",\n%s%s", good, bad_date, "[1,2]\n");
    collect c;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(book, 2, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.rows, 4);
    assert_long(st.invalid, 3);
    const char *want[] = {
        "\n3 - line 3: invalid JSON at column 16: string or '}' expected near end of file",
        "\n4 P00000001 line 4: applicant.date_of_birth: not a valid date \"1990-02-30\"",
        "\n5 - line 5: expected a JSON object, got an array",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(c.out.data, want[i]))
            fail_msg("missing:\n%s\nin:\n%s", want[i], c.out.data);
    assert_true(strncmp(c.out.data, "1 P00000001 eff=", 16) == 0);
    mq_batch_buf_free(&c.out);
    free(bad_date);
    free(book);
    free(good);
}

/* extra.policy_id of an NDJSON row is echoed whether the policy admin
 * system exports it as a string or as a whole number. */
static void test_ndjson_policy_ids(void **state)
{
    (void)state;
    char *good = gen_book(1, 3, MQ_BATCH_NDJSON, "OH");
    char *nl = strchr(good, '\n');
    assert_non_null(nl);
    *nl = '\0';
    char *id = strstr(good, "\"policy_id\":\"P00000001\"");
    assert_non_null(id);
    size_t at = (size_t)(id - good) + strlen("\"policy_id\":");
    mq_batch_buf book = {0};
    assert_true(mq_batch_buf_printf(&book, "%s\n%.*s123456789%s\n%.*s-42%s\n", good, (int)at, good,
                                    id + strlen("\"policy_id\":\"P00000001\""), (int)at, good,
                                    id + strlen("\"policy_id\":\"P00000001\"")));
    collect c;
    mq_batch_stats st;
    char err[256];
    assert_int_equal(run_book(book.data, 1, dump_row, NULL, &c, &st, err, sizeof err), MQ_BATCH_OK);
    assert_long(st.invalid, 0);
    assert_true(strncmp(c.out.data, "1 P00000001 eff=", 16) == 0);
    assert_non_null(strstr(c.out.data, "\n2 123456789 eff="));
    assert_non_null(strstr(c.out.data, "\n3 -42 eff="));
    mq_batch_buf_free(&c.out);
    mq_batch_buf_free(&book);
    free(good);
}

/* ---- Order and threads ------------------------------------------------------------ */

static void test_order_any_threads(void **state)
{
    (void)state;
    char *csv = gen_book(1500, 9, MQ_BATCH_CSV, "OH");
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(KEYSTONE_OLD, &d);
    mq_diags_free(&d);
    assert_non_null(e);
    mq_batch_buf outs[3] = {{0}};
    int threads[3] = {1, 2, 5};
    for (int t = 0; t < 3; t++) {
        FILE *f = fmemopen(csv, strlen(csv), "r");
        char *text = NULL;
        size_t len = 0;
        FILE *o = open_memstream(&text, &len);
        mq_batch_rate_ctx rc;
        assert_true(mq_batch_rate_init(&rc, e, "keystone", -1, o));
        mq_batch_job job = {.in = f,
                            .name = "book",
                            .threads = threads[t],
                            .carrier = "keystone",
                            .row = mq_batch_rate_row,
                            .start = mq_batch_rate_start,
                            .sink = mq_batch_rate_sink,
                            .ctx = &rc};
        mq_batch_stats st;
        char err[256];
        assert_int_equal(mq_batch_run(&job, &st, err, sizeof err), MQ_BATCH_OK);
        assert_long(st.rows, 1500);
        fclose(f);
        fclose(o);
        mq_batch_rate_free(&rc);
        assert_true(mq_batch_buf_put(&outs[t], text, len));
        free(text);
    }
    assert_true(strncmp(outs[0].data, MQ_BATCH_RESULT_HEADER, strlen(MQ_BATCH_RESULT_HEADER)) == 0);
    /* rows in input order: the last is line 1501, P00001500 */
    assert_non_null(strstr(outs[0].data, "\n1501,P00001500,keystone,keystone-oh-auto,2026-01-01,"));
    for (int t = 1; t < 3; t++) {
        assert_int_equal(outs[t].len, outs[0].len);
        assert_memory_equal(outs[t].data, outs[0].data, outs[0].len);
    }
    for (int t = 0; t < 3; t++)
        mq_batch_buf_free(&outs[t]);
    mq_engine_free(e);
    free(csv);
}

/* ---- Interruption --------------------------------------------------------------- */

typedef struct cancel_sink {
    collect c;
    atomic_int flag;
    int calls;
} cancel_sink;

/* Raises the cancel flag on the first chunk, as SIGINT would mid-run. */
static bool cancelling_sink(void *ctx, const char *data, size_t len)
{
    cancel_sink *cs = ctx;
    cs->calls++;
    atomic_store(&cs->flag, 1);
    return collect_sink(&cs->c, data, len);
}

/* A run whose cancel flag goes up stops reading; the rows already read are
 * all written, in order, with nothing missing before the last and nothing
 * after it, and the run says where it stopped. */
static void test_cancel(void **state)
{
    (void)state;
    char *book = gen_book(20000, 4, MQ_BATCH_CSV, "OH");
    for (int threads = 1; threads <= 3; threads += 2) {
        FILE *f = fmemopen(book, strlen(book), "r");
        assert_non_null(f);
        cancel_sink cs = {0};
        mq_batch_job job = {.in = f,
                            .name = "book",
                            .threads = threads,
                            .row = dump_row,
                            .sink = cancelling_sink,
                            .ctx = &cs,
                            .cancel = &cs.flag};
        mq_batch_stats st;
        char err[256];
        assert_int_equal(mq_batch_run(&job, &st, err, sizeof err), MQ_BATCH_INTERRUPTED);
        fclose(f);
        assert_string_equal(err, "interrupted");
        /* the chunks read before the flag: at most the pool (2 per thread
         * and one) and the one being filled, of 256 rows */
        assert_true(st.rows >= MQ_BATCH_CHUNK_ROWS);
        assert_true(st.rows <= (threads * MQ_BATCH_CHUNKS_PER_THREAD + 2) * MQ_BATCH_CHUNK_ROWS);
        assert_long(st.last_line, st.rows + 1);
        const char *p = cs.c.out.data;
        for (long line = 2; line <= st.last_line; line++) {
            char want[64];
            snprintf(want, sizeof want, "%ld P%08ld eff=", line, line - 1);
            if (strncmp(p, want, strlen(want)) != 0)
                fail_msg("row of line %ld: %.60s", line, p);
            p = strchr(p, '\n') + 1;
        }
        assert_int_equal(*p, '\0'); /* nothing after the last row */
        mq_batch_buf_free(&cs.c.out);
    }
    /* a flag up from the start: nothing read, not even the header */
    FILE *f = fmemopen(book, strlen(book), "r");
    cancel_sink cs = {.calls = 0};
    atomic_store(&cs.flag, 1);
    mq_batch_job job = {.in = f,
                        .name = "book",
                        .threads = 2,
                        .row = dump_row,
                        .sink = cancelling_sink,
                        .ctx = &cs,
                        .cancel = &cs.flag};
    mq_batch_stats st;
    char err[256];
    assert_int_equal(mq_batch_run(&job, &st, err, sizeof err), MQ_BATCH_INTERRUPTED);
    fclose(f);
    assert_long(st.rows, 0);
    assert_long(st.last_line, 0);
    assert_int_equal(cs.calls, 0);
    free(book);
}

/* ---- Rate impact, by hand ---------------------------------------------------------- */

static void test_percentile(void **state)
{
    (void)state;
    const double x[] = {-3, 1, 2, 10};
    assert_near(mq_batch_percentile(x, 4, 0), -3, 1e-12);
    assert_near(mq_batch_percentile(x, 4, 50), 1.5, 1e-12); /* h = 1.5 */
    assert_near(mq_batch_percentile(x, 4, 25), 0, 1e-12);   /* h = 0.75: -3 + 0.75 * 4 */
    assert_near(mq_batch_percentile(x, 4, 90), 7.6, 1e-12); /* h = 2.7: 2 + 0.7 * 8 */
    assert_near(mq_batch_percentile(x, 4, 100), 10, 1e-12);
    assert_near(mq_batch_percentile(x, 1, 99), -3, 1e-12);
    assert_true(isnan(mq_batch_percentile(x, 0, 50)));
    assert_int_equal(mq_batch_age_band(15), -1);
    assert_int_equal(mq_batch_age_band(24), 0);
    assert_int_equal(mq_batch_age_band(25), 1);
    assert_int_equal(mq_batch_age_band(74), 5);
    assert_int_equal(mq_batch_age_band(99), 6);
    assert_string_equal(mq_batch_age_band_name(6), "75+");
}

/* The histogram's bins: centred on multiples of a round width, one on no
 * change, at least two either side, never more than MQ_BATCH_MAX_BINS however
 * far the changes spread (a mistyped base rate: +37,000% to +57,000%). */
static void bins_of(const double *pct, size_t n, mq_batch_bins *b)
{
    mq_batch_impact *im = calloc(1, sizeof *im);
    assert_non_null(im);
    im->pct = (double *)pct;
    im->n = n;
    mq_batch_impact_bins(im, b);
    long sum = 0;
    for (int i = 0; i < b->n; i++)
        sum += b->count[i];
    assert_long(sum, (long)n);
    assert_true(b->n >= 5 && b->n <= MQ_BATCH_MAX_BINS);
    assert_true(b->first <= -2 && b->first + b->n - 1 >= 2);
    free(im);
}

static void test_chart_bins(void **state)
{
    (void)state;
    mq_batch_bins b;
    static const double none[4] = {0, 0, 0, 0};
    bins_of(none, 4, &b); /* no change: five bins of 0.5, all in the middle one */
    assert_near(b.step, 0.5, 0);
    assert_long(b.first, -2);
    assert_int_equal(b.n, 5);
    assert_long(b.count[2], 4);
    static const double small[] = {-0.3, 0.2, 0.26, 1.1};
    bins_of(small, 4, &b); /* -0.3 -> centre -0.5; 0.2 -> 0; 0.26 -> 0.5; 1.1 -> 1 */
    assert_near(b.step, 0.5, 0);
    assert_long(b.first, -2);
    assert_int_equal(b.n, 5);
    assert_long(b.count[1], 1);
    assert_long(b.count[2], 1);
    assert_long(b.count[3], 1);
    assert_long(b.count[4], 1);
    static const double huge[] = {37828.64, 48174.80, 57162.08};
    bins_of(huge, 3, &b); /* p0.5 and p99.5: 37931.8 and 57072.2 -> bins of 1000 */
    assert_near(b.step, 1000, 0);
    assert_long(b.first, -2);
    assert_int_equal(b.n, 60);   /* centres -2000 to +57000 */
    assert_long(b.count[40], 1); /* 38000 */
    assert_long(b.count[50], 1); /* 48000 */
    assert_long(b.count[59], 1); /* 57000 */
    static const double spread[] = {-80, -4.2, 0, 3.9, 12.5, 250};
    bins_of(spread, 6, &b); /* p0.5 -78.1, p99.5 244.1: bins of 10, centres -80 .. 240 */
    assert_near(b.step, 10, 0);
    assert_long(b.first, -8);
    assert_int_equal(b.n, 33);
    assert_long(b.count[0], 1);  /* -80 */
    assert_long(b.count[8], 3);  /* -4.2, 0, 3.9 -> centre 0 */
    assert_long(b.count[9], 1);  /* 12.5 -> 10 */
    assert_long(b.count[32], 1); /* 250, in the end bin (240) */
}

/* The chart itself, read back: with no change at all, the one bar is
 * centred on 0 and grey (neither a decrease nor an increase); with changes
 * of +37,000% and more, a chart is drawn (its bins used to run past their
 * array) whose count axis still reads 0 to 2; with no policy quoted under
 * both versions, the subtitle says so instead of a mean of +0.00%. */
static uint32_t chart_pixel(const mq_batch_impact *im, int x, int y)
{
    char path[] = "/tmp/mq-test-chart-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    assert_non_null(f);
    char err[256];
    assert_true(mq_batch_impact_png(im, f, path, err, sizeof err));
    assert_int_equal(fclose(f), 0);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    unlink(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), 1000);
    const unsigned char *data = cairo_image_surface_get_data(s);
    uint32_t px;
    memcpy(&px, data + (size_t)y * (size_t)cairo_image_surface_get_stride(s) + (size_t)x * 4, 4);
    cairo_surface_destroy(s);
    return px & 0xFFFFFF;
}

static void test_chart_png(void **state)
{
    (void)state;
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(KEYSTONE_OLD, &d);
    mq_diags_free(&d);
    assert_non_null(e);
    mq_batch_impact *im = calloc(1, sizeof *im);
    assert_non_null(im);
    im->plan[0] = im->plan[1] = mq_engine_find_version(e, "keystone-oh-auto", "2026-01-01");
    double none[3] = {0, 0, 0};
    im->pct = none;
    im->n = 3;
    /* plot 80..970 wide, 5 bins of 178 px: the middle bar spans x 437..613,
     * from the axis (y 490) up; x 570 misses the dashed line at 525 */
    assert_int_equal(chart_pixel(im, 570, 480), 0x8C8C8C); /* grey, 0.55 */
    assert_int_equal(chart_pixel(im, 300, 480), 0xFFFFFF); /* nothing left of it */
    double huge[3] = {37828.64, 48174.80, 57162.08};
    im->pct = huge;
    /* bins of 1000 from -2000: 38000 is bin 40 of 60, x 80 + 40.5 x 14.83 = 681 */
    assert_int_equal(chart_pixel(im, 681, 480), 0xCC5433); /* an increase, 0.80 0.33 0.20 */
    assert_int_equal(chart_pixel(im, 700, 480), 0xFFFFFF);
    /* the subtitle: with no policy quoted under both, no mean or median
     * (they used to read +0.00%), but how many each version quoted */
    char sub[256];
    im->n = 1;
    mq_batch_impact_subtitle(im, sub, sizeof sub);
    assert_string_equal(sub, "Keystone Mutual Insurance Company: 1 policy quoted under both "
                             "versions; mean +37828.64%, median +37828.64%");
    im->pct = NULL;
    im->n = 0;
    im->status[0][MQ_QUOTED] = 493;
    im->status[1][MQ_DECLINED] = 500;
    mq_batch_impact_subtitle(im, sub, sizeof sub);
    assert_string_equal(sub, "Keystone Mutual Insurance Company: no policy quoted under both "
                             "versions (493 quoted under 2026-01-01, 0 under 2026-01-01)");
    assert_int_equal(chart_pixel(im, 570, 480), 0xFFFFFF); /* no bar */
    free(im);
    mq_engine_free(e);
}

/* A change too small to show is 0.00%, never -0.00%: a cent off 1,000.00
 * (-0.001%) in the summary, the chart's subtitle and the CSV's change_pct
 * (all through mq_batch_pct_shown). They printed -0.00%. */
static void test_impact_no_negative_zero(void **state)
{
    (void)state;
    assert_true(mq_batch_pct_shown(-0.001) == 0 && !signbit(mq_batch_pct_shown(-0.001)));
    assert_true(mq_batch_pct_shown(-0.0) == 0 && !signbit(mq_batch_pct_shown(-0.0)));
    assert_true(mq_batch_pct_shown(-0.006) == -0.006); /* -0.01: shown as it is */
    assert_true(mq_batch_pct_shown(0.004) == 0.004);
    assert_true(isnan(mq_batch_pct_shown(NAN)));
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(KEYSTONE_OLD, &d);
    mq_diags_free(&d);
    assert_non_null(e);
    mq_batch_impact *im = calloc(1, sizeof *im);
    assert_non_null(im);
    im->plan[0] = im->plan[1] = mq_engine_find_version(e, "keystone-oh-auto", "2026-01-01");
    double pct[2] = {-0.001, 0.0004};
    int64_t diff[2] = {-1, 0};
    im->pct = pct;
    im->diff = diff;
    im->n = 2;
    im->sorted = true;
    im->premium[0] = 100000 + 250000;
    im->premium[1] = 99999 + 250001;
    im->status[0][MQ_QUOTED] = im->status[1][MQ_QUOTED] = 2;
    char sub[256];
    mq_batch_impact_subtitle(im, sub, sizeof sub);
    assert_string_equal(sub, "Keystone Mutual Insurance Company: 2 policies quoted under both "
                             "versions; mean +0.00%, median +0.00%");
    char *text = NULL;
    size_t tlen = 0;
    FILE *t = open_memstream(&text, &tlen);
    mq_batch_impact_print(t, im, "book.csv");
    fclose(t);
    if (strstr(text, "-0.00"))
        fail_msg("-0.00 in:\n%s", text);
    assert_non_null(strstr(text, "  written premium   3,500.00 -> 3,500.00  +0.00%\n"));
    assert_non_null(strstr(text, "smallest +0.00%, largest +0.00%\n"));
    free(text);
    free(im);
    mq_engine_free(e);
}

/* Five rows under Keystone Ohio 2026-01-01 and 2026-07-01, effective
 * 2026-08-01. The driver, born 1980-05-10, is 46 and single: driver class
 * 30-49 "*" = 1.00 (liability and physical damage); no incidents: record
 * 1.00 and the 5% claims-free discount; a 2023 car: vehicle age 3 = 1.00;
 * symbol 5 = 1.00; bi 25/50 and pd 25000 = 1.00; $500 deductibles = 1.00.
 * Each coverage is rounded to the dollar; $200 minimum; $20 fee.
 *
 * A, 43215 (territory 1 in both), bi pd comp coll:
 *   old bi 128 x 1.22 x 0.95 = 148.352 -> 148   new 135.68 x 1.20 x 0.95 = 154.6752 -> 155
 *   old pd 112 x 1.18 x 0.95 = 125.552 -> 126   new 118.72 x 1.16 x 0.95 = 130.82944 -> 131
 *   old comp 58 x 1.08 x 0.95 = 59.508 -> 60    new 61.48 x 1.06 x 0.95 = 61.91036 -> 62
 *   old coll 185 x 1.20 x 0.95 = 210.9 -> 211   new 196.10 x 1.18 x 0.95 = 219.8281 -> 220
 *   total 545 + 20 = 565.00 -> 568 + 20 = 588.00: +23.00, +4.0708%
 * B, 45701 Athens (old territory 8 "rest of Ohio", new 9), bi pd:
 *   old bi 128 x 0.90 x 0.95 = 109.44 -> 109    new 135.68 x 0.80 x 0.95 = 103.1168 -> 103
 *   old pd 112 x 0.92 x 0.95 = 97.888 -> 98     new 118.72 x 0.84 x 0.95 = 94.73856 -> 95
 *   total 207 + 20 = 227.00 -> 198, raised to the 200 minimum, + 20 = 220.00: -7.00, -3.0837%
 * C, 43081 Westerville (old 8, new 8 "suburban ring"), two cars: multi-car 15% -> 12%,
 *   so discounts 0.20 -> 0.17; per car:
 *   old bi 128 x 0.90 x 0.80 = 92.16 -> 92      new 135.68 x 0.93 x 0.83 = 104.731392 -> 105
 *   old pd 112 x 0.92 x 0.80 = 82.432 -> 82     new 118.72 x 0.94 x 0.83 = 92.625344 -> 93
 *   total 2 x 174 + 20 = 368.00 -> 2 x 198 + 20 = 416.00: +48.00, +13.0435%
 * D, a DUI in 2024: declined under both. E, a bad ZIP: invalid. */
static const char impact_book[] =
    "policy_id,effective_date,state,zip,bi_per_person,bi_per_accident,pd_limit,d1_dob,"
    "d1_gender,d1_marital_status,d1_first_licensed,d1_incidents,v1_year,v1_symbol,"
    "v1_comp_deductible,v1_coll_deductible,v2_year,v2_symbol\n"
    "A,2026-08-01,OH,43215,25000,50000,25000,1980-05-10,female,single,1998-06-01,,2023,5,500,500,,"
    "\n"
    "B,2026-08-01,OH,45701,25000,50000,25000,1980-05-10,male,single,1998-06-01,,2023,5,,,,\n"
    "C,2026-08-01,OH,43081,25000,50000,25000,1980-05-10,female,single,1998-06-01,,2023,5,,,2023,5\n"
    "D,2026-08-01,OH,43215,25000,50000,25000,1980-05-10,male,single,1998-06-01,dui:2024-01-15,"
    "2023,5,,,,\n"
    "E,2026-08-01,OH,4370,25000,50000,25000,1980-05-10,male,single,1998-06-01,,2023,5,,,,\n";

/* Runs impact (im's two plans) over the book text on `threads` workers,
 * then finishes its figures; returns the per-policy CSV (malloc'd), with
 * its header when `header`. */
static char *run_impact(mq_batch_impact *im, const char *book, int threads, bool header)
{
    char *csv = NULL;
    size_t csv_len = 0;
    im->csv = open_memstream(&csv, &csv_len);
    assert_non_null(im->csv);
    if (header)
        assert_true(mq_batch_impact_header(im, im->csv));
    FILE *f = fmemopen((void *)book, strlen(book), "r");
    mq_batch_job job = {.in = f,
                        .name = "book",
                        .threads = threads,
                        .row = mq_batch_impact_row,
                        .sink = mq_batch_impact_sink,
                        .ctx = im};
    mq_batch_stats st;
    char err[256];
    assert_int_equal(mq_batch_run(&job, &st, err, sizeof err), MQ_BATCH_OK);
    fclose(f);
    fclose(im->csv);
    im->csv = NULL;
    mq_batch_impact_finish(im);
    return csv;
}

static void test_impact_by_hand(void **state)
{
    (void)state;
    mq_diags d = {0};
    mq_engine *old = mq_engine_load(KEYSTONE_OLD, &d);
    mq_engine *new = mq_engine_load(KEYSTONE_NEW, &d);
    mq_diags_free(&d);
    assert_non_null(old);
    assert_non_null(new);
    mq_batch_impact *im = calloc(1, sizeof *im);
    assert_non_null(im);
    im->plan[0] = mq_engine_find_version(old, "keystone-oh-auto", "2026-01-01");
    im->plan[1] = mq_engine_find_version(new, "keystone-oh-auto", "2026-07-01");
    assert_non_null(im->plan[0]);
    assert_non_null(im->plan[1]);
    char *csv = run_impact(im, impact_book, 2, false);

    assert_long(im->rows, 5);
    assert_long(im->invalid, 1);
    assert_long(im->status[0][MQ_QUOTED], 3);
    assert_long(im->status[1][MQ_QUOTED], 3);
    assert_long(im->status[0][MQ_DECLINED], 1);
    assert_long(im->status[1][MQ_DECLINED], 1);
    assert_long(im->moved[MQ_DECLINED][MQ_DECLINED], 1);
    assert_long((long)im->n, 3);
    assert_long(im->premium[0], 56500 + 22700 + 36800);
    assert_long(im->premium[1], 58800 + 22000 + 41600);
    /* sorted changes: B, A, C */
    double b = 100.0 * -700 / 22700, a = 100.0 * 2300 / 56500, c = 100.0 * 4800 / 36800;
    assert_near(im->pct[0], b, 1e-12);
    assert_near(im->pct[1], a, 1e-12);
    assert_near(im->pct[2], c, 1e-12);
    assert_long(im->diff[0], -700);
    assert_long(im->diff[2], 4800);
    assert_near(mq_batch_impact_mean(im), (a + b + c) / 3, 1e-12); /* +4.6769% */
    assert_near(mq_batch_percentile(im->pct, im->n, 50), a, 1e-12);
    assert_near(mq_batch_percentile(im->pct, im->n, 25), b + 0.5 * (a - b), 1e-12);
    assert_near(mq_batch_percentile(im->pct, im->n, 90), a + 0.8 * (c - a), 1e-12);
    assert_long(mq_batch_impact_beyond(im, 5, 1), 1);
    assert_long(mq_batch_impact_beyond(im, 5, -1), 0);
    assert_long(mq_batch_impact_beyond(im, 3, -1), 1);
    assert_long(mq_batch_impact_beyond(im, 10, 1), 1);
    assert_long(mq_batch_impact_beyond(im, 25, 1), 0);
    /* segments */
    assert_long(im->zip3[432].policies, 1);
    assert_long(im->zip3[432].premium[1], 58800);
    assert_long(im->zip3[457].premium[0], 22700);
    assert_long(im->zip3[430].premium[1], 41600);
    assert_long(im->age[mq_batch_age_band(46)].policies, 3);
    assert_long(im->coverage[MQ_COV_BI].policies, 3);
    assert_long(im->coverage[MQ_COV_BI].premium[0], 14800 + 10900 + 18400);
    assert_long(im->coverage[MQ_COV_BI].premium[1], 15500 + 10300 + 21000);
    assert_long(im->coverage[MQ_COV_PD].premium[0], 12600 + 9800 + 16400);
    assert_long(im->coverage[MQ_COV_PD].premium[1], 13100 + 9500 + 18600);
    assert_long(im->coverage[MQ_COV_COMP].policies, 1);
    assert_long(im->coverage[MQ_COV_COLL].premium[1], 22000);
    assert_long(im->coverage[MQ_COV_MED].policies, 0);
    /* the per-policy CSV, in the book's order (its header is the caller's) */
    const char *lines[] = {
        "2,A,432,45-54,quoted,565.00,quoted,588.00,23.00,4.07,148.00,155.00,126.00,131.00,,,,,"
        "60.00,62.00,211.00,220.00,,\n",
        "3,B,457,45-54,quoted,227.00,quoted,220.00,-7.00,-3.08,109.00,103.00,98.00,95.00,,,,,,,,"
        ",,\n",
        "4,C,430,45-54,quoted,368.00,quoted,416.00,48.00,13.04,184.00,210.00,164.00,186.00,,,,,,"
        ",,,,\n",
        "5,D,432,45-54,declined,,declined,,,,,,,,,,,,,,,,A listed driver has a DUI conviction "
        "within the last 5 years; Keystone Mutual does not write the policy.,A listed driver has "
        "a DUI conviction within the last 5 years; Keystone Mutual does not write the policy.\n",
        "6,E,,,invalid,,invalid,,,,,,,,,,,,,,,,\"line 6: column zip: not a 5-digit ZIP code "
        "\"\"4370\"\"\",\n",
    };
    const char *p = csv;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        size_t n = strlen(lines[i]);
        if (strncmp(p, lines[i], n) != 0)
            fail_msg("CSV line %zu:\n%s\nexpected:\n%s", i + 2, p, lines[i]);
        p += n;
    }
    assert_string_equal(p, "");
    /* the summary names the figures */
    char *text = NULL;
    size_t tlen = 0;
    FILE *t = open_memstream(&text, &tlen);
    mq_batch_impact_print(t, im, "book.csv");
    fclose(t);
    const char *shown[] = {
        "  written premium   1,160.00 -> 1,224.00  +5.52%\n",
        "  mean change          +4.68%  +21.33 per policy\n",
        "  median change        +4.07%  +23.00 per policy\n",
        " p1 -2.94% p5 -2.37% p10 -1.65% p25 +0.49% p50 +4.07% p75 +8.56% p90 +11.25% p95 "
        "+12.15% p99 +12.86%\n",
        "  changing by more than  5%:         1 (33.3%): 1 up, 0 down\n",
        "  432              1           565.00           588.00    +4.07%    +4.07%\n",
        "  bi               3           441.00           468.00    +6.12%",
    };
    for (size_t i = 0; i < sizeof shown / sizeof *shown; i++)
        if (!strstr(text, shown[i]))
            fail_msg("missing:\n%s\nin:\n%s", shown[i], text);
    free(text);
    /* the chart */
    char err[256];
    char png[] = "/tmp/mq-test-batch-XXXXXX";
    int fd = mkstemp(png);
    FILE *pf = fd >= 0 ? fdopen(fd, "wb") : NULL;
    assert_non_null(pf);
    assert_true(mq_batch_impact_png(im, pf, png, err, sizeof err));
    assert_int_equal(fclose(pf), 0);
    /* a write that fails is named with its reason */
    FILE *full = fopen("/dev/full", "wb");
    assert_non_null(full);
    setvbuf(full, NULL, _IONBF, 0);
    assert_false(mq_batch_impact_png(im, full, "/dev/full", err, sizeof err));
    assert_string_equal(err, "/dev/full: No space left on device");
    fclose(full);
    pf = fopen(png, "rb");
    unsigned char magic[8] = {0};
    assert_int_equal(fread(magic, 1, 8, pf), 8);
    fclose(pf);
    unlink(png);
    assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
    free(csv);
    mq_batch_impact_free(im);
    free(im);
    mq_engine_free(old);
    mq_engine_free(new);
}

/* Impact of a renters revision: Keystone Ohio renters 2026-01-01 and a copy
 * "2026-07-01" whose liability of 100000 costs 16 instead of 14, on the
 * Columbus renter of tests/data/shoppers (as `explain` works it out: property
 * 118 x 1.11 x (1 - 0.16) = 110.0232 -> 110, liability 14, med_pay 4, fee 10:
 * 138.00; then liability 16: 140.00, +2.00, +1.45%). The coverages are the
 * renters line's, property, liability and med_pay, in the CSV and the
 * summary, not auto's bi, pd and med, and there are no auto segments. */
static void test_impact_names_the_lines_coverages(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-test-impact-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *cmd = ts_format(
        "cp -r plans/keystone/oh-renters-2026-01-01 %s/v1 && cp -r %s/v1 %s/v2 && cd %s/v2 && "
        "sed -i -e 's/version: \"2026-01-01\"/version: \"2026-07-01\"/' -e "
        "'s/effective: 2026-01-01/effective: 2026-07-01/' plan.yaml && "
        "sed -i 's/^100000,14$/100000,16/' liability_rate.csv",
        dir, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    mq_diags_free(&d);
    assert_non_null(e);
    mq_batch_impact *im = calloc(1, sizeof *im);
    assert_non_null(im);
    im->plan[0] = mq_engine_find_version(e, "keystone-oh-renters", "2026-01-01");
    im->plan[1] = mq_engine_find_version(e, "keystone-oh-renters", "2026-07-01");
    assert_non_null(im->plan[0]);
    assert_non_null(im->plan[1]);
    char *book = ts_read_file("tests/data/shoppers/renters-oh-columbus.json", NULL);
    assert_non_null(book);
    for (char *c = book; *c; c++) /* one request a line */
        *c = *c == '\n' ? ' ' : *c;
    char *line = ts_format("%s\n{\"line\": \"renters\"}\n", book);
    char *csv = run_impact(im, line, 1, true);
    assert_string_equal(
        csv, "input_line,policy_id,zip3,age_band,from_status,from_total,to_status,to_total,"
             "change,change_pct,property_from,property_to,liability_from,liability_to,"
             "med_pay_from,med_pay_to,from_reason,to_reason\n"
             "1,,,,quoted,138.00,quoted,140.00,2.00,1.45,110.00,110.00,14.00,16.00,4.00,4.00,,\n"
             "2,,,,invalid,,invalid,,,,,,,,,,line 2: effective_date: is required; applicant: "
             "is required; unit: is required; coverages: is required,\n");
    char *text = NULL;
    size_t tlen = 0;
    FILE *t = open_memstream(&text, &tlen);
    mq_batch_impact_print(t, im, "book.ndjson");
    fclose(t);
    const char *tail = strstr(text, "\nBy coverage");
    assert_non_null(tail);
    assert_string_equal(
        tail, "\nBy coverage (policies carrying it under both)\n"
              "  coverage  policies     premium from       premium to    change      "
              "mean\n"
              "  property         1           110.00           110.00    +0.00%    +0.00%\n"
              "  liability        1            14.00            16.00   +14.29%   +14.29%\n"
              "  med_pay          1             4.00             4.00    +0.00%    +0.00%\n"
              "\n(change: of the segment's premium; mean: of the policies' own changes)\n");
    assert_null(strstr(text, "By territory"));
    free(text);
    free(csv);
    free(line);
    free(book);
    mq_batch_impact_free(im);
    free(im);
    mq_engine_free(e);
    cmd = ts_format("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* ---- gen-book ------------------------------------------------------------------------ */

static void test_gen_book_deterministic(void **state)
{
    (void)state;
    char *a = gen_book(50, 7, MQ_BATCH_NDJSON, NULL);
    char *b = gen_book(50, 7, MQ_BATCH_NDJSON, NULL);
    char *c = gen_book(20, 7, MQ_BATCH_NDJSON, NULL);
    char *d = gen_book(50, 8, MQ_BATCH_NDJSON, NULL);
    assert_string_equal(a, b);
    assert_true(strncmp(a, c, strlen(c)) == 0); /* policy i does not depend on n */
    assert_true(strcmp(a, d) != 0);
    long lines = 0;
    for (const char *p = a; *p; p++)
        lines += *p == '\n';
    assert_long(lines, 50);
    assert_true(strncmp(a, "{\"line\":\"auto\",\"effective_date\":\"2026-", 38) == 0);
    char *oh = gen_book(200, 7, MQ_BATCH_CSV, "OH");
    assert_null(strstr(oh, ",PA,"));
    assert_null(strstr(oh, ",TX,"));
    assert_non_null(strstr(oh, "\nP00000200,2026-"));
    int tx = mq_symbol_find(MQ_DOM_STATE, "TX"), ca = mq_symbol_find(MQ_DOM_STATE, "CA");
    assert_true(mq_batch_gen_supports(tx));
    assert_false(mq_batch_gen_supports(ca));
    free(a);
    free(b);
    free(c);
    free(d);
    free(oh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_formats),
        cmocka_unit_test(test_layout_errors),
        cmocka_unit_test(test_unnamed_columns),
        cmocka_unit_test(test_cr_line_endings),
        cmocka_unit_test(test_header_again),
        cmocka_unit_test(test_csv_equals_json),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_open_quote_span),
        cmocka_unit_test(test_plain_lines_as_libcsv),
        cmocka_unit_test(test_intake_checks),
        cmocka_unit_test(test_intake_checks_medical_and_irs_zip),
        cmocka_unit_test(test_rules_as_json),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_empty_book),
        cmocka_unit_test(test_bad_ndjson),
        cmocka_unit_test(test_ndjson_policy_ids),
        cmocka_unit_test(test_order_any_threads),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_percentile),
        cmocka_unit_test(test_chart_bins),
        cmocka_unit_test(test_chart_png),
        cmocka_unit_test(test_impact_no_negative_zero),
        cmocka_unit_test(test_impact_by_hand),
        cmocka_unit_test(test_impact_names_the_lines_coverages),
        cmocka_unit_test(test_gen_book_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
