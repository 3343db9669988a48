/* fuzz_plan.c -- libFuzzer target: loading a carrier's rate plan (YAML, CSV tables, expressions).
 *
 * A plan is a folder: plan.yaml and its CSV tables. The input is that
 * folder as one text (see fuzz_util.h): plan.yaml first, then each table
 * after a "==> NAME.csv <==" line; it is written into a temporary folder
 * and loaded with mq_engine_load, which parses the YAML (libfyaml), reads
 * and compiles every table (libcsv) and compiles every expression. When the
 * plan loads, it is also checked (its info, the catalog JSON) and rates one
 * sample request of its line, with the worksheet, so the compiled programs
 * run too. The sample requests are read once, at start.
 */
#include "engine.h"
#include "model.h"

#include "fuzz_util.h"

static char *samples[MQ_LINE_COUNT]; /* request text per line */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (buf && n == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void free_samples(void)
{
    for (int i = 0; i < MQ_LINE_COUNT; i++)
        free(samples[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *files[MQ_LINE_COUNT] = {
        [MQ_LINE_AUTO] = "oh-young-driver.json",
        [MQ_LINE_HOME] = "home-oh-columbus-frame.json",
        [MQ_LINE_RENTERS] = "renters-oh-columbus.json",
        [MQ_LINE_TERM_LIFE] = "life-oh-female-35-preferred.json",
        [MQ_LINE_HEALTH] = "health-oh-single-40.json",
    };
    for (int i = 0; i < MQ_LINE_COUNT; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", MQ_FUZZ_SHOPPERS, files[i]);
        samples[i] = read_text(path);
        if (!samples[i]) {
            fprintf(stderr, "fuzz_plan: cannot read %s\n", path);
            abort();
        }
    }
    atexit(free_samples);
    return 0;
}

static void rate_sample(const mq_plan *p)
{
    mq_plan_info pi;
    mq_plan_get_info(p, &pi);
    json_t *info = mq_resp_plan_info(&pi);
    json_decref(info);
    const char *text = samples[pi.line];
    mq_arena a;
    mq_arena_init(&a, 8 * 1024 * 1024);
    mq_input in;
    mq_req_errors errs = {0};
    mq_result r;
    if (mq_req_parse(text, strlen(text), &a, &in, &errs) && in.line == pi.line &&
        mq_rate_plan(p, &in, &(mq_rate_opts){.worksheet = true}, &a, &r)) {
        json_t *ws = mq_resp_worksheet(&in, &r);
        json_decref(ws);
    }
    mq_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fz_dir();
    if (!fz_write_files(dir, "plan.yaml", data, size))
        return 0;
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    mq_diags_free(&d);
    if (!e)
        return 0;
    for (int i = 0; i < mq_engine_plan_count(e); i++)
        rate_sample(mq_engine_plan(e, i));
    json_t *cat = mq_resp_carriers(e);
    json_decref(cat);
    mq_engine_free(e);
    return 0;
}
