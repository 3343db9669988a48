/* fuzz_table.c -- libFuzzer target: a plan's CSV rating table (src/engine/table.c).
 *
 * The input's first line names the key columns, comma-separated (as a
 * plan's `keys: [...]` would); the rest is the CSV file. It is written to a
 * temporary file, read with mq_table_read, compiled into its lookup matrix,
 * and looked up at a few keys taken from the input's bytes (and
 * interpolated), as rating would. Keys that are not numbers stay symbols:
 * the first one is bound to the state domain, as a `state` key would be.
 */
#include "internal.h"

#include "fuzz_util.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_KEYS = 9 }; /* one more than a table may have, to test the limit */

/* Splits the first line into key names (in `line`, modified). */
static int key_names(char *line, const char *keys[MAX_KEYS])
{
    int n = 0;
    for (char *tok = strtok(line, ","); tok && n < MAX_KEYS; tok = strtok(NULL, ","))
        keys[n++] = tok;
    return n;
}

static void look_up(const mq_table *t, const uint8_t *data, size_t size)
{
    double keys[8];
    for (int probe = 0; probe < 4; probe++) {
        for (int k = 0; k < t->nkeys && k < 8; k++) {
            size_t at = (size_t)(probe * 8 + k);
            keys[k] = at < size ? (double)data[at] - 8 : NAN;
        }
        for (int c = 0; c < t->nvalues; c++)
            (void)mq_table_lookup(t, keys, c);
        (void)mq_table_cell(t, keys);
        (void)mq_table_interpolate(t, keys[0] * 1.5, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl || nl - data > 200)
        return -1;
    char line[201];
    memcpy(line, data, (size_t)(nl - data));
    line[nl - data] = '\0';
    const char *keys[MAX_KEYS];
    int nkeys = key_names(line, keys);
    const char *dir = fz_dir();
    size_t off = (size_t)(nl - data) + 1;
    if (!fz_write(dir, "table.csv", data + off, size - off))
        return 0;
    char path[512];
    snprintf(path, sizeof path, "%s/table.csv", dir);
    mq_diags d = {0};
    mq_table *t = mq_table_read(path, "table.csv", NULL, "fuzz", keys, nkeys, &d);
    char why[256];
    if (t && nkeys > 1 && strcmp(keys[0], "state") == 0)
        (void)mq_table_bind_key(t, 0, MQ_T_ENUM, MQ_DOM_STATE, &d, why, sizeof why);
    if (t && mq_table_compile(t, &d))
        look_up(t, data + off, size - off);
    mq_table_free(t);
    mq_diags_free(&d);
    return 0;
}
