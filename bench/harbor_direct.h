/* harbor_direct.h -- Harbor Mutual's Ohio auto premium, hand-written in C.
 *
 * The benchmark's baseline: what a competent engineer would write to rate
 * plans/harbor/oh-auto-2026-01-01 (the manual ../shared/reference/
 * harbor-mutual-oh-auto.md) without a rating engine. It reads the same
 * mq_input the engine gets and must give exactly the engine's numbers.
 */
#ifndef MQ_BENCH_HARBOR_DIRECT_H
#define MQ_BENCH_HARBOR_DIRECT_H

#include "engine.h"

/* Rates `in` with Harbor Mutual's 2026-01-01 Ohio auto rates. Returns an
 * mq_status: MQ_QUOTED (with *total_cents, premium plus fee, and the coverage
 * premiums in cov_cents[], vehicle by vehicle in the line's coverage order,
 * *ncov of them), MQ_DECLINED, MQ_UNAVAILABLE (state, ZIP, limit or
 * deductible not written) or MQ_ERROR (no rate: driver under 16, symbol over
 * 10). cov_cents must hold count[MQ_ENT_VEHICLE] * MQ_AUTO_NCOVERAGES values.
 * On any status but MQ_QUOTED, *total_cents and *ncov are 0. */
int harbor_direct(const mq_input *in, int64_t *total_cents, int64_t cov_cents[], int *ncov);

/* True when the enum codes harbor_direct has built in (marital status,
 * incident type, OH) are the schema's; checked once before timing. */
bool harbor_direct_codes_ok(void);

#endif
