/* fuzz_market.c -- libFuzzer target: a market's parameters (plans/_markets/<id>/market.yaml).
 *
 * Market files hold the rules that apply to a whole line in a plan year,
 * such as the ACA premium tax credit's poverty guidelines and applicable
 * percentages (src/engine/market.c). The input is market.yaml; it is
 * written into a temporary folder and loaded with mq_market_load.
 */
#include "internal.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fz_dir();
    if (!fz_write(dir, "market.yaml", data, size))
        return 0;
    mq_diags d = {0};
    mq_market *m = mq_market_load(dir, &d);
    mq_market_free(m);
    mq_diags_free(&d);
    return 0;
}
