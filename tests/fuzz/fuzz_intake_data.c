/* fuzz_intake_data.c -- libFuzzer target: the reference data files (src/intake vin.c, states.c).
 *
 * mq_intake_load reads data/wmi.csv (VIN makers) and data/state-rules.csv
 * (each state's minimum limits and ZIP prefixes). The input replaces either
 * or both, as a multi-file text (fuzz_util.h): state-rules.csv first, then
 * "==> wmi.csv <==" and wmi.csv; a file the input does not give is the
 * bundled one, so each file is fuzzed with a valid partner. When the data
 * loads, its JSON answers are built and a few lookups made.
 */
#include "intake.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *bundled[2];
static size_t bundled_len[2];
static const char *const names[2] = {"state-rules.csv", "wmi.csv"};

static void free_bundled(void)
{
    free(bundled[0]);
    free(bundled[1]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", MQ_FUZZ_DATA, names[i]);
        FILE *f = fopen(path, "rb");
        bundled[i] = malloc(1 << 20);
        if (!f || !bundled[i]) {
            fprintf(stderr, "fuzz_intake_data: cannot read %s\n", path);
            abort();
        }
        bundled_len[i] = fread(bundled[i], 1, 1 << 20, f);
        fclose(f);
    }
    atexit(free_bundled);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fz_dir();
    for (int i = 0; i < 2; i++)
        if (!fz_write(dir, names[i], (const uint8_t *)bundled[i], bundled_len[i]))
            return 0;
    if (!fz_write_files(dir, names[0], data, size))
        return 0;
    char err[256];
    mq_intake *ik = mq_intake_load(dir, err, sizeof err);
    if (!ik)
        return 0;
    json_t *doc = mq_state_rules_json(ik, mq_date_from_ymd(2026, 1, 1));
    json_decref(doc);
    for (int i = 0; i < mq_state_rule_count(ik); i++) {
        const mq_state_rule *r = mq_state_rule_at(ik, i);
        (void)mq_state_rule_on(ik, r->state, r->effective);
        (void)mq_state_name(ik, r->state);
    }
    (void)mq_state_of_zip(ik, "43215");
    mq_vin v;
    mq_vin_decode(ik, "1HGCM82633A004352", &v);
    json_t *vj = mq_vin_json(&v);
    json_decref(vj);
    mq_intake_free(ik);
    return 0;
}
