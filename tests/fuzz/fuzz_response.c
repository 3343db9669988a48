/* fuzz_response.c -- libFuzzer target: reading a saved quote response back.
 *
 * GET /v1/quotes/{id}/worksheet/{carrier} and `requote` read the response
 * text saved with a quote (mq_resp_saved_results) to find the plan version
 * each result was rated with, a health result's benchmark and the digests of the files that
 * priced it (mq_resp_strip_identity takes those out to compare). The store only ever holds
 * responses the server wrote, but a database is a file that can be edited or corrupted, so the
 * reader must refuse anything else cleanly, and so must requote's reader of the saved savings
 * tips (mq_resp_saved_tips, mq_tip_change_read). The input is the text.
 */
#include "model.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    if (!text)
        return 0;
    mq_arena a;
    mq_arena_init(&a, 8 * 1024 * 1024);
    mq_saved_result *saved = NULL;
    int n = mq_resp_saved_results(text, &a, &saved);
    for (int i = 0; i < n; i++) /* every string must be readable */
        if (strlen(saved[i].carrier) + strlen(saved[i].plan_id) + strlen(saved[i].version) +
                strlen(saved[i].status) + strlen(saved[i].benchmark_plan_id) +
                strlen(saved[i].benchmark_version) + strlen(saved[i].digest) +
                strlen(saved[i].benchmark_digest) + strlen(saved[i].market_id) +
                strlen(saved[i].market_digest) ==
            (size_t)-1)
            abort();
    /* what requote compares: each result without the files' digests */
    json_t *doc = n > 0 ? json_loads(text, 0, NULL) : NULL, *r;
    size_t i;
    json_array_foreach(json_object_get(doc, "results"), i, r)
    {
        mq_resp_strip_identity(r);
    }
    json_decref(doc);
    /* requote's tips: each saved one read, and what its words change */
    mq_saved_tip *tips = NULL;
    int ntips = mq_resp_saved_tips(text, &a, &tips);
    for (int t = 0; t < ntips; t++) {
        mq_tip_change c, again;
        mq_tip_change_read(tips[t].change, &c);
        mq_tip_change_read(tips[t].change, &again);
        if (strlen(tips[t].carrier) + strlen(tips[t].plan) == (size_t)-1 ||
            (c.vehicle && c.vehicle_len > strlen(c.text)) || !mq_tip_change_same(&c, &again))
            abort(); /* a tip changes what it changes */
    }
    mq_arena_free(&a);
    free(text);
    return 0;
}
