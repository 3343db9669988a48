/* cmd_intake.c -- the command line's side of src/intake: ACORD requests and the input checks.
 *
 * `quote --acord FILE.xml` (and `explain --acord`) read an ACORD
 * PersAutoPolicyQuoteInqRq instead of the contract's JSON: it is mapped onto
 * the contract and validated by the same code, its problems printed with
 * their XPaths. `--format acord` answers with a PersAutoPolicyQuoteInqRs.
 * cli_intake_check is what cli_parse_request runs once a JSON request has
 * parsed: the VIN, state-minimum and ZIP checks, printed like the parser's
 * own errors (exit status 2).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The reference data, or NULL after printing why (exit status 1). */
static const mq_intake *reference_data(void)
{
    char err[512];
    const mq_intake *ik = mq_intake_default(err, sizeof err);
    if (!ik)
        fprintf(stderr, "multiquote: reference data: %s (set MULTIQUOTE_DATA to the data folder)\n",
                err);
    return ik;
}

static int print_errors(const char *file, const mq_req_errors *errs, mq_arena *a)
{
    int shown = errs->count < 32 ? errs->count : 32;
    for (int i = 0; i < shown; i++)
        fprintf(stderr, "%s: invalid request: %s\n", file, mq_req_error_text(&errs->items[i], a));
    if (errs->count > shown)
        fprintf(stderr, "%s: ... and %d more problems\n", file, errs->count - shown);
    return CLI_USAGE;
}

int cli_intake_check_doc(const char *file, const json_t *doc, mq_arena *a)
{
    const mq_intake *ik = reference_data();
    if (!ik)
        return CLI_FAIL;
    mq_req_errors errs = {0};
    if (mq_intake_check(ik, doc, a, &errs))
        return CLI_OK;
    if (errs.count == 0) {
        fprintf(stderr, "multiquote: out of memory\n");
        return CLI_FAIL;
    }
    return print_errors(file, &errs, a);
}

int cli_intake_check(const char *file, const char *text, size_t len, mq_arena *a)
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    if (!doc) {
        fprintf(stderr, "multiquote: out of memory\n");
        return CLI_FAIL;
    }
    int rc = cli_intake_check_doc(file, doc, a);
    json_decref(doc);
    return rc;
}

int cli_parse_acord(const char *file, mq_arena *a, mq_input *in, mq_acord **out)
{
    *out = NULL;
    const mq_intake *ik = reference_data();
    if (!ik)
        return CLI_FAIL;
    size_t len = 0;
    char *text = cli_read_input(file, MQ_ACORD_MAX_BYTES, &len);
    if (!text)
        return len > MQ_ACORD_MAX_BYTES ? CLI_USAGE : CLI_FAIL;
    mq_req_errors errs = {0};
    *out = mq_acord_request(ik, text, len, a, in, &errs);
    free(text);
    if (*out)
        return CLI_OK;
    if (errs.count == 0) {
        fprintf(stderr, "multiquote: out of memory\n");
        return CLI_FAIL;
    }
    return print_errors(file, &errs, a);
}

int cli_print_acord(const mq_input *in, const mq_result *res, int n, const mq_acord *x)
{
    size_t len = 0;
    char *xml = mq_acord_response(
        in, res, n,
        &(mq_acord_rs_meta){mq_acord_rquid(x), NULL, NULL, mq_acord_svc_rquid(x), mq_acord_ns(x)},
        &len);
    if (!xml) {
        fprintf(stderr, "multiquote: out of memory\n");
        return CLI_FAIL;
    }
    fwrite(xml, 1, len, stdout);
    free(xml);
    return CLI_OK;
}
