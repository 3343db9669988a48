/* fuzz_registry.c -- libFuzzer target: the carrier registry (carriers.yaml).
 *
 * An operator's file, but read with libfyaml like the plans, so it gets the
 * same treatment (src/remote/registry.c). The input is carriers.yaml; it is
 * written into a temporary folder and loaded with mq_remote_registry_load.
 * An auth entry's variable is set so that the auth path is reached.
 */
#include "remote.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setenv("MQ_FUZZ_TOKEN", "fuzz-secret", 0);
    const char *dir = fz_dir();
    if (!fz_write(dir, "carriers.yaml", data, size))
        return 0;
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/carriers.yaml", dir);
    mq_remote_registry *reg = mq_remote_registry_load(path, err, sizeof err);
    if (reg) {
        int out[8];
        mq_remote_select(reg, MQ_LINE_AUTO, NULL, 0, out, 8);
    }
    mq_remote_registry_free(reg);
    return 0;
}
