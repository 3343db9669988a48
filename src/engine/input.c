/* input.c -- storage of one flattened request (mq_input).
 *
 * The model fills an mq_input; the engine reads it. Values are one row of
 * doubles per entity, every cell NaN (missing) until set, so an optional
 * fact the shopper left out is missing rather than a silent zero.
 */
#include "engine.h"

#include <math.h>

bool mq_input_alloc(mq_input *in, mq_arena *a, mq_line line, const int32_t count[MQ_ENT_COUNT])
{
    const mq_line_def *l = mq_line_get(line);
    if (!l)
        return false;
    *in = (mq_input){.line = line};
    for (int k = 0; k < MQ_ENT_COUNT; k++) {
        int32_t n = k == MQ_ENT_POLICY ? 1 : count[k];
        if (n < 0)
            return false;
        in->count[k] = n;
        size_t cells = (size_t)n * (size_t)l->nfields[k];
        in->values[k] = mq_arena_alloc(a, (cells ? cells : 1) * sizeof(double));
        in->ids[k] = mq_arena_alloc(a, (size_t)(n ? n : 1) * sizeof(char *));
        if (!in->values[k] || !in->ids[k])
            return false;
        for (size_t c = 0; c < cells; c++)
            in->values[k][c] = NAN;
        if (k != MQ_ENT_POLICY && l->parent[k] != MQ_ENT_POLICY) {
            int32_t np = count[l->parent[k]];
            in->start[k] = mq_arena_alloc(a, (size_t)(np + 1) * sizeof(int32_t));
            if (!in->start[k])
                return false;
        }
    }
    return true;
}

double *mq_input_row(const mq_input *in, mq_entity_kind k, int32_t i)
{
    return in->values[k] + (size_t)i * (size_t)mq_line_get(in->line)->nfields[k];
}
