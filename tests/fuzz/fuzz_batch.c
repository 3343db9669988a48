/* fuzz_batch.c -- libFuzzer target: a book of policies for `batch` (src/batch pipeline.c,
 * csvbook.c).
 *
 * The input is a book: NDJSON (one contract request per line) or CSV (a
 * header naming the columns, then one flat auto policy per row); the
 * pipeline detects which. It is read from memory (fmemopen) by
 * mq_batch_run with one rating thread, every row checked against the
 * reference data and rated against the bundled plans by the batch row
 * function, the output written to /dev/null; each bad row's message is
 * made as the batch report makes it.
 */
#include "batch.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mq_engine *engine;
static const mq_intake *intake;
static FILE *devnull;

static void close_all(void)
{
    mq_engine_free(engine);
    if (devnull)
        fclose(devnull);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mq_diags d = {0};
    engine = mq_engine_load(MQ_FUZZ_PLANS, &d);
    mq_diags_free(&d);
    char err[256] = "";
    intake = mq_intake_default(err, sizeof err);
    devnull = fopen("/dev/null", "w");
    if (!engine || !intake || !devnull) {
        fprintf(stderr, "fuzz_batch: cannot load plans, reference data or /dev/null: %s\n", err);
        abort();
    }
    atexit(close_all);
    return 0;
}

/* The batch row function, plus the error text of each bad row. */
static bool row_fn(void *ctx, const mq_batch_row *row, mq_arena *a, mq_batch_buf *out)
{
    if (!row->in) {
        mq_batch_buf msg = {0};
        bool ok = mq_batch_error_text(row, &msg);
        mq_batch_buf_free(&msg);
        if (!ok)
            return false;
    }
    return mq_batch_rate_row(ctx, row, a, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 64 * 1024)
        return -1;
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0;
    mq_batch_rate_ctx rc;
    if (!mq_batch_rate_init(&rc, engine, NULL, -1, devnull)) {
        fclose(in);
        return 0;
    }
    mq_batch_job job = {.in = in,
                        .name = "book",
                        .size = (int64_t)size,
                        .threads = 1,
                        .intake = intake,
                        .row = row_fn,
                        .start = mq_batch_rate_start,
                        .sink = mq_batch_rate_sink,
                        .ctx = &rc};
    mq_batch_stats st;
    char err[256];
    (void)mq_batch_run(&job, &st, err, sizeof err);
    mq_batch_rate_free(&rc);
    fclose(in);
    return 0;
}
