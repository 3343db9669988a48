/* fuzz_acord.c -- libFuzzer target: ACORD XML quote requests (src/intake/acord.c, acord_rs.c).
 *
 * The input is the XML body of POST /v1/acord. It goes through the whole
 * front door (mq_acord_request: libxml2 parse with no network, entities or
 * DTD; mapping to the contract's JSON; the request parser; the intake
 * checks; errors rewritten as XPaths), and when it is accepted it is rated
 * against the bundled plans and answered in ACORD XML, as the server does.
 */
#include "intake.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mq_engine *engine;
static const mq_intake *intake;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mq_diags d = {0};
    engine = mq_engine_load(MQ_FUZZ_PLANS, &d);
    mq_diags_free(&d);
    char err[256] = "";
    intake = mq_intake_default(err, sizeof err);
    if (!engine || !intake) {
        fprintf(stderr, "fuzz_acord: cannot load plans or reference data: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MQ_ACORD_MAX_BYTES)
        return -1;
    mq_arena a;
    mq_arena_init(&a, 8 * 1024 * 1024);
    mq_input in;
    mq_req_errors errs = {0};
    mq_acord *x = mq_acord_request(intake, (const char *)data, size, &a, &in, &errs);
    if (!x) {
        int n = errs.count < 32 ? errs.count : 32;
        for (int i = 0; i < n; i++)
            (void)mq_req_error_text(&errs.items[i], &a);
    } else {
        mq_result *res = NULL;
        int n = 0;
        if (mq_rate_all(engine, &in, &(mq_rate_opts){0}, &a, &res, &n)) {
            size_t len = 0;
            char *xml = mq_acord_response(
                &in, res, n,
                &(mq_acord_rs_meta){mq_acord_rquid(x), "q_fuzz", NULL, mq_acord_svc_rquid(x)},
                &len);
            free(xml);
        }
        mq_acord_free(x);
    }
    mq_arena_free(&a);
    return 0;
}
