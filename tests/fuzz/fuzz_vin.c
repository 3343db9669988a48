/* fuzz_vin.c -- libFuzzer target: VIN decoding and ZIP lookups (src/intake/vin.c, states.c).
 *
 * The input is a string as a shopper would type it into a vehicle's "vin"
 * (or GET /v1/vin/{vin}): it is decoded against the bundled WMI table, its
 * JSON answer built, its maker's makes compared with the text, and it is
 * also looked up as a ZIP code.
 */
#include "intake.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mq_intake *intake;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    intake = mq_intake_default(err, sizeof err);
    if (!intake) {
        fprintf(stderr, "fuzz_vin: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return -1;
    char *s = fz_strndup(data, size);
    if (!s)
        return 0;
    mq_vin v;
    mq_vin_decode(intake, s, &v);
    json_t *j = mq_vin_json(&v);
    json_decref(j);
    if (v.wmi)
        (void)mq_wmi_has_make(v.wmi, s);
    (void)mq_wmi_find(intake, s);
    (void)mq_state_of_zip(intake, s);
    if (size >= MQ_VIN_LEN) {
        (void)mq_vin_check_digit(s);
        (void)mq_vin_year(s);
    }
    free(s);
    return 0;
}
