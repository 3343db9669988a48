/* fuzz_request.c -- libFuzzer target: a quote request, as POST /v1/quotes takes it.
 *
 * The input is the request body. It goes through every step the server
 * takes with a body: mq_req_parse (the parser the CLI and worksheet use),
 * then json_loadb and, for a bundle, mq_req_bundle_from_json, mq_bundle_rate
 * and the bundle response; otherwise mq_req_from_json, the intake checks
 * (VINs, ZIP codes, state minimums), mq_rate_all against the bundled plans,
 * savings tips and the response text, which is then read back with
 * mq_resp_saved_results. Every error is turned into its message text. The
 * plans and reference data are loaded once, at start.
 */
#include "engine.h"
#include "intake.h"
#include "model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mq_engine *engine;
static const mq_intake *intake;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mq_diags d = {0};
    engine = mq_engine_load(MQ_FUZZ_PLANS, &d);
    mq_diags_free(&d);
    char err[256];
    intake = mq_intake_default(err, sizeof err);
    if (!engine || !intake) {
        fprintf(stderr, "fuzz_request: cannot load %s or the reference data: %s\n", MQ_FUZZ_PLANS,
                err);
        abort();
    }
    return 0;
}

static void error_texts(const mq_req_errors *errs, mq_arena *a)
{
    int n = errs->count < 32 ? errs->count : 32;
    for (int i = 0; i < n; i++)
        (void)mq_req_error_text(&errs->items[i], a);
}

/* Reads a response back as GET .../worksheet does with a saved one. */
static void read_back(const char *text, mq_arena *a)
{
    mq_saved_result *saved = NULL;
    (void)mq_resp_saved_results(text, a, &saved);
}

static void rate_bundle(json_t *doc, mq_arena *a)
{
    mq_bundle_input b;
    mq_req_errors errs = {0};
    if (!mq_req_bundle_from_json(doc, a, &b, &errs)) {
        error_texts(&errs, a);
        return;
    }
    mq_bundle_result br;
    if (!mq_bundle_rate(engine, &b, a, &br))
        return;
    char *text = mq_resp_bundle_text(&b, &br, &(mq_resp_meta){"q_fuzz", "2026-01-01T00:00:00Z"});
    free(text);
}

static void rate_single(json_t *doc, mq_arena *a)
{
    mq_input in;
    mq_req_errors errs = {0};
    if (!mq_req_from_json(doc, a, &in, &errs) || !mq_intake_check(intake, doc, a, &errs)) {
        error_texts(&errs, a);
        return;
    }
    mq_result *res = NULL;
    int n = 0;
    if (!mq_rate_all(engine, &in, &(mq_rate_opts){.worksheet = true}, a, &res, &n))
        return;
    for (int i = 0; i < n; i++) {
        json_t *ws = mq_resp_worksheet(&in, &res[i]);
        json_decref(ws);
    }
    mq_tip_minimums mins = {25000, 50000};
    mq_tip_list tips;
    char *text = mq_resp_tip_list(engine, &in, res, n, &mins, a, &tips)
                     ? mq_resp_text(&in, res, n, &(mq_resp_meta){"q_fuzz", NULL}, &tips)
                     : NULL;
    if (text)
        read_back(text, a);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MQ_REQ_MAX_BYTES)
        return -1;
    mq_arena a;
    mq_arena_init(&a, 8 * 1024 * 1024); /* as the server's per-request arena */
    mq_input in;
    mq_req_errors errs = {0};
    if (!mq_req_parse((const char *)data, size, &a, &in, &errs))
        error_texts(&errs, &a);
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (doc && mq_req_is_bundle(doc))
        rate_bundle(doc, &a);
    else if (doc)
        rate_single(doc, &a);
    json_decref(doc);
    mq_arena_free(&a);
    return 0;
}
